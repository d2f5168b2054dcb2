/* peer.notify (control/peer_notify.c): which runs, with which arguments,
 * on which changes, with fake process calls and a fake clock; the role
 * stories of peer_fsm.c fed through it as peer.c does; and one real run
 * of a script that writes its arguments to a file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "log.h"
#include "peer_fsm.h"
#include "peer_msg.h"
#include "peer_notify.h"

#define MS 1000000ULL

/* ---- fake process calls ---------------------------------------------------- */

static char calls[32][128];         /* "ARG1 ARG2 ARG3" of each spawn */
static int ncalls;
static int spawn_err;               /* returned by the next spawns */
static pid_t next_pid = 100;
static int running;                 /* 1: the child in flight has not ended */
static int exit_status;             /* waitpid status when it ends */
static pid_t killed_pid;
static uint64_t fake_now, end_at = UINT64_MAX;
static int kill_ends, npauses;

static int f_spawn(void *arg, char *const argv[], pid_t *pid)
{
	(void)arg;
	assert_string_equal(argv[0], "/etc/pshim6/notify");
	assert_null(argv[4]);
	snprintf(calls[ncalls++], sizeof calls[0], "%s %s %s", argv[1], argv[2], argv[3]);
	if (spawn_err)
		return spawn_err;
	*pid = next_pid++;
	running = 1;
	return 0;
}

static int f_reap(void *arg, pid_t pid, int *status)
{
	(void)arg;
	assert_int_equal(pid, next_pid - 1);
	if (running)
		return 0;
	*status = exit_status;
	return 1;
}

static void f_kill(void *arg, pid_t pid)
{
	(void)arg;
	killed_pid = pid;
	if (kill_ends) {
		running = 0;
		exit_status = SIGKILL;
	}
}

/* the wait at an orderly stop: a fake clock that pauses advance; the run
 * in flight ends by itself at end_at (UINT64_MAX: never), or when killed
 * if kill_ends */

static void f_ends_by(void)
{
	if (running && fake_now >= end_at) {
		running = 0;
		exit_status = 0;
	}
}

static uint64_t f_clock(void *arg)
{
	(void)arg;
	f_ends_by();
	return fake_now;
}

static void f_pause(void *arg, uint64_t ns)
{
	(void)arg;
	assert_true(ns > 0 && ns <= PEER_NOTIFY_POLL_NS);
	npauses++;
	fake_now += ns;
	f_ends_by();
}

static const struct peer_notify_ops fake = { NULL, f_spawn, f_reap, f_kill, f_clock, f_pause };

static int setup(void **st)
{
	(void)st;
	ncalls = 0;
	spawn_err = 0;
	running = 0;
	exit_status = 0;
	killed_pid = 0;
	fake_now = 0;
	end_at = UINT64_MAX;
	kill_ends = 0;
	npauses = 0;
	return 0;
}

/* the run in flight ends with `status` and the next tick reaps it */
static void finish(struct peer_notify *n, int status, uint64_t now)
{
	running = 0;
	exit_status = status;
	peer_notify_tick(n, now);
}

static void test_off_until_set(void **st)
{
	(void)st;
	struct peer_notify n;
	peer_notify_init(&n, &fake, "backup", "standby");
	peer_notify_change(&n, "active", 1 * MS);
	peer_notify_tick(&n, 2 * MS);
	assert_int_equal(ncalls, 0);
	assert_true(peer_notify_deadline(&n) == UINT64_MAX);
	/* set (at start or by a reload): told the current state, old "none" */
	peer_notify_set_path(&n, "/etc/pshim6/notify", 3 * MS);
	assert_int_equal(ncalls, 1);
	assert_string_equal(calls[0], "active none backup");
	assert_true(peer_notify_deadline(&n) == 3 * MS + PEER_NOTIFY_POLL_NS);
	peer_notify_set_path(&n, "/etc/pshim6/notify", 4 * MS);   /* same path: nothing */
	assert_int_equal(ncalls, 1);
	finish(&n, 0, 5 * MS);
	assert_int_equal(n.st.ok, 1);
	assert_true(peer_notify_deadline(&n) == UINT64_MAX);
	/* unset: changes run nothing */
	peer_notify_set_path(&n, "", 6 * MS);
	peer_notify_change(&n, "standby", 7 * MS);
	assert_int_equal(ncalls, 1);
	assert_int_equal(n.st.runs, 1);
}

static void test_each_change_in_order(void **st)
{
	(void)st;
	struct peer_notify n;
	peer_notify_init(&n, &fake, "primary", "init");
	peer_notify_set_path(&n, "/etc/pshim6/notify", 0);
	finish(&n, 0, 1 * MS);
	static const char *const seq[] = { "active", "syncing", "active" };
	for (size_t i = 0; i < 3; i++) {
		peer_notify_change(&n, seq[i], (10 + i) * MS);
		peer_notify_tick(&n, (10 + i) * MS + 1);   /* still running: nothing new */
		assert_int_equal(ncalls, (int)i + 2);
		finish(&n, 0, (20 + i) * MS);
	}
	assert_string_equal(calls[0], "init none primary");
	assert_string_equal(calls[1], "active init primary");
	assert_string_equal(calls[2], "syncing active primary");
	assert_string_equal(calls[3], "active syncing primary");
	assert_int_equal(n.st.runs, 4);
	assert_int_equal(n.st.ok, 4);
	assert_int_equal(n.st.skipped, 0);
}

/* changes while a run is in flight: one run afterwards with the state as
 * it is then; the folded changes counted */
static void test_changes_in_flight_are_folded(void **st)
{
	(void)st;
	struct peer_notify n;
	peer_notify_init(&n, &fake, "backup", "standby");
	peer_notify_set_path(&n, "/etc/pshim6/notify", 0);
	/* in flight: standby -> active -> standby -> active */
	peer_notify_change(&n, "active", 1 * MS);
	peer_notify_change(&n, "standby", 2 * MS);
	peer_notify_change(&n, "active", 3 * MS);
	assert_int_equal(ncalls, 1);
	finish(&n, 0, 4 * MS);
	assert_int_equal(ncalls, 2);
	assert_string_equal(calls[1], "active standby backup");
	assert_int_equal(n.st.skipped, 2);
	/* in flight again: active -> standby -> active: back where the script
	 * was told, nothing to run */
	peer_notify_change(&n, "standby", 5 * MS);
	peer_notify_change(&n, "active", 6 * MS);
	finish(&n, 0, 7 * MS);
	assert_int_equal(ncalls, 2);
	assert_int_equal(n.st.skipped, 4);
	assert_true(peer_notify_deadline(&n) == UINT64_MAX);
}

static void test_failures_and_timeout(void **st)
{
	(void)st;
	struct peer_notify n;
	peer_notify_init(&n, &fake, "backup", "standby");
	/* cannot be run: counted, not retried, the next change tries again */
	spawn_err = ENOENT;
	peer_notify_set_path(&n, "/etc/pshim6/notify", 0);
	assert_int_equal(n.st.failed, 1);
	assert_true(peer_notify_deadline(&n) == UINT64_MAX);
	peer_notify_tick(&n, 1 * MS);
	assert_int_equal(ncalls, 1);
	spawn_err = 0;
	peer_notify_change(&n, "active", 2 * MS);
	assert_int_equal(ncalls, 2);
	assert_string_equal(calls[1], "active standby backup");
	/* exits 3 */
	finish(&n, 3 << 8, 3 * MS);
	assert_int_equal(n.st.failed, 2);
	/* hangs: killed after the timeout, then reaped */
	peer_notify_change(&n, "standby", 10 * MS);
	pid_t p = next_pid - 1;
	peer_notify_tick(&n, 10 * MS + PEER_NOTIFY_TIMEOUT_NS - 1);
	assert_int_equal(killed_pid, 0);
	peer_notify_tick(&n, 10 * MS + PEER_NOTIFY_TIMEOUT_NS);
	assert_int_equal(killed_pid, p);
	assert_int_equal(n.st.timeouts, 1);
	killed_pid = 0;
	peer_notify_tick(&n, 10 * MS + PEER_NOTIFY_TIMEOUT_NS + PEER_NOTIFY_POLL_NS);
	assert_int_equal(killed_pid, 0);   /* killed once */
	finish(&n, SIGKILL, 11 * MS + PEER_NOTIFY_TIMEOUT_NS);
	assert_int_equal(n.st.failed, 3);
	assert_int_equal(n.st.ok, 0);
	assert_true(peer_notify_deadline(&n) == UINT64_MAX);
}

/* The role stories of peer_fsm.c, each change fed to the hook as peer.c
 * does (run(): the state after the event, when it differs). */
struct step { int what; const char *want; };   /* want: the call it makes, or NULL */
enum { HB_ACTIVE = 100, HB_PASSIVE, SILENCE, END = 0 };

static void story(int role, const struct step *s)
{
	struct peer_fsm f;
	struct peer_notify n;
	ncalls = 0;
	peer_fsm_init(&f, role, 1000 * MS, 0);
	peer_notify_init(&n, &fake, role == PEER_ROLE_PRIMARY ? "primary" : "backup", peer_state_name(f.state));
	peer_notify_set_path(&n, "/etc/pshim6/notify", 0);
	finish(&n, 0, 0);
	uint64_t now = 0;
	for (; s->what != END; s++) {
		now += 100 * MS;
		int from = (int)f.state;
		if (s->what == HB_ACTIVE)
			peer_fsm_heard(&f, PEER_ST_ACTIVE, now);
		else if (s->what == HB_PASSIVE)
			peer_fsm_heard(&f, PEER_ST_STANDBY, now);
		else if (s->what == SILENCE)
			peer_fsm_tick(&f, now += 2000 * MS);
		else
			peer_fsm_event(&f, (enum peer_event)s->what, now);
		int before = ncalls;
		if (from != (int)f.state)
			peer_notify_change(&n, peer_state_name(f.state), now);
		if (s->want) {
			assert_int_equal(ncalls, before + 1);
			assert_string_equal(calls[ncalls - 1], s->want);
			finish(&n, 0, now);
		} else {
			assert_int_equal(ncalls, before);
		}
	}
}

static void test_role_stories(void **st)
{
	(void)st;
	static const struct step backup[] = {
		{ HB_ACTIVE, NULL }, { SILENCE, "active standby backup" }, { HB_PASSIVE, NULL },
		{ HB_ACTIVE, "standby active backup" }, { PEER_EV_TRAFFIC, "active standby backup" }, { END, NULL } };
	static const struct step primary[] = {
		{ HB_PASSIVE, "active init primary" }, { HB_ACTIVE, "syncing active primary" },
		{ PEER_EV_SYNC_DONE, "active syncing primary" }, { HB_PASSIVE, NULL }, { END, NULL } };
	static const struct step returning[] = {
		{ HB_ACTIVE, "syncing init primary" }, { SILENCE, "active syncing primary" }, { END, NULL } };
	story(PEER_ROLE_BACKUP, backup);
	assert_string_equal(calls[0], "standby none backup");
	story(PEER_ROLE_PRIMARY, primary);
	assert_string_equal(calls[0], "init none primary");
	story(PEER_ROLE_PRIMARY, returning);
}

/* The real thing: posix_spawn of a script that appends its arguments to a
 * file; reaped by the tick. */
static void wait_reaped(struct peer_notify *n)
{
	for (int i = 0; i < 500 && n->pid; i++) {
		struct timespec ts = { 0, 10 * 1000000 };
		nanosleep(&ts, NULL);
		peer_notify_tick(n, 0);
	}
	assert_int_equal(n->pid, 0);
}

static void test_real_script(void **st)
{
	(void)st;
	char dir[] = "/tmp/peer-notify.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char script[256], out[256], bad[256];
	snprintf(script, sizeof script, "%s/notify.sh", dir);
	snprintf(out, sizeof out, "%s/calls", dir);
	snprintf(bad, sizeof bad, "%s/not-executable", dir);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	/* also records that SIGTERM is not blocked nor ignored in the child */
	fprintf(f, "#!/bin/sh\nblk=$(awk '/^SigBlk/{print $2}' /proc/$$/status)\n"
		   "echo \"$1 $2 $3 $blk\" >> %s\n[ \"$1\" != syncing ]\n", out);
	fclose(f);
	assert_int_equal(chmod(script, 0755), 0);
	f = fopen(bad, "w");
	assert_non_null(f);
	fclose(f);

	/* the daemon blocks these (signalfd); the child must not inherit that */
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGTERM);
	sigaddset(&m, SIGHUP);
	sigprocmask(SIG_BLOCK, &m, NULL);

	struct peer_notify n;
	peer_notify_init(&n, &peer_notify_ops_real, "backup", "standby");
	peer_notify_set_path(&n, script, 0);
	assert_true(n.pid > 0);
	wait_reaped(&n);
	peer_notify_change(&n, "active", 0);
	wait_reaped(&n);
	peer_notify_change(&n, "syncing", 0);   /* the script exits 1 for this one */
	wait_reaped(&n);
	assert_int_equal(n.st.runs, 3);
	assert_int_equal(n.st.ok, 2);
	assert_int_equal(n.st.failed, 1);
	char buf[512] = { 0 };
	f = fopen(out, "r");
	assert_non_null(f);
	size_t len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[len] = 0;
	assert_string_equal(buf, "standby none backup 0000000000000000\n"
				 "active standby backup 0000000000000000\n"
				 "syncing active backup 0000000000000000\n");
	/* not executable: counted as failed, nothing left running */
	peer_notify_set_path(&n, bad, 0);
	assert_int_equal(n.pid, 0);
	assert_int_equal(n.st.failed, 2);
	sigprocmask(SIG_UNBLOCK, &m, NULL);
	unlink(script);
	unlink(out);
	unlink(bad);
	rmdir(dir);
}

/* Orderly stop: told "stopped <last state> <role>" once, and waited for. */
static void test_stop_tells_stopped(void **st)
{
	(void)st;
	struct peer_notify n;
	peer_notify_init(&n, &fake, "primary", "init");
	fake_now = 1000 * MS;
	peer_notify_set_path(&n, "/etc/pshim6/notify", fake_now);
	finish(&n, 0, fake_now);
	peer_notify_change(&n, "active", fake_now);
	finish(&n, 0, fake_now);
	/* the stopped run takes 50 ms */
	end_at = fake_now + 50 * MS;
	uint64_t t0 = fake_now;
	assert_int_equal(peer_notify_stop(&n), 0);
	assert_int_equal(ncalls, 3);
	assert_string_equal(calls[2], "stopped active primary");
	assert_int_equal(n.pid, 0);
	assert_int_equal(n.st.ok, 3);
	assert_int_equal(killed_pid, 0);
	/* reaped at the first poll after it ended */
	assert_true(fake_now >= t0 + 50 * MS && fake_now < t0 + 50 * MS + PEER_NOTIFY_POLL_NS);
}

/* A run in flight at the stop ends first; then "stopped" follows it in the
 * chain (old state: what the run in flight told). */
static void test_stop_after_the_run_in_flight(void **st)
{
	(void)st;
	struct peer_notify n;
	peer_notify_init(&n, &fake, "backup", "standby");
	fake_now = 0;
	peer_notify_set_path(&n, "/etc/pshim6/notify", 0);
	finish(&n, 0, 0);
	fake_now = 5 * MS;
	peer_notify_change(&n, "active", fake_now);   /* in flight: ends at 105 ms */
	end_at = 105 * MS;
	assert_int_equal(peer_notify_stop(&n), 0);
	/* the second run (stopped) ended at once: end_at is past */
	assert_int_equal(ncalls, 3);
	assert_string_equal(calls[1], "active standby backup");
	assert_string_equal(calls[2], "stopped active backup");
	assert_int_equal(n.st.ok, 3);
	assert_int_equal(n.st.skipped, 0);
	assert_true(fake_now < 105 * MS + 2 * PEER_NOTIFY_POLL_NS);
}

/* An idle hook told "active" at 7 ms, then a stop whose "stopped" run
 * hangs (timeout 0: the default); returns when the stop began. */
static uint64_t stop_with_hanging_hook(struct peer_notify *n, uint64_t timeout)
{
	peer_notify_init(n, &fake, "backup", "active");
	peer_notify_set_timeout(n, timeout);
	fake_now = 7 * MS;
	peer_notify_set_path(n, "/etc/pshim6/notify", fake_now);
	finish(n, 0, fake_now);
	kill_ends = 1;
	uint64_t t0 = fake_now;
	assert_int_equal(peer_notify_stop(n), 0);
	return t0;
}

/* A script that hangs cannot hold the stop: killed at the bound, reaped,
 * and the wait is over by PEER_NOTIFY_TIMEOUT_NS plus the reap grace. */
static void test_stop_is_bounded(void **st)
{
	(void)st;
	struct peer_notify n;
	uint64_t t0 = stop_with_hanging_hook(&n, 0);
	assert_string_equal(calls[1], "stopped active backup");
	assert_int_equal(killed_pid, next_pid - 1);
	assert_int_equal(n.st.timeouts, 1);
	assert_int_equal(n.st.failed, 1);
	assert_true(fake_now >= t0 + PEER_NOTIFY_TIMEOUT_NS);
	assert_true(fake_now <= t0 + PEER_NOTIFY_TIMEOUT_NS + PEER_NOTIFY_POLL_NS);

	/* a run that survives even the kill: given up after the reap grace */
	setup(NULL);
	peer_notify_init(&n, &fake, "backup", "active");
	peer_notify_set_path(&n, "/etc/pshim6/notify", 0);
	finish(&n, 0, 0);
	assert_int_equal(peer_notify_stop(&n), -1);
	assert_true(fake_now >= PEER_NOTIFY_TIMEOUT_NS + PEER_NOTIFY_REAP_NS);
	assert_true(fake_now <= PEER_NOTIFY_TIMEOUT_NS + PEER_NOTIFY_REAP_NS + PEER_NOTIFY_POLL_NS);
	assert_int_equal(n.st.timeouts, 1);
}

/* A run in flight that hangs is killed by its own bound; "stopped" then
 * runs in what is left of the stop's bound, and is killed at its end when
 * it hangs too.  A run in flight that uses up the whole bound leaves no
 * time: "stopped" is not started (counted failed).  Bounded both ways. */
static void test_stop_hanging_run_in_flight(void **st)
{
	(void)st;
	struct peer_notify n;
	peer_notify_init(&n, &fake, "primary", "active");
	peer_notify_set_path(&n, "/etc/pshim6/notify", 0);   /* in flight from 0, hangs */
	kill_ends = 1;
	fake_now = 500 * MS;
	assert_int_equal(peer_notify_stop(&n), 0);
	assert_int_equal(ncalls, 2);
	assert_string_equal(calls[0], "active none primary");
	assert_string_equal(calls[1], "stopped active primary");
	assert_int_equal(n.st.timeouts, 2);
	assert_int_equal(n.st.failed, 2);
	assert_true(fake_now >= 500 * MS + PEER_NOTIFY_TIMEOUT_NS);
	assert_true(fake_now <= 500 * MS + PEER_NOTIFY_TIMEOUT_NS + 2 * PEER_NOTIFY_POLL_NS);

	setup(NULL);
	peer_notify_init(&n, &fake, "primary", "active");
	peer_notify_set_path(&n, "/etc/pshim6/notify", 0);
	kill_ends = 1;
	assert_int_equal(peer_notify_stop(&n), 0);   /* stop_by = its own kill time */
	assert_int_equal(ncalls, 1);
	assert_int_equal(n.st.timeouts, 1);
	assert_int_equal(n.st.failed, 2);   /* the killed run, and "stopped" not run */
	assert_string_equal(n.told, PEER_NOTIFY_STOPPED);
	assert_true(fake_now <= PEER_NOTIFY_TIMEOUT_NS + PEER_NOTIFY_POLL_NS);
}

/* peer.notify_timeout_ms: a run is killed at the configured bound, a
 * changed bound applies to the run in flight (measured from its start),
 * 0 keeps the one set, and the stop waits no longer than it. */
static void test_configured_timeout(void **st)
{
	(void)st;
	const uint64_t t = 1500 * MS;
	struct peer_notify n;
	peer_notify_init(&n, &fake, "backup", "standby");
	assert_true(n.timeout_ns == PEER_NOTIFY_TIMEOUT_NS);
	peer_notify_set_timeout(&n, t);
	peer_notify_set_timeout(&n, 0);
	assert_true(n.timeout_ns == t);
	peer_notify_set_path(&n, "/etc/pshim6/notify", 0);   /* hangs */
	pid_t p = next_pid - 1;
	peer_notify_tick(&n, t - 1);
	assert_int_equal(killed_pid, 0);
	peer_notify_tick(&n, t);
	assert_int_equal(killed_pid, p);
	finish(&n, SIGKILL, t + MS);
	assert_int_equal(n.st.timeouts, 1);

	/* lowered while a run is in flight: that run is past the new bound */
	killed_pid = 0;
	peer_notify_change(&n, "active", 2000 * MS);
	p = next_pid - 1;
	peer_notify_tick(&n, 2900 * MS);
	assert_int_equal(killed_pid, 0);
	peer_notify_set_timeout(&n, 800 * MS);
	peer_notify_tick(&n, 2900 * MS);
	assert_int_equal(killed_pid, p);
	finish(&n, SIGKILL, 2901 * MS);
	assert_int_equal(n.st.timeouts, 2);

	/* the stop's wait follows it too */
	setup(NULL);
	uint64_t t0 = stop_with_hanging_hook(&n, t);
	assert_int_equal(n.st.timeouts, 1);
	assert_true(fake_now >= t0 + t);
	assert_true(fake_now <= t0 + t + PEER_NOTIFY_POLL_NS);

	/* in all: a run in flight (from 0) killed at t, then "stopped" cut
	 * off at the stop's own bound, t after the stop began, not t after
	 * it started */
	setup(NULL);
	peer_notify_init(&n, &fake, "primary", "active");
	peer_notify_set_timeout(&n, t);
	peer_notify_set_path(&n, "/etc/pshim6/notify", 0);
	kill_ends = 1;
	fake_now = 500 * MS;
	assert_int_equal(peer_notify_stop(&n), 0);
	assert_int_equal(ncalls, 2);
	assert_int_equal(n.st.timeouts, 2);
	assert_true(fake_now >= 500 * MS + t);
	assert_true(fake_now <= 500 * MS + t + 2 * PEER_NOTIFY_POLL_NS);
}

/* Without a path nothing runs and nothing waits. */
static void test_stop_without_path(void **st)
{
	(void)st;
	struct peer_notify n;
	peer_notify_init(&n, &fake, "primary", "active");
	fake_now = 42;
	assert_int_equal(peer_notify_stop(&n), 0);
	assert_int_equal(ncalls, 0);
	assert_int_equal(npauses, 0);
	assert_true(fake_now == 42);
}

int main(void)
{
	log_set_level(PSHIM6_LOG_ERR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_off_until_set, setup),
		cmocka_unit_test_setup(test_each_change_in_order, setup),
		cmocka_unit_test_setup(test_changes_in_flight_are_folded, setup),
		cmocka_unit_test_setup(test_failures_and_timeout, setup),
		cmocka_unit_test_setup(test_role_stories, setup),
		cmocka_unit_test_setup(test_real_script, setup),
		cmocka_unit_test_setup(test_stop_tells_stopped, setup),
		cmocka_unit_test_setup(test_stop_after_the_run_in_flight, setup),
		cmocka_unit_test_setup(test_stop_is_bounded, setup),
		cmocka_unit_test_setup(test_configured_timeout, setup),
		cmocka_unit_test_setup(test_stop_hanging_run_in_flight, setup),
		cmocka_unit_test_setup(test_stop_without_path, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
