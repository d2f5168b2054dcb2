/*
 * Normal form: the schema walked in order, every key written out (optional
 * keys that are unset are left out, since they have no value to show).  The
 * output loads back to the same configuration, so `-nv` is also a way to
 * expand defaults into a complete file.
 */
#include <arpa/inet.h>
#include <string.h>
#include "schema.h"

static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void put_scalar(FILE *f, const struct pshim6_conf *c, const struct row *r,
		       enum kind k, const void *v)
{
	char b[INET6_ADDRSTRLEN + 8];
	switch (k) {
	case K_STR: case K_FQDN:
		put_str(f, v);
		break;
	case K_U32: fprintf(f, "%u", *(const uint32_t *)v); break;
	case K_U16: fprintf(f, "%u", *(const uint16_t *)v); break;
	case K_U8: fprintf(f, "%u", *(const uint8_t *)v); break;
	case K_BOOL: fputs(*(const bool *)v ? "true" : "false", f); break;
	case K_ENUM: fprintf(f, "\"%s\"", conf_enum_name(r->names, *(const int *)v)); break;
	case K_PREFIX: fprintf(f, "\"%s\"", pshim6_conf_prefix_str(v, b, sizeof b)); break;
	case K_ADDR: fprintf(f, "\"%s\"", inet_ntop(AF_INET6, v, b, sizeof b)); break;
	case K_MAC: {
		const uint8_t *m = ((const struct pshim6_conf_mac *)v)->addr;
		fprintf(f, "\"%02x:%02x:%02x:%02x:%02x:%02x\"", m[0], m[1], m[2], m[3], m[4], m[5]);
		break;
	}
	case K_MODE: fprintf(f, "\"0%03o\"", *(const uint32_t *)v); break;
	case K_ENDPOINT: {
		const struct pshim6_conf_endpoint *e = v;
		fprintf(f, "\"[%s]:%u\"", inet_ntop(AF_INET6, &e->addr, b, sizeof b), e->port);
		break;
	}
	case K_ISPREF: put_str(f, c->isps[*(const int *)v].name); break;
	case K_GROUPREF: put_str(f, c->te.groups[*(const int *)v].name); break;
	default: break;
	}
}

static bool row_set(const struct row *r, const void *base)
{
	const char *p = (const char *)base + r->off;
	if (r->flags & R_HAS)
		return *(const bool *)((const char *)base + r->has_off);
	switch (r->kind) {
	case K_MAC: return ((const struct pshim6_conf_mac *)p)->set;
	case K_FQDN: return p[0] != 0; /* "" is "no name", not a valid name */
	case K_HEX: return *(const unsigned *)((const char *)base + r->count_off) != 0;
	case K_ARRAY:
		return !(r->flags & R_NONEMPTY) || *(const unsigned *)((const char *)base + r->count_off) != 0;
	case K_ISPREF: case K_GROUPREF: return *(const int *)p >= 0;
	case K_CUSTOM: {
		/* te rule weights: present when no isp is named */
		const struct pshim6_conf_te_rule *rule = base;
		return rule->isp < 0;
	}
	default: return true;
	}
}

static void print_section(FILE *f, const struct pshim6_conf *c,
			  const struct section *sec, const void *base, int ind);

static void print_row(FILE *f, const struct pshim6_conf *c, const struct row *r,
		      const void *base, int ind)
{
	const char *p = (const char *)base + r->off;
	if (!row_set(r, base))
		return;
	fprintf(f, "%*s%s = ", ind, "", r->key);
	switch (r->kind) {
	case K_GROUP:
		fputs("{\n", f);
		print_section(f, c, r->sub, p, ind + 2);
		fprintf(f, "%*s};\n", ind, "");
		return;
	case K_LIST: {
		unsigned n = *(const unsigned *)((const char *)base + r->count_off);
		fputs("(", f);
		for (unsigned i = 0; i < n; i++) {
			fprintf(f, "%s\n%*s{\n", i ? "," : "", ind + 2, "");
			print_section(f, c, r->sub, p + (size_t)i * r->size, ind + 4);
			fprintf(f, "%*s}", ind + 2, "");
		}
		if (n)
			fprintf(f, "\n%*s);\n", ind, "");
		else
			fputs(" );\n", f);
		return;
	}
	case K_ARRAY: {
		unsigned n = *(const unsigned *)((const char *)base + r->count_off);
		if ((r->flags & R_ONE) && n == 1) {
			put_scalar(f, c, r, r->elem, p);
			fputs(";\n", f);
			return;
		}
		fputs("[", f);
		for (unsigned i = 0; i < n; i++) {
			fputs(i ? ", " : " ", f);
			put_scalar(f, c, r, r->elem, p + (size_t)i * r->size);
		}
		fputs(" ];\n", f);
		return;
	}
	case K_HEX: {
		unsigned n = *(const unsigned *)((const char *)base + r->count_off);
		fputc('"', f);
		for (unsigned i = 0; i < n; i++)
			fprintf(f, "%02x", ((const uint8_t *)p)[i]);
		fputs("\";\n", f);
		return;
	}
	case K_CUSTOM:
		r->print(f, c, base, ind);
		fputc('\n', f);
		return;
	default:
		put_scalar(f, c, r, r->kind, p);
		fputs(";\n", f);
	}
}

static void print_section(FILE *f, const struct pshim6_conf *c,
			  const struct section *sec, const void *base, int ind)
{
	for (size_t i = 0; i < sec->n_rows; i++) {
		const struct row *r = &sec->rows[i];
		/* sections that are absent stay absent: dnsalg, peer */
		if (base == c && !strcmp(r->key, "dnsalg") && !c->dnsalg.enabled)
			continue;
		if (base == c && !strcmp(r->key, "peer") && c->peer.role == PSHIM6_PEER_NONE)
			continue;
		print_row(f, c, r, base, ind);
	}
}

void pshim6_conf_print(FILE *f, const struct pshim6_conf *c)
{
	fprintf(f, "# pshim6 configuration in normal form (from %s)\n", c->source);
	print_section(f, c, &pshim6_conf_root, c, 0);
}
