/* Accessors over decoded views: preference elements, probe reports and the
 * octets a CGA Signature covers. */
#include <string.h>

#include <shim6/wire.h>
#include "be.h"

void shim6_wire_locpref_get(const struct shim6_opt_locpref *lp, unsigned i, struct shim6_locpref_elem *out)
{
	const uint8_t *e = lp->elems + (size_t)i * lp->elem_len;
	out->flags = e[0];
	out->priority = lp->elem_len >= 2 ? e[1] : 0;
	out->weight = lp->elem_len >= 3 ? e[2] : 0;
}

void shim6_wire_locpref_pack(const struct shim6_locpref_elem *e, unsigned n, uint8_t elem_len, uint8_t *out)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t v[3] = { e[i].flags, e[i].priority, e[i].weight };
		uint8_t *o = out + (size_t)i * elem_len;
		memcpy(o, v, elem_len > 3 ? 3 : elem_len);
		if (elem_len > 3)
			memset(o + 3, 0, elem_len - 3u);  /* fields of later extensions */
	}
}

int shim6_wire_probe_report(const struct shim6_m_probe *p, bool received, unsigned i,
                            struct shim6_probe_report *out)
{
	unsigned n = received ? p->precvd : p->psent;
	if (i >= n)
		return SHIM6_E_INVAL;
	const uint8_t *r = (received ? p->recvd : p->sent) + (size_t)i * SHIM6_PROBE_REPORT_LEN;
	memcpy(out->src, r, 16);
	memcpy(out->dst, r + 16, 16);
	out->nonce = be32(r + 32);
	out->data = be32(r + 36);
	return 0;
}

void shim6_wire_probe_report_pack(const struct shim6_probe_report *r, uint8_t out[SHIM6_PROBE_REPORT_LEN])
{
	memcpy(out, r->src, 16);
	memcpy(out + 16, r->dst, 16);
	put32(out + 32, r->nonce);
	put32(out + 36, r->data);
}

int shim6_wire_cga_sig_body(const struct shim6_opt_loclist *ll, uint8_t *buf, size_t cap)
{
	if (!ll || !buf || (ll->n && (!ll->methods || !ll->locators)))
		return SHIM6_E_INVAL;
	size_t need = 4;
	for (unsigned i = 0; i < ll->n; i++)
		if (ll->methods[i] == SHIM6_WIRE_VERIF_CGA)
			need += 16;
	if (need > cap)
		return SHIM6_E_NOSPACE;
	put32(buf, ll->gen);
	size_t off = 4;
	for (unsigned i = 0; i < ll->n; i++)
		if (ll->methods[i] == SHIM6_WIRE_VERIF_CGA) {
			memcpy(buf + off, ll->locators + 16 * i, 16);
			off += 16;
		}
	return (int)off;
}

int shim6_wire_cga_signed_data(const struct shim6_opt_loclist *ll, uint8_t *buf, size_t cap)
{
	if (!buf || cap < SHIM6_CGA_TAG_LEN)
		return buf ? SHIM6_E_NOSPACE : SHIM6_E_INVAL;
	int n = shim6_wire_cga_sig_body(ll, buf + SHIM6_CGA_TAG_LEN, cap - SHIM6_CGA_TAG_LEN);
	if (n < 0)
		return n;
	memcpy(buf, shim6_cga_msg_type_tag, SHIM6_CGA_TAG_LEN);
	return SHIM6_CGA_TAG_LEN + n;
}
