/* Decode-and-validate rate for an I2 carrying a Responder Validator, a
 * Locator List of 3, Locator Preferences, a CGA Parameter Data Structure of
 * RSA-2048 size and a 256-octet CGA Signature.  Baseline in the same run:
 * memcpy of the same octets plus the Internet checksum over them, the least
 * any receiver does with a control message.
 *
 * usage: bench_decode [RUNS [MS_PER_RUN]]   (defaults 7 and 300) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <shim6/wire.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static uint8_t msgbuf[SHIM6_MSG_MAX];
static int msglen;
static volatile uint64_t sink;

static int build_i2(void)
{
	static uint8_t validator[20], pds[319], sig[256], locs[3][16], prefs[9];
	static const uint8_t methods[3] = { SHIM6_WIRE_VERIF_CGA, SHIM6_WIRE_VERIF_CGA, SHIM6_WIRE_VERIF_CGA };
	for (unsigned i = 0; i < sizeof pds; i++)
		pds[i] = (uint8_t)(i * 31 + 7);
	for (unsigned i = 0; i < sizeof sig; i++)
		sig[i] = (uint8_t)(i * 17 + 3);
	for (unsigned i = 0; i < 3; i++) {
		locs[i][0] = 0x20; locs[i][1] = 0x01; locs[i][2] = 0x0d; locs[i][3] = 0xb8;
		locs[i][5] = (uint8_t)(i + 1);
		locs[i][15] = 1;
	}
	struct shim6_msg m;
	shim6_wire_msg_init(&m, SHIM6_TYPE_I2);
	m.m.i2.init_ctag = 0x123456789abcULL;
	m.m.i2.init_nonce = 1;
	m.m.i2.resp_nonce = 2;
	struct shim6_opt *o = shim6_wire_opt_add(&m, SHIM6_OPT_RESP_VALIDATOR, false);
	o->u.bytes.data = validator; o->u.bytes.len = sizeof validator;
	o = shim6_wire_opt_add(&m, SHIM6_OPT_LOCATOR_LIST, false);
	o->u.loclist.gen = 1; o->u.loclist.n = 3;
	o->u.loclist.methods = methods; o->u.loclist.locators = &locs[0][0];
	o = shim6_wire_opt_add(&m, SHIM6_OPT_LOCATOR_PREFS, false);
	o->u.locpref.gen = 1; o->u.locpref.elem_len = 3; o->u.locpref.n = 3; o->u.locpref.elems = prefs;
	o = shim6_wire_opt_add(&m, SHIM6_OPT_CGA_PDS, false);
	o->u.bytes.data = pds; o->u.bytes.len = sizeof pds;
	o = shim6_wire_opt_add(&m, SHIM6_OPT_CGA_SIGNATURE, false);
	o->u.bytes.data = sig; o->u.bytes.len = sizeof sig;
	return shim6_wire_encode(&m, msgbuf, sizeof msgbuf);
}

/* Operations per second of one kind over about ms milliseconds. */
static double run(int kind, double ms)
{
	static struct shim6_msg m;
	static uint8_t copy[SHIM6_MSG_MAX];
	uint64_t acc = 0, n = 0;
	double t0 = now_s(), t1;
	do {
		for (int i = 0; i < 1024; i++) {
			if (kind == 0) {
				int rc = shim6_wire_decode(msgbuf, (size_t)msglen, &m);
				acc += (uint64_t)rc + m.n_opts;
			} else {
				memcpy(copy, msgbuf, (size_t)msglen);
				__asm__ volatile("" : : "r"(copy) : "memory");
				acc += shim6_wire_checksum(copy, (size_t)msglen);
			}
		}
		n += 1024;
		t1 = now_s();
	} while ((t1 - t0) * 1e3 < ms);
	sink += acc;
	return (double)n / (t1 - t0);
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	double ms = argc > 2 ? atof(argv[2]) : 300;
	if (runs < 1 || runs > 99 || ms <= 0) {
		fprintf(stderr, "usage: bench_decode [RUNS [MS_PER_RUN]]\n");
		return 2;
	}
	msglen = build_i2();
	struct shim6_msg check;
	if (msglen < 0 || shim6_wire_decode(msgbuf, (size_t)msglen, &check) != 0) {
		fprintf(stderr, "bench_decode: cannot build a valid I2\n");
		return 1;
	}
	double dec[99], base[99];
	run(0, 50);
	run(1, 50);             /* warm-up */
	for (int r = 0; r < runs; r++) {        /* interleaved, so drift hits both */
		dec[r] = run(0, ms);
		base[r] = run(1, ms);
	}
	qsort(dec, (size_t)runs, sizeof dec[0], cmp);
	qsort(base, (size_t)runs, sizeof base[0], cmp);
	double d = dec[runs / 2], b = base[runs / 2];
	printf("message: I2, %d octets, %u options (validator, locator list of 3, preferences, CGA PDS 319, CGA signature 256)\n",
	       msglen, check.n_opts);
	printf("runs: %d x %.0f ms each, medians\n", runs, ms);
	printf("decode+validate : %10.0f msg/s  %7.1f ns/msg  (min %.0f, max %.0f)\n", d, 1e9 / d, dec[0], dec[runs - 1]);
	printf("baseline memcpy+checksum: %10.0f msg/s  %7.1f ns/msg  (min %.0f, max %.0f)\n", b, 1e9 / b, base[0], base[runs - 1]);
	printf("RESULT: decode_msgs_per_s=%.0f baseline_msgs_per_s=%.0f ratio_decode_to_baseline=%.2f\n", d, b, d / b);
	return 0;
}
