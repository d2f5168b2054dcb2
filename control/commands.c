/*
 * Control socket requests.  Every reply is one JSON object on one line.  A
 * request with "text":true also gets a "text" member: the human rendering
 * pshim6ctl prints, made here so the CLI needs no JSON tree parser.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "daemon.h"
#include "json.h"
#include "log.h"
#include "peer.h"
#include "proxy.h"
#include "resolve.h"

#define VERSION "0.1.0"

static const char *a6(const void *a, char *b)
{
	return inet_ntop(AF_INET6, a, b, INET6_ADDRSTRLEN);
}

static void fail(FILE *out, const char *why)
{
	fputs("{\"ok\":false,\"error\":", out);
	json_put_str(out, why);
	fputs("}\n", out);
}

/* Human text accumulates in its own stream and is appended as "text". */
struct reply {
	FILE *out;
	bool text;
	char *tbuf;
	size_t tlen;
	FILE *t;
};

static void reply_begin(struct reply *r, FILE *out, const struct jobj *o)
{
	const struct jval *t = json_get(o, "text");
	r->out = out;
	r->text = t && t->t == J_BOOL && t->b;
	r->tbuf = NULL;
	r->t = r->text ? open_memstream(&r->tbuf, &r->tlen) : NULL;
	if (r->text && !r->t)
		r->text = false;
	fputs("{\"ok\":true", out);
}

static void reply_end(struct reply *r)
{
	if (r->text) {
		fclose(r->t);
		fputs(",\"text\":", r->out);
		json_put_str(r->out, r->tbuf);
		free(r->tbuf);
	}
	fputs("}\n", r->out);
}

#define TXT(r, ...) do { if ((r)->text) fprintf((r)->t, __VA_ARGS__); } while (0)

static const char *state_name(uint8_t s)
{
	static const char *const n[] = { "idle", "i1-sent", "i2-sent", "i2bis-sent",
					 "established", "e-failed", "no-support" };
	return s < sizeof n / sizeof n[0] ? n[s] : "?";
}

static const char *reap_name(uint8_t s)
{
	static const char *const n[] = { "operational", "exploring", "inbound-ok" };
	return s < 3 ? n[s] : "?";
}

static void cmd_status(struct daemon *d, const struct jobj *o, FILE *out)
{
	struct reply r;
	const struct pshim6_conf *c = d->conf;
	uint64_t up = (uint64_t)((now_ns() - d->start_ns) / 1000000000ULL);
	reply_begin(&r, out, o);
	fprintf(out, ",\"version\":\"%s\",\"uptime_s\":%" PRIu64 ",\"config\":", VERSION, up);
	json_put_str(out, d->path);
	fputs(",\"site\":", out);
	json_put_str(out, c->site.name);
	fprintf(out, ",\"dataplane\":{\"connected\":%s,\"boot_id\":%" PRIu64 ",\"ctx_capacity\":%u,\"lcores\":%u}",
		d->dp.hello_done ? "true" : "false", d->dp.hello.boot_id, d->dp.hello.ctx_capacity,
		d->dp.hello.n_lcores);
	fprintf(out, ",\"engine\":%s", proxy_enabled(d) ? "true" : "false");
	fprintf(out, ",\"contexts\":%u,\"max_contexts\":%u,\"peers_cached\":%u,\"leases\":%u,\"log_level\":\"%s\"",
		d->ctxs.n, d->ctxs.cap, d->tables.peers.n, d->tables.leases.n,
		pshim6_conf_log_level_name(log_get_level()));
	peer_status(d, out, NULL);
	fputs(",\"isps\":[", out);
	TXT(&r, "pshim6-control %s, up %" PRIu64 "s, config %s, site %s\n", VERSION, up, d->path, c->site.name);
	TXT(&r, "dataplane:  %s", d->dp.hello_done ? "connected" : "not connected");
	if (d->dp.hello_done)
		TXT(&r, " (capacity %u contexts, %u lcores)", d->dp.hello.ctx_capacity, d->dp.hello.n_lcores);
	TXT(&r, "\nengine:     %s", proxy_enabled(d) ? "running" : "disabled (no site key)");
	TXT(&r, "\ncontexts:   %u of %u\npeers:      %u cached from DNS\nleases:     %u\n",
	    d->ctxs.n, d->ctxs.cap, d->tables.peers.n, d->tables.leases.n);
	if (r.text)
		peer_status(d, NULL, r.t);
	TXT(&r, "%-12s %-24s %6s %6s %10s  %s\n", "ISP", "PA prefix", "weight", "cost", "new ctxs", "probes");
	for (unsigned i = 0; i < c->n_isps; i++) {
		char p[64];
		pshim6_conf_prefix_str(&c->isps[i].pa_prefix, p, sizeof p);
		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_put_str(out, c->isps[i].name);
		/* what the dataplane says (DPMSG_ISP_STATE): failed by its probes, or
		 * drained by config; no probe reads as working */
		bool failed = d->dp.isp_down >> i & 1;
		const char *pr = c->isps[i].drain ? "drained" : !c->isps[i].n_probes ? "-" : failed ? "failed" : "working";
		fprintf(out, ",\"pa_prefix\":\"%s\",\"weight\":%u,\"cost\":%u,\"chosen\":%" PRIu64
			",\"probe_failed\":%s,\"drain\":%s}",
			p, c->isps[i].weight, c->isps[i].cost, d->te.chosen[i], failed ? "true" : "false",
			c->isps[i].drain ? "true" : "false");
		TXT(&r, "%-12s %-24s %6u %6u %10" PRIu64 "  %s\n", c->isps[i].name, p, c->isps[i].weight,
		    c->isps[i].cost, d->te.chosen[i], pr);
	}
	fputs("]", out);
	reply_end(&r);
}

static void ctx_json(FILE *out, const struct daemon *d, const struct ctl_ctx *x)
{
	char a[4][INET6_ADDRSTRLEN];
	const char *isp = x->d.isp < d->conf->n_isps ? d->conf->isps[x->d.isp].name : "?";
	uint64_t now = now_ns();
	fprintf(out, "{\"tag\":\"%012" PRIx64 "\",\"peer_tag\":\"%012" PRIx64 "\",\"state\":\"%s\",\"reap\":\"%s\","
		"\"local_ulid\":\"%s\",\"remote_ulid\":\"%s\",\"local_loc\":\"%s\",\"remote_loc\":\"%s\","
		"\"isp\":", x->d.own_tag, x->d.peer_tag, state_name(x->state), reap_name(x->reap),
		a6(x->d.local_ulid, a[0]), a6(x->d.remote_ulid, a[1]), a6(x->d.local_loc, a[2]),
		a6(x->d.remote_loc, a[3]));
	json_put_str(out, isp);
	fprintf(out, ",\"fii\":%u,\"origin\":\"%s\",\"age_s\":%" PRIu64 ",\"pair_changes\":%u"
		",\"last_sent_ms_ago\":%" PRId64 ",\"last_recv_ms_ago\":%" PRId64 "}",
		x->d.fii, x->origin == CTX_FROM_DUMP ? "dump" : "engine",
		(uint64_t)((now - x->created_ns) / 1000000000ULL), x->pair_changes,
		x->last_sent_ns ? (int64_t)((now - x->last_sent_ns) / 1000000) : -1,
		x->last_recv_ns ? (int64_t)((now - x->last_recv_ns) / 1000000) : -1);
}

static bool ctx_matches(const struct daemon *d, const struct ctl_ctx *x, const struct jobj *o)
{
	const char *s;
	struct in6_addr a;
	if ((s = json_str(o, "state")) && strcmp(s, state_name(x->state)))
		return false;
	if ((s = json_str(o, "isp")) && (x->d.isp >= d->conf->n_isps || strcmp(s, d->conf->isps[x->d.isp].name)))
		return false;
	if ((s = json_str(o, "peer")) && (inet_pton(AF_INET6, s, &a) != 1 || memcmp(&a, x->d.remote_ulid, 16)))
		return false;
	if ((s = json_str(o, "host")) && (inet_pton(AF_INET6, s, &a) != 1 || memcmp(&a, x->d.local_ulid, 16)))
		return false;
	return true;
}

static void cmd_contexts(struct daemon *d, const struct jobj *o, FILE *out)
{
	const struct jval *lim = json_get(o, "limit");
	long long limit = lim && lim->t == J_NUM && lim->n > 0 ? lim->n : 1000;
	struct reply r;
	unsigned shown = 0, matched = 0;
	reply_begin(&r, out, o);
	fputs(",\"contexts\":[", out);
	TXT(&r, "%-12s %-12s %-12s %-28s %-28s %-8s\n", "TAG", "STATE", "REAP", "LOCAL ULID", "REMOTE ULID", "ISP");
	for (uint32_t i = 0; i < d->ctxs.n; i++) {
		const struct ctl_ctx *x = &d->ctxs.v[i];
		if (!ctx_matches(d, x, o))
			continue;
		matched++;
		if (shown >= limit)
			continue;
		fputs(shown++ ? "," : "", out);
		ctx_json(out, d, x);
		char a[2][INET6_ADDRSTRLEN];
		TXT(&r, "%012" PRIx64 " %-12s %-12s %-28s %-28s %-8s\n", x->d.own_tag, state_name(x->state),
		    reap_name(x->reap), a6(x->d.local_ulid, a[0]), a6(x->d.remote_ulid, a[1]),
		    x->d.isp < d->conf->n_isps ? d->conf->isps[x->d.isp].name : "?");
	}
	fprintf(out, "],\"matched\":%u,\"shown\":%u", matched, shown);
	TXT(&r, "%u context%s%s\n", matched, matched == 1 ? "" : "s",
	    shown < matched ? " (output limited; use limit)" : "");
	reply_end(&r);
}

static void cmd_context(struct daemon *d, const struct jobj *o, FILE *out)
{
	const char *tag = json_str(o, "tag");
	const char *lu = json_str(o, "local"), *ru = json_str(o, "remote");
	struct ctl_ctx *x = NULL;
	if (tag) {
		char *e;
		unsigned long long t = strtoull(tag, &e, 16);
		if (!*tag || *e)
			{ fail(out, "'tag' must be hex"); return; }
		x = ctxtab_find(&d->ctxs, t);
	} else if (lu && ru) {
		struct in6_addr a, b;
		if (inet_pton(AF_INET6, lu, &a) != 1 || inet_pton(AF_INET6, ru, &b) != 1)
			{ fail(out, "'local' and 'remote' must be IPv6 addresses"); return; }
		x = ctxtab_find_pair(&d->ctxs, a.s6_addr, b.s6_addr);
	} else {
		{ fail(out, "give 'tag', or 'local' and 'remote'"); return; }
	}
	if (!x)
		{ fail(out, "no such context"); return; }
	struct reply r;
	reply_begin(&r, out, o);
	fputs(",\"context\":", out);
	ctx_json(out, d, x);
	char a[4][INET6_ADDRSTRLEN];
	uint64_t now = now_ns();
	TXT(&r, "context %012" PRIx64 " (peer tag %012" PRIx64 ", fii %u)\n", x->d.own_tag, x->d.peer_tag, x->d.fii);
	TXT(&r, "  state        %s, REAP %s, %u locator pair change%s\n", state_name(x->state),
	    reap_name(x->reap), x->pair_changes, x->pair_changes == 1 ? "" : "s");
	TXT(&r, "  ULIDs        %s -> %s\n", a6(x->d.local_ulid, a[0]), a6(x->d.remote_ulid, a[1]));
	TXT(&r, "  locators     %s -> %s via %s\n", a6(x->d.local_loc, a[2]), a6(x->d.remote_loc, a[3]),
	    x->d.isp < d->conf->n_isps ? d->conf->isps[x->d.isp].name : "?");
	TXT(&r, "  last sent    %s%.1fs ago\n", x->last_sent_ns ? "" : "never, ",
	    x->last_sent_ns ? (double)(now - x->last_sent_ns) / 1e9 : 0.0);
	TXT(&r, "  last recv    %s%.1fs ago\n", x->last_recv_ns ? "" : "never, ",
	    x->last_recv_ns ? (double)(now - x->last_recv_ns) / 1e9 : 0.0);
	TXT(&r, "  learned from %s, age %" PRIu64 "s\n", x->origin == CTX_FROM_DUMP ? "dataplane dump" : "engine",
	    (uint64_t)((now - x->created_ns) / 1000000000ULL));
	reply_end(&r);
}

static void counter(FILE *out, struct reply *r, bool *first, const char *group, const char *name, uint64_t v)
{
	fprintf(out, "%s\"%s.%s\":%" PRIu64, *first ? "" : ",", group, name, v);
	*first = false;
	TXT(r, "%-40s %" PRIu64 "\n", name, v);
}

struct cctx { FILE *out; struct reply *r; bool *first; };
static void counter_cb(void *arg, const char *group, const char *name, uint64_t v)
{
	struct cctx *c = arg;
	counter(c->out, c->r, c->first, group, name, v);
}

static void cmd_counters(struct daemon *d, const struct jobj *o, FILE *out)
{
	struct reply r;
	bool first = true;
	reply_begin(&r, out, o);
	fputs(",\"counters\":{", out);
	const struct ctl_stats *s = &d->st;
	const struct tables_stats *t = &d->tables.st;
	TXT(&r, "control socket\n");
#define C(g, n, v) counter(out, &r, &first, g, n, v)
	C("control", "clients_accepted", s->clients_accepted);
	C("control", "clients_refused_full", s->clients_refused_full);
	C("control", "clients_accept_failed", s->clients_accept_failed);
	C("control", "clients_evicted_idle", s->clients_evicted_idle);
	C("control", "requests", s->requests);
	C("control", "bad_requests", s->bad_requests);
	C("control", "overlong_requests", s->overlong);
	C("control", "replies_dropped", s->replies_dropped);
	C("control", "leases_refused", s->leases_refused);
	C("control", "reloads", s->reloads);
	C("control", "reloads_refused", s->reloads_refused);
	TXT(&r, "tables\n");
	C("tables", "peer_updates", t->peer_updates);
	C("tables", "peer_rejected", t->peer_rejected);
	C("tables", "peer_evicted", t->peer_evicted);
	C("tables", "peer_expired", t->peer_expired);
	C("tables", "lease_adds", t->lease_adds);
	C("tables", "lease_renews", t->lease_renews);
	C("tables", "lease_removes", t->lease_removes);
	C("tables", "lease_full", t->lease_full);
	C("tables", "lease_rejected", t->lease_rejected);
	TXT(&r, "traffic engineering (new contexts per ISP)\n");
	for (unsigned i = 0; i < d->conf->n_isps; i++)
		C("te", d->conf->isps[i].name, d->te.chosen[i]);
	TXT(&r, "dataplane channel\n");
	C("dpchan", "connects", s->dp_connects);
	C("dpchan", "msgs_rx", s->dp_msgs_rx);
	C("dpchan", "msgs_tx", s->dp_msgs_tx);
	C("dpchan", "errors", s->dp_errors);
	C("dpchan", "punts", s->dp_punts);
	C("dpchan", "reap_reads", s->dp_reap_reqs);
	C("dpchan", "reap_walks", s->dp_reap_walks);
	C("dpchan", "reap_entries", s->dp_reap_entries);
	C("dpchan", "reap_stale", s->dp_reap_stale);
	C("dpchan", "reap_refused", s->dp_reap_refused);
	C("dpchan", "reap_sweep_ms", dp_reap_sweep_ms(d));
	/* writes the socket had no room for: they waited in order (dp_outq.h) */
	C("dpchan", "tx_waited", d->dp.outq.queued);
	C("dpchan", "tx_waiting", d->dp.outq.n);
	C("dpchan", "tx_wait_max_octets", d->dp.outq.hwm);
	C("dpchan", "tx_queue_full", s->dp_outq_full);
	/* what the channel lost, and what the dumps after it found and fixed (dp_resync.h) */
	C("dpchan", "writes_while_down", s->dp_write_down);
	C("dpchan", "resyncs", d->dp.rs.runs);
	C("dpchan", "resync_same", d->dp.rs.total.same);
	C("dpchan", "resync_taken_over", d->dp.rs.total.adopted);
	C("dpchan", "resync_modified", d->dp.rs.total.modified);
	C("dpchan", "resync_replaced", d->dp.rs.total.replaced);
	C("dpchan", "resync_deleted", d->dp.rs.total.deleted);
	C("dpchan", "resync_added", d->dp.rs.total.added);
	if (d->dp.ncounters) {
		TXT(&r, "dataplane (summed over lcores)\n");
		for (unsigned i = 0; i < d->dp.ncounters; i++)
			C("dataplane", dpmsg_counter_name(d->dp.counters[i].id), d->dp.counters[i].value);
	}
	TXT(&r, "proxy and engine\n");
	struct cctx cc = { out, &r, &first };
	proxy_counters(d, out, counter_cb, &cc);
	if (d->conf->peer.role != PSHIM6_PEER_NONE)
		TXT(&r, "primary/backup (peer)\n");
	peer_counters(d, counter_cb, &cc);
	TXT(&r, "reverse lookups through the DNS ALG\n");
	const struct resolve_stats *rs = resolve_stats();
	C("resolve", "started", rs->started);
	C("resolve", "answered", rs->answered);
	C("resolve", "failed", rs->failed);
	C("resolve", "timeouts", rs->timeouts);
	C("resolve", "busy", rs->busy);
	TXT(&r, "log lines\n");
	C("log", "err", log_count(PSHIM6_LOG_ERR));
	C("log", "warning", log_count(PSHIM6_LOG_WARNING));
	C("log", "ctx_held", log_ctx_held());   /* context lines over the rate (log.c) */
#undef C
	fputs("}", out);
	reply_end(&r);
}

static void errors_reply(FILE *out, const char *what, char *errs)
{
	fputs("{\"ok\":false,\"error\":", out);
	json_put_str(out, what);
	fputs(",\"errors\":[", out);
	char *save, *line = errs ? strtok_r(errs, "\n", &save) : NULL;
	for (int i = 0; line; line = strtok_r(NULL, "\n", &save), i++) {
		fputs(i ? "," : "", out);
		json_put_str(out, line);
	}
	fputs("]}\n", out);
}

static void collect(void *arg, const char *file, unsigned line, const char *msg)
{
	FILE *f = arg;
	if (line)
		fprintf(f, "%s:%u: %s\n", file, line, msg);
	else
		fprintf(f, "%s: %s\n", file, msg);
}

static void cmd_config_check(struct daemon *d, const struct jobj *o, FILE *out)
{
	const char *path = json_str(o, "file");
	struct pshim6_conf *n = calloc(1, sizeof(*n));
	char *errs = NULL;
	size_t len;
	FILE *f = open_memstream(&errs, &len);
	if (!n || !f) {
		free(n);
		if (f)
			fclose(f);
		{ fail(out, "out of memory"); return; }
	}
	int rc = pshim6_conf_load(path ? path : d->path, n, collect, f);
	fclose(f);
	free(n);
	if (rc) {
		errors_reply(out, "configuration has errors", errs);
	} else {
		struct reply r;
		reply_begin(&r, out, o);
		fputs(",\"file\":", out);
		json_put_str(out, path ? path : d->path);
		TXT(&r, "%s: configuration OK\n", path ? path : d->path);
		reply_end(&r);
	}
	free(errs);
}

static void cmd_reload(struct daemon *d, const struct jobj *o, FILE *out)
{
	char *errs = NULL;
	if (daemon_reload(d, &errs)) {
		errors_reply(out, "reload refused; running configuration kept", errs);
	} else {
		struct reply r;
		reply_begin(&r, out, o);
		TXT(&r, "configuration reloaded; %u contexts kept\n", d->ctxs.n);
		reply_end(&r);
	}
	free(errs);
}

static void cmd_resync(struct daemon *d, const struct jobj *o, FILE *out)
{
	if (dp_resync_start(d)) {
		fail(out, d->dp.dumping ? "a dump of the dataplane is under way already" : "the dataplane is not connected");
		return;
	}
	struct reply r;
	reply_begin(&r, out, o);
	TXT(&r, "dump of the dataplane asked for; its %u contexts are compared with ours as it arrives "
	    "(see the log and the dpchan.resync_* counters)\n", d->ctxs.n);
	reply_end(&r);
}

static void cmd_peer_locators(struct daemon *d, const struct jobj *o, FILE *out)
{
	const char *why;
	if (tables_peer_locators(&d->tables, o, now_ns(), &why))
		{ fail(out, why); return; }
	log_debug("peer-locators for %s (%u locators)", json_str(o, "ulid"), json_get(o, "locators")->nelem);
	fputs("{\"ok\":true}\n", out);
}

static void cmd_lease(struct daemon *d, const struct jobj *o, FILE *out)
{
	const char *why, *cm = json_str(o, "cmula");
	/* a release takes the entry away, and with it the id of the other
	 * proxy's event that the ACTIVE proxy remembers its release by (peer.c) */
	struct in6_addr a;
	const struct lease_entry *was = cm && inet_pton(AF_INET6, cm, &a) == 1 ? addrtab_find(&d->tables.leases, &a) : NULL;
	uint32_t fwd_was = lease_event_theirs(was);
	if (tables_lease(&d->tables, d->conf, o, now_ns(), &why)) {
		/* a hook that sends what this site refuses sends it with every lease */
		uint64_t n = ++d->st.leases_refused;
		if (log_nth(n))
			log_warn("lease message refused: %s (%llu times)", why, (unsigned long long)n);
		fail(out, why);
		return;
	}
	log_info("lease %s %s", json_str(o, "event"), json_str(o, "cmula"));
	peer_lease_changed(d, cm, fwd_was);
	fputs("{\"ok\":true}\n", out);
}

static const struct {
	const char *name;
	void (*fn)(struct daemon *, const struct jobj *, FILE *);
} cmds[] = {
	{ "status", cmd_status },
	{ "contexts", cmd_contexts },
	{ "context", cmd_context },
	{ "counters", cmd_counters },
	{ "config-check", cmd_config_check },
	{ "reload", cmd_reload },
	{ "resync", cmd_resync },
	{ "peer-locators", cmd_peer_locators },
	{ "lease", cmd_lease },
};

void commands_handle(struct daemon *d, const char *line, size_t len, FILE *out)
{
	static struct jobj o;   /* 8 KiB+; one request at a time */
	const char *why;
	if (len && line[len - 1] == '\r')
		len--;
	if (json_parse(line, len, &o, &why)) {
		d->st.bad_requests++;
		{ fail(out, why); return; }
	}
	const char *cmd = json_str(&o, "cmd");
	if (!cmd) {
		d->st.bad_requests++;
		{ fail(out, "missing 'cmd'"); return; }
	}
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(cmds[i].name, cmd))
			{ cmds[i].fn(d, &o, out); return; }
	d->st.bad_requests++;
	fail(out, "unknown command");
}
