/*
 * The engine with real I/O: punts from the dataplane go in, the engine's
 * messages go out as INJECTs through the ISP that owns their source
 * locator, its events become context writes, and first packets wait in a
 * bounded hold queue until their handshake ends.
 */
#ifndef PSHIM6_CONTROL_PROXY_H
#define PSHIM6_CONTROL_PROXY_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "pshim6/dpmsg.h"

struct daemon;

struct proxy_stats {
	uint64_t punt_no_ctx, punt_ctl, punt_unknown_tag, punt_bad;
	uint64_t no_locators, opens, open_refused, holddown;
	uint64_t held, held_sent, held_dropped_full, held_dropped_failed, held_dropped_expired;
	uint64_t tx, tx_no_isp, events, ctx_installed, ctx_removed, pair_changes, dp_write_refused;
	uint64_t imported, import_failed;
	uint64_t adopt_foreign_line;  /* a replica refused: its state line was another context's */
	uint64_t reinstalled;       /* installed again: the dataplane punted a context we had installed */
	uint64_t state_fork_failed;
	uint64_t isp_explores;      /* contexts sent exploring at once: their ISP failed by the dataplane's probes */
	uint64_t unreach_sent, unreach_limited;   /* ICMPv6 Destination Unreachable to hosts (unreach.h) */
};

int proxy_init(struct daemon *d);          /* 0, or -1: engine disabled (logged) */
void proxy_free(struct daemon *d);
/* After a reload: hand the engine the new Shim6/REAP timers and recovery
 * rate when they differ from `old` (shim6_engine_set_timers() says what
 * that changes). */
void proxy_reload(struct daemon *d, const struct pshim6_conf *old);
bool proxy_enabled(const struct daemon *d);
void proxy_punt(struct daemon *d, const struct dpmsg_punt *p);
void proxy_reap(struct daemon *d, uint64_t own_tag, uint64_t sent_ns, uint64_t recv_ns,
		uint64_t prev_sent_ns, uint64_t prev_recv_ns);
int proxy_import(struct daemon *d, const struct dpmsg_ctx *dc);
/* Something the state file holds changed outside the engine's events. */
void proxy_state_changed(struct daemon *d);
/* Primary/backup (peer.c): the engine (NULL when off); a replicated context
 * imported with its state-file facts and installed in the dataplane (0, 1
 * when the engine already has it, <0 on failure: SHIM6_ENG_EINVAL when the
 * line is another context's); every context dropped
 * from the engine and the dataplane without a message to the peers. */
struct ctl_state_ctx;
struct shim6_engine *proxy_engine(void);
int proxy_adopt(struct daemon *d, const struct dpmsg_ctx *dc, const struct ctl_state_ctx *sc);
/* keep_dp: leave the dataplane's entries (the caller deletes them later) */
void proxy_release_all(struct daemon *d, bool keep_dp);
/* The dataplane's probes failed ISP `isp` (`down`), or it works again:
 * every context on a locator under its prefix explores at once, instead of
 * waiting for REAP's Send Timeout, and none moves to it meanwhile. */
void proxy_isp_state(struct daemon *d, unsigned isp, bool down);
void proxy_tick(struct daemon *d, uint64_t now);
uint64_t proxy_deadline(const struct daemon *d);
void proxy_counters(struct daemon *d, FILE *out, void (*put)(void *, const char *, const char *, uint64_t), void *arg);
const struct proxy_stats *proxy_stats(const struct daemon *d);
#endif
