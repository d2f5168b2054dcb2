/* control.state_file pacing (control/state_pace.h) on a fake clock: a
 * change is saved at once when the file is idle, held and coalesced while
 * it is not, never left unsaved, and saving never takes more than a tenth
 * of the time however large the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "state_pace.h"

#define MS 1000000ULL

/* A save run in the foreground, from start to end. */
static void save(struct state_pace *p, uint64_t start, uint64_t end)
{
	state_pace_started(p);
	state_pace_done(p, start, end, true);
}

static void idle_file_saves_at_once(void **st)
{
	(void)st;
	struct state_pace p = { 0 };
	assert_true(state_pace_changed(&p, 5 * MS));
	save(&p, 5 * MS, 6 * MS);
	assert_int_equal(state_pace_due(&p), UINT64_MAX);
	assert_int_equal(p.saves, 1);
	assert_int_equal(p.last_ns, 1 * MS);
	/* after the gap the file is idle again */
	assert_true(state_pace_changed(&p, 6 * MS + STATE_PACE_MIN_GAP));
}

static void changes_in_the_gap_are_held_and_coalesced(void **st)
{
	(void)st;
	struct state_pace p = { 0 };
	assert_true(state_pace_changed(&p, 0));
	save(&p, 0, 2 * MS);
	uint64_t due = 2 * MS + STATE_PACE_MIN_GAP;
	for (uint64_t t = 3 * MS; t < due; t += 10 * MS)
		assert_false(state_pace_changed(&p, t));
	assert_int_equal(state_pace_due(&p), due);
	assert_int_equal(p.coalesced, 10);
	assert_true(p.pending);
	save(&p, due, due + 2 * MS);
	assert_false(p.pending);
	assert_int_equal(state_pace_due(&p), UINT64_MAX);
	assert_int_equal(p.saves, 2);
}

static void long_saves_stretch_the_gap(void **st)
{
	(void)st;
	struct state_pace p = { 0 };
	assert_true(state_pace_changed(&p, 0));
	save(&p, 0, 100 * MS);              /* 100,000 contexts */
	assert_false(state_pace_changed(&p, 101 * MS));
	assert_int_equal(state_pace_due(&p), 100 * MS + STATE_PACE_RATIO * 100 * MS);
	assert_int_equal(p.max_ns, 100 * MS);
	save(&p, 1000 * MS, 1001 * MS);     /* the table shrank */
	assert_int_equal(p.max_ns, 100 * MS);
	assert_int_equal(p.last_ns, 1 * MS);
	assert_int_equal(p.next_ok, 1001 * MS + STATE_PACE_MIN_GAP);
}

/* A clock that steps backwards (or a save "ending" before it started)
 * must not wrap the duration into a gap of centuries. */
static void backwards_clock_keeps_the_minimum_gap(void **st)
{
	(void)st;
	struct state_pace p = { 0 };
	save(&p, 10 * MS, 9 * MS);
	assert_int_equal(p.last_ns, 0);
	assert_int_equal(p.next_ok, 9 * MS + STATE_PACE_MIN_GAP);
}

/*
 * The daemon's loop, simulated: a change every `every` ns for `span` ns,
 * each save taking `cost` ns (the table's size).  Returns the share of
 * time spent saving and checks that every change is on disk within one
 * gap plus two saves of happening (the one running and the next).
 */
static double run(uint64_t every, uint64_t span, uint64_t cost)
{
	struct state_pace p = { 0 };
	uint64_t now = 0, saving = 0, oldest_unsaved = UINT64_MAX, next_change = 0;
	uint64_t gap = cost * STATE_PACE_RATIO > STATE_PACE_MIN_GAP ? cost * STATE_PACE_RATIO : STATE_PACE_MIN_GAP;

	while ((now < span || p.pending) && now < 2 * span) {   /* a held save that never comes ends the run */
		bool go = false;
		if (now >= next_change && now < span) {
			if (oldest_unsaved == UINT64_MAX)
				oldest_unsaved = now;
			go = state_pace_changed(&p, now);
			next_change += every;
		}
		if (!go && state_pace_due(&p) <= now)
			go = true;
		if (go) {
			/* the save writes everything changed up to its start */
			if (oldest_unsaved != UINT64_MAX && now + cost - oldest_unsaved > gap + 2 * cost)
				fail_msg("a change waited %llu ns (gap %llu, cost %llu)",
					 (unsigned long long)(now + cost - oldest_unsaved), (unsigned long long)gap,
					 (unsigned long long)cost);
			oldest_unsaved = UINT64_MAX;
			save(&p, now, now + cost);
			now += cost;
			saving += cost;
			continue;
		}
		/* sleep to whatever comes first, as poll() would */
		uint64_t next = state_pace_due(&p);
		if (now < span && next_change < next)
			next = next_change;
		now = next > now ? next : now + 1;
	}
	assert_int_equal(oldest_unsaved, UINT64_MAX);
	return (double)saving / (double)now;
}

static void saving_takes_at_most_a_tenth_of_the_time(void **st)
{
	(void)st;
	/* 1 ms saves (about 1,000 contexts) to 1 s saves (about 1,000,000) under a
	 * change every millisecond; the share stays under 1/(1 + RATIO) */
	const uint64_t cost[] = { 1 * MS, 10 * MS, 100 * MS, 1000 * MS }, span = 60000 * MS;
	for (size_t i = 0; i < sizeof cost / sizeof cost[0]; i++) {
		double share = run(1 * MS, span, cost[i]);
		/* the last save, of changes made just before the end, adds one cost */
		if (share > 0.1 + (double)cost[i] / (double)span)
			fail_msg("cost %llu ms: saving took %.3f of the time",
				 (unsigned long long)(cost[i] / MS), share);
	}
}

/* A background save covers what changed before it started; what changes
 * while it runs waits for it, then for the gap; a failed one is redone. */
static void background_saves_never_overlap(void **st)
{
	(void)st;
	struct state_pace p = { 0 };
	assert_true(state_pace_changed(&p, 0));
	state_pace_started(&p);
	assert_false(p.pending);
	assert_false(state_pace_changed(&p, 1 * MS));
	assert_false(state_pace_changed(&p, 500 * MS));   /* long past the minimum gap */
	assert_int_equal(state_pace_due(&p), UINT64_MAX);
	state_pace_done(&p, 0, 600 * MS, true);
	assert_true(p.pending);
	assert_int_equal(state_pace_due(&p), 600 * MS + STATE_PACE_RATIO * 600 * MS);
	state_pace_started(&p);
	state_pace_done(&p, 6000 * MS, 6001 * MS, false);
	assert_true(p.pending);
	assert_int_equal(p.failed, 1);
	assert_int_equal(state_pace_due(&p), 6001 * MS + STATE_PACE_MIN_GAP);
	assert_int_equal(p.saves, 2);
	assert_int_equal(p.coalesced, 2);
}

static void rare_changes_are_each_saved_at_once(void **st)
{
	(void)st;
	struct state_pace p = { 0 };
	for (uint64_t t = 0; t < 10000 * MS; t += 500 * MS) {
		assert_true(state_pace_changed(&p, t));
		save(&p, t, t + 1 * MS);
	}
	assert_int_equal(p.saves, 20);
	assert_int_equal(p.coalesced, 0);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(idle_file_saves_at_once),
		cmocka_unit_test(changes_in_the_gap_are_held_and_coalesced),
		cmocka_unit_test(long_saves_stretch_the_gap),
		cmocka_unit_test(backwards_clock_keeps_the_minimum_gap),
		cmocka_unit_test(saving_takes_at_most_a_tenth_of_the_time),
		cmocka_unit_test(background_saves_never_overlap),
		cmocka_unit_test(rare_changes_are_each_saved_at_once),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
