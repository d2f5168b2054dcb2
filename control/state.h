/*
 * control.state_file: what the dataplane's dump cannot give back after a
 * restart (the peer's whole locator list, both list generations, who
 * initiated), so imported contexts keep failover and updates working.
 * Written atomically (temp file + rename) after contexts change, at the
 * pace state_pace.h sets.
 */
#ifndef PSHIM6_CONTROL_STATE_H
#define PSHIM6_CONTROL_STATE_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
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

/* Longest line read; the writer's longest (16 locators) is about 1.1 KB. */
#define STATE_LINE_MAX 4096
/* Context tags are 47 bits (RFC 5533 section 5.1). */
#define STATE_TAG_MASK ((1ULL << 47) - 1)

/* Read the file (missing file: nothing known).  Bounded by max_contexts;
 * malformed, overlong and repeated lines are skipped and logged. */
void state_load(struct daemon *d);
/* One line of the file (len bytes, no newline needed): 1 and *s filled for
 * a context, 0 for a blank or comment line, -1 when malformed (a field
 * missing, out of range or not plain digits; a NUL; too many locators). */
int  state_parse_line(const char *text, size_t len, struct ctl_state_ctx *s);
/* What the last state_load kept, in file order. */
size_t state_count(void);
const struct ctl_state_ctx *state_at(size_t i);
const struct ctl_state_ctx *state_find(struct daemon *d, uint64_t own_tag);
void state_fill_import(const struct ctl_state_ctx *s, struct shim6_ctx_import *im);
/* Write every established context of `eng`; 0 or -1 (logged). */
int  state_save(struct daemon *d, struct shim6_engine *eng);
/* Saves this process started so far (a child's are its own). */
uint64_t state_generation(void);
/* state_save in a child working on fork's copy-on-write snapshot: its pid,
 * or -1 (fork failed; nothing started).  The child writes its own temp
 * file, so it may overlap a state_save in the daemon. */
pid_t state_save_bg(struct daemon *d, struct shim6_engine *eng);
/* Whether the child ended (`wait`: once it ends): -1 running, 0 saved,
 * 1 failed. */
int  state_save_bg_done(pid_t pid, bool wait);
void state_free(void);
#endif
