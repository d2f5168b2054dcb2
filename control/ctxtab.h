/*
 * Control's view of the contexts installed in the dataplane, keyed by our
 * own context tag.  Filled from engine events and from the dataplane's dump
 * after a restart.  Bounded by engine.max_contexts.
 */
#ifndef PSHIM6_CONTROL_CTXTAB_H
#define PSHIM6_CONTROL_CTXTAB_H
#include <stdint.h>
#include "pshim6/dpmsg.h"
#include "tagidx.h"

enum ctx_origin { CTX_FROM_ENGINE = 0, CTX_FROM_DUMP = 1 };

struct ctl_ctx {
	struct dpmsg_ctx d;
	uint8_t state;              /* enum shim6_state when known, else ESTABLISHED */
	uint8_t reap;               /* enum shim6_reap_state */
	uint8_t origin;             /* enum ctx_origin */
	uint64_t created_ns;
	uint64_t last_sent_ns, last_recv_ns;  /* from the dataplane's REAP stamps */
	uint32_t pair_changes;
	uint32_t seen;              /* dp_resync epoch of the last dump or write that showed it */
};

struct ctxtab {
	uint32_t cap, n;
	struct ctl_ctx *v;          /* dense array; order is not meaningful */
	struct tagidx ix;           /* own tag -> index in v */
};

int ctxtab_init(struct ctxtab *t, uint32_t cap);
void ctxtab_free(struct ctxtab *t);
struct ctl_ctx *ctxtab_find(struct ctxtab *t, uint64_t own_tag);
struct ctl_ctx *ctxtab_find_pair(struct ctxtab *t, const uint8_t local[16], const uint8_t remote[16]);
/* NULL when full */
struct ctl_ctx *ctxtab_add(struct ctxtab *t, const struct dpmsg_ctx *d);
/* Forget every entry (never set n by hand: the index would still point at them). */
void ctxtab_clear(struct ctxtab *t);
/* Removes the entry; the last entry moves into its place (pointers into
 * v[] from before are stale afterwards). */
int ctxtab_del(struct ctxtab *t, uint64_t own_tag);
#endif
