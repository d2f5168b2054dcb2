/*
 * An index from a 47-bit context tag to the position of its entry in a
 * dense array the caller owns (control's installed contexts, the backup's
 * replicas).  Open addressing with linear probing and deletion by backward
 * shift: no tombstones, so a table that churns forever never degrades, and
 * lookups stay constant where a scan per lookup made a dump or a takeover
 * of 1,000,000 contexts quadratic.  The tags live in the entries; `key`
 * reads entry i's through `arg`, which must stay where it is (the owning
 * table is never copied after its init).
 */
#ifndef PSHIM6_CONTROL_TAGIDX_H
#define PSHIM6_CONTROL_TAGIDX_H
#include <stdint.h>

struct tagidx {
	uint32_t *slot;             /* 0: empty, else entry index + 1 */
	uint32_t mask;              /* slots - 1; slots a power of two >= 2 x cap */
	uint64_t (*key)(const void *arg, uint32_t i);
	const void *arg;
};

/* 0, or -1: out of memory. */
int tagidx_init(struct tagidx *x, uint32_t cap, uint64_t (*key)(const void *arg, uint32_t i), const void *arg);
void tagidx_free(struct tagidx *x);
/* Entry index + 1 of `tag`, or 0. */
uint32_t tagidx_find(const struct tagidx *x, uint64_t tag);
/* `tag` is entry i: a new one, or one the caller moved in its array
 * (while the old place still holds the tag). */
void tagidx_set(struct tagidx *x, uint64_t tag, uint32_t i);
/* Forget `tag` (indexed). */
void tagidx_del(struct tagidx *x, uint64_t tag);
/* Forget every tag. */
void tagidx_clear(struct tagidx *x);
#endif
