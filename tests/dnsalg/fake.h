/* Test doubles for the DNS ALG: an upstream answering from a table, a push
 * recorder, and query builders.  Header-only; each suite includes it once. */
#ifndef DNSALG_TEST_FAKE_H
#define DNSALG_TEST_FAKE_H

#include <string.h>
#include <arpa/inet.h>
#include "dnsalg.h"

struct fake_rrset {
	const char *name;   /* absolute */
	uint16_t type;
	int rcode;          /* -1: time out */
	const char *rrs;    /* zone-file lines, '\n' separated, may be "" */
	bool tc;
};

struct fake_up {
	const struct fake_rrset *set;
	size_t n;
	unsigned queries, tcp_queries;
	bool last_cd, last_do;
	/* EDNS: what the last query carried (as it went on the wire) */
	uint16_t last_bufsize;
	unsigned last_nopts;
	int last_cookie_len;          /* -1: none */
	uint8_t last_ecs[20];
	int last_ecs_len;             /* -1: none */
	/* and what the answers carry: options appended to the answer's OPT */
	const uint8_t *ans_opts;
	size_t ans_opts_len;
	bool echo_ecs;                /* send the query's ECS back with scope ecs_scope */
	uint8_t ecs_scope;
	bool ecs_alter;               /* ...with its last address octet changed */
};

/* Walk the OPT record of a wire message: fn(code, data, len) per option. */
static inline void fake_opts(const uint8_t *w, size_t len,
			     void (*fn)(void *, uint16_t, const uint8_t *, uint16_t), void *arg)
{
	long at = dnsalg_wire_opt_at(w, len);
	if (at < 0)
		return;
	size_t o = (size_t)at + 10, e = o + (size_t)(w[at + 8] << 8 | w[at + 9]);
	while (o + 4 <= e) {
		uint16_t code = (uint16_t)(w[o] << 8 | w[o + 1]), ol = (uint16_t)(w[o + 2] << 8 | w[o + 3]);
		fn(arg, code, w + o + 4, ol);
		o += 4u + ol;
	}
}

static inline void fake_note_opt(void *arg, uint16_t code, const uint8_t *d, uint16_t len)
{
	struct fake_up *f = arg;
	f->last_nopts++;
	if (code == DNSALG_OPT_COOKIE)
		f->last_cookie_len = len;
	if (code == DNSALG_OPT_ECS && len <= sizeof f->last_ecs) {
		memcpy(f->last_ecs, d, len);
		f->last_ecs_len = len;
	}
}

/* Append raw option bytes to the OPT record of a wire message. */
static inline size_t fake_add_opts(uint8_t *w, size_t len, size_t cap, const uint8_t *opts, size_t ol)
{
	long at = dnsalg_wire_opt_at(w, len);
	if (at < 0 || len + ol > cap)
		return 0;
	memcpy(w + len, opts, ol);
	unsigned rl = (unsigned)(w[at + 8] << 8 | w[at + 9]) + (unsigned)ol;
	w[at + 8] = (uint8_t)(rl >> 8);
	w[at + 9] = (uint8_t)rl;
	return len + ol;
}

static inline int fake_query(void *arg, ldns_pkt *q, bool tcp, ldns_pkt **ans)
{
	struct fake_up *f = arg;
	f->queries++;
	if (tcp)
		f->tcp_queries++;
	f->last_cd = ldns_pkt_cd(q);
	f->last_do = ldns_pkt_edns_do(q);
	f->last_bufsize = ldns_pkt_edns_udp_size(q);
	f->last_nopts = 0;
	f->last_cookie_len = f->last_ecs_len = -1;
	uint8_t *qw = NULL;
	size_t qwl = 0;
	if (ldns_pkt2wire(&qw, q, &qwl) == LDNS_STATUS_OK)
		fake_opts(qw, qwl, fake_note_opt, f);
	free(qw);
	const ldns_rr *qr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	char *qn = ldns_rdf2str(ldns_rr_owner(qr));
	const struct fake_rrset *hit = NULL;
	for (size_t i = 0; i < f->n; i++)
		if (!strcasecmp(f->set[i].name, qn) && f->set[i].type == ldns_rr_get_type(qr))
			hit = &f->set[i];
	free(qn);
	if (hit && hit->rcode < 0)
		return DNSALG_ETIMEOUT;
	ldns_pkt *p = ldns_pkt_new();
	ldns_pkt_set_id(p, ldns_pkt_id(q));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	ldns_rr_list_deep_free(ldns_pkt_question(p));
	ldns_pkt_set_question(p, ldns_rr_list_clone(ldns_pkt_question(q)));
	ldns_pkt_set_qdcount(p, 1);
	ldns_pkt_set_rcode(p, hit ? (uint8_t)hit->rcode : LDNS_RCODE_NXDOMAIN);
	if (hit && hit->tc)
		ldns_pkt_set_tc(p, true);
	if (hit && hit->rrs[0]) {
		char *dup = strdup(hit->rrs), *save = NULL;
		for (char *l = strtok_r(dup, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			ldns_rr *rr = NULL;
			if (ldns_rr_new_frm_str(&rr, l, 300, NULL, NULL) == LDNS_STATUS_OK)
				ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
		}
		free(dup);
	}
	if (f->ans_opts || (f->echo_ecs && f->last_ecs_len >= 4)) {
		/* as it would come off the wire: options inside the OPT record */
		uint8_t buf[8192], opts[256];
		size_t ol = 0;
		if (f->ans_opts) {
			memcpy(opts, f->ans_opts, f->ans_opts_len);
			ol = f->ans_opts_len;
		}
		if (f->echo_ecs && f->last_ecs_len >= 4) {
			size_t el = (size_t)f->last_ecs_len;
			opts[ol] = 0; opts[ol + 1] = DNSALG_OPT_ECS; opts[ol + 2] = 0; opts[ol + 3] = (uint8_t)el;
			memcpy(opts + ol + 4, f->last_ecs, el);
			opts[ol + 4 + 3] = f->ecs_scope;
			if (f->ecs_alter && el > 4)
				opts[ol + 4 + el - 1] ^= 0x80;
			ol += 4 + el;
		}
		ldns_pkt_set_edns_udp_size(p, 1232);
		uint8_t *w = NULL;
		size_t wl = 0;
		ldns_pkt2wire(&w, p, &wl);
		ldns_pkt_free(p);
		p = NULL;
		if (w && wl <= sizeof buf) {
			memcpy(buf, w, wl);
			wl = fake_add_opts(buf, wl, sizeof buf, opts, ol);
			if (wl)
				ldns_wire2pkt(&p, buf, wl);
		}
		free(w);
		if (!p)
			return DNSALG_ETIMEOUT;
	}
	*ans = p;
	return 0;
}

struct push_rec {
	unsigned n;
	char last[2048];
	bool fail;
};

static inline int fake_push(void *arg, const char *line)
{
	struct push_rec *p = arg;
	if (p->fail)
		return DNSALG_EFULL;
	p->n++;
	snprintf(p->last, sizeof p->last, "%s", line);
	return 0;
}

/* Wire query for name/type; flags are header flags; edns < 0: none. */
/* The ALG as the query-path suites run it: default options, small caches,
 * the fake upstream answering from `set`; fake_alg_free undoes it. */
static inline void fake_alg_init(struct dnsalg_ctx *x, struct dnsalg_opts *o, struct dnsalg_counters *cnt,
				 struct fake_up *f, struct dnsalg_upstream_ops *up,
				 const struct fake_rrset *set, size_t n)
{
	dnsalg_opts_defaults(o);
	x->o = o;
	x->cnt = cnt;
	atomic_init(&x->tcp_idle_ms, o->tcp_idle_ms);
	x->acache = dnsalg_acache_new(64, 86400);
	x->ucache = dnsalg_ucache_new(64);
	f->set = set;
	f->n = n;
	up->query = fake_query;
	up->arg = f;
}

static inline void fake_alg_free(struct dnsalg_ctx *x)
{
	dnsalg_acache_free(x->acache);
	dnsalg_ucache_free(x->ucache);
}

static inline size_t mkquery(uint8_t *out, size_t cap, uint16_t id, const char *name, uint16_t type,
		      uint16_t flags, int edns, bool do_bit)
{
	ldns_rdf *n = ldns_dname_new_frm_str(name);
	ldns_pkt *p = ldns_pkt_query_new(n, (ldns_rr_type)type, LDNS_RR_CLASS_IN, 0);
	ldns_pkt_set_id(p, id);
	ldns_pkt_set_rd(p, (flags & DNSALG_F_RD) != 0);
	ldns_pkt_set_cd(p, (flags & DNSALG_F_CD) != 0);
	if (edns >= 0) {
		ldns_pkt_set_edns_udp_size(p, (uint16_t)edns);
		ldns_pkt_set_edns_do(p, do_bit);
	}
	uint8_t *w = NULL;
	size_t wl = 0;
	ldns_pkt2wire(&w, p, &wl);
	ldns_pkt_free(p);
	if (wl > cap)
		wl = 0;
	memcpy(out, w, wl);
	free(w);
	return wl;
}

static inline ldns_pkt *parse(const uint8_t *w, int n)
{
	ldns_pkt *p = NULL;
	if (n <= 0 || ldns_wire2pkt(&p, w, (size_t)n) != LDNS_STATUS_OK)
		return NULL;
	return p;
}

/* Count RRs of `type` in the answer section; first address in *first. */
static inline unsigned count_type(const ldns_pkt *p, ldns_rr_type type, char *first, size_t cap)
{
	unsigned n = 0;
	for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(p)); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);
		if (ldns_rr_get_type(rr) != type)
			continue;
		if (n == 0 && first) {
			char *s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
			snprintf(first, cap, "%s", s);
			free(s);
		}
		n++;
	}
	return n;
}

#endif
