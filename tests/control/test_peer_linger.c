/* What a yielding backup keeps forwarding (control/peer_linger.c), and for
 * how long: peer.yield_linger_ms as the configuration loader gives it, on
 * a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include "peer_linger.h"

#define MS 1000000ULL

static const char CONF[] =
	"site = { name = \"s\"; cmula_prefixes = [ \"fd00:10::/64\" ]; key_file = \"site.key\"; };\n"
	"inside = { port = \"net_null0\"; };\n"
	"isps = ( { name = \"a\"; pa_prefix = \"2001:db8:a::/48\"; port = \"net_null1\"; next_hop = \"fe80::1\"; } );\n"
	"peer = { role = \"backup\"; address = \"fd00:10::2\"; key_file = \"peer.key\"; %s };\n";

static struct pshim6_conf *load(const char *extra)
{
	static char text[2048];
	struct pshim6_conf *c = calloc(1, sizeof *c);
	assert_non_null(c);
	snprintf(text, sizeof text, CONF, extra);
	if (pshim6_conf_load_string(text, "t.conf", c, pshim6_conf_error_print, NULL)) {
		free(c);
		return NULL;
	}
	return c;
}

/* yield at t0 with the configured linger: the entries stay until exactly
 * t0 + linger, not a tick longer */
static void linger_story(uint64_t linger_ns)
{
	struct peer_linger l;
	assert_int_equal(peer_linger_init(&l, 4), 0);
	assert_true(peer_linger_deadline(&l) == UINT64_MAX);
	uint64_t t0 = 5000 * MS;
	peer_linger_start(&l, t0, linger_ns);
	assert_false(peer_linger_due(&l, t0 + linger_ns));    /* nothing held: nothing due */
	for (uint64_t t = 1; t <= 5; t++)
		assert_int_equal(peer_linger_add(&l, t), t <= 4 ? 0 : -1);
	assert_int_equal(l.n, 4);
	assert_true(peer_linger_deadline(&l) == t0 + linger_ns);
	if (linger_ns)
		assert_false(peer_linger_due(&l, t0 + linger_ns - 1));
	assert_true(peer_linger_due(&l, t0 + linger_ns));
	peer_linger_free(&l);
}

static void test_default_is_30_s(void **st)
{
	(void)st;
	struct pshim6_conf *c = load("");
	assert_non_null(c);
	assert_int_equal(c->peer.yield_linger_ms, 30000);
	assert_true(peer_linger_ns(&c->peer) == 30000 * MS);
	linger_story(peer_linger_ns(&c->peer));
	free(c);
}

static void test_follows_config(void **st)
{
	(void)st;
	static const unsigned ms[] = { 0, 1, 2500, 600000 };
	for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
		char extra[64];
		snprintf(extra, sizeof extra, "yield_linger_ms = %u;", ms[i]);
		struct pshim6_conf *c = load(extra);
		assert_non_null(c);
		assert_int_equal(c->peer.yield_linger_ms, ms[i]);
		assert_true(peer_linger_ns(&c->peer) == ms[i] * MS);
		linger_story(peer_linger_ns(&c->peer));
		free(c);
	}
	/* outside the range: refused with file:line */
	assert_null(load("yield_linger_ms = 600001;"));
	assert_null(load("sync_batch = 0;"));
	assert_null(load("sync_batch = 8193;"));
	struct pshim6_conf *c = load("sync_batch = 8192; notify = \"/usr/local/sbin/peer-notify\";");
	assert_non_null(c);
	assert_int_equal(c->peer.sync_batch, 8192);
	assert_string_equal(c->peer.notify, "/usr/local/sbin/peer-notify");
	free(c);
}

/* membership, across adds after a lookup (the list is sorted lazily) and a new start */
static void test_has(void **st)
{
	(void)st;
	struct peer_linger l;
	assert_int_equal(peer_linger_init(&l, 64), 0);
	assert_false(peer_linger_has(&l, 7));
	peer_linger_start(&l, 0, MS);
	for (uint64_t t = 40; t > 0; t -= 2)
		assert_int_equal(peer_linger_add(&l, t), 0);
	for (uint64_t t = 0; t <= 41; t++)
		assert_int_equal(peer_linger_has(&l, t), t && t % 2 == 0);
	assert_int_equal(peer_linger_add(&l, 3), 0);
	assert_true(peer_linger_has(&l, 3));
	assert_true(peer_linger_has(&l, 40));
	assert_false(peer_linger_has(&l, 5));
	peer_linger_start(&l, 0, MS);
	assert_false(peer_linger_has(&l, 3));
	peer_linger_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_is_30_s),
		cmocka_unit_test(test_follows_config),
		cmocka_unit_test(test_has),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
