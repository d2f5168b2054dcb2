/* control/log.c: lines about single contexts are held back beyond the rate
 * and reported once there is room; other lines, and debug level, are never
 * held back.  Fake clock; stderr goes to a temp file that is counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "log.h"

#define S UINT64_C(1000000000)
static uint64_t fake_now = 5 * S;
static uint64_t fake(void) { return fake_now; }
static char path[] = "/tmp/test_log.XXXXXX";

/* lines written since the last call containing `what` */
static unsigned lines_with(const char *what)
{
	static long off;
	fflush(stderr);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, off, SEEK_SET);
	char l[2048];
	unsigned n = 0;
	while (fgets(l, sizeof l, f))
		n += strstr(l, what) != NULL;
	off = ftell(f);
	fclose(f);
	return n;
}

static int setup(void **st)
{
	(void)st;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_non_null(freopen(path, "w", stderr));
	log_setup("test", false, NULL, PSHIM6_LOG_INFO);
	log_set_clock(fake);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	if (!getenv("TEST_LOG_KEEP"))
		unlink(path);
	return 0;
}

static void flood_is_held_and_reported(void **st)
{
	(void)st;
	uint64_t h0 = log_ctx_held();
	for (int i = 0; i < 5000; i++) {
		if (i % 2)
			log_ctx(PSHIM6_LOG_INFO, (uint64_t)i, "moved");
		else
			log_bulk(PSHIM6_LOG_INFO, "engine: ctx %d: moved", i);   /* the same bucket */
	}
	assert_int_equal(lines_with("moved"), 1000);     /* the burst */
	assert_true(log_ctx_held() - h0 == 4000);
	log_msg(PSHIM6_LOG_WARNING, "not about one context");   /* never held back */
	assert_int_equal(lines_with("not about one context"), 1);
	log_tick();                                       /* no room yet: nothing said */
	assert_int_equal(lines_with("held back"), 0);
	fake_now += S / 100;                              /* 10 ms: two lines' worth */
	log_tick();
	assert_int_equal(lines_with("log: 4000 lines about single contexts held back"), 1);
	log_ctx(PSHIM6_LOG_INFO, 1, "after");
	log_ctx(PSHIM6_LOG_INFO, 2, "after");
	log_ctx(PSHIM6_LOG_INFO, 3, "after");
	assert_int_equal(lines_with("after"), 2);   /* the rest of the flood's lines were read above */
	/* one second on: 200 more; the report of the one held comes with the first */
	fake_now += S;
	for (int i = 0; i < 300; i++)
		log_ctx(PSHIM6_LOG_INFO, (uint64_t)i, "later");
	fflush(stderr);
	assert_int_equal(lines_with("later"), 200);
	fake_now += 10 * S;                               /* refills to the burst, no more */
	log_tick();
	for (int i = 0; i < 1200; i++)
		log_ctx(PSHIM6_LOG_INFO, (uint64_t)i, "again");
	assert_int_equal(lines_with("again"), 1000);
	assert_true(log_ctx_held() - h0 == 4000 + 1 + 100 + 200);
}

static void filtered_lines_cost_nothing_and_debug_holds_nothing(void **st)
{
	(void)st;
	log_set_clock(fake);
	log_set_level(PSHIM6_LOG_NOTICE);
	for (int i = 0; i < 5000; i++)
		log_ctx(PSHIM6_LOG_INFO, (uint64_t)i, "filtered");   /* below the level: no token */
	log_ctx(PSHIM6_LOG_NOTICE, 1, "counted");
	assert_int_equal(lines_with("ctx="), 1);   /* "counted" only */
	uint64_t h0 = log_ctx_held();
	log_set_level(PSHIM6_LOG_DEBUG);
	for (int i = 0; i < 3000; i++)
		log_ctx(PSHIM6_LOG_DEBUG, (uint64_t)i, "everything");
	assert_int_equal(lines_with("everything"), 3000);
	assert_true(log_ctx_held() == h0);
	log_set_level(PSHIM6_LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flood_is_held_and_reported),
		cmocka_unit_test(filtered_lines_cost_nothing_and_debug_holds_nothing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
