/*
 * CGA Parameter Data Structure codec (RFC 3972 §3; Multi-Prefix extension of
 * RFC 5535 §4).  The parser sees bytes that come back from the lease database,
 * which another server (HA peer) or an operator may have written: it trusts
 * nothing and is fuzzed (fuzz_dhcp_pds).
 */
#include <string.h>
#include "pdh.h"

/* Length of the DER SEQUENCE at buf (tag + length + content), or an error. */
static ssize_t der_seq_len(const uint8_t *buf, size_t len)
{
	size_t hdr, body;

	if (len < 2 || buf[0] != 0x30)
		return PDH_EINVAL;
	if (buf[1] < 0x80) {
		hdr = 2;
		body = buf[1];
	} else if (buf[1] == 0x81 && len >= 3 && buf[2] >= 0x80) {
		hdr = 3;
		body = buf[2];
	} else if (buf[1] == 0x82 && len >= 4 && buf[2] != 0) {
		hdr = 4;
		body = (size_t)buf[2] << 8 | buf[3];
	} else {
		return PDH_EINVAL; /* indefinite, non-minimal or > 64 KiB */
	}
	if (body > len - hdr || hdr + body > PDH_KEY_MAX)
		return PDH_EINVAL;
	return (ssize_t)(hdr + body);
}

int pdh_pds_parse(struct pdh_pds *out, const uint8_t *buf, size_t len)
{
	size_t off;
	ssize_t klen;

	memset(out, 0, sizeof(*out));
	if (len < 16 + 8 + 1)
		return PDH_EINVAL;
	memcpy(out->modifier, buf, 16);
	memcpy(out->prefix, buf + 16, 8);
	out->collision_count = buf[24];
	if (out->collision_count > 2)
		return PDH_EINVAL;
	off = 25;
	klen = der_seq_len(buf + off, len - off);
	if (klen < 0)
		return (int)klen;
	out->key = buf + off;
	out->key_len = (size_t)klen;
	off += (size_t)klen;

	while (off < len) {
		uint16_t type, elen;
		size_t n;

		if (len - off < 4)
			return PDH_EINVAL;
		type = (uint16_t)(buf[off] << 8 | buf[off + 1]);
		elen = (uint16_t)(buf[off + 2] << 8 | buf[off + 3]);
		off += 4;
		if (elen > len - off)
			return PDH_EINVAL;
		if (type != PDH_EXT_MULTI_PREFIX || out->has_multi_prefix)
			return PDH_EINVAL;
		if (elen < 4 || (elen - 4) % 8)
			return PDH_EINVAL;
		n = (size_t)(elen - 4) / 8;
		if (n == 0 || n > PDH_MAX_PREFIXES)
			return PDH_EINVAL;
		out->has_multi_prefix = 1;
		out->p_flag = buf[off] >> 7;
		if ((buf[off] & 0x7f) || buf[off + 1] || buf[off + 2] || buf[off + 3])
			return PDH_EINVAL; /* reserved bits must be zero */
		for (size_t i = 0; i < n; i++)
			memcpy(out->prefixes[i], buf + off + 4 + 8 * i, 8);
		out->n_prefixes = n;
		off += elen;
	}
	return PDH_OK;
}

ssize_t pdh_pds_encode(uint8_t *out, size_t cap, const struct pdh_pds *p)
{
	size_t need = 25 + p->key_len, off;

	if (p->collision_count > 2 || p->key_len == 0 || p->key_len > PDH_KEY_MAX ||
	    p->n_prefixes > PDH_MAX_PREFIXES || (p->has_multi_prefix && p->n_prefixes == 0))
		return PDH_EINVAL;
	if (p->has_multi_prefix)
		need += 8 + 8 * p->n_prefixes;
	if (need > cap)
		return PDH_ENOSPC;
	memcpy(out, p->modifier, 16);
	memcpy(out + 16, p->prefix, 8);
	out[24] = p->collision_count;
	memcpy(out + 25, p->key, p->key_len);
	off = 25 + p->key_len;
	if (p->has_multi_prefix) {
		size_t elen = 4 + 8 * p->n_prefixes;
		out[off++] = PDH_EXT_MULTI_PREFIX >> 8;
		out[off++] = PDH_EXT_MULTI_PREFIX & 0xff;
		out[off++] = (uint8_t)(elen >> 8);
		out[off++] = (uint8_t)elen;
		out[off++] = (uint8_t)(p->p_flag ? 0x80 : 0);
		out[off++] = 0;
		out[off++] = 0;
		out[off++] = 0;
		for (size_t i = 0; i < p->n_prefixes; i++, off += 8)
			memcpy(out + off, p->prefixes[i], 8);
	}
	return (ssize_t)off;
}
