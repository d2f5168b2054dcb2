/* Client EDNS options: COOKIE answered by the ALG itself (RFC 7873, server
 * cookies as RFC 9018), CLIENT-SUBNET passed end to end and never cached
 * (RFC 7871), anything else ignored (RFC 6891); and the TCP connection
 * bound (tcp_rejected). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fake.h"

static const struct fake_rrset zone[] = {
	{ "peer.ext.", LDNS_RR_TYPE_AAAA, 0, "peer.ext. 300 IN AAAA 2001:db8:30::22", false },
	{ "peer.ext.", 65300, 0, "peer.ext. 200 IN TYPE65300 \\# 16 fd000002000200010000000000000022", false },
	{ "plain.ext.", LDNS_RR_TYPE_TXT, 0, "plain.ext. 300 IN TXT \"hello\"", false },
	/* 12 + 14 + 12 + 452 + 11 = 501 octets with EDNS: fits 512 only without a cookie */
	{ "long.ext.", LDNS_RR_TYPE_TXT, 0,
	  "long.ext. 300 IN TXT \""
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" \""
	  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	  "bbbbbbbbbbbbbbbbbbbb\"", false },
};

struct env {
	struct dnsalg_opts o;
	struct dnsalg_counters cnt;
	struct dnsalg_ctx x;
	struct fake_up f;
	struct dnsalg_upstream_ops up;
	struct dnsalg_client cl;
	uint8_t q[512], out[65535];
	int n;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);
	fake_alg_init(&e->x, &e->o, &e->cnt, &e->f, &e->up, zone, sizeof zone / sizeof zone[0]);
	uint8_t k[DNSALG_COOKIE_SECRET];
	for (int i = 0; i < DNSALG_COOKIE_SECRET; i++)
		k[i] = (uint8_t)(0x40 + i);
	dnsalg_cookie_set(&e->x.cookie, k, 0, 0);
	inet_pton(AF_INET6, "fd00:1:1:1::11", &e->cl.addr);
	e->cl.wall_s = 1700000000;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	fake_alg_free(&e->x);
	free(e);
	return 0;
}

static size_t q_with(struct env *e, const char *name, uint16_t type, int edns, bool do_bit,
		     const uint8_t *opts, size_t ol)
{
	size_t n = mkquery(e->q, sizeof e->q, 0x5151, name, type, DNSALG_F_RD, edns, do_bit);
	if (ol)
		n = fake_add_opts(e->q, n, sizeof e->q, opts, ol);
	assert_true(n > 0);
	return n;
}

static void run(struct env *e, size_t ql, bool tcp)
{
	e->n = dnsalg_handle(&e->x, &e->up, &e->cl, e->q, ql, tcp, 1000, e->out,
			     tcp ? sizeof e->out : DNSALG_UDP_OUT_MAX);
	assert_true(e->n >= 12);
}

struct seen { int cookie_len, ecs_len, other; uint8_t cookie[40], ecs[20]; };
static void note(void *arg, uint16_t code, const uint8_t *d, uint16_t len)
{
	struct seen *s = arg;
	if (code == DNSALG_OPT_COOKIE && len <= 40) {
		s->cookie_len = len;
		memcpy(s->cookie, d, len);
	} else if (code == DNSALG_OPT_ECS && len <= 20) {
		s->ecs_len = len;
		memcpy(s->ecs, d, len);
	} else if (code != DNSALG_OPT_EDE) {
		s->other++;
	}
}
static struct seen answer_opts(struct env *e)
{
	struct seen s = { -1, -1, 0, { 0 }, { 0 } };
	fake_opts(e->out, (size_t)e->n, note, &s);
	return s;
}

static void siphash_and_rfc9018_vectors(void **state)
{
	(void)state;
	/* SipHash paper, Appendix A: key 00..0f, message 00..0e */
	uint8_t k[16], m[15];
	for (int i = 0; i < 16; i++)
		k[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		m[i] = (uint8_t)i;
	assert_true(dnsalg_siphash24(k, m, sizeof m) == 0xa129ca6149be45e5ULL);
	/* RFC 9018 Appendix A.1: client 198.51.100.100, 5 June 2019 10:53:05 */
	static const uint8_t secret[16] = { 0xe5, 0xe9, 0x73, 0xe5, 0xa6, 0xb2, 0xa4, 0x3f,
					    0x48, 0xe7, 0xdc, 0x84, 0x9e, 0x37, 0xbf, 0xcf };
	static const uint8_t cc[8] = { 0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57 };
	static const uint8_t want[16] = { 0x01, 0x00, 0x00, 0x00, 0x5c, 0xf7, 0x9f, 0x11,
					  0x1f, 0x81, 0x30, 0xc3, 0xee, 0xe2, 0x94, 0x80 };
	struct in6_addr a;
	inet_pton(AF_INET6, "::ffff:198.51.100.100", &a);
	uint8_t sc[16];
	dnsalg_cookie_make(secret, cc, &a, 1559731985, sc);
	assert_memory_equal(sc, want, 16);
}

static void malformed_options_are_formerr(void **state)
{
	struct env *e = *state;
	struct dnsalg_query q;
	static const uint8_t bad[][12] = {
		{ 0, 10, 0, 7, 1, 2, 3, 4, 5, 6, 7 },          /* cookie shorter than 8 */
		{ 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8 },       /* (good, used twice below) */
		{ 0, 8, 0, 7, 0, 3, 24, 0, 1, 2, 3 },          /* ECS family 3 */
		{ 0, 8, 0, 7, 0, 1, 33, 0, 1, 2, 3 },          /* IPv4 /33 */
		{ 0, 8, 0, 7, 0, 1, 24, 8, 1, 2, 3 },          /* scope set in a query */
		{ 0, 8, 0, 8, 0, 1, 24, 0, 1, 2, 3, 0 },       /* an octet past the prefix */
		{ 0, 8, 0, 6, 0, 1, 24, 0, 1, 2 },             /* one octet short */
		{ 0, 8, 0, 7, 0, 1, 23, 0, 1, 2, 3 },          /* a bit set past /23 */
	};
	static const size_t blen[] = { 11, 12, 11, 11, 11, 12, 10, 11 };
	for (size_t i = 0; i < sizeof blen / sizeof blen[0]; i++) {
		if (i == 1)
			continue;
		size_t n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, bad[i], blen[i]);
		if (dnsalg_query_parse(e->q, n, &q) != DNSALG_EFORMERR)
			fail_msg("option %zu accepted", i);
	}
	uint8_t two[24];
	memcpy(two, bad[1], 12);
	memcpy(two + 12, bad[1], 12);
	size_t n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, two, 24);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), DNSALG_EFORMERR); /* two cookies */
	/* option length 9..15 (a server cookie under 8 octets) or over 40 */
	uint8_t c[4 + 41] = { 0, 10, 0, 12 };
	n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, c, 4 + 12);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), DNSALG_EFORMERR);
	c[3] = 41;
	n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, c, 4 + 41);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), DNSALG_EFORMERR);
	c[3] = 40;
	n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, c, 4 + 40);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), 0);
	assert_int_equal(q.cookie_len, 40);
	/* well-formed ECS: IPv6 /48, IPv4 /23, /0 (the client opts out) */
	static const uint8_t ok6[] = { 0, 8, 0, 10, 0, 2, 48, 0, 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34 };
	static const uint8_t ok4[] = { 0, 8, 0, 7, 0, 1, 23, 0, 10, 1, 2 };
	static const uint8_t ok0[] = { 0, 8, 0, 4, 0, 2, 0, 0 };
	n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, ok6, sizeof ok6);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), 0);
	assert_int_equal(q.ecs_len, 10);
	n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, ok4, sizeof ok4);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), 0);
	n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, ok0, sizeof ok0);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), 0);
	assert_int_equal(q.ecs_len, 4);
	/* the FORMERR goes back as an answer */
	n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, bad[0], blen[0]);
	run(e, n, false);
	assert_int_equal(e->out[3] & 0xF, LDNS_RCODE_FORMERR);
	assert_int_equal(e->cnt.formerr, 1);
	assert_int_equal(e->f.queries, 0);
}

static const uint8_t CC[] = { 0, 10, 0, 8, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8 };

static void cookie_answered_here_not_forwarded(void **state)
{
	struct env *e = *state;
	size_t n = q_with(e, "plain.ext.", LDNS_RR_TYPE_TXT, 1400, true, CC, sizeof CC);
	run(e, n, false);
	assert_int_equal(e->f.queries, 1);
	assert_int_equal(e->f.last_cookie_len, -1);     /* not sent upstream */
	assert_int_equal(e->f.last_bufsize, DNSALG_UPSTREAM_BUFSIZE);
	assert_true(e->f.last_do);
	struct seen s = answer_opts(e);
	assert_int_equal(s.cookie_len, 24);
	assert_memory_equal(s.cookie, CC + 4, 8);        /* the client's own */
	assert_int_equal(s.cookie[8], 1);                /* RFC 9018 version */
	uint32_t ts = (uint32_t)s.cookie[12] << 24 | (uint32_t)s.cookie[13] << 16 |
		      (uint32_t)s.cookie[14] << 8 | s.cookie[15];
	assert_int_equal(ts, e->cl.wall_s);
	assert_int_equal(e->cnt.cookie_new, 1);
	/* the rest of EDNS as before: our size, DO echoed, the data intact */
	ldns_pkt *p = parse(e->out, e->n);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_edns_udp_size(p), DNSALG_UDP_OUT_MAX);
	assert_true(ldns_pkt_edns_do(p));
	assert_int_equal(count_type(p, LDNS_RR_TYPE_TXT, NULL, 0), 1);
	ldns_pkt_free(p);

	/* the client comes back with the full cookie: valid, served from the
	 * cache, and given a cookie again */
	uint8_t full[4 + 24] = { 0, 10, 0, 24 };
	memcpy(full + 4, s.cookie, 24);
	e->cl.wall_s += 600;
	n = q_with(e, "plain.ext.", LDNS_RR_TYPE_TXT, 1400, true, full, sizeof full);
	run(e, n, false);
	assert_int_equal(e->f.queries, 1);
	assert_int_equal(e->cnt.cache_hits, 1);
	assert_int_equal(e->cnt.cookie_valid, 1);
	struct seen s2 = answer_opts(e);
	assert_int_equal(s2.cookie_len, 24);
	assert_memory_equal(s2.cookie, CC + 4, 8);
	/* from another address, or an hour and more later: not ours any more */
	e->cl.addr.s6_addr[15] ^= 1;
	run(e, n, false);
	assert_int_equal(e->cnt.cookie_invalid, 1);
	e->cl.addr.s6_addr[15] ^= 1;
	e->cl.wall_s += 3600;
	run(e, n, true);
	assert_int_equal(e->cnt.cookie_invalid, 2);
	assert_int_equal(answer_opts(e).cookie_len, 24);  /* over TCP too */
	/* a query without EDNS gets no OPT at all */
	n = mkquery(e->q, sizeof e->q, 7, "plain.ext.", LDNS_RR_TYPE_TXT, 0, -1, false);
	run(e, n, false);
	assert_int_equal(dnsalg_wire_opt_at(e->out, (size_t)e->n), -1);
}

static void cookie_that_does_not_fit_gives_tc(void **state)
{
	struct env *e = *state;
	size_t n = q_with(e, "long.ext.", LDNS_RR_TYPE_TXT, 512, false, NULL, 0);
	run(e, n, false);
	assert_true(e->n > 512 - 28 && e->n <= 512);
	assert_false(e->out[2] & 0x02);
	n = q_with(e, "long.ext.", LDNS_RR_TYPE_TXT, 512, false, CC, sizeof CC);
	run(e, n, false);
	assert_true(e->n <= 512);
	assert_true(e->out[2] & 0x02);                    /* TC: retry over TCP */
	assert_int_equal(answer_opts(e).cookie_len, 24);
	run(e, n, true);
	assert_false(e->out[2] & 0x02);
	assert_int_equal(answer_opts(e).cookie_len, 24);
}

static const uint8_t ECS6[] = { 0, 8, 0, 10, 0, 2, 48, 0, 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34 };

static void ecs_forwarded_echoed_not_cached(void **state)
{
	struct env *e = *state;
	e->f.echo_ecs = true;
	e->f.ecs_scope = 40;
	size_t n = q_with(e, "peer.ext.", LDNS_RR_TYPE_AAAA, 1232, false, ECS6, sizeof ECS6);
	run(e, n, false);
	/* AAAA asked with the client's subnet, the ULID record without it */
	assert_int_equal(e->f.queries, 2);
	assert_int_equal(e->cnt.ecs_forwarded, 1);
	assert_int_equal(e->f.last_ecs_len, -1);          /* the ULID query, last */
	struct seen s = answer_opts(e);
	assert_int_equal(s.ecs_len, 10);
	assert_memory_equal(s.ecs, ECS6 + 4, 3);
	assert_int_equal(s.ecs[3], 40);                   /* the upstream's scope */
	assert_memory_equal(s.ecs + 4, ECS6 + 8, 6);
	ldns_pkt *p = parse(e->out, e->n);
	char a[64];
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, a, sizeof a), 1);
	assert_string_equal(a, "fd00:2:2:1::22");         /* still rewritten */
	ldns_pkt_free(p);
	/* not cached: the same question goes upstream again */
	run(e, n, false);
	assert_int_equal(e->f.queries, 4);
	assert_int_equal(e->cnt.cache_hits, 0);
	/* and a plain query is not answered from an ECS answer either */
	n = q_with(e, "peer.ext.", LDNS_RR_TYPE_AAAA, 1232, false, NULL, 0);
	run(e, n, false);
	assert_int_equal(e->f.queries, 6);
	assert_int_equal(answer_opts(e).ecs_len, -1);
	run(e, n, false);                                 /* that one is cached */
	assert_int_equal(e->f.queries, 6);
}

static void ecs_for_another_subnet_is_dropped(void **state)
{
	struct env *e = *state;
	e->f.echo_ecs = true;
	e->f.ecs_alter = true;
	size_t n = q_with(e, "plain.ext.", LDNS_RR_TYPE_TXT, 1232, false, ECS6, sizeof ECS6);
	run(e, n, false);
	assert_int_equal(e->out[3] & 0xF, LDNS_RCODE_SERVFAIL);
	assert_int_equal(e->cnt.ecs_mismatch, 1);
	/* an upstream that does not do ECS: answer passes without one */
	e->f.echo_ecs = false;
	run(e, n, false);
	assert_int_equal(e->out[3] & 0xF, LDNS_RCODE_NOERROR);
	assert_int_equal(answer_opts(e).ecs_len, -1);
}

static void other_options_ignored_both_ways(void **state)
{
	struct env *e = *state;
	/* NSID request, padding and a private-use option from the client */
	static const uint8_t junk[] = { 0, 3, 0, 0, 0, 12, 0, 2, 0, 0, 0xfd, 0xe9, 0, 2, 0xab, 0xcd };
	/* the upstream's own cookie, NSID, ECS nobody asked for, and an EDE */
	static const uint8_t up[] = { 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
				      0, 3, 0, 2, 'n', 's',
				      0, 8, 0, 6, 0, 1, 16, 0, 10, 1,
				      0, 15, 0, 2, 0, 18 };
	e->f.ans_opts = up;
	e->f.ans_opts_len = sizeof up;
	size_t n = q_with(e, "plain.ext.", LDNS_RR_TYPE_TXT, 1232, false, junk, sizeof junk);
	run(e, n, false);
	assert_int_equal(e->f.last_nopts, 0);             /* nothing forwarded */
	assert_int_equal(e->cnt.edns_opt_ignored, 1);
	struct seen s = answer_opts(e);
	assert_int_equal(s.cookie_len, -1);
	assert_int_equal(s.ecs_len, -1);
	assert_int_equal(s.other, 0);
	ldns_pkt *p = parse(e->out, e->n);
	assert_non_null(p);
	assert_int_equal(count_type(p, LDNS_RR_TYPE_TXT, NULL, 0), 1);
	ldns_pkt_free(p);
	/* the EDE stays: it explains the answer */
	long at = dnsalg_wire_opt_at(e->out, (size_t)e->n);
	assert_true(at > 0);
	assert_int_equal(e->out[at + 8] << 8 | e->out[at + 9], 6);
	assert_int_equal(e->out[at + 11], DNSALG_OPT_EDE);
}

/* A client without EDNS gets no OPT, whatever options the upstream's answer
 * held; under ASan this also checks their memory is released. */
static void upstream_options_to_a_client_without_edns(void **state)
{
	struct env *e = *state;
	static const uint8_t up[] = { 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 15, 0, 2, 0, 18 };
	e->f.ans_opts = up;
	e->f.ans_opts_len = sizeof up;
	size_t n = mkquery(e->q, sizeof e->q, 9, "plain.ext.", LDNS_RR_TYPE_TXT, DNSALG_F_RD, -1, false);
	run(e, n, false);
	assert_int_equal(e->f.queries, 1);
	assert_int_equal(e->out[3] & 0xF, LDNS_RCODE_NOERROR);
	assert_int_equal(dnsalg_wire_opt_at(e->out, (size_t)e->n), -1);
	ldns_pkt *p = parse(e->out, e->n);
	assert_non_null(p);
	assert_int_equal(count_type(p, LDNS_RR_TYPE_TXT, NULL, 0), 1);
	assert_int_equal(ldns_pkt_arcount(p), 0);
	ldns_pkt_free(p);
}

static void tcp_bound_rejects_and_counts(void **state)
{
	struct env *e = *state;
	struct dnsalg_tcpq t;
	assert_int_equal(dnsalg_tcpq_init(&t, 3), 0);
	for (int fd = 10; fd < 13; fd++)
		assert_int_equal(dnsalg_tcpq_offer(&t, fd, &e->cnt), 0);
	assert_int_equal(dnsalg_tcpq_offer(&t, 13, &e->cnt), DNSALG_EFULL);
	assert_int_equal(e->cnt.tcp_rejected, 1);
	/* taken by a thread is still open: the bound holds until it is done */
	assert_int_equal(dnsalg_tcpq_take(&t), 10);
	assert_int_equal(dnsalg_tcpq_offer(&t, 14, &e->cnt), DNSALG_EFULL);
	assert_int_equal(e->cnt.tcp_rejected, 2);
	dnsalg_tcpq_done(&t);
	assert_int_equal(dnsalg_tcpq_offer(&t, 15, &e->cnt), 0);
	assert_int_equal(dnsalg_tcpq_take(&t), 11);
	assert_int_equal(dnsalg_tcpq_take(&t), 12);
	assert_int_equal(dnsalg_tcpq_take(&t), 15);
	assert_int_equal(dnsalg_tcpq_take(&t), -1);
	for (int i = 0; i < 3; i++)
		dnsalg_tcpq_done(&t);
	for (int fd = 20; fd < 23; fd++)
		assert_int_equal(dnsalg_tcpq_offer(&t, fd, &e->cnt), 0);
	assert_int_equal(e->cnt.tcp_rejected, 2);
	dnsalg_tcpq_free(&t);
}

/* Option edges RFC 7871 §6 and RFC 7873 §5.2.2 draw: a source prefix one
 * past the family's width (with the octets it would need: 21 of them
 * overrun the option's store), a second CLIENT-SUBNET, a server cookie one
 * octet short of 8, and an option running one octet past the OPT record. */
static void option_edges_are_formerr(void **state)
{
	struct env *e = *state;
	struct dnsalg_query q;
	static const uint8_t v4_33[] = { 0, 8, 0, 9, 0, 1, 33, 0, 10, 1, 2, 3, 0 };
	static const uint8_t v4_32[] = { 0, 8, 0, 8, 0, 1, 32, 0, 10, 1, 2, 3 };
	static const uint8_t v6_129[] = { 0, 8, 0, 21, 0, 2, 129, 0, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0,
					  0, 0, 0, 0, 0, 0, 0, 1, 0 };
	static const uint8_t v6_128[] = { 0, 8, 0, 20, 0, 2, 128, 0, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0,
					  0, 0, 0, 0, 0, 0, 0, 1 };
	size_t n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, v4_32, sizeof v4_32);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), 0);
	n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, v4_33, sizeof v4_33);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), DNSALG_EFORMERR);
	n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, v6_128, sizeof v6_128);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), 0);
	assert_int_equal(q.ecs_len, 20);
	n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, v6_129, sizeof v6_129);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), DNSALG_EFORMERR);
	/* two CLIENT-SUBNET options */
	uint8_t two[2 * sizeof v4_32];
	memcpy(two, v4_32, sizeof v4_32);
	memcpy(two + sizeof v4_32, v4_32, sizeof v4_32);
	n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, two, sizeof two);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), DNSALG_EFORMERR);
	/* a cookie of 15 octets is refused, 16 (an 8-octet server cookie) taken */
	uint8_t c[4 + 16] = { 0, 10, 0, 15 };
	n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, c, 4 + 15);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), DNSALG_EFORMERR);
	c[3] = 16;
	n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, c, 4 + 16);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), 0);
	assert_int_equal(q.cookie_len, 16);
	/* an option claiming 2 octets with 1 left in the OPT record */
	static const uint8_t pad[] = { 0, 12, 0, 2, 0 };
	n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, pad, sizeof pad);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), DNSALG_EFORMERR);
}

/* A FORMERR for a query whose question parsed keeps EDNS in the answer
 * (RFC 6891 §7): the client learns our size and that we speak EDNS. */
static void formerr_after_the_question_keeps_opt(void **state)
{
	struct env *e = *state;
	static const uint8_t bad[] = { 0, 10, 0, 7, 1, 2, 3, 4, 5, 6, 7 };
	size_t n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, bad, sizeof bad);
	run(e, n, false);
	assert_int_equal(e->out[3] & 0xF, LDNS_RCODE_FORMERR);
	assert_int_equal(e->out[5], 1);
	assert_true(dnsalg_wire_opt_at(e->out, (size_t)e->n) > 0);
}

/* A query with CLIENT-SUBNET is never answered from the cache, even when
 * the same question without it is there: the answer may depend on it. */
static void ecs_query_bypasses_cache(void **state)
{
	struct env *e = *state;
	size_t n = q_with(e, "plain.ext.", LDNS_RR_TYPE_TXT, 1232, false, NULL, 0);
	run(e, n, false);
	run(e, n, false);
	assert_int_equal(e->f.queries, 1);
	assert_int_equal(e->cnt.cache_hits, 1);
	n = q_with(e, "plain.ext.", LDNS_RR_TYPE_TXT, 1232, false, ECS6, sizeof ECS6);
	run(e, n, false);
	assert_int_equal(e->f.queries, 2);
	assert_int_equal(e->cnt.cache_hits, 1);
}

/* The answer size a query allows, at each edge: under 512 means 512, the
 * largest is ours; and an error answer that exactly fills the buffer fits. */
static void udp_limit_and_exact_fit(void **state)
{
	struct env *e = *state;
	struct dnsalg_query q;
	size_t n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 511, false, NULL, 0);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), 0);
	assert_int_equal(dnsalg_query_udp_limit(&q), 512);
	n = q_with(e, "a.b.", LDNS_RR_TYPE_A, DNSALG_UDP_OUT_MAX + 1, false, NULL, 0);
	assert_int_equal(dnsalg_query_parse(e->q, n, &q), 0);
	assert_int_equal(dnsalg_query_udp_limit(&q), DNSALG_UDP_OUT_MAX);
	size_t need = 12 + q.question_len + 11;
	assert_int_equal(dnsalg_wire_empty_answer(&q, e->q, LDNS_RCODE_SERVFAIL, false, e->out, need),
			 (int)need);
	assert_int_equal(dnsalg_wire_empty_answer(&q, e->q, LDNS_RCODE_SERVFAIL, false, e->out, need - 1),
			 DNSALG_EFULL);
}

/* RFC 9018 §4.3: a server cookie is 16 octets and counts from 300 s ahead
 * to an hour old; a 32-octet one is never taken for it. */
static void cookie_fresh_edges(void **state)
{
	(void)state;
	const uint32_t ts = 1700000000;
	struct dnsalg_query q;
	memset(&q, 0, sizeof q);
	q.cookie_len = 24;
	q.cookie[8] = 1;
	q.cookie[12] = (uint8_t)(ts >> 24), q.cookie[13] = (uint8_t)(ts >> 16);
	q.cookie[14] = (uint8_t)(ts >> 8), q.cookie[15] = (uint8_t)ts;
	assert_true(dnsalg_cookie_fresh(&q, ts - 300));
	assert_false(dnsalg_cookie_fresh(&q, ts - 301));
	assert_true(dnsalg_cookie_fresh(&q, ts + DNSALG_COOKIE_WINDOW_S));
	assert_false(dnsalg_cookie_fresh(&q, ts + DNSALG_COOKIE_WINDOW_S + 1));
	q.cookie_len = 40;
	assert_false(dnsalg_cookie_fresh(&q, ts));
}

/* RFC 7871 §7.3: the echo must carry the family, source prefix length and
 * address as sent.  One with another prefix length, or an octet more, is
 * not our subnet's answer. */
static void ecs_echo_must_match_exactly(void **state)
{
	struct env *e = *state;
	static const uint8_t other_len[] = { 0, 8, 0, 10, 0, 2, 40, 0, 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34 };
	static const uint8_t longer[] = { 0, 8, 0, 11, 0, 2, 48, 0, 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0 };
	size_t n = q_with(e, "plain.ext.", LDNS_RR_TYPE_TXT, 1232, false, ECS6, sizeof ECS6);
	e->f.ans_opts = other_len;
	e->f.ans_opts_len = sizeof other_len;
	run(e, n, false);
	assert_int_equal(e->out[3] & 0xF, LDNS_RCODE_SERVFAIL);
	assert_int_equal(e->cnt.ecs_mismatch, 1);
	e->f.ans_opts = longer;
	e->f.ans_opts_len = sizeof longer;
	run(e, n, false);
	assert_int_equal(e->out[3] & 0xF, LDNS_RCODE_SERVFAIL);
	assert_int_equal(e->cnt.ecs_mismatch, 2);
	e->f.ans_opts = ECS6;                 /* the same, scope 0: taken */
	e->f.ans_opts_len = sizeof ECS6;
	run(e, n, false);
	assert_int_equal(e->out[3] & 0xF, LDNS_RCODE_NOERROR);
	assert_int_equal(e->cnt.ecs_mismatch, 2);
}

/* The OPT record is found only in a message that walks to its last octet. */
static void opt_at_needs_the_whole_message(void **state)
{
	struct env *e = *state;
	size_t n = q_with(e, "a.b.", LDNS_RR_TYPE_A, 1232, false, NULL, 0);
	assert_int_equal(dnsalg_wire_opt_at(e->q, n), (long)n - 10);
	e->q[n] = 0;
	assert_int_equal(dnsalg_wire_opt_at(e->q, n + 1), -1);
}

/* A cookie with an 8-octet server cookie is not a new client's: it is
 * checked, and not being RFC 9018's 16 octets, counted invalid. */
static void short_server_cookie_counted_invalid(void **state)
{
	struct env *e = *state;
	uint8_t c[4 + 16] = { 0, 10, 0, 16, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 1 };
	size_t n = q_with(e, "plain.ext.", LDNS_RR_TYPE_TXT, 1232, false, c, sizeof c);
	run(e, n, false);
	assert_int_equal(e->cnt.cookie_invalid, 1);
	assert_int_equal(e->cnt.cookie_new, 0);
	assert_int_equal(answer_opts(e).cookie_len, 24);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(siphash_and_rfc9018_vectors),
		cmocka_unit_test_setup_teardown(malformed_options_are_formerr, setup, teardown),
		cmocka_unit_test_setup_teardown(cookie_answered_here_not_forwarded, setup, teardown),
		cmocka_unit_test_setup_teardown(cookie_that_does_not_fit_gives_tc, setup, teardown),
		cmocka_unit_test_setup_teardown(ecs_forwarded_echoed_not_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(ecs_for_another_subnet_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(other_options_ignored_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(upstream_options_to_a_client_without_edns, setup, teardown),
		cmocka_unit_test_setup_teardown(tcp_bound_rejects_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(option_edges_are_formerr, setup, teardown),
		cmocka_unit_test_setup_teardown(formerr_after_the_question_keeps_opt, setup, teardown),
		cmocka_unit_test_setup_teardown(ecs_query_bypasses_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(udp_limit_and_exact_fit, setup, teardown),
		cmocka_unit_test(cookie_fresh_edges),
		cmocka_unit_test_setup_teardown(ecs_echo_must_match_exactly, setup, teardown),
		cmocka_unit_test_setup_teardown(opt_at_needs_the_whole_message, setup, teardown),
		cmocka_unit_test_setup_teardown(short_server_cookie_counted_invalid, setup, teardown),
	};
	return cmocka_run_group_tests_name("dnsalg_edns", t, NULL, NULL);
}
