/* JSON parser, bounded address table, and the peer/lease tables fed by the
 * DNS ALG and the DHCP hook. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "tables.h"

static struct jobj o;

static int parse(const char *s, const char **why)
{
	return json_parse(s, strlen(s), &o, why);
}

static void test_json_accepts_protocol(void **state)
{
	const char *why;
	assert_int_equal(parse(" {\"cmd\":\"peer-locators\",\"ulid\":\"fd00::1\",\"locators\":[\"2001:db8::1\", \"2001:db8:1::1\"],"
			       "\"ttl\":300,\"name\":\"h\\u0032.example.\",\"x\":true,\"y\":null,\"z\":-5} \n", &why), 0);
	assert_string_equal(json_str(&o, "cmd"), "peer-locators");
	assert_int_equal(json_get(&o, "locators")->nelem, 2);
	assert_string_equal(json_get(&o, "locators")->elem[1], "2001:db8:1::1");
	assert_int_equal(json_get(&o, "ttl")->n, 300);
	assert_string_equal(json_str(&o, "name"), "h2.example.");
	assert_true(json_get(&o, "x")->b);
	assert_int_equal(json_get(&o, "y")->t, J_NULL);
	assert_int_equal(json_get(&o, "z")->n, -5);
	assert_null(json_get(&o, "nope"));
	assert_null(json_str(&o, "ttl"));
	assert_int_equal(parse("{}", &why), 0);
	assert_int_equal(o.n, 0);
}

static void test_json_rejects(void **state)
{
	const char *bad[] = {
		"", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} x", "{\"a\":{\"b\":1}}",
		"{\"a\":1.5}", "{\"a\":\"\\u00e9\"}", "{\"a\":\"\\u0000\"}", "{\"a\":\"x\ny\"}",
		"{\"a\":[1]}", "{\"a\":1,\"a\":2}", "{\"a\":1234567890123456789}", "{\"a\":tru}",
		"{\"a\":\"\\q\"}", "{\"a\":\"unterminated}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *why = NULL;
		if (parse(bad[i], &why) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(why);
	}
	/* bounds: members, elements, string bytes */
	char big[16384];
	int n = snprintf(big, sizeof big, "{");
	for (int i = 0; i < JSON_MAX_MEMBERS + 1; i++)
		n += snprintf(big + n, sizeof big - (size_t)n, "%s\"k%d\":1", i ? "," : "", i);
	snprintf(big + n, sizeof big - (size_t)n, "}");
	const char *why;
	assert_int_equal(parse(big, &why), -1);
	n = snprintf(big, sizeof big, "{\"a\":[");
	for (int i = 0; i < JSON_MAX_ELEMS + 1; i++)
		n += snprintf(big + n, sizeof big - (size_t)n, "%s\"e\"", i ? "," : "");
	snprintf(big + n, sizeof big - (size_t)n, "]}");
	assert_int_equal(parse(big, &why), -1);
	memset(big, 'a', sizeof big);
	memcpy(big, "{\"a\":\"", 6);
	memcpy(big + sizeof big - 3, "\"}", 3);
	assert_int_equal(parse(big, &why), -1);
	assert_string_equal(why, "strings too long");
}

static void test_addrtab_bound(void **state)
{
	struct addrtab t;
	assert_int_equal(addrtab_init(&t, 100, sizeof(int), 42), 0);
	struct in6_addr a = { 0 };
	for (int i = 0; i < 100; i++) {
		a.s6_addr[15] = (uint8_t)i;
		int *v = addrtab_insert(&t, &a, NULL);
		assert_non_null(v);
		*v = i;
	}
	a.s6_addr[15] = 200;
	assert_null(addrtab_insert(&t, &a, NULL));   /* full: refused */
	a.s6_addr[15] = 7;
	assert_int_equal(*(int *)addrtab_find(&t, &a), 7);
	assert_int_equal(addrtab_remove(&t, &a), 0);
	assert_null(addrtab_find(&t, &a));
	assert_int_equal(addrtab_remove(&t, &a), -2);
	a.s6_addr[15] = 200;
	assert_non_null(addrtab_insert(&t, &a, NULL)); /* freed slot reused */
	assert_int_equal(t.n, 100);
	for (int i = 0; i < 100; i++) {
		if (i == 7)
			continue;
		a.s6_addr[15] = (uint8_t)i;
		assert_int_equal(*(int *)addrtab_find(&t, &a), i);
	}
	addrtab_free(&t);
}

static void test_peer_table(void **state)
{
	struct tables t;
	const char *why;
	assert_int_equal(tables_init(&t, 16, 16, 1), 0);
	char msg[256];
	/* fill the 16 slots with increasing TTLs; a 17th evicts the one
	 * expiring soonest */
	for (int i = 0; i < 17; i++) {
		snprintf(msg, sizeof msg, "{\"cmd\":\"peer-locators\",\"ulid\":\"fd00:20::%x\",\"locators\":[\"2001:db8::%x\"],\"ttl\":%d}",
			 i + 1, i + 1, 100 + i);
		assert_int_equal(parse(msg, &why), 0);
		assert_int_equal(tables_peer_locators(&t, &o, 0, &why), 0);
	}
	assert_int_equal(t.peers.n, 16);
	assert_int_equal(t.st.peer_evicted, 1);
	struct in6_addr u;
	inet_pton(AF_INET6, "fd00:20::1", &u);
	assert_null(tables_peer(&t, &u, 0));
	inet_pton(AF_INET6, "fd00:20::11", &u);
	const struct peer_entry *p = tables_peer(&t, &u, 0);
	assert_non_null(p);
	assert_int_equal(p->nloc, 1);
	/* TTL expiry: entry 2 has ttl 101 s */
	inet_pton(AF_INET6, "fd00:20::2", &u);
	assert_non_null(tables_peer(&t, &u, 100 * 1000000000ULL));
	assert_null(tables_peer(&t, &u, 101 * 1000000000ULL));
	assert_int_equal(tables_expire(&t, 105 * 1000000000ULL), 5);
	/* bad messages */
	assert_int_equal(parse("{\"ulid\":\"zz\",\"locators\":[\"2001:db8::1\"],\"ttl\":1}", &why), 0);
	assert_int_equal(tables_peer_locators(&t, &o, 0, &why), -1);
	assert_string_equal(why, "'ulid' must be an IPv6 address");
	assert_int_equal(parse("{\"ulid\":\"fd00::1\",\"locators\":[],\"ttl\":1}", &why), 0);
	assert_int_equal(tables_peer_locators(&t, &o, 0, &why), -1);
	assert_int_equal(parse("{\"ulid\":\"fd00::1\",\"locators\":[\"x\"],\"ttl\":1}", &why), 0);
	assert_int_equal(tables_peer_locators(&t, &o, 0, &why), -1);
	assert_int_equal(parse("{\"ulid\":\"fd00::1\",\"locators\":[\"::1\"],\"ttl\":-1}", &why), 0);
	assert_int_equal(tables_peer_locators(&t, &o, 0, &why), -1);
	assert_int_equal(t.st.peer_rejected, 4);
	tables_free(&t);
}

static void test_lease_table(void **state)
{
	struct tables t;
	const char *why;
	assert_int_equal(tables_init(&t, 16, 2, 1), 0);
	struct pshim6_conf *c = calloc(1, sizeof(*c));
	assert_int_equal(pshim6_conf_load_string(
		"site = { name = \"s\"; cmula_prefixes = [ \"fd00:10::/64\" ]; key_file = \"k\"; };\n"
		"inside = { port = \"p0\"; };\n"
		"isps = ( { name = \"x\"; pa_prefix = \"2001:db8:1::/48\"; port = \"p1\"; next_hop = \"fe80::1\"; } );\n",
		"t", c, NULL, NULL), 0);
	const char *add = "{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::%x\",\"mode\":\"cga\","
			  "\"pds\":\"00112233\",\"duid\":\"000100\",\"iaid\":%d}";
	char m[512];
	for (int i = 1; i <= 2; i++) {
		snprintf(m, sizeof m, add, i, i);
		assert_int_equal(parse(m, &why), 0);
		assert_int_equal(tables_lease(&t, c, &o, 0, &why), 0);
	}
	snprintf(m, sizeof m, add, 3, 3);
	assert_int_equal(parse(m, &why), 0);
	assert_int_equal(tables_lease(&t, c, &o, 0, &why), -1);   /* full: refused, not evicted */
	assert_string_equal(why, "lease table full");
	snprintf(m, sizeof m, add, 1, 9);                         /* renew in place */
	assert_int_equal(parse(m, &why), 0);
	assert_int_equal(tables_lease(&t, c, &o, 0, &why), 0);
	struct in6_addr a;
	inet_pton(AF_INET6, "fd00:10::1", &a);
	const struct lease_entry *l = addrtab_find(&t.leases, &a);
	assert_non_null(l);
	assert_int_equal(l->iaid, 9);
	assert_int_equal(l->pds_len, 4);
	assert_int_equal(l->pds[3], 0x33);
	/* a line the other proxy replicated ends with its "sync" mark: no
	 * field of the lease, the same lease applied */
	assert_int_equal(parse("{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::1\",\"mode\":\"cga\","
			       "\"iaid\":10,\"pds\":\"00112233\",\"duid\":\"000100\",\"sync\":4294967295}", &why), 0);
	assert_int_equal(tables_lease(&t, c, &o, 0, &why), 0);
	assert_int_equal(l->iaid, 10);
	assert_int_equal(l->pds_len, 4);
	/* a forward ends with "fwd", the other proxy's event: ignored too, and
	 * the id peer.c gave the entry outlives a rewrite in place (a renew by
	 * this proxy's own server, as here) */
	((struct lease_entry *)l)->fwd_id = 77;
	assert_int_equal(parse("{\"cmd\":\"lease\",\"event\":\"renew\",\"cmula\":\"fd00:10::1\",\"mode\":\"cga\","
			       "\"iaid\":11,\"pds\":\"00112233\",\"duid\":\"000100\",\"fwd\":4294967295}", &why), 0);
	assert_int_equal(tables_lease(&t, c, &o, 0, &why), 0);
	assert_int_equal(l->iaid, 11);
	assert_int_equal(l->fwd_id, 77);
	assert_false(l->fwd_ours);
	((struct lease_entry *)l)->fwd_ours = true;   /* an id drawn here stays ours */
	assert_int_equal(tables_lease(&t, c, &o, 0, &why), 0);
	assert_int_equal(l->fwd_id, 77);
	assert_true(l->fwd_ours);
	assert_int_equal(parse("{\"cmd\":\"lease\",\"event\":\"release\",\"cmula\":\"fd00:10::1\"}", &why), 0);
	assert_int_equal(tables_lease(&t, c, &o, 0, &why), 0);
	assert_null(addrtab_find(&t.leases, &a));
	/* given again, in the slot it left: a new lease, no event of the other proxy's */
	snprintf(m, sizeof m, add, 1, 1);
	assert_int_equal(parse(m, &why), 0);
	assert_int_equal(tables_lease(&t, c, &o, 0, &why), 0);
	assert_non_null(l = addrtab_find(&t.leases, &a));
	assert_int_equal(l->fwd_id, 0);
	assert_false(l->fwd_ours);
	assert_int_equal(parse("{\"cmd\":\"lease\",\"event\":\"release\",\"cmula\":\"fd00:10::1\"}", &why), 0);
	assert_int_equal(tables_lease(&t, c, &o, 0, &why), 0);
	/* not our prefix; bad hex; bad event */
	snprintf(m, sizeof m, "{\"event\":\"add\",\"cmula\":\"fd00:99::1\",\"mode\":\"cga\",\"pds\":\"00\",\"duid\":\"00\",\"iaid\":1}");
	assert_int_equal(parse(m, &why), 0);
	assert_int_equal(tables_lease(&t, c, &o, 0, &why), -1);
	snprintf(m, sizeof m, "{\"event\":\"add\",\"cmula\":\"fd00:10::5\",\"mode\":\"cga\",\"pds\":\"0g\",\"duid\":\"00\",\"iaid\":1}");
	assert_int_equal(parse(m, &why), 0);
	assert_int_equal(tables_lease(&t, c, &o, 0, &why), -1);
	snprintf(m, sizeof m, "{\"event\":\"grab\",\"cmula\":\"fd00:10::5\"}");
	assert_int_equal(parse(m, &why), 0);
	assert_int_equal(tables_lease(&t, c, &o, 0, &why), -1);
	assert_int_equal(t.st.lease_full, 1);
	assert_int_equal(t.st.lease_rejected, 3);
	free(c);
	tables_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_accepts_protocol),
		cmocka_unit_test(test_json_rejects),
		cmocka_unit_test(test_addrtab_bound),
		cmocka_unit_test(test_peer_table),
		cmocka_unit_test(test_lease_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
