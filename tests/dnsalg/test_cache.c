/* Bounded caches with a fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake.h"

static int answer_for(uint8_t *w, size_t cap, const char *name, uint32_t ttl)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(name), LDNS_RR_TYPE_AAAA,
					 LDNS_RR_CLASS_IN, LDNS_RD);
	ldns_pkt_set_qr(p, true);
	char line[300];
	snprintf(line, sizeof line, "%s %u IN AAAA 2001:db8::1", name, ttl);
	ldns_rr *rr;
	ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL);
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	uint8_t *o;
	size_t n;
	ldns_pkt2wire(&o, p, &n);
	ldns_pkt_free(p);
	memcpy(w, o, n < cap ? n : cap);
	free(o);
	return (int)n;
}

static void ttl_aging_and_expiry(void **state)
{
	struct dnsalg_acache *c = dnsalg_acache_new(16, 3600);
	uint8_t q[512], a[512], out[512];
	struct dnsalg_query qq;
	size_t ql = mkquery(q, sizeof q, 99, "x.example.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false);
	assert_int_equal(dnsalg_query_parse(q, ql, &qq), 0);
	int al = answer_for(a, sizeof a, "x.example.", 10);
	assert_int_equal(dnsalg_acache_get(c, &qq, q, 0, out, sizeof out), DNSALG_ENOENT);
	assert_int_equal(dnsalg_acache_put(c, &qq, a, (size_t)al, 5000, NULL), 0);
	int n = dnsalg_acache_get(c, &qq, q, 5000 + 4000, out, sizeof out);
	ldns_pkt *p = parse(out, n);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_id(p), 99);
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), 6);
	ldns_pkt_free(p);
	assert_int_equal(dnsalg_acache_get(c, &qq, q, 5000 + 9999, out, sizeof out), al);
	assert_int_equal(dnsalg_acache_get(c, &qq, q, 5000 + 10000, out, sizeof out), DNSALG_ENOENT);
	assert_int_equal(dnsalg_acache_count(c), 0);
	/* a too-small buffer is reported, not overrun */
	assert_int_equal(dnsalg_acache_put(c, &qq, a, (size_t)al, 0, NULL), 0);
	assert_int_equal(dnsalg_acache_get(c, &qq, q, 0, out, 20), DNSALG_EFULL);
	/* DO / CD / EDNS variants are separate entries */
	ql = mkquery(q, sizeof q, 99, "x.example.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, 1232, true);
	assert_int_equal(dnsalg_query_parse(q, ql, &qq), 0);
	assert_int_equal(dnsalg_acache_get(c, &qq, q, 0, out, sizeof out), DNSALG_ENOENT);
	/* zero TTL: not cached */
	al = answer_for(a, sizeof a, "x.example.", 0);
	assert_int_equal(dnsalg_acache_put(c, &qq, a, (size_t)al, 0, NULL), DNSALG_EINVAL);
	dnsalg_acache_free(c);
}

static void flood_stays_within_bounds(void **state)
{
	struct dnsalg_counters cnt;
	memset(&cnt, 0, sizeof cnt);
	struct dnsalg_acache *c = dnsalg_acache_new(64, 3600);
	uint8_t q[512], a[512];
	struct dnsalg_query qq;
	for (int i = 0; i < 1500; i++) {
		char name[64];
		snprintf(name, sizeof name, "n%d.flood.example.", i);
		size_t ql = mkquery(q, sizeof q, 1, name, LDNS_RR_TYPE_AAAA, 0, -1, false);
		assert_int_equal(dnsalg_query_parse(q, ql, &qq), 0);
		int al = answer_for(a, sizeof a, name, 300);
		dnsalg_acache_put(c, &qq, a, (size_t)al, (uint64_t)i, &cnt);
		assert_true(dnsalg_acache_count(c) <= 64);
	}
	assert_int_equal(dnsalg_acache_count(c), 64);
	assert_true(cnt.cache_evictions >= 1500 - 64);
	dnsalg_acache_free(c);
}

static void negative_answers_use_soa_minimum(void **state)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str("no.example."), LDNS_RR_TYPE_AAAA,
					 LDNS_RR_CLASS_IN, 0);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rcode(p, LDNS_RCODE_NXDOMAIN);
	ldns_rr *rr;
	ldns_rr_new_frm_str(&rr, "example. 3600 IN SOA ns. h. 1 2 3 4 45", 0, NULL, NULL);
	ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr);
	ldns_pkt_set_edns_udp_size(p, 1232);
	uint8_t *w;
	size_t n;
	ldns_pkt2wire(&w, p, &n);
	assert_int_equal(dnsalg_wire_min_ttl(w, n), 45);
	assert_int_equal(dnsalg_wire_min_ttl(w, n - 1), -1);
	free(w);
	ldns_pkt_free(p);
}

static void ulid_cache_ttl_and_bound(void **state)
{
	struct dnsalg_ucache *c = dnsalg_ucache_new(8);
	struct dnsalg_ulid_entry e, g;
	memset(&e, 0, sizeof e);
	inet_pton(AF_INET6, "fd00:2::1", &e.ulid);
	inet_pton(AF_INET6, "2001:db8::1", &e.locators[0]);
	e.n_locators = 1;
	e.ttl = 30;
	snprintf(e.name, sizeof e.name, "p.example.");
	assert_int_equal(dnsalg_ucache_put(c, &e, 1000, NULL), 1);
	assert_int_equal(dnsalg_ucache_put(c, &e, 2000, NULL), 0);      /* same: no push */
	inet_pton(AF_INET6, "2001:db8::2", &e.locators[0]);
	assert_int_equal(dnsalg_ucache_put(c, &e, 2000, NULL), 1);      /* changed */
	assert_int_equal(dnsalg_ucache_get(c, &e.ulid, 2000 + 29000, &g), 0);
	assert_int_equal(g.ttl, 1);
	assert_int_equal(dnsalg_ucache_get(c, &e.ulid, 2000 + 30000, &g), DNSALG_ENOENT);
	for (int i = 0; i < 1000; i++) {
		e.ulid.s6_addr[15] = (uint8_t)i;
		e.ulid.s6_addr[14] = (uint8_t)(i >> 8);
		dnsalg_ucache_put(c, &e, 3000, NULL);
		assert_true(dnsalg_ucache_count(c) <= 8);
	}
	dnsalg_ucache_free(c);
}

/* An answer for `name` with `n` AAAA records of TTL ttl (the first one
 * first_ttl), owners compressed to the question's name. */
static int many_aaaa(uint8_t *w, size_t cap, const char *name, unsigned n, uint32_t first_ttl, uint32_t ttl)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(name), LDNS_RR_TYPE_AAAA,
					 LDNS_RR_CLASS_IN, LDNS_RD);
	ldns_pkt_set_qr(p, true);
	for (unsigned i = 0; i < n; i++) {
		char line[300];
		snprintf(line, sizeof line, "%s %u IN AAAA 2001:db8::%x", name, i ? ttl : first_ttl, i + 1);
		ldns_rr *rr;
		ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	uint8_t *o;
	size_t l;
	ldns_pkt2wire(&o, p, &l);
	ldns_pkt_free(p);
	assert_true(l <= cap);
	memcpy(w, o, l);
	free(o);
	return (int)l;
}

static void query_for(uint8_t *q, struct dnsalg_query *qq, const char *name)
{
	size_t ql = mkquery(q, 512, 1, name, LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false);
	assert_int_equal(dnsalg_query_parse(q, ql, qq), 0);
}

/* An entry lives as long as its smallest TTL, and no longer than the
 * cache's max_ttl; a hit fills a buffer of exactly its size. */
static void entry_lifetime_and_exact_fit(void **state)
{
	(void)state;
	uint8_t q[512], a[512], out[512];
	struct dnsalg_query qq;
	query_for(q, &qq, "m.example.");
	int al = many_aaaa(a, sizeof a, "m.example.", 2, 300, 60);
	struct dnsalg_acache *c = dnsalg_acache_new(4, 3600);
	assert_int_equal(dnsalg_acache_put(c, &qq, a, (size_t)al, 0, NULL), 0);
	assert_int_equal(dnsalg_acache_get(c, &qq, q, 59999, out, (size_t)al), al);
	assert_int_equal(dnsalg_acache_get(c, &qq, q, 59999, out, (size_t)al - 1), DNSALG_EFULL);
	assert_int_equal(dnsalg_acache_get(c, &qq, q, 60000, out, sizeof out), DNSALG_ENOENT);
	dnsalg_acache_free(c);
	c = dnsalg_acache_new(4, 59);   /* max_ttl one under the answer's */
	assert_int_equal(dnsalg_acache_put(c, &qq, a, (size_t)al, 0, NULL), 0);
	assert_int_equal(dnsalg_acache_get(c, &qq, q, 58999, out, sizeof out), al);
	assert_int_equal(dnsalg_acache_get(c, &qq, q, 59000, out, sizeof out), DNSALG_ENOENT);
	dnsalg_acache_free(c);
}

/* In a full bucket the entry closest to expiry goes; one expired at this
 * very millisecond is free room, not an eviction. */
static void eviction_order_in_a_bucket(void **state)
{
	(void)state;
	struct dnsalg_counters cnt;
	memset(&cnt, 0, sizeof cnt);
	struct dnsalg_acache *c = dnsalg_acache_new(4, 3600);   /* one bucket of 4 */
	uint8_t q[512], a[512], out[512];
	struct dnsalg_query qq;
	static const uint32_t ttl[] = { 40, 10, 30, 20, 50 };
	char name[32];
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "e%d.example.", i);
		query_for(q, &qq, name);
		int al = many_aaaa(a, sizeof a, name, 1, ttl[i], ttl[i]);
		assert_int_equal(dnsalg_acache_put(c, &qq, a, (size_t)al, 0, &cnt), 0);
	}
	assert_int_equal(cnt.cache_evictions, 1);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "e%d.example.", i);
		query_for(q, &qq, name);
		int r = dnsalg_acache_get(c, &qq, q, 1000, out, sizeof out);
		if ((r == DNSALG_ENOENT) != (i == 1))
			fail_msg("e%d: %d", i, r);
	}
	/* e3 expires at 20000: its slot is taken without an eviction */
	query_for(q, &qq, "e5.example.");
	int al = many_aaaa(a, sizeof a, "e5.example.", 1, 50, 50);
	assert_int_equal(dnsalg_acache_put(c, &qq, a, (size_t)al, 20000, &cnt), 0);
	assert_int_equal(cnt.cache_evictions, 1);
	dnsalg_acache_free(c);
}

/* The byte budget (1 KiB a slot) refuses an insert that would pass it, and
 * answers over DNSALG_CACHE_WIRE_MAX are refused outright. */
static void byte_budget_and_size_cap(void **state)
{
	(void)state;
	uint8_t q[512], a[8192];
	struct dnsalg_query qq;
	struct dnsalg_acache *c = dnsalg_acache_new(4, 3600);   /* 4096 octets */
	query_for(q, &qq, "b1.example.");
	int al = many_aaaa(a, sizeof a, "b1.example.", 50, 300, 300);   /* ~1.4 KiB + 300 of TTLs */
	assert_int_equal(dnsalg_acache_put(c, &qq, a, (size_t)al, 0, NULL), 0);
	query_for(q, &qq, "b2.example.");
	al = many_aaaa(a, sizeof a, "b2.example.", 50, 300, 300);
	assert_int_equal(dnsalg_acache_put(c, &qq, a, (size_t)al, 0, NULL), 0);
	query_for(q, &qq, "b3.example.");
	al = many_aaaa(a, sizeof a, "b3.example.", 50, 300, 300);
	assert_int_equal(dnsalg_acache_put(c, &qq, a, (size_t)al, 0, NULL), DNSALG_EFULL);
	assert_int_equal(dnsalg_acache_count(c), 2);
	dnsalg_acache_free(c);
	/* 4096 octets cached, 4097 not (26 + name + 28 per record) */
	c = dnsalg_acache_new(64, 3600);
	query_for(q, &qq, "xxxxxxxxxx.example.");
	al = many_aaaa(a, sizeof a, "xxxxxxxxxx.example.", 145, 300, 300);
	assert_int_equal(al, DNSALG_CACHE_WIRE_MAX);
	assert_int_equal(dnsalg_acache_put(c, &qq, a, (size_t)al, 0, NULL), 0);
	query_for(q, &qq, "xxxxxxxxxxx.example.");
	al = many_aaaa(a, sizeof a, "xxxxxxxxxxx.example.", 145, 300, 300);
	assert_int_equal(al, DNSALG_CACHE_WIRE_MAX + 1);
	assert_int_equal(dnsalg_acache_put(c, &qq, a, (size_t)al, 0, NULL), DNSALG_EINVAL);
	dnsalg_acache_free(c);
}

/* The ULID cache: a zero TTL is refused, a remaining TTL rounds up, and an
 * entry expiring this millisecond is free room, not an eviction. */
static void ulid_cache_edges(void **state)
{
	(void)state;
	struct dnsalg_counters cnt;
	memset(&cnt, 0, sizeof cnt);
	struct dnsalg_ucache *c = dnsalg_ucache_new(4);   /* one bucket of 4 */
	struct dnsalg_ulid_entry e, g;
	memset(&e, 0, sizeof e);
	inet_pton(AF_INET6, "fd00:2::1", &e.ulid);
	snprintf(e.name, sizeof e.name, "p.example.");
	assert_int_equal(dnsalg_ucache_put(c, &e, 0, &cnt), DNSALG_EINVAL);
	assert_int_equal(dnsalg_ucache_count(c), 0);
	e.ttl = 10;
	assert_int_equal(dnsalg_ucache_put(c, &e, 0, &cnt), 1);
	assert_int_equal(dnsalg_ucache_get(c, &e.ulid, 500, &g), 0);
	assert_int_equal(g.ttl, 10);
	for (int i = 2; i <= 4; i++) {
		e.ulid.s6_addr[15] = (uint8_t)i;
		e.ttl = 10u * (unsigned)i;
		assert_int_equal(dnsalg_ucache_put(c, &e, 0, &cnt), 1);
	}
	e.ulid.s6_addr[15] = 5;
	assert_int_equal(dnsalg_ucache_put(c, &e, 10000, &cnt), 1);   /* the first expires now */
	assert_int_equal(cnt.ulid_cache_evictions, 0);
	dnsalg_ucache_free(c);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(ttl_aging_and_expiry), cmocka_unit_test(flood_stays_within_bounds),
		cmocka_unit_test(negative_answers_use_soa_minimum), cmocka_unit_test(ulid_cache_ttl_and_bound),
		cmocka_unit_test(entry_lifetime_and_exact_fit), cmocka_unit_test(eviction_order_in_a_bucket),
		cmocka_unit_test(byte_budget_and_size_cap), cmocka_unit_test(ulid_cache_edges),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
