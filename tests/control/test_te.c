/* TE: the egress split over many contexts follows the configured weights;
 * rules, costs and failures steer it as documented. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pshim6/conf.h"
#include "te.h"

static struct pshim6_conf *c;

static void load(const char *t)
{
	if (!c)
		c = calloc(1, sizeof(*c));
	assert_int_equal(pshim6_conf_load_string(t, "te.conf", c, pshim6_conf_error_print, stderr), 0);
}

#define SITE "site = { name = \"s\"; cmula_prefixes = [ \"fd00:10::/64\" ]; key_file = \"k\"; };\n" \
	     "inside = { port = \"p0\"; };\n"
#define ISP(n, i, w, cost) "{ name = \"" n "\"; pa_prefix = \"2001:db8:" #i "::/48\"; port = \"p\"; " \
	"next_hop = \"fe80::1\"; weight = " #w "; cost = " #cost "; }"

static void addr(struct in6_addr *a, unsigned host, unsigned peer, bool dst)
{
	/* distinct source hosts and destinations, like real traffic */
	memset(a, 0, sizeof(*a));
	a->s6_addr[0] = 0xfd;
	a->s6_addr[3] = dst ? 0x20 : 0x10;
	a->s6_addr[12] = (uint8_t)(host >> 8);
	a->s6_addr[13] = (uint8_t)host;
	a->s6_addr[14] = (uint8_t)(peer >> 8);
	a->s6_addr[15] = (uint8_t)peer;
}

static void measure(unsigned n, uint32_t avail, double *share)
{
	struct te t;
	te_init(&t, c);
	unsigned count[PSHIM6_CONF_MAX_ISPS] = { 0 };
	for (unsigned i = 0; i < n; i++) {
		struct in6_addr s, d;
		addr(&s, i % 251, i, false);
		addr(&d, i % 97, i / 97, true);
		int k = te_choose(&t, &s, &d, avail);
		assert_true(k >= 0);
		count[k]++;
	}
	for (unsigned i = 0; i < c->n_isps; i++) {
		share[i] = (double)count[i] / n;
		assert_int_equal(t.chosen[i], count[i]);
	}
}

static void test_split_follows_weights(void **state)
{
	load(SITE "isps = ( " ISP("x", 1, 3, 0) ", " ISP("y", 2, 1, 0) ", " ISP("z", 3, 2, 0) " );\n");
	const unsigned ns[] = { 1000, 1001, 100000 };
	for (unsigned k = 0; k < 3; k++) {
		double s[PSHIM6_CONF_MAX_ISPS];
		measure(ns[k], 0xff, s);
		printf("TE split over %u contexts, weights 3:1:2 (50.00%%/16.67%%/33.33%%): "
		       "x=%.2f%% y=%.2f%% z=%.2f%%\n", ns[k], 100 * s[0], 100 * s[1], 100 * s[2]);
		assert_true(s[0] > 0.50 - 0.02 && s[0] < 0.50 + 0.02);
		assert_true(s[1] > 1.0 / 6 - 0.02 && s[1] < 1.0 / 6 + 0.02);
		assert_true(s[2] > 1.0 / 3 - 0.02 && s[2] < 1.0 / 3 + 0.02);
	}
}

static void test_cost_wins_over_weight(void **state)
{
	load(SITE "isps = ( " ISP("cheap", 1, 1, 0) ", " ISP("dear", 2, 100, 10) " );\n");
	double s[PSHIM6_CONF_MAX_ISPS];
	measure(1000, 0x3, s);
	assert_true(s[0] == 1.0);
	/* the cheap ISP is down: everything moves to the dear one */
	measure(1000, 0x2, s);
	assert_true(s[1] == 1.0);
}

static void test_failover_keeps_ratio_among_survivors(void **state)
{
	load(SITE "isps = ( " ISP("x", 1, 3, 0) ", " ISP("y", 2, 1, 0) ", " ISP("z", 3, 1, 0) " );\n");
	double s[PSHIM6_CONF_MAX_ISPS];
	measure(4000, 0x6, s);  /* x down */
	assert_true(s[0] == 0.0);
	assert_true(s[1] > 0.48 && s[1] < 0.52);
}

static void test_nothing_available(void **state)
{
	load(SITE "isps = ( " ISP("x", 1, 1, 0) " );\n");
	struct te t;
	te_init(&t, c);
	struct in6_addr a;
	addr(&a, 1, 1, true);
	assert_int_equal(te_choose(&t, &a, &a, 0), -1);
}

static void test_weight_zero_is_last_resort(void **state)
{
	load(SITE "isps = ( " ISP("x", 1, 1, 0) ", " ISP("spare", 2, 0, 0) " );\n");
	double s[PSHIM6_CONF_MAX_ISPS];
	measure(500, 0x3, s);
	assert_true(s[0] == 1.0);
	measure(500, 0x2, s);
	assert_true(s[1] == 1.0);
}

static void test_rules(void **state)
{
	load(SITE "isps = ( " ISP("x", 1, 1, 0) ", " ISP("y", 2, 1, 0) " );\n"
	     "te = { groups = ( { name = \"srv\"; prefixes = [ \"fd00:10::100:0/112\" ]; } );\n"
	     "  rules = ( { group = \"srv\"; isp = \"y\"; },\n"
	     "            { destination = \"fd00:20::/32\"; weights = { x = 9; y = 1; }; } ); };\n");
	struct te t;
	te_init(&t, c);
	struct in6_addr srv, host, far, near;
	inet_pton(AF_INET6, "fd00:10::100:5", &srv);
	inet_pton(AF_INET6, "fd00:10::5", &host);
	inet_pton(AF_INET6, "fd00:20::1", &near);
	inet_pton(AF_INET6, "fd00:99::1", &far);
	assert_int_equal(te_match(c, &srv, &far), 0);
	assert_int_equal(te_match(c, &host, &near), 1);
	assert_int_equal(te_match(c, &host, &far), -1);
	for (int i = 0; i < 10; i++)
		assert_int_equal(te_choose(&t, &srv, &far, 0x3), 1);
	/* rule ISP down: the default policy takes over */
	assert_int_equal(te_choose(&t, &srv, &far, 0x1), 0);
	unsigned x = 0;
	for (int i = 0; i < 1000; i++)
		x += te_choose(&t, &host, &near, 0x3) == 0;
	assert_int_equal(x, 900);
	assert_int_equal(t.rule_hits[0], 11);
	assert_int_equal(t.rule_hits[1], 1000);
}

static void test_ingress_prefs(void **state)
{
	uint8_t p, w;
	load(SITE "isps = ( " ISP("x", 1, 3, 5) ", " ISP("y", 2, 1, 0) ", " ISP("z", 3, 2, 5) " );\n");
	te_ingress_pref(c, 1, &p, &w);
	assert_int_equal(p, 0);
	assert_int_equal(w, 1);
	te_ingress_pref(c, 0, &p, &w);
	assert_int_equal(p, 1);
	assert_int_equal(w, 3);
	te_ingress_pref(c, 2, &p, &w);
	assert_int_equal(p, 1);
	load(SITE "isps = ( " ISP("x", 1, 3, 5) ", " ISP("y", 2, 1, 0) " );\n"
	     "te = { ingress = \"prefer\"; ingress_isp = \"x\"; };\n");
	te_ingress_pref(c, 0, &p, &w);
	assert_int_equal(p, 0);
	te_ingress_pref(c, 1, &p, &w);
	assert_int_equal(p, 1);
	int order[PSHIM6_CONF_MAX_ISPS];
	assert_int_equal(te_fallback_order(c, order), 2);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 0);
}

static int teardown(void **state) { free(c); c = NULL; return 0; }

/* Over every prefix of `n` picks from `avail`, each ISP's count stays within
 * one context of its share of the weights (the SWRR guarantee); the picks
 * are written to seq[]. */
static void picks_within_one(struct te *t, unsigned n, uint32_t avail, const uint32_t *w, int *seq)
{
	unsigned count[PSHIM6_CONF_MAX_ISPS] = { 0 };
	uint32_t total = 0;
	for (unsigned i = 0; i < c->n_isps; i++)
		total += (avail & (1u << i)) ? w[i] : 0;
	for (unsigned k = 1; k <= n; k++) {
		struct in6_addr s, d;
		addr(&s, k, k, false);
		addr(&d, k, k, true);
		int p = te_choose(t, &s, &d, avail);
		assert_true(p >= 0);
		seq[k - 1] = p;
		count[p]++;
		for (unsigned i = 0; i < c->n_isps; i++) {
			double want = (avail & (1u << i)) ? (double)k * w[i] / total : 0;
			double off = count[i] > want ? count[i] - want : want - count[i];
			if (off >= 1.0) {
				printf("pick %u: ISP %u has %u contexts, its weight says %.2f\n", k, i, count[i], want);
				fail();
			}
		}
	}
}

/* An ISP that was down and comes back: the round-robin starts again over
 * the new set, so its credit from before the outage does not skew what
 * follows.  Weights 5:5:1, y down for one context after six: with y's old
 * credit kept, y took the first two contexts after its return and was
 * 1.36 contexts over its share; now the split holds within one from the
 * first context after any change of the set, default policy and rules. */
static void test_restored_isp_starts_fresh(void **state)
{
	(void)state;
	load(SITE "isps = ( " ISP("x", 1, 5, 0) ", " ISP("y", 2, 5, 0) ", " ISP("z", 3, 1, 0) " );\n");
	const uint32_t w[3] = { 5, 5, 1 };
	struct te t;
	int seq[40];
	te_init(&t, c);
	picks_within_one(&t, 6, 0x7, w, seq);
	picks_within_one(&t, 1, 0x5, w, seq);   /* y down */
	assert_int_not_equal(seq[0], 1);
	picks_within_one(&t, 40, 0x7, w, seq);  /* y back */
	assert_false(seq[0] == 1 && seq[1] == 1);
	/* and when an ISP goes down, among the survivors too */
	te_init(&t, c);
	picks_within_one(&t, 3, 0x7, w, seq);
	picks_within_one(&t, 30, 0x6, w, seq);
	/* a rule with its own weights keeps its own round-robin, reset the same way */
	load(SITE "isps = ( " ISP("x", 1, 1, 0) ", " ISP("y", 2, 1, 0) ", " ISP("z", 3, 1, 0) " );\n"
	     "te = { rules = ( { destination = \"fd00:20::/32\"; weights = { x = 5; y = 5; z = 1; }; } ); };\n");
	te_init(&t, c);
	picks_within_one(&t, 6, 0x7, w, seq);
	picks_within_one(&t, 1, 0x5, w, seq);
	picks_within_one(&t, 40, 0x7, w, seq);
	assert_int_equal(t.rule_hits[0], 47);
}

/* The same for every weight 1..6 of three ISPs, every ISP failing after 0
 * to 11 contexts for 1, 2 or 5 contexts: within one context of the weights
 * over every prefix of the 40 contexts after its return. */
static void test_restart_sweep(void **state)
{
	(void)state;
	load(SITE "isps = ( " ISP("x", 1, 1, 0) ", " ISP("y", 2, 1, 0) ", " ISP("z", 3, 1, 0) " );\n");
	static const unsigned outage[] = { 1, 2, 5 };
	uint32_t w[3];
	int seq[40];
	unsigned runs = 0;
	for (w[0] = 1; w[0] <= 6; w[0]++)
		for (w[1] = 1; w[1] <= 6; w[1]++)
			for (w[2] = 1; w[2] <= 6; w[2]++)
				for (unsigned k = 0; k < 12; k++)
					for (unsigned down = 0; down < 3; down++)
						for (unsigned o = 0; o < 3; o++) {
							for (unsigned i = 0; i < 3; i++)
								c->isps[i].weight = w[i];
							struct te t;
							te_init(&t, c);
							picks_within_one(&t, k, 0x7, w, seq);
							picks_within_one(&t, outage[o], 0x7 & ~(1u << down), w, seq);
							picks_within_one(&t, 40, 0x7, w, seq);
							runs++;
						}
	assert_int_equal(runs, 216 * 12 * 3 * 3);
}

/* An ISP weight above 255 is advertised as 255, not wrapped to 0. */
static void test_ingress_weight_saturates(void **state)
{
	uint8_t p, w;
	load(SITE "isps = ( " ISP("x", 1, 256, 0) ", " ISP("y", 2, 1000, 0) " );\n");
	te_ingress_pref(c, 0, &p, &w);
	assert_int_equal(w, 255);
	te_ingress_pref(c, 1, &p, &w);
	assert_int_equal(w, 255);
}

/* Priority is the rank among distinct costs: two cheaper ISPs of one cost
 * put the dearer one at priority 1, not 2. */
static void test_ingress_rank_counts_distinct_costs(void **state)
{
	uint8_t p, w;
	load(SITE "isps = ( " ISP("x", 1, 1, 1) ", " ISP("y", 2, 1, 1) ", " ISP("z", 3, 1, 5) " );\n");
	te_ingress_pref(c, 2, &p, &w);
	assert_int_equal(p, 1);
}

/* A cheaper ISP of weight 0 does not hide a dearer weighted one: weight 0
 * is a last resort whatever its cost. */
static void test_weight_zero_cheaper_is_still_last(void **state)
{
	load(SITE "isps = ( " ISP("spare", 1, 0, 1) ", " ISP("x", 2, 1, 5) " );\n");
	struct te t;
	te_init(&t, c);
	struct in6_addr a;
	addr(&a, 1, 1, true);
	for (int i = 0; i < 4; i++)
		assert_int_equal(te_choose(&t, &a, &a, 0x3), 1);
}

/* Fallback order among ISPs equal in cost and weight is config order. */
static void test_fallback_order_ties_keep_config_order(void **state)
{
	load(SITE "isps = ( " ISP("x", 1, 0, 3) ", " ISP("y", 2, 0, 3) ", " ISP("z", 3, 1, 3) " );\n");
	int order[PSHIM6_CONF_MAX_ISPS];
	assert_int_equal(te_fallback_order(c, order), 3);
	assert_int_equal(order[0], 2);   /* higher weight first at equal cost */
	assert_int_equal(order[1], 0);
	assert_int_equal(order[2], 1);
}

/* A rule never picks an ISP it weighs 0: with its weighted ISPs down the
 * default policy decides (here the cheapest ISP up). */
static void test_rule_weight_zero_never_picked(void **state)
{
	load(SITE "isps = ( " ISP("a", 1, 1, 9) ", " ISP("b", 2, 1, 9) ", " ISP("c", 3, 1, 0) " );\n"
	     "te = { rules = ( { destination = \"fd00:20::/32\"; weights = { a = 0; b = 1; c = 0; }; } ); };\n");
	struct te t;
	te_init(&t, c);
	struct in6_addr src, dst;
	inet_pton(AF_INET6, "fd00:10::5", &src);
	inet_pton(AF_INET6, "fd00:20::1", &dst);
	for (int i = 0; i < 4; i++)
		assert_int_equal(te_choose(&t, &src, &dst, 0x5), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_follows_weights),
		cmocka_unit_test(test_cost_wins_over_weight),
		cmocka_unit_test(test_failover_keeps_ratio_among_survivors),
		cmocka_unit_test(test_nothing_available),
		cmocka_unit_test(test_weight_zero_is_last_resort),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_ingress_prefs),
		cmocka_unit_test(test_restored_isp_starts_fresh),
		cmocka_unit_test(test_restart_sweep),
		cmocka_unit_test(test_ingress_weight_saturates),
		cmocka_unit_test(test_ingress_rank_counts_distinct_costs),
		cmocka_unit_test(test_weight_zero_cheaper_is_still_last),
		cmocka_unit_test(test_fallback_order_ties_keep_config_order),
		cmocka_unit_test(test_rule_weight_zero_never_picked),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
