/*
 * Options: defaults, then the appliance config file (dnsalg section, hosts,
 * site CMULA prefixes, dhcp lease file, control socket), then the command
 * line.  The daemon reads only struct dnsalg_opts, never the config struct.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "dnsalg.h"
#include <pshim6/conf.h>

void dnsalg_opts_defaults(struct dnsalg_opts *o)
{
	memset(o, 0, sizeof *o);
	o->n_listen = 1;
	o->listen[0] = in6addr_any;
	o->port = 53;
	o->ulid_type = DNSALG_ULID_TYPE_DEFAULT;
	o->cache_entries = 65536;
	o->ulid_cache_entries = 16384;
	o->max_inflight = 1024;
	o->resolver_threads = 8;
	o->udp_threads = 2;
	o->timeout_ms = 2000;
	o->tcp_clients = 64;
	o->tcp_idle_ms = 10000;
	o->max_ttl = 86400;
	o->inside_ttl = 60;
	o->cookie_rotate_s = 3600;
	o->dnssec = DNSALG_DNSSEC_REWRITE_STRIP;
	snprintf(o->control_socket, sizeof o->control_socket, "/run/pshim6/dnsalg.sock");
	snprintf(o->push_socket, sizeof o->push_socket, "/run/pshim6/control.sock");
}

void dnsalg_opts_free(struct dnsalg_opts *o)
{
	free(o->hosts);
	o->hosts = NULL;
	o->n_hosts = 0;
}

int dnsalg_name_norm(const char *in, const char *origin, char *out, size_t outlen)
{
	size_t l = strlen(in);
	if (l == 0 || l >= outlen - 1)
		return DNSALG_EINVAL;
	for (size_t i = 0; i < l; i++) {
		unsigned char c = (unsigned char)in[i];
		if (!(isalnum(c) || c == '-' || c == '_' || c == '.'))
			return DNSALG_EINVAL;
		if (c == '.' && (i == 0 ? l > 1 : in[i - 1] == '.'))
			return DNSALG_EINVAL; /* empty label */
	}
	int n;
	if (in[l - 1] == '.')
		n = snprintf(out, outlen, "%s", in);
	else if (origin && origin[0] && strcmp(origin, ".") != 0)
		n = snprintf(out, outlen, "%s.%s", in, origin);
	else
		n = snprintf(out, outlen, "%s.", in);
	if (n < 0 || (size_t)n >= outlen || n > 254)
		return DNSALG_EINVAL;
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	/* label length <= 63 */
	size_t lab = 0;
	for (const char *p = out; *p; p++) {
		lab = *p == '.' ? 0 : lab + 1;
		if (lab > 63)
			return DNSALG_EINVAL;
	}
	return 0;
}

int dnsalg_opts_add_host(struct dnsalg_opts *o, const char *name, const struct in6_addr *a)
{
	struct dnsalg_host h;
	memset(&h, 0, sizeof h);
	if (dnsalg_name_norm(name, o->zone, h.name, sizeof h.name) < 0)
		return DNSALG_EINVAL;
	h.addr = *a;
	struct dnsalg_host *n = realloc(o->hosts, (o->n_hosts + 1) * sizeof *n);
	if (!n)
		return DNSALG_ENOMEM;
	o->hosts = n;
	o->hosts[o->n_hosts++] = h;
	return 0;
}

int dnsalg_endpoint_parse(const char *s, uint16_t defport, struct dnsalg_endpoint *e)
{
	char buf[INET6_ADDRSTRLEN + 8];
	e->port = defport;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || (size_t)(end - s - 1) >= sizeof buf)
			return DNSALG_EINVAL;
		memcpy(buf, s + 1, (size_t)(end - s - 1));
		buf[end - s - 1] = 0;
		if (end[1] == ':') {
			char *ep;
			unsigned long p = strtoul(end + 2, &ep, 10);
			if (*ep || p == 0 || p > 65535)
				return DNSALG_EINVAL;
			e->port = (uint16_t)p;
		} else if (end[1]) {
			return DNSALG_EINVAL;
		}
	} else {
		if (strlen(s) >= sizeof buf)
			return DNSALG_EINVAL;
		snprintf(buf, sizeof buf, "%s", s);
	}
	if (inet_pton(AF_INET6, buf, &e->addr) == 1)
		return 0;
	struct in_addr v4; /* IPv4 upstreams as v4-mapped */
	if (inet_pton(AF_INET, buf, &v4) == 1) {
		memset(&e->addr, 0, sizeof e->addr);
		e->addr.s6_addr[10] = e->addr.s6_addr[11] = 0xff;
		memcpy(&e->addr.s6_addr[12], &v4, 4);
		return 0;
	}
	return DNSALG_EINVAL;
}

int dnsalg_prefix_parse(const char *s, struct dnsalg_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *sl = strchr(s, '/');
	if (!sl || (size_t)(sl - s) >= sizeof buf)
		return DNSALG_EINVAL;
	memcpy(buf, s, (size_t)(sl - s));
	buf[sl - s] = 0;
	char *ep;
	unsigned long l = strtoul(sl + 1, &ep, 10);
	if (*ep || l > 128 || inet_pton(AF_INET6, buf, &p->addr) != 1)
		return DNSALG_EINVAL;
	p->len = (uint8_t)l;
	return 0;
}

bool dnsalg_prefix_contains(const struct dnsalg_prefix *p, const struct in6_addr *a)
{
	unsigned full = p->len / 8, rem = p->len % 8;
	if (memcmp(&p->addr, a, full) != 0)
		return false;
	if (!rem)
		return true;
	uint8_t m = (uint8_t)(0xFF << (8 - rem));
	return (p->addr.s6_addr[full] & m) == (a->s6_addr[full] & m);
}

int dnsalg_opts_load_conf(struct dnsalg_opts *o, const char *path)
{
	struct pshim6_conf *c = calloc(1, sizeof *c);
	if (!c)
		return DNSALG_ENOMEM;
	int r = pshim6_conf_load(path, c, pshim6_conf_error_print, NULL);
	if (r < 0) {
		if (r != -EINVAL)
			fprintf(stderr, "%s: %s\n", path, strerror(-r));
		free(c);
		return DNSALG_EINVAL;
	}
	snprintf(o->config_file, sizeof o->config_file, "%s", path);
	const struct pshim6_conf_dnsalg *d = &c->dnsalg;
	if (d->n_listen) {
		o->n_listen = d->n_listen < DNSALG_MAX_LISTEN ? d->n_listen : DNSALG_MAX_LISTEN;
		memcpy(o->listen, d->listen, o->n_listen * sizeof o->listen[0]);
	}
	if (d->port)
		o->port = d->port;
	o->n_upstreams = d->n_upstreams < DNSALG_MAX_UPSTREAMS ? d->n_upstreams : DNSALG_MAX_UPSTREAMS;
	for (unsigned i = 0; i < o->n_upstreams; i++) {
		o->upstreams[i].addr = d->upstreams[i].addr;
		o->upstreams[i].port = d->upstreams[i].port ? d->upstreams[i].port : 53;
	}
	if (d->ulid_rrtype)
		o->ulid_type = d->ulid_rrtype;
	if (d->cache_entries)
		o->cache_entries = d->cache_entries;
	if (d->max_inflight)
		o->max_inflight = d->max_inflight;
	if (d->timeout_ms)
		o->timeout_ms = d->timeout_ms;
	if (d->tcp_clients)
		o->tcp_clients = d->tcp_clients;
	if (d->tcp_idle_ms)
		o->tcp_idle_ms = d->tcp_idle_ms;
	o->cookie_rotate_s = d->cookie_rotate_s; /* 0 means never: taken as is */
	o->dnssec = d->dnssec == PSHIM6_DNSSEC_PASSTHROUGH ? DNSALG_DNSSEC_PASSTHROUGH
							   : DNSALG_DNSSEC_REWRITE_STRIP;
	if (d->control_socket[0])
		snprintf(o->control_socket, sizeof o->control_socket, "%s", d->control_socket);
	snprintf(o->user, sizeof o->user, "%s", d->user);
	if (d->zone[0] && dnsalg_name_norm(d->zone, NULL, o->zone, sizeof o->zone) < 0) {
		fprintf(stderr, "%s: dnsalg.zone: not a DNS name\n", path);
		free(c);
		return DNSALG_EINVAL;
	}
	if (c->control.socket[0])
		snprintf(o->push_socket, sizeof o->push_socket, "%s", c->control.socket);
	snprintf(o->lease_file, sizeof o->lease_file, "%s", c->dhcp.lease_file);
	o->n_prefixes = c->site.n_cmula_prefixes < DNSALG_MAX_PREFIXES ? c->site.n_cmula_prefixes
								       : DNSALG_MAX_PREFIXES;
	for (unsigned i = 0; i < o->n_prefixes; i++) {
		o->cmula_prefixes[i].addr = c->site.cmula_prefixes[i].addr;
		o->cmula_prefixes[i].len = c->site.cmula_prefixes[i].len;
	}
	for (unsigned i = 0; i < c->n_hosts; i++)
		if (dnsalg_opts_add_host(o, c->hosts[i].name, &c->hosts[i].cmula) < 0) {
			fprintf(stderr, "%s: hosts: bad name \"%s\"\n", path, c->hosts[i].name);
			free(c);
			return DNSALG_EINVAL;
		}
	free(c);
	return 0;
}
