/*
 * AAAA -> CMULA rewrite.  Pure: packets in, packet edited, mapping out.
 *
 * A name whose zone publishes a ULID record (private-use type, RFC 3597 form,
 * 16 octets: the peer's CMULA) is answered with that CMULA; its AAAA set is
 * the peer's locator set, kept for pshim6-control.  The synthesised AAAA
 * carries the minimum TTL of the AAAA and ULID records (DNS64 practice).
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "dnsalg.h"

static bool is_dnssec_type(ldns_rr_type t)
{
	return t == LDNS_RR_TYPE_RRSIG || t == LDNS_RR_TYPE_NSEC || t == LDNS_RR_TYPE_NSEC3;
}

/* Drop DNSSEC records from a section; returns a new list (old one freed). */
static ldns_rr_list *strip_list(ldns_rr_list *l)
{
	ldns_rr_list *n = ldns_rr_list_new();
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		if (is_dnssec_type(ldns_rr_get_type(rr)))
			ldns_rr_free(rr);
		else
			ldns_rr_list_push_rr(n, rr);
	}
	ldns_rr_list_free(l); /* shallow: records moved or freed above */
	return n;
}

/* The 16-octet rdata of a ULID record, whatever rdf split ldns chose. */
static bool ulid_rdata(const ldns_rr *rr, struct in6_addr *out)
{
	uint8_t buf[16];
	size_t n = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		size_t sz = ldns_rdf_size(f);
		if (n + sz > sizeof buf)
			return false;
		memcpy(buf + n, ldns_rdf_data(f), sz);
		n += sz;
	}
	if (n != 16)
		return false;
	memcpy(out, buf, 16);
	return true;
}

int dnsalg_rewrite_aaaa(ldns_pkt *resp, const ldns_pkt *ulid_ans, uint16_t ulid_type,
			bool client_do, enum dnsalg_dnssec_policy policy,
			struct dnsalg_rw_result *r)
{
	memset(r, 0, sizeof *r);
	ldns_rr_list *an = ldns_pkt_answer(resp);
	const ldns_rdf *target = NULL;
	uint32_t ttl = UINT32_MAX;
	struct in6_addr loc[DNSALG_MAX_LOCATORS];
	unsigned n_loc = 0;

	/* The AAAA set is the one at the end of any CNAME chain. */
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA)
			target = ldns_rr_owner(rr);
	}
	if (!target)
		return 0;
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		ldns_rr_type t = ldns_rr_get_type(rr);
		if (t == LDNS_RR_TYPE_RRSIG && ldns_rr_rrsig_typecovered(rr) &&
		    ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) == LDNS_RR_TYPE_AAAA)
			r->signed_answer = true;
		if (t != LDNS_RR_TYPE_AAAA || ldns_dname_compare(ldns_rr_owner(rr), target) != 0)
			continue;
		const ldns_rdf *a = ldns_rr_rdf(rr, 0);
		if (!a || ldns_rdf_size(a) != 16)
			return DNSALG_EINVAL;
		if (ldns_rr_ttl(rr) < ttl)
			ttl = ldns_rr_ttl(rr);
		if (n_loc < DNSALG_MAX_LOCATORS)
			memcpy(&loc[n_loc++], ldns_rdf_data(a), 16);
	}

	if (!ulid_ans || ldns_pkt_get_rcode(ulid_ans) != LDNS_RCODE_NOERROR)
		return 0;
	ldns_rr_list *ul = ldns_pkt_answer(ulid_ans);
	for (size_t i = 0; i < ldns_rr_list_rr_count(ul) && r->n_map < DNSALG_MAX_ULIDS; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(ul, i);
		if ((uint16_t)ldns_rr_get_type(rr) != ulid_type ||
		    ldns_dname_compare(ldns_rr_owner(rr), target) != 0)
			continue;
		struct dnsalg_ulid_entry *e = &r->map[r->n_map];
		if (!ulid_rdata(rr, &e->ulid))
			continue; /* wrong length: not a ULID record, ignore it */
		bool dup = false;
		for (unsigned j = 0; j < r->n_map; j++)
			dup |= memcmp(&r->map[j].ulid, &e->ulid, 16) == 0;
		if (dup)
			continue;
		if (ldns_rr_ttl(rr) < ttl)
			ttl = ldns_rr_ttl(rr);
		r->n_map++;
	}
	if (r->n_map == 0)
		return 0;
	if (r->signed_answer && client_do && policy == DNSALG_DNSSEC_PASSTHROUGH) {
		r->n_map = 0;
		return 0;
	}

	char *name = ldns_rdf2str(target);
	ldns_rr_list *nan = ldns_rr_list_new();
	if (!name || !nan) {
		free(name);
		ldns_rr_list_free(nan);
		return DNSALG_ENOMEM;
	}
	/* Keep the CNAME chain; replace the AAAA set; drop signatures. */
	bool stripped = false;
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		ldns_rr_type t = ldns_rr_get_type(rr);
		if (is_dnssec_type(t)) {
			stripped = true;
			continue;
		}
		if (t == LDNS_RR_TYPE_AAAA && ldns_dname_compare(ldns_rr_owner(rr), target) == 0)
			continue;
		ldns_rr_list_push_rr(nan, ldns_rr_clone(rr));
	}
	for (unsigned i = 0; i < r->n_map; i++) {
		ldns_rr *rr = ldns_rr_new_frm_type(LDNS_RR_TYPE_AAAA);
		ldns_rdf *a = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, &r->map[i].ulid);
		if (!rr || !a) {
			ldns_rr_free(rr);
			ldns_rdf_deep_free(a);
			ldns_rr_list_deep_free(nan);
			free(name);
			return DNSALG_ENOMEM;
		}
		ldns_rr_set_owner(rr, ldns_rdf_clone(target));
		ldns_rr_set_ttl(rr, ttl);
		ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
		ldns_rr_set_rdf(rr, a, 0);
		ldns_rr_list_push_rr(nan, rr);
		struct dnsalg_ulid_entry *e = &r->map[i];
		snprintf(e->name, sizeof e->name, "%s", name);
		e->n_locators = n_loc;
		memcpy(e->locators, loc, n_loc * sizeof loc[0]);
		e->ttl = ttl;
	}
	free(name);
	ldns_rr_list_deep_free(an);
	ldns_pkt_set_answer(resp, nan);
	ldns_pkt_set_ancount(resp, (uint16_t)ldns_rr_list_rr_count(nan));

	size_t before = ldns_rr_list_rr_count(ldns_pkt_authority(resp)) +
			ldns_rr_list_rr_count(ldns_pkt_additional(resp));
	ldns_pkt_set_authority(resp, strip_list(ldns_pkt_authority(resp)));
	ldns_pkt_set_additional(resp, strip_list(ldns_pkt_additional(resp)));
	ldns_pkt_set_nscount(resp, (uint16_t)ldns_rr_list_rr_count(ldns_pkt_authority(resp)));
	ldns_pkt_set_arcount(resp, (uint16_t)ldns_rr_list_rr_count(ldns_pkt_additional(resp)));
	if (ldns_rr_list_rr_count(ldns_pkt_authority(resp)) +
	    ldns_rr_list_rr_count(ldns_pkt_additional(resp)) != before)
		stripped = true;
	ldns_pkt_set_ad(resp, false); /* we changed the data: it is not validated */
	r->rewritten = true;
	r->stripped = stripped;
	r->ttl = ttl;
	return 0;
}

int dnsalg_add_ede(ldns_pkt *resp, uint16_t code, const char *text)
{
	size_t tl = strlen(text);
	uint8_t *d = malloc(2 + tl);
	if (!d)
		return DNSALG_ENOMEM;
	d[0] = (uint8_t)(code >> 8);
	d[1] = (uint8_t)code;
	memcpy(d + 2, text, tl);
	ldns_edns_option *opt = ldns_edns_new(LDNS_EDNS_EDE, 2 + tl, d); /* takes d */
	if (!opt) {
		free(d);
		return DNSALG_ENOMEM;
	}
	ldns_edns_option_list *l = ldns_pkt_edns_get_option_list(resp);
	if (!l) {
		l = ldns_edns_option_list_new();
		if (!l) {
			ldns_edns_deep_free(opt);
			return DNSALG_ENOMEM;
		}
		ldns_pkt_set_edns_option_list(resp, l);
	}
	if (!ldns_edns_option_list_push(l, opt)) {
		ldns_edns_deep_free(opt);
		return DNSALG_ENOMEM;
	}
	return 0;
}

static size_t json_str(char *o, size_t cap, const char *s)
{
	size_t n = 0;
	if (n < cap)
		o[n++] = '"';
	for (; *s && n + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			o[n++] = '\\';
			o[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(o + n, cap - n, "\\u%04x", c);
		} else {
			o[n++] = (char)c;
		}
	}
	if (n < cap)
		o[n++] = '"';
	return n;
}

int dnsalg_push_line(const struct dnsalg_ulid_entry *e, char *out, size_t outcap)
{
	char a[INET6_ADDRSTRLEN];
	size_t n = 0;
	if (outcap < 1024)
		return DNSALG_EINVAL;
	inet_ntop(AF_INET6, &e->ulid, a, sizeof a);
	n += (size_t)snprintf(out + n, outcap - n, "{\"cmd\":\"peer-locators\",\"ulid\":\"%s\",\"locators\":[", a);
	for (unsigned i = 0; i < e->n_locators; i++) {
		inet_ntop(AF_INET6, &e->locators[i], a, sizeof a);
		n += (size_t)snprintf(out + n, outcap - n, "%s\"%s\"", i ? "," : "", a);
	}
	n += (size_t)snprintf(out + n, outcap - n, "],\"ttl\":%u,\"name\":", e->ttl);
	n += json_str(out + n, outcap - n - 3, e->name);
	n += (size_t)snprintf(out + n, outcap - n, "}");
	return n < outcap ? (int)n : DNSALG_EINVAL;
}
