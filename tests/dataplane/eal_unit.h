/* EAL for the dataplane suites that need one (tables, nodes): no huge
 * pages, no PCI, no shared config, one lcore, a file prefix of its own so
 * suites can run side by side. */
#ifndef PSHIM6_TEST_EAL_UNIT_H
#define PSHIM6_TEST_EAL_UNIT_H

#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>

/* 0, or -1 with a message; `mem` in MiB, as EAL's -m takes it */
static inline int eal_unit_init(char *argv0, const char *suite, const char *mem)
{
	char prefix[64], m[16];
	snprintf(prefix, sizeof prefix, "--file-prefix=dp-%s-%d", suite, (int)getpid());
	snprintf(m, sizeof m, "%s", mem);
	char *eal[] = { argv0, "--no-huge", "-m", m, "--no-pci", "--no-shconf", "-l", "0",
			"--log-level=lib.eal:error", prefix, NULL };
	if (rte_eal_init(10, eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return -1;
	}
	return 0;
}

#endif
