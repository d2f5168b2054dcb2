/*
 * Whether the daemon's heap sits on transparent huge pages.  With a million
 * contexts the heap is about 1.5 GB; on 4 KiB pages the fork that writes the
 * state file in the background copies some 400,000 page-table entries and
 * its child's first pass over the tables pays a page walk per page (3.9 s
 * at 1,000,000 contexts against 0.9 s on huge pages, bench-state.sh).
 * With the kernel's THP mode "madvise" (Debian's default) glibc asks for
 * huge pages only when GLIBC_TUNABLES holds glibc.malloc.hugetlb=1, and it
 * reads that only at start, so the systemd unit sets it.  The daemon says
 * at start what it found.
 */
#ifndef PSHIM6_CONTROL_HEAP_H
#define PSHIM6_CONTROL_HEAP_H
#include <stdint.h>

enum heap_thp {
	HEAP_THP_ALWAYS,      /* the kernel backs every large heap range with huge pages */
	HEAP_THP_TUNABLE,     /* "madvise" mode, and glibc is told to ask */
	HEAP_THP_NOT_ASKED,   /* "madvise" mode, glibc does not ask: small pages */
	HEAP_THP_NEVER,       /* THP off in the kernel */
	HEAP_THP_UNKNOWN,     /* no /sys/kernel/mm/transparent_hugepage */
};

/* From the text of /sys/kernel/mm/transparent_hugepage/enabled (NULL:
 * unreadable) and GLIBC_TUNABLES (NULL: unset). */
enum heap_thp heap_thp_state(const char *thp_enabled, const char *tunables);
/* The same for this process. */
enum heap_thp heap_thp_now(void);
const char *heap_thp_str(enum heap_thp s);
/* Tables this large deserve a notice when the heap is on small pages. */
#define HEAP_THP_ADVISE_CONTEXTS 100000
#endif
