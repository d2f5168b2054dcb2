/*
 * The config schema: one table of rows per section.  The loader (walk.c)
 * and the normal-form printer (print.c) both walk these tables, so what is
 * accepted and what is printed cannot drift apart.
 */
#ifndef PSHIM6_CONF_SCHEMA_H
#define PSHIM6_CONF_SCHEMA_H

#include <libconfig.h>
#include <stdarg.h>
#include "pshim6/conf.h"

enum kind {
	K_STR,          /* char[size] */
	K_U32,          /* uint32_t in [min,max] */
	K_U16,          /* uint16_t in [min,max] */
	K_U8,           /* uint8_t in [min,max] */
	K_BOOL,         /* bool */
	K_ENUM,         /* int-sized enum, names[] */
	K_PREFIX,       /* struct pshim6_conf_prefix, len <= max */
	K_ADDR,         /* struct in6_addr */
	K_MAC,          /* struct pshim6_conf_mac */
	K_MODE,         /* uint32_t file mode from an octal string */
	K_FQDN,         /* char[size], stored absolute (trailing dot) */
	K_ENDPOINT,     /* struct pshim6_conf_endpoint, "addr" or "[addr]:port" */
	K_ISPREF,       /* int: index of the ISP named, -1 when absent */
	K_GROUPREF,     /* int: index of te.groups named, -1 when absent */
	K_GROUP,        /* nested section `sub` at off */
	K_LIST,         /* ( {..}, {..} ) of `sub`, elements of size at off, count at count_off */
	K_ARRAY,        /* [ scalar, .. ] of kind `elem`, size, count at count_off */
	K_HEX,          /* uint8_t[size] from a hex string, length at count_off */
	K_CUSTOM,       /* parsed by load/print callbacks */
};

#define R_REQ 0x01      /* key must be present */
#define R_HAS 0x02      /* bool at has_off records presence */
#define R_IFADDR 0x04   /* K_PREFIX: an interface address/len, host bits allowed */
#define R_NONEMPTY 0x08 /* K_ARRAY: printed only when it has entries (a key added later) */
#define R_ONE 0x10      /* K_ARRAY: a lone scalar is a one-entry array, and one entry prints as one */

struct ctx;
struct section;

struct enum_name {
	const char *name;
	int value;
};

struct row {
	const char *key;
	enum kind kind;
	unsigned flags;
	size_t off;
	size_t has_off;
	size_t size;            /* K_STR/K_FQDN buffer; K_LIST/K_ARRAY element size */
	size_t count_off;       /* K_LIST/K_ARRAY */
	uint32_t min, max;      /* ints: value range; lists/arrays: element count */
	uint8_t plen;           /* K_PREFIX (also as array element): longest allowed, 0 = 128 */
	enum kind elem;         /* K_ARRAY element kind */
	const struct enum_name *names;
	const struct section *sub;
	void (*load)(struct ctx *, const config_setting_t *, void *base);
	void (*print)(FILE *, const struct pshim6_conf *, const void *base, int indent);
	const char *help;       /* one-line description, printed in -nv output */
};

struct section {
	const char *name;       /* for messages: "isps", "te.rules" */
	const struct row *rows;
	size_t n_rows;
	void (*init)(void *base);                 /* element defaults (lists) */
	void (*check)(struct ctx *, const config_setting_t *, void *base); /* after parsing */
};

/* Errors are buffered so they can be reported in file order, whatever
 * order the schema walk found them in.  The buffer is bounded; errors past
 * it are counted and summarised. */
#define CONF_MAX_ERRORS 200

struct conf_err {
	const char *file;       /* points into the libconfig tree or ctx->file */
	unsigned line;
	unsigned seq;
	unsigned rank;          /* order of first appearance of the file */
	char msg[512];
};

struct ctx {
	const char *file;       /* fallback when a setting has no file */
	pshim6_conf_error_fn err;
	void *arg;
	unsigned nerr;
	struct pshim6_conf *c;
	unsigned nbuf;
	struct conf_err *buf;   /* CONF_MAX_ERRORS entries, or NULL */
};

void conf_flush_errors(struct ctx *x);

extern const struct section pshim6_conf_root;

void conf_error(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void conf_walk_section(struct ctx *x, const struct section *sec,
		       const config_setting_t *group, void *base);
void conf_check_all(struct ctx *x, const config_setting_t *root);

/* scalar parsers shared with callbacks */
int conf_parse_addr(const char *s, struct in6_addr *a);
int conf_parse_mac(const char *s, uint8_t mac[6]);
int conf_parse_endpoint(const char *s, uint16_t dflt, struct pshim6_conf_endpoint *e);
bool conf_prefix_overlap(const struct pshim6_conf_prefix *a,
			 const struct pshim6_conf_prefix *b);
const char *conf_enum_name(const struct enum_name *t, int v);

#endif
