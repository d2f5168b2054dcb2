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

/* The decoded-bytes bound is exact: JSON_BUF bytes (NULs included) fit, one
 * more does not, so the buffer is never written past its end. */
static void parse_byte_bound_is_exact(void **st)
{
	(void)st;
	static char buf[JSON_BUF + 16];
	const char *why;
	/* "{\"a\":\"" + n x 'a' + "\"}": key "a\0" (2) + value n + NUL */
	size_t n = JSON_BUF - 3;
	memcpy(buf, "{\"a\":\"", 6);
	memset(buf + 6, 'a', n);
	memcpy(buf + 6 + n, "\"}", 3);
	assert_int_equal(parse(buf, &why), 0);
	memset(buf + 6, 'a', n + 1);
	memcpy(buf + 6 + n + 1, "\"}", 3);
	assert_int_equal(parse(buf, &why), -1);
	assert_string_equal(why, "strings too long");
}

/* Every control character is refused raw in a string, 0x1f included. */
static void parse_refuses_unit_separator(void **st)
{
	(void)st;
	const char *why;
	assert_int_equal(parse("{\"a\":\"x\x1fy\"}", &why), -1);
	assert_string_equal(why, "control character in string");
}

/* A request cut inside an escape is judged on its own bytes: what follows
 * it in memory is not read as the rest of the escape. */
static void parse_escape_cut_at_the_end(void **st)
{
	(void)st;
	const char *why = NULL;
	static const char a[] = "{\"a\":\"\\\"}";          /* cut right after the backslash */
	assert_int_equal(json_parse(a, 7, &o, &why), -1);
	assert_string_equal(why, "unterminated escape");
	static const char b[] = "{\"a\":\"\\u0041\"}";     /* cut after three of the four digits */
	why = NULL;
	assert_int_equal(json_parse(b, 11, &o, &why), -1);
	assert_string_equal(why, "short \\u escape");
}

/* Exponents are refused as non-integers, whichever case the 'e' is. */
static void parse_refuses_exponents(void **st)
{
	(void)st;
	const char *why;
	assert_int_equal(parse("{\"a\":1e3}", &why), -1);
	assert_string_equal(why, "only integers are accepted");
	assert_int_equal(parse("{\"a\":1E3}", &why), -1);
	assert_string_equal(why, "only integers are accepted");
}

/* An array holds at most JSON_MAX_ELEMS strings: one more is refused. */
static void parse_array_bound_is_exact(void **st)
{
	(void)st;
	char buf[1024];
	const char *why;
	size_t n = (size_t)snprintf(buf, sizeof buf, "{\"a\":[");
	for (int i = 0; i < JSON_MAX_ELEMS; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\"%d\"", i ? "," : "", i);
	snprintf(buf + n, sizeof buf - n, "]}");
	assert_int_equal(parse(buf, &why), 0);
	assert_int_equal(json_get(&o, "a")->nelem, JSON_MAX_ELEMS);
	snprintf(buf + n, sizeof buf - n, ",\"x\"]}");
	assert_int_equal(parse(buf, &why), -1);
	assert_string_equal(why, "array too long");
}

/* Keys are shorter than JSON_MAX_KEY (they are kept with their NUL). */
static void parse_key_length_bound(void **st)
{
	(void)st;
	char buf[128], key[JSON_MAX_KEY + 1];
	const char *why;
	memset(key, 'k', sizeof key);
	key[JSON_MAX_KEY - 1] = 0;
	snprintf(buf, sizeof buf, "{\"%s\":1}", key);
	assert_int_equal(parse(buf, &why), 0);
	key[JSON_MAX_KEY - 1] = 'k';
	key[JSON_MAX_KEY] = 0;
	snprintf(buf, sizeof buf, "{\"%s\":1}", key);
	assert_int_equal(parse(buf, &why), -1);
	assert_string_equal(why, "key too long");
}

/* A key given twice is refused, not silently read as its first value. */
static void parse_refuses_duplicate_keys(void **st)
{
	(void)st;
	const char *why;
	assert_int_equal(parse("{\"cmd\":\"show\",\"cmd\":\"flush\"}", &why), -1);
	assert_string_equal(why, "duplicate key");
}

/* Replies are ASCII: DEL and octets above it are written as \u escapes. */
static void writer_escapes_del_and_high_octets(void **st)
{
	(void)st;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	json_put_str(f, "a\x7f\xe9");
	fclose(f);
	assert_string_equal(out, "\"a\\u007f\\u00e9\"");
	free(out);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(parse_accepts_the_protocol),
		cmocka_unit_test(parse_refuses_with_a_reason),
		cmocka_unit_test(parse_bounds_members_and_bytes),
		cmocka_unit_test(reply_reader_inverts_the_writer),
		cmocka_unit_test(reply_reader_stays_inside_the_text),
		cmocka_unit_test(parse_byte_bound_is_exact),
		cmocka_unit_test(parse_refuses_unit_separator),
		cmocka_unit_test(parse_escape_cut_at_the_end),
		cmocka_unit_test(parse_refuses_exponents),
		cmocka_unit_test(parse_array_bound_is_exact),
		cmocka_unit_test(parse_key_length_bound),
		cmocka_unit_test(parse_refuses_duplicate_keys),
		cmocka_unit_test(writer_escapes_del_and_high_octets),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
