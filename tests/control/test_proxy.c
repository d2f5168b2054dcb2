/* control/proxy.c against a real Shim6 peer: the daemon's config loaded
 * from a file, its tables, context table and TE as daemon.c makes them, the
 * real engine with the real CGA signing and verification, and a second
 * engine in this file standing for the remote site (its own RSA key and
 * CGA ULIDs).  Everything proxy.c writes to the dataplane is recorded by a
 * fake dp_write; the "network" carries the proxy's outgoing Shim6 messages
 * (INJECTs out of an ISP port) to the remote engine and the remote
 * engine's answers back in as SHIM6_CTL punts.  The clock is fake: only
 * the tests move it.  peer.c, resolve.c and state.c are small recording
 * fakes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <cmocka.h>
#include <shim6/cga.h>
#include <shim6/engine.h>
#include <shim6/wire.h>
#include "daemon.h"
#include "log.h"
#include "peer.h"
#include "proxy.h"
#include "resolve.h"
#include "state.h"
#include "unreach.h"

#define MS UINT64_C(1000000)
#define NH_SHIM6 140
#define NH_UDP 17
#define MAXREC 2048

/* ---- fakes ----------------------------------------------------------------- */

static uint64_t clk;
uint64_t now_ns(void) { return clk; }

/* Every dp_write, with the INJECTed bytes copied: proxy.c reuses its
 * buffers (and frees held packets) right after the call. */
struct rec {
	struct dpmsg m;
	uint32_t len;
	uint8_t data[DPMSG_PKT_MAX];
};
static struct rec *recs;
static unsigned nrec;

int dp_write(struct daemon *d, struct dpmsg *m)
{
	(void)d;
	assert_true(nrec < MAXREC);
	struct rec *r = &recs[nrec++];
	r->m = *m;
	r->len = 0;
	if (m->type == DPMSG_INJECT) {
		assert_true(m->u.inject.len <= sizeof r->data);
		memcpy(r->data, m->u.inject.data, m->u.inject.len);
		r->len = m->u.inject.len;
		r->m.u.inject.data = r->data;
	}
	return 0;
}

static bool gate_open = true;
static unsigned nchanged, nremoved, nresolve;
static uint64_t removed_tags[64];
bool peer_punt_gate(struct daemon *d, const struct dpmsg_punt *p) { (void)d; (void)p; return gate_open; }
void peer_ctx_changed(struct daemon *d, uint64_t own_tag) { (void)d; (void)own_tag; nchanged++; }
void peer_ctx_removed(struct daemon *d, uint64_t own_tag)
{
	(void)d;
	if (nremoved < 64)
		removed_tags[nremoved] = own_tag;
	nremoved++;
}
void resolve_start(struct daemon *d, const struct in6_addr *ulid) { (void)d; (void)ulid; nresolve++; }

/* The state file holds at most one line here (state_line, when
 * have_state_line); the real state_fill_import (state_line.c) hands it over. */
static unsigned nsaves;
static struct ctl_state_ctx state_line;
static bool have_state_line;
void state_load(struct daemon *d) { (void)d; }
void state_free(void) {}
const struct ctl_state_ctx *state_find(struct daemon *d, uint64_t own_tag)
{
	(void)d;
	return have_state_line && state_line.own_tag == own_tag ? &state_line : NULL;
}
int state_save(struct daemon *d, struct shim6_engine *eng) { (void)d; (void)eng; nsaves++; return 0; }
uint64_t state_generation(void) { return 0; }
pid_t state_save_bg(struct daemon *d, struct shim6_engine *eng) { (void)d; (void)eng; return -1; }
int state_save_bg_done(pid_t pid, bool wait) { (void)pid; (void)wait; return -1; }

/* ---- keys and addresses (made once: RSA generation is the slow part) ------ */

static EVP_PKEY *site_key, *remote_key, *rogue_key;
static struct shim6_cga host_cga;           /* the site's host: CMULA + PDS under the site key */
static struct shim6_cga rem_cga[2];         /* the remote site's hosts, under remote_key */
static struct shim6_cga rogue_cga;          /* a PDS of another key */
static char dir[64], path_key[96], path_conf[96];

static const uint8_t PA[2][8] = {           /* the site's ISPs x and y */
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 1 }, { 0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 1 } };
static const uint8_t RPA[2][8] = {          /* the remote site's */
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 0xa, 0, 1 }, { 0x20, 0x01, 0x0d, 0xb8, 0, 0xb, 0, 1 } };

static struct shim6_in6 swap(const uint8_t pfx[8], const uint8_t *addr)
{
	struct shim6_in6 a;
	memcpy(a.b, pfx, 8);
	memcpy(a.b + 8, addr + 8, 8);
	return a;
}

static struct shim6_in6 in6_of(const uint8_t *b)
{
	struct shim6_in6 a;
	memcpy(a.b, b, 16);
	return a;
}

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void make_cga(struct shim6_cga *out, EVP_PKEY *k, const uint8_t pfx[8])
{
	uint8_t spki[1024];
	int n = shim6_key_spki(k, spki, sizeof spki);
	assert_true(n > 0);
	assert_int_equal(shim6_cga_new(out, pfx, spki, (size_t)n, 0, 0, NULL), 0);
}

static int group_setup(void **st)
{
	(void)st;
	recs = calloc(MAXREC, sizeof *recs);
	assert_non_null(recs);
	assert_int_equal(shim6_key_generate(&site_key, 1024), 0);
	assert_int_equal(shim6_key_generate(&remote_key, 1024), 0);
	assert_int_equal(shim6_key_generate(&rogue_key, 1024), 0);
	static const uint8_t site_pfx[8] = { 0xfd, 0, 0, 0x10, 0, 0, 0, 1 };
	static const uint8_t rem_pfx[8] = { 0xfd, 0, 0, 0x20, 0, 0, 0, 1 };
	make_cga(&host_cga, site_key, site_pfx);
	make_cga(&rem_cga[0], remote_key, rem_pfx);
	do
		make_cga(&rem_cga[1], remote_key, rem_pfx);
	while (!memcmp(rem_cga[1].addr, rem_cga[0].addr, 16));
	make_cga(&rogue_cga, rogue_key, rem_pfx);
	snprintf(dir, sizeof dir, "/tmp/test_proxy.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path_key, sizeof path_key, "%s/site.pem", dir);
	snprintf(path_conf, sizeof path_conf, "%s/pshim6.conf", dir);
	static char pem[8192];
	int n = shim6_key_to_pem(site_key, true, pem, sizeof pem);
	assert_true(n > 0);
	write_file(path_key, pem, strlen(pem));
	return 0;
}

static int group_teardown(void **st)
{
	(void)st;
	unlink(path_key);
	unlink(path_conf);
	rmdir(dir);
	EVP_PKEY_free(site_key);
	EVP_PKEY_free(remote_key);
	EVP_PKEY_free(rogue_key);
	free(recs);
	return 0;
}

/* ---- the remote site: one engine, real CGA ---------------------------------- */

static struct {
	struct shim6_engine *eng;
	bool sign_rogue;        /* sign with a key that is not the PDS's */
	bool pds_rogue;         /* announce (and sign for) a PDS that is not the ULID's */
	bool deaf;              /* the network to it is cut */
	unsigned established;
} REM;

static int rem_host(const struct shim6_in6 *ulid)
{
	for (int i = 0; i < 2; i++)
		if (!memcmp(ulid->b, rem_cga[i].addr, 16))
			return i;
	return -1;
}

static int rem_host_info(void *u, const struct shim6_in6 *ulid, struct shim6_host_info *out)
{
	(void)u;
	int h = rem_host(ulid);
	if (h < 0)
		return SHIM6_ENG_ENOTLOCAL;
	memset(out, 0, sizeof *out);
	out->method = SHIM6_VERIF_CGA;
	for (int i = 0; i < 2; i++) {
		out->locs[i].addr = swap(RPA[i], rem_cga[h].addr);
		out->locs[i].verif = SHIM6_VERIF_CGA;
		out->locs[i].priority = (uint8_t)i;
		out->locs[i].weight = 1;
	}
	out->nlocs = 2;
	out->generation = 1;
	const struct shim6_cga *c = REM.pds_rogue ? &rogue_cga : &rem_cga[h];
	out->pds_len = c->pds_len;
	memcpy(out->pds, c->pds, c->pds_len);
	return 0;
}

static int rem_sign(void *u, const struct shim6_in6 *ulid, const uint8_t *data, size_t len,
		    uint8_t *sig, size_t cap)
{
	(void)u;
	(void)ulid;
	return shim6_cga_sign_data(REM.sign_rogue || REM.pds_rogue ? rogue_key : remote_key,
				   data, len, sig, cap);
}

static int rem_verify(void *u, const struct shim6_in6 *peer_ulid, enum shim6_verif method,
		      const uint8_t *pds, size_t pds_len, const struct shim6_locator *locs, size_t nlocs,
		      const uint8_t *data, size_t len, const uint8_t *sig, size_t sig_len)
{
	(void)u;
	return shim6_engine_verify_locators(peer_ulid, method, pds, pds_len, locs, nlocs,
					    data, len, sig, sig_len);
}

static void rem_rand(void *u, void *buf, size_t len)
{
	(void)u;
	if (RAND_bytes(buf, (int)len) != 1)
		abort();
}

static void remote_up(void)
{
	struct shim6_engine_settings s;
	shim6_engine_settings_default(&s);
	s.max_contexts = 16;
	s.max_pending = 16;
	struct shim6_engine_callbacks cb = {
		.host_info = rem_host_info, .sign = rem_sign, .verify = rem_verify,
	};
	struct shim6_engine_rand r = { .fill = rem_rand };
	assert_int_equal(shim6_engine_new(&REM.eng, &s, &cb, NULL, &r, clk), 0);
}

/* ---- the daemon ------------------------------------------------------------- */

struct opts {
	unsigned hold_packets, hold_total, max_pending;
	bool inside_address;   /* inside.address = INSIDE_ADDR: hosts get ICMPv6 errors from it */
};
#define INSIDE_ADDR "2001:db8:ff::1"


static struct pshim6_conf conf;
static struct daemon D;
static bool up;
static unsigned wire_pos;   /* the first record the network has not carried yet */

static void conf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	fail_msg("%s:%u: %s", file, line, msg);
}

static const char *ntop(const uint8_t *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

/* static peers: the two real remote hosts, and two that never answer
 * (their locators lead nowhere) */
static const uint8_t SILENT[2][16] = {
	{ 0xfd, 0, 0, 0x30, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 },
	{ 0xfd, 0, 0, 0x30, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2 } };
static const uint8_t SILENT_PFX[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x30, 0, 1 };

static void rig_up(const struct opts *o)
{
	char pdshex[2 * SHIM6_CGA_PDS_MAX + 1], cm[INET6_ADDRSTRLEN], a[4][INET6_ADDRSTRLEN];
	static char text[16384];
	assert_true(shim6_cga_hex_encode(host_cga.pds, host_cga.pds_len, pdshex, sizeof pdshex) > 0);
	int n = snprintf(text, sizeof text,
		"site = { name = \"s\"; cmula_prefixes = [ \"fd00:10::/48\" ]; key_file = \"%s\"; };\n"
		"inside = { port = \"0000:00:01.0\"; %s };\n"
		"isps = ( { name = \"x\"; pa_prefix = \"2001:db8:1:1::/64\"; port = \"0000:00:02.0\"; "
		"next_hop = \"2001:db8:1:1::1\"; },\n"
		"         { name = \"y\"; pa_prefix = \"2001:db8:2:1::/64\"; port = \"0000:00:03.0\"; "
		"next_hop = \"2001:db8:2:1::1\"; } );\n"
		"control = { lease_table = 16; peer_cache = 16; state_file = \"\"; hold_packets = %u; hold_total = %u; };\n"
		"engine = { max_contexts = 64; max_pending = %u; };\n"
		"shim6 = { i1_timeout_ms = 500; i1_retries = 2; i2_timeout_ms = 500; i2_retries = 1; "
		"no_r1_holddown_ms = 60000; };\n"
		"reap = { send_timeout_ms = 1000; keepalive_interval_ms = 300; initial_probe_ms = 100; };\n"
		"hosts = ( { name = \"h1\"; cmula = \"%s\"; pds = \"%s\"; } );\n",
		path_key, o->inside_address ? "address = \"" INSIDE_ADDR "/64\";" : "",
		o->hold_packets ? o->hold_packets : 8, o->hold_total ? o->hold_total : 64,
		o->max_pending ? o->max_pending : 16, ntop(host_cga.addr, cm), pdshex);
	struct shim6_in6 l[4] = { swap(RPA[0], rem_cga[0].addr), swap(RPA[1], rem_cga[0].addr),
				  swap(RPA[0], rem_cga[1].addr), swap(RPA[1], rem_cga[1].addr) };
	n += snprintf(text + n, sizeof text - (size_t)n,
		"peers = ( { ulid = \"%s\"; locators = [ \"%s\", \"%s\" ]; },\n",
		ntop(rem_cga[0].addr, cm), ntop(l[0].b, a[0]), ntop(l[1].b, a[1]));
	n += snprintf(text + n, sizeof text - (size_t)n,
		"          { ulid = \"%s\"; locators = [ \"%s\", \"%s\" ]; },\n",
		ntop(rem_cga[1].addr, cm), ntop(l[2].b, a[2]), ntop(l[3].b, a[3]));
	for (int i = 0; i < 2; i++) {
		struct shim6_in6 s = swap(SILENT_PFX, SILENT[i]);
		n += snprintf(text + n, sizeof text - (size_t)n,
			"          { ulid = \"%s\"; locators = [ \"%s\" ]; }%s\n",
			ntop(SILENT[i], cm), ntop(s.b, a[0]), i ? " );" : ",");
	}
	assert_true(n > 0 && (size_t)n < sizeof text);
	write_file(path_conf, text, (size_t)n);

	clk = 1000 * SHIM6_NS_PER_S;
	nrec = nchanged = nremoved = nresolve = nsaves = 0;
	gate_open = true;
	have_state_line = false;
	wire_pos = 0;
	memset(&REM, 0, sizeof REM);
	memset(&conf, 0, sizeof conf);
	assert_int_equal(pshim6_conf_load(path_conf, &conf, conf_err, NULL), 0);
	memset(&D, 0, sizeof D);
	D.conf = &conf;
	D.listen_fd = D.sig_fd = D.dp.fd = -1;
	assert_int_equal(tables_init(&D.tables, conf.control.peer_cache, conf.control.lease_table, 1), 0);
	assert_int_equal(ctxtab_init(&D.ctxs, conf.engine.max_contexts), 0);
	te_init(&D.te, &conf);
	log_set_level(PSHIM6_LOG_ERR);
	assert_int_equal(proxy_init(&D), 0);
	remote_up();
	up = true;
}

static int teardown(void **st)
{
	(void)st;
	if (!up)
		return 0;
	proxy_free(&D);
	tables_free(&D.tables);
	ctxtab_free(&D.ctxs);
	shim6_engine_del(REM.eng);
	REM.eng = NULL;
	up = false;
	return 0;
}

/* ---- packets and punts -------------------------------------------------------- */

static uint32_t ip6(uint8_t *p, const uint8_t *src, const uint8_t *dst, uint8_t nh,
		    const uint8_t *payload, uint32_t plen)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	p[4] = (uint8_t)(plen >> 8);
	p[5] = (uint8_t)plen;
	p[6] = nh;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	memcpy(p + 40, payload, plen);
	return 40 + plen;
}

static void punt_raw(uint16_t reason, uint16_t port, const uint8_t *data, uint32_t len, uint32_t orig_len)
{
	struct dpmsg_punt p = { .reason = reason, .port = port, .orig_len = orig_len, .len = len, .data = data };
	proxy_punt(&D, &p);
}

/* An egress packet of the site's host to `dst`, numbered by `seq`. */
static uint32_t host_pkt(uint8_t *buf, const uint8_t *dst, unsigned seq)
{
	uint8_t udp[24];
	for (unsigned i = 0; i < sizeof udp; i++)
		udp[i] = (uint8_t)(seq * 31 + i);
	return ip6(buf, host_cga.addr, dst, NH_UDP, udp, (uint32_t)sizeof udp);
}

static void punt_host(const uint8_t *dst, unsigned seq)
{
	uint8_t buf[128];
	uint32_t n = host_pkt(buf, dst, seq);
	punt_raw(DPMSG_PUNT_NO_CTX, 0, buf, n, n);
}

static unsigned count_type(uint8_t type, unsigned from)
{
	unsigned n = 0;
	for (unsigned i = from; i < nrec; i++)
		n += recs[i].m.type == type;
	return n;
}

static bool is_out(const struct rec *r)
{
	return r->m.type == DPMSG_INJECT && r->m.u.inject.flags == 0 && r->m.u.inject.port >= 1;
}

static bool is_as_rx(const struct rec *r)
{
	return r->m.type == DPMSG_INJECT && r->m.u.inject.flags == DPMSG_INJECT_AS_RX && r->m.u.inject.port == 0;
}

/* A Shim6 message proxy.c sent: its IPv6 header checked against the ISP
 * port it left through, the message decoded. */
static void decode_out(const struct rec *r, struct shim6_msg *m)
{
	assert_true(is_out(r));
	assert_true(r->len > 40);
	assert_int_equal(r->data[0] >> 4, 6);
	assert_int_equal(r->data[6], NH_SHIM6);
	assert_int_equal((r->data[4] << 8 | r->data[5]), r->len - 40);
	unsigned isp = r->m.u.inject.port - 1u;
	assert_true(isp < 2);
	assert_memory_equal(r->data + 8, PA[isp], 8);    /* leaves through the ISP owning its source */
	assert_int_equal(shim6_wire_decode(r->data + 40, r->len - 40, m), 0);
}

static unsigned count_out(uint8_t shim6_type, unsigned from)
{
	unsigned n = 0;
	for (unsigned i = from; i < nrec; i++) {
		struct shim6_msg m;
		if (!is_out(&recs[i]))
			continue;
		decode_out(&recs[i], &m);
		n += m.type == shim6_type;
	}
	return n;
}

/* The network: what proxy.c sent to the remote site's locators reaches
 * the remote engine; what it answers comes back as SHIM6_CTL punts.  Runs
 * until both sides are quiet. */
static void remote_answers(void)
{
	static struct shim6_tx tx;
	static uint8_t pkt[40 + SHIM6_MAX_MSG];
	struct shim6_event ev;
	while (shim6_engine_poll_event(REM.eng, &ev))
		REM.established += ev.type == SHIM6_EV_ESTABLISHED;
	while (shim6_engine_poll_tx(REM.eng, &tx)) {
		uint32_t n = ip6(pkt, tx.src.b, tx.dst.b, NH_SHIM6, tx.buf, (uint32_t)tx.len);
		punt_raw(DPMSG_PUNT_SHIM6_CTL, 1, pkt, n, n);
	}
}

static void pump(void)
{
	for (int round = 0; round < 64; round++) {
		remote_answers();
		if (wire_pos >= nrec)
			return;
		while (wire_pos < nrec) {
			const struct rec *r = &recs[wire_pos++];
			if (!is_out(r) || REM.deaf)
				continue;
			struct shim6_in6 src = in6_of(r->data + 8), dst = in6_of(r->data + 24);
			bool to_remote = false;
			for (int i = 0; i < 2; i++)
				to_remote |= !memcmp(dst.b, RPA[i], 8);
			if (to_remote)
				shim6_engine_recv(REM.eng, r->data + 40, r->len - 40, &src, &dst, clk);
		}
	}
	fail_msg("the handshake does not settle");
}

static void advance(uint64_t ns)
{
	uint64_t end = clk + ns;
	while (clk < end) {
		clk += 10 * MS;
		if (shim6_engine_deadline(REM.eng) <= clk)
			shim6_engine_expire(REM.eng, clk);
		proxy_tick(&D, clk);
		pump();
	}
}

static uint64_t proxy_ctx_id(const uint8_t *peer_ulid)
{
	struct shim6_in6 l = in6_of(host_cga.addr), p = in6_of(peer_ulid);
	uint64_t id = 0;
	assert_int_equal(shim6_engine_ctx_find(proxy_engine(), &l, &p, 0, &id), 0);
	return id;
}

static bool remote_ctx(int h, struct shim6_ctx_info *ci)
{
	struct shim6_in6 l = in6_of(rem_cga[h].addr), p = in6_of(host_cga.addr);
	uint64_t id;
	return shim6_engine_ctx_find(REM.eng, &l, &p, 0, &id) == 0 &&
	       shim6_engine_ctx_info(REM.eng, id, ci) == 0;
}

static const struct rec *only(uint8_t type, unsigned from, unsigned *at)
{
	const struct rec *r = NULL;
	for (unsigned i = from; i < nrec; i++)
		if (recs[i].m.type == type) {
			assert_null(r);
			r = &recs[i];
			if (at)
				*at = i;
		}
	assert_non_null(r);
	return r;
}

static struct shim6_engine_stats engine_stats(void)
{
	struct shim6_engine_stats e;
	shim6_engine_get_stats(proxy_engine(), &e);
	return e;
}

/* The site's locator under `isp` for its host: PA prefix + the CMULA's
 * interface identifier (proxy.c's prefix swap). */
static struct shim6_in6 host_loc(int isp) { return swap(PA[isp], host_cga.addr); }

/* The context the dataplane was told about: both ULIDs, a pair made of
 * one of our locators and one of the peer's, the ISP that owns the local
 * one, and the tags as the two engines know them. */
static void check_ctx_add(const struct dpmsg_ctx *c, int h)
{
	struct shim6_ctx_info ri;
	assert_true(remote_ctx(h, &ri));
	assert_int_equal(ri.state, SHIM6_ST_ESTABLISHED);
	assert_memory_equal(c->local_ulid, host_cga.addr, 16);
	assert_memory_equal(c->remote_ulid, rem_cga[h].addr, 16);
	assert_true(c->isp < 2);
	struct shim6_in6 ll = host_loc(c->isp);
	assert_memory_equal(c->local_loc, ll.b, 16);
	bool peer_ok = false;
	for (int i = 0; i < 2; i++) {
		struct shim6_in6 pl = swap(RPA[i], rem_cga[h].addr);
		peer_ok |= !memcmp(c->remote_loc, pl.b, 16);
	}
	assert_true(peer_ok);
	assert_int_equal(c->own_tag, proxy_ctx_id(rem_cga[h].addr));
	assert_int_equal(c->own_tag, ri.peer_tag);
	assert_int_equal(c->peer_tag, ri.id);
	/* the two ends use the same pair, seen from each side */
	assert_memory_equal(c->local_loc, ri.peer_loc.b, 16);
	assert_memory_equal(c->remote_loc, ri.local_loc.b, 16);
	assert_int_equal(c->fii, 0);
	assert_true(c->flags & DPMSG_CTXF_DEFAULT_FII);
}

/* A context from the site's host to remote host h, established. */
static uint64_t establish(int h, unsigned seq)
{
	unsigned from = nrec;
	punt_host(rem_cga[h].addr, seq);
	pump();
	const struct rec *add = only(DPMSG_CTX_ADD, from, NULL);
	check_ctx_add(&add->m.u.ctx, h);
	return add->m.u.ctx.own_tag;
}

/* ---- tests -------------------------------------------------------------------- */

/* First packets wait for the handshake, then follow the CTX_ADD in the order
 * they came, byte for byte; a packet after it goes straight back in. */
static void test_handshake_holds_then_releases_in_order(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	const struct proxy_stats *ps = proxy_stats(&D);
	uint8_t sent[3][128];
	uint32_t slen[3];
	for (unsigned i = 0; i < 3; i++) {
		slen[i] = host_pkt(sent[i], rem_cga[0].addr, i + 1);
		punt_raw(DPMSG_PUNT_NO_CTX, 0, sent[i], slen[i], slen[i]);
	}
	/* one I1 out, from one of our locators to one of the peer's, nothing installed */
	assert_int_equal(ps->opens, 1);
	assert_int_equal(ps->held, 3);
	assert_int_equal(count_out(SHIM6_TYPE_I1, 0), 1);
	assert_int_equal(count_type(DPMSG_CTX_ADD, 0), 0);
	for (unsigned i = 0; i < nrec; i++)
		assert_false(is_as_rx(&recs[i]));
	struct shim6_engine_stats e = engine_stats();
	assert_int_equal(e.pending, 1);

	pump();
	unsigned at = 0;
	const struct rec *add = only(DPMSG_CTX_ADD, 0, &at);
	check_ctx_add(&add->m.u.ctx, 0);
	assert_int_equal(REM.established, 1);
	/* the held packets, after the CTX_ADD, in arrival order */
	unsigned k = 0;
	for (unsigned i = 0; i < nrec; i++) {
		if (!is_as_rx(&recs[i]))
			continue;
		assert_true(i > at);
		assert_true(k < 3);
		assert_int_equal(recs[i].len, slen[k]);
		assert_memory_equal(recs[i].data, sent[k], slen[k]);
		k++;
	}
	assert_int_equal(k, 3);
	assert_int_equal(ps->held_sent, 3);
	assert_int_equal(ps->held_dropped_full + ps->held_dropped_failed, 0);
	struct ctl_ctx *x = ctxtab_find(&D.ctxs, add->m.u.ctx.own_tag);
	assert_non_null(x);
	assert_int_equal(x->state, SHIM6_ST_ESTABLISHED);
	assert_memory_equal(&x->d, &add->m.u.ctx, sizeof x->d);
	assert_true(nchanged >= 1);

	/* the dataplane raced the install: the packet goes back in, no new handshake */
	unsigned from = nrec;
	uint8_t late[128];
	uint32_t ln = host_pkt(late, rem_cga[0].addr, 9);
	punt_raw(DPMSG_PUNT_NO_CTX, 0, late, ln, ln);
	assert_int_equal(nrec, from + 1);
	assert_true(is_as_rx(&recs[from]));
	assert_memory_equal(recs[from].data, late, ln);
	assert_int_equal(ps->opens, 1);
	assert_int_equal(ps->held, 3);
}

/* control.hold_packets per context, control.hold_total in all, and
 * engine.max_pending handshakes: beyond them a packet is dropped and
 * counted, and never shows up later. */
static void test_hold_bounds(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .hold_packets = 2, .hold_total = 3, .max_pending = 2 });
	const struct proxy_stats *ps = proxy_stats(&D);
	uint8_t a[3][128];
	uint32_t alen[3];
	for (unsigned i = 0; i < 3; i++) {
		alen[i] = host_pkt(a[i], rem_cga[0].addr, 10 + i);
		punt_raw(DPMSG_PUNT_NO_CTX, 0, a[i], alen[i], alen[i]);
	}
	assert_int_equal(ps->held, 2);
	assert_int_equal(ps->held_dropped_full, 1);
	/* a second context: one slot left in all */
	punt_host(SILENT[0], 20);
	punt_host(SILENT[0], 21);
	assert_int_equal(ps->held, 3);
	assert_int_equal(ps->held_dropped_full, 2);
	assert_int_equal(ps->opens, 2);
	/* a third handshake is refused: the packet is neither held nor counted as held */
	assert_int_equal(engine_stats().pending, 2);
	punt_host(SILENT[1], 30);
	assert_int_equal(ps->open_refused, 1);
	assert_int_equal(ps->opens, 2);
	assert_int_equal(ps->held, 3);
	assert_int_equal(engine_stats().pending, 2);

	pump();
	only(DPMSG_CTX_ADD, 0, NULL);
	unsigned k = 0;
	for (unsigned i = 0; i < nrec; i++) {
		if (!is_as_rx(&recs[i]))
			continue;
		assert_true(k < 2);
		assert_int_equal(recs[i].len, alen[k]);
		assert_memory_equal(recs[i].data, a[k], alen[k]);
		k++;
	}
	assert_int_equal(k, 2);
	assert_int_equal(ps->held_sent, 2);
	/* A's slots are free again, the silent peer still holds its one */
	punt_host(SILENT[0], 22);
	assert_int_equal(ps->held, 4);
	assert_int_equal(ps->held_dropped_full, 2);
	punt_host(SILENT[0], 23);
	assert_int_equal(ps->held_dropped_full, 3);
}

/* The peer never answers: the I1 is retried, then the packets are dropped
 * (counted), nothing reaches the dataplane's table, and the peer is held
 * down. */
static void test_no_answer(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	const struct proxy_stats *ps = proxy_stats(&D);
	REM.deaf = true;
	punt_host(rem_cga[0].addr, 1);
	punt_host(rem_cga[0].addr, 2);
	assert_int_equal(ps->held, 2);
	advance(10 * SHIM6_NS_PER_S);
	assert_int_equal(count_out(SHIM6_TYPE_I1, 0), 1 + conf.shim6.i1_retries);
	assert_int_equal(ps->held_dropped_failed, 2);
	assert_int_equal(ps->held_sent, 0);
	assert_int_equal(count_type(DPMSG_CTX_ADD, 0) + count_type(DPMSG_CTX_MOD, 0) +
			 count_type(DPMSG_CTX_DEL, 0), 0);
	for (unsigned i = 0; i < nrec; i++)
		assert_false(is_as_rx(&recs[i]));
	assert_int_equal(D.ctxs.n, 0);
	/* held down: no new handshake, nothing held */
	unsigned from = nrec;
	punt_host(rem_cga[0].addr, 3);
	assert_int_equal(ps->holddown, 1);
	assert_int_equal(ps->held, 2);
	assert_int_equal(nrec, from);
	/* no inside address: no source for an error */
	assert_int_equal(ps->unreach_sent, 0);
}

/* The ICMPv6 errors sent out of the inside port from record `from` on: each
 * checked, and the packet it carries appended to `about` (their seqs). */
static unsigned unreachables(unsigned from, unsigned *about)
{
	uint8_t own[16];
	unsigned n = 0;
	inet_pton(AF_INET6, INSIDE_ADDR, own);
	for (unsigned i = from; i < nrec; i++) {
		const struct rec *r = &recs[i];
		if (r->m.type != DPMSG_INJECT || r->m.u.inject.port != 0 || r->m.u.inject.flags != 0)
			continue;
		const uint8_t *p = r->data;
		assert_true(r->len >= 48 + 40);
		assert_int_equal(p[6], 58);
		assert_memory_equal(p + 8, own, 16);
		assert_memory_equal(p + 24, host_cga.addr, 16);
		assert_int_equal(p[40], 1);
		assert_int_equal(p[41], 3);
		/* the host's packet inside, from it to the peer */
		assert_memory_equal(p + 48 + 8, host_cga.addr, 16);
		uint8_t want[128];
		uint32_t wl = host_pkt(want, p + 48 + 24, 0);
		assert_int_equal(r->len, 48 + wl);
		about[n++] = (unsigned)(p[48 + 40] - 0) / 31;   /* host_pkt's first payload octet is seq * 31 */
	}
	return n;
}

/* With an inside address, the host is told at once: each held packet of a
 * peer that never answered comes back as an ICMPv6 Destination Unreachable
 * (address unreachable), and so does each packet punted while the peer is
 * held down. */
static void test_no_answer_is_told_to_the_host(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .inside_address = true });
	const struct proxy_stats *ps = proxy_stats(&D);
	unsigned about[8];
	REM.deaf = true;
	punt_host(rem_cga[0].addr, 1);
	punt_host(rem_cga[0].addr, 2);
	assert_int_equal(unreachables(0, about), 0);   /* not while the handshake runs */
	advance(10 * SHIM6_NS_PER_S);
	assert_int_equal(ps->held_dropped_failed, 2);
	assert_int_equal(unreachables(0, about), 2);
	assert_int_equal(about[0], 1);
	assert_int_equal(about[1], 2);
	unsigned from = nrec;
	punt_host(rem_cga[0].addr, 3);
	assert_int_equal(ps->holddown, 1);
	assert_int_equal(unreachables(from, about), 1);
	assert_int_equal(about[0], 3);
	assert_int_equal(ps->unreach_sent, 3);
	/* a burst of the host's retries: the bucket, full again after the
	 * handshake's seconds, had UNREACH_BURST and seq 3 took one */
	for (unsigned k = 0; k < 20; k++)
		punt_host(rem_cga[0].addr, 4);
	assert_int_equal(ps->unreach_sent, 3 + UNREACH_BURST - 1);
	assert_int_equal(ps->unreach_limited, 20 - (UNREACH_BURST - 1));
}

/* The ISP of each first I1 sent from record `from` on, as a bit set. */
static uint32_t i1_isps(unsigned from)
{
	uint32_t set = 0;
	for (unsigned i = from; i < nrec; i++) {
		struct shim6_msg m;
		if (!is_out(&recs[i]))
			continue;
		decode_out(&recs[i], &m);
		if (m.type == SHIM6_TYPE_I1)
			set |= 1u << (recs[i].m.u.inject.port - 1u);
	}
	return set;
}

/* With ISP x failed by the dataplane's probes, new contexts start through
 * ISP y, where the weights alone alternate; with every ISP failed the
 * probes are no reason to send nothing, and the weights choose again. */
static void test_new_contexts_avoid_an_isp_the_probes_failed(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	REM.deaf = true;
	D.dp.isp_down = 1u << 0;
	punt_host(rem_cga[0].addr, 1);
	punt_host(rem_cga[1].addr, 1);
	punt_host(SILENT[0], 1);
	assert_int_equal(count_out(SHIM6_TYPE_I1, 0), 3);
	assert_int_equal(i1_isps(0), 1u << 1);
	assert_int_equal(D.te.chosen[1], 3);
	unsigned from = nrec;
	D.dp.isp_down = 3;
	uint64_t chose_x = D.te.chosen[0];
	punt_host(SILENT[1], 1);
	assert_int_equal(count_out(SHIM6_TYPE_I1, from), 1);
	/* TE's choice among both, started again: x first */
	assert_int_equal(i1_isps(from), 1u << 0);
	assert_int_equal(D.te.chosen[0], chose_x + 1);
	D.dp.isp_down = 0;
}

/* With ISP x failed when a context is opened, none of its handshake's
 * retries goes through x either (the engine keeps the failed prefix for
 * contexts set up later, not only TE's first choice); once x works again,
 * a new context's retries reach it. */
static void test_handshake_retries_avoid_an_isp_the_probes_failed(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	REM.deaf = true;
	D.dp.isp_down = 1u << 0;
	proxy_isp_state(&D, 0, true);
	punt_host(rem_cga[0].addr, 1);
	advance(10 * SHIM6_NS_PER_S);
	assert_int_equal(count_out(SHIM6_TYPE_I1, 0), 1 + conf.shim6.i1_retries);
	assert_int_equal(i1_isps(0), 1u << 1);
	unsigned from = nrec;
	D.dp.isp_down = 0;
	proxy_isp_state(&D, 0, false);
	punt_host(rem_cga[1].addr, 1);
	advance(10 * SHIM6_NS_PER_S);
	assert_int_equal(count_out(SHIM6_TYPE_I1, from), 1 + conf.shim6.i1_retries);
	assert_int_equal(i1_isps(from), 3);
}

/* A peer whose locator list does not verify is never installed: its R2 is
 * dropped, the held packets go when the handshake gives up. */
static void bad_peer(bool pds_rogue)
{
	rig_up(&(struct opts){ 0 });
	const struct proxy_stats *ps = proxy_stats(&D);
	REM.sign_rogue = !pds_rogue;
	REM.pds_rogue = pds_rogue;
	punt_host(rem_cga[0].addr, 1);
	pump();
	/* the remote end took our I2 (our signature is good) and answered */
	assert_int_equal(REM.established, 1);
	assert_int_equal(count_type(DPMSG_CTX_ADD, 0), 0);
	assert_true(engine_stats().verify_failed >= 1);
	assert_int_equal(ps->held_sent, 0);
	advance(10 * SHIM6_NS_PER_S);
	assert_int_equal(count_type(DPMSG_CTX_ADD, 0) + count_type(DPMSG_CTX_MOD, 0), 0);
	for (unsigned i = 0; i < nrec; i++)
		assert_false(is_as_rx(&recs[i]));
	assert_int_equal(ps->held_dropped_failed, 1);
	assert_int_equal(D.ctxs.n, 0);
}

static void test_bad_signature(void **st) { (void)st; bad_peer(false); }
static void test_bad_pds(void **st) { (void)st; bad_peer(true); }

/* A payload packet with a tag nobody knows gets an R1bis back, from the
 * address it was sent to, with that tag, and the engine keeps nothing. */
static void test_unknown_tag_r1bis(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	const struct proxy_stats *ps = proxy_stats(&D);
	uint64_t tag = 0;
	assert_int_equal(RAND_bytes((unsigned char *)&tag, sizeof tag), 1);
	tag = (tag & DPMSG_TAG_MASK) | 1;
	uint8_t body[8 + 16], pkt[128];
	assert_int_equal(shim6_wire_payload_encode(NH_UDP, tag, body), SHIM6_PAYLOAD_HDR_LEN);
	memset(body + 8, 0xab, 16);
	struct shim6_in6 from = swap(RPA[1], rem_cga[0].addr), to = host_loc(1);
	uint32_t n = ip6(pkt, from.b, to.b, NH_SHIM6, body, sizeof body);
	punt_raw(DPMSG_PUNT_UNKNOWN_TAG, 2, pkt, n, n);
	assert_int_equal(ps->punt_unknown_tag, 1);
	assert_int_equal(nrec, 1);
	struct shim6_msg m;
	decode_out(&recs[0], &m);
	assert_int_equal(recs[0].m.u.inject.port, 2);
	assert_memory_equal(recs[0].data + 8, to.b, 16);
	assert_memory_equal(recs[0].data + 24, from.b, 16);
	assert_int_equal(m.type, SHIM6_TYPE_R1BIS);
	assert_int_equal(m.m.r1bis.pkt_ctag, tag);
	struct shim6_engine_stats e = engine_stats();
	assert_int_equal(e.contexts, 0);
	assert_int_equal(e.pending, 0);
	assert_int_equal(e.r1bis_sent, 1);
}

/* The remote site opens: our R1 keeps nothing, an I2 whose validator was
 * tampered with keeps nothing, the genuine I2 installs the context. */
static void test_responder_keeps_nothing_before_valid_i2(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	struct shim6_in6 rl = in6_of(rem_cga[0].addr), hl = in6_of(host_cga.addr);
	struct shim6_in6 locs[2] = { host_loc(0), host_loc(1) };
	uint64_t rid;
	assert_int_equal(shim6_engine_open(REM.eng, &rl, &hl, locs, 2, 0, clk, &rid), 0);
	static struct shim6_tx tx;
	static uint8_t pkt[40 + 8 + SHIM6_MAX_MSG];
	/* the I1 behind a Hop-by-Hop header: the punt path walks it */
	assert_int_equal(shim6_engine_poll_tx(REM.eng, &tx), 1);
	uint8_t hbh_i1[8 + SHIM6_MAX_MSG] = { NH_SHIM6, 0, 1, 4 };
	memcpy(hbh_i1 + 8, tx.buf, tx.len);
	uint32_t n = ip6(pkt, tx.src.b, tx.dst.b, 0, hbh_i1, (uint32_t)(8 + tx.len));
	punt_raw(DPMSG_PUNT_SHIM6_CTL, 1, pkt, n, n);
	assert_int_equal(proxy_stats(&D)->punt_bad, 0);
	struct shim6_msg m;
	assert_int_equal(nrec, 1);
	decode_out(&recs[0], &m);
	assert_int_equal(m.type, SHIM6_TYPE_R1);
	struct shim6_engine_stats e = engine_stats();
	assert_int_equal(e.contexts, 0);
	assert_int_equal(e.pending, 0);

	/* the R1 to the remote end: its I2 comes back */
	struct shim6_in6 s = in6_of(recs[0].data + 8), dd = in6_of(recs[0].data + 24);
	assert_int_equal(shim6_engine_recv(REM.eng, recs[0].data + 40, recs[0].len - 40, &s, &dd, clk), 0);
	assert_int_equal(shim6_engine_poll_tx(REM.eng, &tx), 1);
	static uint8_t i2[SHIM6_MAX_MSG], bad[SHIM6_MAX_MSG];
	memcpy(i2, tx.buf, tx.len);
	size_t i2len = tx.len;
	assert_int_equal(shim6_wire_decode(i2, i2len, &m), 0);
	assert_int_equal(m.type, SHIM6_TYPE_I2);

	/* the validator changed, the checksum right: refused, nothing kept */
	static uint8_t copy[SHIM6_MAX_MSG];
	memcpy(copy, i2, i2len);
	assert_int_equal(shim6_wire_decode(copy, i2len, &m), 0);
	assert_non_null(m.validator);
	copy[m.validator->u.bytes.data - copy] ^= 0x5a;
	int blen = shim6_wire_encode(&m, bad, sizeof bad);
	assert_int_equal(blen, (int)i2len);
	n = ip6(pkt, tx.src.b, tx.dst.b, NH_SHIM6, bad, (uint32_t)blen);
	unsigned from = nrec;
	punt_raw(DPMSG_PUNT_SHIM6_CTL, 1, pkt, n, n);
	e = engine_stats();
	assert_int_equal(e.validator_bad, 1);
	assert_int_equal(e.contexts, 0);
	assert_int_equal(e.pending, 0);
	assert_int_equal(count_type(DPMSG_CTX_ADD, from), 0);
	assert_int_equal(D.ctxs.n, 0);

	/* the genuine one */
	from = nrec;
	n = ip6(pkt, tx.src.b, tx.dst.b, NH_SHIM6, i2, (uint32_t)i2len);
	punt_raw(DPMSG_PUNT_SHIM6_CTL, 1, pkt, n, n);
	assert_int_equal(count_out(SHIM6_TYPE_R2, from), 1);
	wire_pos = from;
	pump();
	const struct rec *add = only(DPMSG_CTX_ADD, from, NULL);
	check_ctx_add(&add->m.u.ctx, 0);
	assert_int_equal(add->m.u.ctx.peer_tag, rid);
	assert_int_equal(engine_stats().contexts, 1);
}

static enum shim6_reap_state engine_reap(uint64_t id)
{
	struct shim6_ctx_info ci;
	assert_int_equal(shim6_engine_ctx_info(proxy_engine(), id, &ci), 0);
	return ci.reap;
}

/* The dataplane's REAP stamps drive the engine: sending with nothing
 * coming back for longer than the send timeout starts an exploration
 * (probes out); stamps that did not move say nothing. */
static void test_reap_stamps(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	uint64_t a = establish(0, 1);
	uint64_t b = establish(1, 2);
	REM.deaf = true;
	uint64_t t = clk;
	proxy_reap(&D, a, t, 0, 0, 0);          /* a: sent, newer than before */
	proxy_reap(&D, b, t, 0, t, 0);          /* b: the same stamp as last time */
	unsigned from = nrec;
	advance(conf.reap.send_timeout_ms * MS + 200 * MS);
	assert_int_equal(engine_reap(a), SHIM6_REAP_EXPLORING);
	assert_int_equal(engine_reap(b), SHIM6_REAP_OPERATIONAL);
	assert_true(count_out(SHIM6_TYPE_PROBE, from) >= 1);
	proxy_reap(&D, a, t, 0, t, 0);
	proxy_reap(&D, b, t, 0, t, 0);
	assert_int_equal(ctxtab_find(&D.ctxs, a)->reap, SHIM6_REAP_EXPLORING);
	assert_int_equal(ctxtab_find(&D.ctxs, b)->reap, SHIM6_REAP_OPERATIONAL);
}

/* A context the engine drops is deleted from the dataplane (and peer.c
 * told); releasing everything deletes the rest, or, keeping the
 * dataplane's entries, writes nothing. */
static void test_removed_and_release_all(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	uint64_t a = establish(0, 1);
	uint64_t b = establish(1, 2);
	const struct proxy_stats *ps = proxy_stats(&D);
	unsigned from = nrec;
	assert_int_equal(shim6_engine_close(proxy_engine(), a, clk), 0);
	proxy_tick(&D, clk);
	const struct rec *del = only(DPMSG_CTX_DEL, from, NULL);
	assert_int_equal(del->m.u.ctx.own_tag, a);
	assert_int_equal(nrec, from + 1);
	assert_null(ctxtab_find(&D.ctxs, a));
	assert_non_null(ctxtab_find(&D.ctxs, b));
	assert_int_equal(nremoved, 1);
	assert_int_equal(removed_tags[0], a);
	assert_int_equal(ps->ctx_removed, 1);

	/* a handshake in progress with a packet held, and b established */
	punt_host(SILENT[0], 5);
	assert_int_equal(ps->held, 3);
	from = nrec;
	proxy_release_all(&D, false);
	del = only(DPMSG_CTX_DEL, from, NULL);
	assert_int_equal(del->m.u.ctx.own_tag, b);
	assert_int_equal(nrec, from + 1);
	assert_int_equal(D.ctxs.n, 0);
	struct shim6_engine_stats e = engine_stats();
	assert_int_equal(e.contexts, 0);
	assert_int_equal(ps->held_dropped_failed, 1);
	teardown(NULL);

	rig_up(&(struct opts){ 0 });
	establish(0, 1);
	establish(1, 2);
	punt_host(SILENT[0], 5);
	from = nrec;
	unsigned removed = nremoved;
	proxy_release_all(&D, true);
	assert_int_equal(nrec, from);
	assert_int_equal(D.ctxs.n, 0);
	assert_int_equal(engine_stats().contexts, 0);
	assert_int_equal(nremoved, removed);
	assert_int_equal(proxy_stats(&D)->held_dropped_failed, 1);
}

/* Punted though installed: just after the install the punt raced it and
 * nothing is rewritten; a second later the write was lost, and the same
 * context is installed again, at most once a second. */
static void test_reinstall_if_lost(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	const struct proxy_stats *ps = proxy_stats(&D);
	uint64_t a = establish(0, 1);
	assert_non_null(ctxtab_find(&D.ctxs, a));
	struct dpmsg_ctx installed = ctxtab_find(&D.ctxs, a)->d;
	REM.deaf = true;
	uint8_t body[8 + 16], pkt[128];
	assert_int_equal(shim6_wire_payload_encode(NH_UDP, a, body), SHIM6_PAYLOAD_HDR_LEN);
	memset(body + 8, 0xcd, 16);
	uint32_t n = ip6(pkt, installed.remote_loc, installed.local_loc, NH_SHIM6, body, sizeof body);
	unsigned from = nrec;
	punt_raw(DPMSG_PUNT_UNKNOWN_TAG, 1u + installed.isp, pkt, n, n);
	assert_int_equal(nrec, from);           /* ours and established: no R1bis either */
	assert_int_equal(ps->reinstalled, 0);

	clk += 1500 * MS;
	punt_raw(DPMSG_PUNT_UNKNOWN_TAG, 1u + installed.isp, pkt, n, n);
	assert_int_equal(nrec, from + 1);
	assert_int_equal(recs[from].m.type, DPMSG_CTX_ADD);
	assert_memory_equal(&recs[from].m.u.ctx, &installed, sizeof installed);
	assert_int_equal(ps->reinstalled, 1);
	punt_raw(DPMSG_PUNT_UNKNOWN_TAG, 1u + installed.isp, pkt, n, n);
	assert_int_equal(nrec, from + 1);

	/* a first packet: installed again, then the packet itself */
	clk += 1500 * MS;
	uint8_t p2[128];
	uint32_t n2 = host_pkt(p2, rem_cga[0].addr, 7);
	from = nrec;
	punt_raw(DPMSG_PUNT_NO_CTX, 0, p2, n2, n2);
	assert_int_equal(nrec, from + 2);
	assert_int_equal(recs[from].m.type, DPMSG_CTX_ADD);
	assert_memory_equal(&recs[from].m.u.ctx, &installed, sizeof installed);
	assert_true(is_as_rx(&recs[from + 1]));
	assert_memory_equal(recs[from + 1].data, p2, n2);
	assert_int_equal(ps->reinstalled, 2);
	assert_int_equal(ps->opens, 1);
}

/* Control's context table full of contexts taken from a dataplane dump
 * (dp.c tracks them even when the engine cannot import them): a handshake
 * that ends then is not installed, and its held packets are dropped, not
 * injected ahead of a context the dataplane does not have. */
static void test_ctxtab_full_not_installed(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	const struct proxy_stats *ps = proxy_stats(&D);
	ctxtab_free(&D.ctxs);
	assert_int_equal(ctxtab_init(&D.ctxs, 1), 0);
	struct dpmsg_ctx dumped = { .own_tag = 0x77, .peer_tag = 0x78 };
	memcpy(dumped.local_ulid, host_cga.addr, 16);
	memcpy(dumped.remote_ulid, SILENT[1], 16);
	struct ctl_ctx *x = ctxtab_add(&D.ctxs, &dumped);
	assert_non_null(x);
	x->origin = CTX_FROM_DUMP;
	punt_host(rem_cga[0].addr, 1);
	punt_host(rem_cga[0].addr, 2);
	pump();
	assert_int_equal(REM.established, 1);
	assert_int_equal(count_type(DPMSG_CTX_ADD, 0) + count_type(DPMSG_CTX_MOD, 0), 0);
	for (unsigned i = 0; i < nrec; i++)
		assert_false(is_as_rx(&recs[i]));
	assert_int_equal(ps->held_dropped_failed, 2);
	assert_int_equal(ps->held_sent, 0);
	assert_int_equal(ps->ctx_installed, 0);
	assert_int_equal(D.ctxs.n, 1);
	assert_non_null(ctxtab_find(&D.ctxs, 0x77));
	/* the engine has the context and control never installed it: what the
	 * host sends next is held, no event will ever end that, and it goes
	 * after 10 s instead of keeping its slots for good */
	uint64_t held = ps->held, t = clk;
	punt_host(rem_cga[0].addr, 3);
	punt_host(rem_cga[0].addr, 4);
	assert_int_equal(ps->held, held + 2);
	assert_true(proxy_deadline(&D) <= t + 10 * SHIM6_NS_PER_S);
	advance(10 * SHIM6_NS_PER_S - 100 * MS);
	assert_int_equal(ps->held_dropped_expired, 0);
	advance(200 * MS);
	assert_int_equal(ps->held_dropped_expired, 2);
	assert_int_equal(ps->held_sent, 0);
	for (unsigned i = 0; i < nrec; i++)
		assert_false(is_as_rx(&recs[i]));
}

/* Punts that cannot be what they claim: counted, and nothing else moves. */
static void test_malformed_punts(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	const struct proxy_stats *ps = proxy_stats(&D);
	uint8_t pkt[256], body[64];
	struct shim6_in6 from = swap(RPA[0], rem_cga[0].addr), to = host_loc(0);
	struct shim6_engine_stats e0 = engine_stats();
	uint64_t bad = 0;

	/* shorter than an IPv6 header, for every reason */
	uint32_t n = host_pkt(pkt, rem_cga[0].addr, 1);
	for (uint16_t r = DPMSG_PUNT_NO_CTX; r <= DPMSG_PUNT_SHIM6_CTL; r++) {
		punt_raw(r, 0, pkt, 39, 39);
		assert_int_equal(ps->punt_bad, ++bad);
	}
	/* a truncated copy of a first packet cannot be replayed */
	punt_raw(DPMSG_PUNT_NO_CTX, 0, pkt, n, n + 1);
	assert_int_equal(ps->punt_bad, ++bad);
	/* not IPv6 */
	memset(body, 0, sizeof body);
	n = ip6(pkt, from.b, to.b, NH_SHIM6, body, 16);
	pkt[0] = 0x45;
	punt_raw(DPMSG_PUNT_NO_CTX, 0, pkt, n, n);
	assert_int_equal(ps->punt_bad, ++bad);
	punt_raw(DPMSG_PUNT_SHIM6_CTL, 1, pkt, n, n);
	assert_int_equal(ps->punt_bad, ++bad);
	punt_raw(DPMSG_PUNT_UNKNOWN_TAG, 1, pkt, n, n);
	assert_int_equal(ps->punt_bad, ++bad);
	/* no Shim6 header behind the IPv6 one */
	n = ip6(pkt, from.b, to.b, NH_UDP, body, 16);
	punt_raw(DPMSG_PUNT_SHIM6_CTL, 1, pkt, n, n);
	assert_int_equal(ps->punt_bad, ++bad);
	/* a Shim6 header cut short */
	n = ip6(pkt, from.b, to.b, NH_SHIM6, body, 4);
	punt_raw(DPMSG_PUNT_SHIM6_CTL, 1, pkt, n, n);
	assert_int_equal(ps->punt_bad, ++bad);
	punt_raw(DPMSG_PUNT_UNKNOWN_TAG, 1, pkt, n, n);
	assert_int_equal(ps->punt_bad, ++bad);
	/* a Hop-by-Hop header whose length runs past the packet */
	body[0] = NH_SHIM6;
	body[1] = 20;
	n = ip6(pkt, from.b, to.b, 0, body, 24);
	punt_raw(DPMSG_PUNT_SHIM6_CTL, 1, pkt, n, n);
	assert_int_equal(ps->punt_bad, ++bad);
	/* ... and one cut inside its first 8 octets */
	n = ip6(pkt, from.b, to.b, 0, body, 4);
	punt_raw(DPMSG_PUNT_UNKNOWN_TAG, 1, pkt, n, n);
	assert_int_equal(ps->punt_bad, ++bad);
	/* more extension headers than anyone sends */
	uint8_t chain[10 * 8];
	memset(chain, 0, sizeof chain);
	for (unsigned i = 0; i < 9; i++)
		chain[8 * i] = i < 8 ? 60 : NH_SHIM6;
	n = ip6(pkt, from.b, to.b, 60, chain, sizeof chain);
	punt_raw(DPMSG_PUNT_SHIM6_CTL, 1, pkt, n, n);
	assert_int_equal(ps->punt_bad, ++bad);
	/* a reason nobody defined */
	n = host_pkt(pkt, rem_cga[0].addr, 1);
	punt_raw(9, 0, pkt, n, n);
	assert_int_equal(ps->punt_bad, ++bad);

	assert_int_equal(nrec, 0);
	assert_int_equal(nresolve, 0);
	assert_int_equal(D.ctxs.n, 0);
	struct shim6_engine_stats e1 = engine_stats();
	assert_int_equal(e1.rx_msgs, e0.rx_msgs);
	assert_int_equal(e1.contexts, 0);
	assert_int_equal(e1.r1bis_sent, 0);
	assert_int_equal(ps->opens + ps->held + ps->no_locators, 0);

	/* peer.c says no (a standby): not even looked at */
	gate_open = false;
	n = host_pkt(pkt, rem_cga[0].addr, 1);
	punt_raw(DPMSG_PUNT_NO_CTX, 0, pkt, n, n);
	punt_raw(DPMSG_PUNT_NO_CTX, 0, pkt, 10, 10);
	assert_int_equal(ps->punt_no_ctx, 1);    /* the truncated copy (the short one is not even that) */
	assert_int_equal(ps->punt_bad, bad);
	assert_int_equal(nrec, 0);
	assert_int_equal(engine_stats().pending, 0);
}

/* Our locator on the context's ISP goes down: REAP moves the context to
 * the other ISP, and the dataplane gets one CTX_MOD with the new pair, the
 * ISP that owns the new local locator and the same tags; control's table
 * shows the pair, peer.c is told and the state file is written again. */
static void test_pair_changed_mods_dataplane(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	const struct proxy_stats *ps = proxy_stats(&D);
	uint64_t a = establish(0, 1);
	struct dpmsg_ctx before = ctxtab_find(&D.ctxs, a)->d;
	unsigned from = nrec, changed = nchanged, saves = nsaves;
	struct shim6_in6 down = in6_of(before.local_loc);
	assert_int_equal(shim6_engine_locator_down(proxy_engine(), &down, clk), 0);
	advance(3 * SHIM6_NS_PER_S);
	const struct rec *mod = only(DPMSG_CTX_MOD, from, NULL);
	assert_int_equal(count_type(DPMSG_CTX_ADD, from) + count_type(DPMSG_CTX_DEL, from), 0);
	const struct dpmsg_ctx *c = &mod->m.u.mod.ctx;
	assert_int_equal(mod->m.u.mod.what, DPMSG_MOD_LOCATORS);   /* the peer's tag stays */
	assert_int_equal(c->own_tag, a);
	assert_int_equal(c->peer_tag, before.peer_tag);
	assert_memory_equal(c->local_ulid, before.local_ulid, 16);
	assert_memory_equal(c->remote_ulid, before.remote_ulid, 16);
	assert_int_equal(c->fii, before.fii);
	assert_int_equal(c->flags, before.flags);
	assert_int_equal(c->isp, 1 - before.isp);
	struct shim6_in6 ll = host_loc(c->isp);
	assert_memory_equal(c->local_loc, ll.b, 16);
	bool peer_ok = false;
	for (int i = 0; i < 2; i++) {
		struct shim6_in6 pl = swap(RPA[i], rem_cga[0].addr);
		peer_ok |= !memcmp(c->remote_loc, pl.b, 16);
	}
	assert_true(peer_ok);
	struct shim6_ctx_info ci;
	assert_int_equal(shim6_engine_ctx_info(proxy_engine(), a, &ci), 0);
	assert_memory_equal(ci.local_loc.b, c->local_loc, 16);
	assert_memory_equal(ci.peer_loc.b, c->remote_loc, 16);
	struct ctl_ctx *x = ctxtab_find(&D.ctxs, a);
	assert_non_null(x);
	assert_memory_equal(&x->d, c, sizeof *c);
	assert_int_equal(x->pair_changes, 1);
	assert_int_equal(x->reap, SHIM6_REAP_OPERATIONAL);
	assert_int_equal(ps->pair_changes, 1);
	assert_true(nchanged > changed);
	assert_true(nsaves > saves);
}

/* The dataplane's probes fail the context's ISP: the context probes other
 * paths at once (no wait for the Send Timeout), moves to the other ISP, and
 * the ISP coming back changes nothing. */
static void test_probes_failing_an_isp_move_its_contexts_at_once(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	const struct proxy_stats *ps = proxy_stats(&D);
	uint64_t a = establish(0, 1);
	struct dpmsg_ctx before = ctxtab_find(&D.ctxs, a)->d;
	unsigned from = nrec;
	/* the other ISP fails and comes back: nothing is on it */
	proxy_isp_state(&D, 1 - before.isp, true);
	proxy_isp_state(&D, 1 - before.isp, false);
	assert_int_equal(ps->isp_explores, 0);
	assert_int_equal(nrec, from);
	proxy_isp_state(&D, before.isp, true);
	assert_int_equal(ps->isp_explores, 1);
	/* probes out within the first probe interval, none from the failed ISP's locators */
	advance(conf.reap.initial_probe_ms * MS);
	unsigned probes = 0;
	for (unsigned i = from; i < nrec; i++) {
		struct shim6_msg m;
		if (!is_out(&recs[i]))
			continue;
		decode_out(&recs[i], &m);
		if (m.type != SHIM6_TYPE_PROBE)
			continue;
		probes++;
		assert_int_equal(recs[i].m.u.inject.port - 1u, 1 - before.isp);
	}
	assert_true(probes >= 1);
	advance(400 * MS);   /* half the Send Timeout in all */
	const struct rec *mod = only(DPMSG_CTX_MOD, from, NULL);
	assert_int_equal(mod->m.u.mod.ctx.isp, 1 - before.isp);
	from = nrec;
	proxy_isp_state(&D, before.isp, false);
	advance(2 * SHIM6_NS_PER_S);
	assert_int_equal(count_type(DPMSG_CTX_MOD, from), 0);
	assert_int_equal(ctxtab_find(&D.ctxs, a)->d.isp, 1 - before.isp);
}

/* Control restarts with the context established: the dataplane keeps its
 * entry, and this is the entry its dump gives back. */
static struct dpmsg_ctx restart_control(void)
{
	uint64_t a = establish(0, 1);
	struct dpmsg_ctx dumped = ctxtab_find(&D.ctxs, a)->d;
	proxy_free(&D);
	ctxtab_clear(&D.ctxs);
	nrec = wire_pos = 0;
	assert_int_equal(proxy_init(&D), 0);
	return dumped;
}

/* An entry for the site's host to remote host h on one of its locators,
 * under tags nobody uses. */
static struct dpmsg_ctx dump_entry(int h, uint64_t own, uint64_t peer)
{
	struct dpmsg_ctx c = { .own_tag = own, .peer_tag = peer, .isp = 1, .flags = DPMSG_CTXF_DEFAULT_FII };
	struct shim6_in6 ll = host_loc(1), pl = swap(RPA[0], rem_cga[h].addr);
	memcpy(c.local_ulid, host_cga.addr, 16);
	memcpy(c.remote_ulid, rem_cga[h].addr, 16);
	memcpy(c.local_loc, ll.b, 16);
	memcpy(c.remote_loc, pl.b, 16);
	return c;
}

/* A dumped context without a state line enters the engine established,
 * under the dumped tags and pair, with the peer's other locators from the
 * config; nothing goes to the peer and nothing is written back to the
 * dataplane, which has the entry.  The same tag twice, a pair that is not
 * ours, a zero tag: refused, and nothing stays behind. */
static void test_import_dumped_context(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	struct dpmsg_ctx dumped = restart_control();
	const struct proxy_stats *ps = proxy_stats(&D);
	/* as dp.c does: tracked first, then handed to the engine */
	struct ctl_ctx *x = ctxtab_add(&D.ctxs, &dumped);
	assert_non_null(x);
	x->state = SHIM6_ST_ESTABLISHED;
	x->origin = CTX_FROM_DUMP;
	x->created_ns = clk;
	assert_int_equal(proxy_import(&D, &dumped), 0);
	assert_int_equal(ps->imported, 1);
	proxy_tick(&D, clk);
	assert_int_equal(nrec, 0);
	struct shim6_engine_stats e = engine_stats();
	assert_int_equal(e.contexts, 1);
	assert_int_equal(e.ctx_imported, 1);
	assert_int_equal(e.tx_msgs, 0);

	struct shim6_ctx_info ci;
	assert_int_equal(shim6_engine_ctx_info(proxy_engine(), dumped.own_tag, &ci), 0);
	assert_int_equal(ci.state, SHIM6_ST_ESTABLISHED);
	assert_int_equal(ci.reap, SHIM6_REAP_OPERATIONAL);
	assert_int_equal(ci.peer_tag, dumped.peer_tag);
	assert_memory_equal(ci.local_ulid.b, dumped.local_ulid, 16);
	assert_memory_equal(ci.peer_ulid.b, dumped.remote_ulid, 16);
	assert_memory_equal(ci.local_loc.b, dumped.local_loc, 16);
	assert_memory_equal(ci.peer_loc.b, dumped.remote_loc, 16);
	assert_int_equal(ci.npeer, 2);
	assert_memory_equal(ci.peer_locs[0].addr.b, dumped.remote_loc, 16);
	struct shim6_in6 other = swap(RPA[0], rem_cga[0].addr);
	if (!memcmp(other.b, dumped.remote_loc, 16))
		other = swap(RPA[1], rem_cga[0].addr);
	assert_memory_equal(ci.peer_locs[1].addr.b, other.b, 16);
	uint32_t lgen = 0, pgen = 1;
	assert_int_equal(shim6_engine_ctx_generations(proxy_engine(), dumped.own_tag, &lgen, &pgen), 0);
	assert_int_not_equal(lgen, 0);
	assert_int_equal(pgen, 0);   /* no line: the peer's next list is taken as it comes */

	/* the host's next packet finds the context: no handshake */
	punt_host(rem_cga[0].addr, 2);
	assert_int_equal(nrec, 1);
	assert_true(is_as_rx(&recs[0]));
	assert_int_equal(ps->opens, 0);

	assert_int_equal(proxy_import(&D, &dumped), SHIM6_ENG_EEXIST);
	assert_int_equal(ps->import_failed, 1);

	uint64_t own = 0x123456789aULL, peer = 0x0abcdef012ULL;
	struct dpmsg_ctx bad = dump_entry(1, own, peer);
	struct shim6_in6 stray = swap(SILENT_PFX, host_cga.addr);   /* under no ISP of ours */
	memcpy(bad.local_loc, stray.b, 16);
	assert_int_equal(proxy_import(&D, &bad), SHIM6_ENG_ENOTLOCAL);
	bad = dump_entry(1, own, peer);
	memcpy(bad.local_ulid, rem_cga[1].addr, 16);             /* not a host of the site */
	assert_int_equal(proxy_import(&D, &bad), SHIM6_ENG_ENOTLOCAL);
	bad = dump_entry(1, own, 0);
	assert_int_equal(proxy_import(&D, &bad), SHIM6_ENG_EINVAL);
	assert_int_equal(ps->import_failed, 4);
	assert_int_equal(ps->imported, 1);
	e = engine_stats();
	assert_int_equal(e.contexts, 1);
	assert_int_equal(e.ctx_imported, 1);
	struct shim6_in6 hl = in6_of(host_cga.addr), rl = in6_of(rem_cga[1].addr);
	uint64_t id = 0;
	assert_int_equal(shim6_engine_ctx_find(proxy_engine(), &hl, &rl, 0, &id), SHIM6_ENG_ENOCTX);
	/* the refused ones kept neither the tag nor the ULID pair */
	struct dpmsg_ctx good = dump_entry(1, own, peer);
	assert_int_equal(proxy_import(&D, &good), 0);
	proxy_tick(&D, clk);
	assert_int_equal(nrec, 1);
	assert_int_equal(engine_stats().contexts, 2);
}

/* The state line a dumped context had: the engine takes its generations,
 * the initiator and the peer's whole list from it, not from the config. */
static struct ctl_state_ctx line_for(const struct dpmsg_ctx *dc, uint32_t lgen, uint32_t pgen)
{
	struct ctl_state_ctx s = { .own_tag = dc->own_tag, .local_gen = lgen, .peer_gen = pgen,
				   .initiator = 1, .npeer = 3 };
	int h = rem_host((const struct shim6_in6 *)dc->remote_ulid);
	assert_true(h >= 0);
	for (int i = 0; i < 2; i++) {
		s.peer_locs[i].addr = swap(RPA[1 - i], rem_cga[h].addr);
		s.peer_locs[i].priority = (uint8_t)(5 + i);
		s.peer_locs[i].weight = 7;
		s.peer_locs[i].verif = SHIM6_VERIF_CGA;
		s.verified[i] = 1;
	}
	/* one the config never had: the peer announced it in an update */
	s.peer_locs[2].addr = swap(SILENT_PFX, rem_cga[h].addr);
	s.peer_locs[2].verif = SHIM6_VERIF_CGA;
	return s;
}

static void check_from_line(const struct dpmsg_ctx *dc, const struct ctl_state_ctx *s)
{
	struct shim6_ctx_info ci;
	assert_int_equal(shim6_engine_ctx_info(proxy_engine(), dc->own_tag, &ci), 0);
	assert_int_equal(ci.state, SHIM6_ST_ESTABLISHED);
	assert_int_equal(ci.peer_tag, dc->peer_tag);
	assert_memory_equal(ci.local_loc.b, dc->local_loc, 16);
	assert_memory_equal(ci.peer_loc.b, dc->remote_loc, 16);
	assert_true(ci.initiator);
	assert_int_equal(ci.npeer, s->npeer);
	for (size_t i = 0; i < s->npeer; i++) {
		bool found = false;
		for (size_t j = 0; j < ci.npeer; j++)
			if (!memcmp(ci.peer_locs[j].addr.b, s->peer_locs[i].addr.b, 16)) {
				assert_int_equal(ci.peer_locs[j].priority, s->peer_locs[i].priority);
				found = true;
			}
		assert_true(found);
	}
	uint32_t lgen = 0, pgen = 0;
	assert_int_equal(shim6_engine_ctx_generations(proxy_engine(), dc->own_tag, &lgen, &pgen), 0);
	assert_int_equal(lgen, s->local_gen);
	assert_int_equal(pgen, s->peer_gen);
}

static void test_import_keeps_state_line(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	struct dpmsg_ctx dumped = restart_control();
	state_line = line_for(&dumped, 5, 9);
	have_state_line = true;
	assert_int_equal(proxy_import(&D, &dumped), 0);
	check_from_line(&dumped, &state_line);
	proxy_tick(&D, clk);
	assert_int_equal(nrec, 0);
}

/* A replicated context taken over (peer.c): imported with its line's
 * facts and, unlike a dumped one, installed in the dataplane as the
 * replica had it.  Again: left alone.  With a line of another tag it is
 * refused (warned, counted) and nothing stays behind; with its own line
 * it goes in.  Not ours: nothing installed. */
static void test_adopt_replicated(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	struct dpmsg_ctx dc = restart_control();
	const struct proxy_stats *ps = proxy_stats(&D);
	struct ctl_state_ctx s = line_for(&dc, 5, 9);
	assert_int_equal(proxy_adopt(&D, &dc, &s), 0);
	check_from_line(&dc, &s);
	assert_int_equal(nrec, 1);
	assert_int_equal(recs[0].m.type, DPMSG_CTX_ADD);
	assert_memory_equal(&recs[0].m.u.ctx, &dc, sizeof dc);
	struct ctl_ctx *x = ctxtab_find(&D.ctxs, dc.own_tag);
	assert_non_null(x);
	assert_memory_equal(&x->d, &dc, sizeof dc);
	assert_int_equal(x->state, SHIM6_ST_ESTABLISHED);
	assert_int_equal(x->reap, SHIM6_REAP_OPERATIONAL);
	assert_int_equal(x->origin, CTX_FROM_ENGINE);
	assert_int_equal(ps->imported, 1);
	assert_int_equal(ps->ctx_installed, 1);
	proxy_tick(&D, clk);
	assert_int_equal(nrec, 1);
	assert_int_equal(engine_stats().tx_msgs, 0);

	assert_int_equal(proxy_adopt(&D, &dc, &s), 1);
	assert_int_equal(nrec, 1);
	assert_int_equal(ps->import_failed, 0);
	assert_int_equal(D.ctxs.n, 1);

	struct dpmsg_ctx other = dump_entry(1, 0x2468ace0ULL, 0x13579bdfULL);
	struct ctl_state_ctx foreign = { .own_tag = dc.own_tag, .local_gen = 11, .peer_gen = 12 };
	assert_int_equal(proxy_adopt(&D, &other, &foreign), SHIM6_ENG_EINVAL);
	assert_int_equal(ps->adopt_foreign_line, 1);
	assert_int_equal(nrec, 1);
	assert_null(ctxtab_find(&D.ctxs, other.own_tag));
	struct shim6_ctx_info ci;
	assert_int_equal(shim6_engine_ctx_info(proxy_engine(), other.own_tag, &ci), SHIM6_ENG_ENOCTX);
	assert_int_equal(engine_stats().contexts, 1);
	assert_int_equal(ps->imported, 1);
	assert_int_equal(ps->import_failed, 0);
	check_from_line(&dc, &s);   /* the line's own context is untouched */
	foreign.own_tag = other.own_tag;
	assert_int_equal(proxy_adopt(&D, &other, &foreign), 0);
	uint32_t lgen = 0, pgen = 0;
	assert_int_equal(shim6_engine_ctx_generations(proxy_engine(), other.own_tag, &lgen, &pgen), 0);
	assert_int_equal(lgen, 11);
	assert_int_equal(pgen, 12);
	assert_int_equal(count_type(DPMSG_CTX_ADD, 0), 2);

	struct dpmsg_ctx bad = dump_entry(1, 0x1111ULL, 0x2222ULL);
	memcpy(bad.remote_ulid, SILENT[0], 16);
	struct shim6_in6 stray = swap(SILENT_PFX, host_cga.addr);
	memcpy(bad.local_loc, stray.b, 16);
	struct ctl_state_ctx sb = s;
	sb.own_tag = bad.own_tag;
	unsigned from = nrec;
	assert_int_equal(proxy_adopt(&D, &bad, &sb), SHIM6_ENG_ENOTLOCAL);
	assert_int_equal(nrec, from);
	assert_null(ctxtab_find(&D.ctxs, bad.own_tag));
	assert_int_equal(ps->import_failed, 1);
	assert_int_equal(ps->adopt_foreign_line, 1);
	assert_int_equal(engine_stats().contexts, 2);
}

/* A line without the peer's locators (a replica written before the peer's
 * list was known): the peer table's or, here, the config's fill in, as for
 * a dumped context; the line still gives the generations. */
static void test_adopt_line_without_locators(void **st)
{
	(void)st;
	rig_up(&(struct opts){ 0 });
	struct dpmsg_ctx dc = restart_control();
	struct ctl_state_ctx s = { .own_tag = dc.own_tag, .local_gen = 5, .peer_gen = 9, .initiator = 1 };
	assert_int_equal(proxy_adopt(&D, &dc, &s), 0);
	struct shim6_ctx_info ci;
	assert_int_equal(shim6_engine_ctx_info(proxy_engine(), dc.own_tag, &ci), 0);
	assert_int_equal(ci.state, SHIM6_ST_ESTABLISHED);
	assert_memory_equal(ci.peer_loc.b, dc.remote_loc, 16);
	assert_int_equal(ci.npeer, 2);
	for (int i = 0; i < 2; i++) {
		struct shim6_in6 want = swap(RPA[i], rem_cga[0].addr);
		assert_true(!memcmp(ci.peer_locs[0].addr.b, want.b, 16) || !memcmp(ci.peer_locs[1].addr.b, want.b, 16));
	}
	uint32_t lgen = 0, pgen = 0;
	assert_int_equal(shim6_engine_ctx_generations(proxy_engine(), dc.own_tag, &lgen, &pgen), 0);
	assert_int_equal(lgen, 5);
	assert_int_equal(pgen, 9);
	assert_int_equal(count_type(DPMSG_CTX_ADD, 0), 1);
	assert_int_equal(proxy_stats(&D)->imported, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_handshake_holds_then_releases_in_order, teardown),
		cmocka_unit_test_teardown(test_hold_bounds, teardown),
		cmocka_unit_test_teardown(test_no_answer, teardown),
		cmocka_unit_test_teardown(test_no_answer_is_told_to_the_host, teardown),
		cmocka_unit_test_teardown(test_new_contexts_avoid_an_isp_the_probes_failed, teardown),
		cmocka_unit_test_teardown(test_handshake_retries_avoid_an_isp_the_probes_failed, teardown),
		cmocka_unit_test_teardown(test_bad_signature, teardown),
		cmocka_unit_test_teardown(test_bad_pds, teardown),
		cmocka_unit_test_teardown(test_unknown_tag_r1bis, teardown),
		cmocka_unit_test_teardown(test_responder_keeps_nothing_before_valid_i2, teardown),
		cmocka_unit_test_teardown(test_reap_stamps, teardown),
		cmocka_unit_test_teardown(test_removed_and_release_all, teardown),
		cmocka_unit_test_teardown(test_reinstall_if_lost, teardown),
		cmocka_unit_test_teardown(test_ctxtab_full_not_installed, teardown),
		cmocka_unit_test_teardown(test_malformed_punts, teardown),
		cmocka_unit_test_teardown(test_pair_changed_mods_dataplane, teardown),
		cmocka_unit_test_teardown(test_probes_failing_an_isp_move_its_contexts_at_once, teardown),
		cmocka_unit_test_teardown(test_import_dumped_context, teardown),
		cmocka_unit_test_teardown(test_import_keeps_state_line, teardown),
		cmocka_unit_test_teardown(test_adopt_replicated, teardown),
		cmocka_unit_test_teardown(test_adopt_line_without_locators, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
