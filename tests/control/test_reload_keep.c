/* A reload keeps what only a restart applies (control/reload_keep.c): two
 * files that differ in every such setting and in some reloadable ones; the
 * merged config must hold the running value of the first kind and the new
 * value of the second.  Before, the new values replaced the running ones
 * while the tables made at start kept their size: a larger hold_total
 * overran the hold queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "reload_keep.h"

#define BASE \
	"site = { name = \"s\"; cmula_prefixes = [ \"fd00:10::/48\" ]; key_file = \"/k\"; };\n" \
	"inside = { port = \"0000:00:01.0\"; };\n" \
	"isps = ( { name = \"x\"; pa_prefix = \"2001:db8:1:1::/64\"; port = \"0000:00:02.0\"; " \
	"next_hop = \"2001:db8:1:1::1\"; weight = %u; } );\n"

static const char *running = BASE
	"control = { socket = \"/run/a.sock\"; socket_mode = \"0600\"; peer_cache = 1000; lease_table = 1000;\n"
	"            hold_total = 64; hold_packets = 4; state_file = \"/var/a.state\"; log_level = \"info\"; };\n"
	"dataplane = { channel = \"/run/dp-a.sock\"; };\n"
	"engine = { max_contexts = 5000; max_pending = 500; recovery_rate = 100; };\n"
	"reap = { send_timeout_ms = 10000; };\n"
	"shim6 = { i1_timeout_ms = 4000; };\n"
	"peer = { role = \"backup\"; address = \"fd00:98::1\"; key_file = \"/ka\"; heartbeat_ms = 200; dead_ms = 1000;\n"
	"         sync_batch = 256; yield_linger_ms = 30000; };\n";

static const char *reloaded = BASE
	"control = { socket = \"/run/b.sock\"; socket_mode = \"0660\"; peer_cache = 2000; lease_table = 3000;\n"
	"            hold_total = 4096; hold_packets = 8; state_file = \"/var/b.state\"; log_level = \"debug\"; };\n"
	"dataplane = { channel = \"/run/dp-b.sock\"; max_contexts = 65536; };\n"
	"engine = { max_contexts = 50000; max_pending = 900; recovery_rate = 40; recovery_burst = 7; };\n"
	"reap = { send_timeout_ms = 6000; initial_probe_ms = 300; };\n"
	"shim6 = { i1_timeout_ms = 1500; };\n"
	"peer = { role = \"primary\"; address = \"fd00:96::1\"; alt_addresses = [ \"fd00:99::1\" ]; key_file = \"/kb\";\n"
	"         sources = [ \"fd00:96::2\", \"fd00:99::2\" ];\n"
	"         heartbeat_ms = 100; dead_ms = 500; sync_batch = 64; yield_linger_ms = 0; notify = \"/bin/true\"; notify_timeout_ms = 2500; };\n";

static void err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	fail_msg("%s:%u: %s", file, line, msg);
}

static void load(const char *fmt, unsigned weight, struct pshim6_conf *c)
{
	char path[] = "/tmp/test_reload_keep.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, fmt, weight);
	fclose(f);
	int rc = pshim6_conf_load(path, c, err, NULL);
	unlink(path);
	assert_int_equal(rc, 0);
}

static void restart_only_settings_keep_their_running_value(void **st)
{
	(void)st;
	static struct pshim6_conf o, n;
	load(running, 1, &o);
	load(reloaded, 7, &n);
	conf_keep_running(&n, &o, NULL, NULL);
	assert_string_equal(n.control.socket, "/run/a.sock");
	assert_int_equal(n.control.socket_mode, o.control.socket_mode);
	assert_int_equal(n.control.peer_cache, 1000);
	assert_int_equal(n.control.lease_table, 1000);
	assert_int_equal(n.control.hold_total, 64);
	assert_string_equal(n.dataplane.channel, "/run/dp-a.sock");
	assert_int_equal(n.engine.max_contexts, 5000);
	assert_int_equal(n.engine.max_pending, 500);
	assert_int_equal(n.peer.role, o.peer.role);
	assert_string_equal(n.peer.key_file, "/ka");
	assert_int_equal(n.peer.heartbeat_ms, 200);
	assert_int_equal(n.peer.dead_ms, 1000);
}

static void reloadable_settings_take_the_new_value(void **st)
{
	(void)st;
	static struct pshim6_conf o, n;
	load(running, 1, &o);
	load(reloaded, 7, &n);
	conf_keep_running(&n, &o, NULL, NULL);
	assert_int_equal(n.isps[0].weight, 7);
	/* the engine takes timers and the recovery rate at once (proxy_reload) */
	assert_int_equal(n.reap.send_timeout_ms, 6000);
	assert_int_equal(n.reap.initial_probe_ms, 300);
	assert_int_equal(n.shim6.i1_timeout_ms, 1500);
	assert_int_equal(n.engine.recovery_rate, 40);
	assert_int_equal(n.engine.recovery_burst, 7);
	assert_int_equal(n.control.hold_packets, 8);
	assert_string_equal(n.control.state_file, "/var/b.state");
	assert_int_equal(n.control.log_level, PSHIM6_LOG_DEBUG);
	assert_int_equal(n.peer.sync_batch, 64);
	assert_int_equal(n.peer.yield_linger_ms, 0);
	assert_string_equal(n.peer.notify, "/bin/true");
	assert_int_equal(n.peer.notify_timeout_ms, 2500);
	assert_int_equal(n.peer.n_alt_addresses, 1);
	char a[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, &n.peer.alt_addresses[0], a, sizeof a);
	assert_string_equal(a, "fd00:99::1");
	/* peer.address applies (path 0 follows it), and peer.sources with the
	 * paths it names, path 0's included */
	inet_ntop(AF_INET6, &n.peer.address, a, sizeof a);
	assert_string_equal(a, "fd00:96::1");
	assert_int_equal(n.peer.n_sources, 2);
	inet_ntop(AF_INET6, &n.peer.sources[0], a, sizeof a);
	assert_string_equal(a, "fd00:96::2");
	inet_ntop(AF_INET6, &n.peer.sources[1], a, sizeof a);
	assert_string_equal(a, "fd00:99::2");
}

/* With peer.address unchanged, path 0's source applies at once too. */
static void sources_apply_with_the_address_in_use(void **st)
{
	(void)st;
	static struct pshim6_conf o, n;
	static const char *same = BASE
		"peer = { role = \"backup\"; address = \"fd00:98::1\"; key_file = \"/ka\"; heartbeat_ms = 200; dead_ms = 1000;\n"
		"         sources = [ \"fd00:98::7\" ]; };\n";
	char a[INET6_ADDRSTRLEN];
	load(running, 1, &o);
	load(same, 1, &n);
	conf_keep_running(&n, &o, NULL, NULL);
	assert_int_equal(n.peer.n_sources, 1);
	assert_string_equal(inet_ntop(AF_INET6, &n.peer.sources[0], a, sizeof a), "fd00:98::7");
}

struct seen {
	char what[16][64];
	unsigned n;
};

static void record(void *arg, const char *what)
{
	struct seen *s = arg;
	assert_true(s->n < 16);
	snprintf(s->what[s->n++], sizeof s->what[0], "%s", what);
}

/* Each restart-only setting that changed is reported once, by name, and a
 * reloadable one is not: the warnings and the copy come from one table. */
static void each_restart_only_change_is_reported(void **st)
{
	(void)st;
	static struct pshim6_conf o, n;
	struct seen s = { .n = 0 };
	load(running, 1, &o);
	load(reloaded, 7, &n);
	unsigned changed = conf_keep_running(&n, &o, record, &s);
	assert_int_equal(changed, s.n);
	static const char *const want[] = {
		"control.socket", "control.socket_mode", "dataplane.channel", "control.peer_cache",
		"control.lease_table", "control.hold_total", "engine.max_contexts", "engine.max_pending",
		CONF_KEEP_PEER,
	};
	assert_int_equal(s.n, sizeof want / sizeof want[0]);
	for (unsigned i = 0; i < s.n; i++)
		assert_string_equal(s.what[i], want[i]);

	/* a file that differs only in reloadable keys reports nothing */
	static struct pshim6_conf n2;
	struct seen s2 = { .n = 0 };
	load(running, 7, &n2);
	n2.peer.sync_batch = 9;
	n2.control.hold_packets = 3;
	assert_int_equal(conf_keep_running(&n2, &o, record, &s2), 0);
	assert_int_equal(s2.n, 0);

	/* and reloading the merged result again reports nothing either */
	struct seen s3 = { .n = 0 };
	static struct pshim6_conf n3;
	load(reloaded, 7, &n3);
	assert_int_equal(conf_keep_running(&n3, &n, record, &s3), changed);
	struct seen s4 = { .n = 0 };
	assert_int_equal(conf_keep_running(&n3, &n, record, &s4), 0);
	assert_int_equal(s4.n, 0);
}

/* the same file again changes nothing */
static void same_file_is_a_no_op(void **st)
{
	(void)st;
	static struct pshim6_conf o, n;
	load(running, 1, &o);
	load(running, 1, &n);
	assert_int_equal(conf_keep_running(&n, &o, NULL, NULL), 0);
	assert_memory_equal(&n.control, &o.control, sizeof n.control);
	assert_memory_equal(&n.peer, &o.peer, sizeof n.peer);
	assert_memory_equal(&n.engine, &o.engine, sizeof n.engine);
}

/* The site's addressing, which the dataplane takes only at its start
 * (pshim6_conf_addressing_differs, which both daemons' reloads ask): each
 * change refuses the reload with the key named; the running file, a weight,
 * a cost and the probes reload. */
static void site_addressing_changes_refuse_the_reload(void **st)
{
	(void)st;
	static struct pshim6_conf o, n;
	static const char *const two = 		"site = { name = \"s\"; cmula_prefixes = [ %s ]; key_file = \"/k\"; %s };\n"
		"inside = { port = \"0000:00:01.0\"; };\n"
		"isps = ( { name = \"x\"; pa_prefix = \"2001:db8:1:1::/64\"; port = \"0000:00:02.0\"; next_hop = \"2001:db8:1:1::1\"; %s },\n"
		"         { name = \"%s\"; pa_prefix = \"%s\"; port = \"0000:00:03.0\"; next_hop = \"2001:db8:2:1::1\"; } %s);\n";
	static const struct { const char *cmula, *mode, *x_extra, *y_name, *y_pfx, *third, *why; } cases[] = {
		{ "\"fd00:10::/48\"", "", "", "y", "2001:db8:2:1::/64", "", NULL },
		{ "\"fd00:10::/48\"", "", "weight = 5; cost = 9; address = \"2001:db8:f1::2/64\"; probe = \"2001:db8:ff::1\";",
		  "y", "2001:db8:2:1::/64", "", NULL },
		{ "\"fd00:11::/48\"", "", "", "y", "2001:db8:2:1::/64", "", "site.cmula_prefixes" },
		{ "\"fd00:10::/48\", \"fd00:12::/48\"", "", "", "y", "2001:db8:2:1::/64", "", "site.cmula_prefixes" },
		{ "\"fd00:10::/48\"", "mode = \"hba\";", "", "y", "2001:db8:2:1::/64", "", "site.mode" },
		{ "\"fd00:10::/48\"", "", "", "z", "2001:db8:2:1::/64", "", "isps[1].name" },
		{ "\"fd00:10::/48\"", "", "", "y", "2001:db8:2:2::/64", "", "isps[1].pa_prefix (y)" },
		{ "\"fd00:10::/48\"", "", "", "y", "2001:db8:2:1::/64",
		  ", { name = \"w\"; pa_prefix = \"2001:db8:3:1::/64\"; port = \"0000:00:04.0\"; next_hop = \"2001:db8:3:1::1\"; } ",
		  "isps (number of ISPs)" },
	};
	char text[2048], why[160];
	snprintf(text, sizeof text, two, cases[0].cmula, cases[0].mode, cases[0].x_extra, cases[0].y_name,
		 cases[0].y_pfx, cases[0].third);
	load(text, 0, &o);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, two, cases[i].cmula, cases[i].mode, cases[i].x_extra, cases[i].y_name,
			 cases[i].y_pfx, cases[i].third);
		memset(&n, 0, sizeof n);
		load(text, 0, &n);
		why[0] = 0;
		int rc = pshim6_conf_addressing_differs(&o, &n, why, sizeof why);
		if (!cases[i].why) {
			if (rc)
				fail_msg("case %zu refused: %s", i, why);
		} else {
			assert_int_equal(rc, -1);
			assert_string_equal(why, cases[i].why);
		}
	}
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(restart_only_settings_keep_their_running_value),
		cmocka_unit_test(reloadable_settings_take_the_new_value),
		cmocka_unit_test(sources_apply_with_the_address_in_use),
		cmocka_unit_test(each_restart_only_change_is_reported),
		cmocka_unit_test(same_file_is_a_no_op),
		cmocka_unit_test(site_addressing_changes_refuse_the_reload),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
