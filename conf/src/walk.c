/*
 * The schema walk: every key of a group must match a row (unknown keys are
 * errors, so typos never silently fall back to defaults), every required row
 * must be present, and every value is type- and range-checked.  Errors are
 * collected, not fatal, so one run reports them all.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "schema.h"

void conf_error(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x->nerr++;
	if (!x->err || !x->buf || x->nbuf == CONF_MAX_ERRORS)
		return;
	struct conf_err *e = &x->buf[x->nbuf];
	e->file = s && config_setting_source_file(s) ? config_setting_source_file(s) : x->file;
	e->line = s ? config_setting_source_line(s) : 0;
	e->seq = x->nbuf++;
	snprintf(e->msg, sizeof e->msg, "%s", msg);
}

static int cmp_err(const void *a, const void *b)
{
	const struct conf_err *p = a, *q = b;
	if (p->rank != q->rank)
		return p->rank < q->rank ? -1 : 1;
	if (p->line != q->line)
		return p->line < q->line ? -1 : 1;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* Report buffered errors grouped by file (in the order files were first
 * seen), by line within a file. */
void conf_flush_errors(struct ctx *x)
{
	if (!x->err || !x->buf)
		return;
	for (unsigned i = 0; i < x->nbuf; i++) {
		x->buf[i].rank = i;
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(x->buf[j].file, x->buf[i].file)) {
				x->buf[i].rank = x->buf[j].rank;
				break;
			}
	}
	qsort(x->buf, x->nbuf, sizeof(*x->buf), cmp_err);
	for (unsigned i = 0; i < x->nbuf; i++)
		x->err(x->arg, x->buf[i].file, x->buf[i].line, x->buf[i].msg);
	if (x->nerr > x->nbuf) {
		char m[80];
		snprintf(m, sizeof m, "%u more errors not shown", x->nerr - x->nbuf);
		x->err(x->arg, x->file, 0, m);
	}
	x->nbuf = 0;
}

static const char *type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	}
	return "nothing";
}

/* "isps.[1].name" style path for messages, compact and unambiguous */
static const char *key_of(const config_setting_t *s, char *buf, size_t len)
{
	const char *n = config_setting_name(s);
	if (n) {
		snprintf(buf, len, "'%s'", n);
	} else {
		const config_setting_t *p = config_setting_parent(s);
		const char *pn = p ? config_setting_name(p) : NULL;
		snprintf(buf, len, "element %d of '%s'", config_setting_index(s),
			 pn ? pn : "?");
	}
	return buf;
}

static bool want(struct ctx *x, const config_setting_t *s, int t1, int t2)
{
	int t = config_setting_type(s);
	if (t == t1 || t == t2)
		return true;
	char k[128];
	const char *w = t1 == CONFIG_TYPE_INT ? "an integer" : type_name(t1);
	conf_error(x, s, "%s: expected %s, got %s", key_of(s, k, sizeof k), w, type_name(t));
	return false;
}

static bool get_str(struct ctx *x, const config_setting_t *s, const char **v)
{
	if (!want(x, s, CONFIG_TYPE_STRING, CONFIG_TYPE_STRING))
		return false;
	*v = config_setting_get_string(s);
	return true;
}

static bool valid_fqdn(const char *s)
{
	size_t n = strlen(s), lab = 0;
	if (n == 0 || n > 253)
		return false;
	if (!strcmp(s, "."))
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '.') {
			if (lab == 0)
				return false;
			lab = 0;
		} else if (isalnum(ch) || ch == '-' || ch == '_') {
			if (++lab > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

static void parse_scalar(struct ctx *x, const config_setting_t *s,
			 const struct row *r, enum kind k, void *dst)
{
	char key[128];
	const char *str;
	long long v;

	switch (k) {
	case K_STR:
		if (!get_str(x, s, &str))
			return;
		if (strlen(str) >= r->size) {
			conf_error(x, s, "%s: longer than %zu characters", key_of(s, key, sizeof key), r->size - 1);
			return;
		}
		if (r->flags & R_REQ && !*str) {
			conf_error(x, s, "%s: must not be empty", key_of(s, key, sizeof key));
			return;
		}
		for (const char *p = str; *p; p++)
			if (iscntrl((unsigned char)*p)) {
				conf_error(x, s, "%s: control characters are not allowed", key_of(s, key, sizeof key));
				return;
			}
		memcpy(dst, str, strlen(str) + 1);
		return;
	case K_FQDN:
		if (!get_str(x, s, &str))
			return;
		if (!valid_fqdn(str) || strlen(str) + 2 > r->size) {
			conf_error(x, s, "%s: '%s' is not a valid domain name", key_of(s, key, sizeof key), str);
			return;
		}
		snprintf(dst, r->size, "%s%s", str, str[strlen(str) - 1] == '.' ? "" : ".");
		return;
	case K_U32: case K_U16: case K_U8:
		if (!want(x, s, CONFIG_TYPE_INT, CONFIG_TYPE_INT64))
			return;
		v = config_setting_get_int64(s);
		if (v < (long long)r->min || v > (long long)r->max) {
			conf_error(x, s, "%s: %lld out of range %u..%u", key_of(s, key, sizeof key), v, r->min, r->max);
			return;
		}
		if (k == K_U32)
			*(uint32_t *)dst = (uint32_t)v;
		else if (k == K_U16)
			*(uint16_t *)dst = (uint16_t)v;
		else
			*(uint8_t *)dst = (uint8_t)v;
		return;
	case K_BOOL:
		if (!want(x, s, CONFIG_TYPE_BOOL, CONFIG_TYPE_BOOL))
			return;
		*(bool *)dst = config_setting_get_bool(s) != 0;
		return;
	case K_ENUM:
		if (!get_str(x, s, &str))
			return;
		for (const struct enum_name *e = r->names; e->name; e++)
			if (!strcmp(e->name, str)) {
				*(int *)dst = e->value;
				return;
			}
		{
			char opts[256] = "";
			for (const struct enum_name *e = r->names; e->name; e++)
				snprintf(opts + strlen(opts), sizeof(opts) - strlen(opts), "%s\"%s\"",
					 e == r->names ? "" : ", ", e->name);
			conf_error(x, s, "%s: unknown value \"%s\" (expected %s)", key_of(s, key, sizeof key), str, opts);
		}
		return;
	case K_PREFIX: {
		struct pshim6_conf_prefix p;
		if (!get_str(x, s, &str))
			return;
		int rc = pshim6_conf_prefix_parse(str, &p);
		if (rc == -ERANGE && (r->flags & R_IFADDR))
			rc = 0;
		if (rc == -ERANGE)
			conf_error(x, s, "%s: \"%s\" has bits set beyond the prefix length", key_of(s, key, sizeof key), str);
		else if (rc)
			conf_error(x, s, "%s: \"%s\" is not an IPv6 prefix (addr/len)", key_of(s, key, sizeof key), str);
		else if (r->plen && p.len > r->plen)
			conf_error(x, s, "%s: prefix \"%s\" is longer than /%u", key_of(s, key, sizeof key), str, r->plen);
		else
			*(struct pshim6_conf_prefix *)dst = p;
		return;
	}
	case K_ADDR:
		if (!get_str(x, s, &str))
			return;
		if (conf_parse_addr(str, dst))
			conf_error(x, s, "%s: \"%s\" is not an IPv6 address", key_of(s, key, sizeof key), str);
		return;
	case K_MAC: {
		struct pshim6_conf_mac *m = dst;
		if (!get_str(x, s, &str))
			return;
		if (conf_parse_mac(str, m->addr))
			conf_error(x, s, "%s: \"%s\" is not a MAC address (xx:xx:xx:xx:xx:xx)", key_of(s, key, sizeof key), str);
		else
			m->set = true;
		return;
	}
	case K_MODE: {
		char *end;
		if (!get_str(x, s, &str))
			return;
		unsigned long m = strtoul(str, &end, 8);
		if (!*str || *end || str[0] != '0' || m > 0777)
			conf_error(x, s, "%s: \"%s\" is not an octal file mode like \"0600\"", key_of(s, key, sizeof key), str);
		else if (m & 0007)
			conf_error(x, s, "%s: mode %s gives access to every local user; use 0600 or 0660", key_of(s, key, sizeof key), str);
		else if ((m & 0600) != 0600)
			conf_error(x, s, "%s: mode %s must give the owner read and write (0600)", key_of(s, key, sizeof key), str);
		else
			*(uint32_t *)dst = (uint32_t)m;
		return;
	}
	case K_ENDPOINT:
		if (!get_str(x, s, &str))
			return;
		if (conf_parse_endpoint(str, (uint16_t)r->min, dst))
			conf_error(x, s, "%s: \"%s\" is not an IPv6 address or [address]:port", key_of(s, key, sizeof key), str);
		return;
	case K_ISPREF: {
		if (!get_str(x, s, &str))
			return;
		int i = pshim6_conf_isp_index(x->c, str);
		if (i < 0)
			conf_error(x, s, "%s: no ISP named \"%s\"", key_of(s, key, sizeof key), str);
		else
			*(int *)dst = i;
		return;
	}
	case K_GROUPREF: {
		if (!get_str(x, s, &str))
			return;
		for (unsigned i = 0; i < x->c->te.n_groups; i++)
			if (!strcmp(x->c->te.groups[i].name, str)) {
				*(int *)dst = (int)i;
				return;
			}
		conf_error(x, s, "%s: no te group named \"%s\"", key_of(s, key, sizeof key), str);
		return;
	}
	default:
		conf_error(x, s, "%s: internal schema error", key_of(s, key, sizeof key));
	}
}

/* The entries of a list or array, reported against the row's bounds and
 * cut to its maximum (the table behind it holds no more). */
static unsigned entries(struct ctx *x, const config_setting_t *s, const struct row *r)
{
	unsigned n = (unsigned)config_setting_length(s);
	char key[128];

	if (n < r->min)
		conf_error(x, s, "%s: needs at least %u entr%s", key_of(s, key, sizeof key), r->min, r->min == 1 ? "y" : "ies");
	if (n > r->max) {
		conf_error(x, s, "%s: %u entries, at most %u are allowed", key_of(s, key, sizeof key), n, r->max);
		n = r->max;
	}
	return n;
}

static void parse_row(struct ctx *x, const config_setting_t *s,
		      const struct row *r, void *base)
{
	char *dst = (char *)base + r->off;
	char key[128];

	switch (r->kind) {
	case K_GROUP:
		if (want(x, s, CONFIG_TYPE_GROUP, CONFIG_TYPE_GROUP))
			conf_walk_section(x, r->sub, s, dst);
		break;
	case K_LIST: {
		if (!want(x, s, CONFIG_TYPE_LIST, CONFIG_TYPE_LIST))
			return;
		unsigned n = entries(x, s, r);
		unsigned *count = (unsigned *)((char *)base + r->count_off);
		for (unsigned i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(s, i);
			void *eb = dst + (size_t)i * r->size;
			if (r->sub->init)
				r->sub->init(eb);
			*count = i + 1; /* visible to later elements (duplicate checks) */
			if (want(x, e, CONFIG_TYPE_GROUP, CONFIG_TYPE_GROUP))
				conf_walk_section(x, r->sub, e, eb);
		}
		*count = n;
		break;
	}
	case K_ARRAY: {
		unsigned *count = (unsigned *)((char *)base + r->count_off);
		if ((r->flags & R_ONE) && !config_setting_is_aggregate(s)) {
			unsigned before = x->nerr;
			struct row er = *r;
			er.flags &= ~(unsigned)R_REQ;
			parse_scalar(x, s, &er, r->elem, dst);
			*count = x->nerr == before;
			break;
		}
		if (!want(x, s, CONFIG_TYPE_ARRAY, CONFIG_TYPE_LIST))
			return;
		unsigned n = entries(x, s, r);
		struct row er = *r;
		er.flags &= ~(unsigned)R_REQ;
		if (r->elem == K_U16 || r->elem == K_U32 || r->elem == K_U8) {
			/* array ranges: min/max describe the count; elements use 0..max-elem */
			er.min = 0;
			er.max = r->elem == K_U8 ? 255 : r->elem == K_U16 ? 65535 : UINT32_MAX;
		} else if (r->elem == K_ENDPOINT) {
			er.min = 53;
		}
		unsigned ok = 0;
		for (unsigned i = 0; i < n; i++) {
			unsigned before = x->nerr;
			parse_scalar(x, config_setting_get_elem(s, i), &er, r->elem,
				     dst + (size_t)ok * r->size);
			/* keep only elements that parsed, so later checks never
			 * see a zeroed slot as "::/0" */
			if (x->nerr == before)
				ok++;
		}
		*count = ok;
		break;
	}
	case K_CUSTOM:
		r->load(x, s, base);
		break;
	case K_HEX: {
		const char *str;
		if (!get_str(x, s, &str))
			return;
		size_t n = strlen(str);
		bool ok = n > 0 && n % 2 == 0 && n / 2 <= r->size;
		for (size_t i = 0; ok && i < n; i++)
			ok = isxdigit((unsigned char)str[i]);
		if (!ok) {
			conf_error(x, s, "%s: expected an even number of hex digits, at most %zu octets",
				   key_of(s, key, sizeof key), r->size);
			return;
		}
		for (size_t i = 0; i < n / 2; i++) {
			char b[3] = { str[2 * i], str[2 * i + 1], 0 };
			((uint8_t *)dst)[i] = (uint8_t)strtoul(b, NULL, 16);
		}
		*(unsigned *)((char *)base + r->count_off) = (unsigned)(n / 2);
		break;
	}
	default:
		parse_scalar(x, s, r, r->kind, dst);
	}
	if (r->flags & R_HAS)
		*(bool *)((char *)base + r->has_off) = true;
}

void conf_walk_section(struct ctx *x, const struct section *sec,
		       const config_setting_t *group, void *base)
{
	int n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		size_t j;
		for (j = 0; j < sec->n_rows; j++)
			if (!strcmp(sec->rows[j].key, name))
				break;
		if (j == sec->n_rows)
			conf_error(x, s, "unknown key '%s' in %s", name, sec->name);
	}
	for (size_t j = 0; j < sec->n_rows; j++) {
		const struct row *r = &sec->rows[j];
		const config_setting_t *s = config_setting_get_member(group, r->key);
		if (s)
			parse_row(x, s, r, base);
		else if (r->flags & R_REQ)
			conf_error(x, group, "missing required key '%s' in %s", r->key, sec->name);
	}
	if (sec->check)
		sec->check(x, group, base);
}
