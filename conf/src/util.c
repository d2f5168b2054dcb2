/* Small parsers and lookups shared by the loader, the printer and users. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "schema.h"

void pshim6_conf_error_print(void *arg, const char *file, unsigned line,
			     const char *msg)
{
	FILE *f = arg ? arg : stderr;
	if (line)
		fprintf(f, "%s:%u: %s\n", file, line, msg);
	else
		fprintf(f, "%s: %s\n", file, msg);
}

int conf_parse_addr(const char *s, struct in6_addr *a)
{
	/* inet_pton accepts exactly one textual form; no scope ids, no v4. */
	if (strlen(s) >= INET6_ADDRSTRLEN || strchr(s, '%'))
		return -EINVAL;
	return inet_pton(AF_INET6, s, a) == 1 ? 0 : -EINVAL;
}

int pshim6_conf_prefix_parse(const char *s, struct pshim6_conf_prefix *p)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = 0;
	const char *l = slash + 1;
	if (!*l || strlen(l) > 3)
		return -EINVAL;
	unsigned len = 0;
	for (; *l; l++) {
		if (!isdigit((unsigned char)*l))
			return -EINVAL;
		len = len * 10 + (unsigned)(*l - '0');
	}
	if (len > 128 || conf_parse_addr(buf, &p->addr))
		return -EINVAL;
	p->len = (uint8_t)len;
	for (unsigned i = len; i < 128; i++)
		if (p->addr.s6_addr[i / 8] & (0x80 >> (i % 8)))
			return -ERANGE; /* host bits set */
	return 0;
}

const char *pshim6_conf_prefix_str(const struct pshim6_conf_prefix *p,
				   char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, &p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

bool pshim6_conf_prefix_contains(const struct pshim6_conf_prefix *p,
				 const struct in6_addr *a)
{
	unsigned full = p->len / 8, rest = p->len % 8;
	if (memcmp(p->addr.s6_addr, a->s6_addr, full))
		return false;
	if (!rest)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - rest));
	return (p->addr.s6_addr[full] & m) == (a->s6_addr[full] & m);
}

bool conf_prefix_overlap(const struct pshim6_conf_prefix *a,
			 const struct pshim6_conf_prefix *b)
{
	return a->len <= b->len ? pshim6_conf_prefix_contains(a, &b->addr)
				: pshim6_conf_prefix_contains(b, &a->addr);
}

int conf_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;
	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[i * 3]) ||
		    !isxdigit((unsigned char)s[i * 3 + 1]))
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

int conf_parse_endpoint(const char *s, uint16_t dflt, struct pshim6_conf_endpoint *e)
{
	if (s[0] != '[') {
		e->port = dflt;
		return conf_parse_addr(s, &e->addr);
	}
	const char *close = strchr(s, ']');
	char buf[INET6_ADDRSTRLEN];
	if (!close || (size_t)(close - s - 1) >= sizeof(buf) || close[1] != ':')
		return -EINVAL;
	memcpy(buf, s + 1, (size_t)(close - s - 1));
	buf[close - s - 1] = 0;
	const char *p = close + 2;
	if (!*p || strlen(p) > 5)
		return -EINVAL;
	unsigned long port = 0;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port == 0 || port > 65535)
		return -EINVAL;
	e->port = (uint16_t)port;
	return conf_parse_addr(buf, &e->addr);
}

const char *conf_enum_name(const struct enum_name *t, int v)
{
	for (; t->name; t++)
		if (t->value == v)
			return t->name;
	return "?";
}

bool pshim6_conf_prefix_eq(const struct pshim6_conf_prefix *a, const struct pshim6_conf_prefix *b)
{
	return a->len == b->len && !memcmp(&a->addr, &b->addr, sizeof a->addr);
}

int pshim6_conf_addressing_differs(const struct pshim6_conf *o, const struct pshim6_conf *n,
				   char *why, size_t len)
{
	bool same = o->site.n_cmula_prefixes == n->site.n_cmula_prefixes;
	for (unsigned i = 0; same && i < n->site.n_cmula_prefixes; i++)
		same = pshim6_conf_prefix_eq(&o->site.cmula_prefixes[i], &n->site.cmula_prefixes[i]);
	if (!same) {
		snprintf(why, len, "site.cmula_prefixes");
		return -1;
	}
	if (o->site.mode != n->site.mode) {
		snprintf(why, len, "site.mode");
		return -1;
	}
	if (o->n_isps != n->n_isps) {
		snprintf(why, len, "isps (number of ISPs)");
		return -1;
	}
	for (unsigned i = 0; i < n->n_isps; i++) {
		if (strcmp(o->isps[i].name, n->isps[i].name)) {
			snprintf(why, len, "isps[%u].name", i);
			return -1;
		}
		if (!pshim6_conf_prefix_eq(&o->isps[i].pa_prefix, &n->isps[i].pa_prefix)) {
			snprintf(why, len, "isps[%u].pa_prefix (%s)", i, n->isps[i].name);
			return -1;
		}
	}
	return 0;
}

int pshim6_conf_isp_index(const struct pshim6_conf *c, const char *name)
{
	for (unsigned i = 0; i < c->n_isps; i++)
		if (!strcmp(c->isps[i].name, name))
			return (int)i;
	return -1;
}

int pshim6_conf_isp_of(const struct pshim6_conf *c, const struct in6_addr *a)
{
	for (unsigned i = 0; i < c->n_isps; i++)
		if (pshim6_conf_prefix_contains(&c->isps[i].pa_prefix, a))
			return (int)i;
	return -1;
}

int pshim6_conf_cmula_index(const struct pshim6_conf *c, const struct in6_addr *a)
{
	for (unsigned i = 0; i < c->site.n_cmula_prefixes; i++)
		if (pshim6_conf_prefix_contains(&c->site.cmula_prefixes[i], a))
			return (int)i;
	return -1;
}

const char *pshim6_conf_log_level_name(enum pshim6_conf_log_level l)
{
	switch (l) {
	case PSHIM6_LOG_ERR: return "err";
	case PSHIM6_LOG_WARNING: return "warning";
	case PSHIM6_LOG_NOTICE: return "notice";
	case PSHIM6_LOG_INFO: return "info";
	case PSHIM6_LOG_DEBUG: return "debug";
	}
	return "?";
}
