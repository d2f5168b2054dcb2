/* Sample Shim6 messages built through the public encoder: one per message
 * type, carrying every option at least once.  Shared by the unit suite, the
 * pcap writer, the fuzz seed generator and the benchmark. */
#ifndef WIRE_SAMPLES_H
#define WIRE_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include <shim6/wire.h>

enum {
	SAMPLE_I1, SAMPLE_R1, SAMPLE_I2, SAMPLE_R2, SAMPLE_R1BIS, SAMPLE_I2BIS,
	SAMPLE_UPDATE_REQ, SAMPLE_UPDATE_ACK, SAMPLE_KEEPALIVE, SAMPLE_PROBE,
	SAMPLE_ERROR, SAMPLE_UNKNOWN_OPT,
	SAMPLE__COUNT
};

/* Build sample idx into msg (views point into static sample data) and encode
 * it into buf.  Returns the encoded length or a negative SHIM6_E_* code. */
int wire_sample(unsigned idx, struct shim6_msg *msg, uint8_t *buf, size_t cap);
const char *wire_sample_name(unsigned idx);

/* Test data the samples use, exported so tests can compare fields. */
extern const uint8_t sample_locators[3][16];
extern const uint8_t sample_methods[3];
extern const uint8_t sample_ulid_a[16], sample_ulid_b[16];
extern uint8_t sample_pds[200], sample_sig[256], sample_validator[20];

/* Recompute the checksum of the message at buf after a test edited it. */
void wire_fix_checksum(uint8_t *buf);

#endif
