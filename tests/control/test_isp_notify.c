/* control.isp_notify (control/isp_notify.c): which runs, with which
 * arguments, as the dataplane's probe verdicts change, per ISP, with fake
 * process calls and a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <cmocka.h>
#include "isp_notify.h"
#include "log.h"

#define MS 1000000ULL

/* ---- fake process calls: every child runs until the test ends it --------- */

static char calls[32][128];     /* "NEW OLD ISP" of each spawn */
static int ncalls;
static pid_t next_pid = 100;
static bool running[256];       /* by pid - 100 */

static int f_spawn(void *arg, char *const argv[], pid_t *pid)
{
	(void)arg;
	assert_string_equal(argv[0], "/etc/pshim6/isp-changed");
	assert_null(argv[4]);
	assert_true(ncalls < 32);
	snprintf(calls[ncalls++], sizeof calls[0], "%s %s %s", argv[1], argv[2], argv[3]);
	*pid = next_pid++;
	running[*pid - 100] = true;
	return 0;
}

static int f_reap(void *arg, pid_t pid, int *status)
{
	(void)arg;
	if (running[pid - 100])
		return 0;
	*status = 0;
	return 1;
}

static void f_kill(void *arg, pid_t pid) { (void)arg; running[pid - 100] = false; }
static uint64_t f_clock(void *arg) { (void)arg; return 0; }
static void f_pause(void *arg, uint64_t ns) { (void)arg; (void)ns; }
static const struct peer_notify_ops ops = { NULL, f_spawn, f_reap, f_kill, f_clock, f_pause };

static struct pshim6_conf conf;

static int setup(void **st)
{
	(void)st;
	memset(&conf, 0, sizeof conf);
	conf.n_isps = 3;
	strcpy(conf.isps[0].name, "ispx");
	strcpy(conf.isps[1].name, "ispy");
	strcpy(conf.isps[2].name, "ispz");
	ncalls = 0;
	memset(running, 0, sizeof running);
	log_set_level(PSHIM6_LOG_ERR);
	return 0;
}

/* every child in flight ends, and the chains go on */
static void end_all(struct isp_notify *x, uint64_t now)
{
	memset(running, 0, sizeof running);
	isp_notify_tick(x, now);
}

static void the_script_hears_each_isp_at_start_and_each_change(void **st)
{
	(void)st;
	struct isp_notify x;
	isp_notify_init(&x, &ops, &conf);
	isp_notify_change(&x, 0, true, 1 * MS);
	isp_notify_change(&x, 0, false, 1 * MS);
	assert_int_equal(ncalls, 0);   /* no path, nothing runs */
	strcpy(conf.control.isp_notify, "/etc/pshim6/isp-changed");
	isp_notify_conf(&x, &conf, 2 * MS);
	assert_int_equal(ncalls, 3);
	assert_string_equal(calls[0], "working none ispx");
	assert_string_equal(calls[1], "working none ispy");
	assert_string_equal(calls[2], "working none ispz");
	end_all(&x, 3 * MS);
	assert_int_equal(ncalls, 3);

	isp_notify_change(&x, 1, true, 4 * MS);
	assert_int_equal(ncalls, 4);
	assert_string_equal(calls[3], "failed working ispy");
	/* ispx fails while ispy's run is in flight: ispx has its own chain */
	isp_notify_change(&x, 0, true, 6 * MS);
	assert_int_equal(ncalls, 5);
	assert_string_equal(calls[4], "failed working ispx");
	/* ispy back and failed again while its run is in flight: held, and
	 * when the run ends the script hears the state as it is by then:
	 * nothing, since it was last told failed */
	isp_notify_change(&x, 1, false, 7 * MS);
	isp_notify_change(&x, 1, true, 8 * MS);
	assert_int_equal(ncalls, 5);
	end_all(&x, 9 * MS);
	assert_int_equal(ncalls, 5);
	assert_int_equal(x.n[1].st.skipped, 2);
	/* back, once ispy's run is over: told at once */
	isp_notify_change(&x, 1, false, 10 * MS);
	assert_int_equal(ncalls, 6);
	assert_string_equal(calls[5], "working failed ispy");
	assert_int_equal(isp_notify_deadline(&x), 10 * MS + PEER_NOTIFY_POLL_NS);
}

/* A reload that takes the path away stops the runs; one that sets it again
 * tells every ISP where it stands, as a first run. */
static void a_new_path_is_told_every_isp_s_state(void **st)
{
	(void)st;
	struct isp_notify x;
	isp_notify_init(&x, &ops, &conf);
	strcpy(conf.control.isp_notify, "/etc/pshim6/isp-changed");
	isp_notify_conf(&x, &conf, 1 * MS);
	end_all(&x, 2 * MS);
	conf.control.isp_notify[0] = 0;
	isp_notify_conf(&x, &conf, 3 * MS);
	isp_notify_change(&x, 2, true, 4 * MS);
	isp_notify_change(&x, 7, true, 4 * MS);   /* no such ISP: ignored */
	assert_int_equal(ncalls, 3);
	/* the names stay with the chains when the config they came from goes */
	strcpy(conf.isps[2].name, "gone");
	strcpy(conf.control.isp_notify, "/etc/pshim6/isp-changed");
	isp_notify_conf(&x, &conf, 5 * MS);
	assert_int_equal(ncalls, 6);
	assert_string_equal(calls[3], "working none ispx");
	assert_string_equal(calls[4], "working none ispy");
	assert_string_equal(calls[5], "failed none ispz");
}

/* An ISP the dataplane counts out while the config drains it is `drained`,
 * whichever of the two came first; a drain on a working ISP tells nothing
 * until the dataplane takes the ISP out. */
static void a_drain_is_told_apart_from_a_failure(void **st)
{
	(void)st;
	struct isp_notify x;
	conf.isps[2].drain = true;   /* drained from the start */
	strcpy(conf.control.isp_notify, "/etc/pshim6/isp-changed");
	isp_notify_init(&x, &ops, &conf);
	isp_notify_conf(&x, &conf, 1 * MS);
	assert_int_equal(ncalls, 3);
	assert_string_equal(calls[2], "working none ispz");
	end_all(&x, 2 * MS);

	/* the config first: nothing until the dataplane says ispx is out */
	conf.isps[0].drain = true;
	isp_notify_conf(&x, &conf, 3 * MS);
	assert_int_equal(ncalls, 3);
	isp_notify_change(&x, 0, true, 4 * MS);
	assert_int_equal(ncalls, 4);
	assert_string_equal(calls[3], "drained working ispx");
	end_all(&x, 5 * MS);
	/* the drain lifted while the probes still fail it: a failure now */
	conf.isps[0].drain = false;
	isp_notify_conf(&x, &conf, 6 * MS);
	assert_int_equal(ncalls, 5);
	assert_string_equal(calls[4], "failed drained ispx");
	end_all(&x, 7 * MS);
	isp_notify_change(&x, 0, false, 8 * MS);
	assert_string_equal(calls[5], "working failed ispx");
	end_all(&x, 9 * MS);

	/* the dataplane first (its reload took the drain before control's) */
	isp_notify_change(&x, 1, true, 10 * MS);
	assert_string_equal(calls[6], "failed working ispy");
	end_all(&x, 11 * MS);
	conf.isps[1].drain = true;
	isp_notify_conf(&x, &conf, 12 * MS);
	assert_int_equal(ncalls, 8);
	assert_string_equal(calls[7], "drained failed ispy");
	end_all(&x, 13 * MS);
	isp_notify_change(&x, 2, true, 14 * MS);
	assert_string_equal(calls[8], "drained working ispz");
	assert_int_equal(ncalls, 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(the_script_hears_each_isp_at_start_and_each_change, setup),
		cmocka_unit_test_setup(a_new_path_is_told_every_isp_s_state, setup),
		cmocka_unit_test_setup(a_drain_is_told_apart_from_a_failure, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
