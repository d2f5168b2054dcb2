/* The state file's line writer against the snprintf()/inet_ntop() writer it
 * replaced: the same octets for every address shape and field range, never
 * a write past the buffer, and lines that parse back to what was written. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <inttypes.h>
#include <cmocka.h>
#include "test_rng.h"

#include "state.h"
#include "state_line.h"
#include "state_line_ref.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) { return test_rng64(&rng); }

static void check_addr(const uint8_t a[16])
{
	char want[INET6_ADDRSTRLEN], got[STATE_ADDR_TEXT_MAX + 8];
	memset(got, 'x', sizeof got);
	assert_non_null(inet_ntop(AF_INET6, a, want, sizeof want));
	size_t n = state_addr_text(a, got);
	if (strcmp(want, got) != 0)
		fail_msg("address: want %s, got %s", want, got);
	assert_int_equal(n, strlen(want));
	assert_true(n < STATE_ADDR_TEXT_MAX);
}

/* Every pattern of zero and non-zero groups, with non-zero values of every
 * width, so each choice of the "::" run and each dotted-quad form occurs. */
static void test_addr_every_zero_pattern(void **state)
{
	(void)state;
	static const unsigned vals[] = { 1, 0xf, 0xab, 0xfff, 0x1000, 0xffff, 0x0a0b };
	for (unsigned pat = 0; pat < 256; pat++)
		for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++)
			for (int r = 0; r < 8; r++) {
				uint8_t a[16];
				for (int g = 0; g < 8; g++) {
					unsigned w = 0;
					if (pat & (1u << g))
						w = r == 0 ? vals[v] : (unsigned)(rnd() % 0xffff) + 1;
					a[2 * g] = (uint8_t)(w >> 8);
					a[2 * g + 1] = (uint8_t)w;
				}
				check_addr(a);
			}
}

static void test_addr_special_forms(void **state)
{
	(void)state;
	static const char *txt[] = {
		"::", "::1", "::2", "::ffff:1.2.3.4", "::ffff:0.0.0.0", "::1.2.3.4", "::0.0.1.0",
		"::ffff:0:1.2.3.4", "64:ff9b::1.2.3.4", "1::", "1:0:0:2::3", "1::2:0:0:3", "fe80::1",
		"2001:db8::", "0:1::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::ffff", "::1:0:0:0",
	};
	for (size_t i = 0; i < sizeof txt / sizeof txt[0]; i++) {
		uint8_t a[16];
		assert_int_equal(inet_pton(AF_INET6, txt[i], a), 1);
		check_addr(a);
	}
	for (int i = 0; i < 200000; i++) {
		uint8_t a[16];
		for (int k = 0; k < 16; k++)
			a[k] = (uint8_t)rnd();
		/* zero a random set of groups, often a prefix (the dotted forms) */
		unsigned z = (unsigned)rnd();
		for (int g = 0; g < 8; g++)
			if (z & (1u << g))
				a[2 * g] = a[2 * g + 1] = 0;
		if ((z >> 8) % 4 == 0)
			memset(a, 0, 10);
		if ((z >> 8) % 8 == 1)
			a[10] = a[11] = 0xff;
		check_addr(a);
	}
}

static void random_ctx(struct ctl_state_ctx *s)
{
	static const uint64_t tags[] = { 1, 0xfff, STATE_TAG_MASK, 0x7ffffffff000ULL };
	static const uint32_t gens[] = { 0, 1, 9, 10, 4294967295u, 1000000000u };
	memset(s, 0, sizeof *s);
	unsigned pick = (unsigned)rnd();
	s->own_tag = pick % 3 ? (rnd() & STATE_TAG_MASK) | 1 : tags[pick % 4];
	s->local_gen = (pick >> 4) % 2 ? (uint32_t)rnd() >> (rnd() % 32) : gens[(pick >> 5) % 6];
	s->peer_gen = (pick >> 8) % 2 ? (uint32_t)rnd() >> (rnd() % 32) : gens[(pick >> 9) % 6];
	s->initiator = (int)((pick >> 12) % 2);
	s->npeer = (size_t)(rnd() % (SHIM6_MAX_LOCATORS + 1));
	for (size_t i = 0; i < s->npeer; i++) {
		struct shim6_locator *l = &s->peer_locs[i];
		for (int k = 0; k < 16; k++)
			l->addr.b[k] = (uint8_t)rnd();
		if (rnd() % 2)
			memset(l->addr.b + 8, 0, 4 + rnd() % 4);
		l->verif = (uint8_t)rnd();
		l->flags = (uint8_t)(rnd() % 3 ? rnd() % 4 : rnd());
		l->priority = (uint8_t)(rnd() % 2 ? rnd() % 10 : rnd());
		l->weight = (uint8_t)(rnd() % 2 ? 255 : rnd());
		s->verified[i] = (uint8_t)(rnd() % 2);
	}
}

static void test_line_matches_reference(void **state)
{
	(void)state;
	static char want[STATE_LINE_MAX], got[STATE_LINE_MAX];
	for (int i = 0; i < 50000; i++) {
		struct ctl_state_ctx s;
		random_ctx(&s);
		int wn = (int)state_line_ref(&s, want, sizeof want);
		int gn = state_line_format(&s, got, sizeof got);
		if (gn != wn || strcmp(want, got) != 0)
			fail_msg("line:\n want %s\n got  %s", want, got);
	}
}

/* Tags wider than the 12 digits of the format keep every digit, as %012 does. */
static void test_line_wide_tag(void **state)
{
	(void)state;
	struct ctl_state_ctx s;
	char want[256], got[256];
	memset(&s, 0, sizeof s);
	static const uint64_t tags[] = { 0, 0x1000000000000ULL, UINT64_MAX, 0xabcdef0123456ULL };
	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
		s.own_tag = tags[i];
		int wn = (int)state_line_ref(&s, want, sizeof want);
		assert_int_equal(state_line_format(&s, got, sizeof got), wn);
		assert_string_equal(got, want);
	}
}

/* Every buffer too small by any amount: -1, an empty string, nothing past the end. */
static void test_line_space(void **state)
{
	(void)state;
	for (int r = 0; r < 20; r++) {
		struct ctl_state_ctx s;
		random_ctx(&s);
		s.npeer = SHIM6_MAX_LOCATORS - (size_t)(r % 3);
		char full[STATE_LINE_MAX];
		int len = state_line_format(&s, full, sizeof full);
		assert_true(len > 0);
		for (size_t cap = 0; cap <= (size_t)len + 1; cap++) {
			char buf[STATE_LINE_MAX + 16];
			memset(buf, 0x5a, sizeof buf);
			int n = state_line_format(&s, buf, cap);
			for (size_t k = cap; k < sizeof buf; k++)
				if ((unsigned char)buf[k] != 0x5a)
					fail_msg("cap %zu: octet %zu written", cap, k);
			if (cap <= (size_t)len) {
				assert_int_equal(n, -1);
				if (cap)
					assert_int_equal(buf[0], 0);
			} else {
				assert_int_equal(n, len);
				assert_memory_equal(buf, full, (size_t)len + 1);
			}
		}
	}
}

/* What is written reads back as the same context. */
static void test_line_parses_back(void **state)
{
	(void)state;
	static char line[STATE_LINE_MAX];
	for (int i = 0; i < 20000; i++) {
		struct ctl_state_ctx s, back;
		random_ctx(&s);
		int n = state_line_format(&s, line, sizeof line);
		assert_true(n > 0);
		assert_int_equal(state_parse_line(line, (size_t)n, &back), 1);
		assert_true(back.own_tag == s.own_tag);
		assert_int_equal(back.local_gen, s.local_gen);
		assert_int_equal(back.peer_gen, s.peer_gen);
		assert_int_equal(back.initiator, s.initiator);
		assert_int_equal(back.npeer, s.npeer);
		for (size_t k = 0; k < s.npeer; k++) {
			assert_memory_equal(back.peer_locs[k].addr.b, s.peer_locs[k].addr.b, 16);
			assert_int_equal(back.peer_locs[k].verif, s.peer_locs[k].verif);
			assert_int_equal(back.peer_locs[k].flags, s.peer_locs[k].flags);
			assert_int_equal(back.peer_locs[k].priority, s.peer_locs[k].priority);
			assert_int_equal(back.peer_locs[k].weight, s.peer_locs[k].weight);
			assert_int_equal(back.verified[k], s.verified[k]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_every_zero_pattern),
		cmocka_unit_test(test_addr_special_forms),
		cmocka_unit_test(test_line_matches_reference),
		cmocka_unit_test(test_line_wide_tag),
		cmocka_unit_test(test_line_space),
		cmocka_unit_test(test_line_parses_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
