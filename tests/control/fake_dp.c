/*
 * A stand-in dataplane for control tests: speaks dpmsg on a SOCK_SEQPACKET
 * socket and holds N established contexts, so control's HELLO, dump
 * takeover, counters and REAP polling can be checked without DPDK.
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

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	unsigned n = (unsigned)atoi(argv[2]);
	uint64_t boot = strtoull(argv[3], NULL, 0);
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
			case DPMSG_REAP_REQ: {
				struct timespec ts;
				clock_gettime(CLOCK_MONOTONIC, &ts);
				uint64_t now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
				r.type = DPMSG_REAP;
				r.u.reap.n = m.u.reap_req.n;
				for (unsigned i = 0; i < m.u.reap_req.n; i++) {
					r.u.reap.e[i].own_tag = m.u.reap_req.own_tag[i];
					r.u.reap.e[i].found = 1;
					r.u.reap.e[i].last_sent_ns = now - 200000000ULL;
					r.u.reap.e[i].last_recv_ns = now - 300000000ULL;
				}
				dpmsg_send(fd, &r);
				break;
			}
			default:
				printf("type %u\n", m.type);
				r.type = DPMSG_ACK;
				dpmsg_send(fd, &r);
			}
		}
		close(fd);
		printf("closed\n");
	}
}
