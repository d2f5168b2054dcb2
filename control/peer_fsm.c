/* The primary/backup state machine (peer_fsm.h), a table of rows; the
 * state of each path to the other proxy is in peer_paths.c.
 *
 * Why these rows:
 * - The backup takes over on SILENCE (the primary is dead or cut off) or on
 *   TRAFFIC (routes already moved: bird/BFD noticed before our dead timer,
 *   and the packet in hand belongs to a replicated context; waiting would
 *   only lengthen the outage, and answering it any other way would
 *   renegotiate).
 * - The primary preempts, but only after a whole sync: routing prefers the
 *   primary again as soon as it announces, so the site's contexts must be
 *   there first.  A primary that finds the backup ACTIVE syncs, then takes
 *   over; the backup yields when it hears the primary ACTIVE.
 * - Two ACTIVE proxies (the primary activated without hearing the backup,
 *   or the sync path failed): the primary goes back to SYNCING and takes
 *   the backup's contexts before the backup yields, so none is lost and
 *   the outcome does not depend on timing.  (peer.c reports an ACTIVE
 *   backup holding nothing as passive, and an ACTIVE primary that has not
 *   imported the backup's last sync as not yet active.)
 */
#include "peer_fsm.h"
#include "peer_msg.h"
#include <stddef.h>

struct row {
	int role;                 /* 0 = either */
	enum peer_state state;
	enum peer_event ev;
	enum peer_state next;
	enum peer_action action;
};

#define P PEER_ROLE_PRIMARY
#define B PEER_ROLE_BACKUP
static const struct row rows[] = {
	/* a starting primary learns what the backup does */
	{ P, PEER_ST_INIT,    PEER_EV_PEER_PASSIVE, PEER_ST_ACTIVE,  PEER_A_ACTIVATE },
	{ P, PEER_ST_INIT,    PEER_EV_SILENCE,      PEER_ST_ACTIVE,  PEER_A_ACTIVATE },
	{ P, PEER_ST_INIT,    PEER_EV_PEER_ACTIVE,  PEER_ST_SYNCING, PEER_A_NONE },
	/* returning primary: take the site back with the backup's contexts */
	{ P, PEER_ST_SYNCING, PEER_EV_SYNC_DONE,    PEER_ST_ACTIVE,  PEER_A_TAKEOVER },
	{ P, PEER_ST_SYNCING, PEER_EV_SILENCE,      PEER_ST_ACTIVE,  PEER_A_TAKEOVER },
	{ P, PEER_ST_SYNCING, PEER_EV_PEER_PASSIVE, PEER_ST_ACTIVE,  PEER_A_TAKEOVER },
	/* an ACTIVE backup that still holds contexts: collect them first */
	{ P, PEER_ST_ACTIVE,  PEER_EV_PEER_ACTIVE,  PEER_ST_SYNCING, PEER_A_NONE },
	/* the backup */
	{ B, PEER_ST_STANDBY, PEER_EV_SILENCE,      PEER_ST_ACTIVE,  PEER_A_TAKEOVER },
	{ B, PEER_ST_STANDBY, PEER_EV_TRAFFIC,      PEER_ST_ACTIVE,  PEER_A_TAKEOVER },
	{ B, PEER_ST_ACTIVE,  PEER_EV_PEER_ACTIVE,  PEER_ST_STANDBY, PEER_A_YIELD },
	/* everything else leaves the state as it is */
};
#undef P
#undef B

void peer_fsm_init(struct peer_fsm *f, int role, uint64_t dead_ns, uint64_t now)
{
	f->role = role;
	f->state = role == PEER_ROLE_PRIMARY ? PEER_ST_INIT : PEER_ST_STANDBY;
	f->dead_ns = dead_ns;
	f->last_heard_ns = now;
	f->transitions = 0;
}

enum peer_action peer_fsm_event(struct peer_fsm *f, enum peer_event ev, uint64_t now)
{
	(void)now;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		if ((r->role && r->role != f->role) || r->state != f->state || r->ev != ev)
			continue;
		f->state = r->next;
		f->transitions++;
		return r->action;
	}
	return PEER_A_NONE;
}

enum peer_action peer_fsm_heard(struct peer_fsm *f, int peer_state, uint64_t now)
{
	f->last_heard_ns = now;
	return peer_fsm_event(f, peer_state == PEER_ST_ACTIVE ? PEER_EV_PEER_ACTIVE : PEER_EV_PEER_PASSIVE, now);
}

enum peer_action peer_fsm_tick(struct peer_fsm *f, uint64_t now)
{
	if (now < f->last_heard_ns + f->dead_ns)
		return PEER_A_NONE;
	/* silence is one event per dead interval, not one per tick */
	f->last_heard_ns = now;
	return peer_fsm_event(f, PEER_EV_SILENCE, now);
}

uint64_t peer_fsm_deadline(const struct peer_fsm *f)
{
	return f->last_heard_ns + f->dead_ns;
}

const char *peer_state_name(int s)
{
	static const char *const n[] = { "?", "init", "standby", "active", "syncing" };
	return s >= 1 && s <= 4 ? n[s] : "?";
}

const char *peer_event_name(int e)
{
	static const char *const n[] = { "?", "peer-active", "peer-passive", "silence", "traffic", "sync-done" };
	return e >= 1 && e < PEER_EV_MAX ? n[e] : "?";
}

const char *peer_action_name(int a)
{
	static const char *const n[] = { "none", "activate", "takeover", "yield" };
	return a >= 0 && a <= 3 ? n[a] : "?";
}
