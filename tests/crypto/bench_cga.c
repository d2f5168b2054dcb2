/* Rates of the CGA/HBA operations, one line per metric:
 *   <metric> <operations per second>
 * bench_cga [SECONDS-PER-METRIC]   (default 1) */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include <shim6/cga.h>
#include <shim6/hba.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);  /* CPU time, as openssl speed counts */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define RATE(name, secs, expr)                                                    \
	do {                                                                      \
		double t0 = now(), t;                                             \
		unsigned long n = 0;                                              \
		do {                                                              \
			for (int i_ = 0; i_ < 16; i_++, n++)                      \
				if ((expr) < 0) {                                 \
					fprintf(stderr, "%s failed\n", name);     \
					exit(1);                                  \
				}                                                 \
		} while ((t = now() - t0) < (secs));                              \
		printf("%s %.1f\n", name, (double)n / t);                         \
		fflush(stdout);                                                   \
	} while (0)

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	static const uint8_t pfx[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2 };
	static const uint8_t pfxs[3][8] = {
		{ 0x20, 0x01, 0x0d, 0xb8, 0xa0, 0, 0, 1 },
		{ 0x20, 0x01, 0x0d, 0xb8, 0xb0, 0, 0, 1 },
		{ 0x20, 0x01, 0x0d, 0xb8, 0xc0, 0, 0, 1 },
	};
	uint8_t spki[SHIM6_CGA_PDS_MAX], sig[SHIM6_CGA_SIG_MAX], in[64];
	uint8_t methods[3] = { 2, 2, 2 }, locs[3][16];
	static struct shim6_cga cga;
	static struct shim6_hba_set set;
	EVP_PKEY *key, *pub;
	int n, slen, ilen;

	if (secs <= 0 || shim6_key_generate(&key, 2048) < 0)
		return 1;
	n = shim6_key_spki(key, spki, sizeof(spki));
	if (n < 0 || shim6_cga_new(&cga, pfx, spki, (size_t)n, 1, 0, NULL) < 0)
		return 1;
	const unsigned char *kp = spki;
	pub = d2i_PUBKEY(NULL, &kp, n);
	for (int i = 0; i < 3; i++) {
		memcpy(locs[i], pfxs[i], 8);
		memcpy(locs[i] + 8, cga.addr + 8, 8);
	}
	struct shim6_cga_loclist ll = { 1, 3, methods, &locs[0][0] };
	ilen = shim6_cga_sig_input(&ll, in, sizeof(in));
	slen = shim6_cga_sign(key, &ll, sig, sizeof(sig));
	if (!pub || ilen < 0 || slen < 0 || shim6_hba_generate(&set, &pfxs[0][0], 3, NULL, 0, NULL) < 0)
		return 1;

	RATE("cga_sign", secs, shim6_cga_sign(key, &ll, sig, sizeof(sig)));
	RATE("cga_verify_sig", secs, shim6_cga_verify_sig(cga.pds, cga.pds_len, &ll, sig, (size_t)slen));
	/* Nine peers' keys round-robin through the 8-slot key cache: every
	 * verification decodes its key (the first contact with a peer). */
	{
		static struct shim6_cga peers[9];
		static uint8_t psig[9][SHIM6_CGA_SIG_MAX];
		int plen[9];
		for (int i = 0; i < 9; i++) {
			EVP_PKEY *k;
			uint8_t s2[SHIM6_CGA_PDS_MAX];
			int l;
			if (shim6_key_generate(&k, 2048) < 0 || (l = shim6_key_spki(k, s2, sizeof(s2))) < 0 ||
			    shim6_cga_new(&peers[i], pfx, s2, (size_t)l, 0, 0, NULL) < 0 ||
			    (plen[i] = shim6_cga_sign(k, &ll, psig[i], sizeof(psig[i]))) < 0)
				return 1;
			EVP_PKEY_free(k);
		}
		unsigned j = 0;
		RATE("cga_verify_sig_coldkey", secs,
		     (j = (j + 1) % 9, shim6_cga_verify_sig(peers[j].pds, peers[j].pds_len, &ll,
		                                           psig[j], (size_t)plen[j])));
	}
	RATE("cga_verify_sig_key", secs,
	     shim6_cga_verify_sig_key(pub, in, (size_t)ilen, sig, (size_t)slen));
	RATE("cga_verify_addr", secs, shim6_cga_verify(cga.addr, cga.pds, cga.pds_len));
	RATE("hba_verify", secs, shim6_hba_verify(set.addrs[1], set.pds, set.pds_len));
	/* Hash2 tries per second: what Sec costs (2^16 tries per Sec 1 address). */
	{
		struct shim6_cga c;
		uint64_t tries = 0;
		double t0 = now(), t;
		do {
			if (shim6_cga_new(&c, pfx, spki, (size_t)n, 1, 0, NULL) < 0)
				return 1;
			tries += c.tries;
		} while ((t = now() - t0) < secs);
		printf("hash2_tries %.1f\n", (double)tries / t);
	}
	EVP_PKEY_free(pub);
	EVP_PKEY_free(key);
	return 0;
}
