/* The dataplane channel's output queue (control/dp_outq.c): order, the
 * exact bound, a refused push that changes nothing, and memory given back
 * once a burst is out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "dp_outq.h"

static void fill(uint8_t *b, uint16_t len, uint32_t k)
{
	for (uint16_t i = 0; i < len; i++)
		b[i] = (uint8_t)(k * 31 + i);
}

static bool pop_is(struct dp_outq *q, uint16_t want_len, uint32_t k)
{
	uint8_t want[4096];
	uint16_t len;
	const uint8_t *m = dp_outq_peek(q, &len);
	fill(want, want_len, k);
	bool ok = m && len == want_len && !memcmp(m, want, len);
	dp_outq_pop(q);
	return ok;
}

/* Records of every length from 1 to 4096 come out as they went in, across
 * growth and the slide of live records to the front. */
static void order_and_content(void **st)
{
	(void)st;
	struct dp_outq q;
	uint8_t b[4096];
	dp_outq_init(&q, 64u << 20);
	uint32_t in = 0, out = 0;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 5000; i++, in++) {
			uint16_t len = (uint16_t)(1 + (in * 7919) % 4096);
			fill(b, len, in);
			assert_int_equal(dp_outq_push(&q, b, len), 0);
		}
		/* take out most of it, then push more behind what is left */
		for (int i = 0; i < 4000; i++, out++)
			assert_true(pop_is(&q, (uint16_t)(1 + (out * 7919) % 4096), out));
	}
	while (q.n) {
		assert_true(pop_is(&q, (uint16_t)(1 + (out * 7919) % 4096), out));
		out++;
	}
	assert_int_equal(out, in);
	assert_int_equal(q.queued, in);
	assert_null(dp_outq_peek(&q, &(uint16_t){ 0 }));
	assert_int_equal(dp_outq_bytes(&q), 0);
	assert_null(q.buf);              /* the burst's memory went back */
	dp_outq_free(&q);
}

/* The bound counts each record with its 2-octet length: the push that
 * would pass it fails and leaves the queue as it was. */
static void bound_is_exact(void **st)
{
	(void)st;
	struct dp_outq q;
	uint8_t b[100];
	fill(b, sizeof b, 1);
	dp_outq_init(&q, 10 * 102);
	for (int i = 0; i < 10; i++)
		assert_int_equal(dp_outq_push(&q, b, 100), 0);
	assert_int_equal(dp_outq_bytes(&q), 1020);
	assert_int_equal(dp_outq_push(&q, b, 1), -1);
	assert_int_equal(q.n, 10);
	assert_int_equal(dp_outq_bytes(&q), 1020);
	assert_int_equal(q.hwm, 1020);
	dp_outq_pop(&q);
	assert_int_equal(dp_outq_push(&q, b, 100), 0);
	assert_int_equal(dp_outq_push(&q, b, 0), -1);   /* even an empty record needs its length */
	dp_outq_free(&q);
}

/* clear drops what waits but keeps the counters and the bound; free
 * also returns the memory.  The queue works again after either. */
static void clear_and_free(void **st)
{
	(void)st;
	struct dp_outq q;
	uint8_t b[3000];
	fill(b, sizeof b, 2);
	dp_outq_init(&q, 1u << 20);
	for (int i = 0; i < 100; i++)
		assert_int_equal(dp_outq_push(&q, b, sizeof b), 0);
	uint64_t hwm = q.hwm;
	dp_outq_clear(&q);
	assert_int_equal(q.n, 0);
	assert_int_equal(dp_outq_bytes(&q), 0);
	assert_int_equal(q.queued, 100);
	assert_int_equal(q.hwm, hwm);
	assert_int_equal(q.max, 1u << 20);
	assert_int_equal(dp_outq_push(&q, b, 10), 0);
	dp_outq_free(&q);
	assert_null(q.buf);
	assert_int_equal(q.n, 0);
	assert_int_equal(q.queued, 101);
	assert_int_equal(dp_outq_push(&q, b, 10), 0);
	assert_true(pop_is(&q, 10, 2));
	dp_outq_free(&q);
}

/* A record one byte over the bound is refused even into an empty queue. */
static void bound_refuses_one_over(void **st)
{
	(void)st;
	struct dp_outq q;
	uint8_t b[16];
	fill(b, sizeof b, 3);
	dp_outq_init(&q, 10);
	assert_int_equal(dp_outq_push(&q, b, 9), -1);
	assert_int_equal(q.n, 0);
	assert_int_equal(dp_outq_push(&q, b, 8), 0);
	dp_outq_free(&q);
}

/* Growing never allocates more than the bound plus the 64 KiB a drained
 * queue keeps, even when doubling would overshoot it. */
static void growth_capped_by_the_bound(void **st)
{
	(void)st;
	static uint8_t b[65535];
	struct dp_outq q;
	dp_outq_init(&q, 140000);
	assert_int_equal(dp_outq_push(&q, b, 65533), 0);
	assert_int_equal(dp_outq_push(&q, b, 65533), 0);
	assert_int_equal(dp_outq_push(&q, b, 8928), 0);
	assert_int_equal(dp_outq_bytes(&q), 140000);
	assert_true(q.cap <= q.max + (64u << 10));
	dp_outq_free(&q);
}

/* clear gives a burst's memory back, as draining it does. */
static void clear_returns_burst_memory(void **st)
{
	(void)st;
	static uint8_t b[3000];
	struct dp_outq q;
	dp_outq_init(&q, 1u << 20);
	for (int i = 0; i < 100; i++)
		assert_int_equal(dp_outq_push(&q, b, sizeof b), 0);
	assert_true(q.cap > (64u << 10));
	dp_outq_clear(&q);
	assert_null(q.buf);
	assert_int_equal(q.cap, 0);
	dp_outq_free(&q);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(order_and_content),
		cmocka_unit_test(bound_is_exact),
		cmocka_unit_test(clear_and_free),
		cmocka_unit_test(bound_refuses_one_over),
		cmocka_unit_test(growth_capped_by_the_bound),
		cmocka_unit_test(clear_returns_burst_memory),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
