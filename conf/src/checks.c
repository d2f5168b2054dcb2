/*
 * Checks that span more than one value: uniqueness, overlaps, references,
 * sums.  Each reports at the line of the setting it is about.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include "schema.h"

/* The member `key` of `group` when present, else the group itself. */
static const config_setting_t *at(const config_setting_t *group, const char *key)
{
	const config_setting_t *s = group ? config_setting_lookup((config_setting_t *)group, key) : NULL;
	return s ? s : group;
}

static const char *pfx(const struct pshim6_conf_prefix *p, char *b, size_t n)
{
	return pshim6_conf_prefix_str(p, b, n);
}

static bool valid_key_name(const char *s)
{
	/* ISP names double as libconfig keys in te.rules weights */
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

void conf_check_site(struct ctx *x, const config_setting_t *g, void *base)
{
	struct pshim6_conf_site *s = base;
	char a[64], b[64];
	for (unsigned i = 0; i < s->n_cmula_prefixes; i++)
		for (unsigned j = 0; j < i; j++)
			if (conf_prefix_overlap(&s->cmula_prefixes[i], &s->cmula_prefixes[j]))
				conf_error(x, at(g, "cmula_prefixes"), "cmula prefix %s overlaps %s",
					   pfx(&s->cmula_prefixes[i], a, sizeof a), pfx(&s->cmula_prefixes[j], b, sizeof b));
}

/* An answered probe stands for "this ISP carries traffic", so its target
 * must be one whose answer comes back through the ISP.  The dataplane sends
 * it from the ISP's address, which it cannot do without one.  An address of
 * this site (the ISP's own address, its PA prefix, a CMULA prefix) would be
 * answered from here; loopback, multicast and :: are no one host out there,
 * IPv4-mapped or -compatible ones no IPv6 host, and a link-local one goes
 * to the next hop's MAC, which does not forward it, so at best it shows the
 * link up.  Several targets guard against one of them failing while its ISP
 * works. */
static void check_probe_target(struct ctx *x, const config_setting_t *s, const struct pshim6_conf_isp *isp,
			       const struct in6_addr *v)
{
	const struct pshim6_conf *c = x->c;
	char a[INET6_ADDRSTRLEN], b[64];

	inet_ntop(AF_INET6, v, a, sizeof a);
	if (IN6_IS_ADDR_UNSPECIFIED(v) || IN6_IS_ADDR_MULTICAST(v) || IN6_IS_ADDR_LOOPBACK(v)) {
		conf_error(x, s, "isp \"%s\": probe %s is not a unicast address", isp->name, a);
		return;
	}
	/* no IPv6 router forwards these: they stand for IPv4 hosts */
	if (IN6_IS_ADDR_V4MAPPED(v) || IN6_IS_ADDR_V4COMPAT(v)) {
		conf_error(x, s, "isp \"%s\": probe %s stands for an IPv4 address; give an IPv6 address reached through the ISP",
			   isp->name, a);
		return;
	}
	if (IN6_IS_ADDR_LINKLOCAL(v)) {
		conf_error(x, s, "isp \"%s\": probe %s is link-local; give a global address reached through the ISP",
			   isp->name, a);
		return;
	}
	if (isp->has_address && !memcmp(v, &isp->address.addr, sizeof *v)) {
		conf_error(x, s, "isp \"%s\": probe %s is the ISP's own address", isp->name, a);
		return;
	}
	if (isp->pa_prefix.len && pshim6_conf_prefix_contains(&isp->pa_prefix, v)) {
		conf_error(x, s, "isp \"%s\": probe %s is in its own pa_prefix %s", isp->name, a,
			   pfx(&isp->pa_prefix, b, sizeof b));
		return;
	}
	for (unsigned j = 0; j < c->site.n_cmula_prefixes; j++)
		if (pshim6_conf_prefix_contains(&c->site.cmula_prefixes[j], v)) {
			conf_error(x, s, "isp \"%s\": probe %s is in cmula prefix %s", isp->name, a,
				   pfx(&c->site.cmula_prefixes[j], b, sizeof b));
			return;
		}
}

/* Only the targets that parsed are here: one that did not is reported
 * already. */
static void check_isp_probe(struct ctx *x, const config_setting_t *g, const struct pshim6_conf_isp *isp)
{
	const config_setting_t *s = at(g, "probe");
	char a[INET6_ADDRSTRLEN];

	if (isp->n_probes && !isp->has_address)
		conf_error(x, s, "isp \"%s\": probe needs 'address' (the probes' source)", isp->name);
	for (unsigned i = 0; i < isp->n_probes; i++) {
		check_probe_target(x, s, isp, &isp->probes[i]);
		for (unsigned j = 0; j < i; j++)
			if (!memcmp(&isp->probes[i], &isp->probes[j], sizeof isp->probes[i])) {
				inet_ntop(AF_INET6, &isp->probes[i], a, sizeof a);
				conf_error(x, s, "isp \"%s\": probe %s listed twice", isp->name, a);
				break;
			}
	}
}

void conf_check_isp(struct ctx *x, const config_setting_t *g, void *base)
{
	struct pshim6_conf_isp *isp = base;
	struct pshim6_conf *c = x->c;
	unsigned me = (unsigned)(isp - c->isps);
	char a[64], b[64];

	if (isp->name[0] && !valid_key_name(isp->name))
		conf_error(x, at(g, "name"), "isp name \"%s\": use letters, digits, '-' and '_', starting with a letter", isp->name);
	for (unsigned j = 0; j < me; j++) {
		if (isp->name[0] && !strcmp(c->isps[j].name, isp->name))
			conf_error(x, at(g, "name"), "duplicate isp name \"%s\"", isp->name);
		if (isp->pa_prefix.len && conf_prefix_overlap(&isp->pa_prefix, &c->isps[j].pa_prefix))
			conf_error(x, at(g, "pa_prefix"), "pa_prefix %s overlaps isp \"%s\" (%s)",
				   pfx(&isp->pa_prefix, a, sizeof a), c->isps[j].name,
				   pfx(&c->isps[j].pa_prefix, b, sizeof b));
	}
	for (unsigned j = 0; j < c->site.n_cmula_prefixes; j++)
		if (isp->pa_prefix.len && conf_prefix_overlap(&isp->pa_prefix, &c->site.cmula_prefixes[j]))
			conf_error(x, at(g, "pa_prefix"), "pa_prefix %s overlaps cmula prefix %s",
				   pfx(&isp->pa_prefix, a, sizeof a), pfx(&c->site.cmula_prefixes[j], b, sizeof b));
	check_isp_probe(x, g, isp);
}

void conf_check_group(struct ctx *x, const config_setting_t *g, void *base)
{
	struct pshim6_conf_te_group *grp = base;
	struct pshim6_conf *c = x->c;
	unsigned me = (unsigned)(grp - c->te.groups);
	char a[64];
	for (unsigned j = 0; j < me; j++)
		if (grp->name[0] && !strcmp(c->te.groups[j].name, grp->name))
			conf_error(x, at(g, "name"), "duplicate te group name \"%s\"", grp->name);
	for (unsigned i = 0; i < grp->n_prefixes; i++) {
		bool in = false;
		for (unsigned j = 0; j < c->site.n_cmula_prefixes; j++)
			if (c->site.cmula_prefixes[j].len <= grp->prefixes[i].len &&
			    pshim6_conf_prefix_contains(&c->site.cmula_prefixes[j], &grp->prefixes[i].addr))
				in = true;
		if (!in)
			conf_error(x, at(g, "prefixes"), "te group \"%s\": %s is not inside a site cmula prefix",
				   grp->name, pfx(&grp->prefixes[i], a, sizeof a));
	}
}

void conf_load_weights(struct ctx *x, const config_setting_t *s, void *base)
{
	struct pshim6_conf_te_rule *r = base;
	if (!config_setting_is_group(s)) {
		conf_error(x, s, "'weights' must be a group like { ispx = 1; ispy = 2; }");
		return;
	}
	unsigned before = x->nerr;
	int n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *w = config_setting_get_elem(s, (unsigned)i);
		int isp = pshim6_conf_isp_index(x->c, config_setting_name(w));
		if (isp < 0) {
			conf_error(x, w, "weights: no ISP named \"%s\"", config_setting_name(w));
			continue;
		}
		int t = config_setting_type(w);
		long long v = config_setting_get_int64(w);
		if ((t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) || v < 0 || v > 1000) {
			conf_error(x, w, "weights: '%s' must be an integer 0..1000", config_setting_name(w));
			continue;
		}
		r->weights[isp] = (uint32_t)v;
	}
	uint32_t sum = 0;
	for (unsigned i = 0; i < PSHIM6_CONF_MAX_ISPS; i++)
		sum += r->weights[i];
	if (sum == 0 && x->nerr == before)
		conf_error(x, s, "te rule weights are all zero: no ISP could be chosen");
}

void conf_print_weights(FILE *f, const struct pshim6_conf *c, const void *base, int indent)
{
	const struct pshim6_conf_te_rule *r = base;
	fputc('{', f);
	for (unsigned i = 0; i < c->n_isps; i++)
		fprintf(f, " %s = %u;", c->isps[i].name, r->weights[i]);
	fprintf(f, " };");
	(void)indent;
}

void conf_check_rule(struct ctx *x, const config_setting_t *g, void *base)
{
	struct pshim6_conf_te_rule *r = base;
	const config_setting_t *w = config_setting_get_member(g, "weights");
	bool has_isp = config_setting_get_member(g, "isp") != NULL;
	r->line = config_setting_source_line(g);
	if (!r->has_destination && !config_setting_get_member(g, "group"))
		conf_error(x, g, "te rule matches nothing: give 'destination', 'group' or both");
	if (has_isp == (w != NULL))
		conf_error(x, g, "te rule needs exactly one of 'isp' or 'weights'");
}

void conf_check_te(struct ctx *x, const config_setting_t *g, void *base)
{
	struct pshim6_conf_te *te = base;
	bool has_isp = config_setting_get_member(g, "ingress_isp") != NULL;
	if (te->ingress == PSHIM6_TE_INGRESS_PREFER && !has_isp)
		conf_error(x, at(g, "ingress"), "te ingress \"prefer\" needs 'ingress_isp'");
	if (te->ingress == PSHIM6_TE_INGRESS_WEIGHTS && has_isp)
		conf_error(x, at(g, "ingress_isp"), "'ingress_isp' is only used with ingress = \"prefer\"");
}

static const char *const facilities[] = {
	"daemon", "user", "local0", "local1", "local2", "local3", "local4",
	"local5", "local6", "local7", NULL };

void conf_check_control(struct ctx *x, const config_setting_t *g, void *base)
{
	struct pshim6_conf_control *ct = base;
	bool ok = false;
	for (const char *const *f = facilities; *f; f++)
		ok |= !strcmp(*f, ct->syslog_facility);
	if (!ok)
		conf_error(x, at(g, "syslog_facility"), "unknown syslog facility \"%s\" (daemon, user, local0..local7)",
			   ct->syslog_facility);
	if (ct->hold_total < ct->hold_packets)
		conf_error(x, at(g, "hold_total"), "hold_total (%u) is below hold_packets (%u)",
			   ct->hold_total, ct->hold_packets);
	if (!ct->socket[0])
		conf_error(x, at(g, "socket"), "control socket path must not be empty");
	/* run without a shell from the daemon's directory: a relative path would depend on it */
	if (ct->isp_notify[0] && ct->isp_notify[0] != '/')
		conf_error(x, at(g, "isp_notify"), "isp_notify \"%s\" must be an absolute path", ct->isp_notify);
	if (ct->socket_group[0]) {
		bool name_ok = isalpha((unsigned char)ct->socket_group[0]) || ct->socket_group[0] == '_';
		for (const char *p = ct->socket_group; *p; p++)
			name_ok &= isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.';
		if (!name_ok)
			conf_error(x, at(g, "socket_group"), "socket_group \"%s\" is not a group name", ct->socket_group);
		else if ((ct->socket_mode & 0060) != 0060)
			conf_error(x, at(g, "socket_group"), "socket_group \"%s\" has no effect with socket_mode 0%03o; use 0660",
				   ct->socket_group, ct->socket_mode);
	}
}

void conf_check_host(struct ctx *x, const config_setting_t *g, void *base)
{
	struct pshim6_conf_host *h = base;
	struct pshim6_conf *c = x->c;
	unsigned me = (unsigned)(h - c->hosts);
	char a[INET6_ADDRSTRLEN];

	if (!config_setting_get_member(g, "cmula"))
		return;
	inet_ntop(AF_INET6, &h->cmula, a, sizeof a);
	if (pshim6_conf_cmula_index(c, &h->cmula) < 0)
		conf_error(x, at(g, "cmula"), "host \"%s\": cmula %s is not in a site cmula prefix", h->name, a);
	for (unsigned j = 0; j < me; j++) {
		if (!strcmp(c->hosts[j].name, h->name))
			conf_error(x, at(g, "name"), "duplicate host name \"%s\"", h->name);
		if (!memcmp(&c->hosts[j].cmula, &h->cmula, sizeof h->cmula))
			conf_error(x, at(g, "cmula"), "host \"%s\": cmula %s is also host \"%s\"", h->name, a, c->hosts[j].name);
	}
	if (h->n_hba && c->site.mode != PSHIM6_ADDR_HBA)
		conf_error(x, at(g, "hba"), "host \"%s\": 'hba' set given but site.mode is \"cga\"", h->name);
	if (c->site.mode == PSHIM6_ADDR_HBA) {
		/* An HBA set has one address per ISP, in ISP order. */
		if (h->n_hba != c->n_isps) {
			conf_error(x, at(g, "hba"), "host \"%s\": site.mode is \"hba\": 'hba' needs %u addresses, one per ISP",
				   h->name, c->n_isps);
		} else {
			for (unsigned i = 0; i < h->n_hba; i++)
				if (!pshim6_conf_prefix_contains(&c->isps[i].pa_prefix, &h->hba[i])) {
					inet_ntop(AF_INET6, &h->hba[i], a, sizeof a);
					conf_error(x, at(g, "hba"), "host \"%s\": hba address %u (%s) is not in isp \"%s\" pa_prefix",
						   h->name, i + 1, a, c->isps[i].name);
				}
		}
	}
}

void conf_check_peer(struct ctx *x, const config_setting_t *g, void *base)
{
	struct pshim6_conf_peer *p = base;
	struct pshim6_conf *c = x->c;
	unsigned me = (unsigned)(p - c->peers);
	char a[INET6_ADDRSTRLEN];
	if (!config_setting_get_member(g, "ulid"))
		return;
	inet_ntop(AF_INET6, &p->ulid, a, sizeof a);
	if (pshim6_conf_cmula_index(c, &p->ulid) >= 0)
		conf_error(x, at(g, "ulid"), "peer %s is inside this site's cmula prefix", a);
	for (unsigned j = 0; j < me; j++)
		if (!memcmp(&c->peers[j].ulid, &p->ulid, sizeof p->ulid))
			conf_error(x, at(g, "ulid"), "duplicate peer ulid %s", a);
}

void conf_check_root(struct ctx *x, const config_setting_t *root, void *base)
{
	struct pshim6_conf *c = base;
	uint32_t sum = 0;
	for (unsigned i = 0; i < c->n_isps; i++)
		sum += c->isps[i].weight;
	if (c->n_isps && sum == 0)
		conf_error(x, at(root, "isps"), "every isp has weight 0: no ISP could be chosen for new contexts");
	if (c->engine.max_contexts > c->dataplane.max_contexts)
		conf_error(x, at(root, "engine.max_contexts"), "engine.max_contexts (%u) exceeds dataplane.max_contexts (%u)",
			   c->engine.max_contexts, c->dataplane.max_contexts);
	if (c->shim6.max_update_timeout_ms < c->shim6.update_timeout_ms)
		conf_error(x, at(root, "shim6.max_update_timeout_ms"), "shim6.max_update_timeout_ms is below update_timeout_ms");
	if (c->reap.keepalive_interval_ms >= c->reap.send_timeout_ms)
		conf_error(x, at(root, "reap.keepalive_interval_ms"),
			   "reap.keepalive_interval_ms (%u) must be below send_timeout_ms (%u)",
			   c->reap.keepalive_interval_ms, c->reap.send_timeout_ms);
	if (c->reap.max_probe_backoff_ms < c->reap.initial_probe_ms)
		conf_error(x, at(root, "reap.max_probe_backoff_ms"), "reap.max_probe_backoff_ms is below initial_probe_ms");
	for (unsigned i = 0; i < c->dataplane.n_lcores; i++) {
		if (c->dataplane.lcores[i] >= 1024)
			conf_error(x, at(root, "dataplane.lcores"), "lcore %u is out of range 0..1023", c->dataplane.lcores[i]);
		for (unsigned j = 0; j < i; j++)
			if (c->dataplane.lcores[i] == c->dataplane.lcores[j])
				conf_error(x, at(root, "dataplane.lcores"), "lcore %u listed twice", c->dataplane.lcores[i]);
	}
	/* Checked here, when every ISP is known: a probe in another ISP's
	 * prefix would come back through that ISP and speak for it, not for
	 * the ISP it is meant to watch. */
	const config_setting_t *isps = config_setting_lookup((config_setting_t *)root, "isps");
	for (unsigned i = 0; i < c->n_isps; i++) {
		const config_setting_t *e = isps ? config_setting_get_elem(isps, i) : NULL;
		for (unsigned k = 0; k < c->isps[i].n_probes; k++)
			for (unsigned j = 0; j < c->n_isps; j++) {
				char a[INET6_ADDRSTRLEN], b[64];
				if (j == i || !c->isps[j].pa_prefix.len ||
				    !pshim6_conf_prefix_contains(&c->isps[j].pa_prefix, &c->isps[i].probes[k]))
					continue;
				inet_ntop(AF_INET6, &c->isps[i].probes[k], a, sizeof a);
				conf_error(x, e ? at(e, "probe") : at(root, "isps"),
					   "isp \"%s\": probe %s is in isp \"%s\"'s pa_prefix %s: its answers would come back "
					   "through that ISP", c->isps[i].name, a, c->isps[j].name, pfx(&c->isps[j].pa_prefix, b, sizeof b));
			}
	}
	const char *paths[3] = { c->control.socket, c->dataplane.channel,
				 c->dnsalg.enabled ? c->dnsalg.control_socket : "" };
	static const char *const keys[3] = { "control.socket", "dataplane.channel", "dnsalg.control_socket" };
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < i; j++)
			if (paths[i][0] && !strcmp(paths[i], paths[j]))
				conf_error(x, at(root, keys[i]), "%s: %s is already %s", keys[i], paths[i], keys[j]);
}

/* Element i of the peer address array `key`: where an error about it points
 * (its own line, else the key's) and its text; false, reported, when it is
 * not a unicast address (`whose` says whose it should be). */
static bool peer_addr_elem(struct ctx *x, const config_setting_t *g, const char *key, unsigned i,
			   const struct in6_addr *v, const char *whose, const config_setting_t **where,
			   char a[INET6_ADDRSTRLEN])
{
	const config_setting_t *arr = config_setting_lookup((config_setting_t *)g, key);
	const config_setting_t *e = arr ? config_setting_get_elem(arr, i) : NULL;
	*where = e ? e : at(g, key);
	inet_ntop(AF_INET6, v, a, INET6_ADDRSTRLEN);
	if (IN6_IS_ADDR_UNSPECIFIED(v) || IN6_IS_ADDR_MULTICAST(v) || IN6_IS_ADDR_LOOPBACK(v)) {
		conf_error(x, *where, "peer.%s: %s is not a unicast address of %s", key, a, whose);
		return false;
	}
	return true;
}

/* Each address of the other proxy is one heartbeat path; a path listed
 * twice would count one link as two and hide the very cut the paths are
 * there to survive. */
static void check_peer_paths(struct ctx *x, const config_setting_t *g, const struct pshim6_conf_peer_proxy *p)
{
	const config_setting_t *where;
	char a[INET6_ADDRSTRLEN];
	for (unsigned i = 0; i < p->n_alt_addresses; i++) {
		const struct in6_addr *v = &p->alt_addresses[i];
		if (!peer_addr_elem(x, g, "alt_addresses", i, v, "the other proxy", &where, a))
			continue;
		if (!memcmp(v, &p->address, sizeof *v)) {
			conf_error(x, where, "peer.alt_addresses: %s is already peer.address", a);
			continue;
		}
		for (unsigned j = 0; j < i; j++)
			if (!memcmp(v, &p->alt_addresses[j], sizeof *v)) {
				conf_error(x, where, "peer.alt_addresses: %s listed twice", a);
				break;
			}
	}
}

/* peer.sources: this proxy's own address on each path, in path order, for
 * links where the address the kernel would pick is not the one the other
 * proxy lists for us (or routes back over another link). */
static void check_peer_sources(struct ctx *x, const config_setting_t *g, const struct pshim6_conf_peer_proxy *p)
{
	const config_setting_t *where;
	char a[INET6_ADDRSTRLEN];
	if (!p->n_sources)
		return;
	if (p->n_sources != 1 + p->n_alt_addresses) {
		conf_error(x, at(g, "sources"), "peer.sources: %u addresses for %u paths (one per path: "
			   "for peer.address, then for each of peer.alt_addresses)", p->n_sources, 1 + p->n_alt_addresses);
		return;
	}
	for (unsigned i = 0; i < p->n_sources; i++) {
		const struct in6_addr *v = &p->sources[i];
		if (!peer_addr_elem(x, g, "sources", i, v, "this proxy", &where, a))
			continue;
		bool theirs = !memcmp(v, &p->address, sizeof *v);
		for (unsigned j = 0; j < p->n_alt_addresses; j++)
			theirs = theirs || !memcmp(v, &p->alt_addresses[j], sizeof *v);
		if (theirs) {
			conf_error(x, where, "peer.sources: %s is an address of the other proxy", a);
			continue;
		}
		/* the kernel cannot send from an IPv4(-mapped) address to an
		 * IPv6 one, or the reverse: every datagram of the path would fail */
		const struct in6_addr *to = i ? &p->alt_addresses[i - 1] : &p->address;
		if (IN6_IS_ADDR_V4MAPPED(v) != IN6_IS_ADDR_V4MAPPED(to)) {
			char b[INET6_ADDRSTRLEN];
			inet_ntop(AF_INET6, to, b, sizeof b);
			conf_error(x, where, "peer.sources: %s is an %s address, and its path goes to %s, an %s one",
				   a, IN6_IS_ADDR_V4MAPPED(v) ? "IPv4" : "IPv6", b,
				   IN6_IS_ADDR_V4MAPPED(to) ? "IPv4" : "IPv6");
		}
	}
}

/* The sync channel between the site's two proxies is authenticated, so a
 * key is part of the section; takeover needs several heartbeats per dead
 * interval or one lost datagram would look like a dead primary. */
void conf_check_peer_proxy(struct ctx *x, const config_setting_t *g, void *base)
{
	struct pshim6_conf_peer_proxy *p = base;
	if (!p->key_file[0])
		conf_error(x, at(g, "key_file"), "peer: key_file is required (the sync channel is authenticated with it)");
	if (p->dead_ms < 3 * p->heartbeat_ms)
		conf_error(x, at(g, "dead_ms"), "peer: dead_ms (%u) must be at least 3 x heartbeat_ms (%u)",
			   p->dead_ms, p->heartbeat_ms);
	check_peer_paths(x, g, p);
	check_peer_sources(x, g, p);
}
