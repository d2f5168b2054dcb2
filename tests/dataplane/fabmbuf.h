/* Fabricated mbufs on plain buffers, and a reference checksum written apart
 * from the one under test, for the fast-path unit suites and fuzz target. */
#ifndef PSHIM6_TEST_FABMBUF_H
#define PSHIM6_TEST_FABMBUF_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#define FAB_HEADROOM 128
#define FAB_BUF 4096

struct fab {
	struct rte_mbuf m;
	uint8_t buf[FAB_BUF];
};

static inline struct rte_mbuf *fab_mbuf(struct fab *f, const uint8_t *frame, size_t len)
{
	memset(&f->m, 0, sizeof(f->m));
	f->m.buf_addr = f->buf;
	f->m.buf_len = FAB_BUF;
	f->m.data_off = FAB_HEADROOM;
	f->m.nb_segs = 1;
	f->m.refcnt = 1;
	f->m.data_len = (uint16_t)len;
	f->m.pkt_len = (uint32_t)len;
	memcpy(f->buf + FAB_HEADROOM, frame, len);
	return &f->m;
}

/*
 * Ethernet (02:..:0b <- 02:..:0a) + IPv6 (+ `ext`, already chained) + `l4`,
 * built byte by byte, independently of the code under test.  Returns the
 * frame length.
 */
static inline size_t fab_frame(uint8_t *f, const uint8_t *src, const uint8_t *dst, uint8_t nh,
			       const uint8_t *ext, size_t extlen, const uint8_t *l4, size_t l4len)
{
	static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 0xb, 2, 0, 0, 0, 0, 0xa };
	memcpy(f, mac, 12);
	f[12] = 0x86; f[13] = 0xdd;
	uint8_t *ip = f + 14;
	ip[0] = 0x60; ip[1] = 0; ip[2] = 0; ip[3] = 0;
	ip[4] = (uint8_t)((extlen + l4len) >> 8); ip[5] = (uint8_t)(extlen + l4len);
	ip[6] = nh; ip[7] = 64;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	if (extlen)
		memcpy(ip + 40, ext, extlen);
	if (l4len)
		memcpy(ip + 40 + extlen, l4, l4len);
	return 14 + 40 + extlen + l4len;
}

/*
 * An mbuf over a heap buffer exactly as long as headroom + frame, so that
 * ASan reports any read past the data.  One at a time; fab_tight_free()
 * releases it (call it from the suite's teardown).
 */
static struct rte_mbuf fab_tm;
static uint8_t *fab_tbuf;

static inline struct rte_mbuf *fab_tight(const uint8_t *frame, size_t len, uint16_t headroom)
{
	free(fab_tbuf);
	fab_tbuf = malloc(headroom + len);
	if (!fab_tbuf)
		abort();
	memset(&fab_tm, 0, sizeof(fab_tm));
	fab_tm.buf_addr = fab_tbuf;
	fab_tm.buf_len = (uint16_t)(headroom + len);
	fab_tm.data_off = headroom;
	fab_tm.nb_segs = 1;
	fab_tm.refcnt = 1;
	fab_tm.data_len = (uint16_t)len;
	fab_tm.pkt_len = (uint32_t)len;
	memcpy(fab_tbuf + headroom, frame, len);
	return &fab_tm;
}

static inline void fab_tight_free(void)
{
	free(fab_tbuf);
	fab_tbuf = NULL;
}

/* Reference one's-complement sum: 32-bit big-endian words, carries folded at the end. */
static inline uint64_t ref_sum(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	size_t i = 0;
	for (; i + 4 <= n; i += 4)
		s += ((uint64_t)p[i] << 24) | ((uint64_t)p[i + 1] << 16) | ((uint64_t)p[i + 2] << 8) | p[i + 3];
	for (; i < n; i++)
		s += (uint64_t)p[i] << (i % 4 == 0 ? 24 : i % 4 == 1 ? 16 : i % 4 == 2 ? 8 : 0);
	return s;
}

static inline uint16_t ref_fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Sum over pseudo-header + upper-layer data; 0xffff means the checksum in l4 is right. */
static inline uint16_t ref_verify6(const uint8_t *src, const uint8_t *dst, uint8_t proto,
				   const uint8_t *l4, size_t len)
{
	uint8_t ph[40];
	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	ph[32] = (uint8_t)(len >> 24); ph[33] = (uint8_t)(len >> 16);
	ph[34] = (uint8_t)(len >> 8); ph[35] = (uint8_t)len;
	ph[36] = 0; ph[37] = 0; ph[38] = 0; ph[39] = proto;
	return ref_fold(ref_sum(ph, 40) + ref_sum(l4, len));
}

/* Value to store so the sum verifies. */
static inline uint16_t ref_csum6(const uint8_t *src, const uint8_t *dst, uint8_t proto,
				 const uint8_t *l4, size_t len)
{
	return (uint16_t)~ref_verify6(src, dst, proto, l4, len);
}

/* Upper-layer headers with a payload pattern and a reference checksum. */
/* TCP segment with payload, checksum for (src, dst). */
static inline size_t fab_tcp(uint8_t *s, const uint8_t *src, const uint8_t *dst, size_t paylen)
{
	memset(s, 0, 20);
	s[0] = 0x30; s[1] = 0x39; s[2] = 0x00; s[3] = 0x50;     /* 12345 -> 80 */
	s[4] = 1; s[7] = 7; s[12] = 0x50; s[13] = 0x18; s[14] = 0xff;
	for (size_t i = 0; i < paylen; i++)
		s[20 + i] = (uint8_t)(i * 7 + 3);
	uint16_t c = ref_csum6(src, dst, 6, s, 20 + paylen);
	s[16] = (uint8_t)(c >> 8); s[17] = (uint8_t)c;
	return 20 + paylen;
}

static inline size_t fab_udp(uint8_t *s, const uint8_t *src, const uint8_t *dst, size_t paylen, bool zero)
{
	size_t n = 8 + paylen;
	s[0] = 0x12; s[1] = 0x34; s[2] = 0x00; s[3] = 53;
	s[4] = (uint8_t)(n >> 8); s[5] = (uint8_t)n; s[6] = 0; s[7] = 0;
	for (size_t i = 0; i < paylen; i++)
		s[8 + i] = (uint8_t)(0xa5 ^ i);
	if (!zero) {
		uint16_t c = ref_csum6(src, dst, 17, s, n);
		s[6] = (uint8_t)(c >> 8); s[7] = (uint8_t)c;
	}
	return n;
}

static inline size_t fab_echo(uint8_t *s, const uint8_t *src, const uint8_t *dst, size_t paylen)
{
	memset(s, 0, 8);
	s[0] = 128; s[4] = 0x12; s[5] = 0x34; s[7] = 1;
	for (size_t i = 0; i < paylen; i++)
		s[8 + i] = (uint8_t)i;
	uint16_t c = ref_csum6(src, dst, 58, s, 8 + paylen);
	s[2] = (uint8_t)(c >> 8); s[3] = (uint8_t)c;
	return 8 + paylen;
}

/* Payload header: Next Header, length 0, P=1 and the 47-bit tag. */
static inline void fab_shim_hdr(uint8_t *h, uint8_t nh, uint64_t tag)
{
	h[0] = nh; h[1] = 0;
	h[2] = (uint8_t)(0x80 | (tag >> 40)); h[3] = (uint8_t)(tag >> 32); h[4] = (uint8_t)(tag >> 24);
	h[5] = (uint8_t)(tag >> 16); h[6] = (uint8_t)(tag >> 8); h[7] = (uint8_t)tag;
}

#endif
