#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t sim_rand(struct sim *s)
{
	/* splitmix64: deterministic per seed */
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double frand(struct sim *s) { return (double)(sim_rand(s) >> 11) / 9007199254740992.0; }

static void rnd_fill(void *u, void *buf, size_t len)
{
	struct sim *s = u;
	uint8_t *p = buf;
	while (len) {
		uint64_t v = sim_rand(s);
		size_t n = len < 8 ? len : 8;
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}

static void *m_calloc(void *u, size_t n, size_t sz)
{
	struct sim *s = u;
	void *p = calloc(n, sz);
	if (p)
		s->allocs++;
	return p;
}
static void m_free(void *u, void *p)
{
	struct sim *s = u;
	if (p)
		s->allocs--;
	free(p);
}

struct shim6_in6 sim_ulid(int site, int host)
{
	struct shim6_in6 a = { { 0xfd, 0, 0, 0, 0, 0, 0, 0 } };
	a.b[7] = (uint8_t)site;
	a.b[15] = (uint8_t)(host + 1);
	return a;
}

struct shim6_in6 sim_loc(int site, int host, int loc)
{
	struct shim6_in6 a = { { 0x20, 0x01, 0x0d, 0xb8 } };
	a.b[5] = (uint8_t)site;
	a.b[7] = (uint8_t)loc;
	a.b[15] = (uint8_t)(host + 1);
	return a;
}

int sim_addr_site(const struct shim6_in6 *a) { return a->b[0] == 0x20 ? a->b[5] : -1; }
int sim_addr_loc(const struct shim6_in6 *a) { return a->b[7]; }

static int cb_host_info(void *u, const struct shim6_in6 *ulid, struct shim6_host_info *out)
{
	struct sim_site *st = u;
	if (ulid->b[0] != 0xfd || ulid->b[7] != st->idx || ulid->b[15] == 0 || ulid->b[15] > st->nhosts)
		return SHIM6_ENG_ENOTLOCAL;
	int h = ulid->b[15] - 1;
	out->method = st->cga ? SHIM6_VERIF_CGA : SHIM6_VERIF_HBA;
	out->nlocs = 0;
	for (int i = 0; i < st->nlocs; i++) {
		if (st->loc_removed[h][i])
			continue;
		struct shim6_locator *l = &out->locs[out->nlocs++];
		l->addr = sim_loc(st->idx, h, i);
		l->verif = (uint8_t)out->method;
		l->flags = st->loc_flags[i];
		l->priority = (uint8_t)i;
		l->weight = 10;
	}
	out->generation = st->gen[h];
	/* a stand-in parameter structure naming the ULID: the fake verifier
	 * accepts only locators with the ULID's interface identifier */
	out->pds_len = 20;
	memcpy(out->pds, "PDS:", 4);
	memcpy(out->pds + 4, ulid->b, 16);
	return 0;
}

uint64_t sim_fake_sig(const struct shim6_in6 *ulid, const uint8_t *data, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	for (int i = 0; i < 16; i++)
		h = (h ^ ulid->b[i]) * 1099511628211ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ data[i]) * 1099511628211ULL;
	return h;
}

static int cb_sign(void *u, const struct shim6_in6 *ulid, const uint8_t *data, size_t len,
                   uint8_t *sig, size_t cap)
{
	(void)u;
	if (cap < 8)
		return -1;
	uint64_t h = sim_fake_sig(ulid, data, len);
	memcpy(sig, &h, 8);
	return 8;
}

static int cb_verify(void *u, const struct shim6_in6 *peer_ulid, enum shim6_verif method,
                     const uint8_t *pds, size_t pds_len, const struct shim6_locator *locs,
                     size_t n, const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen)
{
	struct sim_site *st = u;
	if (st->reject_verify)
		return -1;
	if (pds_len < 20 || memcmp(pds, "PDS:", 4) || memcmp(pds + 4, peer_ulid->b, 16))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (memcmp(locs[i].addr.b + 8, peer_ulid->b + 8, 8) || locs[i].addr.b[0] != 0x20)
			return -1;
	if (method == SHIM6_VERIF_CGA) {
		uint64_t h = sim_fake_sig(peer_ulid, data, len);
		if (siglen != 8 || memcmp(sig, &h, 8))
			return -1;
	}
	return 0;
}

static void cb_log(void *u, int lvl, const char *msg)
{
	struct sim_site *st = u;
	if (st->sim->log && lvl <= 2)
		fprintf(stderr, "[%8.3f] site%d: %s\n", (double)st->sim->now / 1e9, st->idx, msg);
}

static struct shim6_engine_settings g_settings;

static void site_start(struct sim *s, int i)
{
	struct sim_site *st = &s->site[i];
	struct shim6_engine_callbacks cb = {
		.user = st, .host_info = cb_host_info, .sign = cb_sign, .verify = cb_verify,
		.log = cb_log,
	};
	struct shim6_engine_mem mem = { s, m_calloc, m_free };
	struct shim6_engine_rand rnd = { s, rnd_fill };
	if (shim6_engine_new(&st->eng, &g_settings, &cb, &mem, &rnd, s->now) != 0) {
		fprintf(stderr, "engine_new failed\n");
		abort();
	}
}

void sim_init(struct sim *s, uint64_t seed, int nsites, int nhosts, int nlocs,
              const struct shim6_engine_settings *settings)
{
	memset(s, 0, sizeof(*s));
	s->rng = seed;
	s->now = 1000 * SHIM6_NS_PER_S;
	s->nsites = nsites;
	s->delay = 20 * SHIM6_NS_PER_MS;
	/* one packet pool for every run: allocating it per scenario dominated
	 * the random run's time under ASan */
	static struct sim_pkt pool[SIM_MAX_PKTS];
	s->pkts = pool;
	if (settings) {
		g_settings = *settings;
	} else {
		shim6_engine_settings_default(&g_settings);
		g_settings.max_contexts = 64;
		g_settings.max_pending = 32;
		g_settings.txq_len = 64;
		g_settings.evq_len = 128;
	}
	for (int i = 0; i < nsites; i++) {
		struct sim_site *st = &s->site[i];
		st->sim = s;
		st->idx = i;
		st->nhosts = nhosts;
		st->nlocs = nlocs;
		st->cga = (i & 1) == 0;
		site_start(s, i);
	}
}

void sim_fini(struct sim *s)
{
	for (int i = 0; i < s->nsites; i++)
		shim6_engine_del(s->site[i].eng);
	s->pkts = NULL;
}

void sim_reset_site(struct sim *s, int i)
{
	shim6_engine_del(s->site[i].eng);
	site_start(s, i);
}

void sim_set_fail(struct sim *s, int s1, int l1, int s2, int l2, bool failed)
{
	s->fail[s1][l1][s2][l2] = failed;
	s->fail[s2][l2][s1][l1] = failed;
}

static void net_send(struct sim *s, const struct shim6_in6 *src, const struct shim6_in6 *dst,
                     const uint8_t *buf, size_t len, bool payload, uint64_t tag)
{
	int copies = 1;
	if (frand(s) < s->loss) {
		s->dropped++;
		return;
	}
	if (frand(s) < s->dup)
		copies = 2;
	for (int c = 0; c < copies; c++) {
		if (s->npkts >= SIM_MAX_PKTS) {
			s->dropped++;
			return;
		}
		struct sim_pkt *p = &s->pkts[s->npkts++];
		p->at = s->now + s->delay;
		if (frand(s) < s->reorder)
			p->at += (shim6_tstamp)(frand(s) * 3 * (double)s->delay);
		p->src = *src;
		p->dst = *dst;
		p->payload = payload;
		p->tag = tag;
		p->len = len;
		if (len)
			memcpy(p->buf, buf, len);
	}
}

void sim_inject(struct sim *s, const struct shim6_in6 *src, const struct shim6_in6 *dst,
                const uint8_t *buf, size_t len, bool payload, uint64_t tag)
{
	double l = s->loss;
	s->loss = 0;
	net_send(s, src, dst, buf, len, payload, tag);
	s->loss = l;
}

static void drain(struct sim *s)
{
	static struct shim6_tx tx;
	for (int i = 0; i < s->nsites; i++) {
		struct sim_site *st = &s->site[i];
		while (shim6_engine_poll_tx(st->eng, &tx)) {
			if (s->tx_tap)
				s->tx_tap(s->tx_tap_user, i, &tx);
			net_send(s, &tx.src, &tx.dst, tx.buf, tx.len, false, 0);
		}
		struct shim6_event ev;
		while (shim6_engine_poll_event(st->eng, &ev)) {
			if (s->nevs < SIM_MAX_EVENTS) {
				s->evs[s->nevs].site = i;
				s->evs[s->nevs].ev = ev;
				s->evs[s->nevs].at = s->now;
				s->nevs++;
			}
		}
	}
}

static void deliver(struct sim *s, struct sim_pkt *p)
{
	int ss = sim_addr_site(&p->src), ds = sim_addr_site(&p->dst);
	if (ds < 0 || ds >= s->nsites)
		return;
	if (ss >= 0 && ss < s->nsites &&
	    s->fail[ss][sim_addr_loc(&p->src)][ds][sim_addr_loc(&p->dst)]) {
		s->dropped++;
		return;
	}
	s->delivered++;
	if (s->tap)
		s->tap(s->tap_user, p);
	struct shim6_engine *e = s->site[ds].eng;
	if (p->payload) {
		struct shim6_ctx_info ci;
		if (shim6_engine_ctx_info(e, p->tag, &ci) == 0 && ci.state == SHIM6_ST_ESTABLISHED)
			shim6_engine_data(e, p->tag, SHIM6_DATA_RECV, s->now);
		else
			shim6_engine_unknown_tag(e, p->tag, &p->src, &p->dst, s->now);
	} else {
		shim6_engine_recv(e, p->buf, p->len, &p->src, &p->dst, s->now);
	}
}

static void flow_tick(struct sim *s, struct sim_flow *f, int dir)
{
	int a = dir ? f->s2 : f->s1, ha = dir ? f->h2 : f->h1;
	int b = dir ? f->s1 : f->s2, hb = dir ? f->h1 : f->h2;
	struct shim6_in6 la = sim_ulid(a, ha), lb = sim_ulid(b, hb);
	uint64_t id;
	struct shim6_engine *e = s->site[a].eng;
	if (dir && f->oneway)
		return;   /* the far end only receives */
	if (shim6_engine_ctx_find(e, &la, &lb, f->forkid, &id) != 0) {
		/* a proxy opens a context when inside traffic appears */
		struct shim6_in6 pl[SIM_MAX_LOCS];
		for (int i = 0; i < s->site[b].nlocs; i++)
			pl[i] = sim_loc(b, hb, i);
		shim6_engine_open(e, &la, &lb, pl, (size_t)s->site[b].nlocs, f->forkid, s->now, &id);
		return;
	}
	struct shim6_ctx_info ci;
	if (shim6_engine_ctx_info(e, id, &ci) != 0 || ci.state != SHIM6_ST_ESTABLISHED)
		return;
	shim6_engine_data(e, id, SHIM6_DATA_SENT, s->now);
	net_send(s, &ci.local_loc, &ci.peer_loc, NULL, 0, true, ci.peer_tag);
}

void sim_run(struct sim *s, shim6_tstamp duration)
{
	shim6_tstamp end = s->now + duration;
	drain(s);
	for (;;) {
		shim6_tstamp next = end;
		for (size_t i = 0; i < s->npkts; i++)
			if (s->pkts[i].at < next)
				next = s->pkts[i].at;
		for (int i = 0; i < s->nsites; i++) {
			shim6_tstamp d = shim6_engine_deadline(s->site[i].eng);
			if (d < next)
				next = d;
		}
		for (int i = 0; i < s->nflows; i++)
			if (s->flows[i].active && s->flows[i].next < next)
				next = s->flows[i].next;
		if (next > end)
			break;
		if (next > s->now)
			s->now = next;
		/* packets due now, in arrival order */
		for (;;) {
			size_t best = SIZE_MAX;
			for (size_t i = 0; i < s->npkts; i++)
				if (s->pkts[i].at <= s->now && (best == SIZE_MAX || s->pkts[i].at < s->pkts[best].at))
					best = i;
			if (best == SIZE_MAX)
				break;
			static struct sim_pkt p;
			p = s->pkts[best];
			s->pkts[best] = s->pkts[--s->npkts];
			deliver(s, &p);
			drain(s);
		}
		for (int i = 0; i < s->nsites; i++)
			if (shim6_engine_deadline(s->site[i].eng) <= s->now)
				shim6_engine_expire(s->site[i].eng, s->now);
		drain(s);
		for (int i = 0; i < s->nflows; i++) {
			struct sim_flow *f = &s->flows[i];
			if (!f->active || f->next > s->now)
				continue;
			flow_tick(s, f, 0);
			flow_tick(s, f, 1);
			f->next = s->now + f->interval;
		}
		drain(s);
		if (s->now >= end)
			break;
	}
	s->now = end;
}

int sim_open(struct sim *s, int s1, int h1, int s2, int h2, uint32_t forkid, uint64_t *id)
{
	struct shim6_in6 l = sim_ulid(s1, h1), p = sim_ulid(s2, h2);
	struct shim6_in6 pl[SIM_MAX_LOCS];
	for (int i = 0; i < s->site[s2].nlocs; i++)
		pl[i] = sim_loc(s2, h2, i);
	uint64_t tmp;
	int rc = shim6_engine_open(s->site[s1].eng, &l, &p, pl, (size_t)s->site[s2].nlocs, forkid,
	                           s->now, id ? id : &tmp);
	drain(s);
	return rc;
}

int sim_flow(struct sim *s, int s1, int h1, int s2, int h2, uint32_t forkid, shim6_tstamp interval)
{
	if (s->nflows >= SIM_MAX_FLOWS)
		return -1;
	struct sim_flow *f = &s->flows[s->nflows++];
	f->s1 = s1; f->h1 = h1; f->s2 = s2; f->h2 = h2;
	f->forkid = forkid;
	f->interval = interval;
	f->next = s->now;
	f->active = true;
	return s->nflows - 1;
}

bool sim_ctx(struct sim *s, int site, int h, int peer_site, int ph, uint32_t forkid,
             struct shim6_ctx_info *out)
{
	struct shim6_in6 l = sim_ulid(site, h), p = sim_ulid(peer_site, ph);
	uint64_t id;
	if (shim6_engine_ctx_find(s->site[site].eng, &l, &p, forkid, &id) != 0)
		return false;
	return shim6_engine_ctx_info(s->site[site].eng, id, out) == 0;
}

int sim_count_events(struct sim *s, int site, enum shim6_event_type t)
{
	int n = 0;
	for (int i = 0; i < s->nevs; i++)
		if (s->evs[i].site == site && s->evs[i].ev.type == t)
			n++;
	return n;
}

bool sim_agree(struct sim *s, int s1, int h1, int s2, int h2, uint32_t forkid, char *why, size_t n)
{
	struct shim6_ctx_info a, b;
	if (!sim_ctx(s, s1, h1, s2, h2, forkid, &a) || !sim_ctx(s, s2, h2, s1, h1, forkid, &b)) {
		snprintf(why, n, "context missing");
		return false;
	}
	if (a.state != SHIM6_ST_ESTABLISHED || b.state != SHIM6_ST_ESTABLISHED) {
		snprintf(why, n, "states %s/%s", shim6_state_name(a.state), shim6_state_name(b.state));
		return false;
	}
	if (a.peer_tag != b.id || b.peer_tag != a.id) {
		snprintf(why, n, "tags differ");
		return false;
	}
	if (memcmp(&a.local_loc, &b.peer_loc, 16) || memcmp(&a.peer_loc, &b.local_loc, 16)) {
		snprintf(why, n, "pairs differ: A %012llx %s l%d->p%d B %012llx %s l%d->p%d",
		         (unsigned long long)a.id, shim6_reap_state_name(a.reap), sim_addr_loc(&a.local_loc),
		         sim_addr_loc(&a.peer_loc), (unsigned long long)b.id, shim6_reap_state_name(b.reap),
		         sim_addr_loc(&b.local_loc), sim_addr_loc(&b.peer_loc));
		return false;
	}
	return true;
}
