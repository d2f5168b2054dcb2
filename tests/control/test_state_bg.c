/* control.state_file written by a child (state_save_bg): what it writes is
 * what the daemon held when it forked, read back by the daemon's own
 * reader; a failure is reported, an overlap with a save in place leaves a
 * whole file and no temp file. */
#include <dirent.h>
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
#include <shim6/engine.h>
#include "daemon.h"
#include "log.h"
#include "state.h"
#include "engine_fill.h"

static struct pshim6_conf conf;
static struct daemon d;
static char dir[] = "/tmp/test_ctl_state_bg.XXXXXX";

static int setup(void **st)
{
	(void)st;
	log_set_level(PSHIM6_LOG_ERR);
	if (!mkdtemp(dir))
		return -1;
	pshim6_conf_defaults(&conf);
	conf.engine.max_contexts = 1000;
	snprintf(conf.control.state_file, sizeof conf.control.state_file, "%s/ctl.state", dir);
	d.conf = &conf;
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	state_free();
	unlink(conf.control.state_file);
	rmdir(dir);
	return 0;
}

static unsigned files_in_dir(void)
{
	DIR *dd = opendir(dir);
	unsigned n = 0;
	for (struct dirent *e; dd && (e = readdir(dd));)
		n += e->d_name[0] != '.';
	if (dd)
		closedir(dd);
	return n;
}

static void child_writes_the_snapshot(void **st)
{
	(void)st;
	struct shim6_engine *e = engine_with(300);
	uint64_t gen = state_generation();
	pid_t pid = state_save_bg(&d, e);
	assert_true(pid > 0);
	/* the daemon goes on changing its table: the file keeps the fork's view */
	shim6_engine_del(e);
	e = engine_with(2);
	assert_int_equal(state_save_bg_done(pid, true), 0);
	assert_int_equal(state_generation(), gen);   /* the child's save is not the daemon's */
	state_load(&d);
	assert_int_equal(state_count(), 300);
	const struct ctl_state_ctx *s = state_find(&d, 0x1000 + 299);
	assert_non_null(s);
	assert_int_equal(s->local_gen, 100 + 299);
	assert_int_equal(s->peer_gen, 200 + 299);
	assert_int_equal(s->npeer, 2);
	assert_int_equal(files_in_dir(), 1);         /* its temp file was renamed */
	shim6_engine_del(e);
}

static void failure_is_reported(void **st)
{
	(void)st;
	struct shim6_engine *e = engine_with(3);
	char keep[sizeof conf.control.state_file];
	memcpy(keep, conf.control.state_file, sizeof keep);
	snprintf(conf.control.state_file, sizeof conf.control.state_file, "%s/missing/ctl.state", dir);
	pid_t pid = state_save_bg(&d, e);
	assert_true(pid > 0);
	assert_int_equal(state_save_bg_done(pid, true), 1);
	/* a pid that is not (or no longer) a child of ours: failed, so saved again */
	assert_int_equal(state_save_bg_done(pid, true), 1);
	memcpy(conf.control.state_file, keep, sizeof keep);
	shim6_engine_del(e);
}

static void overlap_with_a_save_in_place(void **st)
{
	(void)st;
	struct shim6_engine *big = engine_with(800), *small = engine_with(5);
	uint64_t gen = state_generation();
	pid_t pid = state_save_bg(&d, big);
	assert_true(pid > 0);
	assert_int_equal(state_save(&d, small), 0);
	assert_int_equal(state_generation(), gen + 1);
	assert_int_equal(state_save_bg_done(pid, true), 0);
	/* whichever renamed last, the file is one of the two, whole */
	state_load(&d);
	size_t n = state_count();
	assert_true(n == 800 || n == 5);
	for (size_t i = 0; i < n; i++)
		assert_non_null(state_find(&d, 0x1000 + i));
	assert_int_equal(files_in_dir(), 1);
	shim6_engine_del(big);
	shim6_engine_del(small);
}

static void touch(const char *name)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
}

static bool exists(const char *name)
{
	char p[600];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

/* what a killed child left is removed at start, and nothing else */
static void start_removes_temp_files_of_interrupted_saves(void **st)
{
	(void)st;
	struct shim6_engine *e = engine_with(4);
	assert_int_equal(state_save(&d, e), 0);
	const char *stale[] = { "ctl.state.4242.tmp", "ctl.state.7.tmp", "ctl.state.tmp" };
	const char *other[] = { "ctl.state.12a.tmp", "ctl.state.4242.tmpx", "other.4242.tmp", "ctl.statex.1.tmp" };
	for (size_t i = 0; i < 3; i++)
		touch(stale[i]);
	for (size_t i = 0; i < 4; i++)
		touch(other[i]);
	state_load(&d);
	assert_int_equal(state_count(), 4);
	for (size_t i = 0; i < 3; i++)
		assert_false(exists(stale[i]));
	for (size_t i = 0; i < 4; i++) {
		assert_true(exists(other[i]));
		char p[600];
		snprintf(p, sizeof p, "%s/%s", dir, other[i]);
		unlink(p);
	}
	assert_true(exists("ctl.state"));
	shim6_engine_del(e);
}

/* Only "<file>.<digits>.tmp" is a leftover: a name that shares the state
 * file's prefix but not its dot (another file's temp) stays. */
static void start_keeps_temp_files_of_other_names(void **st)
{
	(void)st;
	const char *other[] = { "ctl.state-1.tmp", "ctl.statextmp" };
	for (size_t i = 0; i < 2; i++)
		touch(other[i]);
	state_load(&d);
	for (size_t i = 0; i < 2; i++) {
		assert_true(exists(other[i]));
		char p[600];
		snprintf(p, sizeof p, "%s/%s", dir, other[i]);
		unlink(p);
	}
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(child_writes_the_snapshot),
		cmocka_unit_test(failure_is_reported),
		cmocka_unit_test(overlap_with_a_save_in_place),
		cmocka_unit_test(start_removes_temp_files_of_interrupted_saves),
		cmocka_unit_test(start_keeps_temp_files_of_other_names),
	};
	return cmocka_run_group_tests(t, setup, teardown);
}
