/*
 * The control socket's JSON: one flat object per line.  The parser accepts
 * only what the protocol uses (string, integer, boolean, null, arrays of
 * strings) and is bounded in members, elements and bytes; anything else is
 * an error with a reason.  Strings are decoded into the object's own buffer.
 */
#ifndef PSHIM6_CONTROL_JSON_H
#define PSHIM6_CONTROL_JSON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define JSON_MAX_MEMBERS 16
#define JSON_MAX_ELEMS   32
#define JSON_MAX_KEY     32
#define JSON_BUF         8192   /* decoded string bytes per object */

enum jtype { J_NULL, J_STR, J_NUM, J_BOOL, J_ARR };

struct jval {
	enum jtype t;
	const char *s;          /* J_STR: NUL-terminated, decoded */
	long long n;            /* J_NUM (integers only) */
	bool b;
	unsigned nelem;         /* J_ARR: strings only */
	const char *elem[JSON_MAX_ELEMS];
};

struct jobj {
	unsigned n;
	char key[JSON_MAX_MEMBERS][JSON_MAX_KEY];
	struct jval v[JSON_MAX_MEMBERS];
	size_t used;
	char buf[JSON_BUF];
};

/* Parse `in[0..len)` as one object (surrounding whitespace allowed).
 * Returns 0, or -1 with a static reason in *why. */
int json_parse(const char *in, size_t len, struct jobj *o, const char **why);
const struct jval *json_get(const struct jobj *o, const char *key);
const char *json_str(const struct jobj *o, const char *key);  /* NULL unless J_STR */

/* Writers (to a FILE*, e.g. open_memstream) */
void json_put_str(FILE *f, const char *s);     /* quoted and escaped */

/*
 * Reader of one string in a reply of any size (the CLI's: a status text can
 * be far larger than JSON_BUF).  `p` points just after the opening quote of
 * a NUL-terminated text; decodes up to the closing quote or the end, the
 * inverse of json_put_str (\u00XX is the octet XX; a NUL, a code above 0xff
 * or a malformed escape becomes '?').  Returns a malloc'd string, or NULL
 * when out of memory; *end (when not NULL) always gets the closing quote or
 * the terminating NUL, never a byte past it.
 */
char *json_str_dup(const char *p, const char **end);
#endif
