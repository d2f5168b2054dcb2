/* Engine benchmark: handshakes per second on one core with HBA and with
 * CGA RSA-2048 (real crypto through shim6/crypto), next to the OpenSSL
 * sign+verify ceiling measured in the same run; and simulated failover
 * time after a locator-pair failure with RFC default and fast timers. */
#include <shim6/cga.h>
#include <shim6/engine.h>
#include <shim6/hba.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define NH 64
struct site {
	int idx;
	bool cga;
	EVP_PKEY *key;
	struct shim6_in6 ulid[NH];
	struct shim6_in6 loc[NH][2];
	uint8_t pds[NH][SHIM6_CGA_PDS_MAX];
	size_t pds_len[NH];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rng_fill(void *u, uint8_t *buf, size_t len) { (void)u; return RAND_bytes(buf, (int)len) == 1 ? 0 : -1; }
static void rnd(void *u, void *buf, size_t len) { (void)u; RAND_bytes(buf, (int)len); }

static int host_info(void *u, const struct shim6_in6 *ulid, struct shim6_host_info *out)
{
	struct site *s = u;
	for (int h = 0; h < NH; h++) {
		if (memcmp(ulid, &s->ulid[h], 16))
			continue;
		out->method = s->cga ? SHIM6_VERIF_CGA : SHIM6_VERIF_HBA;
		out->nlocs = 2;
		for (int i = 0; i < 2; i++) {
			out->locs[i].addr = s->loc[h][i];
			out->locs[i].verif = (uint8_t)out->method;
			out->locs[i].priority = (uint8_t)i;
		}
		out->pds_len = s->pds_len[h];
		memcpy(out->pds, s->pds[h], s->pds_len[h]);
		return 0;
	}
	return SHIM6_ENG_ENOTLOCAL;
}

static int sign(void *u, const struct shim6_in6 *ulid, const uint8_t *d, size_t len, uint8_t *sig, size_t cap)
{
	struct site *s = u;
	(void)ulid;
	return shim6_cga_sign_data(s->key, d, len, sig, cap);
}

static int verify(void *u, const struct shim6_in6 *peer, enum shim6_verif m, const uint8_t *pds,
                  size_t pds_len, const struct shim6_locator *locs, size_t n, const uint8_t *d,
                  size_t len, const uint8_t *sig, size_t siglen)
{
	(void)u;
	return shim6_engine_verify_locators(peer, m, pds, pds_len, locs, n, d, len, sig, siglen);
}

static void mkprefix(uint8_t p[8], int site, int which)
{
	memset(p, 0, 8);
	if (which == 0) { p[0] = 0xfd; p[1] = 0x42; p[7] = (uint8_t)site; }
	else { p[0] = 0x20; p[1] = 0x01; p[2] = 0x0d; p[3] = 0xb8; p[5] = (uint8_t)site; p[7] = (uint8_t)which; }
}

static void site_init(struct site *s, int idx, bool cga)
{
	memset(s, 0, sizeof(*s));
	s->idx = idx;
	s->cga = cga;
	struct shim6_cga_rng rng = { NULL, rng_fill };
	uint8_t spki[1024];
	int spl = 0;
	if (cga) {
		if (shim6_key_generate(&s->key, 2048) != 0) { fprintf(stderr, "keygen\n"); exit(1); }
		spl = shim6_key_spki(s->key, spki, sizeof(spki));
	}
	for (int h = 0; h < NH; h++) {
		uint8_t pre[3][8];
		for (int i = 0; i < 3; i++)
			mkprefix(pre[i], idx, i);
		if (cga) {
			struct shim6_cga c;
			if (shim6_cga_new(&c, pre[0], spki, (size_t)spl, 0, 0, &rng) != 0) { fprintf(stderr, "cga\n"); exit(1); }
			memcpy(s->ulid[h].b, c.addr, 16);
			memcpy(s->pds[h], c.pds, c.pds_len);
			s->pds_len[h] = c.pds_len;
			for (int i = 0; i < 2; i++) {   /* same IID under each PA prefix */
				memcpy(s->loc[h][i].b, pre[i + 1], 8);
				memcpy(s->loc[h][i].b + 8, c.addr + 8, 8);
			}
		} else {
			static struct shim6_hba_set hs;
			struct shim6_cga_gen_opts o = { 0 };
			o.rng = &rng;
			if (shim6_hba_generate(&hs, &pre[0][0], 3, NULL, 0, &o) != 0) { fprintf(stderr, "hba\n"); exit(1); }
			memcpy(s->ulid[h].b, hs.addrs[0], 16);
			memcpy(s->loc[h][0].b, hs.addrs[1], 16);
			memcpy(s->loc[h][1].b, hs.addrs[2], 16);
			memcpy(s->pds[h], hs.pds, hs.pds_len);
			s->pds_len[h] = hs.pds_len;
		}
	}
}

static struct shim6_engine *mk(struct site *s)
{
	struct shim6_engine_callbacks cb = { .user = s, .host_info = host_info, .sign = sign, .verify = verify };
	struct shim6_engine_rand r = { NULL, rnd };
	struct shim6_engine *e;
	if (shim6_engine_new(&e, NULL, &cb, NULL, &r, 0) != 0)
		exit(1);
	return e;
}

/* Run handshakes between A and B for `secs` wall seconds; returns rate. */
static double handshakes(bool cga, double secs)
{
	static struct site A, B;
	site_init(&A, 1, cga);
	site_init(&B, 2, cga);
	struct shim6_engine *ea = mk(&A), *eb = mk(&B);
	static struct shim6_tx tx;
	long done = 0;
	shim6_tstamp t = 1;
	double t0 = now_s();
	while (now_s() - t0 < secs) {
		int h = (int)(done % NH), p = (int)((done / NH) % NH);
		uint64_t id;
		if (shim6_engine_open(ea, &A.ulid[h], &B.ulid[p], B.loc[p], 2, 0, t, &id) != 0) {
			fprintf(stderr, "open failed\n");
			break;
		}
		for (int round = 0; round < 8; round++) {
			int moved = 0;
			while (shim6_engine_poll_tx(ea, &tx)) { shim6_engine_recv(eb, tx.buf, tx.len, &tx.src, &tx.dst, t); moved++; }
			while (shim6_engine_poll_tx(eb, &tx)) { shim6_engine_recv(ea, tx.buf, tx.len, &tx.src, &tx.dst, t); moved++; }
			if (!moved)
				break;
		}
		struct shim6_ctx_info ci;
		if (shim6_engine_ctx_info(ea, id, &ci) != 0 || ci.state != SHIM6_ST_ESTABLISHED) {
			fprintf(stderr, "handshake %ld did not complete\n", done);
			break;
		}
		uint64_t bid;
		shim6_engine_close(ea, id, t);
		if (shim6_engine_ctx_find(eb, &B.ulid[p], &A.ulid[h], 0, &bid) == 0)
			shim6_engine_close(eb, bid, t);
		struct shim6_event ev;
		while (shim6_engine_poll_event(ea, &ev)) {}
		while (shim6_engine_poll_event(eb, &ev)) {}
		done++;
		t += 1000;
	}
	double rate = (double)done / (now_s() - t0);
	shim6_engine_del(ea);
	shim6_engine_del(eb);
	EVP_PKEY_free(A.key);
	EVP_PKEY_free(B.key);
	return rate;
}

/* OpenSSL RSA-2048 sign + verify pairs per second (the crypto a CGA
 * handshake needs twice: I2 and R2 each signed once and verified once). */
static double ceiling(double secs)
{
	EVP_PKEY *k;
	shim6_key_generate(&k, 2048);
	uint8_t spki[1024];
	int spl = shim6_key_spki(k, spki, sizeof(spki));
	struct shim6_cga_rng rng = { NULL, rng_fill };
	struct shim6_cga c;
	uint8_t pre[8];
	mkprefix(pre, 9, 0);
	shim6_cga_new(&c, pre, spki, (size_t)spl, 0, 0, &rng);
	uint8_t data[4 + 32] = { 1, 2, 3, 4 }, sig[600];
	long n = 0;
	double t0 = now_s();
	while (now_s() - t0 < secs) {
		int sl = shim6_cga_sign_data(k, data, sizeof(data), sig, sizeof(sig));
		if (sl <= 0 || shim6_cga_verify_sig_data(c.pds, c.pds_len, data, sizeof(data), sig, (size_t)sl) != 0)
			return 0;
		n++;
	}
	EVP_PKEY_free(k);
	return (double)n / (now_s() - t0);
}

static double failover(const struct shim6_engine_settings *set)
{
	static struct sim s;
	sim_init(&s, 50, 2, 1, 3, set);
	sim_flow(&s, 0, 0, 1, 0, 0, 100 * SHIM6_NS_PER_MS);
	sim_run(&s, 10 * SHIM6_NS_PER_S);
	struct shim6_ctx_info a;
	if (!sim_ctx(&s, 0, 0, 1, 0, 0, &a))
		return -1;
	sim_set_fail(&s, 0, sim_addr_loc(&a.local_loc), 1, sim_addr_loc(&a.peer_loc), true);
	shim6_tstamp t0 = s.now;
	char why[64];
	for (int i = 0; i < 6000; i++) {
		sim_run(&s, 10 * SHIM6_NS_PER_MS);
		if (sim_agree(&s, 0, 0, 1, 0, 0, why, sizeof(why)) && sim_ctx(&s, 0, 0, 1, 0, 0, &a) &&
		    !s.fail[0][sim_addr_loc(&a.local_loc)][1][sim_addr_loc(&a.peer_loc)]) {
			double r = (double)(s.now - t0) / 1e9;
			sim_fini(&s);
			return r;
		}
	}
	sim_fini(&s);
	return -1;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	double hba[3], cga[3], ceil_[3];
	for (int i = 0; i < 3; i++) {
		hba[i] = handshakes(false, secs);
		cga[i] = handshakes(true, secs);
		ceil_[i] = ceiling(secs);
	}
	qsort(hba, 3, sizeof(double), cmpd);
	qsort(cga, 3, sizeof(double), cmpd);
	qsort(ceil_, 3, sizeof(double), cmpd);
	double c_hs = ceil_[1] / 2.0;
	printf("handshakes/s (one core, both ends in-process, median of 3):\n");
	printf("  HBA                       %10.0f\n", hba[1]);
	printf("  CGA RSA-2048              %10.0f\n", cga[1]);
	printf("  OpenSSL RSA-2048 sign+verify pairs/s %10.0f => ceiling %0.f handshakes/s (2 pairs each)\n",
	       ceil_[1], c_hs);
	printf("  ratio CGA / ceiling       %10.2f\n", cga[1] / c_hs);
	struct shim6_engine_settings def, fast;
	shim6_engine_settings_default(&def);
	def.max_contexts = 64;
	fast = def;
	fast.send_timeout = 1 * SHIM6_NS_PER_S;
	fast.initial_probe_timeout = 200 * SHIM6_NS_PER_MS;
	printf("simulated failover after a locator-pair failure (flow every 100 ms, 20 ms one-way):\n");
	printf("  RFC default timers (send timeout 10 s, probes 0.5 s)  %6.2f s\n", failover(&def));
	printf("  fast timers (send timeout 1 s, probes 0.2 s)         %6.2f s\n", failover(&fast));
	return 0;
}
