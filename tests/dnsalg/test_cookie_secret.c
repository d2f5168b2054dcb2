/* Server-cookie secret rollover (RFC 7873 §7.1, RFC 9018 §5): a cookie made
 * before one rollover still verifies and is counted as a previous-secret
 * hit; retired secrets stay for an hour after their retirement whatever the
 * interval (a 120 s interval keeps 30), within a bound of 32 at the
 * shortest one, and the timestamp, not the rollover, ends a cookie's life;
 * an operator's rollover forgets all but the secret it retires; new
 * cookies come from the current secret;
 * interval 0 never rolls over; tampered cookies fail under both secrets;
 * a failing random source (the seam in struct dnsalg_cookie_secrets) stops
 * the start, and at a rollover keeps both secrets, is counted, logged once
 * and tried again one interval later.
 * A check tries only the secrets current about the cookie's timestamp: a
 * forged cookie costs at most DNSALG_COOKIE_CHECK_HASHES SipHashes with 32
 * retired secrets (33 when each kept one was tried), and a genuine cookie
 * of every kept age verifies, across wall-clock steps of half an interval
 * either way and rollovers in the cookie's second.
 * Both clocks are fake: the monotonic one of the rollovers (e->now) and the
 * wall clock of RFC 9018's timestamps (e->cl.wall_s), which advance()
 * moves together and a test may step. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake.h"

#define IVL 600u                     /* rollover interval under test, seconds */
#define WALL 1700000000u

static const struct fake_rrset zone[] = {
	{ "plain.ext.", LDNS_RR_TYPE_TXT, 0, "plain.ext. 300 IN TXT \"hello\"", false },
};
static const uint8_t CC[8] = { 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8 };

struct env {
	struct dnsalg_opts o;
	struct dnsalg_counters cnt;
	struct dnsalg_ctx x;
	struct fake_up f;
	struct dnsalg_upstream_ops up;
	struct dnsalg_client cl;
	uint64_t now;                    /* fake monotonic clock, ms */
	unsigned wall_ms;                /* the wall clock's milliseconds */
	uint8_t q[512], out[4096];
	int n;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);
	fake_alg_init(&e->x, &e->o, &e->cnt, &e->f, &e->up, zone, sizeof zone / sizeof zone[0]);
	e->now = 5000;
	uint8_t k[DNSALG_COOKIE_SECRET];
	for (int i = 0; i < DNSALG_COOKIE_SECRET; i++)
		k[i] = (uint8_t)(0x40 + i);
	dnsalg_cookie_set(&e->x.cookie, k, IVL, e->now);
	inet_pton(AF_INET6, "fd00:1:1:1::11", &e->cl.addr);
	e->cl.wall_s = WALL;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	fake_alg_free(&e->x);
	free(e);
	return 0;
}

/* Ask for plain.ext. TXT with a COOKIE option of cookie_len octets (8: the
 * client cookie alone); the server cookie of the answer goes to sc. */
static void ask(struct env *e, const uint8_t *cookie, size_t cookie_len, uint8_t sc[16])
{
	uint8_t opt[4 + 40] = { 0, DNSALG_OPT_COOKIE, 0, (uint8_t)cookie_len };
	memcpy(opt + 4, cookie, cookie_len);
	size_t n = mkquery(e->q, sizeof e->q, 0x5151, "plain.ext.", LDNS_RR_TYPE_TXT, DNSALG_F_RD, 1232, false);
	n = fake_add_opts(e->q, n, sizeof e->q, opt, 4 + cookie_len);
	assert_true(n > 0);
	e->n = dnsalg_handle(&e->x, &e->up, &e->cl, e->q, n, false, e->now, e->out, sizeof e->out);
	assert_true(e->n >= 12);
	long at = dnsalg_wire_opt_at(e->out, (size_t)e->n);
	assert_true(at > 0);
	size_t o = (size_t)at + 10, end = o + (size_t)(e->out[at + 8] << 8 | e->out[at + 9]);
	for (; o + 4 <= end; o += 4u + (size_t)(e->out[o + 2] << 8 | e->out[o + 3])) {
		if (e->out[o + 1] == DNSALG_OPT_COOKIE && e->out[o] == 0) {
			assert_int_equal(e->out[o + 3], 24);
			assert_memory_equal(e->out + o + 4, cookie, 8);
			memcpy(sc, e->out + o + 12, 16);
			return;
		}
	}
	fail_msg("no COOKIE in the answer");
}

/* A full cookie: our client cookie and a server cookie. */
static void full(uint8_t out[24], const uint8_t sc[16])
{
	memcpy(out, CC, 8);
	memcpy(out + 8, sc, 16);
}

static int check(struct env *e, const uint8_t c[24])
{
	struct dnsalg_query q;
	memset(&q, 0, sizeof q);
	q.cookie_len = 24;
	memcpy(q.cookie, c, 24);
	return dnsalg_cookie_check(&e->x.cookie, &q, &e->cl.addr, e->cl.wall_s);
}

/* Time passes: both clocks move on (the wall clock by whole seconds, the
 * rest kept for the next call). */
static void advance(struct env *e, uint64_t ms)
{
	e->now += ms;
	uint64_t w = e->wall_ms + ms;
	e->cl.wall_s += (uint32_t)(w / 1000);
	e->wall_ms = (unsigned)(w % 1000);
}

static void one_rollover_accepted_as_previous(void **state)
{
	struct env *e = *state;
	uint8_t sc0[16], c0[24], sc1[16];
	ask(e, CC, 8, sc0);
	assert_int_equal(e->cnt.cookie_new, 1);
	full(c0, sc0);
	assert_int_equal(check(e, c0), DNSALG_COOKIE_CURRENT);

	/* one millisecond before the deadline nothing happens */
	assert_int_equal(dnsalg_cookie_deadline(&e->x.cookie), e->now + IVL * 1000);
	advance(e, IVL * 1000 - 1);
	assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 0);
	assert_int_equal(e->cnt.cookie_rotations, 0);
	advance(e, 1);
	assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 1);
	assert_int_equal(e->cnt.cookie_rotations, 1);
	assert_int_equal(dnsalg_cookie_deadline(&e->x.cookie), e->now + IVL * 1000);

	/* the client comes back with the cookie it holds: valid, counted as a
	 * previous-secret hit, and handed a cookie of the new secret */
	assert_int_equal(e->cl.wall_s, WALL + IVL);
	ask(e, c0, 24, sc1);
	assert_int_equal(e->cnt.cookie_valid, 1);
	assert_int_equal(e->cnt.cookie_prev_secret_hits, 1);
	assert_int_equal(e->cnt.cookie_invalid, 0);
	assert_memory_not_equal(sc1 + 8, sc0 + 8, 8);
	uint8_t c1[24];
	full(c1, sc1);
	assert_int_equal(check(e, c1), DNSALG_COOKIE_CURRENT);
	/* with the new cookie it is a plain valid one, not a previous hit */
	ask(e, c1, 24, sc1);
	assert_int_equal(e->cnt.cookie_valid, 2);
	assert_int_equal(e->cnt.cookie_prev_secret_hits, 1);
}

/* At 600 s six retired secrets cover the hour: two rollovers on, the first
 * cookie is one of the secret before the previous one (counted as an old
 * hit, which the two-secret scheme used to refuse). */
static void two_rollovers_still_in_the_hour(void **state)
{
	struct env *e = *state;
	uint8_t sc0[16], sc1[16], c0[24], c1[24];
	ask(e, CC, 8, sc0);
	full(c0, sc0);
	advance(e, IVL * 1000);
	assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 1);
	ask(e, c0, 24, sc1);                      /* secret 2's cookie */
	full(c1, sc1);
	assert_int_equal(e->cnt.cookie_prev_secret_hits, 1);
	advance(e, IVL * 1000);
	assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 1);
	assert_int_equal(e->cnt.cookie_rotations, 2);
	/* well inside RFC 9018's hour: only the secret makes the difference */
	assert_int_equal(e->cl.wall_s, WALL + 2 * IVL);
	assert_int_equal(dnsalg_cookie_keep(IVL), 6);
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), 2);
	assert_int_equal(check(e, c0), DNSALG_COOKIE_PREVIOUS + 1);
	assert_int_equal(check(e, c1), DNSALG_COOKIE_PREVIOUS);
	uint8_t sc[16];
	ask(e, c0, 24, sc);
	assert_int_equal(e->cnt.cookie_invalid, 0);
	assert_int_equal(e->cnt.cookie_prev_secret_hits, 2);
	assert_int_equal(e->cnt.cookie_old_secret_hits, 1);
	ask(e, c1, 24, sc);
	assert_int_equal(e->cnt.cookie_prev_secret_hits, 3);
	assert_int_equal(e->cnt.cookie_old_secret_hits, 1);
	/* past the hour of its timestamp it is stale, kept secret or not */
	e->cl.wall_s = WALL + 3601;
	assert_int_equal(check(e, c0), DNSALG_COOKIE_BAD);
	/* each rollover drew a fresh secret: three different ones */
	uint8_t k[DNSALG_COOKIE_SECRET], p[DNSALG_COOKIE_SECRET], first[DNSALG_COOKIE_SECRET];
	for (int i = 0; i < DNSALG_COOKIE_SECRET; i++)
		first[i] = (uint8_t)(0x40 + i);
	dnsalg_cookie_secret_get(&e->x.cookie, 0, k);
	dnsalg_cookie_secret_get(&e->x.cookie, 1, p);
	assert_memory_not_equal(k, p, sizeof k);
	assert_memory_not_equal(k, first, sizeof k);
	assert_memory_not_equal(p, first, sizeof p);
	assert_true(dnsalg_cookie_secret_get(&e->x.cookie, 2, p));
	assert_memory_equal(p, first, sizeof p);
	assert_false(dnsalg_cookie_secret_get(&e->x.cookie, 3, p));
}

static void fresh_cookie_from_current_secret(void **state)
{
	struct env *e = *state;
	assert_int_equal(dnsalg_cookie_rotate(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 0);
	uint8_t cur[DNSALG_COOKIE_SECRET], prev[DNSALG_COOKIE_SECRET], want[16], old[16], sc[16];
	dnsalg_cookie_secret_get(&e->x.cookie, false, cur);
	dnsalg_cookie_secret_get(&e->x.cookie, true, prev);
	for (int i = 0; i < DNSALG_COOKIE_SECRET; i++)
		assert_int_equal(prev[i], 0x40 + i);   /* the first secret moved down */
	dnsalg_cookie_make(cur, CC, &e->cl.addr, e->cl.wall_s, want);
	dnsalg_cookie_make(prev, CC, &e->cl.addr, e->cl.wall_s, old);
	dnsalg_cookie_server(&e->x.cookie, CC, &e->cl.addr, e->cl.wall_s, sc);
	assert_memory_equal(sc, want, 16);
	assert_memory_not_equal(sc, old, 16);
	/* and on the wire, for a client that held an old-secret cookie too */
	uint8_t c[24];
	full(c, old);
	ask(e, c, 24, sc);
	assert_memory_equal(sc, want, 16);
	assert_int_equal(e->cnt.cookie_prev_secret_hits, 1);
}

static void interval_zero_never_rotates(void **state)
{
	struct env *e = *state;
	uint8_t k[DNSALG_COOKIE_SECRET], k2[DNSALG_COOKIE_SECRET], sc0[16], c0[24];
	dnsalg_cookie_secret_get(&e->x.cookie, false, k);
	dnsalg_cookie_set(&e->x.cookie, k, 0, e->now);
	assert_true(dnsalg_cookie_deadline(&e->x.cookie) == UINT64_MAX);
	ask(e, CC, 8, sc0);
	full(c0, sc0);
	static const uint64_t later[] = { 1, 600000, 3600000, 604800000, 315360000000ULL, UINT64_MAX - 1 };
	for (size_t i = 0; i < sizeof later / sizeof later[0]; i++)
		assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, later[i], e->cl.wall_s, &e->cnt), 0);
	assert_int_equal(e->cnt.cookie_rotations, 0);
	dnsalg_cookie_secret_get(&e->x.cookie, false, k2);
	assert_memory_equal(k, k2, sizeof k);
	assert_int_equal(check(e, c0), DNSALG_COOKIE_CURRENT);
	/* an operator's rollover (SIGUSR1) still works, and stays a one-off */
	assert_int_equal(dnsalg_cookie_rotate(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 0);
	assert_int_equal(check(e, c0), DNSALG_COOKIE_PREVIOUS);
	assert_true(dnsalg_cookie_deadline(&e->x.cookie) == UINT64_MAX);
	assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, UINT64_MAX - 1, e->cl.wall_s, &e->cnt), 0);
	assert_int_equal(e->cnt.cookie_rotations, 1);
}

static void tampered_cookie_fails_under_both(void **state)
{
	struct env *e = *state;
	uint8_t sc0[16], sc1[16], c0[24], c1[24], t[24];
	ask(e, CC, 8, sc0);
	full(c0, sc0);
	advance(e, IVL * 1000);
	assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 1);
	dnsalg_cookie_server(&e->x.cookie, CC, &e->cl.addr, e->cl.wall_s, sc1);
	full(c1, sc1);
	assert_int_equal(check(e, c0), DNSALG_COOKIE_PREVIOUS);
	assert_int_equal(check(e, c1), DNSALG_COOKIE_CURRENT);
	/* any one bit of client cookie, version, reserved, timestamp or hash */
	const uint8_t *good[2] = { c0, c1 };
	for (int g = 0; g < 2; g++)
		for (int i = 0; i < 24; i++)
			for (int b = 0; b < 8; b++) {
				memcpy(t, good[g], 24);
				t[i] ^= (uint8_t)(1u << b);
				if (check(e, t) != DNSALG_COOKIE_BAD)
					fail_msg("cookie %d with bit %d of octet %d flipped accepted", g, b, i);
			}
	/* another address, another secret, or a server cookie of zeros (what
	 * an unset previous secret would hold) */
	e->cl.addr.s6_addr[15] ^= 1;
	assert_int_equal(check(e, c0), DNSALG_COOKIE_BAD);
	assert_int_equal(check(e, c1), DNSALG_COOKIE_BAD);
	e->cl.addr.s6_addr[15] ^= 1;
	uint8_t other[DNSALG_COOKIE_SECRET] = { 1 }, zero[DNSALG_COOKIE_SECRET] = { 0 }, sc[16];
	dnsalg_cookie_make(other, CC, &e->cl.addr, e->cl.wall_s, sc);
	full(t, sc);
	assert_int_equal(check(e, t), DNSALG_COOKIE_BAD);
	/* the tampered one on the wire: answered, counted invalid, not a hit */
	memcpy(t, c0, 24);
	t[23] ^= 0x80;
	ask(e, t, 24, sc);
	assert_int_equal(e->cnt.cookie_invalid, 1);
	assert_int_equal(e->cnt.cookie_prev_secret_hits, 0);
	/* before any rollover there is no previous secret at all */
	uint8_t k[DNSALG_COOKIE_SECRET] = { 9, 9, 9 };
	dnsalg_cookie_set(&e->x.cookie, k, IVL, e->now);
	dnsalg_cookie_make(zero, CC, &e->cl.addr, e->cl.wall_s, sc);
	full(t, sc);
	assert_int_equal(check(e, t), DNSALG_COOKIE_BAD);
	assert_int_equal(check(e, c1), DNSALG_COOKIE_BAD);
}

static void late_tick_and_time_window(void **state)
{
	struct env *e = *state;
	uint8_t sc0[16], c0[24];
	ask(e, CC, 8, sc0);
	full(c0, sc0);
	/* a tick that comes late rolls over once and schedules from then */
	advance(e, 5 * IVL * 1000 + 123);
	assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 1);
	assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 0);
	assert_int_equal(e->cnt.cookie_rotations, 1);
	assert_int_equal(dnsalg_cookie_deadline(&e->x.cookie), e->now + IVL * 1000);
	/* the previous secret does not stretch RFC 9018's hour */
	e->cl.wall_s = WALL + 3600;
	assert_int_equal(check(e, c0), DNSALG_COOKIE_PREVIOUS);
	e->cl.wall_s = WALL + 3601;
	assert_int_equal(check(e, c0), DNSALG_COOKIE_BAD);
	e->cl.wall_s = WALL - 301;
	assert_int_equal(check(e, c0), DNSALG_COOKIE_BAD);
}

/* How many retired secrets an interval keeps: an hour's worth, bounded. */
static void keep_counts(void **state)
{
	(void)state;
	static const struct { uint32_t ivl; unsigned keep; } t[] = {
		{ 0, 1 }, { 60, 32 }, { 112, 32 }, { 113, 32 }, { 120, 30 }, { 599, 7 },
		{ 600, 6 }, { 1800, 2 }, { 1801, 2 }, { 3599, 2 }, { 3600, 1 }, { 604800, 1 },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		unsigned k = dnsalg_cookie_keep(t[i].ivl);
		if (k != t[i].keep)
			fail_msg("interval %u: keeps %u, want %u", (unsigned)t[i].ivl, k, t[i].keep);
		/* an hour after retirement (or the bound), never more than the bound */
		assert_true(k <= DNSALG_COOKIE_RETIRED_MAX);
		if (t[i].ivl && k < DNSALG_COOKIE_RETIRED_MAX)
			assert_true((uint64_t)k * t[i].ivl >= DNSALG_COOKIE_WINDOW_S);
	}
}

/* Roll over n times, interval apart on both clocks. */
static void roll(struct env *e, unsigned n, uint32_t ivl)
{
	for (unsigned i = 0; i < n; i++) {
		advance(e, (uint64_t)ivl * 1000);
		assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 1);
	}
}

/* A 120 s interval: a cookie minted 10 minutes (5 rollovers) ago still
 * verifies; the secret that made it stays until an hour after its
 * retirement (30 rollovers), then goes; the timestamp still ends the
 * cookie's life at an hour. */
static void short_interval_keeps_an_hour(void **state)
{
	struct env *e = *state;
	uint8_t k0[DNSALG_COOKIE_SECRET], sc0[16], c0[24], sc[16];
	dnsalg_cookie_secret_get(&e->x.cookie, 0, k0);
	dnsalg_cookie_set(&e->x.cookie, k0, 120, e->now);
	ask(e, CC, 8, sc0);
	full(c0, sc0);
	roll(e, 5, 120);
	assert_int_equal(e->cl.wall_s, WALL + 600);
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), 5);
	assert_int_equal(check(e, c0), DNSALG_COOKIE_PREVIOUS + 4);
	ask(e, c0, 24, sc);
	assert_int_equal(e->cnt.cookie_valid, 1);
	assert_int_equal(e->cnt.cookie_invalid, 0);
	assert_int_equal(e->cnt.cookie_prev_secret_hits, 1);
	assert_int_equal(e->cnt.cookie_old_secret_hits, 1);
	/* the answer moved the client to the current secret */
	uint8_t c1[24];
	full(c1, sc);
	assert_int_equal(check(e, c1), DNSALG_COOKIE_CURRENT);
	/* 30 rollovers: an hour since k0 retired (its cookie is 3600 s old) */
	roll(e, 25, 120);
	assert_int_equal(e->cl.wall_s, WALL + 3600);
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), 30);
	assert_int_equal(check(e, c0), DNSALG_COOKIE_PREVIOUS + 29);
	/* one second later the timestamp refuses it, though k0 is still kept */
	e->cl.wall_s++;
	assert_int_equal(check(e, c0), DNSALG_COOKIE_BAD);
	ask(e, c0, 24, sc);
	assert_int_equal(e->cnt.cookie_invalid, 1);
	/* a k0 cookie stamped late in k0's time still verifies ... */
	uint8_t t[24];
	memcpy(t, CC, 8);
	dnsalg_cookie_make(k0, CC, &e->cl.addr, WALL + 119, t + 8);
	assert_int_equal(check(e, t), DNSALG_COOKIE_PREVIOUS + 29);
	/* ... but one stamped now, long after k0 retired, is not k0's doing
	 * (only a holder of k0 can make it): refused though k0 is kept */
	dnsalg_cookie_make(k0, CC, &e->cl.addr, e->cl.wall_s, t + 8);
	assert_int_equal(check(e, t), DNSALG_COOKIE_BAD);
	/* the 31st rollover drops k0 */
	roll(e, 1, 120);
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), 30);
	assert_false(dnsalg_cookie_secret_get(&e->x.cookie, 31, t));
	uint8_t k[DNSALG_COOKIE_SECRET];
	assert_true(dnsalg_cookie_secret_get(&e->x.cookie, 30, k));
	assert_memory_not_equal(k, k0, sizeof k);
}

/* At the shortest interval the ring stops at its bound: 32 retired, the
 * 33rd gone at once, whatever its timestamp.  Each kept secret starts where
 * its rollover's wall clock was, and a cookie stamped in its time verifies
 * as its age. */
static void ring_bound_holds(void **state)
{
	struct env *e = *state;
	uint8_t k[DNSALG_COOKIE_SECRET], t[24];
	uint32_t start;
	dnsalg_cookie_secret_get(&e->x.cookie, 0, k);
	dnsalg_cookie_set(&e->x.cookie, k, 60, e->now);
	for (unsigned i = 1; i <= 100; i++) {
		roll(e, 1, 60);
		assert_int_equal(dnsalg_cookie_retired(&e->x.cookie),
				 i < DNSALG_COOKIE_RETIRED_MAX ? i : DNSALG_COOKIE_RETIRED_MAX);
	}
	memcpy(t, CC, 8);
	for (unsigned age = 1; age <= DNSALG_COOKIE_RETIRED_MAX; age++) {
		assert_true(dnsalg_cookie_secret_at(&e->x.cookie, age, k, &start));
		assert_int_equal(start, e->cl.wall_s - 60 * age);
		dnsalg_cookie_make(k, CC, &e->cl.addr, start + 30, t + 8);
		assert_int_equal(check(e, t), DNSALG_COOKIE_PREVIOUS + (int)age - 1);
	}
	/* the one that fell off: its secret is gone, its cookies with it */
	uint8_t oldest[DNSALG_COOKIE_SECRET];
	dnsalg_cookie_secret_at(&e->x.cookie, DNSALG_COOKIE_RETIRED_MAX, oldest, &start);
	roll(e, 1, 60);
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), DNSALG_COOKIE_RETIRED_MAX);
	dnsalg_cookie_make(oldest, CC, &e->cl.addr, start + 30, t + 8);
	assert_int_equal(check(e, t), DNSALG_COOKIE_BAD);
	dnsalg_cookie_make(oldest, CC, &e->cl.addr, start - 30, t + 8);
	assert_int_equal(check(e, t), DNSALG_COOKIE_BAD);
	assert_false(dnsalg_cookie_secret_get(&e->x.cookie, DNSALG_COOKIE_RETIRED_MAX + 1, k));
	/* and nothing is left behind the kept ones in the struct */
	for (unsigned i = 0; i < 2 * (1 + DNSALG_COOKIE_RETIRED_MAX); i++)
		assert_true(atomic_load(&e->x.cookie.key[i]) != 0);
}

/* SIGUSR1 (a feared leak): only the secret just retired stays; twice in a
 * row leaves nothing that was in use before, whatever the interval. */
static void operator_rollover_forgets(void **state)
{
	struct env *e = *state;
	uint8_t k[DNSALG_COOKIE_SECRET], sc0[16], c0[24], c1[24];
	dnsalg_cookie_secret_get(&e->x.cookie, 0, k);
	dnsalg_cookie_set(&e->x.cookie, k, 120, e->now);
	ask(e, CC, 8, sc0);
	full(c0, sc0);
	roll(e, 6, 120);
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), 6);
	memcpy(c1, CC, 8);
	dnsalg_cookie_server(&e->x.cookie, CC, &e->cl.addr, e->cl.wall_s, c1 + 8);
	assert_int_equal(dnsalg_cookie_rotate_forget(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 0);
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), 1);
	assert_int_equal(check(e, c1), DNSALG_COOKIE_PREVIOUS);
	assert_int_equal(check(e, c0), DNSALG_COOKIE_BAD);
	assert_int_equal(dnsalg_cookie_deadline(&e->x.cookie), e->now + 120 * 1000);
	assert_int_equal(dnsalg_cookie_rotate_forget(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 0);
	assert_int_equal(check(e, c1), DNSALG_COOKIE_BAD);
	/* timed rollovers build the hour up again */
	roll(e, 3, 120);
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), 4);
}

/* Readers never see half of a new secret while one thread rolls over. */
struct race { struct dnsalg_cookie_secrets *s; _Atomic bool stop; unsigned torn, reads; };
static void *reader(void *arg)
{
	struct race *r = arg;
	while (!atomic_load(&r->stop)) {
		uint8_t k[DNSALG_COOKIE_SECRET];
		dnsalg_cookie_secret_get(r->s, false, k);
		for (int i = 1; i < DNSALG_COOKIE_SECRET; i++)
			if (k[i] != k[0]) {
				r->torn++;
				break;
			}
		r->reads++;
	}
	return NULL;
}

static void readers_never_see_a_torn_secret(void **state)
{
	struct env *e = *state;
	struct race r = { .s = &e->x.cookie };
	uint8_t k[DNSALG_COOKIE_SECRET];
	memset(k, 0, sizeof k);
	dnsalg_cookie_set(r.s, k, 0, 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, reader, &r), 0);
	for (unsigned v = 0; v < 400000; v++) {
		memset(k, (int)(v & 0xff), sizeof k);
		dnsalg_cookie_set(r.s, k, 0, 0);
	}
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	printf("# %u reads during 400000 rollovers, %u torn\n", r.reads, r.torn);
	assert_int_equal(r.torn, 0);
}

/* A random source for the seam: fixed bytes (a new value per draw), or a
 * failure with a given errno. */
struct fake_rand { int fail_errno; unsigned draws, blocking; };
static int fake_random(void *arg, uint8_t *buf, size_t len, bool may_block)
{
	struct fake_rand *r = arg;
	r->draws++;
	r->blocking += may_block;
	if (r->fail_errno) {
		memset(buf, 0xee, len); /* whatever a failing source leaves must not be used */
		return -r->fail_errno;
	}
	memset(buf, (int)(0x80 + r->draws), len);
	return 0;
}

static void start_refused_without_random(void **state)
{
	(void)state;
	struct dnsalg_cookie_secrets s;
	memset(&s, 0, sizeof s);
	struct fake_rand fr = { .fail_errno = ENOSYS };
	s.random = fake_random;
	s.random_arg = &fr;
	assert_int_equal(dnsalg_cookie_init(&s, 3600, 1000), DNSALG_ERANDOM);
	assert_int_equal(fr.draws, 1);
	assert_int_equal(fr.blocking, 1);          /* at start it may wait for the pool */
	assert_int_equal(s.random_err, ENOSYS);
	/* nothing of the failed draw was taken as a secret */
	uint8_t k[DNSALG_COOKIE_SECRET], zero[DNSALG_COOKIE_SECRET] = { 0 };
	dnsalg_cookie_secret_get(&s, false, k);
	assert_memory_equal(k, zero, sizeof k);
	assert_int_equal(dnsalg_cookie_retired(&s), 0);
	assert_true(dnsalg_cookie_deadline(&s) == UINT64_MAX);
	/* the same struct starts once the source works */
	fr.fail_errno = 0;
	assert_int_equal(dnsalg_cookie_init(&s, 3600, 1000), 0);
	dnsalg_cookie_secret_get(&s, false, k);
	assert_int_equal(k[0], 0x82);
	assert_int_equal(dnsalg_cookie_deadline(&s), 1000 + 3600 * 1000);
	/* and the real source gives 16 octets, not all equal */
	uint8_t a[DNSALG_COOKIE_SECRET], b[DNSALG_COOKIE_SECRET];
	assert_int_equal(dnsalg_getrandom(NULL, a, sizeof a, true), 0);
	assert_int_equal(dnsalg_getrandom(NULL, b, sizeof b, false), 0);
	assert_memory_not_equal(a, b, sizeof a);
}

static void rollover_failure_keeps_secrets(void **state)
{
	struct env *e = *state;
	struct fake_rand fr = { 0 };
	e->x.cookie.random = fake_random;
	e->x.cookie.random_arg = &fr;
	char line[320];
	/* one good rollover: a client holds a cookie of each secret */
	uint8_t sc0[16], sc1[16], c0[24], c1[24];
	ask(e, CC, 8, sc0);
	full(c0, sc0);
	advance(e, IVL * 1000);
	assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 1);
	assert_int_equal(fr.blocking, 0);          /* a running daemon never blocks */
	assert_int_equal(dnsalg_cookie_log_line(&e->x.cookie, 1, line, sizeof line), 0);
	dnsalg_cookie_server(&e->x.cookie, CC, &e->cl.addr, e->cl.wall_s, sc1);
	full(c1, sc1);
	uint8_t cur0[DNSALG_COOKIE_SECRET], prev0[DNSALG_COOKIE_SECRET], cur[DNSALG_COOKIE_SECRET],
		prev[DNSALG_COOKIE_SECRET];
	dnsalg_cookie_secret_get(&e->x.cookie, false, cur0);
	dnsalg_cookie_secret_get(&e->x.cookie, true, prev0);

	/* the source fails at the next rollover */
	fr.fail_errno = EAGAIN;
	advance(e, IVL * 1000);
	assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), DNSALG_ERANDOM);
	assert_int_equal(e->cnt.cookie_rotate_failed, 1);
	assert_int_equal(e->cnt.cookie_rotations, 1);
	dnsalg_cookie_secret_get(&e->x.cookie, false, cur);
	dnsalg_cookie_secret_get(&e->x.cookie, true, prev);
	assert_memory_equal(cur, cur0, sizeof cur);
	assert_memory_equal(prev, prev0, sizeof prev);
	assert_int_equal(check(e, c0), DNSALG_COOKIE_PREVIOUS);
	assert_int_equal(check(e, c1), DNSALG_COOKIE_CURRENT);
	/* logged once, saying why and when it tries again */
	assert_true(dnsalg_cookie_log_line(&e->x.cookie, DNSALG_ERANDOM, line, sizeof line) > 0);
	assert_non_null(strstr(line, "rollover failed"));
	assert_non_null(strstr(line, strerror(EAGAIN)));
	assert_non_null(strstr(line, "next try in 600 s"));
	/* the next try is one interval later, not sooner */
	assert_int_equal(dnsalg_cookie_deadline(&e->x.cookie), e->now + IVL * 1000);
	unsigned draws = fr.draws;
	for (uint64_t t = 1000; t < IVL * 1000; t += 1000)
		assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now + t - 1, e->cl.wall_s, &e->cnt), 0);
	assert_int_equal(fr.draws, draws);
	advance(e, IVL * 1000);
	assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), DNSALG_ERANDOM);
	assert_int_equal(e->cnt.cookie_rotate_failed, 2);
	assert_int_equal(dnsalg_cookie_log_line(&e->x.cookie, DNSALG_ERANDOM, line, sizeof line), 0);
	assert_string_equal(line, "");
	/* an operator's rollover fails the same way, and is counted */
	assert_int_equal(dnsalg_cookie_rotate(&e->x.cookie, e->now + 5, e->cl.wall_s, &e->cnt), DNSALG_ERANDOM);
	assert_int_equal(e->cnt.cookie_rotate_failed, 3);
	assert_int_equal(dnsalg_cookie_deadline(&e->x.cookie), e->now + IVL * 1000);
	assert_int_equal(check(e, c0), DNSALG_COOKIE_PREVIOUS);
	/* the source comes back: the next interval rolls over, logged once */
	fr.fail_errno = 0;
	advance(e, IVL * 1000);
	assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 1);
	assert_int_equal(e->cnt.cookie_rotations, 2);
	assert_int_equal(e->cnt.cookie_rotate_failed, 3);
	assert_true(dnsalg_cookie_log_line(&e->x.cookie, 1, line, sizeof line) > 0);
	assert_string_equal(line, "cookie secret rolled over after 3 failed tries");
	assert_int_equal(dnsalg_cookie_log_line(&e->x.cookie, 0, line, sizeof line), 0);
	dnsalg_cookie_secret_get(&e->x.cookie, true, prev);
	assert_memory_equal(prev, cur0, sizeof prev);
	assert_int_equal(check(e, c1), DNSALG_COOKIE_PREVIOUS);
	assert_int_equal(check(e, c0), DNSALG_COOKIE_PREVIOUS + 1);
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), 2);
	/* a new run of failures is logged again */
	fr.fail_errno = EIO;
	advance(e, IVL * 1000);
	assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), DNSALG_ERANDOM);
	assert_true(dnsalg_cookie_log_line(&e->x.cookie, DNSALG_ERANDOM, line, sizeof line) > 0);
	assert_non_null(strstr(line, strerror(EIO)));
}

/* What one check costs in SipHashes: the count dnsalg_cookie_valid() keeps
 * for this thread. */
static unsigned long cost(struct env *e, const uint8_t c[24], int *r)
{
	unsigned long before = dnsalg_cookie_hashes;
	*r = check(e, c);
	return dnsalg_cookie_hashes - before;
}

/* With the ring full (32 retired, the shortest interval), a forged cookie
 * costs at most DNSALG_COOKIE_CHECK_HASHES SipHashes whatever timestamp it
 * carries in RFC 9018's window; trying every kept secret cost 33. */
static void forged_cookie_cost_is_bounded(void **state)
{
	struct env *e = *state;
	uint8_t k[DNSALG_COOKIE_SECRET], t[24];
	dnsalg_cookie_secret_get(&e->x.cookie, 0, k);
	dnsalg_cookie_set(&e->x.cookie, k, 60, e->now);
	roll(e, 40, 60);
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), DNSALG_COOKIE_RETIRED_MAX);
	static const uint8_t forger[DNSALG_COOKIE_SECRET] = { 0xf0, 0x4e, 0xd };
	memcpy(t, CC, 8);
	unsigned long most = 0, total = 0, h;
	int r;
	for (int32_t age = -300; age <= (int32_t)DNSALG_COOKIE_WINDOW_S; age++) {
		dnsalg_cookie_make(forger, CC, &e->cl.addr, e->cl.wall_s - (uint32_t)age, t + 8);
		h = cost(e, t, &r);
		if (r != DNSALG_COOKIE_BAD || h > DNSALG_COOKIE_CHECK_HASHES)
			fail_msg("forged cookie %d s old: %d after %lu hashes (bound %u, %u retired)",
				 (int)age, r, h, DNSALG_COOKIE_CHECK_HASHES,
				 dnsalg_cookie_retired(&e->x.cookie));
		most = h > most ? h : most;
		total += h;
	}
	printf("# forged cookies, every second of the window, %u retired secrets: "
	       "at most %lu SipHashes, %.2f on average\n", dnsalg_cookie_retired(&e->x.cookie),
	       most, (double)total / (DNSALG_COOKIE_WINDOW_S + 301));
	/* the bound is what a timestamp between two retired secrets' starts
	 * costs: the secret current then and its two neighbours */
	assert_int_equal(most, DNSALG_COOKIE_CHECK_HASHES);
	/* stamped now, as a forger would: the current secret and the previous */
	dnsalg_cookie_make(forger, CC, &e->cl.addr, e->cl.wall_s, t + 8);
	assert_int_equal(cost(e, t, &r), 2);
	assert_int_equal(r, DNSALG_COOKIE_BAD);
	/* a genuine one of the current secret: one */
	dnsalg_cookie_server(&e->x.cookie, CC, &e->cl.addr, e->cl.wall_s, t + 8);
	assert_int_equal(cost(e, t, &r), 1);
	assert_int_equal(r, DNSALG_COOKIE_CURRENT);
	/* stale, from too far ahead, or not version 1: none */
	dnsalg_cookie_make(forger, CC, &e->cl.addr, e->cl.wall_s - DNSALG_COOKIE_WINDOW_S - 1, t + 8);
	assert_int_equal(cost(e, t, &r), 0);
	dnsalg_cookie_make(forger, CC, &e->cl.addr, e->cl.wall_s + 301, t + 8);
	assert_int_equal(cost(e, t, &r), 0);
	dnsalg_cookie_make(forger, CC, &e->cl.addr, e->cl.wall_s, t + 8);
	t[8] = 2;
	assert_int_equal(cost(e, t, &r), 0);
	/* on the wire: answered, counted invalid */
	t[8] = 1;
	uint8_t sc[16];
	ask(e, t, 24, sc);
	assert_int_equal(e->cnt.cookie_invalid, 1);
	assert_int_equal(e->cnt.cookie_valid, 0);
}

/* A history of rollovers every ivl seconds (monotonic), generation g's
 * secret current for the g-th interval; in each, cookies made by the
 * daemon's own path at the rollover's second, in the middle and 1 ms before
 * the next rollover.  The wall clock is stepped by `step` seconds at
 * step_ms into generation step_gen (no step: 0).  Then every cookie is
 * checked mid-way through the last generation: each verifies as its
 * secret's age while that secret is kept and its timestamp within RFC
 * 9018's window, and is refused otherwise; never more than
 * DNSALG_COOKIE_CHECK_HASHES hashes. */
struct minted { uint8_t c[24]; unsigned gen; };
struct history {
	uint32_t ivl;
	unsigned gens;
	int32_t step;
	unsigned step_gen;
	uint64_t step_ms;
	unsigned wall_ms;   /* the wall clock's phase: 500 puts the cookie made
			     * 1 ms before a rollover in the rollover's second */
	/* out */
	unsigned accepted[1 + DNSALG_COOKIE_RETIRED_MAX], stale, gone;
};

static void history_go(struct env *e, struct history *h, unsigned gen, uint64_t gen_start,
		       uint64_t ms, bool *stepped)
{
	uint64_t to = gen_start + ms;
	if (h->step && !*stepped && gen == h->step_gen && gen_start + h->step_ms <= to) {
		advance(e, gen_start + h->step_ms - e->now);
		e->cl.wall_s += (uint32_t)h->step;
		*stepped = true;
	}
	advance(e, to - e->now);
}

static void history_run(struct env *e, struct history *h)
{
	static struct minted m[3 * 64];
	struct fake_rand fr = { 0 };
	uint8_t k[DNSALG_COOKIE_SECRET] = { 0x33, 0x44 };
	e->x.cookie.random = fake_random;
	e->x.cookie.random_arg = &fr;
	dnsalg_cookie_set(&e->x.cookie, k, h->ivl, e->now);
	e->wall_ms = h->wall_ms;
	unsigned n = 0;
	bool stepped = false;
	uint64_t at[3] = { 0, (uint64_t)h->ivl * 500, (uint64_t)h->ivl * 1000 - 1 };
	assert_true(h->gens < 64);
	for (unsigned g = 0; g <= h->gens; g++) {
		uint64_t gen_start = e->now;
		for (unsigned i = 0; i < 3; i++) {
			if (g == h->gens && i == 2)
				break;
			history_go(e, h, g, gen_start, at[i], &stepped);
			memcpy(m[n].c, CC, 8);
			dnsalg_cookie_server(&e->x.cookie, CC, &e->cl.addr, e->cl.wall_s, m[n].c + 8);
			m[n++].gen = g;
		}
		if (g == h->gens)
			break;
		history_go(e, h, g, gen_start, (uint64_t)h->ivl * 1000, &stepped);
		assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 1);
	}
	assert_true(!h->step || stepped);
	unsigned kept = dnsalg_cookie_retired(&e->x.cookie);
	assert_int_equal(kept, dnsalg_cookie_keep(h->ivl));
	for (unsigned i = 0; i < n; i++) {
		unsigned age = h->gens - m[i].gen;
		uint32_t ts = (uint32_t)m[i].c[12] << 24 | (uint32_t)m[i].c[13] << 16 |
			      (uint32_t)m[i].c[14] << 8 | m[i].c[15];
		int32_t old = (int32_t)(e->cl.wall_s - ts);
		bool fresh = old <= (int32_t)DNSALG_COOKIE_WINDOW_S && old >= -300;
		int want = !fresh || age > kept ? DNSALG_COOKIE_BAD :
			   age ? DNSALG_COOKIE_PREVIOUS + (int)age - 1 : DNSALG_COOKIE_CURRENT;
		int r;
		unsigned long hashes = cost(e, m[i].c, &r);
		if (r != want || hashes > DNSALG_COOKIE_CHECK_HASHES)
			fail_msg("interval %u s, step %+d s at %llu ms into generation %u: cookie of "
				 "generation %u (age %u, stamped %d s ago) checked %d, want %d, "
				 "%lu hashes", (unsigned)h->ivl, (int)h->step,
				 (unsigned long long)h->step_ms, h->step_gen, m[i].gen, age, (int)old,
				 r, want, hashes);
		if (want != DNSALG_COOKIE_BAD)
			h->accepted[age]++;
		else if (!fresh)
			h->stale++;
		else
			h->gone++;
	}
	e->x.cookie.random = NULL;
}

static void every_kept_age_across_wall_steps(void **state)
{
	struct env *e = *state;
	static const uint32_t ivls[] = { 60, 600 };
	unsigned runs = 0;
	for (size_t v = 0; v < sizeof ivls / sizeof ivls[0]; v++) {
		uint32_t ivl = ivls[v];
		unsigned kept = dnsalg_cookie_keep(ivl);
		/* enough generations that the ring is full and one has fallen off */
		unsigned gens = kept + 3;
		int32_t steps[] = { 0, (int32_t)ivl / 2, -(int32_t)ivl / 2 };
		for (size_t s = 0; s < 3; s++) {
			/* the step anywhere in a generation a kept secret covers:
			 * at its rollover, just after, in it, just before the next */
			uint64_t where[20];
			unsigned nw = 0;
			where[nw++] = 0;
			where[nw++] = 1;
			for (unsigned q = 1; q < 12; q++)
				where[nw++] = (uint64_t)ivl * 1000 * q / 12;
			where[nw++] = (uint64_t)ivl * 1000 - 1000;
			where[nw++] = (uint64_t)ivl * 1000 - 1;
			where[nw++] = (uint64_t)ivl * 1000;   /* at the rollover, before it */
			for (unsigned w = 0; w < (steps[s] ? nw : 1); w++) {
				for (unsigned x = 0; x < 3 * 2; x++) {
					/* in each of the last three generations, with
					 * the wall clock's phase 0 and 500 ms */
					struct history h = { .ivl = ivl, .gens = gens, .step = steps[s],
							     .step_gen = gens - 3 + x / 2,
							     .step_ms = where[w], .wall_ms = 500 * (x % 2) };
					history_run(e, &h);
					/* a genuine cookie of every kept age verified;
					 * at 600 s, the wall clock stepped forward makes
					 * every cookie of the oldest kept secret (the
					 * one an hour covers) over an hour old */
					unsigned top = ivl == 600 && steps[s] > 0 ? kept - 1 : kept;
					for (unsigned a = 0; a <= top; a++)
						if (!h.accepted[a])
							fail_msg("interval %u, step %+d: no cookie of age %u "
								 "verified", (unsigned)ivl, (int)steps[s], a);
					/* at 60 s the bound drops secrets whose cookies
					 * are still fresh; at 600 s the oldest kept
					 * secret's first cookies are over an hour old */
					if (ivl == 60)
						assert_true(h.gone > 0);
					else
						assert_true(h.stale > 0);
					runs++;
				}
			}
		}
	}
	printf("# %u histories: every kept age verified, wall clock stepped by 0, +/- interval/2\n",
	       runs);
}

/* SIGUSR1 in the second of a timed rollover: only the secret it retires
 * stays (a cookie of it stamped that second verifies), the one before is
 * forgotten though its cookies carry the same timestamp; a SIGUSR1 without
 * random bytes keeps every secret; checks cost at most two hashes with one
 * retired secret. */
static void operator_rollover_in_the_same_second(void **state)
{
	struct env *e = *state;
	struct fake_rand fr = { 0 };
	e->x.cookie.random = fake_random;
	e->x.cookie.random_arg = &fr;
	uint8_t k[DNSALG_COOKIE_SECRET], ca[24], cb[24], cc[24];
	dnsalg_cookie_secret_get(&e->x.cookie, 0, k);
	dnsalg_cookie_set(&e->x.cookie, k, 120, e->now);
	roll(e, 6, 120);
	advance(e, 120 * 1000);
	/* A's last cookie, then the timed rollover, B's first, then SIGUSR1 */
	memcpy(ca, CC, 8);
	dnsalg_cookie_server(&e->x.cookie, CC, &e->cl.addr, e->cl.wall_s, ca + 8);
	assert_int_equal(dnsalg_cookie_tick(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 1);
	assert_int_equal(check(e, ca), DNSALG_COOKIE_PREVIOUS);
	memcpy(cb, CC, 8);
	dnsalg_cookie_server(&e->x.cookie, CC, &e->cl.addr, e->cl.wall_s, cb + 8);
	assert_int_equal(dnsalg_cookie_rotate_forget(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 0);
	memcpy(cc, CC, 8);
	dnsalg_cookie_server(&e->x.cookie, CC, &e->cl.addr, e->cl.wall_s, cc + 8);
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), 1);
	int r;
	for (unsigned later = 0; later <= 2; later++) {
		assert_true(cost(e, cc, &r) <= 1);
		assert_int_equal(r, DNSALG_COOKIE_CURRENT);
		assert_true(cost(e, cb, &r) <= 2);
		assert_int_equal(r, DNSALG_COOKIE_PREVIOUS);
		assert_true(cost(e, ca, &r) <= 2);
		assert_int_equal(r, DNSALG_COOKIE_BAD);
		advance(e, 30 * 1000);
	}
	/* no random bytes: not rolled over, every secret and start kept */
	fr.fail_errno = EAGAIN;
	uint32_t s0, s1, t0, t1;
	uint8_t w[DNSALG_COOKIE_SECRET];
	dnsalg_cookie_secret_at(&e->x.cookie, 0, w, &s0);
	dnsalg_cookie_secret_at(&e->x.cookie, 1, w, &s1);
	assert_int_equal(dnsalg_cookie_rotate_forget(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt),
			 DNSALG_ERANDOM);
	dnsalg_cookie_secret_at(&e->x.cookie, 0, w, &t0);
	dnsalg_cookie_secret_at(&e->x.cookie, 1, w, &t1);
	assert_int_equal(s0, t0);
	assert_int_equal(s1, t1);
	assert_int_equal(dnsalg_cookie_retired(&e->x.cookie), 1);
	assert_int_equal(check(e, cc), DNSALG_COOKIE_CURRENT);
	assert_int_equal(check(e, cb), DNSALG_COOKIE_PREVIOUS);
	/* it works again: B forgotten, C previous */
	fr.fail_errno = 0;
	advance(e, 1000);
	assert_int_equal(dnsalg_cookie_rotate_forget(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), 0);
	assert_int_equal(check(e, cc), DNSALG_COOKIE_PREVIOUS);
	assert_int_equal(check(e, cb), DNSALG_COOKIE_BAD);
	assert_int_equal(check(e, ca), DNSALG_COOKIE_BAD);
	e->x.cookie.random = NULL;
}

/* Readers never pair a secret with another one's start while the ring
 * shifts: each secret's bytes are its start's low octet. */
static uint8_t race_next;
static int race_random(void *arg, uint8_t *buf, size_t len, bool may_block)
{
	(void)arg;
	(void)may_block;
	memset(buf, race_next, len);
	return 0;
}

struct race_st { struct dnsalg_cookie_secrets *s; _Atomic bool stop; unsigned bad, reads; };
static void *start_reader(void *arg)
{
	struct race_st *r = arg;
	while (!atomic_load(&r->stop)) {
		uint8_t k[DNSALG_COOKIE_SECRET];
		uint32_t st;
		unsigned age = r->reads % (1 + DNSALG_COOKIE_RETIRED_MAX);
		if (dnsalg_cookie_secret_at(r->s, age, k, &st)) {
			for (int i = 0; i < DNSALG_COOKIE_SECRET; i++)
				if (k[i] != (uint8_t)st) {
					r->bad++;
					break;
				}
		}
		r->reads++;
	}
	return NULL;
}

static void readers_see_each_secret_with_its_start(void **state)
{
	struct env *e = *state;
	struct race_st r = { .s = &e->x.cookie };
	uint8_t k[DNSALG_COOKIE_SECRET];
	memset(k, 0, sizeof k);
	/* the first secret's start is 0 (never read by a check) */
	dnsalg_cookie_set(r.s, k, 60, 0);
	r.s->random = race_random;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, start_reader, &r), 0);
	for (uint32_t v = 1; v <= 100000; v++) {
		race_next = (uint8_t)v;
		assert_int_equal(dnsalg_cookie_rotate(r.s, v, v, NULL), 0);
	}
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	r.s->random = NULL;
	printf("# %u reads during 100000 rollovers, %u with another secret's start\n", r.reads, r.bad);
	assert_int_equal(dnsalg_cookie_retired(r.s), DNSALG_COOKIE_RETIRED_MAX);
	assert_true(r.reads > 0);
	assert_int_equal(r.bad, 0);
}

static void counters_reply_has_rotate_failed(void **state)
{
	struct env *e = *state;
	struct fake_rand fr = { .fail_errno = EAGAIN };
	e->x.cookie.random = fake_random;
	e->x.cookie.random_arg = &fr;
	assert_int_equal(dnsalg_cookie_rotate(&e->x.cookie, e->now, e->cl.wall_s, &e->cnt), DNSALG_ERANDOM);
	char out[4096];
	int n = dnsalg_ctl_handle(&e->x, NULL, "{\"cmd\":\"counters\"}", e->now, out, sizeof out);
	assert_true(n > 0 && (size_t)n < sizeof out);
	assert_non_null(strstr(out, ",\"cookie_rotations\":0,"));
	assert_non_null(strstr(out, ",\"cookie_rotate_failed\":1,"));
}

/* dnsalg.cookie_rotate_s reaches the daemon's options; 1..59 is refused. */
static int load_with(const char *line, struct dnsalg_opts *o)
{
	char dir[] = "/tmp/dnsalg-cookie.XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/p.conf", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "site = { name = \"t\"; cmula_prefixes = [ \"fd00:10::/64\" ]; key_file = \"site.key\"; };\n"
		   "inside = { port = \"net_null0\"; };\n"
		   "isps = ( { name = \"a\"; pa_prefix = \"2001:db8:a::/48\"; port = \"net_null1\"; next_hop = \"fe80::1\"; } );\n"
		   "dnsalg = { upstreams = [ \"2001:db8::53\" ];\n%s\n};\n", line);
	fclose(f);
	dnsalg_opts_defaults(o);
	int r = dnsalg_opts_load_conf(o, path);
	unlink(path);
	rmdir(dir);
	return r;
}

static void config_key(void **state)
{
	(void)state;
	struct dnsalg_opts o;
	assert_int_equal(load_with("", &o), 0);
	assert_int_equal(o.cookie_rotate_s, 3600);
	dnsalg_opts_free(&o);
	assert_int_equal(load_with("cookie_rotate_s = 0;", &o), 0);
	assert_int_equal(o.cookie_rotate_s, 0);
	dnsalg_opts_free(&o);
	assert_int_equal(load_with("cookie_rotate_s = 60;", &o), 0);
	assert_int_equal(o.cookie_rotate_s, 60);
	dnsalg_opts_free(&o);
	assert_int_equal(load_with("cookie_rotate_s = 604800;", &o), 0);
	assert_int_equal(o.cookie_rotate_s, 604800);
	dnsalg_opts_free(&o);
	assert_int_equal(load_with("cookie_rotate_s = 59;", &o), DNSALG_EINVAL);
	dnsalg_opts_free(&o);
	assert_int_equal(load_with("cookie_rotate_s = 604801;", &o), DNSALG_EINVAL);
	dnsalg_opts_free(&o);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test_setup_teardown(one_rollover_accepted_as_previous, setup, teardown),
		cmocka_unit_test_setup_teardown(two_rollovers_still_in_the_hour, setup, teardown),
		cmocka_unit_test(keep_counts),
		cmocka_unit_test_setup_teardown(short_interval_keeps_an_hour, setup, teardown),
		cmocka_unit_test_setup_teardown(ring_bound_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(operator_rollover_forgets, setup, teardown),
		cmocka_unit_test_setup_teardown(fresh_cookie_from_current_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(interval_zero_never_rotates, setup, teardown),
		cmocka_unit_test_setup_teardown(tampered_cookie_fails_under_both, setup, teardown),
		cmocka_unit_test_setup_teardown(late_tick_and_time_window, setup, teardown),
		cmocka_unit_test_setup_teardown(readers_never_see_a_torn_secret, setup, teardown),
		cmocka_unit_test(config_key),
		cmocka_unit_test(start_refused_without_random),
		cmocka_unit_test_setup_teardown(rollover_failure_keeps_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(counters_reply_has_rotate_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(forged_cookie_cost_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(every_kept_age_across_wall_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(operator_rollover_in_the_same_second, setup, teardown),
		cmocka_unit_test_setup_teardown(readers_see_each_secret_with_its_start, setup, teardown),
	};
	return cmocka_run_group_tests_name("dnsalg_cookie_secret", t, NULL, NULL);
}
