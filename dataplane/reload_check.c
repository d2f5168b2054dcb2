/* Which config changes a running dataplane can take (reload.h). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mss.h"
#include "reload.h"

static void pfx_from(struct dp_prefix *d, const struct pshim6_conf_prefix *s)
{
	memcpy(d->addr, &s->addr, 16);
	d->len = s->len;
}

void dp_site_from_conf(struct dp_site *s, const struct pshim6_conf *c)
{
	s->n_cmula = c->site.n_cmula_prefixes;
	for (unsigned i = 0; i < s->n_cmula && i < DP_MAX_CMULA_PFX; i++)
		pfx_from(&s->cmula[i], &c->site.cmula_prefixes[i]);
	s->hba = c->site.mode == PSHIM6_ADDR_HBA;
	s->n_isp = c->n_isps;
	s->weight_total = 0;
	for (unsigned i = 0; i < s->n_isp; i++) {
		pfx_from(&s->isp[i].pa, &c->isps[i].pa_prefix);
		memset(s->isp[i].addr, 0, 16);
		if (c->isps[i].has_address)
			memcpy(s->isp[i].addr, &c->isps[i].address.addr, 16);
		s->isp[i].mtu = c->isps[i].mtu;
		s->isp[i].weight = c->isps[i].weight;
		s->weight_total += c->isps[i].weight;
		/* the probes' source is the ISP address: config refuses a probe without one */
		s->isp[i].drain = c->isps[i].drain;
		memset(&s->isp[i].probe, 0, sizeof(s->isp[i].probe));
		for (unsigned k = 0; c->isps[i].has_address && k < c->isps[i].n_probes && k < DP_PROBE_TARGETS; k++)
			memcpy(s->isp[i].probe.a[s->isp[i].probe.n++], &c->isps[i].probes[k], 16);
	}
	memset(s->inside_addr, 0, 16);
	if (c->inside.has_address)
		memcpy(s->inside_addr, &c->inside.address.addr, 16);
	s->inside_mtu = c->inside.mtu;
	s->probe_interval_ms = c->dataplane.probe_interval_ms;
	s->probe_down_after = c->dataplane.probe_down_after;
	s->probe_up_after = c->dataplane.probe_up_after;
	s->ptb = c->dataplane.pmtu != PSHIM6_PMTU_MSS;
	dp_site_mss_prep(s, c->dataplane.pmtu != PSHIM6_PMTU_ICMP);
}

static bool opt_pfx_eq(bool ha, const struct pshim6_conf_prefix *a, bool hb, const struct pshim6_conf_prefix *b)
{
	return ha == hb && (!ha || pshim6_conf_prefix_eq(a, b));
}

static int refuse(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return -1;
}

/* The HBA sets the dataplane installed at start, in order. */
static bool hba_hosts_eq(const struct pshim6_conf *a, const struct pshim6_conf *b)
{
	unsigned i = 0, j = 0;
	for (;;) {
		while (i < a->n_hosts && !a->hosts[i].n_hba)
			i++;
		while (j < b->n_hosts && !b->hosts[j].n_hba)
			j++;
		if (i == a->n_hosts || j == b->n_hosts)
			return i == a->n_hosts && j == b->n_hosts;
		if (memcmp(&a->hosts[i].cmula, &b->hosts[j].cmula, 16) || a->hosts[i].n_hba != b->hosts[j].n_hba ||
		    memcmp(a->hosts[i].hba, b->hosts[j].hba, sizeof(a->hosts[i].hba[0]) * a->hosts[i].n_hba))
			return false;
		i++;
		j++;
	}
}

int dp_reload_check(const struct pshim6_conf *o, const struct pshim6_conf *c, char *why, size_t n)
{
	if (pshim6_conf_addressing_differs(o, c, why, n))
		return -1;
	if (strcmp(o->inside.port, c->inside.port))
		return refuse(why, n, "inside.port");
	if (strcmp(o->inside.name, c->inside.name))
		return refuse(why, n, "inside.name");
	if (!opt_pfx_eq(o->inside.has_address, &o->inside.address, c->inside.has_address, &c->inside.address))
		return refuse(why, n, "inside.address");
	if (o->inside.has_next_hop != c->inside.has_next_hop ||
	    (c->inside.has_next_hop && memcmp(&o->inside.next_hop, &c->inside.next_hop, 16)))
		return refuse(why, n, "inside.next_hop");
	for (unsigned i = 0; i < c->n_isps; i++) {
		const struct pshim6_conf_isp *a = &o->isps[i], *b = &c->isps[i];
		if (strcmp(a->port, b->port))
			return refuse(why, n, "isps[%u].port (%s)", i, b->name);
		if (!opt_pfx_eq(a->has_address, &a->address, b->has_address, &b->address))
			return refuse(why, n, "isps[%u].address (%s)", i, b->name);
		if (memcmp(&a->next_hop, &b->next_hop, 16))
			return refuse(why, n, "isps[%u].next_hop (%s)", i, b->name);
	}
	if (strcmp(o->dataplane.channel, c->dataplane.channel))
		return refuse(why, n, "dataplane.channel");
	if (o->dataplane.max_contexts != c->dataplane.max_contexts)
		return refuse(why, n, "dataplane.max_contexts");
	if (o->dataplane.hba_hosts != c->dataplane.hba_hosts)
		return refuse(why, n, "dataplane.hba_hosts");
	if (o->dataplane.punt_queue != c->dataplane.punt_queue)
		return refuse(why, n, "dataplane.punt_queue");
	if (o->dataplane.natv6_flows != c->dataplane.natv6_flows)
		return refuse(why, n, "dataplane.natv6_flows");
	if (o->dataplane.n_lcores != c->dataplane.n_lcores ||
	    memcmp(o->dataplane.lcores, c->dataplane.lcores, sizeof(c->dataplane.lcores[0]) * c->dataplane.n_lcores))
		return refuse(why, n, "dataplane.lcores");
	if (o->dataplane.n_eal_args != c->dataplane.n_eal_args)
		return refuse(why, n, "dataplane.eal_args");
	for (unsigned i = 0; i < c->dataplane.n_eal_args; i++)
		if (strcmp(o->dataplane.eal_args[i], c->dataplane.eal_args[i]))
			return refuse(why, n, "dataplane.eal_args");
	if (!hba_hosts_eq(o, c))
		return refuse(why, n, "hosts (HBA sets)");
	return 0;
}

struct out {
	char *p;
	size_t n, used;
	unsigned changes;
};

static void note(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int w;
	o->changes++;
	if (o->used >= o->n)
		return;
	va_start(ap, fmt);
	w = vsnprintf(o->p + o->used, o->n - o->used, fmt, ap);
	va_end(ap);
	if (w > 0)
		o->used += (size_t)w;
}

static void mac_str(const struct pshim6_conf_mac *m, char *b)
{
	if (m->set)
		sprintf(b, "%02x:%02x:%02x:%02x:%02x:%02x", m->addr[0], m->addr[1], m->addr[2], m->addr[3],
			m->addr[4], m->addr[5]);
	else
		strcpy(b, "(neighbor discovery)");
}

static void mac_change(struct out *o, const char *key, const struct pshim6_conf_mac *a,
		       const struct pshim6_conf_mac *b)
{
	char sa[24], sb[24];
	if (a->set == b->set && (!a->set || !memcmp(a->addr, b->addr, 6)))
		return;
	mac_str(a, sa);
	mac_str(b, sb);
	note(o, "%s %s -> %s; ", key, sa, sb);
}

/* An ISP's probe targets, comma-separated, into b (PROBES_STR_LEN). */
#define PROBES_STR_LEN (PSHIM6_CONF_MAX_PROBES * (INET6_ADDRSTRLEN + 1))
static const char *probe_str(const struct pshim6_conf_isp *i, char *b)
{
	size_t at = 0;

	if (!i->n_probes)
		return "(none)";
	for (unsigned k = 0; k < i->n_probes; k++) {
		if (k)
			b[at++] = ',';
		inet_ntop(AF_INET6, &i->probes[k], b + at, INET6_ADDRSTRLEN);
		at += strlen(b + at);
	}
	return b;
}

static bool probes_differ(const struct pshim6_conf_isp *a, const struct pshim6_conf_isp *b)
{
	return a->n_probes != b->n_probes || memcmp(a->probes, b->probes, a->n_probes * sizeof(a->probes[0]));
}

unsigned dp_reload_describe(const struct pshim6_conf *a, const struct pshim6_conf *b, char *out, size_t n)
{
	static const char *const pmtu[] = { [PSHIM6_PMTU_ICMP] = "icmp", [PSHIM6_PMTU_MSS] = "mss",
					    [PSHIM6_PMTU_BOTH] = "both" };
	struct out o = { out, n, 0, 0 };
	char key[64], pa[PROBES_STR_LEN], pb[PROBES_STR_LEN];

	if (n)
		out[0] = 0;
	if (a->inside.mtu != b->inside.mtu)
		note(&o, "inside.mtu %u -> %u; ", a->inside.mtu, b->inside.mtu);
	mac_change(&o, "inside.next_hop_mac", &a->inside.next_hop_mac, &b->inside.next_hop_mac);
	for (unsigned i = 0; i < b->n_isps && i < a->n_isps; i++) {
		if (a->isps[i].mtu != b->isps[i].mtu)
			note(&o, "isps.%s.mtu %u -> %u; ", b->isps[i].name, a->isps[i].mtu, b->isps[i].mtu);
		if (a->isps[i].weight != b->isps[i].weight)
			note(&o, "isps.%s.weight %u -> %u; ", b->isps[i].name, a->isps[i].weight, b->isps[i].weight);
		if (a->isps[i].drain != b->isps[i].drain)
			note(&o, "isps.%s.drain %s -> %s; ", b->isps[i].name, a->isps[i].drain ? "true" : "false",
			     b->isps[i].drain ? "true" : "false");
		if (probes_differ(&a->isps[i], &b->isps[i]))
			note(&o, "isps.%s.probe %s -> %s; ", b->isps[i].name, probe_str(&a->isps[i], pa),
			     probe_str(&b->isps[i], pb));
		snprintf(key, sizeof(key), "isps.%s.next_hop_mac", b->isps[i].name);
		mac_change(&o, key, &a->isps[i].next_hop_mac, &b->isps[i].next_hop_mac);
	}
	if (a->dataplane.pmtu != b->dataplane.pmtu)
		note(&o, "dataplane.pmtu %s -> %s; ", pmtu[a->dataplane.pmtu], pmtu[b->dataplane.pmtu]);
	if (a->dataplane.nd_reachable_ms != b->dataplane.nd_reachable_ms)
		note(&o, "dataplane.nd_reachable_ms %u -> %u; ", a->dataplane.nd_reachable_ms,
		     b->dataplane.nd_reachable_ms);
	if (a->dataplane.probe_interval_ms != b->dataplane.probe_interval_ms)
		note(&o, "dataplane.probe_interval_ms %u -> %u; ", a->dataplane.probe_interval_ms,
		     b->dataplane.probe_interval_ms);
	if (a->dataplane.probe_down_after != b->dataplane.probe_down_after)
		note(&o, "dataplane.probe_down_after %u -> %u; ", a->dataplane.probe_down_after,
		     b->dataplane.probe_down_after);
	if (a->dataplane.probe_up_after != b->dataplane.probe_up_after)
		note(&o, "dataplane.probe_up_after %u -> %u; ", a->dataplane.probe_up_after, b->dataplane.probe_up_after);
	if (a->dataplane.idle_polls != b->dataplane.idle_polls)
		note(&o, "dataplane.idle_polls %u -> %u; ", a->dataplane.idle_polls, b->dataplane.idle_polls);
	if (a->dataplane.idle_sleep_us != b->dataplane.idle_sleep_us)
		note(&o, "dataplane.idle_sleep_us %u -> %u; ", a->dataplane.idle_sleep_us, b->dataplane.idle_sleep_us);
	if (o.used >= 2 && o.used < n)
		out[o.used - 2] = 0;   /* the last "; " */
	return o.changes;
}
