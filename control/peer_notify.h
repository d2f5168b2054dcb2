/*
 * peer.notify: an executable run on every change of this proxy's state as
 *     NOTIFY <new-state> <old-state> <role>
 * (states init, standby, active, syncing; old-state `none` for the first
 * run after start or after the key is set by a reload; role primary or
 * backup), so that routing (a bird protocol enabled only while `active`,
 * say) follows the role.  No shell; stdin is /dev/null, stdout and stderr
 * the daemon's; the daemon does not wait for it.
 *
 * Bounded and ordered: one run at a time.  A change while a run is in
 * flight is held; when the run ends, the script is run once more with the
 * state it is in by then and the last state it was told, so the script's
 * last word is always the current state and its calls form a chain.  The
 * changes folded that way are counted (skipped).  A run still going after
 * the timeout (peer.notify_timeout_ms, PEER_NOTIFY_TIMEOUT_NS unless set)
 * is killed (its process group) and counted.
 *
 * On an orderly stop (SIGTERM, SIGINT) the script is told once more, with
 * the state PEER_NOTIFY_STOPPED ("stopped"), so routing stops announcing
 * the proxy before it is gone; the daemon waits for that run, but never
 * longer than the timeout in all (then the run is killed), so shutdown
 * cannot hang on the script.
 *
 * The process calls go through `ops`, so the unit suite checks the decisions
 * without forking; peer_notify_ops_real runs the executable (posix_spawn).
 */
#ifndef PSHIM6_CONTROL_PEER_NOTIFY_H
#define PSHIM6_CONTROL_PEER_NOTIFY_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PEER_NOTIFY_TIMEOUT_NS (10 * UINT64_C(1000000000))  /* the default timeout */
#define PEER_NOTIFY_POLL_NS    (20 * UINT64_C(1000000))   /* how often a run in flight is checked */
#define PEER_NOTIFY_PATH_MAX   1024
#define PEER_NOTIFY_STOPPED    "stopped"                  /* the state told at an orderly stop */
#define PEER_NOTIFY_REAP_NS    (5 * PEER_NOTIFY_POLL_NS)   /* to reap a run killed at the stop bound */

struct peer_notify_ops {
	void *arg;
	/* start argv[0] with argv: 0 and *pid, or an errno value */
	int (*spawn)(void *arg, char *const argv[], pid_t *pid);
	/* has pid ended? 1 and *status (waitpid's), 0 still running, -1 error */
	int (*reap)(void *arg, pid_t pid, int *status);
	void (*kill)(void *arg, pid_t pid);
	/* only for the wait at an orderly stop: a monotonic clock (ns), a pause */
	uint64_t (*clock)(void *arg);
	void (*pause)(void *arg, uint64_t ns);
};
extern const struct peer_notify_ops peer_notify_ops_real;

struct peer_notify_stats {
	uint64_t runs, ok, failed, skipped, timeouts;
};

struct peer_notify {
	struct peer_notify_ops ops;
	char path[PEER_NOTIFY_PATH_MAX];   /* "" = off */
	const char *role;
	const char *label;                  /* what its log lines start with: "peer" unless set */
	pid_t pid;                          /* 0: none in flight */
	uint64_t started_ns, next_check_ns;
	bool killed;
	uint64_t timeout_ns;                /* a run is killed this long after it started */
	const char *told;                   /* the state the script was last told ("none" before) */
	const char *want;                   /* the current state */
	uint32_t held;                      /* changes since the run in flight began */
	bool stopping;                      /* peer_notify_stop: no run goes on past stop_by */
	uint64_t stop_by;
	struct peer_notify_stats st;
};

void peer_notify_init(struct peer_notify *n, const struct peer_notify_ops *ops, const char *role,
		      const char *state);
/* Set the executable ("" or NULL: off).  A new non-empty path is told the
 * current state at once, as a first run. */
void peer_notify_set_path(struct peer_notify *n, const char *path, uint64_t now);
/* The timeout for runs from now on, and for the run in flight (it is
 * measured from its start); 0 keeps the one set. */
void peer_notify_set_timeout(struct peer_notify *n, uint64_t ns);
/* The state changed (names as peer_state_name gives them, static strings). */
void peer_notify_change(struct peer_notify *n, const char *to, uint64_t now);
/* Reap, time out, run what is held. */
void peer_notify_tick(struct peer_notify *n, uint64_t now);
uint64_t peer_notify_deadline(const struct peer_notify *n);
/* Orderly stop: tell the script `stopped <last state told> <role>` after a
 * run in flight (which tells an earlier state, so the calls stay a chain)
 * ends, and wait for it.  Blocks, through ops.clock and ops.pause, at most
 * the timeout from the call; a run still going then is killed
 * (counted in timeouts) and given PEER_NOTIFY_REAP_NS to be reaped, and a
 * run not started by then is not started (counted in failed).  Returns 0
 * when nothing is left running (whatever the exit status), -1 when a killed
 * run could not be reaped in time (it is left to die on its own).  Nothing
 * runs and nothing waits when no path is set. */
int peer_notify_stop(struct peer_notify *n);
#endif
