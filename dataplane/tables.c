/* Context and host tables: single writer (channel thread), lock-free readers. */
#include "tables.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>


static struct rte_hash *mkhash(const char *prefix, const char *what, uint32_t entries,
			       uint32_t key_len, int socket)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters p = {
		.name = name,
		.entries = entries < 64 ? 64 : entries,
		.key_len = key_len,
		.hash_func = rte_hash_crc,
		.socket_id = socket,
		/* readers never lock; the ext table makes the bound exact (no cuckoo failures) */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	snprintf(name, sizeof(name), "%s_%s", prefix, what);
	return rte_hash_create(&p);
}

static uint64_t heap_used(int socket)
{
	struct rte_malloc_socket_stats st;
	if (rte_malloc_get_socket_stats(socket < 0 ? 0 : socket, &st) < 0)
		return 0;
	return st.heap_allocsz_bytes;
}

struct dp_tables *dp_tables_create(const char *name, uint32_t cap, uint32_t host_cap,
				   unsigned n_readers, int socket)
{
	uint64_t before = heap_used(socket);
	size_t nslot;
	struct dp_tables *t = rte_zmalloc_socket("dp_tables", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	size_t qsz;

	if (!t || cap == 0 || host_cap == 0)
		goto fail;
	t->cap = cap;
	t->host_cap = host_cap;
	t->n_readers = n_readers;
	/* slots beyond cap cover what waits on the deferred-free queue */
	/* a quarter of the table may wait, 64 to DP_DEFER_MAX: small tables stay small */
	t->defer_max = RTE_MIN(RTE_MAX(cap / 4, UINT32_C(64)), (uint32_t)DP_DEFER_MAX);
	nslot = (size_t)cap + 1 + t->defer_max;
	t->slots = rte_zmalloc_socket("dp_ctx", sizeof(struct dp_ctx) * nslot, 64, socket);
	t->slot_free = rte_malloc_socket("dp_ctx_free", sizeof(uint32_t) * nslot, 0, socket);
	t->defer = rte_malloc_socket("dp_defer", sizeof(struct dp_defer) * t->defer_max, 0, socket);
	t->hosts = rte_zmalloc_socket("dp_hosts", sizeof(struct dp_host) * host_cap, 64, socket);
	t->host_free = rte_malloc_socket("dp_host_free", sizeof(uint32_t) * host_cap, 0, socket);
	if (!t->slots || !t->slot_free || !t->defer || !t->hosts || !t->host_free)
		goto fail;
	for (size_t i = 0; i < nslot; i++)
		t->slot_free[t->n_slot_free++] = (uint32_t)(nslot - 1 - i);
	for (uint32_t i = 0; i < host_cap; i++)
		t->host_free[t->n_host_free++] = host_cap - 1 - i;
	t->mono0_ns = dp_mono_ns();
	t->clk.tsc = t->clk.first_tsc = rte_rdtsc();
	t->clk.first_ns = t->mono0_ns;
	t->clk.per_ms = rte_get_tsc_hz() / 1000 ? rte_get_tsc_hz() / 1000 : 1;   /* until measured */
	if (dp_lut_init(&t->l_ulid, cap, socket) != DP_LUT_OK || dp_lut_init(&t->l_tag, cap, socket) != DP_LUT_OK)
		goto fail;
	/* key positions of deleted contexts wait on the deferred-free queue too */
	t->h_ptag = mkhash(name, "ptag", cap + t->defer_max, sizeof(uint64_t), socket);
	t->h_host = mkhash(name, "host", host_cap, 16, socket);
	t->h_hostloc = mkhash(name, "hloc", host_cap * DP_MAX_ISP, 16, socket);
	if (!t->h_ptag || !t->h_host || !t->h_hostloc)
		goto fail;
	qsz = rte_rcu_qsbr_get_memsize(n_readers ? n_readers : 1);
	t->qs = rte_zmalloc_socket("dp_qsbr", qsz, RTE_CACHE_LINE_SIZE, socket);
	if (!t->qs || rte_rcu_qsbr_init(t->qs, n_readers ? n_readers : 1) != 0)
		goto fail;
	t->mem_bytes = heap_used(socket) - before;
	return t;
fail:
	dp_tables_free(t);
	return NULL;
}

void dp_tables_free(struct dp_tables *t)
{
	if (!t)
		return;
	dp_lut_free(&t->l_ulid);
	dp_lut_free(&t->l_tag);
	rte_hash_free(t->h_ptag);
	rte_hash_free(t->h_host);
	rte_hash_free(t->h_hostloc);
	rte_free(t->qs);
	rte_free(t->slots);
	rte_free(t->slot_free);
	rte_free(t->defer);
	rte_free(t->hosts);
	rte_free(t->host_free);
	rte_free(t);
}

static void sync_readers(struct dp_tables *t)
{
	rte_rcu_qsbr_synchronize(t->qs, RTE_QSBR_THRID_INVALID);
}

/* a is later than b on the stamps' wrapping clock (0 = never) */
static bool ms_after(uint32_t a, uint32_t b)
{
	return a && (!b || (int32_t)(a - b) > 0);
}

/*
 * An lcore that still held the old slot of a modify may have stamped it
 * after the copy: carry such stamps over, so REAP never sees a context
 * idler than it is.  Lcores store plain words; the compare-and-swap
 * retries if one lands in between.
 */
static void merge_stamps(struct dp_ctx *cur, const struct dp_ctx *old)
{
	for (unsigned r = 0; r < DP_CTX_STAMPS; r++)
		for (unsigned k = 0; k < 2; k++) {
			uint32_t o = __atomic_load_n(&old->stamp[r][k], __ATOMIC_RELAXED);
			uint32_t c = __atomic_load_n(&cur->stamp[r][k], __ATOMIC_RELAXED);
			while (ms_after(o, c) &&
			       !__atomic_compare_exchange_n(&cur->stamp[r][k], &c, o, false, __ATOMIC_RELAXED,
							    __ATOMIC_RELAXED))
				;
		}
}

static void release(struct dp_tables *t, const struct dp_defer *d)
{
	if (d->pos_ptag >= 0)
		rte_hash_free_key_with_position(t->h_ptag, d->pos_ptag);
	if (d->merge) {
		struct dp_ctx *cur = dp_ctx_by_tag(t, d->own_tag);
		if (cur && cur != &t->slots[d->slot])
			merge_stamps(cur, &t->slots[d->slot]);
	}
	t->slot_free[t->n_slot_free++] = d->slot;
}

void dp_tables_reclaim(struct dp_tables *t, bool wait)
{
	while (t->n_defer) {
		const struct dp_defer *d = &t->defer[t->defer_head];
		if (rte_rcu_qsbr_check(t->qs, d->token, false) != 1) {
			if (!wait)
				return;
			t->defer_waits++;
			(void)rte_rcu_qsbr_check(t->qs, d->token, true);
		}
		wait = false;   /* the oldest is out; take whatever else is done */
		release(t, d);
		t->defer_head = (t->defer_head + 1) % t->defer_max;
		t->n_defer--;
	}
}

/* Queue for release after the readers' next quiescent state; waits only when full. */
static void defer(struct dp_tables *t, uint32_t slot, const uint64_t *merge_tag, int32_t pos_ptag)
{
	struct dp_defer *d;

	if (t->n_defer == t->defer_max)
		dp_tables_reclaim(t, true);
	d = &t->defer[(t->defer_head + t->n_defer) % t->defer_max];
	d->slot = slot;
	d->merge = merge_tag != NULL;
	d->own_tag = merge_tag ? *merge_tag : 0;
	d->pos_ptag = pos_ptag;
	d->token = rte_rcu_qsbr_start(t->qs);
	t->n_defer++;
}

static uint32_t slot_of(const struct dp_tables *t, const struct dp_ctx *c)
{
	return (uint32_t)(c - t->slots);
}

static bool maps_to(struct rte_hash *h, const void *key, const void *what)
{
	void *d;
	return rte_hash_lookup_data(h, key, &d) >= 0 && d == what;
}

static bool locs_ok(const uint8_t *a, const uint8_t *b)
{
	return !dp_addr_is_unspec(a) && !dp_addr_is_unspec(b) && !dp_addr_is_mc(a) && !dp_addr_is_mc(b);
}

int dp_ctx_add(struct dp_tables *t, const struct dpmsg_ctx *m, unsigned n_isp)
{
	struct dp_ulid_key k;
	struct dp_ctx *c;
	bool egress;

	if (m->isp >= n_isp)
		return DPMSG_ERR_PORT;
	if (!locs_ok(m->local_loc, m->remote_loc) || !locs_ok(m->local_ulid, m->remote_ulid))
		return DPMSG_ERR_INVAL;
	if (dp_ctx_by_tag(t, m->own_tag))
		return DPMSG_ERR_EXISTS;
	memcpy(k.local, m->local_ulid, 16);
	memcpy(k.remote, m->remote_ulid, 16);
	egress = dp_ctx_by_ulid(t, k.local) == NULL;
	if (!egress && m->fii == 0)
		return DPMSG_ERR_EXISTS; /* only forked instances may share a ULID pair */
	if (t->n_ctx >= t->cap)
		return DPMSG_ERR_FULL;
	dp_tables_reclaim(t, t->n_slot_free < 2);
	if (t->n_slot_free < 2)
		return DPMSG_ERR_INTERNAL; /* cannot happen: slots beyond cap cover the queue */
	c = &t->slots[t->slot_free[--t->n_slot_free]];
	memset(c, 0, sizeof(*c));
	memcpy(c->local_ulid, m->local_ulid, 16);
	memcpy(c->remote_ulid, m->remote_ulid, 16);
	memcpy(c->local_loc, m->local_loc, 16);
	memcpy(c->remote_loc, m->remote_loc, 16);
	c->peer_tag = m->peer_tag;
	c->own_tag = m->own_tag;
	c->fii = m->fii;
	c->flags = m->flags;
	c->isp = m->isp;
	if (dp_lut_add(&t->l_tag, dp_hash_tag(c->own_tag), slot_of(t, c)) != DP_LUT_OK)
		goto full;
	if (egress && dp_lut_add(&t->l_ulid, dp_hash_ulid(k.local), slot_of(t, c)) != DP_LUT_OK) {
		/* readers may have found it by its tag already */
		(void)dp_lut_del(&t->l_tag, dp_hash_tag(c->own_tag), slot_of(t, c));
		sync_readers(t);
		goto full;
	}
	if (rte_hash_lookup(t->h_ptag, &c->peer_tag) < 0)
		(void)rte_hash_add_key_data(t->h_ptag, &c->peer_tag, c); /* best effort */
	t->n_ctx++;
	return 0;
full:
	t->slot_free[t->n_slot_free++] = (uint32_t)(c - t->slots);
	return DPMSG_ERR_FULL;
}

int dp_ctx_mod(struct dp_tables *t, const struct dpmsg_ctx_mod *m, unsigned n_isp)
{
	struct dp_ctx *old = dp_ctx_by_tag(t, m->ctx.own_tag), *c;
	int32_t ppos = -1;

	if (!old)
		return DPMSG_ERR_NOTFOUND;
	if ((m->what & DPMSG_MOD_LOCATORS) && m->ctx.isp >= n_isp)
		return DPMSG_ERR_PORT;
	if ((m->what & DPMSG_MOD_LOCATORS) && !locs_ok(m->ctx.local_loc, m->ctx.remote_loc))
		return DPMSG_ERR_INVAL;
	dp_tables_reclaim(t, t->n_slot_free == 0);
	if (t->n_slot_free == 0)
		return DPMSG_ERR_INTERNAL;
	c = &t->slots[t->slot_free[--t->n_slot_free]];
	*c = *old;
	if (m->what & DPMSG_MOD_LOCATORS) {
		memcpy(c->local_loc, m->ctx.local_loc, 16);
		memcpy(c->remote_loc, m->ctx.remote_loc, 16);
		c->isp = m->ctx.isp;
	}
	if (m->what & DPMSG_MOD_PEER_TAG)
		c->peer_tag = m->ctx.peer_tag;
	if (m->what & DPMSG_MOD_FLAGS)
		c->flags = m->ctx.flags;
	/* publish: each replace is one store; an add over an existing key in the
	 * peer-tag rte_hash replaces its data pointer atomically */
	(void)dp_lut_replace(&t->l_ulid, dp_hash_ulid(old->local_ulid), slot_of(t, old), slot_of(t, c));
	(void)dp_lut_replace(&t->l_tag, dp_hash_tag(c->own_tag), slot_of(t, old), slot_of(t, c));
	if (c->peer_tag != old->peer_tag) {
		if (maps_to(t->h_ptag, &old->peer_tag, old))
			ppos = rte_hash_del_key(t->h_ptag, &old->peer_tag);
		if (rte_hash_lookup(t->h_ptag, &c->peer_tag) < 0)
			(void)rte_hash_add_key_data(t->h_ptag, &c->peer_tag, c);
	} else if (maps_to(t->h_ptag, &c->peer_tag, old)) {
		(void)rte_hash_add_key_data(t->h_ptag, &c->peer_tag, c);
	}
	defer(t, slot_of(t, old), &old->own_tag, ppos);
	return 0;
}

int dp_ctx_del(struct dp_tables *t, uint64_t own_tag)
{
	struct dp_ctx *c = dp_ctx_by_tag(t, own_tag);
	int32_t p3 = -1;

	if (!c)
		return DPMSG_ERR_NOTFOUND;
	(void)dp_lut_del(&t->l_ulid, dp_hash_ulid(c->local_ulid), slot_of(t, c));
	(void)dp_lut_del(&t->l_tag, dp_hash_tag(c->own_tag), slot_of(t, c));
	if (maps_to(t->h_ptag, &c->peer_tag, c))
		p3 = rte_hash_del_key(t->h_ptag, &c->peer_tag);
	defer(t, slot_of(t, c), NULL, p3);
	t->n_ctx--;
	return 0;
}

int dp_host_add(struct dp_tables *t, const struct dpmsg_host *m)
{
	struct dp_host *h;

	if (m->nloc == 0 || m->nloc > DP_MAX_ISP)
		return DPMSG_ERR_INVAL;
	if (dp_host_by_cmula(t, m->cmula))
		return DPMSG_ERR_EXISTS;
	for (int i = 0; i < m->nloc; i++) {
		if (dp_host_by_loc(t, m->loc[i]))
			return DPMSG_ERR_EXISTS;
		for (int j = 0; j < i; j++)
			if (!memcmp(m->loc[i], m->loc[j], 16))
				return DPMSG_ERR_INVAL;
	}
	if (t->n_host_free == 0)
		return DPMSG_ERR_FULL;
	h = &t->hosts[t->host_free[--t->n_host_free]];
	memcpy(h->cmula, m->cmula, 16);
	h->nloc = m->nloc;
	memcpy(h->loc, m->loc, sizeof(h->loc));
	for (int i = 0; i < h->nloc; i++) {
		if (rte_hash_add_key_data(t->h_hostloc, h->loc[i], h) < 0) {
			int32_t pos[DP_MAX_ISP];
			for (int j = 0; j < i; j++)
				pos[j] = rte_hash_del_key(t->h_hostloc, h->loc[j]);
			sync_readers(t);
			for (int j = 0; j < i; j++)
				if (pos[j] >= 0)
					rte_hash_free_key_with_position(t->h_hostloc, pos[j]);
			t->host_free[t->n_host_free++] = (uint32_t)(h - t->hosts);
			return DPMSG_ERR_FULL;
		}
	}
	if (rte_hash_add_key_data(t->h_host, h->cmula, h) < 0) {
		int32_t pos[DP_MAX_ISP];
		for (int j = 0; j < h->nloc; j++)
			pos[j] = rte_hash_del_key(t->h_hostloc, h->loc[j]);
		sync_readers(t);
		for (int j = 0; j < h->nloc; j++)
			if (pos[j] >= 0)
				rte_hash_free_key_with_position(t->h_hostloc, pos[j]);
		t->host_free[t->n_host_free++] = (uint32_t)(h - t->hosts);
		return DPMSG_ERR_FULL;
	}
	t->n_host++;
	return 0;
}

int dp_host_del(struct dp_tables *t, const uint8_t cmula[16])
{
	struct dp_host *h = dp_host_by_cmula(t, cmula);
	int32_t p, pos[DP_MAX_ISP];

	if (!h)
		return DPMSG_ERR_NOTFOUND;
	p = rte_hash_del_key(t->h_host, h->cmula);
	for (int j = 0; j < h->nloc; j++)
		pos[j] = rte_hash_del_key(t->h_hostloc, h->loc[j]);
	sync_readers(t);
	if (p >= 0)
		rte_hash_free_key_with_position(t->h_host, p);
	for (int j = 0; j < h->nloc; j++)
		if (pos[j] >= 0)
			rte_hash_free_key_with_position(t->h_hostloc, pos[j]);
	t->host_free[t->n_host_free++] = (uint32_t)(h - t->hosts);
	t->n_host--;
	return 0;
}

void dp_ctx_to_msg(const struct dp_ctx *c, struct dpmsg_ctx *o)
{
	memcpy(o->local_ulid, c->local_ulid, 16);
	memcpy(o->remote_ulid, c->remote_ulid, 16);
	memcpy(o->local_loc, c->local_loc, 16);
	memcpy(o->remote_loc, c->remote_loc, 16);
	o->peer_tag = c->peer_tag;
	o->own_tag = c->own_tag;
	o->fii = c->fii;
	o->flags = c->flags;
	o->isp = c->isp;
}

/* The newest stamp of each direction over all readers, on the wrapping clock (0 = never). */
static void latest_ms(const struct dp_ctx *c, uint32_t last[2])
{
	last[0] = last[1] = 0;
	for (unsigned r = 0; r < DP_CTX_STAMPS; r++)
		for (unsigned k = 0; k < 2; k++) {
			uint32_t v = __atomic_load_n(&c->stamp[r][k], __ATOMIC_RELAXED);
			if (ms_after(v, last[k]))
				last[k] = v;
		}
}

/*
 * Stamp `ms` to CLOCK_MONOTONIC, `ms_full` being now on the full clock: the
 * stamp's millisecond on the full clock (the 32-bit one wraps after 49
 * days), at its start.  The result must depend on the stamp alone, not on
 * when it is read: control takes a later value for new traffic.
 */
static uint64_t ms_to_ns(const struct dp_tables *t, uint64_t ms_full, uint32_t ms)
{
	int64_t m;

	if (!ms)
		return 0;
	m = (int64_t)ms_full - (int32_t)((uint32_t)ms_full - ms);
	return m > 0 ? t->mono0_ns + (uint64_t)m * 1000000u : t->mono0_ns + 1;
}

/* Now on the stamps' full clock, from CLOCK_MONOTONIC itself.  Times are
 * compared as differences from mono0_ns, modulo 2^64, so that the suite can
 * date the tables weeks back on a machine up for minutes. */
static uint64_t ms_full_now(const struct dp_tables *t)
{
	uint64_t d = dp_mono_ns() - t->mono0_ns;
	return (int64_t)d > 0 ? d / 1000000u : 0;
}

void dp_tables_clock_sync(struct dp_tables *t, uint64_t tsc, uint64_t mono_ns_now)
{
	struct dp_stamp_clock *k = &t->clk;
	uint64_t per = k->per_ms, ns, into, base;

	if ((int64_t)(mono_ns_now - t->mono0_ns) <= 0 || tsc <= k->first_tsc)
		return;
	/* the rate over the whole run: a late read of either clock weighs
	 * less the longer the span */
	if (mono_ns_now - k->first_ns >= 1000000000u)
		per = (uint64_t)((double)(tsc - k->first_tsc) * 1e6 / (double)(mono_ns_now - k->first_ns));
	if (!per)
		per = 1;
	ns = mono_ns_now - t->mono0_ns;
	into = ns % 1000000u;
	base = tsc - (uint64_t)((double)into * (double)per / 1e6);
	__atomic_store_n(&k->seq, k->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&k->ms, (uint32_t)(ns / 1000000u), __ATOMIC_RELAXED);
	__atomic_store_n(&k->tsc, base, __ATOMIC_RELAXED);
	__atomic_store_n(&k->per_ms, per, __ATOMIC_RELAXED);
	__atomic_store_n(&k->seq, k->seq + 1, __ATOMIC_RELEASE);
}

void dp_tables_clock_now(struct dp_tables *t)
{
	uint64_t a = rte_rdtsc(), ns = dp_mono_ns(), b = rte_rdtsc();

	/* interrupted between the reads (over 20 us): the pair is not one instant */
	if (b - a > rte_get_tsc_hz() / 50000)
		return;
	dp_tables_clock_sync(t, a + (b - a) / 2, ns);
}

int dp_ctx_stamps(struct dp_tables *t, uint64_t own_tag, uint64_t *sent, uint64_t *recv)
{
	struct dp_ctx *c = dp_ctx_by_tag(t, own_tag);
	uint64_t ms_full;
	uint32_t last[2];

	*sent = *recv = 0;
	if (!c)
		return -1;
	ms_full = ms_full_now(t);
	latest_ms(c, last);
	*sent = ms_to_ns(t, ms_full, last[0]);
	*recv = ms_to_ns(t, ms_full, last[1]);
	return 0;
}

struct dp_ctx *dp_ctx_next(struct dp_tables *t, uint32_t *it)
{
	uint32_t slot;
	return dp_lut_next(&t->l_tag, it, &slot) ? &t->slots[slot] : NULL;
}

/*
 * The stamp a context must pass to be reported by a scan since `since`:
 * the millisecond before the one `since` falls in, so that a stamp in that
 * millisecond (maybe later than `since`, maybe not) is reported; a
 * duplicate costs control nothing, a miss keeps REAP deaf.  0 takes every
 * stamp: `since` is 0 or before the tables, or so old that the wrapping
 * clock cannot tell a stamp after it from one long before it.
 */
static uint32_t scan_edge(const struct dp_tables *t, uint64_t since, uint64_t ms_full)
{
	uint64_t ms;

	if (since == 0 || (int64_t)(since - t->mono0_ns) <= 0)
		return 0;
	ms = (since - t->mono0_ns) / 1000000u;
	/* 2^30 ms (12 days): half what the wrapping clock orders, so stamps
	 * taken while this runs are ordered right too */
	if (ms < 2 || (ms_full > ms && ms_full - ms >= UINT64_C(1) << 30))
		return 0;
	return (uint32_t)(ms - 1);
}

#define SCAN_AHEAD 16
/* Index ways a step may read: 4 a context it may look at (a full index has
 * 2 a context) and 4,096 more, so that in a sparse index, where a walk
 * reads mostly empty ways, a step of 65,536 stays near 0.3 ms of the
 * writer's time (it read up to the whole 16 MiB index of a 1,000,000
 * capacity, about 5 ms, with writes waiting). */
#define SCAN_WAYS(max_slots) ((max_slots) * 4u + 4096u)

unsigned dp_ctx_scan(struct dp_tables *t, uint32_t *cursor, uint32_t max_slots, uint64_t since,
		     struct dp_stamps *out, unsigned n_out)
{
	uint64_t ms_full = ms_full_now(t);
	uint32_t edge = scan_edge(t, since, ms_full), it = *cursor, ahead = *cursor, last[2];
	uint32_t ways, ahead_ways, slot;
	unsigned n = 0;
	bool end = false;

	if (max_slots > DPMSG_SCAN_SLOTS_MAX)
		max_slots = DPMSG_SCAN_SLOTS_MAX;
	ways = ahead_ways = SCAN_WAYS(max_slots);
	/* the index's order is not the slots': every look is a miss of its
	 * own, and fetching a few ahead overlaps them (half the time at
	 * 1,000,000 contexts) */
	for (unsigned k = 0; k < SCAN_AHEAD && dp_lut_next_within(&t->l_tag, &ahead, &slot, &ahead_ways) > 0; k++)
		rte_prefetch0(&t->slots[slot].stamp);
	for (uint32_t looked = 0; looked < max_slots && n < n_out; looked++) {
		int r = dp_lut_next_within(&t->l_tag, &it, &slot, &ways);
		if (r <= 0) {
			end = r == 0;
			break;
		}
		const struct dp_ctx *c = &t->slots[slot];
		if (dp_lut_next_within(&t->l_tag, &ahead, &slot, &ahead_ways) > 0)
			rte_prefetch0(&t->slots[slot].stamp);
		latest_ms(c, last);
		if (!ms_after(last[0], edge) && !ms_after(last[1], edge))
			continue;
		out[n].own_tag = c->own_tag;
		out[n].sent = ms_to_ns(t, ms_full, last[0]);
		out[n].recv = ms_to_ns(t, ms_full, last[1]);
		n++;
	}
	/* `it` is just past the last context looked at: nothing before it is left out */
	*cursor = end ? DPMSG_SCAN_END : it;
	return n;
}
