/* Primary/backup roles (control/peer_fsm.c) as a table: role, start state,
 * a sequence of events on a fake clock, the actions expected and the state
 * at the end.  Each row is a story an operator would tell. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "peer_fsm.h"
#include "peer_msg.h"

#define MS 1000000ULL
#define DEAD (1000 * MS)
#define P PEER_ROLE_PRIMARY
#define B PEER_ROLE_BACKUP

/* One step: at time t (ms), either an event, a heartbeat with the peer's
 * state (HB_ACTIVE / HB_PASSIVE), or a timer tick (TICK). */
enum { TICK = 100, HB_ACTIVE, HB_PASSIVE, END = 0 };
struct step { unsigned t_ms; int what; enum peer_action want; };
struct story {
	const char *name;
	int role;
	struct step steps[8];
	enum peer_state final;
};

static const struct story stories[] = {
	{ "backup stands by while the primary heartbeats", B,
	  { { 200, HB_ACTIVE, PEER_A_NONE }, { 900, TICK, PEER_A_NONE }, { 1100, HB_ACTIVE, PEER_A_NONE },
	    { 2000, TICK, PEER_A_NONE }, { 0, END, 0 } }, PEER_ST_STANDBY },
	{ "backup takes over on silence, once", B,
	  { { 200, HB_ACTIVE, PEER_A_NONE }, { 1199, TICK, PEER_A_NONE }, { 1200, TICK, PEER_A_TAKEOVER },
	    { 2300, TICK, PEER_A_NONE }, { 0, END, 0 } }, PEER_ST_ACTIVE },
	{ "backup takes over on traffic of a replicated context", B,
	  { { 200, HB_ACTIVE, PEER_A_NONE }, { 500, PEER_EV_TRAFFIC, PEER_A_TAKEOVER },
	    { 600, PEER_EV_TRAFFIC, PEER_A_NONE }, { 0, END, 0 } }, PEER_ST_ACTIVE },
	{ "backup alone at start takes over after one dead interval", B,
	  { { 999, TICK, PEER_A_NONE }, { 1000, TICK, PEER_A_TAKEOVER }, { 0, END, 0 } }, PEER_ST_ACTIVE },
	{ "active backup yields when the synced primary says ACTIVE", B,
	  { { 1000, TICK, PEER_A_TAKEOVER }, { 5000, HB_PASSIVE, PEER_A_NONE },
	    { 5200, HB_PASSIVE, PEER_A_NONE }, { 5400, HB_ACTIVE, PEER_A_YIELD }, { 0, END, 0 } }, PEER_ST_STANDBY },
	{ "active backup ignores a full sync and silence", B,
	  { { 1000, TICK, PEER_A_TAKEOVER }, { 1100, PEER_EV_SYNC_DONE, PEER_A_NONE },
	    { 3000, TICK, PEER_A_NONE }, { 0, END, 0 } }, PEER_ST_ACTIVE },
	{ "primary with a standing-by backup activates at the first heartbeat", P,
	  { { 150, HB_PASSIVE, PEER_A_ACTIVATE }, { 350, HB_PASSIVE, PEER_A_NONE }, { 0, END, 0 } }, PEER_ST_ACTIVE },
	{ "primary alone activates after one dead interval", P,
	  { { 999, TICK, PEER_A_NONE }, { 1000, TICK, PEER_A_ACTIVATE }, { 5000, TICK, PEER_A_NONE },
	    { 0, END, 0 } }, PEER_ST_ACTIVE },
	{ "returning primary syncs, then takes the site back", P,
	  { { 100, HB_ACTIVE, PEER_A_NONE }, { 300, HB_ACTIVE, PEER_A_NONE },
	    /* peer.c reports an ACTIVE backup whose last sync was imported as passive */
	    { 400, PEER_EV_SYNC_DONE, PEER_A_TAKEOVER }, { 500, HB_PASSIVE, PEER_A_NONE }, { 0, END, 0 } },
	  PEER_ST_ACTIVE },
	{ "returning primary takes over what it has if the backup dies mid-sync", P,
	  { { 100, HB_ACTIVE, PEER_A_NONE }, { 1099, TICK, PEER_A_NONE }, { 1100, TICK, PEER_A_TAKEOVER },
	    { 0, END, 0 } }, PEER_ST_ACTIVE },
	{ "primary never takes over on traffic (it serves anyway)", P,
	  { { 100, PEER_EV_TRAFFIC, PEER_A_NONE }, { 200, HB_PASSIVE, PEER_A_ACTIVATE },
	    { 300, PEER_EV_TRAFFIC, PEER_A_NONE }, { 0, END, 0 } }, PEER_ST_ACTIVE },
	{ "two active proxies: the primary collects the backup's contexts, then serves", P,
	  { { 100, HB_PASSIVE, PEER_A_ACTIVATE }, { 2000, HB_ACTIVE, PEER_A_NONE },
	    { 2100, PEER_EV_SYNC_DONE, PEER_A_TAKEOVER }, { 0, END, 0 } }, PEER_ST_ACTIVE },
	{ "primary that activated alone syncs when it hears an ACTIVE backup", P,
	  { { 1000, TICK, PEER_A_ACTIVATE }, { 1500, HB_ACTIVE, PEER_A_NONE }, { 0, END, 0 } }, PEER_ST_SYNCING },
	{ "standing-by backup ignores a stray full-sync-done", B,
	  { { 100, HB_ACTIVE, PEER_A_NONE }, { 200, PEER_EV_SYNC_DONE, PEER_A_NONE }, { 0, END, 0 } },
	  PEER_ST_STANDBY },
};

static void run_story(const struct story *s)
{
	struct peer_fsm f;
	peer_fsm_init(&f, s->role, DEAD, 0);
	assert_int_equal(f.state, s->role == P ? PEER_ST_INIT : PEER_ST_STANDBY);
	for (const struct step *st = s->steps; st->what != END; st++) {
		uint64_t now = st->t_ms * MS;
		enum peer_action a;
		if (st->what == TICK)
			a = peer_fsm_tick(&f, now);
		else if (st->what == HB_ACTIVE)
			a = peer_fsm_heard(&f, PEER_ST_ACTIVE, now);
		else if (st->what == HB_PASSIVE)
			a = peer_fsm_heard(&f, PEER_ST_STANDBY, now);
		else
			a = peer_fsm_event(&f, (enum peer_event)st->what, now);
		if (a != st->want)
			fail_msg("%s: at %u ms got %s, want %s", s->name, st->t_ms, peer_action_name(a),
				 peer_action_name(st->want));
	}
	if (f.state != s->final)
		fail_msg("%s: ends %s, want %s", s->name, peer_state_name(f.state), peer_state_name(s->final));
}

static void test_stories(void **st)
{
	(void)st;
	for (size_t i = 0; i < sizeof stories / sizeof stories[0]; i++)
		run_story(&stories[i]);
}

static void test_deadline_follows_heartbeats(void **st)
{
	(void)st;
	struct peer_fsm f;
	peer_fsm_init(&f, B, DEAD, 0);
	assert_true(peer_fsm_deadline(&f) == DEAD);
	peer_fsm_heard(&f, PEER_ST_ACTIVE, 300 * MS);
	assert_true(peer_fsm_deadline(&f) == 1300 * MS);
	assert_int_equal(peer_fsm_tick(&f, 1299 * MS), PEER_A_NONE);
	assert_int_equal(peer_fsm_tick(&f, 1300 * MS), PEER_A_TAKEOVER);
	assert_string_equal(peer_state_name(f.state), "active");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stories),
		cmocka_unit_test(test_deadline_follows_heartbeats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
