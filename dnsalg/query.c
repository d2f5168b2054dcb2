/*
 * The query path.  Queries are parsed at the wire level (no allocation) so
 * that errors, inside names and cache hits are answered without ldns; only
 * a cache miss builds ldns packets for upstream.
 */
#include <stdlib.h>
#include <string.h>

#include "dnsalg.h"

const char *dnsalg_strerror(int err)
{
	switch (err) {
	case DNSALG_OK: return "ok";
	case DNSALG_EDROP: return "dropped";
	case DNSALG_EFORMERR: return "malformed query";
	case DNSALG_ENOTIMP: return "opcode not implemented";
	case DNSALG_ETIMEOUT: return "upstream timeout";
	case DNSALG_ENOMEM: return "out of memory";
	case DNSALG_ENOENT: return "not found";
	case DNSALG_EMISMATCH: return "answer does not match question";
	case DNSALG_EFULL: return "table or queue full";
	case DNSALG_EINVAL: return "invalid argument";
	case DNSALG_EBADVERS: return "bad EDNS version";
	case DNSALG_EMISS: return "cache miss";
	case DNSALG_ERANDOM: return "no random bytes";
	case DNSALG_EWIRE: return "upstream answer does not walk";
	case DNSALG_ETSIG: return "upstream answer carries TSIG";
	}
	return "unknown error";
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* RFC 7871 §6: FAMILY 1 or 2, a source prefix that fits it, scope 0 in a
 * query, exactly the octets the source prefix needs, no bits beyond it. */
static bool ecs_well_formed(const uint8_t *d, uint16_t len)
{
	if (len < 4)
		return false;
	uint16_t fam = rd16(d);
	unsigned src = d[2], bytes = (src + 7) / 8;
	if ((fam != 1 || src > 32) && (fam != 2 || src > 128))
		return false;
	if (d[3] != 0 || len != 4 + bytes)
		return false;
	return src % 8 == 0 || (d[4 + bytes - 1] & (0xFF >> (src % 8))) == 0;
}

/* One option of the client's OPT record. */
static int edns_option(struct dnsalg_query *q, uint16_t code, const uint8_t *d, uint16_t len)
{
	switch (code) {
	case DNSALG_OPT_COOKIE:
		/* RFC 7873 §5.2.2: a client cookie alone (8) or with a server
		 * cookie of 8 to 32 octets; anything else, or two of them, FORMERR */
		if (q->cookie_len || (len != 8 && (len < 16 || len > 40)))
			return DNSALG_EFORMERR;
		memcpy(q->cookie, d, len);
		q->cookie_len = (uint8_t)len;
		return 0;
	case DNSALG_OPT_ECS:
		if (q->ecs_len || !ecs_well_formed(d, len))
			return DNSALG_EFORMERR; /* RFC 7871 §6, §7.1.1 */
		memcpy(q->ecs, d, len);
		q->ecs_len = (uint8_t)len;
		return 0;
	default:
		q->ignored_opts++;
		return 0; /* RFC 6891 §6.1.2: not understood, ignored */
	}
}

int dnsalg_query_parse(const uint8_t *in, size_t len, struct dnsalg_query *q)
{
	q->cookie_len = q->ecs_len = 0;
	q->ignored_opts = 0;
	q->qname_len = q->question_len = 0;
	q->edns = q->do_bit = false;
	q->edns_size = 0;
	q->edns_version = 0;
	q->qtype = q->qclass = 0;
	if (len < 12)
		return DNSALG_EDROP;
	q->id = rd16(in);
	q->flags = rd16(in + 2);
	if (q->flags & DNSALG_F_QR)
		return DNSALG_EDROP; /* never answer an answer: no reflection loops */
	if (((q->flags >> 11) & 0xF) != 0)
		return DNSALG_ENOTIMP;
	if (len > DNSALG_QUERY_MAX)
		return DNSALG_EFORMERR;
	uint16_t qd = rd16(in + 4), an = rd16(in + 6), ns = rd16(in + 8), ar = rd16(in + 10);
	if (qd != 1 || an != 0)
		return DNSALG_EFORMERR;
	size_t off = 12, nl = 0;
	for (;;) {
		if (off >= len)
			return DNSALG_EFORMERR;
		uint8_t l = in[off];
		if (l & 0xC0)
			return DNSALG_EFORMERR; /* no compression in a lone question */
		if (nl + 1u + l > sizeof(q->qname))
			return DNSALG_EFORMERR;
		if (off + 1u + l > len)
			return DNSALG_EFORMERR;
		memcpy(q->qname + nl, in + off, 1u + l);
		nl += 1u + l;
		off += 1u + l;
		if (l == 0)
			break;
	}
	if (off + 4 > len)
		return DNSALG_EFORMERR;
	q->qname_len = nl;
	q->qtype = rd16(in + off);
	q->qclass = rd16(in + off + 2);
	q->question_len = nl + 4;
	off += 4;
	for (unsigned i = 0; i < (unsigned)ns + ar; i++) {
		size_t name_at = off;
		off = dnsalg_wire_skip_name(in, len, off);
		if (off == 0 || off + 10 > len)
			return DNSALG_EFORMERR;
		uint16_t type = rd16(in + off), rdlen = rd16(in + off + 8);
		if (off + 10u + rdlen > len)
			return DNSALG_EFORMERR;
		if (type == LDNS_RR_TYPE_OPT) {
			/* RFC 6891: one OPT, owner root, in the additional section */
			if (q->edns || i < ns || in[name_at] != 0 || off != name_at + 1)
				return DNSALG_EFORMERR;
			q->edns = true;
			q->edns_size = rd16(in + off + 2);
			uint32_t ttl = rd32(in + off + 4);
			q->edns_version = (uint8_t)(ttl >> 16);
			q->do_bit = (ttl & 0x8000) != 0;
			size_t o = off + 10, e = o + rdlen;
			while (o < e) {
				if (o + 4 > e || o + 4u + rd16(in + o + 2) > e)
					return DNSALG_EFORMERR;
				int r = edns_option(q, rd16(in + o), in + o + 4, rd16(in + o + 2));
				if (r < 0)
					return r;
				o += 4u + rd16(in + o + 2);
			}
		}
		off += 10u + rdlen;
	}
	if (off != len)
		return DNSALG_EFORMERR;
	if (q->edns && q->edns_version != 0)
		return DNSALG_EBADVERS;
	return 0;
}

size_t dnsalg_query_udp_limit(const struct dnsalg_query *q)
{
	if (!q->edns || q->edns_size < 512)
		return 512;
	return q->edns_size < DNSALG_UDP_OUT_MAX ? q->edns_size : DNSALG_UDP_OUT_MAX;
}

int dnsalg_wire_empty_answer(const struct dnsalg_query *q, const uint8_t *in,
			     unsigned rcode, bool tc, uint8_t *out, size_t outcap)
{
	size_t need = 12 + q->question_len + (q->edns ? 11 : 0);
	if (need > outcap)
		return DNSALG_EFULL;
	uint16_t f = DNSALG_F_QR | DNSALG_F_RA | (q->flags & (0x7800 | DNSALG_F_RD | DNSALG_F_CD));
	if (tc)
		f |= DNSALG_F_TC;
	f |= rcode & 0xF;
	wr16(out, q->id);
	wr16(out + 2, f);
	wr16(out + 4, q->question_len ? 1 : 0);
	wr16(out + 6, 0);
	wr16(out + 8, 0);
	wr16(out + 10, q->edns ? 1 : 0);
	if (q->question_len)
		memcpy(out + 12, in + 12, q->question_len);
	if (q->edns) {
		uint8_t *o = out + 12 + q->question_len;
		o[0] = 0;
		wr16(o + 1, LDNS_RR_TYPE_OPT);
		wr16(o + 3, DNSALG_UDP_OUT_MAX);
		o[5] = (uint8_t)(rcode >> 4);   /* extended RCODE */
		o[6] = 0;                        /* version */
		o[7] = q->do_bit ? 0x80 : 0;     /* RFC 3225: DO copied */
		o[8] = 0;
		wr16(o + 9, 0);
	}
	return (int)need;
}

static int error_answer(struct dnsalg_ctx *x, int err, const struct dnsalg_query *q,
			const uint8_t *in, uint8_t *out, size_t outcap)
{
	unsigned rcode;
	switch (err) {
	case DNSALG_EFORMERR: rcode = LDNS_RCODE_FORMERR; DNSALG_INC(x->cnt, formerr); break;
	case DNSALG_ENOTIMP: rcode = LDNS_RCODE_NOTIMPL; DNSALG_INC(x->cnt, notimp); break;
	case DNSALG_EBADVERS: rcode = 16; DNSALG_INC(x->cnt, formerr); break;
	default: rcode = LDNS_RCODE_SERVFAIL; DNSALG_INC(x->cnt, servfail); break;
	}
	return dnsalg_wire_empty_answer(q, in, rcode, false, out, outcap);
}

static size_t out_limit(const struct dnsalg_query *q, bool tcp, size_t outcap)
{
	if (tcp)
		return outcap;
	size_t l = dnsalg_query_udp_limit(q);
	return l < outcap ? l : outcap;
}

int dnsalg_fast(struct dnsalg_ctx *x, const uint8_t *in, size_t len, bool tcp,
		uint64_t now, struct dnsalg_query *q, uint8_t *out, size_t outcap)
{
	if (tcp)
		DNSALG_INC(x->cnt, queries_tcp);
	else
		DNSALG_INC(x->cnt, queries_udp);
	int r = dnsalg_query_parse(in, len, q);
	if (r == DNSALG_EDROP) {
		DNSALG_INC(x->cnt, dropped);
		return DNSALG_EDROP;
	}
	if (r < 0) {
		if (r == DNSALG_EFORMERR && q->question_len == 0)
			q->edns = false;
		return error_answer(x, r, q, in, out, outcap);
	}
	if (q->ignored_opts)
		DNSALG_INC(x->cnt, edns_opt_ignored);
	size_t limit = out_limit(q, tcp, outcap);
	if (x->inside) {
		r = dnsalg_inside_answer(x->inside, q, in, out, limit);
		if (r == DNSALG_EFULL) {
			DNSALG_INC(x->cnt, truncated);
			return dnsalg_wire_empty_answer(q, in, 0, true, out, outcap);
		}
		if (r >= 0) {
			if (q->qtype == LDNS_RR_TYPE_PTR)
				DNSALG_INC(x->cnt, inside_ptr);
			else
				DNSALG_INC(x->cnt, inside_answers);
			DNSALG_INC(x->cnt, answers);
			return r;
		}
	}
	if (x->acache && !q->ecs_len) { /* CLIENT-SUBNET answers are never cached */
		r = dnsalg_acache_get(x->acache, q, in, now, out, limit);
		if (r >= 0) {
			DNSALG_INC(x->cnt, cache_hits);
			DNSALG_INC(x->cnt, answers);
			return r;
		}
		if (r == DNSALG_EFULL) {
			DNSALG_INC(x->cnt, cache_hits);
			DNSALG_INC(x->cnt, truncated);
			return dnsalg_wire_empty_answer(q, in, 0, true, out, outcap);
		}
	}
	DNSALG_INC(x->cnt, cache_misses);
	return DNSALG_EMISS;
}

/* The client's CLIENT-SUBNET, as it came (RFC 7871 §7.5). */
static int add_ecs(ldns_pkt *p, const struct dnsalg_query *q)
{
	uint8_t *d = malloc(q->ecs_len);
	if (!d)
		return DNSALG_ENOMEM;
	memcpy(d, q->ecs, q->ecs_len);
	ldns_edns_option *opt = ldns_edns_new(LDNS_EDNS_CLIENT_SUBNET, q->ecs_len, d); /* takes d */
	ldns_edns_option_list *l = ldns_edns_option_list_new();
	if (!opt || !l || !ldns_edns_option_list_push(l, opt)) {
		if (opt)
			ldns_edns_deep_free(opt);
		else
			free(d);
		if (l)
			ldns_edns_option_list_deep_free(l);
		return DNSALG_ENOMEM;
	}
	ldns_pkt_set_edns_option_list(p, l);
	return 0;
}

static ldns_pkt *upstream_query(const struct dnsalg_query *q, uint16_t type, bool ecs)
{
	ldns_rdf *name = ldns_dname_new_frm_data((uint16_t)q->qname_len, q->qname);
	if (!name)
		return NULL;
	uint16_t flags = 0;
	if (q->flags & DNSALG_F_RD)
		flags |= LDNS_RD;
	if (q->flags & DNSALG_F_CD)
		flags |= LDNS_CD;
	ldns_pkt *p = ldns_pkt_query_new(name, (ldns_rr_type)type, (ldns_rr_class)q->qclass, flags);
	if (!p) {
		ldns_rdf_deep_free(name);
		return NULL;
	}
	ldns_pkt_set_id(p, ldns_get_random());
	ldns_pkt_set_edns_udp_size(p, DNSALG_UPSTREAM_BUFSIZE);
	ldns_pkt_set_edns_do(p, q->do_bit);
	if (ecs && q->ecs_len && add_ecs(p, q) < 0) {
		ldns_pkt_free(p);
		return NULL;
	}
	return p;
}

bool dnsalg_answer_matches(const ldns_pkt *uq, const ldns_pkt *ans)
{
	if (!ldns_pkt_qr(ans) || ldns_pkt_id(ans) != ldns_pkt_id(uq))
		return false;
	if (ldns_pkt_qdcount(ans) != 1 || ldns_rr_list_rr_count(ldns_pkt_question(ans)) != 1)
		return false;
	const ldns_rr *a = ldns_rr_list_rr(ldns_pkt_question(ans), 0);
	const ldns_rr *b = ldns_rr_list_rr(ldns_pkt_question(uq), 0);
	return ldns_rr_get_type(a) == ldns_rr_get_type(b) &&
	       ldns_rr_get_class(a) == ldns_rr_get_class(b) &&
	       ldns_dname_compare(ldns_rr_owner(a), ldns_rr_owner(b)) == 0;
}

/* 0 and *ans, or DNSALG_ETIMEOUT / DNSALG_EMISMATCH. */
static int ask(struct dnsalg_ctx *x, const struct dnsalg_upstream_ops *up,
	       const struct dnsalg_query *q, uint16_t type, bool tcp, ldns_pkt **ans)
{
	*ans = NULL;
	/* the ULID record is the same for every subnet: ask it without ECS */
	bool ecs = type == q->qtype && q->ecs_len;
	ldns_pkt *uq = upstream_query(q, type, ecs);
	if (!uq)
		return DNSALG_ENOMEM;
	DNSALG_INC(x->cnt, upstream_queries);
	if (ecs)
		DNSALG_INC(x->cnt, ecs_forwarded);
	int r = up->query(up->arg, uq, tcp, ans);
	if (r == 0 && !dnsalg_answer_matches(uq, *ans)) {
		ldns_pkt_free(*ans);
		*ans = NULL;
		r = DNSALG_EMISMATCH;
	}
	if (r < 0)
		DNSALG_INC(x->cnt, upstream_timeouts);
	ldns_pkt_free(uq);
	return r;
}

static bool has_type(const ldns_rr_list *l, ldns_rr_type t)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) == t)
			return true;
	return false;
}

/* Shape the upstream answer into ours: ID, flags, EDNS as the client asked. */
static void finish_answer(ldns_pkt *resp, const struct dnsalg_query *q)
{
	ldns_pkt_set_id(resp, q->id);
	ldns_pkt_set_qr(resp, true);
	ldns_pkt_set_aa(resp, false);
	ldns_pkt_set_ra(resp, true);
	ldns_pkt_set_rd(resp, (q->flags & DNSALG_F_RD) != 0);
	ldns_pkt_set_cd(resp, (q->flags & DNSALG_F_CD) != 0);
	if (q->edns) {
		ldns_pkt_set_edns_udp_size(resp, DNSALG_UDP_OUT_MAX);
		ldns_pkt_set_edns_version(resp, 0);
		ldns_pkt_set_edns_z(resp, 0); /* ldns keeps DO inside z: set it after */
		ldns_pkt_set_edns_do(resp, q->do_bit);
	} else {
		ldns_pkt_set_edns_udp_size(resp, 0);
		ldns_pkt_set_edns_extended_rcode(resp, 0);
		ldns_pkt_set_edns_version(resp, 0);
		ldns_pkt_set_edns_do(resp, false);
		ldns_pkt_set_edns_z(resp, 0);
		/* the upstream's OPT data is owned by resp: the setter does not
		 * free it.  ldns_wire2pkt() also marks a parsed OPT as present,
		 * and ldns 1.8 has no setter to unmark it: without this the
		 * client that sent no OPT would get one (RFC 6891 §7). */
		ldns_rdf_deep_free(ldns_pkt_edns_data(resp));
		ldns_pkt_set_edns_data(resp, NULL);
		ldns_pkt_set_edns_option_list(resp, NULL);
		resp->_edns_present = 0;
	}
}

static void push_entry(struct dnsalg_ctx *x, const struct dnsalg_ulid_entry *e, uint64_t now)
{
	if (!x->ucache || dnsalg_ucache_put(x->ucache, e, now, x->cnt) != 1)
		return; /* same mapping already pushed and still valid */
	char line[2048];
	if (!x->push.push || dnsalg_push_line(e, line, sizeof line) < 0)
		return;
	if (x->push.push(x->push.arg, line) < 0)
		DNSALG_INC(x->cnt, push_dropped);
}

int dnsalg_slow(struct dnsalg_ctx *x, const struct dnsalg_upstream_ops *up,
		const struct dnsalg_query *q, const uint8_t *in, bool tcp,
		uint64_t now, uint8_t *out, size_t outcap)
{
	size_t limit = out_limit(q, tcp, outcap);
	ldns_pkt *resp = NULL, *ulid = NULL;
	int r = ask(x, up, q, q->qtype, tcp, &resp);
	if (r < 0)
		return error_answer(x, DNSALG_ETIMEOUT, q, in, out, outcap);
	bool cacheable = !ldns_pkt_tc(resp) && !q->ecs_len;
	bool is_aaaa = q->qtype == LDNS_RR_TYPE_AAAA && q->qclass == LDNS_RR_CLASS_IN;
	struct dnsalg_rw_result rw;
	memset(&rw, 0, sizeof rw);

	if (is_aaaa && (q->flags & DNSALG_F_CD)) {
		DNSALG_INC(x->cnt, cd_passthrough);      /* the client validates: hands off */
	} else if (is_aaaa && ldns_pkt_get_rcode(resp) == LDNS_RCODE_NOERROR &&
		   has_type(ldns_pkt_answer(resp), LDNS_RR_TYPE_AAAA) && !ldns_pkt_tc(resp)) {
		r = ask(x, up, q, x->o->ulid_type, tcp, &ulid);
		if (r < 0) {
			/* Unknown ULID status: answer unchanged but do not cache. */
			cacheable = false;
			DNSALG_INC(x->cnt, no_ulid_passthrough);
		} else {
			r = dnsalg_rewrite_aaaa(resp, ulid, x->o->ulid_type, q->do_bit,
						x->o->dnssec, &rw);
			if (r == 0 && rw.rewritten) {
				DNSALG_INC(x->cnt, rewritten);
				if (rw.stripped)
					DNSALG_INC(x->cnt, dnssec_stripped);
				for (unsigned i = 0; i < rw.n_map; i++)
					push_entry(x, &rw.map[i], now);
			} else if (rw.signed_answer && q->do_bit &&
				   x->o->dnssec == DNSALG_DNSSEC_PASSTHROUGH) {
				DNSALG_INC(x->cnt, dnssec_passthrough);
			} else {
				DNSALG_INC(x->cnt, no_ulid_passthrough);
			}
		}
	} else {
		DNSALG_INC(x->cnt, other_passthrough);
	}

	finish_answer(resp, q);
	if (rw.rewritten && q->edns)
		dnsalg_add_ede(resp, DNSALG_EDE_FORGED,
			       rw.stripped ? "CMULA synthesised from ULID record; signatures removed"
					   : "CMULA synthesised from ULID record");
	uint8_t *wire = NULL;
	size_t wlen = 0;
	int n;
	if (ldns_pkt2wire(&wire, resp, &wlen) != LDNS_STATUS_OK || wlen < 12 + q->question_len) {
		n = error_answer(x, DNSALG_ETIMEOUT, q, in, out, outcap);
		goto done;
	}
	/* Echo the client's question bytes: keeps its 0x20 case. */
	memcpy(wire + 12, in + 12, q->question_len);
	int fl = dnsalg_wire_opt_filter(wire, wlen, q, x->cnt);
	if (fl < 0) {
		DNSALG_INC(x->cnt, upstream_timeouts); /* as any answer that is not ours */
		n = error_answer(x, DNSALG_ETIMEOUT, q, in, out, outcap);
		goto done;
	}
	wlen = (size_t)fl;
	if (cacheable && x->acache) {
		uint16_t rc = wire[3] & 0xF;
		if (rc == LDNS_RCODE_NOERROR || rc == LDNS_RCODE_NXDOMAIN)
			dnsalg_acache_put(x->acache, q, wire, wlen, now, x->cnt);
	}
	if (wlen > limit) {
		DNSALG_INC(x->cnt, truncated);
		n = dnsalg_wire_empty_answer(q, in, ldns_pkt_get_rcode(resp), true, out, outcap);
	} else {
		memcpy(out, wire, wlen);
		n = (int)wlen;
		DNSALG_INC(x->cnt, answers);
	}
done:
	LDNS_FREE(wire);
	ldns_pkt_free(resp);
	if (ulid)
		ldns_pkt_free(ulid);
	return n;
}

int dnsalg_handle(struct dnsalg_ctx *x, const struct dnsalg_upstream_ops *up,
		  const struct dnsalg_client *cl, const uint8_t *in, size_t len, bool tcp,
		  uint64_t now, uint8_t *out, size_t outcap)
{
	struct dnsalg_query q;
	int r = dnsalg_fast(x, in, len, tcp, now, &q, out, outcap);
	if (r == DNSALG_EMISS)
		r = dnsalg_slow(x, up, &q, in, tcp, now, out, outcap);
	return dnsalg_edns_finish(x, &q, in, cl, tcp, out, r, outcap);
}
