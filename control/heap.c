/* The heap's page size, as the kernel and glibc settle it (heap.h says why). */
#include "heap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* glibc.malloc.hugetlb=1 (madvise) or =2 (hugetlbfs pages), as one
 * colon-separated item; a later item wins, as glibc parses them. */
static int tunable_asks(const char *t)
{
	static const char key[] = "glibc.malloc.hugetlb=";
	int asks = 0;
	for (const char *p = t; p && *p;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > sizeof key - 1 && strncmp(p, key, sizeof key - 1) == 0)
			asks = len == sizeof key && (p[sizeof key - 1] == '1' || p[sizeof key - 1] == '2');
		p = end ? end + 1 : NULL;
	}
	return asks;
}

enum heap_thp heap_thp_state(const char *thp_enabled, const char *tunables)
{
	if (!thp_enabled)
		return HEAP_THP_UNKNOWN;
	/* the file lists every mode with the one in force in brackets */
	if (strstr(thp_enabled, "[always]"))
		return HEAP_THP_ALWAYS;
	if (strstr(thp_enabled, "[never]"))
		return HEAP_THP_NEVER;
	if (!strstr(thp_enabled, "[madvise]"))
		return HEAP_THP_UNKNOWN;
	return tunable_asks(tunables) ? HEAP_THP_TUNABLE : HEAP_THP_NOT_ASKED;
}

enum heap_thp heap_thp_now(void)
{
	char buf[128];
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	const char *text = NULL;
	if (f) {
		if (fgets(buf, sizeof buf, f))
			text = buf;
		fclose(f);
	}
	return heap_thp_state(text, getenv("GLIBC_TUNABLES"));
}

const char *heap_thp_str(enum heap_thp s)
{
	switch (s) {
	case HEAP_THP_ALWAYS: return "huge pages (THP always)";
	case HEAP_THP_TUNABLE: return "huge pages (THP madvise, glibc.malloc.hugetlb)";
	case HEAP_THP_NOT_ASKED: return "small pages (THP madvise, GLIBC_TUNABLES=glibc.malloc.hugetlb=1 not set)";
	case HEAP_THP_NEVER: return "small pages (THP never)";
	default: return "page size unknown (no THP in this kernel)";
	}
}
