/*
 * Upstream queries through ldns.  One struct dnsalg_upstream per thread: an
 * ldns_resolver is not safe to share.  Fallback to TCP is off, so a
 * truncated UDP answer reaches the client with TC set and the client
 * retries over TCP, which then goes upstream over TCP too.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "dnsalg.h"

struct dnsalg_upstream {
	ldns_resolver *udp, *tcp;
};

static ldns_resolver *make(const struct dnsalg_opts *o, bool vc)
{
	ldns_resolver *r = ldns_resolver_new();
	if (!r)
		return NULL;
	for (unsigned i = 0; i < o->n_upstreams; i++) {
		const struct in6_addr *a = &o->upstreams[i].addr;
		ldns_rdf *ns;
		if (IN6_IS_ADDR_V4MAPPED(a))
			ns = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, &a->s6_addr[12]);
		else
			ns = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, a);
		if (!ns || ldns_resolver_push_nameserver(r, ns) != LDNS_STATUS_OK) {
			ldns_rdf_deep_free(ns);
			ldns_resolver_deep_free(r);
			return NULL;
		}
		ldns_rdf_deep_free(ns);
	}
	/* ldns has one port per resolver: the first upstream's. */
	ldns_resolver_set_port(r, o->n_upstreams ? o->upstreams[0].port : 53);
	unsigned per = o->timeout_ms / (o->n_upstreams ? o->n_upstreams : 1);
	struct timeval tv = { (time_t)(per / 1000), (suseconds_t)(per % 1000) * 1000 };
	ldns_resolver_set_timeout(r, tv);
	ldns_resolver_set_retry(r, 1);
	ldns_resolver_set_retrans(r, 0);
	ldns_resolver_set_fallback(r, false);
	ldns_resolver_set_usevc(r, vc);
	ldns_resolver_set_random(r, false);
	ldns_resolver_set_recursive(r, true);
	ldns_resolver_set_dnssec(r, false);
	ldns_resolver_set_dnssec_cd(r, false);
	ldns_resolver_set_edns_udp_size(r, DNSALG_UPSTREAM_BUFSIZE);
	return r;
}

struct dnsalg_upstream *dnsalg_upstream_new(const struct dnsalg_opts *o)
{
	struct dnsalg_upstream *u = calloc(1, sizeof *u);
	if (!u)
		return NULL;
	u->udp = make(o, false);
	u->tcp = make(o, true);
	if (!u->udp || !u->tcp) {
		dnsalg_upstream_free(u);
		return NULL;
	}
	return u;
}

void dnsalg_upstream_free(struct dnsalg_upstream *u)
{
	if (!u)
		return;
	if (u->udp)
		ldns_resolver_deep_free(u->udp);
	if (u->tcp)
		ldns_resolver_deep_free(u->tcp);
	free(u);
}

static int query(void *arg, ldns_pkt *q, bool tcp, ldns_pkt **ans)
{
	struct dnsalg_upstream *u = arg;
	*ans = NULL;
	ldns_status s = ldns_send(ans, tcp ? u->tcp : u->udp, q);
	if (s != LDNS_STATUS_OK || !*ans) {
		if (*ans)
			ldns_pkt_free(*ans);
		*ans = NULL;
		return DNSALG_ETIMEOUT;
	}
	return 0;
}

struct dnsalg_upstream_ops dnsalg_upstream_ops(struct dnsalg_upstream *u)
{
	struct dnsalg_upstream_ops ops = { query, u };
	return ops;
}
