/*
 * A stand-in dataplane for control tests: speaks dpmsg on a SOCK_SEQPACKET
 * socket and holds N established contexts, so control's HELLO, dump
 * takeover, counters and REAP stamp walks can be checked without DPDK.
 * It forwards nothing: every context keeps the stamps it got when it was
 * installed (the N at start, then CTX_ADD), sent 200 ms and received
 * 300 ms before that, so a walk since 0 shows them all and a later one none.
 *   usage: fake_dp SOCKET N_CONTEXTS BOOT_ID
 * Runs until SIGTERM.  Prints one line per request type it served to stdout.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "pshim6/dpmsg.h"

static void mkctx(struct dpmsg_ctx *c, unsigned i)
{
	char a[64];
	memset(c, 0, sizeof(*c));
	snprintf(a, sizeof a, "fd00:1:1:1::%x", i + 1);
	inet_pton(AF_INET6, a, c->local_ulid);
	snprintf(a, sizeof a, "fd00:2:2:1::%x", i + 1);
	inet_pton(AF_INET6, a, c->remote_ulid);
	snprintf(a, sizeof a, "2001:db8:%x0:1::%x", (i % 2) + 1, i + 1);
	inet_pton(AF_INET6, a, c->local_loc);
	snprintf(a, sizeof a, "2001:db8:30:1::%x", i + 1);
	inet_pton(AF_INET6, a, c->remote_loc);
	c->own_tag = 0x100000 + i;
	c->peer_tag = 0x200000 + i;
	c->isp = (uint8_t)(i % 2);
}

struct slot { uint64_t tag, sent, recv; };
static struct slot *tab;
static unsigned ntab, captab;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void tab_add(uint64_t tag, int check)
{
	for (unsigned i = 0; check && i < ntab; i++)
		if (tab[i].tag == tag)
			return;
	if (ntab == captab) {
		captab = captab ? 2 * captab : 64;
		tab = realloc(tab, captab * sizeof(*tab));
		if (!tab)
			abort();
	}
	uint64_t now = mono_ns();
	tab[ntab++] = (struct slot){ tag, now - 200000000ULL, now - 300000000ULL };
}

static void tab_del(uint64_t tag)
{
	for (unsigned i = 0; i < ntab; i++)
		if (tab[i].tag == tag) {
			tab[i] = tab[--ntab];
			return;
		}
}

/* As the dataplane walks: from the cursor, max_slots looked at, at most
 * DPMSG_REAP_MAX entries stamped after `since`. */
static void scan(const struct dpmsg_reap_scan_req *q, struct dpmsg_reap_scan *a)
{
	unsigned i = q->cursor, end = ntab;
	if (q->cursor < ntab && ntab - q->cursor > q->max_slots)
		end = q->cursor + q->max_slots;
	for (; i < end && a->n < DPMSG_REAP_MAX; i++) {
		if (tab[i].sent <= q->since_ns && tab[i].recv <= q->since_ns)
			continue;
		a->e[a->n++] = (struct dpmsg_reap_entry){ tab[i].tag, tab[i].sent, tab[i].recv, 1 };
	}
	a->next = i < ntab ? i : DPMSG_SCAN_END;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	unsigned n = (unsigned)atoi(argv[2]);
	uint64_t boot = strtoull(argv[3], NULL, 0);
	for (unsigned i = 0; i < n; i++) {
		struct dpmsg_ctx c;
		mkctx(&c, i);
		tab_add(c.own_tag, 0);
	}
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", argv[1]);
	unlink(argv[1]);
	int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sun, sizeof sun) || listen(l, 4)) {
		perror("fake_dp");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	static uint8_t buf[DPMSG_MAX_LEN];
	static struct dpmsg m, r;
	for (;;) {
		int fd = accept(l, NULL, NULL);
		if (fd < 0)
			continue;
		for (;;) {
			int rc = dpmsg_recv(fd, buf, sizeof buf, &m);
			if (rc == DPMSG_E_CLOSED || rc == DPMSG_E_IO)
				break;
			if (rc < 0)
				continue;
			memset(&r, 0, sizeof r);
			r.seq = m.seq;
			switch (m.type) {
			case DPMSG_HELLO:
				printf("hello\n");
				r.type = DPMSG_HELLO;
				r.u.hello.version = DPMSG_VERSION;
				r.u.hello.role = DPMSG_ROLE_DATAPLANE;
				r.u.hello.ctx_capacity = 1000;
				r.u.hello.host_capacity = 100;
				r.u.hello.n_lcores = 1;
				r.u.hello.n_isp = 2;
				r.u.hello.boot_id = boot;
				dpmsg_send(fd, &r);
				break;
			case DPMSG_DUMP_REQ:
				printf("dump\n");
				for (unsigned i = 0; i < n; i++) {
					r.type = DPMSG_DUMP_CTX;
					mkctx(&r.u.ctx, i);
					dpmsg_send(fd, &r);
				}
				memset(&r.u, 0, sizeof r.u);
				r.type = DPMSG_DUMP_END;
				r.u.dump_end.count = n;
				dpmsg_send(fd, &r);
				break;
			case DPMSG_COUNTERS_REQ:
				r.type = DPMSG_COUNTERS;
				r.u.counters.n = 2;
				r.u.counters.c[0] = (struct dpmsg_counter){ DPMSG_CNT_EGRESS_SHIM, 1234 };
				r.u.counters.c[1] = (struct dpmsg_counter){ DPMSG_CNT_CTX_ENTRIES, n };
				dpmsg_send(fd, &r);
				break;
			case DPMSG_REAP_SCAN_REQ:
				r.type = DPMSG_REAP_SCAN;
				scan(&m.u.scan_req, &r.u.scan);
				dpmsg_send(fd, &r);
				break;
			default:
				if (m.type == DPMSG_CTX_ADD)
					tab_add(m.u.ctx.own_tag, 1);
				if (m.type == DPMSG_CTX_DEL)
					tab_del(m.u.ctx.own_tag);
				printf("type %u\n", m.type);
				r.type = DPMSG_ACK;
				dpmsg_send(fd, &r);
			}
		}
		close(fd);
		printf("closed\n");
	}
}
