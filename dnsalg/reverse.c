/*
 * Reverse lookup for pshim6-control: locators of a remote CMULA that no
 * forward query brought in.  PTR in the CMULA's ip6.arpa name gives the
 * peer's name; its AAAA set and ULID record come from the PTR answer's
 * additional section when the server put them there, else from two more
 * queries.  The ULID record must name the CMULA asked about: a PTR alone
 * proves nothing.
 */
#include <string.h>

#include "dnsalg.h"

/* up->query, and its answer only if it is for `q`. */
static int query_checked(const struct dnsalg_upstream_ops *up, ldns_pkt *q, bool tcp, ldns_pkt **ans)
{
	int r = up->query(up->arg, q, tcp, ans);
	if (r == 0 && !dnsalg_answer_matches(q, *ans)) {
		ldns_pkt_free(*ans);
		r = DNSALG_EMISMATCH;
	}
	return r;
}

static int ask(struct dnsalg_ctx *x, const struct dnsalg_upstream_ops *up,
	       const ldns_rdf *name, uint16_t type, ldns_pkt **ans)
{
	ldns_pkt *q = ldns_pkt_query_new(ldns_rdf_clone(name), (ldns_rr_type)type,
					 LDNS_RR_CLASS_IN, LDNS_RD);
	if (!q)
		return DNSALG_ENOMEM;
	ldns_pkt_set_id(q, ldns_get_random());
	ldns_pkt_set_edns_udp_size(q, DNSALG_UPSTREAM_BUFSIZE);
	DNSALG_INC(x->cnt, upstream_queries);
	int r = query_checked(up, q, false, ans);
	if (r == 0 && ldns_pkt_tc(*ans)) { /* big locator sets: ask again over TCP */
		ldns_pkt_free(*ans);
		r = query_checked(up, q, true, ans);
	}
	if (r < 0) {
		*ans = NULL;
		DNSALG_INC(x->cnt, upstream_timeouts);
	}
	ldns_pkt_free(q);
	return r;
}

/* A packet whose answer section holds the records of `from` owned by `name`
 * with type `type`. */
static ldns_pkt *pick(const ldns_rr_list *from, const ldns_rdf *name, uint16_t type)
{
	ldns_pkt *p = ldns_pkt_new();
	if (!p)
		return NULL;
	ldns_rr_list *l = ldns_rr_list_new();
	for (size_t i = 0; i < ldns_rr_list_rr_count(from); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(from, i);
		if ((uint16_t)ldns_rr_get_type(rr) == type &&
		    ldns_dname_compare(ldns_rr_owner(rr), name) == 0)
			ldns_rr_list_push_rr(l, ldns_rr_clone(rr));
	}
	ldns_rr_list_deep_free(ldns_pkt_answer(p));
	ldns_pkt_set_answer(p, l);
	ldns_pkt_set_ancount(p, (uint16_t)ldns_rr_list_rr_count(l));
	return p;
}

int dnsalg_reverse_resolve(struct dnsalg_ctx *x, const struct dnsalg_upstream_ops *up,
			   const struct in6_addr *ulid, uint64_t now,
			   struct dnsalg_ulid_entry *out)
{
	if (x->ucache && dnsalg_ucache_get(x->ucache, ulid, now, out) == 0)
		return 0;
	DNSALG_INC(x->cnt, reverse_lookups);
	ldns_rdf *addr = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, ulid);
	ldns_rdf *rev = addr ? ldns_rdf_address_reverse(addr) : NULL;
	ldns_rdf_deep_free(addr);
	if (!rev)
		return DNSALG_ENOMEM;
	ldns_pkt *ptr = NULL, *aaaa = NULL, *ul = NULL;
	int r = ask(x, up, rev, LDNS_RR_TYPE_PTR, &ptr);
	if (r < 0)
		goto out;
	const ldns_rdf *name = NULL;
	uint32_t ptr_ttl = UINT32_MAX;
	for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(ptr)); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(ptr), i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_PTR && ldns_rr_rd_count(rr) == 1) {
			name = ldns_rr_rdf(rr, 0);
			ptr_ttl = ldns_rr_ttl(rr);
			break;
		}
	}
	if (!name) {
		r = DNSALG_ENOENT;
		goto out;
	}
	/* Additional section first (RFC 6672-style servers, or our own zones). */
	aaaa = pick(ldns_pkt_additional(ptr), name, LDNS_RR_TYPE_AAAA);
	ul = pick(ldns_pkt_additional(ptr), name, x->o->ulid_type);
	if (!aaaa || !ul) {
		r = DNSALG_ENOMEM;
		goto out;
	}
	if (ldns_pkt_ancount(aaaa) == 0) {
		ldns_pkt_free(aaaa);
		if ((r = ask(x, up, name, LDNS_RR_TYPE_AAAA, &aaaa)) < 0)
			goto out;
	}
	if (ldns_pkt_ancount(ul) == 0) {
		ldns_pkt_free(ul);
		if ((r = ask(x, up, name, x->o->ulid_type, &ul)) < 0)
			goto out;
	}
	struct dnsalg_rw_result rw;
	r = dnsalg_rewrite_aaaa(aaaa, ul, x->o->ulid_type, false, DNSALG_DNSSEC_REWRITE_STRIP, &rw);
	if (r < 0)
		goto out;
	r = DNSALG_EMISMATCH;
	for (unsigned i = 0; i < rw.n_map; i++) {
		if (memcmp(&rw.map[i].ulid, ulid, 16) != 0)
			continue;
		*out = rw.map[i];
		if (ptr_ttl < out->ttl)
			out->ttl = ptr_ttl;
		if (x->ucache && out->ttl)
			dnsalg_ucache_put(x->ucache, out, now, x->cnt);
		r = 0;
		break;
	}
out:
	if (r < 0)
		DNSALG_INC(x->cnt, reverse_failures);
	ldns_rdf_deep_free(rev);
	if (ptr)
		ldns_pkt_free(ptr);
	if (aaaa)
		ldns_pkt_free(aaaa);
	if (ul)
		ldns_pkt_free(ul);
	return r;
}
