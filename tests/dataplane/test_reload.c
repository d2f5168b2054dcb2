/*
 * Config reload: which changes a running dataplane takes, which it refuses
 * (naming the key), what it reports, and the site config it builds from the
 * new file.  Configs are loaded from text by the real loader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "reload.h"

/* A valid appliance config; %s slots: site mode, ISP x fields, dataplane fields. */
static const char *const base =
	"site = { name = \"s\"; cmula_prefixes = [ \"fd00:1:1:1::/64\" ]; key_file = \"/k\"; mode = \"%s\"; };\n"
	"inside = { port = \"net_af_packet0,iface=a\"; name = \"in0\"; mtu = 1500; address = \"fd00:1:1:ffff::1/64\";\n"
	"  next_hop = \"fd00:1:1:1::11\"; };\n"
	"isps = (\n"
	"  { name = \"x\"; pa_prefix = \"2001:db8:10:1::/64\"; port = \"net_af_packet1,iface=b\";\n"
	"    address = \"2001:db8:10:ffff::2/64\"; next_hop = \"2001:db8:10:ffff::1\"; %s },\n"
	"  { name = \"y\"; pa_prefix = \"2001:db8:20:1::/64\"; port = \"net_af_packet2,iface=c\";\n"
	"    address = \"2001:db8:20:ffff::2/64\"; next_hop = \"2001:db8:20:ffff::1\"; mtu = 1500; weight = 1; }\n"
	");\n"
	"engine = { max_contexts = 1024; };\n"
	"dataplane = { channel = \"/run/x.sock\"; max_contexts = 1024; %s };\n";

static void load(struct pshim6_conf *c, const char *mode, const char *isp_x, const char *dpl)
{
	static char text[4096];
	snprintf(text, sizeof(text), base, mode, isp_x, dpl);
	assert_int_equal(pshim6_conf_load_string(text, "test.conf", c, pshim6_conf_error_print, stderr), 0);
}

static struct pshim6_conf a, b;

static void test_reloadable_changes(void **state)
{
	char why[160], what[1024];
	(void)state;
	load(&a, "cga", "mtu = 1500; weight = 1;", "pmtu = \"both\";");
	load(&b, "cga", "mtu = 1400; weight = 3; next_hop_mac = \"02:00:00:00:00:0a\";",
	     "pmtu = \"icmp\"; nd_reachable_ms = 5000; idle_polls = 7;");
	assert_int_equal(dp_reload_check(&a, &b, why, sizeof(why)), 0);
	assert_int_equal(dp_reload_describe(&a, &b, what, sizeof(what)), 6);
	assert_non_null(strstr(what, "isps.x.mtu 1500 -> 1400"));
	assert_non_null(strstr(what, "isps.x.weight 1 -> 3"));
	assert_non_null(strstr(what, "isps.x.next_hop_mac (neighbor discovery) -> 02:00:00:00:00:0a"));
	assert_non_null(strstr(what, "dataplane.pmtu both -> icmp"));
	assert_non_null(strstr(what, "dataplane.nd_reachable_ms 30000 -> 5000"));
	assert_non_null(strstr(what, "dataplane.idle_polls 100 -> 7"));
	assert_null(strstr(what, "; ;"));
	assert_int_not_equal(what[strlen(what) - 1], ' ');
	/* and back: the MAC goes back to ND */
	assert_int_equal(dp_reload_describe(&b, &a, what, sizeof(what)), 6);
	assert_non_null(strstr(what, "isps.x.next_hop_mac 02:00:00:00:00:0a -> (neighbor discovery)"));
}

/* Probes are taken on reload: a new target, more targets, the same ones in
 * another order, a drain, none, and the timing. */
static void test_probe_changes(void **state)
{
	char why[160], what[1024];
	struct dp_site s;
	(void)state;
	load(&a, "cga", "", "");
	load(&b, "cga", "probe = \"2001:db8:99::1\";", "probe_interval_ms = 300; probe_down_after = 4; probe_up_after = 1;");
	assert_int_equal(dp_reload_check(&a, &b, why, sizeof(why)), 0);
	assert_int_equal(dp_reload_describe(&a, &b, what, sizeof(what)), 4);
	assert_non_null(strstr(what, "isps.x.probe (none) -> 2001:db8:99::1"));
	assert_non_null(strstr(what, "dataplane.probe_interval_ms 1000 -> 300"));
	assert_non_null(strstr(what, "dataplane.probe_down_after 3 -> 4"));
	assert_non_null(strstr(what, "dataplane.probe_up_after 2 -> 1"));
	memset(&s, 0, sizeof(s));
	dp_site_from_conf(&s, &b);
	assert_int_equal(s.isp[0].probe.n, 1);
	assert_int_equal(s.isp[1].probe.n, 0);
	assert_int_equal(s.isp[0].probe.a[0][0], 0x20);
	assert_int_equal(s.isp[0].probe.a[0][15], 1);
	assert_int_equal(s.isp[0].probe.a[1][0], 0);   /* unused slots are zero: sets compare whole */
	assert_int_equal(s.probe_interval_ms, 300);
	assert_int_equal(s.probe_down_after, 4);
	assert_int_equal(s.probe_up_after, 1);
	load(&a, "cga", "probe = \"2001:db8:99::2\";", "");
	assert_int_equal(dp_reload_describe(&b, &a, what, sizeof(what)), 4);
	assert_non_null(strstr(what, "isps.x.probe 2001:db8:99::1 -> 2001:db8:99::2"));
	load(&a, "cga", "probe = [ \"2001:db8:99::1\", \"2001:db8:98::1\" ];", "probe_interval_ms = 300; probe_down_after = 4; probe_up_after = 1;");
	assert_int_equal(dp_reload_describe(&b, &a, what, sizeof(what)), 1);
	assert_non_null(strstr(what, "isps.x.probe 2001:db8:99::1 -> 2001:db8:99::1,2001:db8:98::1"));
	dp_site_from_conf(&s, &a);
	assert_int_equal(s.isp[0].probe.n, 2);
	assert_int_equal(s.isp[0].probe.a[1][5], 0x98);
	load(&b, "cga", "probe = [ \"2001:db8:98::1\", \"2001:db8:99::1\" ];", "probe_interval_ms = 300; probe_down_after = 4; probe_up_after = 1;");
	assert_int_equal(dp_reload_describe(&a, &b, what, sizeof(what)), 1);
	assert_non_null(strstr(what, "isps.x.probe 2001:db8:99::1,2001:db8:98::1 -> 2001:db8:98::1,2001:db8:99::1"));
	load(&b, "cga", "probe = \"2001:db8:99::1\";", "probe_interval_ms = 300; probe_down_after = 4; probe_up_after = 1;");
	load(&a, "cga", "probe = \"2001:db8:99::1\"; drain = true;", "probe_interval_ms = 300; probe_down_after = 4; probe_up_after = 1;");
	assert_int_equal(dp_reload_check(&b, &a, why, sizeof(why)), 0);
	assert_int_equal(dp_reload_describe(&b, &a, what, sizeof(what)), 1);
	assert_non_null(strstr(what, "isps.x.drain false -> true"));
	dp_site_from_conf(&s, &a);
	assert_true(s.isp[0].drain);
	assert_false(s.isp[1].drain);
	load(&a, "cga", "", "probe_interval_ms = 300; probe_down_after = 4; probe_up_after = 1;");
	assert_int_equal(dp_reload_describe(&b, &a, what, sizeof(what)), 1);
	assert_non_null(strstr(what, "isps.x.probe 2001:db8:99::1 -> (none)"));
	dp_site_from_conf(&s, &a);
	assert_int_equal(s.isp[0].probe.n, 0);
}

static void test_nothing_changed(void **state)
{
	char why[160], what[64];
	(void)state;
	load(&a, "cga", "mtu = 1500; weight = 1; cost = 5;", "");
	load(&b, "cga", "mtu = 1500; weight = 1; cost = 9;", "");   /* cost is control's business */
	assert_int_equal(dp_reload_check(&a, &b, why, sizeof(why)), 0);
	assert_int_equal(dp_reload_describe(&a, &b, what, sizeof(what)), 0);
	assert_string_equal(what, "");
}

/* Each restart-only key, changed alone, is refused with its name. */
static void test_restart_keys_refused(void **state)
{
	static const struct { const char *from, *to, *key; } cases[] = {
		{ "cmula_prefixes = [ \"fd00:1:1:1::/64\" ]", "cmula_prefixes = [ \"fd00:1:1:2::/64\" ]", "site.cmula_prefixes" },
		{ "iface=a", "iface=z", "inside.port" },
		{ "name = \"in0\"", "name = \"in1\"", "inside.name" },
		{ "address = \"fd00:1:1:ffff::1/64\"", "address = \"fd00:1:1:ffff::5/64\"", "inside.address" },
		{ "next_hop = \"fd00:1:1:1::11\"", "next_hop = \"fd00:1:1:1::12\"", "inside.next_hop" },
		{ "pa_prefix = \"2001:db8:10:1::/64\"", "pa_prefix = \"2001:db8:11:1::/64\"", "isps[0].pa_prefix (x)" },
		{ "iface=b", "iface=q", "isps[0].port (x)" },
		{ "address = \"2001:db8:20:ffff::2/64\"", "address = \"2001:db8:20:ffff::3/64\"", "isps[1].address (y)" },
		{ "next_hop = \"2001:db8:10:ffff::1\"", "next_hop = \"2001:db8:10:ffff::9\"", "isps[0].next_hop (x)" },
		{ "name = \"y\"", "name = \"z\"", "isps[1].name" },
		{ "channel = \"/run/x.sock\"", "channel = \"/run/y.sock\"", "dataplane.channel" },
		{ "channel = \"/run/x.sock\"; max_contexts = 1024", "channel = \"/run/x.sock\"; max_contexts = 2048", "dataplane.max_contexts" },
		{ "channel = \"/run/x.sock\"; max_contexts = 1024;", "channel = \"/run/x.sock\"; max_contexts = 1024; natv6_flows = 128;", "dataplane.natv6_flows" },
	};
	char text[4096], why[160];
	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p;
		load(&a, "cga", "mtu = 1500;", "");
		snprintf(text, sizeof(text), base, "cga", "mtu = 1500;", "");
		p = strstr(text, cases[i].from);
		assert_non_null(p);
		{
			char out[4096];
			size_t pre = (size_t)(p - text);
			snprintf(out, sizeof(out), "%.*s%s%s", (int)pre, text, cases[i].to, p + strlen(cases[i].from));
			assert_int_equal(pshim6_conf_load_string(out, "t.conf", &b, pshim6_conf_error_print, stderr), 0);
		}
		why[0] = 0;
		assert_int_equal(dp_reload_check(&a, &b, why, sizeof(why)), -1);
		assert_string_equal(why, cases[i].key);
	}
	load(&a, "cga", "mtu = 1500;", "");
	load(&b, "hba", "mtu = 1500;", "");
	assert_int_equal(dp_reload_check(&a, &b, why, sizeof(why)), -1);
	assert_string_equal(why, "site.mode");
	load(&b, "cga", "mtu = 1500;", "lcores = [ 1 ];");
	assert_int_equal(dp_reload_check(&a, &b, why, sizeof(why)), -1);
	assert_string_equal(why, "dataplane.lcores");
	load(&b, "cga", "mtu = 1500;", "eal_args = [ \"--in-memory\" ];");
	assert_int_equal(dp_reload_check(&a, &b, why, sizeof(why)), -1);
	assert_string_equal(why, "dataplane.eal_args");
}

static void test_site_from_new_conf(void **state)
{
	struct dp_site s;
	(void)state;
	memset(&s, 0, sizeof(s));
	load(&a, "cga", "mtu = 1400; weight = 3;", "pmtu = \"mss\";");
	dp_site_from_conf(&s, &a);
	assert_int_equal(s.n_isp, 2);
	assert_int_equal(s.isp[0].mtu, 1400);
	assert_int_equal(s.isp[0].weight, 3);
	assert_int_equal(s.weight_total, 4);
	assert_false(s.ptb);
	assert_true(s.mss);
	/* MSS on a 1400 link: 1400 - 40 (IPv6) - 20 (TCP) - 8 (payload header) when shimmed */
	assert_int_equal(s.isp[0].mss_shim, 1400 - 68);
	assert_int_equal(s.isp[0].mss_nat, 1400 - 60);
	assert_int_equal(s.mss_in, 1400 - 60);   /* the smallest of the ISPs */
	load(&b, "cga", "mtu = 1500; weight = 1;", "pmtu = \"icmp\";");
	dp_site_from_conf(&s, &b);
	assert_int_equal(s.isp[0].mtu, 1500);
	assert_int_equal(s.weight_total, 2);
	assert_true(s.ptb);
	assert_false(s.mss);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reloadable_changes),
		cmocka_unit_test(test_probe_changes),
		cmocka_unit_test(test_nothing_changed),
		cmocka_unit_test(test_restart_keys_refused),
		cmocka_unit_test(test_site_from_new_conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
