/* Descriptors this process has open, from /proc/self/fd: a suite compares
 * the count before and after a case to show that nothing was left open. */
#ifndef PSHIM6_TEST_FD_COUNT_H
#define PSHIM6_TEST_FD_COUNT_H

#include <dirent.h>

/* The count (the directory's own descriptor not included), or -1. */
static inline int fd_count(void)
{
	DIR *dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	int n = 0;
	for (struct dirent *e; (e = readdir(dir));)
		n += e->d_name[0] != '.';
	closedir(dir);
	return n - 1;
}

#endif
