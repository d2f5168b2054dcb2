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
	conf_peer_keep_running(&n->peer, &o->peer);
}

void conf_peer_keep_running(struct pshim6_conf_peer_proxy *n, const struct pshim6_conf_peer_proxy *o)
{
	struct pshim6_conf_peer_proxy p = *o;
	p.sync_batch = n->sync_batch;
	p.yield_linger_ms = n->yield_linger_ms;
	memcpy(p.notify, n->notify, sizeof p.notify);
	p.n_alt_addresses = n->n_alt_addresses;
	memcpy(p.alt_addresses, n->alt_addresses, sizeof p.alt_addresses);
	*n = p;
}
