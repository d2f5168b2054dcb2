/* CMocka suite for the config loader: parsing, validation, errors, bounds,
 * normal form. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pshim6/conf.h"

#define BASE \
	"site = { name = \"s\"; cmula_prefixes = [ \"fd00:10::/64\" ]; key_file = \"k\"; };\n" \
	"inside = { port = \"p0\"; };\n"
#define ONE_ISP \
	"isps = ( { name = \"x\"; pa_prefix = \"2001:db8:1::/48\"; port = \"p1\"; next_hop = \"fe80::1\"; weight = 3; }," \
	" { name = \"y\"; pa_prefix = \"2001:db8:2::/48\"; port = \"p2\"; next_hop = \"fe80::2\"; } );\n"

struct errs {
	unsigned n;
	unsigned lines[64];
	char msgs[64][256];
};

static void collect(void *arg, const char *file, unsigned line, const char *msg)
{
	struct errs *e = arg;
	if (e->n < 64) {
		e->lines[e->n] = line;
		snprintf(e->msgs[e->n], sizeof e->msgs[0], "%s:%u: %s", file, line, msg);
	}
	e->n++;
}

static struct pshim6_conf *conf;

static int setup(void **state) { conf = calloc(1, sizeof(*conf)); return conf ? 0 : -1; }
static int teardown(void **state) { free(conf); return 0; }

static int load(const char *text, struct errs *e)
{
	memset(e, 0, sizeof(*e));
	return pshim6_conf_load_string(text, "t.conf", conf, collect, e);
}

static void test_defaults_are_rfc(void **state)
{
	pshim6_conf_defaults(conf);
	/* RFC 5533 section 17 */
	assert_int_equal(conf->shim6.i1_timeout_ms, 4000);
	assert_int_equal(conf->shim6.i1_retries, 4);
	assert_int_equal(conf->shim6.i2_retries, 2);
	assert_int_equal(conf->shim6.i2bis_retries, 2);
	assert_int_equal(conf->shim6.no_r1_holddown_ms, 60000);
	assert_int_equal(conf->shim6.icmp_holddown_ms, 600000);
	assert_int_equal(conf->shim6.validator_lifetime_ms, 30000);
	assert_int_equal(conf->shim6.max_update_timeout_ms, 120000);
	/* RFC 5534 section 6 */
	assert_int_equal(conf->reap.initial_probe_ms, 500);
	assert_int_equal(conf->reap.initial_probes, 4);
	assert_int_equal(conf->reap.max_probe_backoff_ms, 60000);
	assert_int_equal(conf->control.socket_mode, 0600);
	assert_int_equal(conf->dnsalg.ulid_rrtype, 65300);
	assert_int_equal(conf->te.ingress_isp, -1);
}

static void test_minimal_loads(void **state)
{
	struct errs e;
	assert_int_equal(load(BASE ONE_ISP, &e), 0);
	assert_int_equal(e.n, 0);
	assert_int_equal(conf->n_isps, 2);
	assert_string_equal(conf->isps[1].name, "y");
	assert_int_equal(conf->isps[0].weight, 3);
	assert_int_equal(conf->isps[1].weight, 1);  /* element default */
	assert_int_equal(conf->isps[1].mtu, 1500);
	assert_int_equal(conf->isps[0].pa_prefix.len, 48);
	assert_false(conf->dnsalg.enabled);
	assert_int_equal(conf->peer.role, PSHIM6_PEER_NONE);
	assert_int_equal(pshim6_conf_isp_index(conf, "y"), 1);
	assert_int_equal(pshim6_conf_isp_index(conf, "z"), -1);
	struct in6_addr a;
	inet_pton(AF_INET6, "2001:db8:2:5::9", &a);
	assert_int_equal(pshim6_conf_isp_of(conf, &a), 1);
	inet_pton(AF_INET6, "fd00:10::9", &a);
	assert_int_equal(pshim6_conf_isp_of(conf, &a), -1);
	assert_int_equal(pshim6_conf_cmula_index(conf, &a), 0);
}

static void test_prefix_parse(void **state)
{
	struct pshim6_conf_prefix p;
	assert_int_equal(pshim6_conf_prefix_parse("2001:db8::/32", &p), 0);
	assert_int_equal(p.len, 32);
	assert_int_equal(pshim6_conf_prefix_parse("2001:db8::1/32", &p), -ERANGE);
	assert_int_equal(pshim6_conf_prefix_parse("2001:db8::/129", &p), -EINVAL);
	assert_int_equal(pshim6_conf_prefix_parse("2001:db8::", &p), -EINVAL);
	assert_int_equal(pshim6_conf_prefix_parse("2001:db8::/", &p), -EINVAL);
	assert_int_equal(pshim6_conf_prefix_parse("2001:db8::/+3", &p), -EINVAL);
	assert_int_equal(pshim6_conf_prefix_parse("10.0.0.0/8", &p), -EINVAL);
	assert_int_equal(pshim6_conf_prefix_parse("fe80::%eth0/64", &p), -EINVAL);
	assert_int_equal(pshim6_conf_prefix_parse("::/0", &p), 0);
	assert_int_equal(pshim6_conf_prefix_parse("2001:db8:8000::/33", &p), 0);
	struct in6_addr a;
	inet_pton(AF_INET6, "2001:db8:ffff::1", &a);
	assert_true(pshim6_conf_prefix_contains(&p, &a));
	inet_pton(AF_INET6, "2001:db8:7fff::1", &a);
	assert_false(pshim6_conf_prefix_contains(&p, &a));
	char buf[64];
	assert_string_equal(pshim6_conf_prefix_str(&p, buf, sizeof buf), "2001:db8:8000::/33");
}

static void test_every_error_reported_in_line_order(void **state)
{
	struct errs e;
	const char *t =
		"site = { name = \"s\"; cmula_prefixes = [ \"fd00:10::/64\" ]; key_file = \"k\"; bogus = 1; };\n"
		"inside = { port = \"p0\"; mtu = 99; };\n"
		"isps = ( { name = \"x\"; pa_prefix = \"2001:db8:1::1/48\"; port = \"p1\"; next_hop = \"fe80::1\"; } );\n"
		"reap = { send_timeout_ms = 500; keepalive_interval_ms = 600; };\n"
		"control = { socket_mode = \"0644\"; };\n";
	assert_int_equal(load(t, &e), -EINVAL);
	assert_int_equal(e.n, 5);
	for (unsigned i = 0; i < e.n; i++)
		assert_int_equal(e.lines[i], i + 1);
	assert_string_equal(e.msgs[0], "t.conf:1: unknown key 'bogus' in site");
	assert_string_equal(e.msgs[1], "t.conf:2: 'mtu': 99 out of range 1280..9216");
	assert_string_equal(e.msgs[4], "t.conf:5: 'socket_mode': mode 0644 gives access to every local user; use 0600 or 0660");
}

static void test_syntax_error_has_line(void **state)
{
	struct errs e;
	assert_int_equal(load(BASE "isps = ( { name = ; } );\n", &e), -EINVAL);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.lines[0], 3);
}

static void test_include_refused_in_strings(void **state)
{
	struct errs e;
	assert_int_equal(load(BASE "\n@include \"/etc/passwd\"\n", &e), -EINVAL);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.lines[0], 4);
}

static void test_missing_file(void **state)
{
	struct errs e = { 0 };
	assert_int_equal(pshim6_conf_load("/nonexistent/pshim6.conf", conf, collect, &e), -ENOENT);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msgs[0], "/nonexistent/pshim6.conf"));
}

static void test_isp_bound(void **state)
{
	char t[8192];
	struct errs e;
	for (unsigned n = 8; n <= 9; n++) {
		int o = snprintf(t, sizeof t, BASE "isps = (");
		for (unsigned i = 0; i < n; i++)
			o += snprintf(t + o, sizeof t - (size_t)o,
				      "%s{ name = \"i%u\"; pa_prefix = \"2001:db8:%x::/48\"; port = \"p\"; next_hop = \"fe80::1\"; }",
				      i ? "," : "", i, i + 1);
		snprintf(t + o, sizeof t - (size_t)o, ");\n");
		int rc = load(t, &e);
		if (n == PSHIM6_CONF_MAX_ISPS) {
			assert_int_equal(rc, 0);
			assert_int_equal(conf->n_isps, 8);
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_int_equal(conf->n_isps, PSHIM6_CONF_MAX_ISPS); /* never past the array */
			assert_non_null(strstr(e.msgs[0], "at most 8"));
		}
	}
}

static void test_hosts_bound(void **state)
{
	size_t cap = 64 * 1024;
	char *t = malloc(cap);
	struct errs e;
	for (unsigned n = PSHIM6_CONF_MAX_HOSTS; n <= PSHIM6_CONF_MAX_HOSTS + 1; n++) {
		int o = snprintf(t, cap, BASE ONE_ISP "hosts = (");
		for (unsigned i = 0; i < n; i++)
			o += snprintf(t + o, cap - (size_t)o, "%s{ name = \"h%u\"; cmula = \"fd00:10::%x\"; }",
				      i ? "," : "", i, i + 1);
		snprintf(t + o, cap - (size_t)o, ");\n");
		int rc = load(t, &e);
		assert_int_equal(rc, n == PSHIM6_CONF_MAX_HOSTS ? 0 : -EINVAL);
		assert_true(conf->n_hosts <= PSHIM6_CONF_MAX_HOSTS);
	}
	free(t);
}

static void test_te_rules_resolve(void **state)
{
	struct errs e;
	const char *t = BASE ONE_ISP
		"te = { ingress = \"prefer\"; ingress_isp = \"y\";\n"
		"  groups = ( { name = \"g\"; prefixes = [ \"fd00:10::/96\" ]; } );\n"
		"  rules = ( { group = \"g\"; isp = \"y\"; },\n"
		"            { destination = \"2001:db8:99::/48\"; weights = { y = 5; x = 2; }; } ); };\n";
	assert_int_equal(load(t, &e), 0);
	assert_int_equal(conf->te.ingress, PSHIM6_TE_INGRESS_PREFER);
	assert_int_equal(conf->te.ingress_isp, 1);
	assert_int_equal(conf->te.n_rules, 2);
	assert_int_equal(conf->te.rules[0].group, 0);
	assert_int_equal(conf->te.rules[0].isp, 1);
	assert_false(conf->te.rules[0].has_destination);
	assert_int_equal(conf->te.rules[0].line, 6);
	assert_int_equal(conf->te.rules[1].isp, -1);
	assert_int_equal(conf->te.rules[1].group, -1);
	assert_int_equal(conf->te.rules[1].weights[0], 2);
	assert_int_equal(conf->te.rules[1].weights[1], 5);
	assert_true(conf->te.rules[1].has_destination);
	assert_int_equal(conf->te.rules[1].destination.len, 48);
}

static void test_weights_must_not_all_be_zero(void **state)
{
	struct errs e;
	const char *t = BASE
		"isps = ( { name = \"x\"; pa_prefix = \"2001:db8:1::/48\"; port = \"p1\"; next_hop = \"fe80::1\"; weight = 0; } );\n";
	assert_int_equal(load(t, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.lines[0], 3);
}

static void test_normal_form_round_trip(void **state)
{
	struct errs e;
	const char *t = BASE ONE_ISP
		"dnsalg = { upstreams = [ \"2001:db8::53\", \"[2001:db8::54]:5353\" ]; zone = \"site.example\"; };\n"
		"hosts = ( { name = \"h\"; cmula = \"fd00:10::1\"; } );\n"
		"peers = ( { ulid = \"fd00:20::1\"; locators = [ \"2001:db8:9::1\" ]; } );\n"
		"peer = { role = \"backup\"; address = \"fd00:10::fffe\"; port = 7000; key_file = \"/k\"; dead_ms = 900; };\n"
		"te = { rules = ( { destination = \"::/0\"; weights = { x = 1; }; } ); };\n";
	assert_int_equal(load(t, &e), 0);
	assert_string_equal(conf->dnsalg.zone, "site.example.");
	assert_int_equal(conf->dnsalg.upstreams[0].port, 53);
	assert_int_equal(conf->dnsalg.upstreams[1].port, 5353);
	char *a = NULL, *b = NULL;
	size_t al, bl;
	FILE *f = open_memstream(&a, &al);
	pshim6_conf_print(f, conf);
	fclose(f);
	assert_int_equal(load(a, &e), 0);
	f = open_memstream(&b, &bl);
	pshim6_conf_print(f, conf);
	fclose(f);
	assert_string_equal(a, b);
	assert_int_equal(conf->peer.role, PSHIM6_PEER_BACKUP);
	assert_int_equal(conf->peer.port, 7000);
	assert_string_equal(conf->peer.key_file, "/k");
	assert_int_equal(conf->peer.dead_ms, 900);
	assert_int_equal(conf->peer.heartbeat_ms, 200);
	assert_true(conf->peer.replicate);
	assert_true(conf->dnsalg.enabled);
	free(a);
	free(b);
}

static void test_hba_mode_needs_sets(void **state)
{
	struct errs e;
	const char *t =
		"site = { name = \"s\"; cmula_prefixes = [ \"fd00:10::/64\" ]; key_file = \"k\"; mode = \"hba\"; };\n"
		"inside = { port = \"p0\"; };\n" ONE_ISP
		"hosts = ( { name = \"h\"; cmula = \"fd00:10::1\"; hba = [ \"2001:db8:1::1\", \"2001:db8:2::1\" ]; } );\n";
	assert_int_equal(load(t, &e), 0);
	assert_int_equal(conf->hosts[0].n_hba, 2);
	const char *bad =
		"site = { name = \"s\"; cmula_prefixes = [ \"fd00:10::/64\" ]; key_file = \"k\"; mode = \"hba\"; };\n"
		"inside = { port = \"p0\"; };\n" ONE_ISP
		"hosts = ( { name = \"h\"; cmula = \"fd00:10::1\"; hba = [ \"2001:db8:2::1\", \"2001:db8:1::1\" ]; } );\n";
	assert_int_equal(load(bad, &e), -EINVAL);
	assert_int_equal(e.n, 2);
}

static void test_host_pds(void **state)
{
	struct errs e;
	assert_int_equal(load(BASE ONE_ISP "hosts = ( { name = \"h\"; cmula = \"fd00:10::1\"; pds = \"00A1ff\"; } );\n", &e), 0);
	assert_int_equal(conf->hosts[0].pds_len, 3);
	assert_int_equal(conf->hosts[0].pds[1], 0xa1);
	assert_int_equal(conf->hosts[0].pds[2], 0xff);
	const char *bad[] = { "\"0\"", "\"0g\"", "\"\"", "12" };
	for (int i = 0; i < 4; i++) {
		char t[1024];
		snprintf(t, sizeof t, BASE ONE_ISP "hosts = ( { name = \"h\"; cmula = \"fd00:10::1\"; pds = %s; } );\n", bad[i]);
		assert_int_equal(load(t, &e), -EINVAL);
		assert_int_equal(e.n, 1);
		assert_int_equal(e.lines[0], 4);
	}
}

/* The loaded config's normal form (pshim6-control -nv); free() it. */
static char *normal_form(void)
{
	char *out = NULL;
	size_t ol;
	FILE *f = open_memstream(&out, &ol);
	assert_non_null(f);
	pshim6_conf_print(f, conf);
	fclose(f);
	return out;
}

/* peer.alt_addresses: the other proxy's addresses on more paths; at most
 * PSHIM6_CONF_MAX_PEER_PATHS in all, none twice, errors at the element's
 * line; absent from the normal form while empty (old files print as before) */
static void test_peer_paths(void **state)
{
	struct errs e;
	char t[4096];
	snprintf(t, sizeof t, BASE ONE_ISP "peer = { role = \"primary\"; address = \"fd00:98::2\";\n"
		 "  alt_addresses = [ \"fd00:99::2\", \"fd00:97::2\" ]; key_file = \"/k\"; };\n");
	assert_int_equal(load(t, &e), 0);
	assert_int_equal(conf->peer.n_alt_addresses, 2);
	char a[INET6_ADDRSTRLEN];
	assert_string_equal(inet_ntop(AF_INET6, &conf->peer.alt_addresses[1], a, sizeof a), "fd00:97::2");
	char *out = normal_form();
	assert_non_null(strstr(out, "alt_addresses = [ \"fd00:99::2\", \"fd00:97::2\" ];"));
	free(out);
	/* one path: the key is not printed */
	snprintf(t, sizeof t, BASE ONE_ISP "peer = { role = \"primary\"; address = \"fd00:98::2\"; key_file = \"/k\"; };\n");
	assert_int_equal(load(t, &e), 0);
	assert_int_equal(conf->peer.n_alt_addresses, 0);
	out = normal_form();
	assert_null(strstr(out, "alt_addresses"));
	free(out);
	/* the bound: 3 alternates load, 4 do not */
	for (unsigned n = PSHIM6_CONF_MAX_PEER_PATHS - 1; n <= PSHIM6_CONF_MAX_PEER_PATHS; n++) {
		int o = snprintf(t, sizeof t, BASE ONE_ISP "peer = { role = \"backup\"; address = \"fd00:98::2\"; key_file = \"/k\";\n alt_addresses = [");
		for (unsigned i = 0; i < n; i++)
			o += snprintf(t + o, sizeof t - (size_t)o, "%s\"fd00:99::%x\"", i ? ", " : " ", i + 1);
		snprintf(t + o, sizeof t - (size_t)o, " ]; };\n");
		int rc = load(t, &e);
		assert_int_equal(rc, n < PSHIM6_CONF_MAX_PEER_PATHS ? 0 : -EINVAL);
		assert_true(conf->peer.n_alt_addresses <= PSHIM6_CONF_MAX_PEER_PATHS - 1);
		if (rc) {
			assert_int_equal(e.n, 1);
			assert_int_equal(e.lines[0], 5);
			assert_non_null(strstr(e.msgs[0], "at most 3"));
		}
	}
	/* duplicates, peer.address again, multicast: each at its own line */
	snprintf(t, sizeof t, BASE ONE_ISP "peer = { role = \"backup\"; address = \"fd00:98::2\"; key_file = \"/k\";\n"
		 "  alt_addresses = [ \"fd00:99::2\",\n"
		 "    \"fd00:99::2\",\n"
		 "    \"fd00:98::2\" ]; };\n");
	assert_int_equal(load(t, &e), -EINVAL);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.msgs[0], "t.conf:6: peer.alt_addresses: fd00:99::2 listed twice");
	assert_string_equal(e.msgs[1], "t.conf:7: peer.alt_addresses: fd00:98::2 is already peer.address");
	snprintf(t, sizeof t, BASE ONE_ISP "peer = { role = \"backup\"; address = \"fd00:98::2\"; key_file = \"/k\";\n"
		 "  alt_addresses = [ \"ff02::2\" ]; };\n");
	assert_int_equal(load(t, &e), -EINVAL);
	assert_non_null(strstr(e.msgs[0], "not a unicast address"));
}

/* peer.sources: our own address on each path, one per path in path order;
 * printed in the normal form, absent while empty; errors at file:line */
static void test_peer_sources(void **state)
{
	struct errs e;
	char t[4096], a[INET6_ADDRSTRLEN];
	snprintf(t, sizeof t, BASE ONE_ISP "peer = { role = \"primary\"; address = \"fd00:98::2\";\n"
		 "  alt_addresses = [ \"fd00:99::2\" ]; sources = [ \"fd00:98::1\", \"fd00:99::1\" ]; key_file = \"/k\"; };\n");
	assert_int_equal(load(t, &e), 0);
	assert_int_equal(conf->peer.n_sources, 2);
	assert_string_equal(inet_ntop(AF_INET6, &conf->peer.sources[1], a, sizeof a), "fd00:99::1");
	char *out = normal_form();
	assert_non_null(strstr(out, "sources = [ \"fd00:98::1\", \"fd00:99::1\" ];"));
	free(out);
	snprintf(t, sizeof t, BASE ONE_ISP "peer = { role = \"primary\"; address = \"fd00:98::2\"; key_file = \"/k\"; };\n");
	assert_int_equal(load(t, &e), 0);
	assert_int_equal(conf->peer.n_sources, 0);
	out = normal_form();
	assert_null(strstr(out, "sources"));
	free(out);
	/* one per path, no fewer and no more */
	snprintf(t, sizeof t, BASE ONE_ISP "peer = { role = \"backup\"; address = \"fd00:98::2\"; key_file = \"/k\";\n"
		 "  alt_addresses = [ \"fd00:99::2\" ];\n"
		 "  sources = [ \"fd00:98::1\" ]; };\n");
	assert_int_equal(load(t, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msgs[0], "t.conf:6: peer.sources: 1 addresses for 2 paths (one per path: "
			    "for peer.address, then for each of peer.alt_addresses)");
	snprintf(t, sizeof t, BASE ONE_ISP "peer = { role = \"backup\"; address = \"fd00:98::2\"; key_file = \"/k\";\n"
		 "  sources = [ \"fd00:98::1\", \"fd00:99::1\" ]; };\n");
	assert_int_equal(load(t, &e), -EINVAL);
	assert_non_null(strstr(e.msgs[0], "2 addresses for 1 paths"));
	/* not ours: multicast, and the other proxy's own address, each at its line */
	snprintf(t, sizeof t, BASE ONE_ISP "peer = { role = \"backup\"; address = \"fd00:98::2\"; key_file = \"/k\";\n"
		 "  alt_addresses = [ \"fd00:99::2\" ];\n"
		 "  sources = [ \"ff02::1\",\n"
		 "    \"fd00:99::2\" ]; };\n");
	assert_int_equal(load(t, &e), -EINVAL);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.msgs[0], "t.conf:6: peer.sources: ff02::1 is not a unicast address of this proxy");
	assert_string_equal(e.msgs[1], "t.conf:7: peer.sources: fd00:99::2 is an address of the other proxy");
	/* each source of its path's family: IPv4-mapped to IPv4-mapped, IPv6 to IPv6 */
	snprintf(t, sizeof t, BASE ONE_ISP "peer = { role = \"backup\"; address = \"fd00:98::2\"; key_file = \"/k\";\n"
		 "  alt_addresses = [ \"::ffff:192.0.2.2\", \"::ffff:192.0.2.6\", \"fd00:97::2\" ];\n"
		 "  sources = [ \"::ffff:192.0.2.1\",\n"
		 "    \"::ffff:192.0.2.5\", \"fd00:99::1\",\n"
		 "    \"::ffff:192.0.2.9\" ]; };\n");
	assert_int_equal(load(t, &e), -EINVAL);
	assert_int_equal(e.n, 3);
	assert_string_equal(e.msgs[0], "t.conf:6: peer.sources: ::ffff:192.0.2.1 is an IPv4 address, "
			    "and its path goes to fd00:98::2, an IPv6 one");
	assert_string_equal(e.msgs[1], "t.conf:7: peer.sources: fd00:99::1 is an IPv6 address, "
			    "and its path goes to ::ffff:192.0.2.6, an IPv4 one");
	assert_string_equal(e.msgs[2], "t.conf:8: peer.sources: ::ffff:192.0.2.9 is an IPv4 address, "
			    "and its path goes to fd00:97::2, an IPv6 one");
	snprintf(t, sizeof t, BASE ONE_ISP "peer = { role = \"backup\"; address = \"::ffff:192.0.2.2\"; key_file = \"/k\";\n"
		 "  alt_addresses = [ \"fd00:97::2\" ]; sources = [ \"::ffff:192.0.2.1\", \"fd00:97::1\" ]; };\n");
	assert_int_equal(load(t, &e), 0);
}

static void test_error_buffer_bounded(void **state)
{
	/* 300 unknown keys: every one counted, a bounded number shown, and a
	 * summary line says how many were not */
	size_t cap = 32 * 1024;
	char *t = malloc(cap);
	int o = snprintf(t, cap, BASE ONE_ISP "dhcp = {");
	for (int i = 0; i < 300; i++)
		o += snprintf(t + o, cap - (size_t)o, " k%d = 1;", i);
	snprintf(t + o, cap - (size_t)o, " };\n");
	struct errs e;
	assert_int_equal(load(t, &e), -EINVAL);
	assert_true(e.n > 100 && e.n < 300);
	free(t);
}

/* One config that should load, and one that should fail with `frag` in
 * its first message. */
static void loads(const char *t)
{
	struct errs e;
	if (load(t, &e) != 0)
		fail_msg("refused: %s (%s)", t, e.n ? e.msgs[0] : "");
}

static void refused(const char *t, const char *frag)
{
	struct errs e;
	assert_int_equal(load(t, &e), -EINVAL);
	assert_true(e.n >= 1);
	if (!strstr(e.msgs[0], frag))
		fail_msg("'%s' not in '%s'", frag, e.msgs[0]);
}

/* String bounds: a value that fills its field (no room for the NUL) and
 * control characters are refused. */
static void test_string_bounds(void **state)
{
	char t[1024], name[80];
	memset(name, 'n', sizeof name);
	name[63] = 0;
	snprintf(t, sizeof t, "site = { name = \"%s\"; cmula_prefixes = [ \"fd00:10::/64\" ]; key_file = \"k\"; };\n"
		 "inside = { port = \"p0\"; };\n" ONE_ISP, name);
	loads(t);
	name[63] = 'n';
	name[64] = 0;
	snprintf(t, sizeof t, "site = { name = \"%s\"; cmula_prefixes = [ \"fd00:10::/64\" ]; key_file = \"k\"; };\n"
		 "inside = { port = \"p0\"; };\n" ONE_ISP, name);
	refused(t, "longer than 63 characters");
	refused("site = { name = \"a\\tb\"; cmula_prefixes = [ \"fd00:10::/64\" ]; key_file = \"k\"; };\n"
		"inside = { port = \"p0\"; };\n" ONE_ISP, "control characters are not allowed");
}

/* Domain names: at most 253 characters, labels of at most 63, not empty. */
static void test_fqdn_bounds(void **state)
{
	char t[2048], n[300], l63[64];
	memset(l63, 'a', 63);
	l63[63] = 0;
	snprintf(n, sizeof n, "%s.%s.%s.%.61s", l63, l63, l63, l63);   /* 253 */
	snprintf(t, sizeof t, BASE ONE_ISP "peers = ( { ulid = \"fd00:20::1\"; name = \"%s\"; locators = [ \"2001:db8:9::1\" ]; } );\n", n);
	loads(t);
	snprintf(n, sizeof n, "%s.%s.%s.%.62s", l63, l63, l63, l63);   /* 254 */
	snprintf(t, sizeof t, BASE ONE_ISP "peers = ( { ulid = \"fd00:20::1\"; name = \"%s\"; locators = [ \"2001:db8:9::1\" ]; } );\n", n);
	refused(t, "'name': 'aaa");   /* the message quotes the whole name */
	snprintf(t, sizeof t, BASE ONE_ISP "peers = ( { ulid = \"fd00:20::1\"; name = \"%sa.b\"; locators = [ \"2001:db8:9::1\" ]; } );\n", l63);
	refused(t, "is not a valid domain name");   /* a label of 64 */
	refused(BASE ONE_ISP "peers = ( { ulid = \"fd00:20::1\"; name = \"\"; locators = [ \"2001:db8:9::1\" ]; } );\n",
		"is not a valid domain name");
}

/* A prefix longer than its setting allows (a pa_prefix of /65) is refused. */
static void test_prefix_length_bound(void **state)
{
	refused(BASE "isps = ( { name = \"x\"; pa_prefix = \"2001:db8:1::/65\"; port = \"p1\"; next_hop = \"fe80::1\"; } );\n",
		"is longer than /64");
}

/* socket_mode is octal text with a leading 0, at most 0777, and gives the
 * owner read and write. */
static void test_socket_mode_forms(void **state)
{
	refused(BASE ONE_ISP "control = { socket_mode = \"600\"; };\n", "is not an octal file mode");
	refused(BASE ONE_ISP "control = { socket_mode = \"01600\"; };\n", "is not an octal file mode");
	refused(BASE ONE_ISP "control = { socket_mode = \"0460\"; };\n", "must give the owner read and write");
}

/* ISP names start with a letter (they are keys in te.rules weights). */
static void test_isp_name_starts_with_a_letter(void **state)
{
	refused(BASE "isps = ( { name = \"9x\"; pa_prefix = \"2001:db8:1::/48\"; port = \"p1\"; next_hop = \"fe80::1\"; } );\n",
		"starting with a letter");
}

/* te rule weights are 0..1000, and a rule takes exactly one of 'isp' and
 * 'weights': neither leaves it nothing to choose by. */
static void test_te_rule_weights_and_isp(void **state)
{
	loads(BASE ONE_ISP "te = { rules = ( { destination = \"fd00:20::/32\"; weights = { x = 1000; y = 0; }; } ); };\n");
	refused(BASE ONE_ISP "te = { rules = ( { destination = \"fd00:20::/32\"; weights = { x = 1001; y = 1; }; } ); };\n",
		"must be an integer 0..1000");
	refused(BASE ONE_ISP "te = { rules = ( { destination = \"fd00:20::/32\"; weights = { x = -1; y = 1; }; } ); };\n",
		"must be an integer 0..1000");
	refused(BASE ONE_ISP "te = { rules = ( { destination = \"fd00:20::/32\"; isp = \"x\"; weights = { x = 1; }; } ); };\n",
		"exactly one of 'isp' or 'weights'");
	refused(BASE ONE_ISP "te = { rules = ( { destination = \"fd00:20::/32\"; } ); };\n",
		"exactly one of 'isp' or 'weights'");
}

/* ingress_isp only goes with ingress = "prefer". */
static void test_ingress_isp_needs_prefer(void **state)
{
	refused(BASE ONE_ISP "te = { ingress = \"weights\"; ingress_isp = \"x\"; };\n", "only used with ingress = \"prefer\"");
}

/* A te group prefix wider than the site's cmula prefix is not inside it,
 * even though its base address is. */
static void test_te_group_wider_than_cmula(void **state)
{
	refused(BASE ONE_ISP "te = { groups = ( { name = \"g\"; prefixes = [ \"fd00:10::/48\" ]; } ); };\n",
		"is not inside a site cmula prefix");
}

/* Control section edges: hold_total may equal hold_packets; the socket path
 * may not be empty; group names may start with '_' and hold dots. */
static void test_control_edges(void **state)
{
	loads(BASE ONE_ISP "control = { hold_packets = 8; hold_total = 8; };\n");
	refused(BASE ONE_ISP "control = { socket = \"\"; };\n", "control socket path must not be empty");
	loads(BASE ONE_ISP "control = { socket_group = \"_pshim6\"; socket_mode = \"0660\"; };\n");
	loads(BASE ONE_ISP "control = { socket_group = \"ops.net\"; socket_mode = \"0660\"; };\n");
}

/* lcores are 0..1023. */
static void test_lcore_range(void **state)
{
	loads(BASE ONE_ISP "dataplane = { lcores = [ 1023 ]; };\n");
	refused(BASE ONE_ISP "dataplane = { lcores = [ 1024 ]; };\n", "lcore 1024 is out of range 0..1023");
}

/* Without a dnsalg section its default control_socket is no one's: the
 * control socket may take that path. */
static void test_dnsalg_socket_clash_only_when_enabled(void **state)
{
	loads(BASE ONE_ISP "control = { socket = \"/run/pshim6/dnsalg.sock\"; };\n");
}

/* Peer paths: loopback is not an address of the other proxy; a source that
 * is peer.address is refused even when alt_addresses are listed; dead_ms of
 * exactly 3 x heartbeat_ms is enough. */
static void test_peer_path_edges(void **state)
{
	refused(BASE ONE_ISP "peer = { role = \"primary\"; address = \"fd00:98::2\"; key_file = \"/k\";\n"
		"  alt_addresses = [ \"::1\" ]; };\n", "is not a unicast address");
	refused(BASE ONE_ISP "peer = { role = \"primary\"; address = \"fd00:98::2\"; key_file = \"/k\";\n"
		"  alt_addresses = [ \"fd00:99::2\" ]; sources = [ \"fd00:98::2\", \"fd00:99::1\" ]; };\n",
		"is an address of the other proxy");
	loads(BASE ONE_ISP "peer = { role = \"primary\"; address = \"fd00:98::2\"; key_file = \"/k\";\n"
	      "  heartbeat_ms = 100; dead_ms = 300; };\n");
}

/* isps[].probe: the echo targets that say an ISP works for NATv6.  One
 * address or a list: in the struct and printed in the normal form (one as
 * an address, more as a list; it loads back to itself); absent: no target,
 * nothing printed, and the dataplane's interval and thresholds keep their
 * defaults. */
static void test_isp_probe_loads(void **state)
{
	struct errs e;
	char a[INET6_ADDRSTRLEN];
	const char *t = BASE
		"isps = ( { name = \"x\"; pa_prefix = \"2001:db8:1::/48\"; port = \"p1\"; next_hop = \"2001:db8:f1::1\";\n"
		"           address = \"2001:db8:f1::2/64\"; probe = \"2001:db8:f1::1\"; },\n"
		"         { name = \"y\"; pa_prefix = \"2001:db8:2::/48\"; port = \"p2\"; next_hop = \"fe80::2\"; },\n"
		"         { name = \"z\"; pa_prefix = \"2001:db8:3::/48\"; port = \"p3\"; next_hop = \"2001:db8:f3::1\";\n"
		"           address = \"2001:db8:f3::2/64\"; probe = [ \"2001:db8:f3::1\", \"2001:db8:c0::3\" ]; } );\n"
		"dataplane = { probe_interval_ms = 250; probe_down_after = 5; probe_up_after = 1; };\n";
	assert_int_equal(load(t, &e), 0);
	assert_int_equal(conf->isps[0].n_probes, 1);
	assert_string_equal(inet_ntop(AF_INET6, &conf->isps[0].probes[0], a, sizeof a), "2001:db8:f1::1");
	assert_int_equal(conf->isps[1].n_probes, 0);
	assert_int_equal(conf->isps[2].n_probes, 2);
	assert_string_equal(inet_ntop(AF_INET6, &conf->isps[2].probes[0], a, sizeof a), "2001:db8:f3::1");
	assert_string_equal(inet_ntop(AF_INET6, &conf->isps[2].probes[1], a, sizeof a), "2001:db8:c0::3");
	assert_int_equal(conf->dataplane.probe_interval_ms, 250);
	assert_int_equal(conf->dataplane.probe_down_after, 5);
	assert_int_equal(conf->dataplane.probe_up_after, 1);
	char *out = normal_form();
	char *p = strstr(out, "probe = \"2001:db8:f1::1\";");
	assert_non_null(p);
	p = strstr(p + 1, "probe = ");   /* y has none, so none printed: z's is next */
	assert_non_null(p);
	assert_ptr_equal(p, strstr(out, "probe = [ \"2001:db8:f3::1\", \"2001:db8:c0::3\" ];"));
	assert_null(strstr(p + 1, "probe = "));
	assert_non_null(strstr(out, "probe_interval_ms = 250;"));
	assert_non_null(strstr(out, "probe_down_after = 5;"));
	assert_non_null(strstr(out, "probe_up_after = 1;"));
	assert_int_equal(load(out, &e), 0);
	char *again = normal_form();
	assert_string_equal(out, again);
	free(again);
	free(out);

	assert_int_equal(load(BASE ONE_ISP, &e), 0);
	assert_int_equal(conf->isps[0].n_probes, 0);
	assert_int_equal(conf->isps[1].n_probes, 0);
	assert_int_equal(conf->dataplane.probe_interval_ms, 1000);
	assert_int_equal(conf->dataplane.probe_down_after, 3);
	assert_int_equal(conf->dataplane.probe_up_after, 2);
	out = normal_form();
	assert_null(strstr(out, "probe = "));
	assert_non_null(strstr(out, "probe_interval_ms = 1000;"));
	assert_non_null(strstr(out, "probe_down_after = 3;"));
	assert_non_null(strstr(out, "probe_up_after = 2;"));
	free(out);
}

/* A probe whose answer would not come through its ISP is refused at the
 * probe's line, one message for it; a probe that does not parse gets only
 * its parse error. */
static void test_isp_probe_refused(void **state)
{
	static const struct { const char *probe; bool address; const char *msg; } cases[] = {
		{ "\"2001:db8:ff::1\"", false, "t.conf:5: isp \"x\": probe needs 'address' (the probes' source)" },
		{ "\"::\"", true, "t.conf:5: isp \"x\": probe :: is not a unicast address" },
		{ "\"ff0e::1\"", true, "t.conf:5: isp \"x\": probe ff0e::1 is not a unicast address" },
		{ "\"::1\"", true, "t.conf:5: isp \"x\": probe ::1 is not a unicast address" },
		{ "\"::ffff:192.0.2.1\"", true, "t.conf:5: isp \"x\": probe ::ffff:192.0.2.1 stands for an IPv4 address; give an IPv6 address reached through the ISP" },
		{ "\"::192.0.2.1\"", true, "t.conf:5: isp \"x\": probe ::192.0.2.1 stands for an IPv4 address; give an IPv6 address reached through the ISP" },
		{ "\"fe80::1\"", true, "t.conf:5: isp \"x\": probe fe80::1 is link-local; give a global address reached through the ISP" },
		{ "\"febf:ffff::1\"", true, "t.conf:5: isp \"x\": probe febf:ffff::1 is link-local; give a global address reached through the ISP" },
		{ "\"2001:db8:f1::2\"", true, "t.conf:5: isp \"x\": probe 2001:db8:f1::2 is the ISP's own address" },
		{ "\"2001:db8:1:ffff::1\"", true, "t.conf:5: isp \"x\": probe 2001:db8:1:ffff::1 is in its own pa_prefix 2001:db8:1::/48" },
		{ "\"fd00:10::1\"", true, "t.conf:5: isp \"x\": probe fd00:10::1 is in cmula prefix fd00:10::/64" },
		{ "\"2001:db8:ff::1/64\"", true, "t.conf:5: 'probe': \"2001:db8:ff::1/64\" is not an IPv6 address" },
		{ "\"192.0.2.1\"", true, "t.conf:5: 'probe': \"192.0.2.1\" is not an IPv6 address" },
		{ "1", true, "t.conf:5: 'probe': expected a string, got an integer" },
		/* a list: each target is checked as one alone would be */
		{ "[ \"2001:db8:ff::1\", \"::1\" ]", true, "t.conf:5: isp \"x\": probe ::1 is not a unicast address" },
		{ "[ \"2001:db8:ff::1\", \"2001:db8:ff::2\", \"2001:db8:ff::1\" ]", true,
		  "t.conf:5: isp \"x\": probe 2001:db8:ff::1 listed twice" },
		{ "[ \"2001:db8:ff::1\", \"2001:db8:ff::2\", \"2001:db8:ff::3\", \"2001:db8:ff::4\", \"2001:db8:ff::5\" ]", true,
		  "t.conf:5: 'probe': 5 entries, at most 4 are allowed" },
		{ "[ \"2001:db8:ff::1\", \"2001:db8:ff::7/64\" ]", true,
		  "t.conf:5: element 1 of 'probe': \"2001:db8:ff::7/64\" is not an IPv6 address" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct errs e;
		char t[1024];
		snprintf(t, sizeof t, BASE
			 "isps = ( { name = \"x\"; pa_prefix = \"2001:db8:1::/48\"; port = \"p1\"; next_hop = \"2001:db8:f1::1\";\n"
			 "           %s\n"
			 "           probe = %s; } );\n",
			 cases[i].address ? "address = \"2001:db8:f1::2/64\";" : "# no address", cases[i].probe);
		assert_int_equal(load(t, &e), -EINVAL);
		if (e.n != 1 || strcmp(e.msgs[0], cases[i].msg))
			fail_msg("probe = %s: %u errors, first '%s', expected '%s'", cases[i].probe, e.n,
				 e.n ? e.msgs[0] : "", cases[i].msg);
	}
	/* the site's other addresses: a host beyond the ISP's next hop loads */
	loads(BASE "isps = ( { name = \"x\"; pa_prefix = \"2001:db8:1::/48\"; port = \"p1\"; next_hop = \"2001:db8:f1::1\";\n"
	      "  address = \"2001:db8:f1::2/64\"; probe = \"2001:db8:ff::1\"; } );\n");
	/* every ISP's probe at its own line, in line order */
	struct errs e;
	const char *t = BASE
		"isps = ( { name = \"x\"; pa_prefix = \"2001:db8:1::/48\"; port = \"p1\"; next_hop = \"2001:db8:f1::1\";\n"
		"           probe = \"2001:db8:ff::1\"; },\n"
		"         { name = \"y\"; pa_prefix = \"2001:db8:2::/48\"; port = \"p2\"; next_hop = \"2001:db8:f2::1\";\n"
		"           address = \"2001:db8:f2::2/64\";\n"
		"           probe = \"2001:db8:2::1\"; } );\n";
	assert_int_equal(load(t, &e), -EINVAL);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.msgs[0], "t.conf:4: isp \"x\": probe needs 'address' (the probes' source)");
	assert_string_equal(e.msgs[1], "t.conf:7: isp \"y\": probe 2001:db8:2::1 is in its own pa_prefix 2001:db8:2::/48");
}

/* The dataplane's probe interval and thresholds: each bound loads, one past
 * it is refused at the key's line. */
static void test_probe_timing_ranges(void **state)
{
	static const struct { const char *key; unsigned lo, hi; } keys[] = {
		{ "probe_interval_ms", 100, 60000 },
		{ "probe_down_after", 1, 100 },
		{ "probe_up_after", 1, 100 },
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char t[1024], msg[256];
		struct errs e;
		unsigned ok[2] = { keys[i].lo, keys[i].hi }, bad[2] = { keys[i].lo - 1, keys[i].hi + 1 };
		for (int j = 0; j < 2; j++) {
			snprintf(t, sizeof t, BASE ONE_ISP "dataplane = {\n  %s = %u; };\n", keys[i].key, ok[j]);
			loads(t);
			snprintf(t, sizeof t, BASE ONE_ISP "dataplane = {\n  %s = %u; };\n", keys[i].key, bad[j]);
			assert_int_equal(load(t, &e), -EINVAL);
			snprintf(msg, sizeof msg, "t.conf:5: '%s': %u out of range %u..%u", keys[i].key, bad[j],
				 keys[i].lo, keys[i].hi);
			if (e.n != 1 || strcmp(e.msgs[0], msg))
				fail_msg("%s = %u: %u errors, first '%s', expected '%s'", keys[i].key, bad[j], e.n,
					 e.n ? e.msgs[0] : "", msg);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_rfc),
		cmocka_unit_test(test_minimal_loads),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_every_error_reported_in_line_order),
		cmocka_unit_test(test_syntax_error_has_line),
		cmocka_unit_test(test_include_refused_in_strings),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_isp_bound),
		cmocka_unit_test(test_hosts_bound),
		cmocka_unit_test(test_te_rules_resolve),
		cmocka_unit_test(test_weights_must_not_all_be_zero),
		cmocka_unit_test(test_normal_form_round_trip),
		cmocka_unit_test(test_hba_mode_needs_sets),
		cmocka_unit_test(test_host_pds),
		cmocka_unit_test(test_error_buffer_bounded),
		cmocka_unit_test(test_peer_paths),
		cmocka_unit_test(test_peer_sources),
		cmocka_unit_test(test_string_bounds),
		cmocka_unit_test(test_fqdn_bounds),
		cmocka_unit_test(test_prefix_length_bound),
		cmocka_unit_test(test_socket_mode_forms),
		cmocka_unit_test(test_isp_name_starts_with_a_letter),
		cmocka_unit_test(test_te_rule_weights_and_isp),
		cmocka_unit_test(test_ingress_isp_needs_prefer),
		cmocka_unit_test(test_te_group_wider_than_cmula),
		cmocka_unit_test(test_control_edges),
		cmocka_unit_test(test_lcore_range),
		cmocka_unit_test(test_dnsalg_socket_clash_only_when_enabled),
		cmocka_unit_test(test_peer_path_edges),
		cmocka_unit_test(test_isp_probe_loads),
		cmocka_unit_test(test_isp_probe_refused),
		cmocka_unit_test(test_probe_timing_ranges),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
