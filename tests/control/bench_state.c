/*
 * control.state_file: what a save costs the daemon's thread, at 1,000 to
 * 1,000,000 contexts.  For each size, medians of R runs of:
 *   - in place: state_save() as the daemon ran it before saves were paced
 *     (and still runs it for tables under 10 ms);
 *   - fork: the time state_save_bg() keeps the daemon (the fork), and the
 *     child's whole save;
 *   - baseline: writing the same bytes with one write(), fsync and rename,
 *     so the ratio shows what formatting adds to the I/O.
 *   usage: bench_state DIR [RUNS] [SIZES...]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "daemon.h"
#include "log.h"
#include "state.h"
#include "engine_fill.h"

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* the same octets as the saved file, written as a save writes them */
static double raw_write(const char *path, const char *data, size_t len)
{
	char tmp[600];
	snprintf(tmp, sizeof tmp, "%s.raw.tmp", path);
	double t0 = now_ms();
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) || close(fd) || rename(tmp, path))
		abort();
	return now_ms() - t0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_state DIR [RUNS] [SIZES...]\n");
		return 2;
	}
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	static const unsigned def[] = { 1000, 10000, 100000, 1000000 };
	unsigned sizes[16], ns = 0;
	for (int i = 3; i < argc && ns < 16; i++)
		sizes[ns++] = (unsigned)strtoul(argv[i], NULL, 10);
	if (!ns)
		for (; ns < 4; ns++)
			sizes[ns] = def[ns];
	if (runs < 1 || runs > 64)
		runs = 5;
	log_set_level(PSHIM6_LOG_ERR);
	static struct pshim6_conf conf;
	static struct daemon d;
	pshim6_conf_defaults(&conf);
	snprintf(conf.control.state_file, sizeof conf.control.state_file, "%s/ctl.state", argv[1]);
	d.conf = &conf;
	char raw[512];
	snprintf(raw, sizeof raw, "%s/raw.state", argv[1]);

	printf("%10s %10s %12s %12s %12s %12s %10s %8s\n", "contexts", "file_kB", "in_place_ms", "fork_ms",
	       "child_ms", "raw_io_ms", "us/ctx", "fmt/io");
	for (unsigned k = 0; k < ns; k++) {
		struct shim6_engine *e = engine_with(sizes[k]);
		double inpl[64], fk[64], child[64], io[64];
		for (int r = 0; r < runs; r++) {
			double t0 = now_ms();
			if (state_save(&d, e))
				abort();
			inpl[r] = now_ms() - t0;
			t0 = now_ms();
			pid_t pid = state_save_bg(&d, e);
			fk[r] = now_ms() - t0;
			if (pid < 0 || state_save_bg_done(pid, true))
				abort();
			child[r] = now_ms() - t0;
		}
		struct stat st;
		if (stat(conf.control.state_file, &st))
			abort();
		char *buf = malloc((size_t)st.st_size);
		FILE *f = fopen(conf.control.state_file, "r");
		if (!buf || !f || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
			abort();
		fclose(f);
		for (int r = 0; r < runs; r++)
			io[r] = raw_write(raw, buf, (size_t)st.st_size);
		free(buf);
		double mi = median(inpl, runs), mf = median(fk, runs), mc = median(child, runs), mo = median(io, runs);
		printf("%10u %10lld %12.2f %12.2f %12.2f %12.2f %10.2f %8.1f\n", sizes[k], (long long)st.st_size / 1024,
		       mi, mf, mc, mo, mi * 1e3 / sizes[k], mo > 0 ? mi / mo : 0);
		shim6_engine_del(e);
		unlink(conf.control.state_file);
		unlink(raw);
	}
	return 0;
}
