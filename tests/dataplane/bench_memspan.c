/*
 * The memory floor under the fast-path benchmark: what it costs this
 * machine to touch, per packet, the lines the egress node touches at N
 * installed contexts (an index bucket, a context's two lines, the second
 * holding the REAP stamps), laid out as the dataplane lays them out (bucket
 * array of N/4 64-octet buckets, 128-octet slots), for the same 4,096
 * random contexts the benchmark pcap uses, in bursts of 32 with the node's
 * two prefetch passes.  No packet work at all: the figure is what the
 * layout costs before any instruction of the node runs.
 *
 * The working set is the same at every N (4,096 contexts, about 1 MiB of
 * lines); only how far apart the lines are changes.  When the cost still
 * grows with N, it is address translation: the TLB does not cover the
 * span, as on a virtual machine whose host backs guest huge pages with
 * small ones.
 *
 *   bench_memspan [N...]      (default 1000 100000 1000000)
 * Prints "N span_MiB tsc_per_packet page_size" per N, median of 5 runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <x86intrin.h>

#define WORKSET 4096
#define BURST 32
#define ROUNDS 300

static int huge = 1;

static uint8_t *region(size_t sz)
{
	void *p = MAP_FAILED;
	if (huge)
		p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED) {
		huge = 0;
		p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	memset(p, 1, sz);
	return p;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double run(uint8_t *bk, uint8_t *cx, const uint32_t *bsel, const uint32_t *sel)
{
	uint64_t sum = 0, t0 = __rdtsc();
	for (int r = 0; r < ROUNDS; r++)
		for (int b = 0; b < WORKSET; b += BURST) {
			for (int k = 0; k < BURST; k++)
				_mm_prefetch((const char *)bk + (size_t)bsel[b + k] * 64, _MM_HINT_T0);
			for (int k = 0; k < BURST; k++) {
				const uint8_t *c = cx + (size_t)sel[b + k] * 128;
				sum += bk[(size_t)bsel[b + k] * 64];
				_mm_prefetch((const char *)c, _MM_HINT_T0);
				_mm_prefetch((const char *)c + 64, _MM_HINT_T0);
			}
			for (int k = 0; k < BURST; k++) {
				uint8_t *c = cx + (size_t)sel[b + k] * 128;
				sum += c[0];
				if (c[64 + 40] != (uint8_t)r)   /* the stamp: stored when it changes */
					c[64 + 40] = (uint8_t)r;
			}
		}
	if (sum == 42)
		puts("");   /* keeps the loads */
	return (double)(__rdtsc() - t0) / ((double)ROUNDS * WORKSET);
}

static void one(uint32_t n)
{
	size_t nb = 8, sz_b, sz_c;
	uint32_t *sel = malloc(WORKSET * sizeof(*sel)), *bsel = malloc(WORKSET * sizeof(*bsel));
	double t[5];
	uint8_t *bk, *cx;

	while (nb * 4 < n)
		nb <<= 1;
	sz_b = (nb * 64 + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
	sz_c = ((size_t)n * 128 + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
	bk = region(sz_b);
	cx = region(sz_c);
	srand(42);
	for (int i = 0; i < WORKSET; i++) {
		sel[i] = (uint32_t)rand() % n;
		bsel[i] = (uint32_t)rand() % (uint32_t)nb;
	}
	for (int i = 0; i < 5; i++)
		t[i] = run(bk, cx, bsel, sel);
	qsort(t, 5, sizeof(t[0]), cmp);
	printf("%u %.0f %.1f %s\n", n, (double)(sz_b + sz_c) / (1 << 20), t[2], huge ? "2M" : "4k");
	munmap(bk, sz_b);
	munmap(cx, sz_c);
	free(sel);
	free(bsel);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		one(1000);
		one(100000);
		one(1000000);
	}
	for (int i = 1; i < argc; i++) {
		long n = strtol(argv[i], NULL, 10);
		if (n < 1 || n > 16777216) {
			fprintf(stderr, "bench_memspan: N must be 1..16777216\n");
			return 2;
		}
		one((uint32_t)n);
	}
	return 0;
}
