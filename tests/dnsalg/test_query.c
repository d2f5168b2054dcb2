/* Query parsing, error answers, inside names, Kea leases, control commands. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake.h"

static void parses_plain_and_edns(void **state)
{
	uint8_t w[512];
	struct dnsalg_query q;
	size_t n = mkquery(w, sizeof w, 7, "Example.COM.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false);
	assert_int_equal(dnsalg_query_parse(w, n, &q), 0);
	assert_int_equal(q.id, 7);
	assert_int_equal(q.qtype, LDNS_RR_TYPE_AAAA);
	assert_false(q.edns);
	assert_int_equal(dnsalg_query_udp_limit(&q), 512);
	n = mkquery(w, sizeof w, 8, "a.b.", LDNS_RR_TYPE_TXT, 0, 1232, true);
	assert_int_equal(dnsalg_query_parse(w, n, &q), 0);
	assert_true(q.edns);
	assert_true(q.do_bit);
	assert_int_equal(q.edns_size, 1232);
	assert_int_equal(dnsalg_query_udp_limit(&q), 1232);
	n = mkquery(w, sizeof w, 8, "a.b.", LDNS_RR_TYPE_TXT, 0, 100, false);
	assert_int_equal(dnsalg_query_parse(w, n, &q), 0);
	assert_int_equal(dnsalg_query_udp_limit(&q), 512); /* below 512 means 512 */
}

static void malformed_queries(void **state)
{
	uint8_t w[512];
	struct dnsalg_query q;
	size_t n = mkquery(w, sizeof w, 9, "a.b.", LDNS_RR_TYPE_A, 0, -1, false);
	assert_int_equal(dnsalg_query_parse(w, 11, &q), DNSALG_EDROP);     /* no header */
	assert_int_equal(dnsalg_query_parse(w, n - 1, &q), DNSALG_EFORMERR); /* cut */
	uint8_t x[512];
	memcpy(x, w, n);
	x[2] |= 0x80;                                                       /* QR: an answer */
	assert_int_equal(dnsalg_query_parse(x, n, &q), DNSALG_EDROP);
	memcpy(x, w, n);
	x[5] = 2;                                                           /* QDCOUNT 2 */
	assert_int_equal(dnsalg_query_parse(x, n, &q), DNSALG_EFORMERR);
	memcpy(x, w, n);
	x[2] = 0x28;                                                        /* opcode UPDATE */
	assert_int_equal(dnsalg_query_parse(x, n, &q), DNSALG_ENOTIMP);
	memcpy(x, w, n);
	x[12] = 0xC0;                                                       /* pointer in qname */
	assert_int_equal(dnsalg_query_parse(x, n, &q), DNSALG_EFORMERR);
	memcpy(x, w, n);
	x[n] = 0;                                                           /* trailing byte */
	assert_int_equal(dnsalg_query_parse(x, n + 1, &q), DNSALG_EFORMERR);
	n = mkquery(w, sizeof w, 9, "a.b.", LDNS_RR_TYPE_A, 0, 1232, false);
	w[n - 11 + 6] = 1;                                                  /* EDNS version 1 */
	assert_int_equal(dnsalg_query_parse(w, n, &q), DNSALG_EBADVERS);
}

/* The one name walk the query, cache and EDNS parsers share. */
static void skip_name_bounds(void **state)
{
	const uint8_t plain[] = { 1, 'a', 2, 'b', 'c', 0, 0xff };
	const uint8_t ptr[] = { 0xff, 1, 'a', 0xC0, 0x00 };
	uint8_t w[300];
	(void)state;

	assert_int_equal(dnsalg_wire_skip_name(plain, sizeof plain, 0), 6);
	assert_int_equal(dnsalg_wire_skip_name(plain, sizeof plain, 5), 6);        /* the root */
	assert_int_equal(dnsalg_wire_skip_name(plain, 5, 0), 0);                   /* cut before the root */
	assert_int_equal(dnsalg_wire_skip_name(plain, sizeof plain, sizeof plain), 0);
	assert_int_equal(dnsalg_wire_skip_name(ptr, sizeof ptr, 1), 5);            /* label then pointer, not followed */
	assert_int_equal(dnsalg_wire_skip_name(ptr, sizeof ptr - 1, 1), 0);        /* half a pointer */
	/* label types 0x40 and 0x80, with room behind them to be taken for lengths */
	memset(w, 0, sizeof w);
	w[0] = 0x41;
	assert_int_equal(dnsalg_wire_skip_name(w, sizeof w, 0), 0);
	w[0] = 0x80;
	assert_int_equal(dnsalg_wire_skip_name(w, sizeof w, 0), 0);
	/* 127 one-octet labels and the root fit; 128 labels do not */
	for (unsigned i = 0; i < 127; i++)
		w[2 * i] = 1, w[2 * i + 1] = 'x';
	assert_int_equal(dnsalg_wire_skip_name(w, sizeof w, 0), 255);
	w[254] = 1, w[255] = 'x';
	assert_int_equal(dnsalg_wire_skip_name(w, sizeof w, 0), 0);
}

static void error_answers_via_fast_path(void **state)
{
	struct dnsalg_opts o;
	struct dnsalg_counters c;
	memset(&c, 0, sizeof c);
	dnsalg_opts_defaults(&o);
	struct dnsalg_ctx x = { .o = &o, .cnt = &c };
	struct dnsalg_query q;
	uint8_t w[512], out[4096];
	size_t n = mkquery(w, sizeof w, 0xBEEF, "a.b.", LDNS_RR_TYPE_A, DNSALG_F_RD, -1, false);
	w[5] = 2;
	int r = dnsalg_fast(&x, w, n, false, 0, &q, out, sizeof out);
	assert_int_equal(r, 12);
	assert_int_equal(out[0] << 8 | out[1], 0xBEEF);
	assert_int_equal(out[3] & 0xF, LDNS_RCODE_FORMERR);
	assert_true(out[2] & 0x80);
	assert_int_equal(c.formerr, 1);
	n = mkquery(w, sizeof w, 1, "a.b.", LDNS_RR_TYPE_A, 0, 1232, false);
	w[n - 11 + 6] = 1;
	r = dnsalg_fast(&x, w, n, false, 0, &q, out, sizeof out);
	ldns_pkt *p = parse(out, r);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p) | (ldns_pkt_edns_extended_rcode(p) << 4), 16); /* BADVERS */
	ldns_pkt_free(p);
	n = mkquery(w, sizeof w, 1, "a.b.", LDNS_RR_TYPE_A, 0, -1, false);
	assert_int_equal(dnsalg_fast(&x, w, n, false, 0, &q, out, sizeof out), DNSALG_EMISS);
}

static struct dnsalg_opts *inside_opts(void)
{
	static struct dnsalg_opts o;
	dnsalg_opts_defaults(&o);
	snprintf(o.zone, sizeof o.zone, "site1.example.");
	struct in6_addr a;
	inet_pton(AF_INET6, "fd00:1:1:1::11", &a);
	assert_int_equal(dnsalg_opts_add_host(&o, "h1", &a), 0);
	inet_pton(AF_INET6, "fd00:1:1:1::12", &a);
	assert_int_equal(dnsalg_opts_add_host(&o, "H2.site1.example.", &a), 0);
	assert_int_equal(dnsalg_prefix_parse("fd00:1:1:1::/64", &o.cmula_prefixes[0]), 0);
	o.n_prefixes = 1;
	return &o;
}

static void inside_names_and_ptr(void **state)
{
	struct dnsalg_opts *o = inside_opts();
	struct dnsalg_inside *in = dnsalg_inside_new(o);
	assert_non_null(in);
	uint8_t w[512], out[4096];
	struct dnsalg_query q;
	size_t n = mkquery(w, sizeof w, 3, "H1.Site1.Example.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, 1232, false);
	assert_int_equal(dnsalg_query_parse(w, n, &q), 0);
	int r = dnsalg_inside_answer(in, &q, w, out, sizeof out);
	ldns_pkt *p = parse(out, r);
	assert_non_null(p);
	char a[80];
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, a, sizeof a), 1);
	assert_string_equal(a, "fd00:1:1:1::11");
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), DNSALG_UDP_OUT_MAX);
	ldns_pkt_free(p);
	/* A for an inside name: NOERROR, no data */
	n = mkquery(w, sizeof w, 3, "h2.site1.example.", LDNS_RR_TYPE_A, 0, -1, false);
	assert_int_equal(dnsalg_query_parse(w, n, &q), 0);
	r = dnsalg_inside_answer(in, &q, w, out, sizeof out);
	p = parse(out, r);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_get_rcode(p), 0);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	/* PTR */
	n = mkquery(w, sizeof w, 4, "1.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.1.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa.",
		    LDNS_RR_TYPE_PTR, 0, -1, false);
	assert_int_equal(dnsalg_query_parse(w, n, &q), 0);
	r = dnsalg_inside_answer(in, &q, w, out, sizeof out);
	p = parse(out, r);
	assert_non_null(p);
	assert_int_equal(count_type(p, LDNS_RR_TYPE_PTR, a, sizeof a), 1);
	assert_string_equal(a, "h1.site1.example.");
	ldns_pkt_free(p);
	/* not ours: outside names, unknown CMULAs */
	n = mkquery(w, sizeof w, 5, "h9.site1.example.", LDNS_RR_TYPE_AAAA, 0, -1, false);
	assert_int_equal(dnsalg_query_parse(w, n, &q), 0);
	assert_int_equal(dnsalg_inside_answer(in, &q, w, out, sizeof out), DNSALG_ENOENT);
	n = mkquery(w, sizeof w, 5, "9.9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.1.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa.",
		    LDNS_RR_TYPE_PTR, 0, -1, false);
	assert_int_equal(dnsalg_query_parse(w, n, &q), 0);
	assert_int_equal(dnsalg_inside_answer(in, &q, w, out, sizeof out), DNSALG_ENOENT);
	/* too small a buffer: EFULL so the caller can set TC */
	n = mkquery(w, sizeof w, 3, "h1.site1.example.", LDNS_RR_TYPE_AAAA, 0, -1, false);
	assert_int_equal(dnsalg_query_parse(w, n, &q), 0);
	assert_int_equal(dnsalg_inside_answer(in, &q, w, out, 40), DNSALG_EFULL);
	/* reload: h1 goes, h7 comes */
	struct dnsalg_host h7 = { .name = "h7.site1.example." };
	inet_pton(AF_INET6, "fd00:1:1:1::77", &h7.addr);
	assert_int_equal(dnsalg_inside_set_hosts(in, &h7, 1), 0);
	assert_int_equal(dnsalg_inside_answer(in, &q, w, out, sizeof out), DNSALG_ENOENT);
	n = mkquery(w, sizeof w, 3, "h7.site1.example.", LDNS_RR_TYPE_AAAA, 0, -1, false);
	assert_int_equal(dnsalg_query_parse(w, n, &q), 0);
	r = dnsalg_inside_answer(in, &q, w, out, sizeof out);
	p = parse(out, r);
	assert_non_null(p);
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, a, sizeof a), 1);
	assert_string_equal(a, "fd00:1:1:1::77");
	ldns_pkt_free(p);
	dnsalg_inside_free(in);
	dnsalg_opts_free(o);
}

static void kea_lease_csv(void **state)
{
	const char *csv =
		"address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,"
		"fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context\n"
		"fd00:1:1:1::21,00:01,3600,2000,1,1800,0,1,128,0,0,h21,,0,\n"
		"fd00:1:1:1::22,00:02,3600,2000,1,1800,0,1,128,0,0,h22.site1.example.,,0,\n"
		"fd00:1:1:1::22,00:02,0,2000,1,1800,0,1,128,0,0,h22.site1.example.,,0,\n"   /* released */
		"fd00:1:1:1::23,00:03,3600,500,1,1800,0,1,128,0,0,h23,,0,\n"                 /* expired */
		"fd00:1:1:1::24,00:04,3600,2000,1,1800,0,1,128,0,0,,,0,\n"                   /* no name */
		"fd00:1:1:1::25,00:05,3600,2000,1,1800,0,1,128,0,0,h25,,1,\n"                /* declined */
		"garbage line\n";
	struct dnsalg_host h[8];
	int n = dnsalg_kea_leases_parse(csv, strlen(csv), "site1.example.", 1000, h, 8);
	assert_int_equal(n, 1);
	assert_string_equal(h[0].name, "h21.site1.example.");
}

static void control_commands(void **state)
{
	char v[64];
	assert_int_equal(dnsalg_json_get("{\"cmd\":\"counters\"}", "cmd", v, sizeof v), 0);
	assert_string_equal(v, "counters");
	assert_int_equal(dnsalg_json_get(" { \"x\" : [1,{\"a\":2}], \"ulid\":\"fd00::1\" } ", "ulid", v, sizeof v), 0);
	assert_string_equal(v, "fd00::1");
	assert_int_equal(dnsalg_json_get("{\"ttl\":30}", "ttl", v, sizeof v), 0);
	assert_string_equal(v, "30");
	assert_int_equal(dnsalg_json_get("{\"a\":1}", "cmd", v, sizeof v), DNSALG_ENOENT);
	assert_true(dnsalg_json_get("{\"cmd\":", "cmd", v, sizeof v) < 0);
	assert_true(dnsalg_json_get("[1]", "cmd", v, sizeof v) < 0);

	struct dnsalg_opts o;
	struct dnsalg_counters c;
	memset(&c, 0, sizeof c);
	dnsalg_opts_defaults(&o);
	struct dnsalg_ctx x = { .o = &o, .cnt = &c, .ucache = dnsalg_ucache_new(16) };
	c.queries_udp = 42;
	char out[8192];
	dnsalg_ctl_handle(&x, NULL, "{\"cmd\":\"counters\"}", 0, out, sizeof out);
	assert_non_null(strstr(out, "{\"ok\":true,\"queries_udp\":42,"));
	assert_non_null(strchr(out, '\n'));
	dnsalg_ctl_handle(&x, NULL, "{\"cmd\":\"nope\"}", 0, out, sizeof out);
	assert_non_null(strstr(out, "\"ok\":false"));
	dnsalg_ctl_handle(&x, NULL, "{\"cmd\":\"resolve-ulid\",\"ulid\":\"zz\"}", 0, out, sizeof out);
	assert_non_null(strstr(out, "\"ok\":false"));
	dnsalg_ucache_free(x.ucache);
}

/* Every counter at its largest still fits, whole, the smallest buffer the
 * control socket takes, and nothing is written past its end: a counter
 * added beyond that room fails here (the line would be refused, not cut). */
static void counters_line_fits_and_never_overruns(void **state)
{
	(void)state;
	struct dnsalg_opts o;
	struct dnsalg_counters c;
	memset(&c, 0xff, sizeof c);
	dnsalg_opts_defaults(&o);
	struct dnsalg_ctx x = { .o = &o, .cnt = &c };
	enum { MIN = 2560 };
	char *out = malloc(MIN);   /* a heap buffer of exactly MIN: ASan sees any overrun */
	assert_non_null(out);
	int n = dnsalg_ctl_handle(&x, NULL, "{\"cmd\":\"counters\"}", 0, out, MIN);
	assert_in_range(n, 1, MIN - 1);
	assert_int_equal(strlen(out), (size_t)n);
	assert_string_equal(out + n - 2, "}\n");
	assert_non_null(strstr(out, "\"queries_udp\":18446744073709551615,"));
	assert_int_equal(dnsalg_ctl_handle(&x, NULL, "{\"cmd\":\"counters\"}", 0, out, MIN - 1), DNSALG_EINVAL);
	free(out);
}

/* fd00:2:2:1::22's PTR to peer.ext., whose AAAA and ULID record answer
 * for it; `tc`: the PTR answer comes truncated over UDP. */
#define PEER22_ZONE(tc) \
	{ "2.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.2.0.0.0.2.0.0.0.0.0.d.f.ip6.arpa.", \
	  LDNS_RR_TYPE_PTR, 0, \
	  "2.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.2.0.0.0.2.0.0.0.0.0.d.f.ip6.arpa. 600 IN PTR peer.ext.", tc }, \
	{ "peer.ext.", LDNS_RR_TYPE_AAAA, 0, "peer.ext. 300 IN AAAA 2001:db8:30::22", false }, \
	{ "peer.ext.", 65300, 0, "peer.ext. 100 IN TYPE65300 \\# 16 fd000002000200010000000000000022", false }

static void reverse_lookup_for_control(void **state)
{
	static const struct fake_rrset z[] = {
		PEER22_ZONE(false),
		{ "3.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.2.0.0.0.2.0.0.0.0.0.d.f.ip6.arpa.",
		  LDNS_RR_TYPE_PTR, 0,
		  "3.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.2.0.0.0.2.0.0.0.0.0.d.f.ip6.arpa. 600 IN PTR peer.ext.", false },
	};
	struct fake_up f = { .set = z, .n = sizeof z / sizeof z[0] };
	struct dnsalg_upstream_ops up = { fake_query, &f };
	struct dnsalg_opts o;
	struct dnsalg_counters c;
	memset(&c, 0, sizeof c);
	dnsalg_opts_defaults(&o);
	struct dnsalg_ctx x = { .o = &o, .cnt = &c, .ucache = dnsalg_ucache_new(16) };
	char out[8192];
	dnsalg_ctl_handle(&x, &up, "{\"cmd\":\"resolve-ulid\",\"ulid\":\"fd00:2:2:1::22\"}", 0, out, sizeof out);
	assert_string_equal(out, "{\"ok\":true,\"locators\":[\"2001:db8:30::22\"],\"ttl\":100,\"name\":\"peer.ext.\"}\n");
	assert_int_equal(f.queries, 3);
	/* second time from the ULID cache */
	dnsalg_ctl_handle(&x, &up, "{\"cmd\":\"resolve-ulid\",\"ulid\":\"fd00:2:2:1::22\"}", 1000, out, sizeof out);
	assert_int_equal(f.queries, 3);
	/* a PTR that points at a name whose ULID is another one proves nothing */
	dnsalg_ctl_handle(&x, &up, "{\"cmd\":\"resolve-ulid\",\"ulid\":\"fd00:2:2:1::33\"}", 0, out, sizeof out);
	assert_non_null(strstr(out, "\"ok\":false"));
	dnsalg_ucache_free(x.ucache);
}

/* A lone question of labels of these lengths, raw: lengths over 63 and
 * names over 255 octets cannot be built with ldns. */
static size_t raw_query(uint8_t *w, const unsigned *lens, unsigned n)
{
	static const uint8_t hdr[12] = { 0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
	size_t o = sizeof hdr;
	memcpy(w, hdr, o);
	for (unsigned i = 0; i < n; i++) {
		w[o++] = (uint8_t)lens[i];
		memset(w + o, 'x', lens[i] & 0x3F);
		o += lens[i] & 0x3F;
	}
	w[o++] = 0;
	memcpy(w + o, "\0\1\0\1", 4);
	return o + 4;
}

/* The header and question checks, each at its edge: what a parser lets
 * through here reaches the cache key and the upstream query. */
static void header_and_question_edges(void **state)
{
	(void)state;
	uint8_t w[1300], x[1300];
	struct dnsalg_query q;
	size_t n = mkquery(w, sizeof w, 9, "a.b.", LDNS_RR_TYPE_A, 0, -1, false);
	memcpy(x, w, n);
	x[2] = 0x08;                                                /* opcode IQUERY (1) */
	assert_int_equal(dnsalg_query_parse(x, n, &q), DNSALG_ENOTIMP);
	memcpy(x, w, n);
	x[5] = 0;                                                   /* QDCOUNT 0 */
	assert_int_equal(dnsalg_query_parse(x, n, &q), DNSALG_EFORMERR);
	memcpy(x, w, n);
	x[7] = 1;                                                   /* ANCOUNT 1 */
	assert_int_equal(dnsalg_query_parse(x, n, &q), DNSALG_EFORMERR);
	/* 1232 octets (EDNS padding) is the largest query taken */
	n = mkquery(w, sizeof w, 9, "a.b.", LDNS_RR_TYPE_A, 0, 1232, false);
	uint8_t pad[4 + 1300] = { 0, 12 };
	size_t pl = DNSALG_QUERY_MAX - n - 4;
	pad[2] = (uint8_t)(pl >> 8), pad[3] = (uint8_t)pl;
	size_t m = fake_add_opts(w, n, sizeof w, pad, 4 + pl);
	assert_int_equal(m, DNSALG_QUERY_MAX);
	assert_int_equal(dnsalg_query_parse(w, m, &q), 0);
	n = mkquery(w, sizeof w, 9, "a.b.", LDNS_RR_TYPE_A, 0, 1232, false);
	pl++;
	pad[2] = (uint8_t)(pl >> 8), pad[3] = (uint8_t)pl;
	m = fake_add_opts(w, n, sizeof w, pad, 4 + pl);
	assert_int_equal(m, DNSALG_QUERY_MAX + 1);
	assert_int_equal(dnsalg_query_parse(w, m, &q), DNSALG_EFORMERR);
	/* a 255-octet name is the longest; 256 is refused, not copied */
	n = raw_query(w, (const unsigned[]){ 63, 63, 63, 61 }, 4);
	assert_int_equal(dnsalg_query_parse(w, n, &q), 0);
	assert_int_equal(q.qname_len, 255);
	n = raw_query(w, (const unsigned[]){ 63, 63, 63, 62 }, 4);
	assert_int_equal(dnsalg_query_parse(w, n, &q), DNSALG_EFORMERR);
	/* label types 0x40 and 0x80, with the octets a length would cover */
	n = raw_query(w, (const unsigned[]){ 0x40 }, 1);
	memset(w + 13, 'x', 64);
	w[13 + 64] = 0;
	memcpy(w + 13 + 65, "\0\1\0\1", 4);
	assert_int_equal(dnsalg_query_parse(w, 13 + 65 + 4, &q), DNSALG_EFORMERR);
	w[12] = 0x80;
	assert_int_equal(dnsalg_query_parse(w, 13 + 65 + 4, &q), DNSALG_EFORMERR);
}

/* RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root.
 * Anything else is FORMERR, not a second set of options. */
static void opt_record_placement(void **state)
{
	(void)state;
	uint8_t w[512];
	struct dnsalg_query q;
	size_t n = mkquery(w, sizeof w, 9, "a.b.", LDNS_RR_TYPE_A, 0, 1232, false);
	assert_int_equal(dnsalg_query_parse(w, n, &q), 0);
	/* two OPT records */
	memcpy(w + n, w + n - 11, 11);
	w[11] = 2;
	assert_int_equal(dnsalg_query_parse(w, n + 11, &q), DNSALG_EFORMERR);
	/* the OPT record counted in the authority section */
	w[11] = 0;
	w[9] = 1;
	assert_int_equal(dnsalg_query_parse(w, n, &q), DNSALG_EFORMERR);
}

static int inside_ask(struct dnsalg_inside *in, const char *name, uint16_t type, uint8_t *w,
		      uint8_t *out, size_t outcap)
{
	struct dnsalg_query q;
	size_t n = mkquery(w, 512, 3, name, type, 0, -1, false);
	assert_int_equal(dnsalg_query_parse(w, n, &q), 0);
	return dnsalg_inside_answer(in, &q, w, out, outcap);
}

#define H1_PTR "1.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.1.0.0.0.1.0.0.0.0.0.d.f."
#define H3_PTR "3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.9.0.0.0.0.0.d.f.ip6.arpa."

/* Inside answers only for class IN, ANY included; a PTR name must be a
 * whole ip6.arpa nibble name, and an address outside the CMULA prefixes is
 * not answered even if a host has it, unless no prefix is configured.  An
 * answer that exactly fills the buffer is sent whole. */
static void inside_edges(void **state)
{
	(void)state;
	struct dnsalg_opts *o = inside_opts();
	struct in6_addr a3;
	inet_pton(AF_INET6, "fd00:9::3", &a3);
	assert_int_equal(dnsalg_opts_add_host(o, "h3", &a3), 0);
	struct dnsalg_inside *in = dnsalg_inside_new(o);
	assert_non_null(in);
	uint8_t w[512], out[4096];
	struct dnsalg_query q;
	size_t n = mkquery(w, sizeof w, 3, "h1.site1.example.", LDNS_RR_TYPE_AAAA, 0, -1, false);
	w[n - 1] = LDNS_RR_CLASS_CH;
	assert_int_equal(dnsalg_query_parse(w, n, &q), 0);
	assert_int_equal(dnsalg_inside_answer(in, &q, w, out, sizeof out), DNSALG_ENOENT);
	int r = inside_ask(in, "h1.site1.example.", LDNS_RR_TYPE_ANY, w, out, sizeof out);
	ldns_pkt *p = parse(out, r);
	assert_non_null(p);
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, NULL, 0), 1);
	ldns_pkt_free(p);
	r = inside_ask(in, "h1.site1.example.", LDNS_RR_TYPE_AAAA, w, out, sizeof out);
	assert_int_equal(inside_ask(in, "h1.site1.example.", LDNS_RR_TYPE_AAAA, w, out, (size_t)r), r);
	assert_int_equal(inside_ask(in, "h1.site1.example.", LDNS_RR_TYPE_AAAA, w, out, (size_t)r - 1),
			 DNSALG_EFULL);
	assert_true(inside_ask(in, H1_PTR "ip6.arpa.", LDNS_RR_TYPE_PTR, w, out, sizeof out) > 0);
	assert_int_equal(inside_ask(in, H1_PTR "ip6.arpz.", LDNS_RR_TYPE_PTR, w, out, sizeof out), DNSALG_ENOENT);
	assert_int_equal(inside_ask(in, "1-1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.1.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa.",
				    LDNS_RR_TYPE_PTR, w, out, sizeof out), DNSALG_ENOENT);
	assert_true(inside_ask(in, "h3.site1.example.", LDNS_RR_TYPE_AAAA, w, out, sizeof out) > 0);
	assert_int_equal(inside_ask(in, H3_PTR, LDNS_RR_TYPE_PTR, w, out, sizeof out), DNSALG_ENOENT);
	dnsalg_inside_free(in);
	o->n_prefixes = 0;   /* no prefix configured: every host's PTR */
	in = dnsalg_inside_new(o);
	assert_non_null(in);
	assert_true(inside_ask(in, H3_PTR, LDNS_RR_TYPE_PTR, w, out, sizeof out) > 0);
	dnsalg_inside_free(in);
	dnsalg_opts_free(o);
}

/* Lease lines: a lease that expires this second is still live, only
 * non-temporary addresses (type 0) are hosts, and `max` caps the count. */
static void kea_lease_edges(void **state)
{
	(void)state;
	const char *csv =
		"address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,"
		"fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context\n"
		"fd00:1:1:1::31,00:01,3600,1000,1,1800,0,1,128,0,0,h31,,0,\n"
		"fd00:1:1:1::32,00:02,3600,2000,1,1800,2,1,128,0,0,h32,,0,\n"
		"fd00:1:1:1::33,00:03,3600,2000,1,1800,0,1,128,0,0,h33,,0,\n";
	struct dnsalg_host h[4];
	int n = dnsalg_kea_leases_parse(csv, strlen(csv), "site1.example.", 1000, h, 4);
	assert_int_equal(n, 2);
	assert_string_equal(h[0].name, "h31.site1.example.");
	assert_string_equal(h[1].name, "h33.site1.example.");
	assert_int_equal(dnsalg_kea_leases_parse(csv, strlen(csv), "site1.example.", 1000, h, 1), 1);
}

/* dnsalg_reverse_resolve of fd00:2:2:1::22 through `up`, with default
 * options; its counters in *c (zeroed first when `fresh`). */
static int reverse_of_22(const struct dnsalg_upstream_ops *up, struct dnsalg_counters *c, bool fresh)
{
	struct dnsalg_opts o;
	struct dnsalg_ulid_entry u;
	struct in6_addr ulid;
	if (fresh)
		memset(c, 0, sizeof *c);
	dnsalg_opts_defaults(&o);
	struct dnsalg_ctx x = { .o = &o, .cnt = c };
	inet_pton(AF_INET6, "fd00:2:2:1::22", &ulid);
	return dnsalg_reverse_resolve(&x, up, &ulid, 0, &u);
}

/* A truncated PTR answer is asked again over TCP: big locator sets. */
static void reverse_retries_truncated_over_tcp(void **state)
{
	(void)state;
	static const struct fake_rrset z[] = {
		PEER22_ZONE(true),
	};
	struct fake_up f = { .set = z, .n = sizeof z / sizeof z[0] };
	struct dnsalg_upstream_ops up = { fake_query, &f };
	struct dnsalg_counters c;
	assert_int_equal(reverse_of_22(&up, &c, 1), 0);
	assert_int_equal(f.tcp_queries, 1);
	assert_int_equal(f.queries, 4);
}

/* A reverse-lookup answer with another ID (even modes), or that is not an
 * answer (odd modes), is not taken: the lookup fails and is counted.  Modes
 * 2 and 3 spoil only what comes over TCP, the retry of a truncated answer. */
static int rev_mode;
static int rev_wrong(void *arg, ldns_pkt *q, bool tcp, ldns_pkt **ans)
{
	int r = fake_query(arg, q, tcp, ans);
	if (r != 0 || (rev_mode >= 2 && !tcp))
		return r;
	if (rev_mode % 2 == 0)
		ldns_pkt_set_id(*ans, (uint16_t)(ldns_pkt_id(*ans) ^ 1));
	else
		ldns_pkt_set_qr(*ans, false);
	return r;
}

/* Modes `first` and `first` + 1 through the peer's zone, its PTR answer
 * truncated when `tc`: each lookup fails, and is counted. */
static void refuse_foreign(int first, bool tc)
{
	static const struct fake_rrset plain[] = { PEER22_ZONE(false) }, trunc[] = { PEER22_ZONE(true) };
	struct fake_up f = { .set = tc ? trunc : plain, .n = sizeof plain / sizeof plain[0] };
	struct dnsalg_upstream_ops up = { rev_wrong, &f };
	struct dnsalg_counters c;
	for (rev_mode = first; rev_mode <= first + 1; rev_mode++)
		assert_int_equal(reverse_of_22(&up, &c, rev_mode == first), DNSALG_EMISMATCH);
	assert_int_equal(c.reverse_failures, 2);
	assert_int_equal(tc ? f.tcp_queries : f.queries, 2);
}

static void reverse_refuses_foreign_answers(void **state) { (void)state; refuse_foreign(0, false); }
static void reverse_refuses_foreign_tcp_answers(void **state) { (void)state; refuse_foreign(2, true); }

/* An answer to another question (its type changed) is not taken either. */
static int rev_other_question(void *arg, ldns_pkt *q, bool tcp, ldns_pkt **ans)
{
	int r = fake_query(arg, q, tcp, ans);
	if (r == 0 && ldns_rr_list_rr_count(ldns_pkt_question(*ans)) == 1)
		ldns_rr_set_type(ldns_rr_list_rr(ldns_pkt_question(*ans), 0), LDNS_RR_TYPE_TXT);
	return r;
}

static void reverse_refuses_other_question(void **state)
{
	(void)state;
	static const struct fake_rrset z[] = { PEER22_ZONE(false) };
	struct fake_up f = { .set = z, .n = sizeof z / sizeof z[0] };
	struct dnsalg_upstream_ops up = { rev_other_question, &f };
	struct dnsalg_counters c;
	assert_int_equal(reverse_of_22(&up, &c, true), DNSALG_EMISMATCH);
	assert_int_equal(c.reverse_failures, 1);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(parses_plain_and_edns), cmocka_unit_test(malformed_queries),
		cmocka_unit_test(skip_name_bounds),
		cmocka_unit_test(error_answers_via_fast_path), cmocka_unit_test(inside_names_and_ptr),
		cmocka_unit_test(kea_lease_csv), cmocka_unit_test(control_commands),
		cmocka_unit_test(counters_line_fits_and_never_overruns), cmocka_unit_test(reverse_lookup_for_control),
		cmocka_unit_test(header_and_question_edges), cmocka_unit_test(opt_record_placement),
		cmocka_unit_test(inside_edges), cmocka_unit_test(kea_lease_edges),
		cmocka_unit_test(reverse_retries_truncated_over_tcp),
		cmocka_unit_test(reverse_refuses_foreign_answers),
		cmocka_unit_test(reverse_refuses_foreign_tcp_answers),
		cmocka_unit_test(reverse_refuses_other_question),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
