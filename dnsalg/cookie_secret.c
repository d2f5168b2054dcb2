/*
 * The server-cookie secret and its rollover (RFC 7873 §7.1, RFC 9018 §5).
 *
 * New server cookies are always made with the current secret; a cookie
 * verifies under the current one or a retired one that is still kept.  A
 * rollover draws a fresh secret and retires the current one.  RFC 9018 lets
 * a server cookie live an hour (§4.3) and asks that a retired secret keep
 * verifying for longer than a client may use one cookie (§5); so a timed
 * rollover keeps as many retired secrets as cover an hour after each one's
 * retirement at the running interval, within a fixed bound, and with any
 * interval the timestamp, not the rollover, ends a cookie's life.  The
 * caller passes `now` (monotonic milliseconds) and runs dnsalg_cookie_tick()
 * by the deadline it is given, and the wall clock of the cookies'
 * timestamps, which each secret keeps as the second it became current.
 *
 * A check uses the cookie's own timestamp to pick the secret that was
 * current when the cookie was made, so a forged cookie costs at most three
 * hashes however many secrets are kept (up to 33 when every kept one was
 * tried).  Its two neighbours are tried too, for a wall clock stepped back
 * by less than the time between two rollovers: after the cookie was made,
 * its stamp lands in the next secret's time (as for a cookie made in the
 * second of a rollover, before it); during the secret's life, its later
 * cookies' stamps land in the previous secret's time.  A forward step
 * needs neither.
 *
 * Every query thread reads the secrets, one thread writes them, rarely: a
 * sequence lock over atomic words, so a reader never blocks or writes a
 * shared cache line, and never sees half of a new secret.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "dnsalg.h"

#define KEY_WORDS (DNSALG_COOKIE_SECRET / 8)
#define ALL_WORDS (KEY_WORDS * (1 + DNSALG_COOKIE_RETIRED_MAX))

/* One writer at a time (the caller's rule): readers retry while seq is odd
 * or has moved.  w holds the current secret, then n retired ones; st their
 * starts, in the same order, all under the one sequence so that a reader
 * never pairs a secret with another one's start. */
static void publish(struct dnsalg_cookie_secrets *s, const uint64_t *w, const uint32_t *st,
		    unsigned n)
{
	uint32_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);
	atomic_store_explicit(&s->seq, q + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (unsigned i = 0; i < ALL_WORDS; i++)
		atomic_store_explicit(&s->key[i], i < KEY_WORDS * (1 + n) ? w[i] : 0,
				      memory_order_relaxed);
	for (unsigned i = 0; i < 1 + DNSALG_COOKIE_RETIRED_MAX; i++)
		atomic_store_explicit(&s->start[i], i <= n ? st[i] : 0, memory_order_relaxed);
	atomic_store_explicit(&s->n_retired, n, memory_order_relaxed);
	atomic_store_explicit(&s->seq, q + 2, memory_order_release);
}

/* Copy the secrets from..from+count-1 (0 = current) that exist into w, and
 * their starts into st if not NULL; returns how many retired ones there
 * are. */
static unsigned snapshot(struct dnsalg_cookie_secrets *s, unsigned from, unsigned count, uint64_t *w,
			 uint32_t *st)
{
	for (;;) {
		uint32_t a = atomic_load_explicit(&s->seq, memory_order_acquire);
		unsigned n = atomic_load_explicit(&s->n_retired, memory_order_relaxed);
		if (n > DNSALG_COOKIE_RETIRED_MAX)
			n = DNSALG_COOKIE_RETIRED_MAX;   /* only a torn read, retried below */
		unsigned end = from + count <= 1 + n ? from + count : 1 + n;
		for (unsigned i = KEY_WORDS * from; i < KEY_WORDS * end; i++)
			w[i - KEY_WORDS * from] = atomic_load_explicit(&s->key[i], memory_order_relaxed);
		for (unsigned i = from; st && i < end; i++)
			st[i - from] = atomic_load_explicit(&s->start[i], memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if ((a & 1) == 0 && atomic_load_explicit(&s->seq, memory_order_relaxed) == a)
			return n;
	}
}

/* serial-number order (RFC 1982) of two wall-clock seconds: a is not after b */
static bool not_after(uint32_t a, uint32_t b)
{
	return (int32_t)(b - a) >= 0;
}

/* The secrets that may have made a cookie stamped ts, from one consistent
 * view: c, the one current at ts (the newest kept whose start is not after
 * ts; the oldest kept for a ts before all of them), and its neighbours
 * c - 1 and c + 1 where kept, lo..hi, copied into w (at most 3).  near is
 * the neighbour on the side of the rollover nearer to ts. */
struct pick { unsigned lo, hi, c, near; };
static struct pick pick(struct dnsalg_cookie_secrets *s, uint32_t ts, uint64_t *w)
{
	for (;;) {
		uint32_t a = atomic_load_explicit(&s->seq, memory_order_acquire);
		unsigned n = atomic_load_explicit(&s->n_retired, memory_order_relaxed);
		if (n > DNSALG_COOKIE_RETIRED_MAX)
			n = DNSALG_COOKIE_RETIRED_MAX;   /* only a torn read, retried below */
		struct pick p = { .c = n };
		/* comparisons only; the oldest one's start is never read */
		uint32_t newer = 0, at = 0;
		for (unsigned i = 0; i < n; i++) {
			at = atomic_load_explicit(&s->start[i], memory_order_relaxed);
			if (not_after(at, ts)) {
				p.c = i;
				break;
			}
			newer = at;
		}
		p.lo = p.c ? p.c - 1 : 0;
		p.hi = p.c < n ? p.c + 1 : n;
		/* first the neighbour on the side of the nearer rollover: a
		 * same-second or stepped cookie lies close to one */
		p.near = p.c == 0 || (p.c < n && ts - at <= newer - ts) ? p.hi : p.lo;
		for (unsigned i = KEY_WORDS * p.lo; i < KEY_WORDS * (p.hi + 1); i++)
			w[i - KEY_WORDS * p.lo] = atomic_load_explicit(&s->key[i], memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if ((a & 1) == 0 && atomic_load_explicit(&s->seq, memory_order_relaxed) == a)
			return p;
	}
}

unsigned dnsalg_cookie_keep(uint32_t interval_s)
{
	if (!interval_s || interval_s >= DNSALG_COOKIE_WINDOW_S)
		return 1;
	unsigned k = (DNSALG_COOKIE_WINDOW_S + interval_s - 1) / interval_s;
	return k < DNSALG_COOKIE_RETIRED_MAX ? k : DNSALG_COOKIE_RETIRED_MAX;
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
	uint64_t w[KEY_WORDS];
	uint32_t st[1] = { 0 };  /* never read: the oldest kept one */
	memcpy(w, secret, DNSALG_COOKIE_SECRET);
	publish(s, w, st, 0);
	explicit_bzero(w, sizeof w);
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

/* Roll over, keeping the `keep` newest retired secrets. */
static int rollover(struct dnsalg_cookie_secrets *s, uint64_t now, uint32_t wall_s,
		    struct dnsalg_counters *cnt, unsigned keep)
{
	uint64_t w[ALL_WORDS];
	uint32_t st[1 + DNSALG_COOKIE_RETIRED_MAX];
	/* never block a running daemon: without fresh bytes every secret
	 * stays (cookies out there keep verifying) and a later rollover tries
	 * again */
	if (draw(s, (uint8_t *)w, false) < 0) {
		s->failures++;
		if (cnt)
			DNSALG_INC(cnt, cookie_rotate_failed);
		return DNSALG_ERANDOM;
	}
	/* the current secret and the retired ones move down one place; the
	 * oldest of a full ring has no place left.  The new one is current
	 * from this second: a cookie stamped with it may be of either */
	unsigned n = snapshot(s, 0, DNSALG_COOKIE_RETIRED_MAX, w + KEY_WORDS, st + 1);
	st[0] = wall_s;
	n++;
	if (keep > DNSALG_COOKIE_RETIRED_MAX)
		keep = DNSALG_COOKIE_RETIRED_MAX;
	if (n > keep)
		n = keep;
	publish(s, w, st, n);
	explicit_bzero(w, sizeof w);
	s->deadline = next_deadline(s->interval_s, now);
	s->recovered = s->failures;
	s->failures = 0;
	if (cnt)
		DNSALG_INC(cnt, cookie_rotations);
	return 0;
}

int dnsalg_cookie_rotate(struct dnsalg_cookie_secrets *s, uint64_t now, uint32_t wall_s,
			 struct dnsalg_counters *cnt)
{
	return rollover(s, now, wall_s, cnt, dnsalg_cookie_keep(s->interval_s));
}

int dnsalg_cookie_rotate_forget(struct dnsalg_cookie_secrets *s, uint64_t now, uint32_t wall_s,
				struct dnsalg_counters *cnt)
{
	return rollover(s, now, wall_s, cnt, 1);
}

int dnsalg_cookie_tick(struct dnsalg_cookie_secrets *s, uint64_t now, uint32_t wall_s,
		       struct dnsalg_counters *cnt)
{
	if (!s->interval_s || now < s->deadline)
		return 0;
	int r = dnsalg_cookie_rotate(s, now, wall_s, cnt);
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
				"every secret kept, %s; each failure counted in "
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

unsigned dnsalg_cookie_retired(struct dnsalg_cookie_secrets *s)
{
	uint64_t w[KEY_WORDS];
	return snapshot(s, 0, 0, w, NULL);
}

void dnsalg_cookie_server(struct dnsalg_cookie_secrets *s, const uint8_t cc[8],
			  const struct in6_addr *client, uint32_t wall_s, uint8_t out[16])
{
	uint64_t cur[KEY_WORDS];
	snapshot(s, 0, 1, cur, NULL);
	dnsalg_cookie_make((const uint8_t *)cur, cc, client, wall_s, out);
}

int dnsalg_cookie_check(struct dnsalg_cookie_secrets *s, const struct dnsalg_query *q,
			const struct in6_addr *client, uint32_t wall_s)
{
	/* a malformed or stale cookie costs no hash and no look at the secrets */
	if (!dnsalg_cookie_fresh(q, wall_s))
		return DNSALG_COOKIE_BAD;
	const uint8_t *sc = q->cookie + 8;
	uint32_t ts = (uint32_t)sc[4] << 24 | (uint32_t)sc[5] << 16 | (uint32_t)sc[6] << 8 | sc[7];
	uint64_t w[KEY_WORDS * DNSALG_COOKIE_CHECK_HASHES];
	struct pick p = pick(s, ts, w);
	/* the secret current at ts first (for a cookie of the current secret,
	 * the common case, that is the one hash), then the nearer neighbour */
	unsigned order[DNSALG_COOKIE_CHECK_HASHES], m = 0, far = p.near == p.lo ? p.hi : p.lo;
	order[m++] = p.c;
	if (p.near != p.c)
		order[m++] = p.near;
	if (far != p.c && far != p.near)
		order[m++] = far;
	for (unsigned k = 0; k < m; k++) {
		unsigned i = order[k];
		if (dnsalg_cookie_valid((const uint8_t *)(w + KEY_WORDS * (i - p.lo)), q, client, wall_s))
			return i ? DNSALG_COOKIE_PREVIOUS + (int)i - 1 : DNSALG_COOKIE_CURRENT;
	}
	return DNSALG_COOKIE_BAD;
}

bool dnsalg_cookie_secret_at(struct dnsalg_cookie_secrets *s, unsigned age,
			     uint8_t out[DNSALG_COOKIE_SECRET], uint32_t *start)
{
	uint64_t w[KEY_WORDS];
	uint32_t st[1] = { 0 };
	memset(w, 0, sizeof w);
	unsigned n = age <= DNSALG_COOKIE_RETIRED_MAX ? snapshot(s, age, 1, w, st) : 0;
	memcpy(out, w, DNSALG_COOKIE_SECRET);
	if (start)
		*start = age <= n ? st[0] : 0;
	return age <= n;
}

bool dnsalg_cookie_secret_get(struct dnsalg_cookie_secrets *s, unsigned age,
			      uint8_t out[DNSALG_COOKIE_SECRET])
{
	return dnsalg_cookie_secret_at(s, age, out, NULL);
}
