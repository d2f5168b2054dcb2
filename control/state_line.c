/* One context's line: the state file's and the sync's writer, and what a
 * line gives an engine import (no I/O, so the proxy suite links it). */
#include "state_line.h"
#include "state.h"

#include <string.h>

static const char hexd[] = "0123456789abcdef";

/* Hex without leading zeros ("0" for zero), as "%x". */
static char *put_hex16(char *p, unsigned v)
{
	int started = 0;
	for (int s = 12; s >= 0; s -= 4) {
		unsigned d = (v >> s) & 0xf;
		if (d || started || s == 0) {
			*p++ = hexd[d];
			started = 1;
		}
	}
	return p;
}

static char *put_dec(char *p, uint32_t v)
{
	char t[10];
	int n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = t[--n];
	return p;
}

size_t state_addr_text(const uint8_t a[16], char out[STATE_ADDR_TEXT_MAX])
{
	unsigned w[8];
	int best = -1, best_len = 0, cur = -1, cur_len = 0;
	char *p = out;

	for (int i = 0; i < 8; i++) {
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
		if (w[i] == 0) {
			if (cur < 0)
				cur = i, cur_len = 0;
			cur_len++;
			/* strictly longer only: the first of two equal runs wins (RFC 5952 4.2.3) */
			if (cur_len > best_len)
				best = cur, best_len = cur_len;
		} else {
			cur = -1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		/* ::a.b.c.d and ::ffff:a.b.c.d keep the dotted quad, as inet_ntop writes them */
		if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
			for (int k = 12; k < 16; k++) {
				p = put_dec(p, a[k]);
				if (k < 15)
					*p++ = '.';
			}
			*p = 0;
			return (size_t)(p - out);
		}
		p = put_hex16(p, w[i]);
	}
	if (best >= 0 && best + best_len == 8)
		*p++ = ':';
	*p = 0;
	return (size_t)(p - out);
}

/* Longest text of one locator: " " + address + five ",n" fields of up to 3 digits. */
#define LOC_TEXT_MAX (1 + STATE_ADDR_TEXT_MAX + 5 * 4)

int state_line_format(const struct ctl_state_ctx *s, char *buf, size_t cap)
{
	/* the fixed part fits here: "ctx " + 16 hex + 2 x " " 10 digits + " 0" */
	char head[64], *p = head;
	size_t len;

	memcpy(p, "ctx ", 4);
	p += 4;
	int digits = 12;
	while (digits < 16 && (s->own_tag >> (4 * digits)))
		digits++;
	for (int d = digits - 1; d >= 0; d--)
		*p++ = hexd[(s->own_tag >> (4 * d)) & 0xf];
	*p++ = ' ';
	p = put_dec(p, s->local_gen);
	*p++ = ' ';
	p = put_dec(p, s->peer_gen);
	*p++ = ' ';
	*p++ = s->initiator ? '1' : '0';
	len = (size_t)(p - head);
	if (len >= cap)
		goto space;
	memcpy(buf, head, len);
	for (size_t i = 0; i < s->npeer && i < SHIM6_MAX_LOCATORS; i++) {
		const struct shim6_locator *l = &s->peer_locs[i];
		char t[LOC_TEXT_MAX], *q = t;
		*q++ = ' ';
		q += state_addr_text(l->addr.b, q);
		*q++ = ',';
		q = put_dec(q, l->verif);
		*q++ = ',';
		q = put_dec(q, l->flags);
		*q++ = ',';
		q = put_dec(q, l->priority);
		*q++ = ',';
		q = put_dec(q, l->weight);
		*q++ = ',';
		*q++ = s->verified[i] ? '1' : '0';
		size_t n = (size_t)(q - t);
		if (len + n >= cap)
			goto space;
		memcpy(buf + len, t, n);
		len += n;
	}
	buf[len] = 0;
	return (int)len;
space:
	if (cap)
		buf[0] = 0;
	return -1;
}

void state_fill_import(const struct ctl_state_ctx *s, struct shim6_ctx_import *im)
{
	im->local_gen = s->local_gen;
	im->peer_gen = s->peer_gen;
	im->initiator = s->initiator;
	if (s->npeer) {
		im->npeer = s->npeer;
		memcpy(im->peer_locs, s->peer_locs, sizeof s->peer_locs);
		memcpy(im->verified, s->verified, sizeof s->verified);
	}
}
