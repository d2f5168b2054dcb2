/*
 * What checking one DNS server cookie costs with the ring full (32 retired
 * secrets, the 60 s interval): dnsalg_cookie_check(), which tries only the
 * secrets current about the cookie's timestamp, against the loop it
 * replaced, which tried the current secret and then every kept one for any
 * fresh-looking cookie.  The old loop is rebuilt here as it was: the same
 * two sequence-locked copies of the secrets (struct dnsalg_cookie_secrets
 * is public), then dnsalg_cookie_valid() under each.
 *
 *   bench_cookie_check [RUNS] [CHECKS]     (default 9 runs of 200000)
 * Prints per case the median ns per check over the runs, the SipHashes per
 * check, and the old/new ratio.  Runs alternate between the cases.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dnsalg.h"

static struct dnsalg_cookie_secrets s;
static struct in6_addr client = { .s6_addr = { 0xfd, 0, 0, 1, [15] = 0x11 } };
static volatile int sink;

#define KEY_WORDS (DNSALG_COOKIE_SECRET / 8)

/* the replaced code's copy: secrets from..from+count-1 that exist */
static unsigned old_snapshot(unsigned from, unsigned count, uint64_t *w)
{
	for (;;) {
		uint32_t a = atomic_load_explicit(&s.seq, memory_order_acquire);
		unsigned n = atomic_load_explicit(&s.n_retired, memory_order_relaxed);
		if (n > DNSALG_COOKIE_RETIRED_MAX)
			n = DNSALG_COOKIE_RETIRED_MAX;
		unsigned end = from + count <= 1 + n ? from + count : 1 + n;
		for (unsigned i = KEY_WORDS * from; i < KEY_WORDS * end; i++)
			w[i - KEY_WORDS * from] = atomic_load_explicit(&s.key[i], memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if ((a & 1) == 0 && atomic_load_explicit(&s.seq, memory_order_relaxed) == a)
			return n;
	}
}

/* the replaced check: the current secret, then every kept one */
static int old_loop(const struct dnsalg_query *q, uint32_t wall_s)
{
	uint64_t w[KEY_WORDS * DNSALG_COOKIE_RETIRED_MAX];
	unsigned n = old_snapshot(0, 1, w);
	if (dnsalg_cookie_valid((const uint8_t *)w, q, &client, wall_s))
		return DNSALG_COOKIE_CURRENT;
	if (!n || !dnsalg_cookie_fresh(q, wall_s))
		return DNSALG_COOKIE_BAD;
	n = old_snapshot(1, DNSALG_COOKIE_RETIRED_MAX, w);
	for (unsigned i = 0; i < n; i++)
		if (dnsalg_cookie_valid((const uint8_t *)(w + KEY_WORDS * i), q, &client, wall_s))
			return DNSALG_COOKIE_PREVIOUS + (int)i;
	return DNSALG_COOKIE_BAD;
}

static int new_check(const struct dnsalg_query *q, uint32_t wall_s)
{
	return dnsalg_cookie_check(&s, q, &client, wall_s);
}

struct bcase {
	const char *name;
	int (*fn)(const struct dnsalg_query *, uint32_t);
	struct dnsalg_query *q;
	double ns[64];
	double hashes;
};

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned runs = argc > 1 ? (unsigned)atoi(argv[1]) : 9;
	unsigned checks = argc > 2 ? (unsigned)atoi(argv[2]) : 200000;
	if (runs < 1 || runs > 64 || checks < 1) {
		fprintf(stderr, "usage: bench_cookie_check [RUNS (1..64)] [CHECKS]\n");
		return 2;
	}
	/* the ring full at the shortest interval: 40 rollovers, 60 s apart on
	 * both clocks, real random secrets */
	uint32_t wall = 1700000000u;
	if (dnsalg_cookie_init(&s, 60, 0) < 0)
		return 1;
	for (unsigned i = 1; i <= 40; i++)
		if (dnsalg_cookie_rotate(&s, (uint64_t)i * 60000, wall + 60 * i, NULL) < 0)
			return 1;
	wall += 60 * 40 + 30;
	if (dnsalg_cookie_retired(&s) != DNSALG_COOKIE_RETIRED_MAX)
		return 1;
	/* forged (a secret not kept) stamped now, as a forger would send it;
	 * forged stamped between two retired secrets' starts (the new check's
	 * worst case); genuine of the current secret */
	static const uint8_t forger[DNSALG_COOKIE_SECRET] = { 0xf0, 0x4e };
	static const uint8_t cc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct dnsalg_query fnow, fmid, good;
	memset(&fnow, 0, sizeof fnow);
	fnow.cookie_len = 24;
	memcpy(fnow.cookie, cc, 8);
	fmid = good = fnow;
	dnsalg_cookie_make(forger, cc, &client, wall, fnow.cookie + 8);
	dnsalg_cookie_make(forger, cc, &client, wall - 60 * 10 - 5, fmid.cookie + 8);
	dnsalg_cookie_server(&s, cc, &client, wall, good.cookie + 8);
	struct bcase c[] = {
		{ "forged, stamped now: old loop", old_loop, &fnow, { 0 }, 0 },
		{ "forged, stamped now: by timestamp", new_check, &fnow, { 0 }, 0 },
		{ "forged, 10 min old: old loop", old_loop, &fmid, { 0 }, 0 },
		{ "forged, 10 min old: by timestamp", new_check, &fmid, { 0 }, 0 },
		{ "genuine, current: old loop", old_loop, &good, { 0 }, 0 },
		{ "genuine, current: by timestamp", new_check, &good, { 0 }, 0 },
	};
	size_t nc = sizeof c / sizeof c[0];
	for (unsigned r = 0; r < runs; r++)
		for (size_t i = 0; i < nc; i++) {
			unsigned long h0 = dnsalg_cookie_hashes;
			double t0 = now_ns();
			for (unsigned k = 0; k < checks; k++)
				sink = c[i].fn(c[i].q, wall);
			c[i].ns[r] = (now_ns() - t0) / checks;
			c[i].hashes = (double)(dnsalg_cookie_hashes - h0) / checks;
		}
	printf("cookie check, %u retired secrets, median of %u runs x %u checks:\n",
	       dnsalg_cookie_retired(&s), runs, checks);
	double med[16];
	for (size_t i = 0; i < nc; i++) {
		qsort(c[i].ns, runs, sizeof c[i].ns[0], cmp);
		med[i] = c[i].ns[runs / 2];
		printf("  %-36s %8.1f ns/check  %5.2f SipHash/check\n", c[i].name, med[i], c[i].hashes);
	}
	printf("RESULT: forged stamped now %.0f -> %.0f ns (old/new %.1fx); forged 10 min old "
	       "%.0f -> %.0f ns (%.1fx); genuine current %.0f -> %.0f ns (%.2fx)\n",
	       med[0], med[1], med[0] / med[1], med[2], med[3], med[2] / med[3], med[4], med[5],
	       med[4] / med[5]);
	return 0;
}
