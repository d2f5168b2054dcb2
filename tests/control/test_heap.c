/* The heap's page size as the daemon reports it at start: the kernel's THP
 * mode and whether GLIBC_TUNABLES asks glibc to use it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "heap.h"

#define MADVISE "always [madvise] never\n"

static void test_kernel_modes(void **state)
{
	(void)state;
	assert_int_equal(heap_thp_state("[always] madvise never\n", NULL), HEAP_THP_ALWAYS);
	assert_int_equal(heap_thp_state("always madvise [never]\n", "glibc.malloc.hugetlb=1"), HEAP_THP_NEVER);
	assert_int_equal(heap_thp_state(NULL, "glibc.malloc.hugetlb=1"), HEAP_THP_UNKNOWN);
	assert_int_equal(heap_thp_state("", NULL), HEAP_THP_UNKNOWN);
	assert_int_equal(heap_thp_state(MADVISE, NULL), HEAP_THP_NOT_ASKED);
}

static void test_tunable_forms(void **state)
{
	(void)state;
	static const struct { const char *t; enum heap_thp want; } cases[] = {
		{ "glibc.malloc.hugetlb=1", HEAP_THP_TUNABLE },
		{ "glibc.malloc.hugetlb=2", HEAP_THP_TUNABLE },
		{ "glibc.malloc.hugetlb=0", HEAP_THP_NOT_ASKED },
		{ "", HEAP_THP_NOT_ASKED },
		{ "glibc.malloc.hugetlb=", HEAP_THP_NOT_ASKED },
		{ "glibc.malloc.hugetlb=10", HEAP_THP_NOT_ASKED },
		{ "glibc.malloc.hugetlbx=1", HEAP_THP_NOT_ASKED },
		{ "xglibc.malloc.hugetlb=1", HEAP_THP_NOT_ASKED },
		{ "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1", HEAP_THP_TUNABLE },
		{ "glibc.malloc.hugetlb=1:glibc.malloc.arena_max=2", HEAP_THP_TUNABLE },
		/* the last item wins, as glibc reads them */
		{ "glibc.malloc.hugetlb=1:glibc.malloc.hugetlb=0", HEAP_THP_NOT_ASKED },
		{ "glibc.malloc.hugetlb=0:glibc.malloc.hugetlb=1", HEAP_THP_TUNABLE },
		{ "::glibc.malloc.hugetlb=1::", HEAP_THP_TUNABLE },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (heap_thp_state(MADVISE, cases[i].t) != cases[i].want)
			fail_msg("GLIBC_TUNABLES=%s: want %d", cases[i].t, cases[i].want);
}

static void test_words(void **state)
{
	(void)state;
	for (int s = HEAP_THP_ALWAYS; s <= HEAP_THP_UNKNOWN; s++)
		assert_non_null(heap_thp_str((enum heap_thp)s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_modes),
		cmocka_unit_test(test_tunable_forms),
		cmocka_unit_test(test_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
