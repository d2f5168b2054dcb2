/* control.state_file parser: lines as pshim6-control writes them, and the
 * damaged files the reader must not misread (each malformed case here was
 * accepted, or misread, by the reader before it was made strict). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "daemon.h"
#include "log.h"
#include "state.h"

/* A line a control daemon wrote in the two-proxies test. */
#define REAL "ctx 056928ac2348 2372325613 1984928491 1 " \
	"2001:db8:21:1:4fa:4111:6753:2521,2,0,0,1,1 2001:db8:22:1:4fa:4111:6753:2521,2,3,4,5,0"

static struct pshim6_conf conf;
static struct daemon d;
static char path[64];

static int setup(void **st)
{
	(void)st;
	log_set_level(PSHIM6_LOG_ERR);
	pshim6_conf_defaults(&conf);
	conf.engine.max_contexts = 16;
	snprintf(path, sizeof path, "/tmp/test_ctl_state.XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	snprintf(conf.control.state_file, sizeof conf.control.state_file, "%s", path);
	d.conf = &conf;
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	state_free();
	unlink(path);
	return 0;
}

static void put(const char *text, size_t len)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static int parse(const char *line, struct ctl_state_ctx *s)
{
	return state_parse_line(line, strlen(line), s);
}

static void real_line(void **st)
{
	(void)st;
	struct ctl_state_ctx s;
	assert_int_equal(parse(REAL, &s), 1);
	assert_int_equal(s.own_tag, 0x056928ac2348ULL);
	assert_int_equal(s.local_gen, 2372325613u);
	assert_int_equal(s.peer_gen, 1984928491u);
	assert_int_equal(s.initiator, 1);
	assert_int_equal(s.npeer, 2);
	assert_int_equal(s.peer_locs[0].verif, 2);
	assert_int_equal(s.peer_locs[1].flags, 3);
	assert_int_equal(s.peer_locs[1].priority, 4);
	assert_int_equal(s.peer_locs[1].weight, 5);
	assert_int_equal(s.verified[0], 1);
	assert_int_equal(s.verified[1], 0);
	assert_int_equal(s.peer_locs[1].addr.b[5], 0x22);
	assert_int_equal(parse("# pshim6-control context state", &s), 0);
	assert_int_equal(parse("", &s), 0);
	assert_int_equal(parse("ctx 1 0 0 0", &s), 1);   /* no locators known */
	assert_int_equal(s.npeer, 0);
}

static void numbers_are_plain_digits(void **st)
{
	(void)st;
	struct ctl_state_ctx s;
	assert_int_equal(parse("ctx 1f 1 1 0", &s), 1);
	const char *bad[] = {
		"ctx -1 1 1 0",                /* strtoull: 2^64-1 */
		"ctx 0x1f 1 1 0",
		"ctx 1f +1 1 0",
		"ctx 1f -1 1 0",
		"ctx 1f 1 4294967296 0",       /* generation > 32 bits */
		"ctx 1f 1 1 2",                /* initiator is 0 or 1 */
		"ctx 800000000000 1 1 0",      /* tag > 47 bits never matches a dump */
		"ctx 0 1 1 0",
		"ctx 1f 1 1",
		"ctxx 1f 1 1 0",
		"ctx 1f 1 1 0 ::1,2,0,0,1,-0",
		"ctx 1f 1 1 0 ::1,2,0,0,256,1",
		"ctx 1f 1 1 0 ::1,2,0,0,1,2",  /* verified is 0 or 1 */
		"ctx 1f 1 1 0 ::1,2,, 0,1,1",
		"ctx 1f 1 1 0 ::1,2,,0,1,1",   /* an empty field shifted the rest */
		"ctx 1f 1 1 0 ::1,2,0,0,1,1,7",
		"ctx 1f 1 1 0 ::1,2,0,0,1",
		"ctx 1f 1 1 0 1.2.3.4,2,0,0,1,1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int r = parse(bad[i], &s);
		if (r != -1)
			fail_msg("accepted: %s", bad[i]);
	}
}

static void locator_bound(void **st)
{
	(void)st;
	char line[STATE_LINE_MAX];
	size_t n = (size_t)snprintf(line, sizeof line, "ctx 1f 1 1 0");
	for (int i = 0; i < SHIM6_MAX_LOCATORS; i++)
		n += (size_t)snprintf(line + n, sizeof line - n, " 2001:db8::%x,2,0,0,1,1", i + 1);
	struct ctl_state_ctx s;
	assert_int_equal(state_parse_line(line, n, &s), 1);
	assert_int_equal(s.npeer, SHIM6_MAX_LOCATORS);
	n += (size_t)snprintf(line + n, sizeof line - n, " 2001:db8::ff,2,0,0,1,1");
	assert_int_equal(state_parse_line(line, n, &s), -1);
}

static void nul_inside_a_line(void **st)
{
	(void)st;
	static const char text[] = "ctx 1f 1 1 0\0 garbage\nctx 2f 1 1 0\n";
	struct ctl_state_ctx s;
	assert_int_equal(state_parse_line(text, 21, &s), -1);
	put(text, sizeof text - 1);
	state_load(&d);
	assert_int_equal(state_count(), 1);
	assert_int_equal(state_at(0)->own_tag, 0x2f);
}

/* A line longer than the buffer used to be cut, and its tail read as a line
 * of its own: a long comment could carry a context. */
static void overlong_line_tail_is_not_a_line(void **st)
{
	(void)st;
	size_t n = 0;
	char *text = malloc(STATE_LINE_MAX + 200);
	assert_non_null(text);
	text[n++] = '#';
	memset(text + n, 'x', STATE_LINE_MAX - 2);   /* the cut fell right before "ctx" */
	n += STATE_LINE_MAX - 2;
	n += (size_t)sprintf(text + n, "ctx 0000000000aa 1 2 0 2001:db8::1,2,0,0,1,1\nctx bb 3 4 1\n");
	put(text, n);
	free(text);
	state_load(&d);
	assert_int_equal(state_count(), 1);
	assert_null(state_find(&d, 0xaa));
	assert_non_null(state_find(&d, 0xbb));
}

static void repeated_context_first_kept(void **st)
{
	(void)st;
	const char *text = "ctx aa 1 1 0\nctx aa 2 2 1\nctx cc 5 6 0\n";
	put(text, strlen(text));
	state_load(&d);
	assert_int_equal(state_count(), 2);
	assert_int_equal(state_find(&d, 0xaa)->local_gen, 1);
	assert_int_equal(state_find(&d, 0xcc)->peer_gen, 6);
}

static void bounded_by_max_contexts(void **st)
{
	(void)st;
	const char *text = "# header\nctx 1 1 1 0\nbad line\nctx 2 1 1 0\nctx 3 1 1 0\n";
	put(text, strlen(text));
	conf.engine.max_contexts = 2;
	state_load(&d);
	conf.engine.max_contexts = 16;
	assert_int_equal(state_count(), 2);
	assert_null(state_find(&d, 3));
	assert_null(state_at(2));
	/* last line without its newline still counts */
	put("ctx 4 1 1 0", 11);
	state_load(&d);
	assert_int_equal(state_count(), 1);
	unlink(path);
	state_load(&d);   /* missing file: nothing known */
	assert_int_equal(state_count(), 0);
}

/* A line as long as the parser's buffer is refused, however valid its
 * text: the sync hands state_parse_line lengths it did not bound itself. */
static void line_of_buffer_size_is_refused(void **st)
{
	(void)st;
	char *text = malloc(STATE_LINE_MAX + 1);
	assert_non_null(text);
	memset(text, ' ', STATE_LINE_MAX);
	memcpy(text, "ctx 1f 1 1 0", 12);
	struct ctl_state_ctx s;
	assert_int_equal(state_parse_line(text, STATE_LINE_MAX - 1, &s), 1);
	assert_int_equal(state_parse_line(text, STATE_LINE_MAX, &s), -1);
	free(text);
}

/* A number field is at most 20 characters, leading zeros included. */
static void number_field_length_bound(void **st)
{
	(void)st;
	struct ctl_state_ctx s;
	assert_int_equal(parse("ctx 1f 00000000000000000001 1 0", &s), 1);   /* 20 */
	assert_int_equal(s.local_gen, 1);
	assert_int_equal(parse("ctx 1f 000000000000000000001 1 0", &s), -1);  /* 21 */
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test_setup_teardown(real_line, setup, teardown),
		cmocka_unit_test_setup_teardown(numbers_are_plain_digits, setup, teardown),
		cmocka_unit_test_setup_teardown(locator_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(nul_inside_a_line, setup, teardown),
		cmocka_unit_test_setup_teardown(overlong_line_tail_is_not_a_line, setup, teardown),
		cmocka_unit_test_setup_teardown(repeated_context_first_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(bounded_by_max_contexts, setup, teardown),
		cmocka_unit_test_setup_teardown(line_of_buffer_size_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(number_field_length_bound, setup, teardown),
	};
	return cmocka_run_group_tests_name("control_state", t, NULL, NULL);
}
