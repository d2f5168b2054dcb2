/* Option TLVs (RFC 5533 §5.15, RFC 5534 §5.4): type(15) | C(1) | length(16)
 * | content | zero padding to a multiple of 8 octets. */
#include <string.h>

#include <shim6/wire.h>
#include "be.h"

static bool known_type(uint16_t t)
{
	return (t >= SHIM6_OPT_RESP_VALIDATOR && t <= SHIM6_OPT_FORKED_INSTANCE) ||
	       t == SHIM6_OPT_KEEPALIVE_TIMEOUT;
}

static int decode_loclist(const uint8_t *c, unsigned clen, struct shim6_opt_loclist *ll)
{
	if (clen < 5)
		return SHIM6_E_LOCLIST_COUNT;
	ll->gen = be32(c);
	ll->n = c[4];
	if (clen != loclist_clen(ll->n))
		return SHIM6_E_LOCLIST_COUNT;
	ll->methods = c + 5;
	for (unsigned i = 0; i < ll->n; i++)
		if (ll->methods[i] != SHIM6_WIRE_VERIF_HBA && ll->methods[i] != SHIM6_WIRE_VERIF_CGA)
			return SHIM6_E_LOCLIST_METHOD;
	memset(ll->pad, 0, sizeof ll->pad);
	memcpy(ll->pad, c + 5 + ll->n, loclist_pad(ll->n));
	ll->locators = c + 5 + ll->n + loclist_pad(ll->n);
	return 0;
}

static int decode_locpref(const uint8_t *c, unsigned clen, struct shim6_opt_locpref *lp)
{
	if (clen < 5)
		return SHIM6_E_OPT_LEN;
	lp->gen = be32(c);
	lp->elem_len = c[4];
	/* 1-3 are defined; a longer element keeps Flags, Priority and Weight
	 * as its first three octets, so it is accepted and its extra octets
	 * are ignored (and kept in elems for the round trip). */
	if (lp->elem_len < 1)
		return SHIM6_E_LOCPREF_ELEMLEN;
	if ((clen - 5) % lp->elem_len)
		return SHIM6_E_LOCPREF_LEN;
	lp->n = (uint16_t)((clen - 5) / lp->elem_len);
	lp->elems = c + 5;
	return 0;
}

int shim6_wire_opt_decode(const uint8_t *p, size_t room, struct shim6_opt *o, size_t *total)
{
	if (room < 4)
		return SHIM6_E_OPT_TRUNC;
	uint16_t tc = be16(p);
	unsigned clen = be16(p + 2);
	unsigned pad = opt_pad(clen);
	size_t tot = 4 + (size_t)clen + pad;
	if (tot > room)
		return SHIM6_E_OPT_TRUNC;

	memset(o, 0, sizeof *o);
	o->type = tc >> 1;
	o->critical = tc & 1;
	memcpy(o->pad, p + 4 + clen, pad);
	*total = tot;

	const uint8_t *c = p + 4;
	switch (o->type) {
	case SHIM6_OPT_LOCATOR_LIST:
		return decode_loclist(c, clen, &o->u.loclist);
	case SHIM6_OPT_LOCATOR_PREFS:
		return decode_locpref(c, clen, &o->u.locpref);
	case SHIM6_OPT_ULID_PAIR:
		if (clen != 36)
			return SHIM6_E_OPT_LEN;
		o->u.ulid.reserved = be32(c);
		o->u.ulid.sender = c + 4;
		o->u.ulid.receiver = c + 20;
		return 0;
	case SHIM6_OPT_FORKED_INSTANCE:
		if (clen != 4)
			return SHIM6_E_OPT_LEN;
		o->u.forked_instance_id = be32(c);
		return 0;
	case SHIM6_OPT_KEEPALIVE_TIMEOUT:
		if (clen != 4)
			return SHIM6_E_OPT_LEN;
		o->u.ka.reserved = be16(c);
		o->u.ka.seconds = be16(c + 2);
		return 0;
	default:
		/* Unknown: RFC 5533 §5.15 - skip if C=0, reject the message if C=1.
		 * Skipped options are kept so re-encoding reproduces the input. */
		if (!known_type(o->type) && o->critical)
			return SHIM6_E_OPT_CRIT_UNKNOWN;
		o->u.bytes.data = c;
		o->u.bytes.len = (uint16_t)clen;
		return 0;
	}
}

/* Content length of an option, or a negative error for bad fields. */
static int content_len(const struct shim6_opt *o)
{
	switch (o->type) {
	case SHIM6_OPT_LOCATOR_LIST:
		return (int)loclist_clen(o->u.loclist.n);
	case SHIM6_OPT_LOCATOR_PREFS: {
		unsigned e = o->u.locpref.elem_len;
		if (e < 1)
			return SHIM6_E_FIELD;
		unsigned l = 5 + e * o->u.locpref.n;
		return l > 0xffff ? SHIM6_E_FIELD : (int)l;
	}
	case SHIM6_OPT_ULID_PAIR:
		return 36;
	case SHIM6_OPT_FORKED_INSTANCE:
	case SHIM6_OPT_KEEPALIVE_TIMEOUT:
		return 4;
	default:
		return o->u.bytes.len;
	}
}

size_t shim6_wire_opt_size(const struct shim6_opt *o)
{
	int cl = content_len(o);
	if (cl < 0)
		return 0;
	return 4 + (size_t)cl + opt_pad((unsigned)cl);
}

int shim6_wire_opt_encode(const struct shim6_opt *o, uint8_t *p, size_t room)
{
	if (o->type > 0x7fff)
		return SHIM6_E_FIELD;
	int cl = content_len(o);
	if (cl < 0)
		return cl;
	unsigned clen = (unsigned)cl, pad = opt_pad(clen);
	size_t tot = 4 + (size_t)clen + pad;
	if (tot > room)
		return SHIM6_E_NOSPACE;

	put16(p, (uint16_t)(o->type << 1 | (o->critical ? 1 : 0)));
	put16(p + 2, (uint16_t)clen);
	uint8_t *c = p + 4;
	switch (o->type) {
	case SHIM6_OPT_LOCATOR_LIST: {
		const struct shim6_opt_loclist *ll = &o->u.loclist;
		unsigned lp = loclist_pad(ll->n);
		if (ll->n && (!ll->methods || !ll->locators))
			return SHIM6_E_INVAL;
		put32(c, ll->gen);
		c[4] = ll->n;
		if (ll->n)
			memcpy(c + 5, ll->methods, ll->n);
		memcpy(c + 5 + ll->n, ll->pad, lp);
		if (ll->n)
			memcpy(c + 5 + ll->n + lp, ll->locators, 16u * ll->n);
		break;
	}
	case SHIM6_OPT_LOCATOR_PREFS: {
		const struct shim6_opt_locpref *lp = &o->u.locpref;
		if (lp->n && !lp->elems)
			return SHIM6_E_INVAL;
		put32(c, lp->gen);
		c[4] = lp->elem_len;
		if (lp->n)
			memcpy(c + 5, lp->elems, (size_t)lp->n * lp->elem_len);
		break;
	}
	case SHIM6_OPT_ULID_PAIR:
		if (!o->u.ulid.sender || !o->u.ulid.receiver)
			return SHIM6_E_INVAL;
		put32(c, o->u.ulid.reserved);
		memcpy(c + 4, o->u.ulid.sender, 16);
		memcpy(c + 20, o->u.ulid.receiver, 16);
		break;
	case SHIM6_OPT_FORKED_INSTANCE:
		put32(c, o->u.forked_instance_id);
		break;
	case SHIM6_OPT_KEEPALIVE_TIMEOUT:
		put16(c, o->u.ka.reserved);
		put16(c + 2, o->u.ka.seconds);
		break;
	default:
		if (clen && !o->u.bytes.data)
			return SHIM6_E_INVAL;
		if (clen)
			memcpy(c, o->u.bytes.data, clen);
		break;
	}
	memcpy(c + clen, o->pad, pad);
	return (int)tot;
}
