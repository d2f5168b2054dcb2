/*
 * What a reload cannot change keeps its running value in the new config,
 * so that what reads d->conf (status, the sizes of tables made at start,
 * the next reload's comparison) sees what is in effect, not a value
 * waiting for a restart.  daemon_reload() logs each such change.
 */
#include <string.h>
#include "reload_keep.h"

void conf_keep_running(struct pshim6_conf *n, const struct pshim6_conf *o)
{
	memcpy(n->control.socket, o->control.socket, sizeof n->control.socket);
	n->control.socket_mode = o->control.socket_mode;
	memcpy(n->control.socket_group, o->control.socket_group, sizeof n->control.socket_group);
	n->control.peer_cache = o->control.peer_cache;
	n->control.lease_table = o->control.lease_table;
	n->control.hold_total = o->control.hold_total;
	memcpy(n->dataplane.channel, o->dataplane.channel, sizeof n->dataplane.channel);
	n->shim6 = o->shim6;
	n->reap = o->reap;
	n->engine = o->engine;
	/* of the peer section, only what peer_conf_needs_restart leaves out */
	struct pshim6_conf_peer_proxy p = o->peer;
	p.sync_batch = n->peer.sync_batch;
	p.yield_linger_ms = n->peer.yield_linger_ms;
	memcpy(p.notify, n->peer.notify, sizeof p.notify);
	p.n_alt_addresses = n->peer.n_alt_addresses;
	memcpy(p.alt_addresses, n->peer.alt_addresses, sizeof p.alt_addresses);
	n->peer = p;
}

