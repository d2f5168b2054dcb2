/*
 * What a reload cannot change keeps its running value in the new config,
 * so that what reads d->conf (status, the sizes of tables made at start,
 * the next reload's comparison) sees what is in effect, not a value
 * waiting for a restart.  One table says which settings those are; the
 * same rows decide what is reported and what is copied back, so the two
 * cannot disagree.
 */
#include <stddef.h>
#include <string.h>
#include "reload_keep.h"

#define ROW(what, field) { what, offsetof(struct pshim6_conf, field), sizeof(((struct pshim6_conf *)0)->field) }

static const struct keep_row {
	const char *what;
	size_t off, len;
} rows[] = {
	/* sockets are bound once */
	ROW("control.socket", control.socket),
	ROW("control.socket_mode", control.socket_mode),
	ROW("control.socket_group", control.socket_group),
	ROW("dataplane.channel", dataplane.channel),
	/* tables and queues are allocated at start with these bounds */
	ROW("control.peer_cache", control.peer_cache),
	ROW("control.lease_table", control.lease_table),
	ROW("control.hold_total", control.hold_total),
	/* the engine's tables are sized when it is made (its timers and
	 * recovery rate reload: proxy_reload()) */
	ROW("engine.max_contexts", engine.max_contexts),
	ROW("engine.max_pending", engine.max_pending),
};

/* Strings are compared whole: the loader fills zeroed structs, so the
 * octets after the terminator are zero in both. */
unsigned conf_keep_running(struct pshim6_conf *n, const struct pshim6_conf *o,
			   conf_keep_report_fn *report, void *arg)
{
	unsigned changed = 0;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		unsigned char *nf = (unsigned char *)n + rows[i].off;
		const unsigned char *of = (const unsigned char *)o + rows[i].off;
		if (!memcmp(nf, of, rows[i].len))
			continue;
		changed++;
		if (report)
			report(arg, rows[i].what);
		memcpy(nf, of, rows[i].len);
	}
	struct pshim6_conf_peer_proxy p = n->peer;
	conf_peer_keep_running(&p, &o->peer);
	if (memcmp(&p, &n->peer, sizeof p)) {
		changed++;
		if (report)
			report(arg, CONF_KEEP_PEER);
		n->peer = p;
	}
	return changed;
}

/* The peer section is the other way round: a few keys are read where used,
 * everything else (address, keys, timers) shapes sessions made at start. */
void conf_peer_keep_running(struct pshim6_conf_peer_proxy *n, const struct pshim6_conf_peer_proxy *o)
{
	struct pshim6_conf_peer_proxy p = *o;
	p.sync_batch = n->sync_batch;
	p.yield_linger_ms = n->yield_linger_ms;
	memcpy(p.notify, n->notify, sizeof p.notify);
	p.notify_timeout_ms = n->notify_timeout_ms;
	p.n_alt_addresses = n->n_alt_addresses;
	memcpy(p.alt_addresses, n->alt_addresses, sizeof p.alt_addresses);
	p.address = n->address;
	p.n_sources = n->n_sources;
	memcpy(p.sources, n->sources, sizeof p.sources);
	*n = p;
}
