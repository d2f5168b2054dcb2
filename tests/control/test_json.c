/* control/json.c: the request parser's bounds and refusals, and the reply
 * reader pshim6ctl uses (json_str_dup), both against what json_put_str
 * writes, every octet value included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "json.h"

static struct jobj o;

static int parse(const char *s, const char **why)
{
	*why = NULL;
	return json_parse(s, strlen(s), &o, why);
}

static void parse_accepts_the_protocol(void **st)
{
	(void)st;
	const char *why;
	assert_int_equal(parse(" {\"cmd\":\"lease\",\"n\":-42,\"on\":true,\"x\":null,"
			       "\"a\":[\"p\",\"q\\u0041\"]}\n", &why), 0);
	assert_string_equal(json_str(&o, "cmd"), "lease");
	assert_int_equal(json_get(&o, "n")->n, -42);
	assert_true(json_get(&o, "on")->b);
	assert_int_equal(json_get(&o, "x")->t, J_NULL);
	assert_int_equal(json_get(&o, "a")->nelem, 2);
	assert_string_equal(json_get(&o, "a")->elem[1], "qA");
	assert_null(json_str(&o, "n"));   /* a number is not a string */
	assert_null(json_get(&o, "missing"));
}

static void parse_refuses_with_a_reason(void **st)
{
	(void)st;
	static const char *bad[] = {
		"", "{", "{\"a\":1", "{\"a\":1.5}", "{\"a\":\"\\u00\"}", "{\"a\":\"\\u0000\"}",
		"{\"a\":\"\\u0080\"}", "{\"a\":\"\\q\"}", "{\"a\":\"x\ny\"}", "{\"a\":1234567890123456789}",
		"{\"a\":{}}", "{\"a\":[1]}", "{\"a\":1} x", "[1]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *why;
		assert_int_equal(parse(bad[i], &why), -1);
		assert_non_null(why);
	}
}

static void parse_bounds_members_and_bytes(void **st)
{
	(void)st;
	char buf[2 * JSON_BUF];
	const char *why;
	size_t n = (size_t)snprintf(buf, sizeof buf, "{");
	for (int i = 0; i <= JSON_MAX_MEMBERS; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\"k%d\":1", i ? "," : "", i);
	snprintf(buf + n, sizeof buf - n, "}");
	assert_int_equal(parse(buf, &why), -1);
	assert_non_null(why);

	memset(buf, 'a', sizeof buf);
	memcpy(buf, "{\"a\":\"", 6);
	memcpy(buf + sizeof buf - 3, "\"}", 3);
	assert_int_equal(parse(buf, &why), -1);
	assert_non_null(why);
}

/* What the daemon writes, the CLI reads back: every octet 1..255. */
static void reply_reader_inverts_the_writer(void **st)
{
	(void)st;
	char in[256], *out = NULL;
	size_t len = 0;
	for (int i = 1; i < 256; i++)
		in[i - 1] = (char)i;
	in[255] = 0;
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	json_put_str(f, in);
	fputs(",\"next\"", f);
	fclose(f);
	const char *end = NULL;
	char *back = json_str_dup(out + 1, &end);
	assert_non_null(back);
	assert_string_equal(back, in);
	assert_true(*end == '"' && end[1] == ',');   /* the closing quote, not the next one */
	free(back);
	free(out);
}

static void reply_reader_stays_inside_the_text(void **st)
{
	(void)st;
	static const struct { const char *in, *want; size_t end; } v[] = {
		{ "abc\"x", "abc", 3 },
		{ "abc", "abc", 3 },                /* no closing quote: up to the end */
		{ "a\\\"b\"", "a\"b", 4 },
		{ "\\u41\"", "?41", 4 },            /* short: its digits stay text */
		{ "\\u0", "?0", 3 },                /* and never read past the end */
		{ "\\u0000x\"", "?0000x", 7 },      /* no NUL inside a string */
		{ "\\u0100\"", "?0100", 6 },
		{ "\\u00e9\"", "\xe9", 6 },
		{ "\\u00\"1\"", "?00", 4 },         /* the digits end at the quote */
		{ "x\\", "x\\", 2 },                /* a lone backslash at the end */
		{ "\\n\\t\\/\\z\"", "\n\t/z", 8 },
		{ "", "", 0 },
	};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		const char *end = NULL;
		char *s = json_str_dup(v[i].in, &end);
		assert_non_null(s);
		assert_string_equal(s, v[i].want);
		assert_ptr_equal(end, v[i].in + v[i].end);
		free(s);
	}
	char *s = json_str_dup("no end pointer", NULL);
	assert_string_equal(s, "no end pointer");
	free(s);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(parse_accepts_the_protocol),
		cmocka_unit_test(parse_refuses_with_a_reason),
		cmocka_unit_test(parse_bounds_members_and_bytes),
		cmocka_unit_test(reply_reader_inverts_the_writer),
		cmocka_unit_test(reply_reader_stays_inside_the_text),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
