/*
 * A bounded hash table keyed by IPv6 address, values of a fixed size.
 * Capacity is fixed at init; insert into a full table fails (callers decide
 * whether to evict).  The hash is seeded so peers cannot aim collisions.
 */
#ifndef PSHIM6_CONTROL_ADDRTAB_H
#define PSHIM6_CONTROL_ADDRTAB_H
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct addrtab {
	uint32_t cap, n, mask;
	uint64_t seed;
	int32_t *bucket;        /* mask+1 heads */
	int32_t *next;          /* cap links; free list reuses them */
	int32_t free_head;
	struct in6_addr *key;
	uint8_t *used;
	uint8_t *vals;
	size_t vsize;
};

int addrtab_init(struct addrtab *t, uint32_t cap, size_t vsize, uint64_t seed);
void addrtab_free(struct addrtab *t);
void *addrtab_find(const struct addrtab *t, const struct in6_addr *k);
/* Returns the value slot (zeroed if new), or NULL when the table is full. */
void *addrtab_insert(struct addrtab *t, const struct in6_addr *k, bool *existed);
int addrtab_remove(struct addrtab *t, const struct in6_addr *k);
/* Slot i (0..cap-1): value or NULL if unused; key in *k. */
void *addrtab_slot(const struct addrtab *t, uint32_t i, const struct in6_addr **k);
#endif
