/* The backup's replica table (control/peer_table.c): the bound and what
 * happens at it, updates in place, deletion keeping every other entry
 * findable (against a reference set), pruning by full-sync epoch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "peer_table.h"

static struct peer_ctx mk(uint64_t tag)
{
	struct peer_ctx c;
	memset(&c, 0, sizeof c);
	c.own_tag = c.st.own_tag = tag;
	c.peer_tag = tag ^ 0x5555;
	c.local_ulid[0] = 0xfd;
	c.local_ulid[15] = (uint8_t)tag;
	c.peer_ulid[0] = 0xfd;
	c.peer_ulid[14] = (uint8_t)(tag >> 8);
	c.peer_ulid[15] = (uint8_t)tag;
	return c;
}

static void test_bound(void **st)
{
	(void)st;
	struct peer_table t;
	assert_int_equal(peer_table_init(&t, 0), -1);
	assert_int_equal(peer_table_init(&t, 4), 0);
	for (uint64_t i = 1; i <= 4; i++) {
		struct peer_ctx c = mk(i);
		assert_int_equal(peer_table_put(&t, &c, 1, i), 1);
	}
	/* full: a new context is refused and counted, nothing is evicted */
	struct peer_ctx c = mk(5);
	assert_int_equal(peer_table_put(&t, &c, 1, 9), -1);
	assert_int_equal(t.st.full, 1);
	assert_int_equal(t.n, 4);
	for (uint64_t i = 1; i <= 4; i++)
		assert_non_null(peer_table_find(&t, i));
	assert_null(peer_table_find(&t, 5));
	/* an update of a held one still works when full */
	c = mk(3);
	c.peer_tag = 77;
	assert_int_equal(peer_table_put(&t, &c, 2, 10), 0);
	assert_int_equal(peer_table_find(&t, 3)->c.peer_tag, 77);
	assert_int_equal(peer_table_find(&t, 3)->gen, 2);
	assert_int_equal(t.st.updates, 1);
	/* room again after a deletion */
	assert_int_equal(peer_table_del(&t, 2), 0);
	assert_int_equal(peer_table_del(&t, 2), -1);
	c = mk(5);
	assert_int_equal(peer_table_put(&t, &c, 1, 11), 1);
	peer_table_free(&t);
}

static void test_find_pair(void **st)
{
	(void)st;
	struct peer_table t;
	assert_int_equal(peer_table_init(&t, 8), 0);
	struct peer_ctx a = mk(0x101), b = mk(0x202);
	peer_table_put(&t, &a, 0, 0);
	peer_table_put(&t, &b, 0, 0);
	assert_ptr_equal(peer_table_find_pair(&t, b.local_ulid, b.peer_ulid)->c.own_tag, 0x202);
	assert_null(peer_table_find_pair(&t, a.local_ulid, b.peer_ulid));
	peer_table_free(&t);
}

/* Random puts and deletes against a plain reference array: after every
 * step each tag is found exactly when the reference holds it. */
static void test_random_against_reference(void **st)
{
	(void)st;
	enum { CAP = 64, TAGS = 200 };
	struct peer_table t;
	assert_int_equal(peer_table_init(&t, CAP), 0);
	uint8_t ref[TAGS] = { 0 };
	unsigned held = 0;
	srand(7);
	for (int step = 0; step < 20000; step++) {
		/* tags that collide in the hash are likely: small range, many steps */
		uint64_t tag = 1 + (uint64_t)(rand() % TAGS);
		if (rand() % 3) {
			struct peer_ctx c = mk(tag);
			int r = peer_table_put(&t, &c, 0, 0);
			if (ref[tag - 1])
				assert_int_equal(r, 0);
			else if (held == CAP)
				assert_int_equal(r, -1);
			else {
				assert_int_equal(r, 1);
				ref[tag - 1] = 1;
				held++;
			}
		} else {
			assert_int_equal(peer_table_del(&t, tag), ref[tag - 1] ? 0 : -1);
			held -= ref[tag - 1];
			ref[tag - 1] = 0;
		}
		assert_int_equal(t.n, held);
		if (step % 97 == 0)
			for (uint64_t k = 1; k <= TAGS; k++) {
				struct peer_replica *r = peer_table_find(&t, k);
				assert_int_equal(r != NULL, ref[k - 1]);
				if (r)
					assert_true(r->c.own_tag == k);
			}
	}
	peer_table_free(&t);
}

static void test_prune(void **st)
{
	(void)st;
	struct peer_table t;
	assert_int_equal(peer_table_init(&t, 16), 0);
	for (uint64_t i = 1; i <= 10; i++) {
		struct peer_ctx c = mk(i);
		peer_table_put(&t, &c, i % 2 ? 5 : 4, 0);
	}
	assert_int_equal(peer_table_prune(&t, 5), 5);
	assert_int_equal(t.n, 5);
	assert_int_equal(t.st.pruned, 5);
	for (uint64_t i = 1; i <= 10; i++)
		assert_int_equal(peer_table_find(&t, i) != NULL, i % 2);
	peer_table_clear(&t);
	assert_int_equal(t.n, 0);
	assert_null(peer_table_find(&t, 1));
	peer_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_find_pair),
		cmocka_unit_test(test_random_against_reference),
		cmocka_unit_test(test_prune),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
