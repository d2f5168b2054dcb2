/* CGA Parameter Data Structure: zero-copy parser for untrusted bytes, and
 * the builder.  RFC 3972 §3, extension TLVs of RFC 4581, Multi-Prefix
 * Extension of RFC 5535 §3.1. */
#include <string.h>

#include "cga_internal.h"

int cga_der_tlv_len(const uint8_t *p, size_t len, uint8_t want_tag)
{
	size_t hdr, body;

	if (len < 2 || p[0] != want_tag)
		return SHIM6_CGA_EKEYDER;
	if (p[1] < 0x80) {
		hdr = 2;
		body = p[1];
	} else if (p[1] == 0x81) {
		if (len < 3 || p[2] < 0x80)      /* DER: shortest form only */
			return SHIM6_CGA_EKEYDER;
		hdr = 3;
		body = p[2];
	} else if (p[1] == 0x82) {
		if (len < 4 || p[2] == 0)
			return SHIM6_CGA_EKEYDER;
		hdr = 4;
		body = (size_t)p[2] << 8 | p[3];
	} else {
		return SHIM6_CGA_EKEYDER;        /* indefinite or absurdly long */
	}
	if (body > len - hdr)
		return SHIM6_CGA_EKEYDER;
	return (int)(hdr + body);
}

static int parse_mp(struct shim6_cga_params *out, const struct shim6_cga_ext *e)
{
	if (out->mp_present)
		return SHIM6_CGA_EEXT;           /* one set per PDS */
	if (e->len < 4 + 8 || (e->len - 4) % 8 != 0)
		return SHIM6_CGA_EEXT;
	out->mp_present = true;
	out->mp_pflag = (e->data[0] & 0x80) != 0;
	out->n_prefixes = (size_t)(e->len - 4) / 8;
	out->prefixes = e->data + 4;
	return 0;
}

int shim6_cga_parse(struct shim6_cga_params *out, const uint8_t *buf, size_t len)
{
	int klen, rc;
	size_t off;

	if (!out || (!buf && len))
		return SHIM6_CGA_EINVAL;
	memset(out, 0, sizeof(*out));
	if (len > SHIM6_CGA_PDS_MAX)
		return SHIM6_CGA_ETOOLONG;
	if (len < SHIM6_CGA_FIXED_LEN + 2)
		return SHIM6_CGA_ESHORT;
	out->raw = buf;
	out->raw_len = len;
	out->modifier = buf;
	out->prefix = buf + 16;
	out->collision_count = buf[24];

	off = SHIM6_CGA_FIXED_LEN;
	klen = cga_der_tlv_len(buf + off, len - off, 0x30);
	if (klen < 0)
		return klen == SHIM6_CGA_EKEYDER && len - off < 4 ? SHIM6_CGA_ESHORT : klen;
	out->pubkey = buf + off;
	out->pubkey_len = (size_t)klen;
	off += (size_t)klen;

	out->ext = buf + off;
	out->ext_len = len - off;
	while (off < len) {
		struct shim6_cga_ext e;
		if (len - off < 4 || out->n_ext == SHIM6_CGA_EXT_MAX)
			return SHIM6_CGA_EEXT;
		e.type = (uint16_t)(buf[off] << 8 | buf[off + 1]);
		e.len = (uint16_t)(buf[off + 2] << 8 | buf[off + 3]);
		if (e.len > len - off - 4)
			return SHIM6_CGA_EEXT;
		e.data = buf + off + 4;
		if (e.type == SHIM6_CGA_EXT_MULTIPREFIX && (rc = parse_mp(out, &e)) < 0)
			return rc;
		out->exts[out->n_ext++] = e;
		off += 4 + (size_t)e.len;
	}
	return 0;
}

int shim6_cga_build(uint8_t *out, size_t cap,
                    const uint8_t modifier[16], const uint8_t prefix[8],
                    uint8_t collision_count,
                    const uint8_t *pubkey, size_t pubkey_len,
                    const uint8_t *ext, size_t ext_len)
{
	size_t n;

	if (!out || !modifier || !prefix || !pubkey || (!ext && ext_len))
		return SHIM6_CGA_EINVAL;
	if (cga_der_tlv_len(pubkey, pubkey_len, 0x30) != (int)pubkey_len)
		return SHIM6_CGA_EKEYDER;
	if (ext_len > SHIM6_CGA_PDS_MAX || pubkey_len > SHIM6_CGA_PDS_MAX)
		return SHIM6_CGA_ETOOLONG;
	n = SHIM6_CGA_FIXED_LEN + pubkey_len + ext_len;
	if (n > SHIM6_CGA_PDS_MAX)
		return SHIM6_CGA_ETOOLONG;
	if (n > cap)
		return SHIM6_CGA_ENOSPACE;
	memcpy(out, modifier, 16);
	memcpy(out + 16, prefix, 8);
	out[24] = collision_count;
	memcpy(out + 25, pubkey, pubkey_len);
	if (ext_len)
		memcpy(out + 25 + pubkey_len, ext, ext_len);
	{
		/* What we emit must parse: catches malformed caller extensions. */
		struct shim6_cga_params p;
		int rc = shim6_cga_parse(&p, out, n);
		if (rc < 0)
			return rc;
	}
	return (int)n;
}
