/*
 * LD_PRELOAD seam for e2e-dnsalg.sh: while the file named by
 * PSHIM6_TEST_RANDOM_FAIL exists, getrandom() fails with ENOSYS (as under a
 * seccomp filter that denies it); otherwise it is the real system call.
 * Lets the test make a running pshim6-dnsalg's secret source fail and
 * recover without touching the daemon.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/syscall.h>

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	const char *f = getenv("PSHIM6_TEST_RANDOM_FAIL");
	if (f && access(f, F_OK) == 0) {
		errno = ENOSYS;
		return -1;
	}
	return syscall(SYS_getrandom, buf, len, flags);
}
