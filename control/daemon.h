/*
 * The control daemon's state.  One thread, one poll loop: the control
 * socket, the dataplane channel, signals and the timer deadline are all fds
 * or a poll timeout, so nothing here needs a lock.
 */
#ifndef PSHIM6_CONTROL_DAEMON_H
#define PSHIM6_CONTROL_DAEMON_H
#include <stdbool.h>
#include <stdint.h>
#include "pshim6/conf.h"
#include "pshim6/dpmsg.h"
#include "ctxtab.h"
#include "dp_outq.h"
#include "dp_resync.h"
#include "isp_notify.h"
#include "tables.h"
#include "te.h"

#define CTL_MAX_CLIENTS   32
#define CTL_ACCEPT_PAUSE_NS 100000000ULL  /* listener left alone after a failed accept() */
#define CTL_IDLE_EVICT_NS 10000000000ULL  /* a client this long silent gives way to a new one when all slots are taken */
#define CTL_LINE_MAX      16384     /* a request longer than this is refused and the client closed */
#define CTL_OUT_MAX       (4u << 20)/* reply bytes buffered per client before it is dropped */

struct client {
	int fd;
	size_t inlen;
	char in[CTL_LINE_MAX];
	char *out;
	size_t outlen, outoff;
	uint64_t active_ns;         /* last octet read or written */
};

struct ctl_stats {
	uint64_t clients_accepted, clients_refused_full, requests, bad_requests, overlong;
	uint64_t clients_accept_failed;   /* accept() failed: descriptors or memory short */
	uint64_t clients_evicted_idle;    /* idle clients dropped to make room for a new one */
	uint64_t replies_dropped, reloads, reloads_refused;
	uint64_t leases_refused;    /* lease requests answered ok:false (logged 1st, 2nd, 4th...) */
	uint64_t dp_connects, dp_msgs_rx, dp_msgs_tx, dp_errors, dp_punts, dp_write_down;
	uint64_t dp_outq_full;      /* channel resets: the output queue reached its bound */
	uint64_t dp_reap_reqs;      /* REAP stamp walk requests sent (REAP_SCAN_REQ) */
	uint64_t dp_reap_walks;     /* walks of the dataplane's table completed */
	uint64_t dp_reap_entries;   /* stamps received: contexts with traffic since their walk's `since` */
	uint64_t dp_reap_stale;     /* REAP_SCAN answers to no request in flight, ignored */
	uint64_t dp_reap_refused;   /* walks the dataplane answered with ERROR or ACK */
	uint64_t dp_reap_walk_ms;   /* the last completed walk: its first request to its END */
};

/* The walk of the dataplane's table for REAP stamps (dp.c): one at a
 * time, one request in flight. */
struct dp_walk {
	bool on;                    /* started, END not seen yet */
	bool waiting;               /* a request is in flight, `seq` */
	uint32_t seq;
	uint32_t cursor;            /* the next request's */
	uint32_t budget;            /* requests left this round */
	uint64_t since_ns;          /* this walk's: stamps later than this */
	uint64_t start_ns;          /* its first request */
	uint64_t done_start_ns[2];  /* the starts of the last two completed walks, latest first */
	uint32_t done;              /* walks completed since the HELLO, up to 2 */
};

struct dpchan {
	int fd;                     /* -1 when not connected */
	uint32_t seq;
	bool hello_done;
	struct dpmsg_hello hello;   /* the dataplane's */
	uint32_t isp_down;          /* ISPs its probes say have failed, or drained (DPMSG_ISP_STATE) */
	uint64_t next_try_ns;       /* reconnect back-off */
	uint64_t backoff_ns;
	uint64_t counters_ns;       /* last COUNTERS reply */
	uint16_t ncounters;
	struct dpmsg_counter counters[DPMSG_COUNTERS_MAX];
	bool dumping;
	bool adopt;                 /* this dump is the first since control started: take over what it shows */
	uint32_t dump_count;
	struct dp_resync rs;        /* this dump against ctxtab (dp_resync.h) */
	struct dp_outq outq;        /* what the socket did not take yet (dp_outq.h) */
	struct dp_walk walk;
};

struct daemon {
	char path[PSHIM6_CONF_PATH_MAX];
	struct pshim6_conf *conf;
	uint64_t start_ns;
	int listen_fd;
	uint64_t accept_resume_ns;  /* after a failed accept(): the listener is polled again from then */
	int sig_fd;
	bool stop;
	struct client *clients[CTL_MAX_CLIENTS];
	struct tables tables;
	struct te te;
	struct ctxtab ctxs;
	struct dpchan dp;
	struct isp_notify ispn;      /* control.isp_notify, told the probes' verdicts */
	struct ctl_stats st;
};

uint64_t now_ns(void);

/* Run the daemon until SIGTERM/SIGINT.  Copies `conf`. */
int ctl_daemon_run(const char *path, const struct pshim6_conf *conf, bool debug);

/* Reload the config file: 0 and swapped in, or -1 with errors appended to
 * `errs` (one "file:line: message" per line) and the old config kept. */
int daemon_reload(struct daemon *d, char **errs);

/* control socket (ctlsock.c) */
int ctlsock_open(struct daemon *d);
void ctlsock_close(struct daemon *d);
void ctlsock_accept(struct daemon *d);
void ctlsock_read(struct daemon *d, int i);
void ctlsock_write(struct daemon *d, int i);

/* requests (commands.c): handle one line, append one reply line to *out */
void commands_handle(struct daemon *d, const char *line, size_t len, FILE *out);

/* dataplane channel (dp.c) */
void dp_tick(struct daemon *d, uint64_t now);
void dp_read(struct daemon *d);
/* Compare the dataplane's table with control's now (pshim6ctl resync);
 * -1 when the channel is down or a dump is under way. */
int dp_resync_start(struct daemon *d);
/* How long the last complete walk for REAP stamps took (ms), 0 before one. */
uint64_t dp_reap_sweep_ms(const struct daemon *d);
/* poll() says the channel has room: send what waits (dp_outq.h). */
void dp_flush(struct daemon *d);
void dp_close(struct daemon *d, const char *why);
/* Send a request (seq assigned); -1 when the channel is down (counted). */
int dp_write(struct daemon *d, struct dpmsg *m);
uint64_t dp_deadline(const struct daemon *d);
#endif
