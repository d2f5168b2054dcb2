/* SIGHUP reload (dnsalg_reload): a changed dnsalg.cookie_rotate_s takes
 * effect with both secrets kept (outstanding cookies stay valid) and the
 * next rollover one new interval after the reload; an unchanged value does
 * not postpone the rollover; a bad value (with its file:line error) leaves
 * everything as it was; -K on the command line wins over the file; the
 * counters reply shows the running interval; dnsalg.tcp_idle_ms reaches the
 * options, and a reload changes the running one (not with -I); likewise
 * dnsalg.upstreams (not with -u) and dnsalg.timeout_ms (not with -T) in
 * the list the threads follow.  Fake monotonic clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake.h"

#define WALL 1700000000u

static const uint8_t CC[8] = { 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8 };

struct env {
	struct dnsalg_opts o;            /* what the daemon started with */
	struct dnsalg_counters cnt;
	struct dnsalg_ctx x;
	struct fake_up f;
	struct dnsalg_upstream_ops up;
	struct dnsalg_reload_keep keep;
	struct in6_addr client;
	char dir[32], path[64];
	uint64_t now;                    /* fake monotonic clock, ms */
	uint8_t c_prev[24], c_cur[24];   /* cookies clients hold: previous and current secret */
	char *log;                       /* what the reload wrote */
	size_t loglen;
};

static void write_conf_up(struct env *e, const char *upstreams, const char *line)
{
	FILE *f = fopen(e->path, "w");
	assert_non_null(f);
	fprintf(f, "site = { name = \"t\"; cmula_prefixes = [ \"fd00:10::/64\" ]; key_file = \"site.key\"; };\n"
		   "inside = { port = \"net_null0\"; };\n"
		   "isps = ( { name = \"a\"; pa_prefix = \"2001:db8:a::/48\"; port = \"net_null1\"; next_hop = \"fe80::1\"; } );\n"
		   "dnsalg = { upstreams = [ %s ];\n"
		   "%s\n"
		   "};\n", upstreams, line);
	fclose(f);
}

static void write_conf(struct env *e, const char *line)
{
	write_conf_up(e, "\"2001:db8::53\"", line);
}

/* The wall clock (RFC 9018 timestamps) runs with the monotonic one: WALL
 * when the daemon started, at e->now = T0. */
#define T0 10000u
static uint32_t wall_at(uint64_t now)
{
	return WALL + (uint32_t)((now - T0) / 1000);
}

/* the daemon's main loop: the rollover's wall clock is the same one */
static int tick(struct env *e, uint64_t now)
{
	return dnsalg_cookie_tick(&e->x.cookie, now, wall_at(now), &e->cnt);
}

static void cookie_of(struct env *e, uint8_t out[24])
{
	memcpy(out, CC, 8);
	dnsalg_cookie_server(&e->x.cookie, CC, &e->client, wall_at(e->now), out + 8);
}

static int check(struct env *e, const uint8_t c[24])
{
	struct dnsalg_query q;
	memset(&q, 0, sizeof q);
	q.cookie_len = 24;
	memcpy(q.cookie, c, 24);
	return dnsalg_cookie_check(&e->x.cookie, &q, &e->client, wall_at(e->now));
}

/* The daemon as started from a config with cookie_rotate_s = 3600, one
 * rollover behind it, 1000 s into the second secret's life; a client holds
 * a cookie made a second before the rollover, another one made at it. */
static int setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);
	fake_alg_init(&e->x, &e->o, &e->cnt, &e->f, &e->up, NULL, 0);
	snprintf(e->dir, sizeof e->dir, "/tmp/dnsalg-reload.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->path, sizeof e->path, "%s/p.conf", e->dir);
	write_conf(e, "cookie_rotate_s = 3600;");
	assert_int_equal(dnsalg_opts_load_conf(&e->o, e->path), 0);
	e->keep.n_conf_hosts = e->o.n_hosts;
	inet_pton(AF_INET6, "fd00:1:1:1::11", &e->client);
	e->now = T0;
	uint8_t k[DNSALG_COOKIE_SECRET];
	for (int i = 0; i < DNSALG_COOKIE_SECRET; i++)
		k[i] = (uint8_t)(0x40 + i);
	dnsalg_cookie_set(&e->x.cookie, k, e->o.cookie_rotate_s, e->now);
	e->now += 3599 * 1000;
	cookie_of(e, e->c_prev);
	e->now += 1000;
	assert_int_equal(tick(e, e->now), 1);
	cookie_of(e, e->c_cur);
	assert_int_equal(check(e, e->c_prev), DNSALG_COOKIE_PREVIOUS);
	assert_int_equal(check(e, e->c_cur), DNSALG_COOKIE_CURRENT);
	e->now += 1000 * 1000;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	fake_alg_free(&e->x);
	dnsalg_opts_free(&e->o);
	unlink(e->path);
	rmdir(e->dir);
	free(e->log);
	free(e);
	return 0;
}

/* Run a reload with `line` in the dnsalg section; its log goes to e->log. */
/* A reload of the file as it is written now, its log in e->log. */
static int reload_file(struct env *e)
{
	free(e->log);
	e->log = NULL;
	FILE *log = open_memstream(&e->log, &e->loglen);
	assert_non_null(log);
	int r = dnsalg_reload(&e->x, &e->o, &e->keep, e->now, log);
	fclose(log);
	return r;
}

static int reload_with(struct env *e, const char *line)
{
	write_conf(e, line);
	return reload_file(e);
}

static void secrets(struct env *e, uint8_t cur[DNSALG_COOKIE_SECRET], uint8_t prev[DNSALG_COOKIE_SECRET])
{
	dnsalg_cookie_secret_get(&e->x.cookie, false, cur);
	dnsalg_cookie_secret_get(&e->x.cookie, true, prev);
}

static void changed_interval_applies_and_keeps_secrets(void **state)
{
	struct env *e = *state;
	uint8_t cur0[DNSALG_COOKIE_SECRET], prev0[DNSALG_COOKIE_SECRET];
	uint8_t cur1[DNSALG_COOKIE_SECRET], prev1[DNSALG_COOKIE_SECRET];
	secrets(e, cur0, prev0);
	assert_int_equal(reload_with(e, "cookie_rotate_s = 600;"), 0);
	assert_int_equal(e->x.cookie.interval_s, 600);
	assert_int_equal(dnsalg_cookie_deadline(&e->x.cookie), e->now + 600 * 1000);
	assert_non_null(strstr(e->log, "cookie secret rollover every 600 s (was every 3600 s); next in 600 s"));
	/* both secrets as they were: every cookie out there still verifies */
	secrets(e, cur1, prev1);
	assert_memory_equal(cur0, cur1, sizeof cur0);
	assert_memory_equal(prev0, prev1, sizeof prev0);
	assert_int_equal(check(e, e->c_prev), DNSALG_COOKIE_PREVIOUS);
	assert_int_equal(check(e, e->c_cur), DNSALG_COOKIE_CURRENT);
	assert_int_equal(e->cnt.cookie_rotations, 1);
	/* the next rollover comes with the new interval, and the one after it */
	assert_int_equal(tick(e, e->now + 600 * 1000 - 1), 0);
	e->now += 600 * 1000;
	assert_int_equal(tick(e, e->now), 1);
	assert_int_equal(e->cnt.cookie_rotations, 2);
	assert_int_equal(dnsalg_cookie_deadline(&e->x.cookie), e->now + 600 * 1000);
	assert_int_equal(check(e, e->c_cur), DNSALG_COOKIE_PREVIOUS);
	/* at 600 s six retired secrets are kept (an hour): the first one too */
	assert_int_equal(check(e, e->c_prev), DNSALG_COOKIE_PREVIOUS + 1);
	/* a longer interval moves the rollover later than the old deadline */
	e->now += 100 * 1000;
	assert_int_equal(reload_with(e, "cookie_rotate_s = 7200;"), 0);
	assert_int_equal(dnsalg_cookie_deadline(&e->x.cookie), e->now + 7200 * 1000);
	assert_int_equal(tick(e, e->now + 7199 * 1000), 0);
	assert_int_equal(e->cnt.cookie_rotations, 2);
}

static void unchanged_interval_does_not_postpone(void **state)
{
	struct env *e = *state;
	uint64_t due = dnsalg_cookie_deadline(&e->x.cookie);
	assert_int_equal(due, e->now - 1000 * 1000 + 3600 * 1000);
	for (int i = 0; i < 5; i++) {
		e->now += 500 * 1000;
		assert_int_equal(reload_with(e, "cookie_rotate_s = 3600;"), 0);
		assert_int_equal(dnsalg_cookie_deadline(&e->x.cookie), due);
		assert_null(strstr(e->log, "cookie"));
	}
	/* the default (no key) is 3600 too */
	assert_int_equal(reload_with(e, ""), 0);
	assert_int_equal(dnsalg_cookie_deadline(&e->x.cookie), due);
	assert_int_equal(tick(e, due), 1);
}

static void zero_stops_and_restarts_rollover(void **state)
{
	struct env *e = *state;
	assert_int_equal(reload_with(e, "cookie_rotate_s = 0;"), 0);
	assert_true(dnsalg_cookie_deadline(&e->x.cookie) == UINT64_MAX);
	assert_non_null(strstr(e->log, "cookie secret rollover never (was every 3600 s)"));
	assert_int_equal(tick(e, e->now + 10ull * 86400 * 1000), 0);
	assert_int_equal(check(e, e->c_prev), DNSALG_COOKIE_PREVIOUS);
	e->now += 5000 * 1000;
	assert_int_equal(reload_with(e, "cookie_rotate_s = 60;"), 0);
	assert_int_equal(dnsalg_cookie_deadline(&e->x.cookie), e->now + 60 * 1000);
	assert_non_null(strstr(e->log, "every 60 s (was never)"));
	assert_int_equal(tick(e, e->now + 60 * 1000), 1);
}

/* From an hour to 120 s: retired secrets pile up to an hour's worth (a
 * cookie ten rollovers old verifies); back to an hour: the reload drops
 * none of them, the next rollover (an hour on, when no cookie they made can
 * still be fresh) keeps just the one it retires. */
static void short_interval_reload_keeps_an_hour(void **state)
{
	struct env *e = *state;
	assert_int_equal(reload_with(e, "cookie_rotate_s = 120;"), 0);
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), 1);
	for (int i = 0; i < 10; i++) {
		e->now += 120 * 1000;
		assert_int_equal(tick(e, e->now), 1);
	}
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), 11);
	assert_int_equal(check(e, e->c_prev), DNSALG_COOKIE_PREVIOUS + 10);
	assert_int_equal(check(e, e->c_cur), DNSALG_COOKIE_PREVIOUS + 9);
	assert_int_equal(reload_with(e, "cookie_rotate_s = 3600;"), 0);
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), 11);
	assert_int_equal(check(e, e->c_prev), DNSALG_COOKIE_PREVIOUS + 10);
	e->now += 3600 * 1000;
	assert_int_equal(tick(e, e->now), 1);
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), 1);
	assert_int_equal(check(e, e->c_cur), DNSALG_COOKIE_BAD);
}

/* Capture what the config loader prints (its file:line errors) on stderr. */
static int reload_capturing_stderr(struct env *e, const char *line, char *err, size_t errlen)
{
	char p[80];
	snprintf(p, sizeof p, "%s/stderr", e->dir);
	fflush(stderr);
	int saved = dup(2), fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	int r = reload_with(e, line);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	size_t n = fread(err, 1, errlen - 1, f);
	err[n] = 0;
	fclose(f);
	unlink(p);
	return r;
}

static void bad_value_keeps_running_one(void **state)
{
	struct env *e = *state;
	assert_int_equal(reload_with(e, "cookie_rotate_s = 600;"), 0);
	uint64_t due = dnsalg_cookie_deadline(&e->x.cookie);
	static const char *bad[] = { "cookie_rotate_s = 59;", "cookie_rotate_s = 1;",
				     "cookie_rotate_s = 604801;", "cookie_rotate_s = \"hour\";" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char err[1024], want[96];
		e->now += 1000;
		assert_int_equal(reload_capturing_stderr(e, bad[i], err, sizeof err), DNSALG_EINVAL);
		/* the key sits on line 5 of the file */
		snprintf(want, sizeof want, "%s:5:", e->path);
		if (!strstr(err, want) || !strstr(err, "cookie_rotate_s"))
			fail_msg("%s: no file:line error naming the key, got \"%s\"", bad[i], err);
		assert_non_null(strstr(e->log, "has errors; keeping the running config"));
		assert_int_equal(e->x.cookie.interval_s, 600);
		assert_int_equal(dnsalg_cookie_deadline(&e->x.cookie), due);
	}
	assert_int_equal(check(e, e->c_cur), DNSALG_COOKIE_CURRENT);
}

static void command_line_wins(void **state)
{
	struct env *e = *state;
	uint64_t due = dnsalg_cookie_deadline(&e->x.cookie);
	e->keep.cookie_rotate_cmdline = true;
	assert_int_equal(reload_with(e, "cookie_rotate_s = 600;"), 0);
	assert_int_equal(e->x.cookie.interval_s, 3600);
	assert_int_equal(dnsalg_cookie_deadline(&e->x.cookie), due);
	assert_non_null(strstr(e->log, "--cookie-rotate on the command line keeps the rollover every 3600 s"));
}

static void counters_show_running_interval(void **state)
{
	struct env *e = *state;
	char out[4096];
	int n = dnsalg_ctl_handle(&e->x, NULL, "{\"cmd\":\"counters\"}", e->now, out, sizeof out);
	assert_true(n > 0);
	assert_non_null(strstr(out, "\"cookie_rotate_s\":3600,\"cookie_rotate_in_s\":2600}"));
	assert_int_equal(reload_with(e, "cookie_rotate_s = 120;"), 0);
	e->now += 500;
	n = dnsalg_ctl_handle(&e->x, NULL, "{\"cmd\":\"counters\"}", e->now, out, sizeof out);
	assert_true(n > 0 && (size_t)n < sizeof out);
	assert_non_null(strstr(out, "\"cookie_rotate_s\":120,\"cookie_rotate_in_s\":120}"));
	assert_int_equal(reload_with(e, "cookie_rotate_s = 0;"), 0);
	n = dnsalg_ctl_handle(&e->x, NULL, "{\"cmd\":\"counters\"}", e->now, out, sizeof out);
	assert_non_null(strstr(out, "\"cookie_rotate_s\":0,\"cookie_rotate_in_s\":null}"));
}

static void tcp_idle_from_config(void **state)
{
	struct env *e = *state;
	struct dnsalg_opts o;
	dnsalg_opts_defaults(&o);
	write_conf(e, "");
	assert_int_equal(dnsalg_opts_load_conf(&o, e->path), 0);
	assert_int_equal(o.tcp_idle_ms, 10000);
	dnsalg_opts_free(&o);
	dnsalg_opts_defaults(&o);
	write_conf(e, "tcp_idle_ms = 2500;");
	assert_int_equal(dnsalg_opts_load_conf(&o, e->path), 0);
	assert_int_equal(o.tcp_idle_ms, 2500);
	dnsalg_opts_free(&o);
	static const char *bad[] = { "tcp_idle_ms = 999;", "tcp_idle_ms = 300001;" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		dnsalg_opts_defaults(&o);
		write_conf(e, bad[i]);
		assert_int_equal(dnsalg_opts_load_conf(&o, e->path), DNSALG_EINVAL);
		dnsalg_opts_free(&o);
	}
}

static void tcp_idle_reloads(void **state)
{
	struct env *e = *state;
	char err[1024];
	assert_int_equal(atomic_load(&e->x.tcp_idle_ms), 10000);
	assert_int_equal(reload_with(e, "tcp_idle_ms = 2500;"), 0);
	assert_int_equal(atomic_load(&e->x.tcp_idle_ms), 2500);
	assert_non_null(strstr(e->log, "TCP clients may stay idle 2500 ms (was 10000)"));
	/* the same value again: nothing to say */
	assert_int_equal(reload_with(e, "tcp_idle_ms = 2500;"), 0);
	assert_null(strstr(e->log, "idle"));
	/* out of range: the file is refused whole, the running value stays */
	assert_int_equal(reload_capturing_stderr(e, "tcp_idle_ms = 999;", err, sizeof err), DNSALG_EINVAL);
	assert_int_equal(atomic_load(&e->x.tcp_idle_ms), 2500);
	/* the key gone: the default again, as at start */
	assert_int_equal(reload_with(e, ""), 0);
	assert_int_equal(atomic_load(&e->x.tcp_idle_ms), 10000);
	/* -I on the command line wins over the file, as at start */
	e->keep.tcp_idle_cmdline = true;
	assert_int_equal(reload_with(e, "tcp_idle_ms = 4000;"), 0);
	assert_int_equal(atomic_load(&e->x.tcp_idle_ms), 10000);
	assert_non_null(strstr(e->log, "--tcp-idle on the command line keeps 10000 ms"));
}

/* dnsalg.upstreams: the list the threads follow is replaced (a new
 * generation), logged with the old one; the same list again is no change;
 * -u on the command line wins. */
static void upstreams_reload(void **state)
{
	struct env *e = *state;
	struct dnsalg_upstream_list l;
	assert_int_equal(dnsalg_upstream_list_init(&l, e->o.upstreams, e->o.n_upstreams, e->o.timeout_ms), 0);
	e->x.upstreams = &l;
	uint32_t gen = atomic_load(&l.gen);
	write_conf_up(e, "\"2001:db8::54\", \"[2001:db8::55]:5353\"", "cookie_rotate_s = 3600;");
	assert_int_equal(reload_file(e), 0);
	assert_int_equal(atomic_load(&l.gen), gen + 1);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ep[1].port, 5353);
	assert_non_null(strstr(e->log, "SIGHUP: upstreams 2001:db8::54, [2001:db8::55]:5353 (was 2001:db8::53)"));
	/* the same file again: nothing moves, nothing said */
	assert_int_equal(reload_file(e), 0);
	assert_int_equal(atomic_load(&l.gen), gen + 1);
	assert_null(strstr(e->log, "upstreams"));
	/* -u given at start: the file's list is logged as not applied */
	e->keep.upstreams_cmdline = true;
	assert_int_equal(reload_with(e, "cookie_rotate_s = 3600;"), 0);
	assert_int_equal(atomic_load(&l.gen), gen + 1);
	assert_int_equal(l.n, 2);
	assert_non_null(strstr(e->log, "dnsalg.upstreams = 2001:db8::53 not applied: --upstream on the command line "
				       "keeps 2001:db8::54, [2001:db8::55]:5353"));
	e->x.upstreams = NULL;
	dnsalg_upstream_list_fini(&l);
}

/* The list's timeout as it stands, and its generation. */
static uint32_t list_timeout(struct dnsalg_upstream_list *l, uint32_t *gen)
{
	struct dnsalg_endpoint ep[DNSALG_MAX_UPSTREAMS];
	uint32_t ms;
	dnsalg_upstream_list_get(l, ep, &ms, gen);
	return ms;
}

/* dnsalg.timeout_ms goes into the list the threads follow, a generation
 * of its own when the servers stay, one generation with them when both
 * change; the same value again is no change; out of range the file is
 * refused whole; the key gone is the default again; -T on the command line
 * keeps its value, -u keeps the servers only. */
static void timeout_reload(void **state)
{
	struct env *e = *state;
	char err[1024];
	struct dnsalg_upstream_list l;
	assert_int_equal(e->o.timeout_ms, 2000);
	assert_int_equal(dnsalg_upstream_list_init(&l, e->o.upstreams, e->o.n_upstreams, e->o.timeout_ms), 0);
	e->x.upstreams = &l;
	uint32_t gen0 = atomic_load(&l.gen), gen;
	assert_int_equal(reload_with(e, "timeout_ms = 600;"), 0);
	assert_int_equal(list_timeout(&l, &gen), 600);
	assert_int_equal(gen, gen0 + 1);
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(e->log, "SIGHUP: upstream timeout 600 ms (was 2000), from each thread's next query on"));
	assert_null(strstr(e->log, "upstreams"));
	/* the same value again: nothing moves, nothing said */
	assert_int_equal(reload_with(e, "timeout_ms = 600;"), 0);
	assert_int_equal(atomic_load(&l.gen), gen0 + 1);
	assert_null(strstr(e->log, "timeout"));
	/* below the loader's 100: the file is refused, the running value stays */
	assert_int_equal(reload_capturing_stderr(e, "timeout_ms = 99;", err, sizeof err), DNSALG_EINVAL);
	assert_non_null(strstr(err, "timeout_ms"));
	assert_int_equal(list_timeout(&l, &gen), 600);
	assert_int_equal(gen, gen0 + 1);
	/* the key gone: the default again, as at start */
	assert_int_equal(reload_with(e, ""), 0);
	assert_int_equal(list_timeout(&l, &gen), 2000);
	assert_int_equal(gen, gen0 + 2);
	/* servers and timeout at once: one generation, both logged */
	write_conf_up(e, "\"2001:db8::54\"", "timeout_ms = 900;");
	assert_int_equal(reload_file(e), 0);
	assert_int_equal(list_timeout(&l, &gen), 900);
	assert_int_equal(gen, gen0 + 3);
	assert_non_null(strstr(e->log, "SIGHUP: upstreams 2001:db8::54 (was 2001:db8::53)"));
	assert_non_null(strstr(e->log, "SIGHUP: upstream timeout 900 ms (was 2000)"));
	/* -u at start: the file's servers are not applied, its timeout is */
	e->keep.upstreams_cmdline = true;
	assert_int_equal(reload_with(e, "timeout_ms = 700;"), 0);
	assert_int_equal(list_timeout(&l, &gen), 700);
	assert_int_equal(gen, gen0 + 4);
	assert_non_null(strstr(e->log, "dnsalg.upstreams = 2001:db8::53 not applied: "
				       "--upstream on the command line keeps 2001:db8::54"));
	char line[64];
	assert_true(dnsalg_upstream_list_format(l.ep, l.n, line, sizeof line) > 0);
	assert_string_equal(line, "2001:db8::54");
	assert_non_null(strstr(e->log, "SIGHUP: upstream timeout 700 ms (was 900)"));
	/* -T at start: the file's timeout is not applied, its servers are */
	e->keep.upstreams_cmdline = false;
	e->keep.timeout_cmdline = true;
	assert_int_equal(reload_with(e, "timeout_ms = 4000;"), 0);
	assert_int_equal(list_timeout(&l, &gen), 700);
	assert_int_equal(gen, gen0 + 5);
	assert_non_null(strstr(e->log, "SIGHUP: upstreams 2001:db8::53 (was 2001:db8::54)"));
	assert_non_null(strstr(e->log, "dnsalg.timeout_ms = 4000 not applied: --timeout on the command line keeps 700 ms"));
	assert_null(strstr(e->log, "upstream timeout"));
	/* -T and nothing else new: no generation, only the line about the key */
	assert_int_equal(reload_with(e, "timeout_ms = 4000;"), 0);
	assert_int_equal(list_timeout(&l, &gen), 700);
	assert_int_equal(gen, gen0 + 5);
	assert_non_null(strstr(e->log, "--timeout on the command line keeps 700 ms"));
	e->x.upstreams = NULL;
	dnsalg_upstream_list_fini(&l);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test_setup_teardown(changed_interval_applies_and_keeps_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(unchanged_interval_does_not_postpone, setup, teardown),
		cmocka_unit_test_setup_teardown(short_interval_reload_keeps_an_hour, setup, teardown),
		cmocka_unit_test_setup_teardown(zero_stops_and_restarts_rollover, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_value_keeps_running_one, setup, teardown),
		cmocka_unit_test_setup_teardown(command_line_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(counters_show_running_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(tcp_idle_from_config, setup, teardown),
		cmocka_unit_test_setup_teardown(tcp_idle_reloads, setup, teardown),
		cmocka_unit_test_setup_teardown(upstreams_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(timeout_reload, setup, teardown),
	};
	return cmocka_run_group_tests_name("dnsalg_reload", t, NULL, NULL);
}
