/*
 * libFuzzer target: the whole query path.  The input is split at the first
 * "\xff\xfe" marker into the client query and the upstream answers; the
 * upstream answers (each prefixed by a 2-octet length) are returned, in
 * order, by a fake upstream with the ID patched to match, so the AAAA
 * rewrite, the cache and the truncation code see hostile upstream data too.
 * The fake upstream applies the daemon's wire check
 * (dnsalg_upstream_wire_check) before ldns parses an answer, as upstream.c
 * does; an answer it refuses is a timeout.
 * The same bytes also go to the control-line parser and the Kea lease reader.
 *
 * The query's ID picks two more things (it changes nothing else): with bit
 * 0x8000 the same query is served a second time (a cache hit, with this
 * client's ID, cookie and TTLs), and with 0x4000 as well the cookie secrets
 * roll over between the two, so a server cookie of the current secret comes
 * back as a previous-secret one and one of the previous secret as stale;
 * with 0x2000 too, the rollover keeps the older secrets as a short timed
 * interval does, so that one verifies under a secret retired two
 * rollovers ago.  The secrets come from a fixed random source (the seam in
 * struct dnsalg_cookie_secrets), so seeds can carry server cookies that
 * verify: K1 current and K0 previous, and K2 / K1 (/ K0) after the
 * rollover.  The client's address is ::N and its clock N * 977 s for an
 * input of N octets; K1 became current in that same second (so a cookie
 * of either verifies), K2 120 s later, and the query served after the
 * rollover comes then.  A check tries only the secrets current about a
 * cookie's timestamp, so the seeds' cookies, all stamped N * 977, are of
 * K1 or K0.  gen_fuzz_seeds.py (next to this file) writes the seeds with
 * such cookies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsalg.h"

struct feed {
	const uint8_t *p;
	size_t n;
};

static int fz_query(void *arg, ldns_pkt *q, bool tcp, ldns_pkt **ans)
{
	struct feed *f = arg;
	if (f->n < 2)
		return DNSALG_ETIMEOUT;
	size_t l = (size_t)f->p[0] << 8 | f->p[1];
	if (l > f->n - 2)
		l = f->n - 2;
	static uint8_t m[65535];
	memcpy(m, f->p + 2, l);
	f->p += 2 + l;
	f->n -= 2 + l;
	/* the daemon's own check, as upstream.c applies it: an answer it
	 * refuses never reaches ldns, and to the caller is a timeout */
	uint16_t id = ldns_pkt_id(q);
	if (l >= 2) {
		m[0] = (uint8_t)(id >> 8);
		m[1] = (uint8_t)id;
	}
	if (dnsalg_upstream_wire_check(m, l, id) != 0 || ldns_wire2pkt(ans, m, l) != LDNS_STATUS_OK)
		return DNSALG_ETIMEOUT;
	/* make the question match most of the time so the rewrite runs */
	if (l && (m[l - 1] & 1)) {
		ldns_rr_list_deep_free(ldns_pkt_question(*ans));
		ldns_pkt_set_question(*ans, ldns_rr_list_clone(ldns_pkt_question(q)));
		ldns_pkt_set_qdcount(*ans, 1);
	}
	return 0;
}

/* The secrets of each generation; the source hands out `fz_next`. */
static const uint8_t K[3][DNSALG_COOKIE_SECRET] = {
	{ 0x5e, 0xc2 }, { 0x5e, 0xc2, 1 }, { 0x5e, 0xc2, 2 } };
static const uint8_t *fz_next;

static int fz_random(void *arg, uint8_t *buf, size_t len, bool may_block)
{
	(void)arg;
	(void)may_block;
	memcpy(buf, fz_next, len);
	return 0;
}

static struct dnsalg_opts o;
static struct dnsalg_counters cnt;
static struct dnsalg_ctx x;

/* Generation g current, g - 1 previous, through a real rollover; with
 * `ring` (g >= 2) from g - 2 through two rollovers at 120 s, which keep
 * both retired secrets.  K[i] is current from wall + 120 * (i - 1). */
static void secrets_at(int g, bool ring, uint32_t wall)
{
	int from = ring ? g - 2 : g - 1;
	dnsalg_cookie_set(&x.cookie, K[from], ring ? 120 : 0, 0);
	for (int i = from + 1; i <= g; i++) {
		fz_next = K[i];
		if (dnsalg_cookie_rotate(&x.cookie, 0, wall + 120u * (uint32_t)(i - 1), &cnt) != 0)
			abort();
	}
}

static int discard(void *arg, const char *line)
{
	(void)arg;
	return line[0] == '{' ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!x.o) {
		dnsalg_opts_defaults(&o);
		snprintf(o.zone, sizeof o.zone, "site.example.");
		struct in6_addr a = { .s6_addr = { 0xfd, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x11 } };
		dnsalg_opts_add_host(&o, "h1", &a);
		dnsalg_prefix_parse("fd00:1:1:1::/64", &o.cmula_prefixes[0]);
		o.n_prefixes = 1;
		x.o = &o;
		x.cnt = &cnt;
		x.acache = dnsalg_acache_new(64, 3600);
		x.ucache = dnsalg_ucache_new(16);
		x.inside = dnsalg_inside_new(&o);
		x.push.push = discard;
		x.cookie.random = fz_random;
	}
	size_t ql = size;
	for (size_t i = 0; i + 1 < size; i++)
		if (data[i] == 0xff && data[i + 1] == 0xfe) {
			ql = i;
			break;
		}
	struct feed f = { data + ql, size - ql };
	if (f.n >= 2) {
		f.p += 2;
		f.n -= 2;
	}
	struct dnsalg_upstream_ops up = { fz_query, &f };
	static uint8_t out[65535];
	bool tcp = ql & 1;
	o.dnssec = (ql & 2) ? DNSALG_DNSSEC_PASSTHROUGH : DNSALG_DNSSEC_REWRITE_STRIP;
	uint64_t now = (uint64_t)size * 1000;
	/* the client's address and clock come from the input too: cookies */
	struct dnsalg_client cl;
	memset(&cl, 0, sizeof cl);
	cl.addr.s6_addr[15] = (uint8_t)size;
	cl.wall_s = (uint32_t)size * 977u;
	/* one rollover, so a server cookie is checked against both secrets */
	secrets_at(1, false, cl.wall_s);
	int n = dnsalg_handle(&x, &up, &cl, data, ql, tcp, now, out, tcp ? sizeof out : 4096);
	if (n > 0 && !tcp && n > 4096)
		abort();
	if (n > 0 && n < 12)
		abort();
	if (ql >= 12 && (data[0] & 0x80)) {
		if (data[0] & 0x40) {
			secrets_at(2, data[0] & 0x20, cl.wall_s);
			cl.wall_s += 120;   /* K2's first second */
		}
		n = dnsalg_handle(&x, &up, &cl, data, ql, tcp, now, out, tcp ? sizeof out : 4096);
		if ((n > 0 && !tcp && n > 4096) || (n > 0 && n < 12))
			abort();
	}
	/* the control parser sees the same bytes as a line */
	char line[512], reply[8192];
	size_t ll = ql < sizeof line - 1 ? ql : sizeof line - 1;
	memcpy(line, data, ll);
	line[ll] = 0;
	dnsalg_ctl_handle(&x, NULL, line, now, reply, sizeof reply);
	/* inputs that look like a Kea lease CSV go to the lease reader */
	static struct dnsalg_host hosts[16];
	if (size > 7 && memcmp(data, "address", 7) == 0)
		dnsalg_kea_leases_parse((const char *)data, size, "site.example.", 1000, hosts, 16);
	return 0;
}
