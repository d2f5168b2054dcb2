/* Text forms: the user-context object kept with each lease, and the
 * {"cmd":"lease",...} line for pshim6-control with its reply. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "pdh.h"

static const char *mode_name(enum pdh_mode m)
{
	return m == PDH_MODE_HBA ? "hba" : "cga";
}

/* Appends with bounds; *off past cap marks overflow. */
static void put(char *out, size_t cap, size_t *off, const char *fmt, const char *s)
{
	int n;

	if (*off >= cap)
		return;
	n = snprintf(out + *off, cap - *off, fmt, s);
	*off = n < 0 ? cap : *off + (size_t)n;
}

static int hex_field(char *out, size_t cap, size_t *off, const char *fmt, const uint8_t *b, size_t n)
{
	char hex[2 * PDH_PDS_MAX + 1];

	if (pdh_hex_encode(hex, sizeof(hex), b, n) < 0)
		return PDH_ENOSPC;
	put(out, cap, off, fmt, hex);
	return PDH_OK;
}

int pdh_ctx_format(char *out, size_t cap, const struct pdh_conf *c, const struct pdh_pds *p)
{
	uint8_t pds[PDH_PDS_MAX];
	ssize_t n = pdh_pds_encode(pds, sizeof(pds), p);
	size_t off = 0;
	char num[32];

	if (n < 0)
		return (int)n;
	put(out, cap, &off, "{\"mode\":\"%s\"", mode_name(c->mode));
	snprintf(num, sizeof(num), "%d", c->sec);
	put(out, cap, &off, ",\"sec\":%s", num);
	hex_field(out, cap, &off, ",\"modifier\":\"%s\"", p->modifier, 16);
	hex_field(out, cap, &off, ",\"prefix\":\"%s\"", p->prefix, 8);
	snprintf(num, sizeof(num), "%u", p->collision_count);
	put(out, cap, &off, ",\"collision-count\":%s", num);
	hex_field(out, cap, &off, ",\"key-id\":\"%s\"", c->key_id, 8);
	hex_field(out, cap, &off, ",\"pds\":\"%s\"}", pds, (size_t)n);
	return off < cap ? PDH_OK : PDH_ENOSPC;
}

int pdh_ctx_pds_from_hex(struct pdh_pds *out, uint8_t *buf, size_t cap, const char *hex, size_t hexlen)
{
	ssize_t n = pdh_hex_decode(buf, cap, hex, hexlen);

	if (n < 0)
		return (int)n;
	return pdh_pds_parse(out, buf, (size_t)n);
}

int pdh_msg_lease(char *out, size_t cap, enum pdh_event ev, const uint8_t addr[16],
                  enum pdh_mode mode, const uint8_t *pds, size_t pds_len,
                  const uint8_t *duid, size_t duid_len, uint32_t iaid)
{
	static const char *const names[] = {"add", "renew", "release", "expire"};
	char a[INET6_ADDRSTRLEN], num[16];
	size_t off = 0;

	if ((unsigned)ev > PDH_EV_EXPIRE || !inet_ntop(AF_INET6, addr, a, sizeof(a)))
		return PDH_EINVAL;
	put(out, cap, &off, "{\"cmd\":\"lease\",\"event\":\"%s\"", names[ev]);
	put(out, cap, &off, ",\"cmula\":\"%s\"", a);
	put(out, cap, &off, ",\"mode\":\"%s\"", mode_name(mode));
	if (hex_field(out, cap, &off, ",\"pds\":\"%s\"", pds, pds_len) < 0 ||
	    hex_field(out, cap, &off, ",\"duid\":\"%s\"", duid, duid_len) < 0)
		return PDH_ENOSPC;
	snprintf(num, sizeof(num), "%u", iaid);
	put(out, cap, &off, ",\"iaid\":%s}\n", num);
	return off < cap ? PDH_OK : PDH_ENOSPC;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* Finds "key" followed by ':' at the top level of a flat object; returns the
 * position after the colon or NULL.  Replies are flat, so no nesting. */
static const char *find_key(const char *p, const char *end, const char *key)
{
	size_t kl = strlen(key);

	for (; p < end; p++) {
		const char *q;
		if (*p != '"' || (size_t)(end - p) < kl + 2 || memcmp(p + 1, key, kl) || p[kl + 1] != '"')
			continue;
		q = skip_ws(p + kl + 2, end);
		if (q < end && *q == ':')
			return skip_ws(q + 1, end);
	}
	return NULL;
}

int pdh_msg_reply(const char *line, size_t len, char *err, size_t errlen)
{
	const char *end = line + len, *p = skip_ws(line, end), *v;

	if (err && errlen)
		err[0] = '\0';
	if (p >= end || *p != '{')
		return PDH_EINVAL;
	v = find_key(p, end, "ok");
	if (v && end - v >= 4 && !memcmp(v, "true", 4))
		return PDH_OK;
	v = find_key(p, end, "error");
	if (v && v < end && *v == '"' && err && errlen) {
		size_t n = 0;
		for (v++; v < end && *v != '"' && n + 1 < errlen; v++)
			if ((unsigned char)*v >= 0x20)
				err[n++] = *v;
		err[n] = '\0';
	}
	return PDH_EINVAL;
}
