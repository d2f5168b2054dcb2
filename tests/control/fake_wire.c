/*
 * Two stand-in dataplanes joined by a simulated wire, for testing two real
 * pshim6-control daemons against each other without DPDK.
 *
 *   usage: fake_wire SOCK_A SOCK_B HOST_A HOST_B DOWNFILE
 *
 * - Each socket serves one control daemon (dpmsg: HELLO, empty dump, ACKs,
 *   counters, walks of the REAP stamps).
 * - A Shim6 control message INJECTed by one side on an ISP port reaches the
 *   other side as a SHIM6_CTL punt, unless its source or destination
 *   locator is under a prefix listed in DOWNFILE (one "addr/len" per line,
 *   re-read every 100 ms): that is the link failure.
 * - Once both daemons said HELLO, side A gets a NO_CTX punt of a UDP packet
 *   HOST_A -> HOST_B (the host's first packet).
 * - Data: both sides "send" on every context all the time; a side has
 *   "received" recently when the other side's current locator pair is up.
 *   REAP stamps report exactly that, so REAP sees a failure as it would.
 * Prints one line per event (ctx-add, ctx-mod, release, ...) with a
 * monotonic timestamp in ms.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "pshim6/dpmsg.h"

#define MAXCTX 16
#define MAXDOWN 8

struct side {
	const char *path;
	int lfd, fd;
	int hello;
	unsigned nctx;
	struct dpmsg_ctx ctx[MAXCTX];
};

static struct side S[2];
static unsigned char down[MAXDOWN][16];
static unsigned down_len[MAXDOWN], ndown;
static const char *downfile;
static struct in6_addr hosta, hostb;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void wlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void wlog(const char *fmt, ...)
{
	va_list ap;
	printf("%llu ", (unsigned long long)(now_ns() / 1000000));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void read_down(void)
{
	FILE *f = fopen(downfile, "r");
	ndown = 0;
	if (!f)
		return;
	char line[128];
	while (ndown < MAXDOWN && fgets(line, sizeof line, f)) {
		char *sl = strchr(line, '/');
		if (!sl)
			continue;
		*sl = 0;
		if (inet_pton(AF_INET6, line, down[ndown]) == 1)
			down_len[ndown++] = (unsigned)atoi(sl + 1);
	}
	fclose(f);
}

static int is_down(const uint8_t *a)
{
	for (unsigned i = 0; i < ndown; i++) {
		unsigned l = down_len[i], full = l / 8, rest = l % 8;
		if (memcmp(a, down[i], full))
			continue;
		if (rest && ((a[full] ^ down[i][full]) & (0xff << (8 - rest))))
			continue;
		return 1;
	}
	return 0;
}

static int listen_on(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	unlink(path);
	int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sun, sizeof sun) || listen(l, 2)) {
		perror(path);
		exit(1);
	}
	return l;
}

static void send_punt(int to, uint16_t reason, const uint8_t *pkt, uint32_t len)
{
	struct dpmsg m = { .type = DPMSG_PUNT };
	m.u.punt.reason = reason;
	m.u.punt.port = reason == DPMSG_PUNT_NO_CTX ? 0 : 1;
	m.u.punt.len = len;
	m.u.punt.orig_len = len;
	m.u.punt.data = pkt;
	if (S[to].fd >= 0)
		dpmsg_send(S[to].fd, &m);
}

static struct dpmsg_ctx *find(struct side *s, uint64_t tag)
{
	for (unsigned i = 0; i < s->nctx; i++)
		if (s->ctx[i].own_tag == tag)
			return &s->ctx[i];
	return NULL;
}

/* the other side's context for the same ULID pair, seen from there */
static struct dpmsg_ctx *mirror(int side, const struct dpmsg_ctx *c)
{
	struct side *o = &S[!side];
	for (unsigned i = 0; i < o->nctx; i++)
		if (!memcmp(o->ctx[i].local_ulid, c->remote_ulid, 16) &&
		    !memcmp(o->ctx[i].remote_ulid, c->local_ulid, 16))
			return &o->ctx[i];
	return NULL;
}

static int first_sent;
static uint64_t next_resend;

static void first_packet(void)
{
	first_sent++;
	next_resend = now_ns() + 1000000000ULL;
	uint8_t p[48] = { 0x60, 0, 0, 0, 0, 8, 17, 64 };
	memcpy(p + 8, &hosta, 16);
	memcpy(p + 24, &hostb, 16);
	p[40] = 0x30; p[41] = 0x39; p[42] = 0x30; p[43] = 0x39; p[45] = 8;
	wlog("first-packet A");
	send_punt(0, DPMSG_PUNT_NO_CTX, p, sizeof p);
}

static void handle(int side, struct dpmsg *m)
{
	struct side *s = &S[side];
	struct dpmsg r = { .seq = m->seq, .type = DPMSG_ACK };
	char a[2][64];
	struct dpmsg_ctx *c;
	switch (m->type) {
	case DPMSG_HELLO:
		r.type = DPMSG_HELLO;
		r.u.hello = (struct dpmsg_hello){ .version = DPMSG_VERSION, .role = DPMSG_ROLE_DATAPLANE,
			.ctx_capacity = MAXCTX, .host_capacity = 16, .n_lcores = 1, .n_isp = 2,
			.boot_id = 0xabc0 + (unsigned)side };
		dpmsg_send(s->fd, &r);
		s->hello = 1;
		wlog("hello %c", 'A' + side);
		return;
	case DPMSG_DUMP_REQ:
		/* what this dataplane kept forwarding while control was away */
		for (unsigned i = 0; i < s->nctx; i++) {
			r.type = DPMSG_DUMP_CTX;
			r.u.ctx = s->ctx[i];
			dpmsg_send(s->fd, &r);
		}
		memset(&r.u, 0, sizeof r.u);
		r.type = DPMSG_DUMP_END;
		r.u.dump_end.count = s->nctx;
		dpmsg_send(s->fd, &r);
		wlog("dump %c %u", 'A' + side, s->nctx);
		{
			static int dumped[2], sent;
			dumped[side] = 1;
			if (dumped[0] && dumped[1] && !sent) {
				sent = 1;
				first_packet();
			}
		}
		return;
	case DPMSG_CTX_ADD:
		if (s->nctx < MAXCTX && !find(s, m->u.ctx.own_tag))
			s->ctx[s->nctx++] = m->u.ctx;
		wlog("ctx-add %c %012llx %s -> %s isp %u", 'A' + side, (unsigned long long)m->u.ctx.own_tag,
		     inet_ntop(AF_INET6, m->u.ctx.local_loc, a[0], 64), inet_ntop(AF_INET6, m->u.ctx.remote_loc, a[1], 64),
		     m->u.ctx.isp);
		break;
	case DPMSG_CTX_MOD:
		c = find(s, m->u.mod.ctx.own_tag);
		if (c && (m->u.mod.what & DPMSG_MOD_LOCATORS)) {
			memcpy(c->local_loc, m->u.mod.ctx.local_loc, 16);
			memcpy(c->remote_loc, m->u.mod.ctx.remote_loc, 16);
			c->isp = m->u.mod.ctx.isp;
		}
		wlog("ctx-mod %c %012llx %s -> %s isp %u", 'A' + side, (unsigned long long)m->u.mod.ctx.own_tag,
		     inet_ntop(AF_INET6, m->u.mod.ctx.local_loc, a[0], 64),
		     inet_ntop(AF_INET6, m->u.mod.ctx.remote_loc, a[1], 64), m->u.mod.ctx.isp);
		break;
	case DPMSG_CTX_DEL:
		c = find(s, m->u.ctx.own_tag);
		if (c)
			*c = s->ctx[--s->nctx];
		wlog("ctx-del %c %012llx", 'A' + side, (unsigned long long)m->u.ctx.own_tag);
		break;
	case DPMSG_INJECT: {
		const uint8_t *p = m->u.inject.data;
		if (m->u.inject.port == 0) {
			wlog("release %c len %u", 'A' + side, m->u.inject.len);
			break;
		}
		if (m->u.inject.len < 48 || p[6] != 140) {
			wlog("inject-other %c", 'A' + side);
			break;
		}
		if (is_down(p + 8) || is_down(p + 24)) {
			wlog("lost %c type %u", 'A' + side, p[42] & 0x7f);
			break;
		}
		wlog("wire %c->%c type %u", 'A' + side, 'B' - side, p[42] & 0x7f);
		send_punt(!side, DPMSG_PUNT_SHIM6_CTL, p, m->u.inject.len);
		break;
	}
	case DPMSG_COUNTERS_REQ:
		r.type = DPMSG_COUNTERS;
		dpmsg_send(s->fd, &r);
		return;
	case DPMSG_REAP_SCAN_REQ: {
		/* every context is busy: each walk returns all of them */
		uint64_t now = now_ns();
		static uint64_t last_ok[2][MAXCTX];
		unsigned i = m->u.scan_req.cursor;
		r.type = DPMSG_REAP_SCAN;
		for (; i < s->nctx && r.u.scan.n < DPMSG_REAP_MAX; i++) {
			struct dpmsg_reap_entry *e = &r.u.scan.e[r.u.scan.n++];
			c = &s->ctx[i];
			e->own_tag = c->own_tag;
			e->found = 1;
			e->last_sent_ns = now;
			struct dpmsg_ctx *o = mirror(side, c);
			if (o && !is_down(o->local_loc) && !is_down(o->remote_loc))
				last_ok[side][i] = now;
			e->last_recv_ns = last_ok[side][i];
		}
		r.u.scan.next = i < s->nctx ? i : DPMSG_SCAN_END;
		dpmsg_send(s->fd, &r);
		return;
	}
	default:
		break;
	}
	dpmsg_send(s->fd, &r);
}

int main(int argc, char **argv)
{
	if (argc != 6)
		return 2;
	S[0].path = argv[1];
	S[1].path = argv[2];
	inet_pton(AF_INET6, argv[3], &hosta);
	inet_pton(AF_INET6, argv[4], &hostb);
	downfile = argv[5];
	for (int i = 0; i < 2; i++) {
		S[i].lfd = listen_on(S[i].path);
		S[i].fd = -1;
	}
	static uint8_t buf[DPMSG_MAX_LEN];
	static struct dpmsg m;
	uint64_t next_read = 0;
	for (;;) {
		struct pollfd pf[4];
		for (int i = 0; i < 2; i++) {
			pf[2 * i] = (struct pollfd){ .fd = S[i].lfd, .events = POLLIN };
			pf[2 * i + 1] = (struct pollfd){ .fd = S[i].fd, .events = POLLIN };
		}
		poll(pf, 4, 100);
		/* like a host, retransmit the first packet until it gets through */
		if (first_sent && first_sent < 10 && S[0].nctx == 0 && now_ns() >= next_resend)
			first_packet();
		if (now_ns() >= next_read) {
			unsigned before = ndown;
			unsigned char prev[MAXDOWN][16];
			memcpy(prev, down, sizeof prev);
			read_down();
			if (ndown != before || memcmp(prev, down, sizeof prev))
				wlog("down-change %u", ndown);
			next_read = now_ns() + 100000000ULL;
		}
		for (int i = 0; i < 2; i++) {
			if (pf[2 * i].revents & POLLIN) {
				int fd = accept(S[i].lfd, NULL, NULL);
				if (fd >= 0) {
					if (S[i].fd >= 0)
						close(S[i].fd);
					S[i].fd = fd;
					S[i].hello = 0;
				}
			}
			if (S[i].fd >= 0 && (pf[2 * i + 1].revents & (POLLIN | POLLHUP))) {
				int rc = dpmsg_recv(S[i].fd, buf, sizeof buf, &m);
				if (rc == DPMSG_E_CLOSED || rc == DPMSG_E_IO) {
					close(S[i].fd);
					S[i].fd = -1;
					wlog("closed %c", 'A' + i);
				} else if (rc == 0) {
					handle(i, &m);
				}
			}
		}
	}
}
