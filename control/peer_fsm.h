/*
 * Primary/backup roles as a table of rows (role, state, event) -> (next
 * state, action), OpenBSD style.  Pure: the daemon feeds events and runs
 * the action; the unit suite feeds the same events with a fake clock.
 *
 * States: INIT (a primary that just started and does not yet know whether
 * the backup is serving), STANDBY (replicas kept, nothing served), ACTIVE
 * (the engine serves and replicates), SYNCING (a returning primary
 * receiving the backup's full sync before it takes the site back).
 */
#ifndef PSHIM6_CONTROL_PEER_FSM_H
#define PSHIM6_CONTROL_PEER_FSM_H
#include <stdint.h>

enum peer_state { PEER_ST_INIT = 1, PEER_ST_STANDBY = 2, PEER_ST_ACTIVE = 3, PEER_ST_SYNCING = 4 };

enum peer_event {
	PEER_EV_PEER_ACTIVE = 1,  /* authenticated heartbeat: the other proxy is ACTIVE */
	PEER_EV_PEER_PASSIVE,     /* authenticated heartbeat: INIT, STANDBY or SYNCING */
	PEER_EV_SILENCE,          /* no authenticated heartbeat for dead_ms */
	PEER_EV_TRAFFIC,          /* the dataplane punted traffic of a replicated context */
	PEER_EV_SYNC_DONE,        /* a full sync from the ACTIVE peer arrived whole */
	PEER_EV_MAX
};

enum peer_action {
	PEER_A_NONE = 0,
	PEER_A_ACTIVATE,          /* start replicating what the engine has */
	PEER_A_TAKEOVER,          /* import the replicas, install them, serve, replicate */
	PEER_A_YIELD,             /* drop own contexts (no message to peers), stand by */
};

struct peer_fsm {
	int role;                 /* PEER_ROLE_PRIMARY or PEER_ROLE_BACKUP (peer_msg.h) */
	enum peer_state state;
	uint64_t dead_ns;
	uint64_t last_heard_ns;   /* last authenticated heartbeat (or start) */
	uint64_t transitions;
};

void peer_fsm_init(struct peer_fsm *f, int role, uint64_t dead_ns, uint64_t now);
/* Feed one event: the action to run (the state has already changed). */
enum peer_action peer_fsm_event(struct peer_fsm *f, enum peer_event ev, uint64_t now);
/* A heartbeat from the peer in state `peer_state` (updates last_heard). */
enum peer_action peer_fsm_heard(struct peer_fsm *f, int peer_state, uint64_t now);
/* Timer: SILENCE when dead_ns passed since last_heard, else NONE. */
enum peer_action peer_fsm_tick(struct peer_fsm *f, uint64_t now);
uint64_t peer_fsm_deadline(const struct peer_fsm *f);
const char *peer_state_name(int s);
const char *peer_event_name(int e);
const char *peer_action_name(int a);
#endif
