/* Writes every sample Shim6 message into a pcap file (Ethernet, IPv6, Next
 * Header 140), followed by one packet carrying the payload extension header,
 * so standard analyzers can read them.  With --corpus DIR it writes each
 * sample as a raw file instead (fuzz seeds).
 *
 * --corrupt flips one bit of each control message after the checksum was
 * computed, as a negative control for the checker.
 *
 * usage: wire_pcap [--corrupt] FILE.pcap | wire_pcap --corpus DIR */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "samples.h"

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static int write_frame(FILE *f, unsigned idx, const uint8_t *l4, size_t len)
{
	uint8_t fr[14 + 40 + SHIM6_MSG_MAX];
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x02 }, smac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	memcpy(fr, dmac, 6);
	memcpy(fr + 6, smac, 6);
	put16(fr + 12, 0x86dd);
	uint8_t *ip = fr + 14;
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)len);
	ip[6] = SHIM6_PROTO;
	ip[7] = 64;
	static const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	memcpy(ip + 40, l4, len);
	uint32_t caplen = (uint32_t)(14 + 40 + len);
	uint32_t rec[4] = { 1700000000u + idx, 0, caplen, caplen };
	return fwrite(rec, sizeof rec, 1, f) == 1 && fwrite(fr, caplen, 1, f) == 1 ? 0 : -1;
}

static int write_pcap(const char *path, int corrupt)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "wire_pcap: %s: %s\n", path, strerror(errno));
		return 1;
	}
	/* Classic pcap header in host order; readers detect the byte order. */
	uint32_t magic = 0xa1b2c3d4, snap = 65535, link = 1 /* Ethernet */, zone = 0, sig = 0;
	uint16_t vmaj = 2, vmin = 4;
	fwrite(&magic, 4, 1, f); fwrite(&vmaj, 2, 1, f); fwrite(&vmin, 2, 1, f);
	fwrite(&zone, 4, 1, f); fwrite(&sig, 4, 1, f); fwrite(&snap, 4, 1, f); fwrite(&link, 4, 1, f);

	struct shim6_msg m;
	uint8_t buf[SHIM6_MSG_MAX];
	for (unsigned i = 0; i < SAMPLE__COUNT; i++) {
		int n = wire_sample(i, &m, buf, sizeof buf);
		if (n > 14 && corrupt)
			buf[14] ^= 0x01;
		if (n < 0 || write_frame(f, i, buf, (size_t)n) < 0) {
			fprintf(stderr, "wire_pcap: sample %s: %s\n", wire_sample_name(i),
			        n < 0 ? shim6_wire_strerror(n) : "write failed");
			fclose(f);
			return 1;
		}
		printf("%u %u %s\n", i + 1, m.type, wire_sample_name(i));
	}
	/* Payload extension header in front of 8 octets of "no next header". */
	uint8_t pl[16] = { 0 };
	shim6_wire_payload_encode(SHIM6_NH_NONE, 0x123456789abcULL, pl);
	write_frame(f, SAMPLE__COUNT, pl, sizeof pl);
	printf("%u payload 0x123456789abc\n", SAMPLE__COUNT + 1);
	return fclose(f) == 0 ? 0 : 1;
}

static int write_corpus(const char *dir)
{
	struct shim6_msg m;
	uint8_t buf[SHIM6_MSG_MAX];
	for (unsigned i = 0; i < SAMPLE__COUNT; i++) {
		int n = wire_sample(i, &m, buf, sizeof buf);
		char path[4096];
		snprintf(path, sizeof path, "%s/sample-%02u", dir, i);
		FILE *f = fopen(path, "wb");
		if (n < 0 || !f || fwrite(buf, (size_t)n, 1, f) != 1) {
			fprintf(stderr, "wire_pcap: %s: cannot write\n", path);
			if (f)
				fclose(f);
			return 1;
		}
		fclose(f);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--corpus") == 0)
		return write_corpus(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--corrupt") == 0)
		return write_pcap(argv[2], 1);
	if (argc == 2 && argv[1][0] != '-')
		return write_pcap(argv[1], 0);
	fprintf(stderr, "usage: wire_pcap [--corrupt] FILE.pcap | wire_pcap --corpus DIR\n");
	return 2;
}
