/*
 * control.state_file: what the dataplane's dump cannot give back after a
 * restart (the peer's whole locator list, both list generations, who
 * initiated), so imported contexts keep failover and updates working.
 * Written atomically (temp file + rename) whenever a context changes.
 */
#ifndef PSHIM6_CONTROL_STATE_H
#define PSHIM6_CONTROL_STATE_H
#include <stdint.h>
#include <shim6/engine.h>

struct daemon;

struct ctl_state_ctx {
	uint64_t own_tag;
	uint32_t local_gen, peer_gen;
	int      initiator;
	size_t   npeer;
	struct shim6_locator peer_locs[SHIM6_MAX_LOCATORS];
	uint8_t  verified[SHIM6_MAX_LOCATORS];
};

/* Read the file (missing file: nothing known).  Bounded by max_contexts;
 * malformed lines are skipped and logged. */
void state_load(struct daemon *d);
const struct ctl_state_ctx *state_find(struct daemon *d, uint64_t own_tag);
void state_fill_import(const struct ctl_state_ctx *s, struct shim6_ctx_import *im);
/* Write every established context of `eng`; 0 or -1 (logged). */
int  state_save(struct daemon *d, struct shim6_engine *eng);
void state_free(void);
#endif
