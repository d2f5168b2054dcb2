#include <stdlib.h>
#include <string.h>
#include "json.h"

struct p {
	const char *s, *e;
	struct jobj *o;
	const char *why;
};

static void ws(struct p *p)
{
	while (p->s < p->e && (*p->s == ' ' || *p->s == '\t' || *p->s == '\r' || *p->s == '\n'))
		p->s++;
}

static int fail(struct p *p, const char *why)
{
	if (!p->why)
		p->why = why;
	return -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* At most four hex digits at p, stopping at the first that is not one (so
 * never past a NUL); -1 unless all four are there. */
static int hex4(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(p[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static int put(struct p *p, char c)
{
	if (p->o->used >= JSON_BUF)
		return fail(p, "strings too long");
	p->o->buf[p->o->used++] = c;
	return 0;
}

/* Decode a string into the object buffer; *out points at it. */
static int str(struct p *p, const char **out)
{
	if (p->s >= p->e || *p->s != '"')
		return fail(p, "expected a string");
	p->s++;
	*out = p->o->buf + p->o->used;
	while (p->s < p->e && *p->s != '"') {
		unsigned char c = (unsigned char)*p->s++;
		if (c < 0x20)
			return fail(p, "control character in string");
		if (c != '\\') {
			if (put(p, (char)c))
				return -1;
			continue;
		}
		if (p->s >= p->e)
			return fail(p, "unterminated escape");
		c = (unsigned char)*p->s++;
		switch (c) {
		case '"': case '\\': case '/': if (put(p, (char)c)) return -1; break;
		case 'n': if (put(p, '\n')) return -1; break;
		case 't': if (put(p, '\t')) return -1; break;
		case 'r': if (put(p, '\r')) return -1; break;
		case 'b': if (put(p, '\b')) return -1; break;
		case 'f': if (put(p, '\f')) return -1; break;
		case 'u': {
			if (p->e - p->s < 4)
				return fail(p, "short \\u escape");
			int v = hex4(p->s);
			if (v < 0)
				return fail(p, "bad \\u escape");
			p->s += 4;
			/* The protocol's strings are ASCII (addresses, hex, names). */
			if (v == 0 || v > 0x7f)
				return fail(p, "non-ASCII \\u escape");
			if (put(p, (char)v))
				return -1;
			break;
		}
		default:
			return fail(p, "bad escape");
		}
	}
	if (p->s >= p->e)
		return fail(p, "unterminated string");
	p->s++;
	return put(p, 0);
}

static int num(struct p *p, long long *out)
{
	bool neg = false;
	unsigned long long v = 0;
	int digits = 0;
	if (p->s < p->e && *p->s == '-') {
		neg = true;
		p->s++;
	}
	while (p->s < p->e && *p->s >= '0' && *p->s <= '9') {
		if (++digits > 18)
			return fail(p, "number too large");
		v = v * 10 + (unsigned)(*p->s++ - '0');
	}
	if (!digits)
		return fail(p, "expected a value");
	if (p->s < p->e && (*p->s == '.' || *p->s == 'e' || *p->s == 'E'))
		return fail(p, "only integers are accepted");
	*out = neg ? -(long long)v : (long long)v;
	return 0;
}

static bool lit(struct p *p, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(p->e - p->s) >= n && !memcmp(p->s, w, n)) {
		p->s += n;
		return true;
	}
	return false;
}

static int value(struct p *p, struct jval *v)
{
	memset(v, 0, sizeof(*v));
	if (p->s >= p->e)
		return fail(p, "expected a value");
	switch (*p->s) {
	case '"':
		v->t = J_STR;
		return str(p, &v->s);
	case '[':
		v->t = J_ARR;
		p->s++;
		ws(p);
		if (p->s < p->e && *p->s == ']') {
			p->s++;
			return 0;
		}
		for (;;) {
			ws(p);
			if (v->nelem == JSON_MAX_ELEMS)
				return fail(p, "array too long");
			if (str(p, &v->elem[v->nelem++]))
				return fail(p, "arrays may hold only strings");
			ws(p);
			if (p->s < p->e && *p->s == ',') {
				p->s++;
				continue;
			}
			if (p->s < p->e && *p->s == ']') {
				p->s++;
				return 0;
			}
			return fail(p, "expected ',' or ']'");
		}
	case 't': if (lit(p, "true")) { v->t = J_BOOL; v->b = true; return 0; } break;
	case 'f': if (lit(p, "false")) { v->t = J_BOOL; return 0; } break;
	case 'n': if (lit(p, "null")) { v->t = J_NULL; return 0; } break;
	case '{': return fail(p, "nested objects are not accepted");
	default:
		v->t = J_NUM;
		return num(p, &v->n);
	}
	return fail(p, "bad literal");
}

int json_parse(const char *in, size_t len, struct jobj *o, const char **why)
{
	struct p p = { .s = in, .e = in + len, .o = o };
	o->n = 0;
	o->used = 0;
	ws(&p);
	if (p.s >= p.e || *p.s != '{') {
		*why = "expected a JSON object";
		return -1;
	}
	p.s++;
	ws(&p);
	if (p.s < p.e && *p.s == '}') {
		p.s++;
	} else {
		for (;;) {
			const char *k;
			ws(&p);
			if (o->n == JSON_MAX_MEMBERS) { fail(&p, "too many members"); goto bad; }
			if (str(&p, &k)) goto bad;
			if (strlen(k) >= JSON_MAX_KEY) { fail(&p, "key too long"); goto bad; }
			if (json_get(o, k)) { fail(&p, "duplicate key"); goto bad; }
			memcpy(o->key[o->n], k, strlen(k) + 1);
			ws(&p);
			if (p.s >= p.e || *p.s != ':') { fail(&p, "expected ':'"); goto bad; }
			p.s++;
			ws(&p);
			if (value(&p, &o->v[o->n])) goto bad;
			o->n++;
			ws(&p);
			if (p.s < p.e && *p.s == ',') { p.s++; continue; }
			if (p.s < p.e && *p.s == '}') { p.s++; break; }
			fail(&p, "expected ',' or '}'");
			goto bad;
		}
	}
	ws(&p);
	if (p.s != p.e) {
		*why = "trailing characters after the object";
		return -1;
	}
	return 0;
bad:
	*why = p.why ? p.why : "malformed JSON";
	return -1;
}

const struct jval *json_get(const struct jobj *o, const char *key)
{
	for (unsigned i = 0; i < o->n; i++)
		if (!strcmp(o->key[i], key))
			return &o->v[i];
	return NULL;
}

const char *json_str(const struct jobj *o, const char *key)
{
	const struct jval *v = json_get(o, key);
	return v && v->t == J_STR ? v->s : NULL;
}

void json_put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

char *json_str_dup(const char *p, const char **end)
{
	const char *q = p;
	while (*q && *q != '"')
		q += q[0] == '\\' && q[1] ? 2 : 1;
	if (end)
		*end = q;
	/* the decoded string is never longer than its escaped form */
	char *o = malloc((size_t)(q - p) + 1), *w = o;
	if (!o)
		return NULL;
	while (p < q) {
		char c = *p++;
		if (c != '\\' || p == q) {
			*w++ = c;
			continue;
		}
		c = *p++;
		switch (c) {
		case 'n': *w++ = '\n'; break;
		case 't': *w++ = '\t'; break;
		case 'r': *w++ = '\r'; break;
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'u': {
			/* the digits must lie before the closing quote */
			int v = q - p >= 4 ? hex4(p) : -1;
			if (v > 0 && v <= 0xff) {
				*w++ = (char)v;
				p += 4;
			} else {
				*w++ = '?';
			}
			break;
		}
		default: *w++ = c;   /* \" \\ \/ and anything unknown: the character */
		}
	}
	*w = 0;
	return o;
}
