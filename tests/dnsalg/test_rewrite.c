/* The AAAA path end to end without sockets: fake upstream, fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake.h"

#define ULID_HEX "\\# 16 fd000002000200010000000000000022"
static const struct fake_rrset zone[] = {
	{ "peer.ext.", LDNS_RR_TYPE_AAAA, 0,
	  "peer.ext. 300 IN AAAA 2001:db8:30::22\npeer.ext. 120 IN AAAA 2001:db8:40::22", false },
	{ "peer.ext.", 65300, 0, "peer.ext. 200 IN TYPE65300 " ULID_HEX, false },
	{ "www.ext.", LDNS_RR_TYPE_AAAA, 0,
	  "www.ext. 600 IN CNAME peer.ext.\npeer.ext. 300 IN AAAA 2001:db8:30::22", false },
	{ "www.ext.", 65300, 0,
	  "www.ext. 600 IN CNAME peer.ext.\npeer.ext. 90 IN TYPE65300 " ULID_HEX, false },
	{ "plain.ext.", LDNS_RR_TYPE_AAAA, 0, "plain.ext. 300 IN AAAA 2001:db8:50::1", false },
	{ "plain.ext.", 65300, 0, "", false },
	{ "bad.ext.", LDNS_RR_TYPE_AAAA, 0, "bad.ext. 300 IN AAAA 2001:db8:50::2", false },
	{ "bad.ext.", 65300, 0, "bad.ext. 300 IN TYPE65300 \\# 4 01020304", false },
	{ "signed.ext.", LDNS_RR_TYPE_AAAA, 0,
	  "signed.ext. 300 IN AAAA 2001:db8:30::44\n"
	  "signed.ext. 300 IN RRSIG AAAA 13 2 300 20300101000000 20200101000000 1234 ext. "
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", false },
	{ "signed.ext.", 65300, 0, "signed.ext. 300 IN TYPE65300 " ULID_HEX, false },
	{ "slow.ext.", LDNS_RR_TYPE_AAAA, -1, "", false },
	{ "slowulid.ext.", LDNS_RR_TYPE_AAAA, 0, "slowulid.ext. 300 IN AAAA 2001:db8:50::3", false },
	{ "slowulid.ext.", 65300, -1, "", false },
	{ "gone.ext.", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NXDOMAIN, "", false },
	{ "fail.ext.", LDNS_RR_TYPE_AAAA, LDNS_RCODE_SERVFAIL, "", false },
	{ "plain.ext.", LDNS_RR_TYPE_TXT, 0, "plain.ext. 300 IN TXT \"hello\"", false },
};

struct env {
	struct dnsalg_opts o;
	struct dnsalg_counters cnt;
	struct dnsalg_ctx x;
	struct fake_up f;
	struct dnsalg_upstream_ops up;
	struct push_rec push;
	uint8_t q[512], out[65535];
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);
	fake_alg_init(&e->x, &e->o, &e->cnt, &e->f, &e->up, zone, sizeof zone / sizeof zone[0]);
	e->x.push.push = fake_push;
	e->x.push.arg = &e->push;
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

static ldns_pkt *ask(struct env *e, const char *name, uint16_t type, uint16_t flags, int edns,
		     bool do_bit, bool tcp, uint64_t now)
{
	size_t ql = mkquery(e->q, sizeof e->q, 0x1234, name, type, flags, edns, do_bit);
	static const struct dnsalg_client cl = { IN6ADDR_LOOPBACK_INIT, 1700000000 };
	int n = dnsalg_handle(&e->x, &e->up, &cl, e->q, ql, tcp, now, e->out, sizeof e->out);
	ldns_pkt *p = parse(e->out, n);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_id(p), 0x1234);
	assert_true(ldns_pkt_qr(p));
	return p;
}

static void ulid_name_gets_cmula_with_min_ttl(void **state)
{
	struct env *e = *state;
	ldns_pkt *p = ask(e, "peer.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 1000);
	char a[64];
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, a, sizeof a), 1);
	assert_string_equal(a, "fd00:2:2:1::22");
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), 120);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
	/* the locators went to control, once */
	assert_int_equal(e->push.n, 1);
	assert_non_null(strstr(e->push.last, "\"cmd\":\"peer-locators\",\"ulid\":\"fd00:2:2:1::22\","
				     "\"locators\":[\"2001:db8:30::22\",\"2001:db8:40::22\"],\"ttl\":120,"
				     "\"name\":\"peer.ext.\""));
	struct dnsalg_ulid_entry u;
	struct in6_addr ulid;
	inet_pton(AF_INET6, "fd00:2:2:1::22", &ulid);
	assert_int_equal(dnsalg_ucache_get(e->x.ucache, &ulid, 1000, &u), 0);
	assert_int_equal(u.n_locators, 2);
	assert_int_equal(e->cnt.rewritten, 1);
}

static void cname_chain_rewritten_at_target(void **state)
{
	struct env *e = *state;
	ldns_pkt *p = ask(e, "www.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, 1232, false, false, 0);
	char a[64];
	assert_int_equal(count_type(p, LDNS_RR_TYPE_CNAME, NULL, 0), 1);
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, a, sizeof a), 1);
	assert_string_equal(a, "fd00:2:2:1::22");
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 1)), 90);
	/* EDNS client: marked as synthesised (EDE 4) */
	ldns_edns_option_list *l = ldns_pkt_edns_get_option_list(p);
	assert_non_null(l);
	assert_int_equal(ldns_edns_get_code(ldns_edns_option_list_get_option(l, 0)), LDNS_EDNS_EDE);
	ldns_pkt_free(p);
}

static void no_ulid_passes_unchanged(void **state)
{
	struct env *e = *state;
	ldns_pkt *p = ask(e, "plain.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 0);
	char a[64];
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, a, sizeof a), 1);
	assert_string_equal(a, "2001:db8:50::1");
	assert_int_equal(e->push.n, 0);
	assert_int_equal(e->cnt.no_ulid_passthrough, 1);
	ldns_pkt_free(p);
	p = ask(e, "bad.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 0);
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, a, sizeof a), 1);
	assert_string_equal(a, "2001:db8:50::2"); /* 4-octet "ULID": ignored */
	ldns_pkt_free(p);
}

static void other_types_untouched(void **state)
{
	struct env *e = *state;
	ldns_pkt *p = ask(e, "plain.ext.", LDNS_RR_TYPE_TXT, DNSALG_F_RD, -1, false, false, 0);
	assert_int_equal(count_type(p, LDNS_RR_TYPE_TXT, NULL, 0), 1);
	assert_int_equal(e->f.queries, 1); /* no ULID query for TXT */
	ldns_pkt_free(p);
}

static void cd_means_no_rewrite(void **state)
{
	struct env *e = *state;
	ldns_pkt *p = ask(e, "peer.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD | DNSALG_F_CD, 1232, true,
			  false, 0);
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, NULL, 0), 2);
	assert_true(ldns_pkt_cd(p));
	assert_true(e->f.last_cd);
	assert_int_equal(e->f.queries, 1);
	assert_int_equal(e->push.n, 0);
	ldns_pkt_free(p);
}

static void do_signed_rewrite_strip(void **state)
{
	struct env *e = *state;
	ldns_pkt *p = ask(e, "signed.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, 1232, true, false, 0);
	char a[64];
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, a, sizeof a), 1);
	assert_string_equal(a, "fd00:2:2:1::22");
	assert_int_equal(count_type(p, LDNS_RR_TYPE_RRSIG, NULL, 0), 0);
	assert_true(ldns_pkt_edns_do(p));
	assert_false(ldns_pkt_ad(p));
	ldns_edns_option_list *l = ldns_pkt_edns_get_option_list(p);
	assert_non_null(l);
	ldns_edns_option *o = ldns_edns_option_list_get_option(l, 0);
	assert_int_equal(ldns_edns_get_code(o), LDNS_EDNS_EDE);
	const uint8_t *d = ldns_edns_get_data(o);
	assert_int_equal(d[0] << 8 | d[1], 4);
	assert_int_equal(e->cnt.dnssec_stripped, 1);
	ldns_pkt_free(p);
}

static void do_signed_passthrough_policy(void **state)
{
	struct env *e = *state;
	e->o.dnssec = DNSALG_DNSSEC_PASSTHROUGH;
	ldns_pkt *p = ask(e, "signed.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, 1232, true, false, 0);
	char a[64];
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, a, sizeof a), 1);
	assert_string_equal(a, "2001:db8:30::44");
	assert_int_equal(count_type(p, LDNS_RR_TYPE_RRSIG, NULL, 0), 1);
	assert_int_equal(e->cnt.dnssec_passthrough, 1);
	ldns_pkt_free(p);
	/* without DO the same policy still rewrites (nothing signed is shown) */
	p = ask(e, "signed.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 0);
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, a, sizeof a), 1);
	assert_string_equal(a, "fd00:2:2:1::22");
	ldns_pkt_free(p);
}

static void timeout_is_servfail_and_not_cached(void **state)
{
	struct env *e = *state;
	ldns_pkt *p = ask(e, "slow.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 0);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	assert_int_equal(e->cnt.upstream_timeouts, 1);
	ldns_pkt_free(p);
	/* ULID query timing out: AAAA unchanged, not cached */
	p = ask(e, "slowulid.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 0);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, NULL, 0), 1);
	ldns_pkt_free(p);
	unsigned before = e->f.queries;
	p = ask(e, "slowulid.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 0);
	assert_int_equal(e->f.queries, before + 2);
	ldns_pkt_free(p);
}

static void nxdomain_and_servfail_pass(void **state)
{
	struct env *e = *state;
	ldns_pkt *p = ask(e, "gone.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 0);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	p = ask(e, "fail.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 0);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(p);
}

static void cache_serves_then_expires(void **state)
{
	struct env *e = *state;
	ldns_pkt *p = ask(e, "peer.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 10000);
	ldns_pkt_free(p);
	unsigned q0 = e->f.queries;
	p = ask(e, "PEER.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 10000 + 50000);
	assert_int_equal(e->f.queries, q0); /* hit, case-insensitive */
	assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), 70); /* aged 50 s */
	char *qn = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p), 0)));
	assert_string_equal(qn, "PEER.ext."); /* the client's case comes back */
	free(qn);
	ldns_pkt_free(p);
	p = ask(e, "peer.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 10000 + 120000);
	assert_int_equal(e->f.queries, q0 + 2); /* expired at min TTL: asked again */
	ldns_pkt_free(p);
	assert_int_equal(e->push.n, 2); /* ULID mapping expired too: pushed again */
}

static void oversized_udp_is_truncated(void **state)
{
	static struct fake_rrset big[1];
	static char rrs[100 * 48];
	size_t n = 0;
	for (int i = 1; i <= 100; i++)
		n += (size_t)snprintf(rrs + n, sizeof rrs - n, "big.ext. 300 IN AAAA 2001:db8::%x\n", i);
	big[0] = (struct fake_rrset){ "big.ext.", LDNS_RR_TYPE_AAAA, 0, rrs, false };
	struct env *e = *state;
	e->f.set = big;
	e->f.n = 1;
	ldns_pkt *p = ask(e, "big.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 0);
	assert_true(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	p = ask(e, "big.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, true, 0);
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 100);
	ldns_pkt_free(p);
	assert_int_equal(e->cnt.truncated, 1);
}

static void upstream_tc_reaches_client(void **state)
{
	static const struct fake_rrset tc[] = {
		{ "tc.ext.", LDNS_RR_TYPE_TXT, 0, "", true },
	};
	struct env *e = *state;
	e->f.set = tc;
	e->f.n = 1;
	ldns_pkt *p = ask(e, "tc.ext.", LDNS_RR_TYPE_TXT, DNSALG_F_RD, 1232, false, false, 0);
	assert_true(ldns_pkt_tc(p));
	ldns_pkt_free(p);
	assert_int_equal(dnsalg_acache_count(e->x.acache), 0); /* never cache TC */
}

static void push_queue_full_is_counted(void **state)
{
	struct env *e = *state;
	e->push.fail = true;
	ldns_pkt *p = ask(e, "peer.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 0);
	char a[64];
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, a, sizeof a), 1);
	assert_string_equal(a, "fd00:2:2:1::22"); /* the answer does not depend on control */
	assert_int_equal(e->cnt.push_dropped, 1);
	ldns_pkt_free(p);
}

/* An upstream answer that is not for the question asked: wrong ID, not an
 * answer, another question count, type, class or name.  Each is refused
 * as a timeout would be (SERVFAIL), never passed on or cached. */
static int wrong_mode;
static int wrong_query(void *arg, ldns_pkt *q, bool tcp, ldns_pkt **ans)
{
	int r = fake_query(arg, q, tcp, ans);
	if (r < 0)
		return r;
	ldns_rr *qr = ldns_rr_list_rr(ldns_pkt_question(*ans), 0);
	switch (wrong_mode) {
	case 0: ldns_pkt_set_id(*ans, (uint16_t)(ldns_pkt_id(*ans) ^ 1)); break;
	case 1: ldns_pkt_set_qr(*ans, false); break;
	case 2: ldns_pkt_set_qdcount(*ans, 2); break;
	case 3: ldns_rr_set_type(qr, LDNS_RR_TYPE_A); break;
	case 4: ldns_rr_set_class(qr, LDNS_RR_CLASS_CH); break;
	default:
		ldns_rdf_deep_free(ldns_rr_owner(qr));
		ldns_rr_set_owner(qr, ldns_dname_new_frm_str("other.ext."));
	}
	return 0;
}

static void answer_for_another_question_refused(void **state)
{
	struct env *e = *state;
	e->up.query = wrong_query;
	for (wrong_mode = 0; wrong_mode <= 5; wrong_mode++) {
		ldns_pkt *p = ask(e, "plain.ext.", LDNS_RR_TYPE_TXT, DNSALG_F_RD, -1, false, false, 0);
		if (ldns_pkt_get_rcode(p) != LDNS_RCODE_SERVFAIL)
			fail_msg("answer %d taken", wrong_mode);
		assert_int_equal(ldns_pkt_ancount(p), 0);
		ldns_pkt_free(p);
		assert_int_equal(e->cnt.upstream_timeouts, (uint64_t)wrong_mode + 1);
	}
	assert_int_equal(dnsalg_acache_count(e->x.acache), 0);
}

/* A truncated AAAA answer is passed on as it is: no ULID query on a partial
 * locator set, and nothing cached, even with records in it. */
static void truncated_aaaa_not_rewritten_or_cached(void **state)
{
	static const struct fake_rrset tc[] = {
		{ "peer.ext.", LDNS_RR_TYPE_AAAA, 0, "peer.ext. 300 IN AAAA 2001:db8:30::22", true },
		{ "peer.ext.", 65300, 0, "peer.ext. 200 IN TYPE65300 " ULID_HEX, false },
	};
	struct env *e = *state;
	e->f.set = tc;
	e->f.n = 2;
	ldns_pkt *p = ask(e, "peer.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, 1232, false, false, 0);
	char a[64];
	assert_true(ldns_pkt_tc(p));
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, a, sizeof a), 1);
	assert_string_equal(a, "2001:db8:30::22");
	ldns_pkt_free(p);
	assert_int_equal(e->f.queries, 1);
	assert_int_equal(e->cnt.rewritten, 0);
	assert_int_equal(dnsalg_acache_count(e->x.acache), 0);
}

/* Only class IN AAAA is a locator set: a CHAOS AAAA answer passes as is. */
static void aaaa_of_another_class_passes(void **state)
{
	struct env *e = *state;
	size_t ql = mkquery(e->q, sizeof e->q, 0x1234, "peer.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false);
	e->q[ql - 1] = LDNS_RR_CLASS_CH;
	int n = dnsalg_handle(&e->x, &e->up, NULL, e->q, ql, false, 0, e->out, sizeof e->out);
	ldns_pkt *p = parse(e->out, n);
	assert_non_null(p);
	char a[64];
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, a, sizeof a), 2);
	assert_string_equal(a, "2001:db8:30::22");
	ldns_pkt_free(p);
	assert_int_equal(e->f.queries, 1);
	assert_int_equal(e->cnt.rewritten, 0);
	assert_int_equal(e->cnt.other_passthrough, 1);
}

/* NXDOMAIN is cached like NOERROR (RFC 2308), bounded by its SOA. */
static void nxdomain_is_cached(void **state)
{
	static const struct fake_rrset nx[] = {
		{ "nx.ext.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NXDOMAIN,
		  "ext. 300 IN SOA ns.ext. host.ext. 1 7200 900 1209600 60", false },
	};
	struct env *e = *state;
	e->f.set = nx;
	e->f.n = 1;
	ldns_pkt *p = ask(e, "nx.ext.", LDNS_RR_TYPE_TXT, DNSALG_F_RD, -1, false, false, 0);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	p = ask(e, "nx.ext.", LDNS_RR_TYPE_TXT, DNSALG_F_RD, -1, false, false, 30000);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	assert_int_equal(e->f.queries, 1);
	assert_int_equal(e->cnt.cache_hits, 1);
}

#define ULID_N(x) "\\# 16 fd0000020002000100000000000000" x
/* ULID records count only for the AAAA set's owner, from a NOERROR answer,
 * once each, and at most DNSALG_MAX_ULIDS of them; the locator set keeps
 * at most DNSALG_MAX_LOCATORS addresses. */
static void ulid_records_that_count(void **state)
{
	static const struct fake_rrset z[] = {
		{ "own.ext.", LDNS_RR_TYPE_AAAA, 0, "own.ext. 300 IN AAAA 2001:db8:50::1", false },
		{ "own.ext.", 65300, 0, "other.ext. 300 IN TYPE65300 " ULID_N("22"), false },
		{ "nx.ext.", LDNS_RR_TYPE_AAAA, 0, "nx.ext. 300 IN AAAA 2001:db8:50::2", false },
		{ "nx.ext.", 65300, LDNS_RCODE_NXDOMAIN, "nx.ext. 300 IN TYPE65300 " ULID_N("22"), false },
		{ "dup.ext.", LDNS_RR_TYPE_AAAA, 0, "dup.ext. 300 IN AAAA 2001:db8:50::3", false },
		{ "dup.ext.", 65300, 0,
		  "dup.ext. 300 IN TYPE65300 " ULID_N("22") "\ndup.ext. 300 IN TYPE65300 " ULID_N("22")
		  "\ndup.ext. 300 IN TYPE65300 " ULID_N("23"), false },
		{ "five.ext.", LDNS_RR_TYPE_AAAA, 0,
		  "five.ext. 300 IN AAAA 2001:db8:50::1\nfive.ext. 300 IN AAAA 2001:db8:50::2\n"
		  "five.ext. 300 IN AAAA 2001:db8:50::3\nfive.ext. 300 IN AAAA 2001:db8:50::4\n"
		  "five.ext. 300 IN AAAA 2001:db8:50::5\nfive.ext. 300 IN AAAA 2001:db8:50::6\n"
		  "five.ext. 300 IN AAAA 2001:db8:50::7\nfive.ext. 300 IN AAAA 2001:db8:50::8\n"
		  "five.ext. 300 IN AAAA 2001:db8:50::9", false },
		{ "five.ext.", 65300, 0,
		  "five.ext. 300 IN TYPE65300 " ULID_N("31") "\nfive.ext. 300 IN TYPE65300 " ULID_N("32")
		  "\nfive.ext. 300 IN TYPE65300 " ULID_N("33") "\nfive.ext. 300 IN TYPE65300 " ULID_N("34")
		  "\nfive.ext. 300 IN TYPE65300 " ULID_N("35"), false },
	};
	struct env *e = *state;
	e->f.set = z;
	e->f.n = sizeof z / sizeof z[0];
	char a[64];
	ldns_pkt *p = ask(e, "own.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 0);
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, a, sizeof a), 1);
	assert_string_equal(a, "2001:db8:50::1");   /* another name's ULID proves nothing */
	ldns_pkt_free(p);
	p = ask(e, "nx.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 0);
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, a, sizeof a), 1);
	assert_string_equal(a, "2001:db8:50::2");
	ldns_pkt_free(p);
	assert_int_equal(e->cnt.rewritten, 0);
	p = ask(e, "dup.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 0);
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, NULL, 0), 2);
	ldns_pkt_free(p);
	p = ask(e, "five.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false, false, 0);
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, NULL, 0), DNSALG_MAX_ULIDS);
	ldns_pkt_free(p);
	struct dnsalg_ulid_entry u;
	struct in6_addr ulid;
	inet_pton(AF_INET6, "fd00:2:2:1::31", &ulid);
	assert_int_equal(dnsalg_ucache_get(e->x.ucache, &ulid, 0, &u), 0);
	assert_int_equal(u.n_locators, DNSALG_MAX_LOCATORS);
}

/* A push line needs a buffer of 1024 octets at least, whatever it holds. */
static void push_line_buffer_floor(void **state)
{
	(void)state;
	struct dnsalg_ulid_entry u;
	char line[1024];
	memset(&u, 0, sizeof u);
	u.ttl = 1;
	snprintf(u.name, sizeof u.name, "p.ext.");
	assert_true(dnsalg_push_line(&u, line, sizeof line) > 0);
	assert_int_equal(dnsalg_push_line(&u, line, sizeof line - 1), DNSALG_EINVAL);
}

/* A UDP answer of exactly 512 octets goes whole to a client without EDNS;
 * one octet more is truncated. */
static void udp_answer_at_the_512_edge(void **state)
{
	static char rrs[2][600];
	static struct fake_rrset z[2];
	char b255[256];
	memset(b255, 'b', 255);
	b255[255] = 0;
	for (int i = 0; i < 2; i++) {
		char as[222];
		memset(as, 'a', (size_t)(219 + i));
		as[219 + i] = 0;
		snprintf(rrs[i], sizeof rrs[i], "t%d.ext. 300 IN TXT \"%s\" \"%s\"", i, b255, as);
		z[i] = (struct fake_rrset){ i ? "t1.ext." : "t0.ext.", LDNS_RR_TYPE_TXT, 0, rrs[i], false };
	}
	struct env *e = *state;
	e->f.set = z;
	e->f.n = 2;
	size_t ql = mkquery(e->q, sizeof e->q, 0x1234, "t0.ext.", LDNS_RR_TYPE_TXT, DNSALG_F_RD, -1, false);
	int n = dnsalg_handle(&e->x, &e->up, NULL, e->q, ql, false, 0, e->out, sizeof e->out);
	assert_int_equal(n, 512);
	assert_false(e->out[2] & 0x02);
	ql = mkquery(e->q, sizeof e->q, 0x1234, "t1.ext.", LDNS_RR_TYPE_TXT, DNSALG_F_RD, -1, false);
	n = dnsalg_handle(&e->x, &e->up, NULL, e->q, ql, false, 0, e->out, sizeof e->out);
	assert_true(n < 512);
	assert_true(e->out[2] & 0x02);
	assert_int_equal(e->cnt.truncated, 1);
}

int main(void)
{
	const struct CMUnitTest t[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(ulid_name_gets_cmula_with_min_ttl), T(cname_chain_rewritten_at_target),
		T(no_ulid_passes_unchanged), T(other_types_untouched), T(cd_means_no_rewrite),
		T(do_signed_rewrite_strip), T(do_signed_passthrough_policy),
		T(timeout_is_servfail_and_not_cached), T(nxdomain_and_servfail_pass),
		T(cache_serves_then_expires), T(oversized_udp_is_truncated),
		T(upstream_tc_reaches_client), T(push_queue_full_is_counted),
		T(answer_for_another_question_refused), T(truncated_aaaa_not_rewritten_or_cached),
		T(aaaa_of_another_class_passes), T(nxdomain_is_cached),
		T(ulid_records_that_count), T(push_line_buffer_floor),
		T(udp_answer_at_the_512_edge),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
