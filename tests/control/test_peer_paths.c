/* Heartbeats over several paths (control/peer_paths.h, code in
 * control/peer_fsm.c) on a fake clock: a backup with two paths to its
 * primary, fed the way peer.c feeds them: every heartbeat of the primary
 * goes out once per path with one number, a cut path delivers nothing,
 * the first copy to arrive goes to the role FSM, later copies only tell
 * that their path works. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "peer_fsm.h"
#include "peer_msg.h"
#include "peer_paths.h"

#define MS 1000000ULL
#define HB (100 * MS)
#define DEAD (1000 * MS)

struct world {
	struct peer_fsm fsm;
	struct peer_paths paths;
	bool cut[PEER_PATHS_MAX];
	uint64_t seq;                 /* the primary's numbering */
	uint64_t now;
	unsigned takeovers;
	uint64_t takeover_at;
	unsigned logged[PEER_PATHS_MAX][PEER_PATH_A_RETRY + 1];
};

static void addr(struct in6_addr *a, const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

static void world_init(struct world *w, unsigned n)
{
	memset(w, 0, sizeof *w);
	struct in6_addr a[PEER_PATHS_MAX];
	addr(&a[0], "fd00:98::2");
	addr(&a[1], "fd00:99::2");
	addr(&a[2], "fd00:97::2");
	addr(&a[3], "fd00:96::2");
	peer_fsm_init(&w->fsm, PEER_ROLE_BACKUP, DEAD, 0);
	peer_paths_init(&w->paths, a, n, HB, 0);
}

static void heard(struct world *w, unsigned path)
{
	enum peer_path_action a = peer_paths_heard(&w->paths, path, w->now);
	w->logged[path][a]++;
}

/* One copy of heartbeat `seq` arriving over `path`, as peer.c's on_msg. */
static enum peer_rx_verdict deliver_hb(struct world *w, unsigned path, uint64_t seq)
{
	enum peer_rx_verdict v = peer_paths_rx_hb(&w->paths, path, seq);
	if (v == PEER_RX_REPLAY)
		return v;
	heard(w, path);
	if (v == PEER_RX_NEW && peer_fsm_heard(&w->fsm, PEER_ST_ACTIVE, w->now) == PEER_A_TAKEOVER)
		w->takeovers++;
	return v;
}

/* The primary sends one heartbeat: a copy per path that is not cut. */
static void primary_hb(struct world *w)
{
	w->seq++;
	for (unsigned i = 0; i < w->paths.n; i++)
		if (!w->cut[i])
			deliver_hb(w, i, w->seq);
}

static void note(void *arg, unsigned path, enum peer_path_action a)
{
	struct world *w = arg;
	w->logged[path][a]++;
}

/* Run the clock to `until` in 1 ms steps, the primary heartbeating. */
static void run(struct world *w, uint64_t until)
{
	for (; w->now < until; w->now += MS) {
		if (w->now % HB == 0)
			primary_hb(w);
		peer_paths_tick(&w->paths, w->now, note, w);
		if (peer_fsm_tick(&w->fsm, w->now) == PEER_A_TAKEOVER && !w->takeovers++)
			w->takeover_at = w->now;
	}
}

static void one_path_cut_no_takeover(void **st)
{
	(void)st;
	struct world w;
	world_init(&w, 2);
	run(&w, 2000 * MS);
	assert_true(peer_paths_up(&w.paths, 0) && peer_paths_up(&w.paths, 1));
	w.cut[0] = true;                      /* the sync link goes down */
	run(&w, 12000 * MS);                  /* ten dead intervals */
	assert_int_equal(w.takeovers, 0);
	assert_int_equal(w.fsm.state, PEER_ST_STANDBY);
	assert_false(peer_paths_up(&w.paths, 0));
	assert_true(peer_paths_up(&w.paths, 1));
	assert_int_equal(w.paths.p[0].st.silences, 1);
	assert_int_equal(w.logged[0][PEER_PATH_A_LOST], 1);   /* one line per transition */
	/* both copies counted while both paths worked, the second as a duplicate */
	assert_true(w.paths.p[1].st.dup >= 19);
	assert_int_equal(w.paths.replay, 0);
	/* the other way round: only path 0 left */
	w.cut[0] = false;
	w.cut[1] = true;
	run(&w, 22000 * MS);
	assert_int_equal(w.takeovers, 0);
	assert_true(peer_paths_up(&w.paths, 0));
	assert_false(peer_paths_up(&w.paths, 1));
	assert_int_equal(w.logged[0][PEER_PATH_A_BACK], 1);
}

static void all_paths_cut_takeover_after_dead(void **st)
{
	(void)st;
	for (unsigned n = 1; n <= PEER_PATHS_MAX; n++) {
		struct world w;
		world_init(&w, n);
		run(&w, 2000 * MS);
		/* the last heartbeat went out at 1900 ms; then every path is cut */
		for (unsigned i = 0; i < n; i++)
			w.cut[i] = true;
		run(&w, 5000 * MS);
		assert_int_equal(w.takeovers, 1);
		assert_int_equal(w.fsm.state, PEER_ST_ACTIVE);
		assert_true(w.takeover_at == 1900 * MS + DEAD);
		assert_int_equal(peer_paths_n_up(&w.paths), 0);
	}
}

static void staggered_cuts_no_takeover(void **st)
{
	(void)st;
	/* paths fail one after the other and come back: at every moment one
	 * works, so the peer is never dead, even though each path is silent
	 * for far longer than dead_ms */
	struct world w;
	world_init(&w, 3);
	run(&w, 1000 * MS);
	for (int round = 0; round < 6; round++) {
		for (unsigned i = 0; i < 3; i++)
			w.cut[i] = (unsigned)round % 3 != i;
		run(&w, w.now + 3000 * MS);
	}
	assert_int_equal(w.takeovers, 0);
	assert_int_equal(w.fsm.state, PEER_ST_STANDBY);
}

static void sync_follows_live_path(void **st)
{
	(void)st;
	struct world w;
	world_init(&w, 3);
	assert_int_equal(peer_paths_sync(&w.paths), 0);      /* nothing heard yet: the first address */
	run(&w, 1000 * MS);
	assert_int_equal(peer_paths_sync(&w.paths), 0);      /* all up: the first address */
	w.cut[0] = true;
	run(&w, 1200 * MS);
	assert_int_equal(peer_paths_sync(&w.paths), 0);      /* not yet silent */
	run(&w, 1000 * MS + 3 * HB + 2 * MS);
	assert_int_equal(peer_paths_sync(&w.paths), 1);      /* 3 heartbeats missed: moved */
	w.cut[1] = true;
	run(&w, 3000 * MS);
	assert_int_equal(peer_paths_sync(&w.paths), 2);
	w.cut[0] = false;
	run(&w, 3200 * MS);
	assert_int_equal(peer_paths_sync(&w.paths), 0);      /* the first address is back: preferred */
	/* every path silent: the one heard last */
	w.cut[0] = w.cut[2] = true;
	w.cut[1] = false;
	run(&w, 4000 * MS);
	w.cut[1] = true;
	run(&w, 5000 * MS);
	assert_int_equal(peer_paths_n_up(&w.paths), 0);
	assert_int_equal(peer_paths_sync(&w.paths), 1);
	assert_int_equal(w.takeovers, 1);
}

static void unconfigured_address_refused(void **st)
{
	(void)st;
	struct world w;
	world_init(&w, 2);
	struct in6_addr a;
	addr(&a, "fd00:98::2");
	assert_int_equal(peer_paths_find(&w.paths, &a), 0);
	addr(&a, "fd00:99::2");
	assert_int_equal(peer_paths_find(&w.paths, &a), 1);
	addr(&a, "fd00:97::2");                 /* configured for path 2, but only 2 paths */
	assert_int_equal(peer_paths_find(&w.paths, &a), -1);
	addr(&a, "fd00:99::3");
	assert_int_equal(peer_paths_find(&w.paths, &a), -1);
	addr(&a, "::");
	assert_int_equal(peer_paths_find(&w.paths, &a), -1);
}

static void duplicates_are_not_replays(void **st)
{
	(void)st;
	struct world w;
	world_init(&w, 2);
	uint64_t lost;
	peer_paths_session(&w.paths, 0, 1);                   /* heartbeat 1 starts the run */
	assert_int_equal(peer_paths_rx_hb(&w.paths, 1, 1), PEER_RX_DUP);
	assert_int_equal(peer_paths_rx_data(&w.paths, 0, 2, &lost), PEER_RX_NEW);
	assert_int_equal(lost, 0);
	assert_int_equal(peer_paths_rx_hb(&w.paths, 1, 3), PEER_RX_NEW);   /* the faster path first */
	assert_int_equal(peer_paths_rx_hb(&w.paths, 0, 3), PEER_RX_DUP);
	assert_int_equal(peer_paths_rx_hb(&w.paths, 0, 3), PEER_RX_REPLAY); /* same path again */
	assert_int_equal(peer_paths_rx_hb(&w.paths, 1, 2), PEER_RX_REPLAY); /* older on its path */
	/* heartbeat 3 used a number of the stream: 4 follows 2 without loss */
	assert_int_equal(peer_paths_rx_data(&w.paths, 0, 4, &lost), PEER_RX_NEW);
	assert_int_equal(lost, 0);
	assert_int_equal(peer_paths_rx_data(&w.paths, 0, 4, &lost), PEER_RX_REPLAY);
	/* heartbeat 7 over path 1 overtakes 5 and 6, still queued on path 0 */
	assert_int_equal(peer_paths_rx_hb(&w.paths, 1, 7), PEER_RX_NEW);
	assert_int_equal(peer_paths_rx_data(&w.paths, 0, 5, &lost), PEER_RX_NEW);
	assert_int_equal(lost, 0);
	assert_int_equal(peer_paths_rx_data(&w.paths, 0, 6, &lost), PEER_RX_NEW);
	assert_int_equal(lost, 0);
	assert_int_equal(peer_paths_rx_hb(&w.paths, 0, 7), PEER_RX_DUP);
	assert_int_equal(peer_paths_rx_data(&w.paths, 0, 8, &lost), PEER_RX_NEW);
	assert_int_equal(lost, 0);
	/* 9 and 10 lost on the way, heartbeat 11 arrives, then 12: two lost */
	assert_int_equal(peer_paths_rx_hb(&w.paths, 0, 11), PEER_RX_NEW);
	assert_int_equal(peer_paths_rx_data(&w.paths, 0, 12, &lost), PEER_RX_NEW);
	assert_int_equal(lost, 2);
	assert_int_equal(w.paths.dup, 3);
	assert_int_equal(w.paths.replay, 3);
	assert_int_equal(w.paths.p[0].st.dup, 2);
	assert_int_equal(w.paths.p[1].st.dup, 1);
	/* a heartbeat older than every number kept, never seen on this path */
	for (uint64_t s = 100; s < 100 + 2 * PEER_PATHS_HB_KEEP; s++)
		assert_int_equal(peer_paths_rx_hb(&w.paths, 0, s), PEER_RX_NEW);
	assert_int_equal(peer_paths_rx_hb(&w.paths, 1, 99 + PEER_PATHS_HB_KEEP), PEER_RX_REPLAY);
	assert_int_equal(peer_paths_rx_hb(&w.paths, 1, 100 + 2 * PEER_PATHS_HB_KEEP - 1), PEER_RX_DUP);
	/* a new run of the other proxy: numbers start again */
	peer_paths_session(&w.paths, 1, 1);
	assert_int_equal(peer_paths_rx_hb(&w.paths, 0, 1), PEER_RX_DUP);
	assert_int_equal(peer_paths_rx_hb(&w.paths, 0, 2), PEER_RX_NEW);
	assert_int_equal(peer_paths_rx_data(&w.paths, 1, 3, &lost), PEER_RX_NEW);
	assert_int_equal(lost, 0);
}

static void path_log_once_per_transition(void **st)
{
	(void)st;
	struct world w;
	world_init(&w, 2);
	w.cut[1] = true;                        /* path 1 never works */
	run(&w, 5000 * MS);
	assert_int_equal(w.logged[0][PEER_PATH_A_FIRST], 1);
	assert_int_equal(w.logged[1][PEER_PATH_A_NEVER], 1);
	assert_int_equal(w.logged[1][PEER_PATH_A_LOST], 0);
	/* path 0 flaps faster than one log line per second: the flaps are
	 * counted, lines are bounded, and a late line tells the end state */
	for (int i = 0; i < 10; i++) {
		w.cut[0] = true;
		run(&w, w.now + 400 * MS);
		w.cut[0] = false;
		run(&w, w.now + 200 * MS);
	}
	uint64_t flaps = w.paths.p[0].st.silences;
	unsigned lines = w.logged[0][PEER_PATH_A_LOST] + w.logged[0][PEER_PATH_A_BACK];
	assert_true(flaps >= 9);
	assert_true(lines <= 2 * 6 + 1);         /* 6 s of flapping, at most 1 line a second (+ first) */
	assert_true(lines < 2 * flaps);
	assert_true(w.paths.p[0].st.logs_suppressed > 0);
	run(&w, w.now + 2000 * MS);
	assert_true(peer_paths_up(&w.paths, 0));
	assert_int_equal(w.paths.p[0].unlogged, 0);  /* the catch-up line went out */
	assert_int_equal(w.takeovers, 0);
}

static void deadline_wakes_for_quiet(void **st)
{
	(void)st;
	struct world w;
	world_init(&w, 2);
	assert_true(peer_paths_deadline(&w.paths) == 3 * HB);
	w.now = 50 * MS;
	deliver_hb(&w, 0, 1);
	deliver_hb(&w, 1, 1);
	assert_true(peer_paths_deadline(&w.paths) == 50 * MS + 3 * HB);
	assert_int_equal(peer_paths_tick(&w.paths, 50 * MS + 3 * HB - 1, note, &w), 0);
	assert_int_equal(peer_paths_tick(&w.paths, 50 * MS + 3 * HB, note, &w), 2);
	assert_int_equal(peer_paths_tick(&w.paths, 50 * MS + 6 * HB, note, &w), 0);
	/* silent 300 ms after the line that said "up": that line waits */
	assert_int_equal(w.logged[0][PEER_PATH_A_LOST], 0);
	assert_true(peer_paths_deadline(&w.paths) == 50 * MS + PEER_PATH_LOG_GAP_NS);
	peer_paths_tick(&w.paths, 50 * MS + PEER_PATH_LOG_GAP_NS, note, &w);
	assert_int_equal(w.logged[0][PEER_PATH_A_LOST], 1);
	assert_int_equal(w.logged[1][PEER_PATH_A_LOST], 1);
	assert_true(peer_paths_deadline(&w.paths) == UINT64_MAX);
	assert_true(peer_paths_age_ms(&w.paths, 0, 50 * MS + 3 * HB) == 300);
	struct world v;
	world_init(&v, 1);
	assert_true(peer_paths_age_ms(&v.paths, 0, 10 * MS) == UINT64_MAX);
}

/* A one-way fault on path 0: the other proxy's heartbeats still arrive over
 * it (it stays UP), but a sync sent over it was not received.  Messages
 * move to path 1 for the hold, come back when it ends, leave again on the
 * next verdict, and fall back to path 0 while it is the only one up. */
static void unreceived_sync_moves_messages(void **st)
{
	(void)st;
	struct world w;
	world_init(&w, 3);
	run(&w, 1000 * MS);
	assert_int_equal(peer_paths_sync(&w.paths), 0);
	const uint64_t hold = 60000 * MS;
	assert_int_equal(peer_paths_unreceived(&w.paths, 0, w.now, hold), 1);
	assert_int_equal(peer_paths_sync(&w.paths), 1);
	assert_true(peer_paths_up(&w.paths, 0));           /* still heard: no takeover matter */
	assert_true(peer_paths_avoided(&w.paths, 0));
	assert_int_equal(w.paths.p[0].st.unreceived, 1);
	assert_true(peer_paths_deadline(&w.paths) <= w.now + hold);
	/* path 1 fails as well: path 2 is the next clean one */
	w.cut[1] = true;
	run(&w, w.now + 4 * HB);
	assert_int_equal(peer_paths_sync(&w.paths), 2);
	/* and path 2: the avoided path 0 is the only one up, so it carries them */
	w.cut[2] = true;
	run(&w, w.now + 4 * HB);
	assert_int_equal(peer_paths_n_up(&w.paths), 1);
	assert_int_equal(peer_paths_sync(&w.paths), 0);
	w.cut[1] = w.cut[2] = false;
	run(&w, w.now + 2 * HB);
	assert_int_equal(peer_paths_sync(&w.paths), 1);
	/* the hold ends: path 0 is tried again, and said so once */
	assert_int_equal(w.logged[0][PEER_PATH_A_RETRY], 0);
	run(&w, 1000 * MS + hold + MS);
	assert_int_equal(w.logged[0][PEER_PATH_A_RETRY], 1);
	assert_false(peer_paths_avoided(&w.paths, 0));
	assert_int_equal(peer_paths_sync(&w.paths), 0);
	/* a second verdict, then the path goes silent and comes back: a mended
	 * link, so it is used at once */
	assert_int_equal(peer_paths_unreceived(&w.paths, 0, w.now, hold), 1);
	assert_int_equal(w.paths.p[0].st.unreceived, 2);
	w.cut[0] = true;
	run(&w, w.now + 4 * HB);
	w.cut[0] = false;
	run(&w, w.now + 2 * HB);
	assert_false(peer_paths_avoided(&w.paths, 0));
	assert_int_equal(peer_paths_sync(&w.paths), 0);
	assert_int_equal(w.logged[0][PEER_PATH_A_RETRY], 1);
	/* one path only: a verdict changes nothing but the count */
	struct world v;
	world_init(&v, 1);
	run(&v, 1000 * MS);
	assert_int_equal(peer_paths_unreceived(&v.paths, 0, v.now, hold), 0);
	assert_int_equal(peer_paths_sync(&v.paths), 0);
	assert_int_equal(v.takeovers + w.takeovers, 0);
}

/* A lasting one-way fault: each verdict in a row holds the path twice as
 * long as the one before, up to 16 times the base; a sync that arrives over
 * it, or the path coming back from silence, starts again from the base. */
static void hold_doubles_while_the_fault_lasts(void **st)
{
	(void)st;
	struct world w;
	world_init(&w, 2);
	run(&w, 1000 * MS);
	const uint64_t hold = 1000 * MS;
	uint64_t t;
	for (unsigned i = 0; i < 6; i++) {
		uint64_t want = hold << (i < PEER_PATH_HOLD_MAX_DOUBLINGS ? i : PEER_PATH_HOLD_MAX_DOUBLINGS);
		t = w.now;
		assert_int_equal(peer_paths_unreceived(&w.paths, 0, t, hold), 1);
		assert_true(w.paths.p[0].avoid_until_ns == t + want);
		run(&w, t + want - MS);
		assert_true(peer_paths_avoided(&w.paths, 0));
		run(&w, t + want + MS);
		assert_false(peer_paths_avoided(&w.paths, 0));
		assert_int_equal(w.logged[0][PEER_PATH_A_RETRY], (int)i + 1);
	}
	/* the other path's verdicts count on their own */
	t = w.now;
	peer_paths_unreceived(&w.paths, 1, t, hold);
	assert_true(w.paths.p[1].avoid_until_ns == t + hold);
	/* a sync over path 0 arrived: base hold again */
	peer_paths_received(&w.paths, 0);
	t = w.now;
	peer_paths_unreceived(&w.paths, 0, t, hold);
	assert_true(w.paths.p[0].avoid_until_ns == t + hold);
	run(&w, t + hold + MS);
	t = w.now;
	peer_paths_unreceived(&w.paths, 0, t, hold);
	assert_true(w.paths.p[0].avoid_until_ns == t + 2 * hold);
	/* silent, then heard again: a mended link, base hold again */
	w.cut[0] = true;
	run(&w, w.now + 4 * HB);
	w.cut[0] = false;
	run(&w, w.now + 2 * HB);
	assert_false(peer_paths_avoided(&w.paths, 0));
	t = w.now;
	peer_paths_unreceived(&w.paths, 0, t, hold);
	assert_true(w.paths.p[0].avoid_until_ns == t + hold);
	assert_int_equal(w.paths.p[0].st.unreceived, 9);
	assert_int_equal(w.takeovers, 0);
}

/* a reload changes peer.alt_addresses: kept paths keep their state, a new
 * one is judged from the reload on, a removed one is gone, the pair is
 * undisturbed */
static void reload_changes_paths(void **st)
{
	(void)st;
	struct world w;
	world_init(&w, 2);
	run(&w, 2000 * MS);
	uint64_t hb1 = w.paths.p[1].st.hb_rx;
	struct in6_addr a[PEER_PATHS_MAX];
	a[0] = w.paths.p[0].addr;
	addr(&a[1], "fd00:97::2");                 /* new */
	a[2] = w.paths.p[1].addr;                  /* kept, moves to index 2 */
	addr(&a[3], "fd00:97::2");                 /* twice: one path */
	assert_false(peer_paths_same(&w.paths, a, 3));
	peer_paths_set(&w.paths, a, 4, w.now);
	assert_int_equal(w.paths.n, 3);
	assert_true(peer_paths_same(&w.paths, a, 3));
	assert_int_equal(w.paths.p[2].st.hb_rx, hb1);
	assert_true(peer_paths_up(&w.paths, 2));
	assert_int_equal(w.paths.p[1].state, PEER_PATH_UNKNOWN);
	/* the new path's address is not the other proxy's yet: silent 3
	 * heartbeats after the reload, not at once */
	w.cut[1] = true;
	uint64_t t0 = w.now;
	run(&w, t0 + 3 * HB - MS);
	assert_int_equal(w.paths.p[1].state, PEER_PATH_UNKNOWN);
	run(&w, t0 + 3 * HB + MS);
	assert_int_equal(w.paths.p[1].state, PEER_PATH_SILENT);
	assert_int_equal(w.logged[1][PEER_PATH_A_NEVER], 1);
	/* removed again: two paths, no takeover at any point */
	a[1] = a[2];
	peer_paths_set(&w.paths, a, 2, w.now);
	assert_int_equal(w.paths.n, 2);
	struct in6_addr gone;
	addr(&gone, "fd00:97::2");
	assert_int_equal(peer_paths_find(&w.paths, &gone), -1);
	w.cut[1] = false;
	run(&w, w.now + 3000 * MS);
	assert_true(peer_paths_up(&w.paths, 0) && peer_paths_up(&w.paths, 1));
	assert_int_equal(w.takeovers, 0);
	assert_int_equal(w.paths.replay, 0);
}

/* The path count is 1..PEER_PATHS_MAX whatever the caller passes: an
 * empty list keeps one path, a long one is cut to the table. */
static void path_count_bounded(void **st)
{
	(void)st;
	struct in6_addr a[PEER_PATHS_MAX + 1];
	char s[32];
	for (unsigned i = 0; i <= PEER_PATHS_MAX; i++) {
		snprintf(s, sizeof s, "fd00:98::%u", i + 1);
		addr(&a[i], s);
	}
	struct peer_paths P;
	peer_paths_init(&P, a, 0, HB, 0);
	assert_int_equal(P.n, 1);
	peer_paths_init(&P, a, PEER_PATHS_MAX + 1, HB, 0);
	assert_int_equal(P.n, PEER_PATHS_MAX);
	peer_paths_set(&P, a, 0, 0);
	assert_int_equal(P.n, 1);
	peer_paths_set(&P, a, PEER_PATHS_MAX + 1, 0);
	assert_int_equal(P.n, PEER_PATHS_MAX);
	assert_int_equal(peer_paths_find(&P, &a[PEER_PATHS_MAX]), -1);
}

/* A list that is a prefix of the paths is not the same list. */
static void same_needs_the_same_count(void **st)
{
	(void)st;
	struct in6_addr a[2];
	addr(&a[0], "fd00:98::1");
	addr(&a[1], "fd00:99::1");
	struct peer_paths P;
	peer_paths_init(&P, a, 2, HB, 0);
	assert_true(peer_paths_same(&P, a, 2));
	assert_false(peer_paths_same(&P, a, 1));
}

/* A path index past the table (a stale one) changes no path. */
static void heard_past_the_table_is_ignored(void **st)
{
	(void)st;
	struct in6_addr a;
	addr(&a, "fd00:98::1");
	struct peer_paths P;
	peer_paths_init(&P, &a, 1, HB, 0);
	assert_int_equal(peer_paths_heard(&P, 1, 5 * MS), PEER_PATH_A_NONE);
	assert_int_equal(P.p[1].state, PEER_PATH_UNKNOWN);
	assert_int_equal(P.p[1].last_heard_ns, 0);
}

/* A hold too large to double is used as is: the avoid time never wraps
 * around to the past. */
static void huge_hold_does_not_wrap(void **st)
{
	(void)st;
	struct in6_addr a;
	addr(&a, "fd00:98::1");
	struct peer_paths P;
	peer_paths_init(&P, &a, 1, HB, 0);
	uint64_t hold = UINT64_MAX / 4;
	peer_paths_unreceived(&P, 0, 0, hold);
	assert_int_equal(P.p[0].avoid_until_ns, hold);
	peer_paths_unreceived(&P, 0, 0, hold);
	assert_int_equal(P.p[0].avoid_until_ns, hold);
}

static unsigned nnotes;
static void count_note(void *arg, unsigned path, enum peer_path_action a)
{
	(void)arg; (void)path; (void)a;
	nnotes++;
}

/* A transition exactly PEER_PATH_LOG_GAP_NS after the last logged one is
 * logged, not swallowed. */
static void log_gap_ends_on_time(void **st)
{
	(void)st;
	struct in6_addr a;
	addr(&a, "fd00:98::1");
	struct peer_paths P;
	peer_paths_init(&P, &a, 1, HB, 0);
	uint64_t t0 = 1000;
	assert_int_equal(peer_paths_heard(&P, 0, t0), PEER_PATH_A_FIRST);
	/* heard again so that the path goes quiet exactly one gap after t0 */
	peer_paths_heard(&P, 0, t0 + PEER_PATH_LOG_GAP_NS - P.quiet_ns);
	nnotes = 0;
	assert_int_equal(peer_paths_tick(&P, t0 + PEER_PATH_LOG_GAP_NS, count_note, NULL), 1);
	assert_int_equal(nnotes, 1);
	assert_int_equal(P.p[0].unlogged, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_path_cut_no_takeover),
		cmocka_unit_test(all_paths_cut_takeover_after_dead),
		cmocka_unit_test(staggered_cuts_no_takeover),
		cmocka_unit_test(sync_follows_live_path),
		cmocka_unit_test(unconfigured_address_refused),
		cmocka_unit_test(duplicates_are_not_replays),
		cmocka_unit_test(path_log_once_per_transition),
		cmocka_unit_test(deadline_wakes_for_quiet),
		cmocka_unit_test(reload_changes_paths),
		cmocka_unit_test(unreceived_sync_moves_messages),
		cmocka_unit_test(hold_doubles_while_the_fault_lasts),
		cmocka_unit_test(path_count_bounded),
		cmocka_unit_test(same_needs_the_same_count),
		cmocka_unit_test(heard_past_the_table_is_ignored),
		cmocka_unit_test(huge_hold_does_not_wrap),
		cmocka_unit_test(log_gap_ends_on_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
