/*
 * The paths to the other proxy (peer.address and peer.alt_addresses): one
 * per address of it, each normally over its own link.  Heartbeats go out
 * on every path; the other proxy counts as dead only when it is silent on
 * all of them (peer_fsm.c keeps that one clock), so cutting one link,
 * say the sync link, no longer makes both proxies ACTIVE.  Everything else
 * (CTX, syncs, leases) goes on one path: the first one still heard.
 *
 * Code in peer_fsm.c, next to the role state machine it feeds.
 * Sans-I/O and pure: the daemon passes the source of each authenticated
 * datagram and `now`; the unit suite does the same on a fake clock.
 *
 * Sequence numbers.  The sender numbers every datagram of a run from one
 * counter (peer_msg.h) and sends the same heartbeat, same number, on every
 * path.  So the receiver sees each heartbeat once per working path, and a
 * heartbeat over a fast path may overtake messages still queued on the
 * sync path.  Hence two checks:
 *   - heartbeats: strictly increasing per path (a copy replayed on the
 *     path it came by is a replay); a number already taken over another
 *     path is a duplicate: counted, the path counts as heard, nothing else
 *     happens (the FSM saw the first copy);
 *   - everything else: strictly increasing over all paths, as before, and
 *     a jump counts as lost messages less the heartbeats taken in between
 *     (they used numbers of that stream without being part of it).
 * The wire format is unchanged, so a proxy of an earlier release (one
 * path) interworks: it takes the copy over its one address and counts the
 * other copies as from a wrong source.
 *
 * One-way faults.  A path is judged by what arrives over it, so a link
 * that carries the other proxy's heartbeats to us but drops ours to it
 * stays UP here, and messages sent over it are lost.  The other proxy
 * reports the last full sync it received whole in every heartbeat; when a
 * sync we sent whole over one path is still not reported a dead interval
 * later while heartbeats keep coming, peer.c calls peer_paths_unreceived():
 * messages then avoid that path, while another is UP, until the hold ends
 * (it is tried again then) or the path comes back from SILENT.  The hold
 * doubles with each verdict in a row on the same path.  No message
 * changes for it.
 */
#ifndef PSHIM6_CONTROL_PEER_PATHS_H
#define PSHIM6_CONTROL_PEER_PATHS_H
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define PEER_PATHS_MAX 4          /* PSHIM6_CONF_MAX_PEER_PATHS */
#define PEER_PATHS_HB_KEEP 32     /* heartbeat numbers kept to tell copies from new ones */
/* a path is silent after this many heartbeat intervals without one over it */
#define PEER_PATH_QUIET_HB 3
/* at most one log line per path in this long; transitions in between are
 * counted and the next line says how many were not logged */
#define PEER_PATH_LOG_GAP_NS (UINT64_C(1000) * 1000000)

enum peer_path_state { PEER_PATH_UNKNOWN = 0, PEER_PATH_UP = 1, PEER_PATH_SILENT = 2 };
enum peer_path_event { PEER_PATH_EV_HEARD = 1, PEER_PATH_EV_QUIET = 2 };
enum peer_path_action {
	PEER_PATH_A_NONE = 0,
	PEER_PATH_A_FIRST,        /* first heartbeat over it */
	PEER_PATH_A_BACK,         /* heard again after silence */
	PEER_PATH_A_LOST,         /* was heard, now silent */
	PEER_PATH_A_NEVER,        /* silent since start */
	PEER_PATH_A_RETRY,        /* avoided after an unreceived sync: the hold ended */
};

enum peer_rx_verdict {
	PEER_RX_NEW = 0,          /* act on it */
	PEER_RX_DUP,              /* a heartbeat already taken over another path */
	PEER_RX_REPLAY,           /* not newer than what its stream already had */
};

struct peer_path_stats {
	uint64_t hb_tx, hb_tx_failed;     /* heartbeats sent (copies), and sends that failed */
	uint64_t tx;                      /* other messages sent over it */
	uint64_t hb_rx;                   /* heartbeats that counted (new or duplicate) */
	uint64_t rx;                      /* other messages taken over it */
	uint64_t dup, replay;
	uint64_t silences, returns;       /* UP -> SILENT, SILENT -> UP */
	uint64_t unreceived;              /* full syncs sent whole over it the other proxy never got */
	uint64_t logs_suppressed;
};

struct peer_path {
	struct in6_addr addr;             /* the other proxy's address on this path */
	enum peer_path_state state;
	uint64_t last_heard_ns;           /* 0: never */
	uint64_t added_ns;                /* start, or the reload that added it */
	uint64_t hb_seq;                  /* last heartbeat number over it, this peer session */
	uint64_t last_log_ns;
	uint64_t unlogged;                /* transitions not logged since the last line */
	uint64_t avoid_until_ns;          /* 0, or: messages avoid it until then (peer_paths_unreceived) */
	unsigned holds;                   /* verdicts since a sync over it arrived or it came back */
	struct peer_path_stats st;
};

struct peer_paths {
	unsigned n;
	uint64_t quiet_ns;                /* PEER_PATH_QUIET_HB x heartbeat */
	struct peer_path p[PEER_PATHS_MAX];
	/* the other proxy's numbering, as taken */
	uint64_t data_seq;                /* last non-heartbeat (or the session's first heartbeat) */
	uint64_t hb_above;                /* heartbeats taken numbered above data_seq */
	uint64_t hb_taken[PEER_PATHS_HB_KEEP];
	unsigned hb_n, hb_pos;
	uint64_t dup, replay;             /* totals */
};

/* addrs[0] is peer.address.  n is 1..PEER_PATHS_MAX (clamped). */
void peer_paths_init(struct peer_paths *P, const struct in6_addr *addrs, unsigned n, uint64_t hb_ns, uint64_t now);
/* A reload with another list (peer.alt_addresses): a path whose address
 * stays keeps its state, numbering and counters (it may move in the list);
 * a new one starts UNKNOWN and is judged from `now`; one no longer listed
 * is gone.  The other proxy's numbering is kept: same session. */
void peer_paths_set(struct peer_paths *P, const struct in6_addr *addrs, unsigned n, uint64_t now);
/* Whether the list is addrs[0..n) in that order. */
bool peer_paths_same(const struct peer_paths *P, const struct in6_addr *addrs, unsigned n);
/* The path whose address is `from`, or -1: not a configured address. */
int peer_paths_find(const struct peer_paths *P, const struct in6_addr *from);
/* A new run (session) of the other proxy starts with heartbeat `seq` over `path`. */
void peer_paths_session(struct peer_paths *P, unsigned path, uint64_t seq);
/* An authenticated heartbeat numbered `seq` over `path` (same session). */
enum peer_rx_verdict peer_paths_rx_hb(struct peer_paths *P, unsigned path, uint64_t seq);
/* An authenticated message of any other type: REPLAY, or NEW with *lost
 * set to the messages of that stream that never arrived. */
enum peer_rx_verdict peer_paths_rx_data(struct peer_paths *P, unsigned path, uint64_t seq, uint64_t *lost);
/* A confirmed heartbeat (new or duplicate) came over `path`: the action
 * to log (rate limited: NONE when within PEER_PATH_LOG_GAP_NS). */
enum peer_path_action peer_paths_heard(struct peer_paths *P, unsigned path, uint64_t now);
/* Timer: calls note() once per path that went silent now (rate limited
 * like heard), and with PEER_PATH_A_RETRY for each whose avoidance ended;
 * returns how many went silent. */
unsigned peer_paths_tick(struct peer_paths *P, uint64_t now,
			 void (*note)(void *arg, unsigned path, enum peer_path_action a), void *arg);
uint64_t peer_paths_deadline(const struct peer_paths *P);
/* Where messages other than heartbeats go: the first path (in config
 * order) that is UP and not avoided; else the first UP; else the one heard
 * last; else path 0. */
unsigned peer_paths_sync(const struct peer_paths *P);
/* A full sync sent whole over `path` did not arrive though the other proxy
 * is heard: avoid the path for messages for hold_ns, doubled for each
 * verdict on it before this one (up to PEER_PATH_HOLD_MAX_DOUBLINGS) since
 * a sync over it last arrived or it last came back from SILENT, so a
 * lasting fault costs a sync interval ever more rarely.  Returns the path
 * messages go over now (the same one when no other is UP). */
#define PEER_PATH_HOLD_MAX_DOUBLINGS 4
unsigned peer_paths_unreceived(struct peer_paths *P, unsigned path, uint64_t now, uint64_t hold_ns);
/* A full sync sent whole over `path` arrived: its next verdict holds it
 * for the base time again. */
void peer_paths_received(struct peer_paths *P, unsigned path);
bool peer_paths_avoided(const struct peer_paths *P, unsigned path);
bool peer_paths_up(const struct peer_paths *P, unsigned path);
unsigned peer_paths_n_up(const struct peer_paths *P);
/* Milliseconds since a heartbeat over `path`, or UINT64_MAX when never. */
uint64_t peer_paths_age_ms(const struct peer_paths *P, unsigned path, uint64_t now);
const char *peer_path_state_name(int s);
const char *peer_path_action_name(int a);
#endif
