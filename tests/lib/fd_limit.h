/* Running out of descriptors on purpose: the soft RLIMIT_NOFILE is lowered
 * to the lowest free descriptor, so that no new one can open (an accept()
 * fails with EMFILE) until the old limit is put back. */
#ifndef PSHIM6_TEST_FD_LIMIT_H
#define PSHIM6_TEST_FD_LIMIT_H

#include <sys/resource.h>
#include <unistd.h>

/* 0 and the limit to restore in *old, or -1. */
static inline int fd_limit_at_lowest_free(struct rlimit *old)
{
	int probe = dup(0);
	if (probe < 0 || getrlimit(RLIMIT_NOFILE, old) < 0)
		return -1;
	close(probe);
	struct rlimit low = *old;
	low.rlim_cur = (rlim_t)probe;
	return setrlimit(RLIMIT_NOFILE, &low);
}

#endif
