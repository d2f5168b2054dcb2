/* Solicit->Request table: same client same CMULA, TTL on a fake clock,
 * bound and eviction, address ownership. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>
#include "pdh.h"

static void addr_n(uint8_t a[16], int n)
{
	memset(a, 0, 16);
	a[0] = 0xfd;
	a[15] = (uint8_t)n;
}

static size_t client_n(uint8_t *c, int n, uint32_t iaid)
{
	uint8_t duid[10] = {0, 1, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, (uint8_t)n};
	return (size_t)pdh_client_key(c, PDH_CLIENT_MAX, duid, sizeof(duid), iaid);
}

static void same_client_same_address(void **state)
{
	struct pdh_pending t;
	struct pdh_pending_entry e;
	uint8_t c1[PDH_CLIENT_MAX], c1b[PDH_CLIENT_MAX], a[16], pds[3] = {1, 2, 3};
	size_t l1 = client_n(c1, 1, 7), l1b = client_n(c1b, 1, 8);

	assert_int_equal(pdh_pending_init(&t, 4, 60), PDH_OK);
	addr_n(a, 1);
	assert_int_equal(pdh_pending_put(&t, c1, l1, a, pds, 3, 100), PDH_OK);
	assert_int_equal(pdh_pending_get(&t, c1, l1, 130, &e), PDH_OK);
	assert_memory_equal(e.addr, a, 16);
	assert_int_equal(e.pds_len, 3);
	assert_memory_equal(e.pds, pds, 3);
	/* Another IAID of the same DUID is another client. */
	assert_int_equal(pdh_pending_get(&t, c1b, l1b, 130, &e), PDH_ENOENT);
	/* Expired at now >= put + ttl. */
	assert_int_equal(pdh_pending_get(&t, c1, l1, 160, &e), PDH_ENOENT);
	assert_int_equal(pdh_pending_count(&t, 159), 1);
	assert_int_equal(pdh_pending_count(&t, 160), 0);
	pdh_pending_free(&t);
}

static void addr_ownership_and_drop(void **state)
{
	struct pdh_pending t;
	struct pdh_pending_entry e;
	uint8_t c1[PDH_CLIENT_MAX], c2[PDH_CLIENT_MAX], a[16], b[16];
	size_t l1 = client_n(c1, 1, 1), l2 = client_n(c2, 2, 1);

	assert_int_equal(pdh_pending_init(&t, 4, 60), PDH_OK);
	addr_n(a, 1);
	addr_n(b, 2);
	pdh_pending_put(&t, c1, l1, a, NULL, 0, 0);
	assert_int_equal(pdh_pending_addr_taken(&t, a, c2, l2, 1), 1);
	assert_int_equal(pdh_pending_addr_taken(&t, a, c1, l1, 1), 0); /* own */
	assert_int_equal(pdh_pending_addr_taken(&t, b, c2, l2, 1), 0);
	assert_int_equal(pdh_pending_addr_taken(&t, a, c2, l2, 61), 0); /* expired */
	/* Replacing the client's entry releases the old address. */
	pdh_pending_put(&t, c1, l1, b, NULL, 0, 2);
	assert_int_equal(pdh_pending_addr_taken(&t, a, c2, l2, 3), 0);
	assert_int_equal(pdh_pending_addr_taken(&t, b, c2, l2, 3), 1);
	assert_int_equal(pdh_pending_drop_addr(&t, b), 1);
	assert_int_equal(pdh_pending_drop_addr(&t, b), 0);
	assert_int_equal(pdh_pending_get(&t, c1, l1, 3, &e), PDH_ENOENT);
	pdh_pending_free(&t);
}

static void bounded_eviction(void **state)
{
	struct pdh_pending t;
	struct pdh_pending_entry e;
	uint8_t c[PDH_CLIENT_MAX], a[16];
	size_t l;

	assert_int_equal(pdh_pending_init(&t, 3, 60), PDH_OK);
	for (int i = 0; i < 3; i++) {
		l = client_n(c, i, 1);
		addr_n(a, i);
		assert_int_equal(pdh_pending_put(&t, c, l, a, NULL, 0, (uint64_t)i), PDH_OK);
	}
	l = client_n(c, 3, 1);
	addr_n(a, 3);
	assert_int_equal(pdh_pending_put(&t, c, l, a, NULL, 0, 3), PDH_EFULL);
	assert_int_equal(t.evicted, 1);
	assert_int_equal(pdh_pending_count(&t, 3), 3);
	/* The oldest (client 0) went; the newest three stay. */
	l = client_n(c, 0, 1);
	assert_int_equal(pdh_pending_get(&t, c, l, 3, &e), PDH_ENOENT);
	for (int i = 1; i <= 3; i++) {
		l = client_n(c, i, 1);
		assert_int_equal(pdh_pending_get(&t, c, l, 3, &e), PDH_OK);
		assert_int_equal(e.addr[15], i);
	}
	/* A dropped (committed) entry frees its slot: no eviction needed. */
	addr_n(a, 2);
	assert_int_equal(pdh_pending_drop_addr(&t, a), 1);
	l = client_n(c, 7, 1);
	addr_n(a, 7);
	assert_int_equal(pdh_pending_put(&t, c, l, a, NULL, 0, 4), PDH_OK);
	assert_int_equal(t.evicted, 1);
	for (int i = 1; i <= 7; i += 2) { /* 1, 3, 7 live; 5 never stored */
		l = client_n(c, i, 1);
		assert_int_equal(pdh_pending_get(&t, c, l, 4, &e), i == 5 ? PDH_ENOENT : PDH_OK);
	}
	/* Expired slots are reused without counting an eviction. */
	l = client_n(c, 9, 1);
	assert_int_equal(pdh_pending_put(&t, c, l, a, NULL, 0, 1000), PDH_OK);
	assert_int_equal(t.evicted, 1);
	assert_int_equal(t.expired, 1);
	pdh_pending_free(&t);
}

static void client_key_bounds(void **state)
{
	uint8_t c[PDH_CLIENT_MAX], duid[PDH_CLIENT_MAX] = {0};

	assert_int_equal(pdh_client_key(c, sizeof(c), duid, 0, 1), PDH_EINVAL);
	assert_int_equal(pdh_client_key(c, sizeof(c), duid, PDH_CLIENT_MAX - 4, 1), PDH_CLIENT_MAX);
	assert_int_equal(pdh_client_key(c, sizeof(c), duid, PDH_CLIENT_MAX - 3, 1), PDH_EINVAL);
	assert_int_equal(pdh_client_key(c, sizeof(c), duid, 4, 0x01020304), 8);
	assert_int_equal(c[0], 1);
	assert_int_equal(c[3], 4);
}

/* Kea's worker threads share the table: each thread works on its own clients
 * and must always find what it stored (cap large enough for no eviction). */
struct worker { struct pdh_pending *t; int id; int misses; };

static void *work(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 2000; i++) {
		uint8_t c[PDH_CLIENT_MAX], a[16];
		struct pdh_pending_entry e;
		size_t l = client_n(c, i % 50, (uint32_t)w->id);
		addr_n(a, i % 50);
		a[1] = (uint8_t)w->id;
		pdh_pending_put(w->t, c, l, a, a, 16, 0);
		if (pdh_pending_get(w->t, c, l, 1, &e) != PDH_OK || memcmp(e.addr, a, 16))
			w->misses++;
		if (pdh_pending_addr_taken(w->t, a, c, l, 1))
			w->misses++; /* own address is never "taken" */
		if (i % 3 == 0 && pdh_pending_drop_addr(w->t, a) != 1)
			w->misses++;
	}
	return NULL;
}

static void threads_share_table(void **state)
{
	struct pdh_pending t;
	pthread_t th[4];
	struct worker w[4];

	assert_int_equal(pdh_pending_init(&t, 4 * 50 * 2, 60), PDH_OK);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){&t, i + 1, 0};
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].misses, 0);
	}
	assert_true(pdh_pending_count(&t, 1) <= 200);
	pdh_pending_free(&t);
}

/* Sizes refused before anything is stored: an empty or over-long client
 * key, a PDS over PDH_PDS_MAX, a key that does not fit the caller's buffer,
 * and a table of no slots. */
static void size_limits(void **state)
{
	struct pdh_pending t;
	uint8_t c[PDH_CLIENT_MAX + 1] = {1}, a[16] = {0xfd}, big[200], duid[10] = {0};
	static uint8_t pds[PDH_PDS_MAX + 1];

	assert_int_equal(pdh_pending_init(&t, 0, 60), PDH_EINVAL);
	assert_int_equal(pdh_pending_init(&t, 2, 60), PDH_OK);
	assert_int_equal(pdh_pending_put(&t, c, 0, a, NULL, 0, 0), PDH_EINVAL);
	assert_int_equal(pdh_pending_put(&t, c, PDH_CLIENT_MAX + 1, a, NULL, 0, 0), PDH_EINVAL);
	assert_int_equal(pdh_pending_put(&t, c, 8, a, pds, PDH_PDS_MAX + 1, 0), PDH_EINVAL);
	assert_int_equal(pdh_pending_count(&t, 0), 0);
	assert_int_equal(pdh_pending_put(&t, c, PDH_CLIENT_MAX, a, pds, PDH_PDS_MAX, 0), PDH_OK);
	pdh_pending_free(&t);
	assert_int_equal(pdh_client_key(big, 13, duid, 10, 1), PDH_EINVAL);
	assert_int_equal(pdh_client_key(big, 14, duid, 10, 1), 14);
	assert_int_equal(pdh_client_key(big, sizeof(big), big, PDH_CLIENT_MAX - 3, 1), PDH_EINVAL);
}

/* A DUID that extends another (same IAID) is another client: the address
 * one of them holds is taken for the other, whichever is longer. */
static void duid_prefix_is_another_client(void **state)
{
	struct pdh_pending t;
	uint8_t duid[11] = {0, 1, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x01, 0x00};
	uint8_t s[PDH_CLIENT_MAX], l[PDH_CLIENT_MAX], a[16], b[16];
	size_t sl = (size_t)pdh_client_key(s, sizeof(s), duid, 10, 1);
	size_t ll = (size_t)pdh_client_key(l, sizeof(l), duid, 11, 1);

	addr_n(a, 1);
	addr_n(b, 2);
	assert_int_equal(pdh_pending_init(&t, 4, 60), PDH_OK);
	assert_int_equal(pdh_pending_put(&t, s, sl, a, NULL, 0, 0), PDH_OK);
	assert_int_equal(pdh_pending_put(&t, l, ll, b, NULL, 0, 0), PDH_OK);
	assert_int_equal(pdh_pending_addr_taken(&t, a, l, ll, 1), 1);
	assert_int_equal(pdh_pending_addr_taken(&t, b, s, sl, 1), 1);
	pdh_pending_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_client_same_address),
		cmocka_unit_test(addr_ownership_and_drop),
		cmocka_unit_test(bounded_eviction),
		cmocka_unit_test(client_key_bounds),
		cmocka_unit_test(size_limits),
		cmocka_unit_test(duid_prefix_is_another_client),
		cmocka_unit_test(threads_share_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
