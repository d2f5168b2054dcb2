/*
 * The server-cookie secret and its rollover (RFC 7873 §7.1, RFC 9018 §5).
 *
 * Two secrets are held: new server cookies are always made with the current
 * one; a cookie verifies under the current or the previous one.  A rollover
 * draws a fresh secret and demotes the current one, so a client's cookie
 * keeps verifying across one rollover and stops after the second.  The
 * caller passes `now` (monotonic milliseconds) and runs dnsalg_cookie_tick()
 * by the deadline it is given.
 *
 * Every query thread reads the secrets, one thread writes them, rarely: a
 * sequence lock over atomic words, so a reader never blocks or writes a
 * shared cache line, and never sees half of a new secret.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "dnsalg.h"

/* One writer at a time (the caller's rule): readers retry while seq is odd
 * or has moved. */
static void publish(struct dnsalg_cookie_secrets *s, const uint8_t cur[DNSALG_COOKIE_SECRET],
		    const uint8_t *prev)
{
	uint64_t w[4] = { 0, 0, 0, 0 };
	memcpy(w, cur, DNSALG_COOKIE_SECRET);
	if (prev)
		memcpy(w + 2, prev, DNSALG_COOKIE_SECRET);
	uint32_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);
	atomic_store_explicit(&s->seq, q + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (int i = 0; i < 4; i++)
		atomic_store_explicit(&s->key[i], w[i], memory_order_relaxed);
	atomic_store_explicit(&s->has_prev, prev != NULL, memory_order_relaxed);
	atomic_store_explicit(&s->seq, q + 2, memory_order_release);
}

static bool snapshot(struct dnsalg_cookie_secrets *s, uint8_t cur[DNSALG_COOKIE_SECRET],
		     uint8_t prev[DNSALG_COOKIE_SECRET])
{
	for (;;) {
		uint32_t a = atomic_load_explicit(&s->seq, memory_order_acquire);
		uint64_t w[4];
		for (int i = 0; i < 4; i++)
			w[i] = atomic_load_explicit(&s->key[i], memory_order_relaxed);
		bool hp = atomic_load_explicit(&s->has_prev, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if ((a & 1) == 0 && atomic_load_explicit(&s->seq, memory_order_relaxed) == a) {
			memcpy(cur, w, DNSALG_COOKIE_SECRET);
			memcpy(prev, w + 2, DNSALG_COOKIE_SECRET);
			return hp;
		}
	}
}

static uint64_t next_deadline(uint32_t interval_s, uint64_t from)
{
	return interval_s ? from + (uint64_t)interval_s * 1000 : UINT64_MAX;
}

int dnsalg_getrandom(void *arg, uint8_t *buf, size_t len, bool may_block)
{
	(void)arg;
	ssize_t r = getrandom(buf, len, may_block ? 0 : GRND_NONBLOCK);
	if (r == (ssize_t)len)
		return 0;
	return r < 0 ? -errno : -EIO; /* a short draw is no secret */
}

/* A fresh secret from the configured source; on failure random_err says why. */
static int draw(struct dnsalg_cookie_secrets *s, uint8_t k[DNSALG_COOKIE_SECRET], bool may_block)
{
	dnsalg_random_fn fn = s->random ? s->random : dnsalg_getrandom;
	int r = fn(s->random_arg, k, DNSALG_COOKIE_SECRET, may_block);
	if (r == 0)
		return 0;
	explicit_bzero(k, DNSALG_COOKIE_SECRET);
	s->random_err = r < 0 ? -r : EIO;
	return DNSALG_ERANDOM;
}

void dnsalg_cookie_set(struct dnsalg_cookie_secrets *s, const uint8_t secret[DNSALG_COOKIE_SECRET],
		       uint32_t interval_s, uint64_t now)
{
	publish(s, secret, NULL);
	s->interval_s = interval_s;
	s->deadline = next_deadline(interval_s, now);
	s->failures = 0;
	s->recovered = 0;
}

int dnsalg_cookie_init(struct dnsalg_cookie_secrets *s, uint32_t interval_s, uint64_t now)
{
	uint8_t k[DNSALG_COOKIE_SECRET];
	/* blocking: at start the daemon may wait for the kernel's pool */
	if (draw(s, k, true) < 0)
		return DNSALG_ERANDOM;
	dnsalg_cookie_set(s, k, interval_s, now);
	explicit_bzero(k, sizeof k);
	return 0;
}

int dnsalg_cookie_rotate(struct dnsalg_cookie_secrets *s, uint64_t now, struct dnsalg_counters *cnt)
{
	uint8_t k[DNSALG_COOKIE_SECRET], cur[DNSALG_COOKIE_SECRET], prev[DNSALG_COOKIE_SECRET];
	/* never block a running daemon: without fresh bytes both secrets stay
	 * (cookies out there keep verifying) and a later rollover tries again */
	if (draw(s, k, false) < 0) {
		s->failures++;
		if (cnt)
			DNSALG_INC(cnt, cookie_rotate_failed);
		return DNSALG_ERANDOM;
	}
	snapshot(s, cur, prev);
	publish(s, k, cur);
	explicit_bzero(k, sizeof k);
	explicit_bzero(cur, sizeof cur);
	explicit_bzero(prev, sizeof prev);
	s->deadline = next_deadline(s->interval_s, now);
	s->recovered = s->failures;
	s->failures = 0;
	if (cnt)
		DNSALG_INC(cnt, cookie_rotations);
	return 0;
}

int dnsalg_cookie_tick(struct dnsalg_cookie_secrets *s, uint64_t now, struct dnsalg_counters *cnt)
{
	if (!s->interval_s || now < s->deadline)
		return 0;
	int r = dnsalg_cookie_rotate(s, now, cnt);
	if (r < 0) {
		s->deadline = next_deadline(s->interval_s, now);
		return r;
	}
	return 1;
}

bool dnsalg_cookie_set_interval(struct dnsalg_cookie_secrets *s, uint32_t interval_s, uint64_t now)
{
	if (interval_s == s->interval_s)
		return false;
	s->interval_s = interval_s;
	s->deadline = next_deadline(interval_s, now);
	return true;
}

int dnsalg_cookie_log_line(struct dnsalg_cookie_secrets *s, int r, char *buf, size_t len)
{
	buf[0] = 0;
	if (r < 0 && s->failures == 1) {
		char next[48] = "no timed rollover";
		if (s->interval_s)
			snprintf(next, sizeof next, "next try in %u s", (unsigned)s->interval_s);
		return snprintf(buf, len, "cookie secret rollover failed: no fresh random bytes (%s); "
				"current and previous secrets kept, %s; each failure counted in "
				"cookie_rotate_failed, logged again once a rollover works",
				strerror(s->random_err), next);
	}
	if (r >= 0 && s->recovered) {
		int n = snprintf(buf, len, "cookie secret rolled over after %u failed tries",
				 (unsigned)s->recovered);
		s->recovered = 0;
		return n;
	}
	return 0;
}

uint64_t dnsalg_cookie_deadline(const struct dnsalg_cookie_secrets *s)
{
	return s->interval_s ? s->deadline : UINT64_MAX;
}

void dnsalg_cookie_server(struct dnsalg_cookie_secrets *s, const uint8_t cc[8],
			  const struct in6_addr *client, uint32_t wall_s, uint8_t out[16])
{
	uint8_t cur[DNSALG_COOKIE_SECRET], prev[DNSALG_COOKIE_SECRET];
	snapshot(s, cur, prev);
	dnsalg_cookie_make(cur, cc, client, wall_s, out);
}

int dnsalg_cookie_check(struct dnsalg_cookie_secrets *s, const struct dnsalg_query *q,
			const struct in6_addr *client, uint32_t wall_s)
{
	uint8_t cur[DNSALG_COOKIE_SECRET], prev[DNSALG_COOKIE_SECRET];
	bool has_prev = snapshot(s, cur, prev);
	if (dnsalg_cookie_valid(cur, q, client, wall_s))
		return DNSALG_COOKIE_CURRENT;
	if (has_prev && dnsalg_cookie_valid(prev, q, client, wall_s))
		return DNSALG_COOKIE_PREVIOUS;
	return DNSALG_COOKIE_BAD;
}

void dnsalg_cookie_secret_get(struct dnsalg_cookie_secrets *s, bool previous,
			      uint8_t out[DNSALG_COOKIE_SECRET])
{
	uint8_t cur[DNSALG_COOKIE_SECRET], prev[DNSALG_COOKIE_SECRET];
	snapshot(s, cur, prev);
	memcpy(out, previous ? prev : cur, DNSALG_COOKIE_SECRET);
}
