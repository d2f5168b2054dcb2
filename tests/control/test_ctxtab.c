/* control/ctxtab.c: the own-tag index against a plain list under random
 * adds, updates and deletes (clusters, wrap-around and backward shifts on a
 * small table), the bound, and that every entry stays findable where it is. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "test_rng.h"
#include "ctxtab.h"

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void) { return test_rng64(&rng); }

static void check_all(struct ctxtab *t, const uint64_t *ref, uint32_t nref)
{
	assert_int_equal(t->n, nref);
	for (uint32_t i = 0; i < t->n; i++)
		assert_ptr_equal(ctxtab_find(t, t->v[i].d.own_tag), &t->v[i]);
	for (uint32_t i = 0; i < nref; i++) {
		struct ctl_ctx *c = ctxtab_find(t, ref[i]);
		assert_non_null(c);
		assert_true(c->d.own_tag == ref[i]);
		assert_true(c->d.peer_tag == (ref[i] ^ 0x5555));
	}
}

/* Tags from a small pool so that adds hit existing entries and deletes hit
 * absent ones as often as not. */
static void random_ops_match_a_list(void **st)
{
	(void)st;
	enum { CAP = 1000, POOL = 1500, OPS = 300000 };
	static uint64_t pool[POOL], ref[CAP];
	uint32_t nref = 0;
	struct ctxtab t;
	assert_int_equal(ctxtab_init(&t, CAP), 0);
	for (int i = 0; i < POOL; i++)
		pool[i] = next() & 0x7fffffffffffULL;
	for (int op = 0; op < OPS; op++) {
		uint64_t tag = pool[next() % POOL];
		uint32_t at = nref;
		for (uint32_t i = 0; i < nref; i++)
			if (ref[i] == tag)
				at = i;
		if (next() % 3) {
			struct dpmsg_ctx d;
			memset(&d, 0, sizeof d);
			d.own_tag = tag;
			d.peer_tag = tag ^ 0x5555;
			struct ctl_ctx *c = ctxtab_add(&t, &d);
			if (at == nref && nref == CAP) {
				assert_null(c);      /* full: refused, nothing changed */
			} else {
				assert_non_null(c);
				if (at == nref)
					ref[nref++] = tag;
			}
		} else {
			int rc = ctxtab_del(&t, tag);
			if (at == nref) {
				assert_int_equal(rc, -ENOENT);
			} else {
				assert_int_equal(rc, 0);
				ref[at] = ref[--nref];
			}
			assert_null(ctxtab_find(&t, tag));
		}
		if (op % 997 == 0)
			check_all(&t, ref, nref);
	}
	check_all(&t, ref, nref);
	/* empty it: nothing is left behind in the index */
	while (nref)
		assert_int_equal(ctxtab_del(&t, ref[--nref]), 0);
	assert_int_equal(t.n, 0);
	for (uint32_t s = 0; s <= t.ix.mask; s++)
		assert_int_equal(t.ix.slot[s], 0);
	ctxtab_free(&t);
}

/* A full table of a million: every tag found, and found fast enough that a
 * dump or a takeover of that size is linear (about a second at worst here,
 * where a scan per lookup took hours). */
static void a_million(void **st)
{
	(void)st;
	enum { N = 1000000 };
	struct ctxtab t;
	struct dpmsg_ctx d;
	memset(&d, 0, sizeof d);
	assert_int_equal(ctxtab_init(&t, N), 0);
	for (uint32_t i = 0; i < N; i++) {
		d.own_tag = 0x100000 + i;      /* sequential, as fake_dp and dpctl fill make them */
		d.peer_tag = d.own_tag ^ 0x5555;
		assert_non_null(ctxtab_add(&t, &d));
	}
	d.own_tag = 1;
	assert_null(ctxtab_add(&t, &d));
	for (uint32_t i = 0; i < N; i++) {
		struct ctl_ctx *c = ctxtab_find(&t, 0x100000 + i);
		assert_non_null(c);
		assert_true(c->d.own_tag == 0x100000 + i);
	}
	assert_null(ctxtab_find(&t, 0x100000 + N));
	for (uint32_t i = 0; i < N; i += 2)
		assert_int_equal(ctxtab_del(&t, 0x100000 + i), 0);
	assert_int_equal(t.n, N / 2);
	for (uint32_t i = 1; i < N; i += 2)
		assert_non_null(ctxtab_find(&t, 0x100000 + i));
	ctxtab_free(&t);
}

/* clear forgets everything, index included: a cleared table takes the
 * same tags again (a release of all contexts, a restarted dataplane). */
static void clear_forgets_the_index(void **st)
{
	(void)st;
	struct ctxtab t;
	struct dpmsg_ctx d;
	memset(&d, 0, sizeof d);
	assert_int_equal(ctxtab_init(&t, 100), 0);
	for (int round = 0; round < 3; round++) {
		for (uint64_t i = 0; i < 100; i++) {
			d.own_tag = 1000 + i;
			assert_non_null(ctxtab_add(&t, &d));
		}
		assert_int_equal(t.n, 100);
		ctxtab_clear(&t);
		assert_int_equal(t.n, 0);
		for (uint64_t i = 0; i < 100; i++) {
			assert_null(ctxtab_find(&t, 1000 + i));
			assert_int_equal(ctxtab_del(&t, 1000 + i), -ENOENT);
		}
	}
	ctxtab_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_ops_match_a_list),
		cmocka_unit_test(a_million),
		cmocka_unit_test(clear_forgets_the_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
