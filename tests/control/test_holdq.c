/* The hold queue (control/holdq.c) on a fake clock: the per-context limit
 * and the total, release order with contexts interleaved, drops, expiry of
 * the front only and mixed with releases, a long random run against the
 * flat array proxy.c had (kept here as the reference), and a punt's cost
 * counted in entries touched, which must not grow with the queue.  After
 * each step the two lists, the index and the free lists are walked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "holdq.h"

#define S UINT64_C(1000000000)
#define MAX_AGE (10 * S)

static uint64_t clk;

/* ---- packets: a serial number in the first bytes, then a pattern ---------- */

static uint32_t pkt(uint8_t *b, uint32_t serial, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		b[i] = (uint8_t)(serial * 7 + i);
	memcpy(b, &serial, sizeof serial);
	return len;
}

static int add(struct holdq *q, uint64_t id, uint32_t serial, uint32_t limit)
{
	uint8_t b[64];
	return holdq_add(q, id, b, pkt(b, serial, 8 + serial % 56), clk, limit);
}

/* What release handed over, checked whole. */
static uint32_t sent[4096];
static unsigned nsent;

static void rec(void *arg, const uint8_t *data, uint32_t len)
{
	(void)arg;
	uint32_t serial;
	uint8_t want[64];
	assert_true(len >= sizeof serial && len <= sizeof want);
	memcpy(&serial, data, sizeof serial);
	pkt(want, serial, len);
	assert_memory_equal(data, want, len);
	assert_true(nsent < sizeof sent / sizeof *sent);
	sent[nsent++] = serial;
}

static void sent_is(const uint32_t *want, unsigned n)
{
	assert_int_equal(nsent, n);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(sent[i], want[i]);
	nsent = 0;
}

/* ---- the structure, walked -------------------------------------------------- */

static void check(const struct holdq *q)
{
	uint32_t *pos = calloc(q->cap + 1, sizeof *pos), *seen = calloc(q->cap + 1, sizeof *seen);
	assert_non_null(pos);
	assert_non_null(seen);
	uint32_t n = 0, prev = HOLDQ_NIL, nctx = 0, chained = 0;
	for (uint32_t p = q->head; p != HOLDQ_NIL; p = q->pkt[p].next) {
		assert_true(p < q->cap && n < q->cap && !pos[p]);
		pos[p] = ++n;
		assert_int_equal(q->pkt[p].prev, prev);
		assert_non_null(q->pkt[p].data);
		if (prev != HOLDQ_NIL)
			assert_true(q->pkt[prev].at <= q->pkt[p].at);
		prev = p;
	}
	assert_int_equal(q->tail, prev);
	assert_int_equal(n, q->n);
	/* every held packet's context is indexed, its chain runs in FIFO order
	 * through held packets only, and the chains hold them all once */
	for (uint32_t p = q->head; p != HOLDQ_NIL; p = q->pkt[p].next) {
		uint32_t r = q->pkt[p].ctx;
		assert_true(r < q->cap);
		if (seen[r]++)
			continue;
		nctx++;
		const struct holdq_ctx *c = &q->ctx[r];
		assert_int_equal(tagidx_find(&q->ix, c->id), r + 1);
		uint32_t k = 0, last = 0, t = HOLDQ_NIL;
		for (uint32_t e = c->head; e != HOLDQ_NIL; e = q->pkt[e].cnext) {
			assert_true(e < q->cap && pos[e] > last && q->pkt[e].ctx == r);
			last = pos[e];
			t = e;
			k++;
		}
		assert_int_equal(t, c->tail);
		assert_int_equal(k, c->n);
		chained += k;
	}
	assert_int_equal(chained, n);
	uint32_t f = 0;
	for (uint32_t p = q->free_pkt; p != HOLDQ_NIL; p = q->pkt[p].next, f++)
		assert_true(p < q->cap && !pos[p] && f < q->cap);
	assert_int_equal(f, q->cap - n);
	f = 0;
	for (uint32_t r = q->free_ctx; r != HOLDQ_NIL; r = q->ctx[r].head, f++)
		assert_true(r < q->cap && !seen[r] && f < q->cap);
	assert_int_equal(f, q->cap - nctx);
	free(pos);
	free(seen);
}

/* ---- cases -------------------------------------------------------------------- */

/* `limit` per context, exactly; other contexts unaffected; a release makes
 * room again. */
static void per_context_limit(void **st)
{
	(void)st;
	struct holdq q;
	assert_int_equal(holdq_init(&q, 16, MAX_AGE), 0);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(add(&q, 7, i, 3), 0);
	assert_int_equal(add(&q, 7, 3, 3), HOLDQ_ELIMIT);
	assert_int_equal(holdq_count(&q, 7), 3);
	assert_int_equal(add(&q, 8, 4, 3), 0);
	assert_int_equal(add(&q, 7, 5, 4), 0);     /* a larger limit after a reload */
	assert_int_equal(add(&q, 7, 6, 4), HOLDQ_ELIMIT);
	assert_int_equal(add(&q, 9, 7, 0), HOLDQ_ELIMIT);
	assert_int_equal(holdq_count(&q, 9), 0);
	assert_int_equal(q.n, 5);
	check(&q);
	assert_int_equal(holdq_release(&q, 7, rec, NULL), 4);
	sent_is((uint32_t[]){ 0, 1, 2, 5 }, 4);
	assert_int_equal(add(&q, 7, 8, 1), 0);
	assert_int_equal(add(&q, 7, 9, 1), HOLDQ_ELIMIT);
	check(&q);
	holdq_free(&q);
}

/* `cap` in all: the next is refused, for a new context and for one under
 * its limit alike; a release frees slots that are used again. */
static void capacity_full(void **st)
{
	(void)st;
	struct holdq q;
	assert_int_equal(holdq_init(&q, 4, MAX_AGE), 0);
	assert_int_equal(add(&q, 1, 0, 8), 0);
	assert_int_equal(add(&q, 2, 1, 8), 0);
	assert_int_equal(add(&q, 3, 2, 8), 0);
	assert_int_equal(add(&q, 1, 3, 8), 0);
	assert_int_equal(add(&q, 4, 4, 8), HOLDQ_EFULL);
	assert_int_equal(add(&q, 1, 5, 8), HOLDQ_EFULL);
	assert_int_equal(q.n, 4);
	assert_int_equal(holdq_count(&q, 4), 0);
	check(&q);
	assert_int_equal(holdq_release(&q, 1, NULL, NULL), 2);
	assert_int_equal(add(&q, 4, 6, 8), 0);
	assert_int_equal(add(&q, 4, 7, 8), 0);
	assert_int_equal(add(&q, 4, 8, 8), HOLDQ_EFULL);
	check(&q);
	assert_int_equal(holdq_release(&q, 4, rec, NULL), 2);
	sent_is((uint32_t[]){ 6, 7 }, 2);

	struct holdq z;   /* nothing fits in none */
	assert_int_equal(holdq_init(&z, 0, MAX_AGE), 0);
	assert_int_equal(add(&z, 1, 0, 8), HOLDQ_EFULL);
	assert_int_equal(holdq_deadline(&z), UINT64_MAX);
	check(&z);
	holdq_free(&z);
	holdq_free(&q);
}

/* Three contexts interleaved: each release sends that context's packets
 * in arrival order and leaves the others as they were. */
static void release_order_interleaved(void **st)
{
	(void)st;
	struct holdq q;
	uint64_t ids[3] = { 0x1234, UINT64_C(0xfedcba9876543210), 0 };
	static const unsigned of[12] = { 0, 2, 2, 1, 0, 1, 2, 0, 1, 1, 0, 2 };
	assert_int_equal(holdq_init(&q, 32, MAX_AGE), 0);
	for (uint32_t i = 0; i < 12; i++) {
		clk += S / 10;
		assert_int_equal(add(&q, ids[of[i]], i, 8), 0);
	}
	check(&q);
	assert_int_equal(holdq_count(&q, ids[2]), 4);
	assert_int_equal(holdq_release(&q, ids[2], rec, NULL), 4);
	sent_is((uint32_t[]){ 1, 2, 6, 11 }, 4);
	check(&q);
	assert_int_equal(holdq_release(&q, ids[2], rec, NULL), 0);
	assert_int_equal(add(&q, ids[1], 12, 8), 0);
	assert_int_equal(holdq_release(&q, ids[1], rec, NULL), 5);
	sent_is((uint32_t[]){ 3, 5, 8, 9, 12 }, 5);
	check(&q);
	assert_int_equal(holdq_release(&q, ids[0], rec, NULL), 4);
	sent_is((uint32_t[]){ 0, 4, 7, 10 }, 4);
	assert_int_equal(q.n, 0);
	assert_int_equal(q.head, HOLDQ_NIL);
	check(&q);
	holdq_free(&q);
}

/* A drop sends nothing, frees the bytes (ASan: no leak), and the context
 * is gone: its next packet starts a new chain. */
static void drop_without_send(void **st)
{
	(void)st;
	struct holdq q;
	assert_int_equal(holdq_init(&q, 8, MAX_AGE), 0);
	assert_int_equal(add(&q, 5, 0, 8), 0);
	assert_int_equal(add(&q, 6, 1, 8), 0);
	assert_int_equal(add(&q, 5, 2, 8), 0);
	assert_int_equal(holdq_release(&q, 5, NULL, NULL), 2);
	assert_int_equal(nsent, 0);
	assert_int_equal(holdq_count(&q, 5), 0);
	assert_int_equal(q.n, 1);
	check(&q);
	assert_int_equal(add(&q, 5, 3, 8), 0);
	assert_int_equal(holdq_release(&q, 5, rec, NULL), 1);
	sent_is((uint32_t[]){ 3 }, 1);
	holdq_free(&q);   /* with 6's packet still held */
}

/* At max_age exactly the front goes, and only what is that old; the
 * deadline is always the front's. */
static void expiry_oldest_only(void **st)
{
	(void)st;
	struct holdq q;
	uint64_t t0 = clk = 100 * S;
	assert_int_equal(holdq_init(&q, 8, MAX_AGE), 0);
	assert_int_equal(holdq_deadline(&q), UINT64_MAX);
	assert_int_equal(holdq_expire(&q, clk + 60 * S), 0);
	assert_int_equal(add(&q, 1, 0, 8), 0);
	clk += S;
	assert_int_equal(add(&q, 2, 1, 8), 0);
	assert_int_equal(add(&q, 1, 2, 8), 0);
	clk += S;
	assert_int_equal(add(&q, 2, 3, 8), 0);
	assert_int_equal(holdq_deadline(&q), t0 + MAX_AGE);
	assert_int_equal(holdq_expire(&q, t0 + MAX_AGE - 1), 0);
	assert_int_equal(q.n, 4);
	assert_int_equal(holdq_expire(&q, t0 + MAX_AGE), 1);
	assert_int_equal(holdq_count(&q, 1), 1);
	assert_int_equal(holdq_count(&q, 2), 2);
	assert_int_equal(holdq_deadline(&q), t0 + S + MAX_AGE);
	check(&q);
	assert_int_equal(holdq_expire(&q, t0 + S + MAX_AGE), 2);
	assert_int_equal(holdq_count(&q, 1), 0);
	assert_int_equal(holdq_count(&q, 2), 1);
	assert_int_equal(holdq_deadline(&q), t0 + 2 * S + MAX_AGE);
	check(&q);
	assert_int_equal(holdq_release(&q, 2, rec, NULL), 1);
	sent_is((uint32_t[]){ 3 }, 1);
	assert_int_equal(holdq_deadline(&q), UINT64_MAX);
	holdq_free(&q);
}

/* Expiry takes the front of a context's chain, releases take chains out
 * of the middle of the FIFO: neither leaves the other list pointing at a
 * freed packet (a release after an expiry sends only the living; ASan
 * would see a freed one read). */
static void expiry_between_releases(void **st)
{
	(void)st;
	struct holdq q;
	uint64_t t0 = clk = 50 * S;
	assert_int_equal(holdq_init(&q, 8, MAX_AGE), 0);
	for (uint32_t i = 0; i < 8; i++) {
		assert_int_equal(add(&q, 10 + i % 3, i, 8), 0);   /* 10: 0 3 6  11: 1 4 7  12: 2 5 */
		clk += S;
	}
	assert_int_equal(holdq_release(&q, 11, NULL, NULL), 3);
	check(&q);
	/* 0 and 2 are 10 s old; 1 was between them and is gone already */
	assert_int_equal(holdq_expire(&q, t0 + 2 * S + MAX_AGE), 2);
	check(&q);
	assert_int_equal(holdq_count(&q, 10), 2);
	assert_int_equal(holdq_count(&q, 12), 1);
	assert_int_equal(add(&q, 12, 8, 8), 0);
	assert_int_equal(holdq_release(&q, 12, rec, NULL), 2);
	sent_is((uint32_t[]){ 5, 8 }, 2);
	check(&q);
	assert_int_equal(holdq_expire(&q, t0 + 3 * S + MAX_AGE), 1);
	assert_int_equal(holdq_release(&q, 10, rec, NULL), 1);
	sent_is((uint32_t[]){ 6 }, 1);
	assert_int_equal(q.n, 0);
	check(&q);
	/* every slot is used again */
	for (uint32_t i = 0; i < 8; i++)
		assert_int_equal(add(&q, 20 + i, 100 + i, 1), 0);
	assert_int_equal(add(&q, 99, 108, 1), HOLDQ_EFULL);
	check(&q);
	holdq_free(&q);
}

/* ---- the reference: proxy.c's flat array, as it was ------------------------- */

struct ref_held { uint64_t id, at; uint32_t serial; };
struct ref { struct ref_held *q; unsigned n, cap; };

static unsigned ref_count(const struct ref *r, uint64_t id)
{
	unsigned n = 0;
	for (unsigned i = 0; i < r->n; i++)
		n += r->q[i].id == id;
	return n;
}

static int ref_add(struct ref *r, uint64_t id, uint32_t serial, uint32_t limit)
{
	if (r->n >= r->cap)
		return HOLDQ_EFULL;
	if (ref_count(r, id) >= limit)
		return HOLDQ_ELIMIT;
	r->q[r->n++] = (struct ref_held){ .id = id, .at = clk, .serial = serial };
	return 0;
}

static unsigned ref_release(struct ref *r, uint64_t id, uint32_t *out)
{
	unsigned w = 0, k = 0;
	for (unsigned i = 0; i < r->n; i++)
		if (r->q[i].id == id)
			out[k++] = r->q[i].serial;
		else
			r->q[w++] = r->q[i];
	r->n = w;
	return k;
}

static unsigned ref_expire(struct ref *r, uint64_t now)
{
	unsigned n = 0;
	while (n < r->n && now - r->q[n].at >= MAX_AGE)
		n++;
	memmove(r->q, r->q + n, (r->n - n) * sizeof *r->q);
	r->n -= n;
	return n;
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* 1,000,000 random adds, sends, drops and expiries over 40 ids (some
 * sharing the index's home slots) into 64 slots: every result, every
 * released sequence, the counts and the deadline match the reference at
 * every step, and the slots are reused throughout. */
static void random_against_reference(void **st)
{
	(void)st;
	enum { CAP = 64, IDS = 40, STEPS = 1000000 };
	struct holdq q;
	struct ref r = { .q = calloc(CAP, sizeof(struct ref_held)), .cap = CAP };
	uint64_t ids[IDS];
	uint32_t want[CAP];
	assert_non_null(r.q);
	for (unsigned i = 0; i < IDS; i++)
		ids[i] = i < IDS / 2 ? rnd() : i * UINT64_C(0x100000000);   /* high bits only for half */
	assert_int_equal(holdq_init(&q, CAP, MAX_AGE), 0);
	clk = 7 * S;
	uint32_t serial = 0;
	uint64_t held = 0, refused = 0, sent_n = 0, expired = 0;
	for (unsigned step = 0; step < STEPS; step++) {
		uint64_t id = ids[rnd() % IDS];
		unsigned op = (unsigned)(rnd() % 100);
		uint32_t limit = 1 + (uint32_t)(rnd() % 6);
		clk += rnd() % (S / 4);
		if (op < 60) {
			int a = add(&q, id, serial, limit), b = ref_add(&r, id, serial, limit);
			assert_int_equal(a, b);
			held += a == 0;
			refused += a != 0;
			serial++;
		} else if (op < 85) {
			bool send = op < 75;
			unsigned k = ref_release(&r, id, want);
			assert_int_equal(holdq_release(&q, id, send ? rec : NULL, NULL), k);
			sent_is(want, send ? k : 0);
			sent_n += k;
		} else {
			unsigned k = ref_expire(&r, clk);
			assert_int_equal(holdq_expire(&q, clk), k);
			expired += k;
		}
		assert_int_equal(q.n, r.n);
		assert_int_equal(holdq_count(&q, id), ref_count(&r, id));
		assert_int_equal(holdq_deadline(&q), r.n ? r.q[0].at + MAX_AGE : UINT64_MAX);
		if (step % 16 == 0)
			check(&q);
	}
	for (unsigned i = 0; i < IDS; i++)
		assert_int_equal(holdq_count(&q, ids[i]), ref_count(&r, ids[i]));
	/* every path taken many times */
	assert_true(held > 100000 && refused > 10000 && sent_n > 10000 && expired > 10000);
	holdq_free(&q);
	free(r.q);
}

/* A punt for a new context, and a context's release, touch as many
 * entries beside a queue of 4,095 others as beside none (the flat array
 * scanned them all). */
static void cost_independent_of_length(void **st)
{
	(void)st;
	enum { CAP = 4096 };
	struct holdq q;
	assert_int_equal(holdq_init(&q, CAP, MAX_AGE), 0);
	uint64_t v = q.visits;
	assert_int_equal(add(&q, 1, 0, 8), 0);
	uint64_t add_alone = q.visits - v;
	assert_int_equal(add(&q, 1, 1, 8), 0);
	assert_int_equal(add(&q, 1, 2, 8), 0);
	v = q.visits;
	assert_int_equal(holdq_count(&q, 1), 3);
	assert_int_equal(holdq_release(&q, 1, NULL, NULL), 3);
	uint64_t release_alone = q.visits - v;
	assert_int_equal(add(&q, 1, 3, 8), 0);
	v = q.visits;
	assert_int_equal(holdq_expire(&q, holdq_deadline(&q)), 1);
	uint64_t expire_alone = q.visits - v;
	assert_int_equal(q.n, 0);

	for (uint32_t i = 0; i < CAP - 4; i++, clk++)
		assert_int_equal(add(&q, 1000 + i, i, 8), 0);
	v = q.visits;
	assert_int_equal(add(&q, 1, 0, 8), 0);
	assert_int_equal(q.visits - v, add_alone);
	assert_int_equal(add(&q, 1, 1, 8), 0);
	assert_int_equal(add(&q, 1, 2, 8), 0);
	assert_int_equal(q.n, CAP - 1);
	v = q.visits;
	assert_int_equal(holdq_count(&q, 1), 3);
	assert_int_equal(holdq_release(&q, 1, NULL, NULL), 3);
	assert_int_equal(q.visits - v, release_alone);
	/* a refusal at the limit costs no more either */
	assert_int_equal(add(&q, UINT64_C(1) << 40, 9, 1), 0);
	v = q.visits;
	assert_int_equal(add(&q, UINT64_C(1) << 40, 10, 1), HOLDQ_ELIMIT);
	assert_true(q.visits - v <= add_alone);
	/* expiring the front costs the same however many stay */
	v = q.visits;
	assert_int_equal(holdq_expire(&q, holdq_deadline(&q)), 1);
	assert_int_equal(q.visits - v, expire_alone);
	assert_int_equal(q.n, CAP - 4);
	check(&q);
	holdq_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(per_context_limit),
		cmocka_unit_test(capacity_full),
		cmocka_unit_test(release_order_interleaved),
		cmocka_unit_test(drop_without_send),
		cmocka_unit_test(expiry_oldest_only),
		cmocka_unit_test(expiry_between_releases),
		cmocka_unit_test(random_against_reference),
		cmocka_unit_test(cost_independent_of_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
