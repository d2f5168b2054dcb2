/* pshim6-dpctl: talk dpmsg to a running pshim6-dataplane from scripts. */
#include "pshim6/dpmsg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/pshim6/dataplane.sock"

static const char usage[] =
"usage: pshim6-dpctl [-s SOCKET] COMMAND [KEY=VALUE ...]\n"
"\n"
"Send one request to pshim6-dataplane over its control channel and print the\n"
"reply.  SOCKET defaults to " DEFAULT_SOCKET " (config: dataplane.socket).\n"
"\n"
"commands:\n"
"  hello                      print the dataplane's version and table sizes\n"
"  add lulid= rulid= lloc= rloc= ptag= otag= isp= [fii=] [flags=]\n"
"                             install a context (addresses IPv6, tags 47-bit,\n"
"                             decimal or 0x-hex; isp = egress ISP index)\n"
"  mod otag= [lloc= rloc= isp=] [ptag=] [flags=]\n"
"                             change a context's locator pair, peer tag or flags\n"
"  del otag=                  remove a context\n"
"  host-add cmula= loc0= [loc1= ...]\n"
"                             install an HBA host (locator i under ISP i)\n"
"  host-del cmula=            remove an HBA host\n"
"  dump [what=contexts|hosts|all]\n"
"                             print installed entries, one per line\n"
"  reap TAG...                print last-sent/last-received (monotonic ns)\n"
"  reap-scan [SINCE_NS]       the same for every context with traffic after\n"
"                             SINCE_NS (CLOCK_MONOTONIC ns; default 0, any),\n"
"                             the whole table walked\n"
"  reap-time count=N [start=S] ago_ms=A\n"
"                             read the stamps of N synthetic contexts (as made\n"
"                             by fill) by tag list, then by a walk since A ms\n"
"                             ago; print the requests and time each took\n"
"  counters                   print counters summed over lcores\n"
"  fill count=N [start=S] [isp=I]\n"
"                             install N synthetic contexts (scale tests and\n"
"                             benchmarks): context i = S..S+N-1 has\n"
"                             lulid fd00:1:1:1::i rulid fd00:2:2:1::i\n"
"                             lloc 2001:db8:10:1::i rloc 2001:db8:30:1::i\n"
"                             ptag 0x100000000+i otag 0x200000000+i\n"
"                             (i in the low 32 bits); requests are pipelined\n"
"  move count=N [start=S] isp=I\n"
"                             relocate N synthetic contexts (as made by fill)\n"
"                             to ISP I: lloc 2001:db8:X:1::i with X = 10, 20, ...\n"
"                             for I = 0, 1, ...; prints the time it took\n"
"\n"
"Exit status: 0 on ACK or a reply, 1 on an ERROR reply, 2 on usage or I/O errors.\n";

static int fd = -1;
static uint32_t seq = 1;

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "pshim6-dpctl: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static const char *kv(int argc, char **argv, const char *key)
{
	size_t kl = strlen(key);
	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], key, kl) && argv[i][kl] == '=')
			return argv[i] + kl + 1;
	return NULL;
}

static void addr(int argc, char **argv, const char *key, uint8_t out[16], int required)
{
	const char *v = kv(argc, argv, key);
	if (!v) {
		if (required)
			die("missing %s=", key);
		return;
	}
	if (inet_pton(AF_INET6, v, out) != 1)
		die("not an IPv6 address: %s", v);
}

static uint64_t num(int argc, char **argv, const char *key, uint64_t max, int required, int *present)
{
	const char *v = kv(argc, argv, key);
	char *end;
	unsigned long long n;

	if (present)
		*present = v != NULL;
	if (!v) {
		if (required)
			die("missing %s=", key);
		return 0;
	}
	errno = 0;
	n = strtoull(v, &end, 0);
	if (errno || *end || end == v || n > max)
		die("bad number: %s", v);
	return n;
}

static void xsend(struct dpmsg *m)
{
	int rc;
	m->seq = seq++;
	if ((rc = dpmsg_send(fd, m)) < 0)
		die("send: %s", rc == DPMSG_E_IO ? strerror(errno) : dpmsg_strerror(rc));
}

static int xrecv(struct dpmsg *m)
{
	static uint8_t buf[DPMSG_MAX_LEN];
	int rc;
	for (;;) {
		rc = dpmsg_recv(fd, buf, sizeof(buf), m);
		if (rc < 0)
			die("receive: %s", rc == DPMSG_E_IO ? strerror(errno) : dpmsg_strerror(rc));
		if (m->type != DPMSG_PUNT) /* punts go to whoever listens; skip */
			return 0;
	}
}

static int finish(struct dpmsg *m)
{
	xrecv(m);
	if (m->type == DPMSG_ACK)
		return 0;
	if (m->type == DPMSG_ERROR) {
		fprintf(stderr, "pshim6-dpctl: dataplane refused: %s%s%s\n", dpmsg_errname(m->u.error.code),
			m->u.error.text[0] ? ": " : "", m->u.error.text);
		return 1;
	}
	die("unexpected reply %s", dpmsg_type_name(m->type));
	return 2;
}

static void print_ctx(const struct dpmsg_ctx *c)
{
	char a[4][INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, c->local_ulid, a[0], sizeof(a[0]));
	inet_ntop(AF_INET6, c->remote_ulid, a[1], sizeof(a[1]));
	inet_ntop(AF_INET6, c->local_loc, a[2], sizeof(a[2]));
	inet_ntop(AF_INET6, c->remote_loc, a[3], sizeof(a[3]));
	printf("ctx lulid=%s rulid=%s lloc=%s rloc=%s ptag=0x%" PRIx64 " otag=0x%" PRIx64
	       " isp=%u fii=%" PRIu32 " flags=0x%" PRIx32 "\n", a[0], a[1], a[2], a[3],
	       c->peer_tag, c->own_tag, c->isp, c->fii, c->flags);
}

/* Synthetic contexts i (fill, move): numbered in the last four octets of
 * each address, tags 0x1_0000_0000 + i (peer) and 0x2_0000_0000 + i (own). */
struct synth {
	uint8_t base[4][16];         /* local ULID, remote ULID, local locator, remote locator */
	uint8_t isp;
};

static void number(uint8_t *a, uint32_t i)
{
	a[12] = (uint8_t)(i >> 24);
	a[13] = (uint8_t)(i >> 16);
	a[14] = (uint8_t)(i >> 8);
	a[15] = (uint8_t)i;
}

static void make_add(struct dpmsg *m, uint32_t i, const struct synth *s)
{
	struct dpmsg_ctx *c = &m->u.ctx;
	uint8_t *dst[4] = { c->local_ulid, c->remote_ulid, c->local_loc, c->remote_loc };
	m->type = DPMSG_CTX_ADD;
	for (int k = 0; k < 4; k++) {
		memcpy(dst[k], s->base[k], 16);
		number(dst[k], i);
	}
	c->peer_tag = UINT64_C(0x100000000) + i;
	c->own_tag = UINT64_C(0x200000000) + i;
	c->isp = s->isp;
}

static void make_move(struct dpmsg *m, uint32_t i, const struct synth *s)
{
	struct dpmsg_ctx *c = &m->u.mod.ctx;
	m->type = DPMSG_CTX_MOD;
	m->u.mod.what = DPMSG_MOD_LOCATORS;
	memcpy(c->local_loc, s->base[2], 16);
	memcpy(c->remote_loc, s->base[3], 16);
	number(c->local_loc, i);
	number(c->remote_loc, i);
	c->own_tag = UINT64_C(0x200000000) + i;
	c->isp = s->isp;
}

/* Writes for contexts start .. start + count - 1, 256 in flight (one round
 * trip per context is too slow for 1M); returns how many were refused, the
 * first of them reported. */
static uint64_t pipeline(struct dpmsg *m, uint64_t start, uint64_t count, const struct synth *s,
			 void (*make)(struct dpmsg *, uint32_t, const struct synth *), const char *what)
{
	uint64_t sent = 0, acked = 0, failed = 0;
	while (acked < count) {
		while (sent < count && sent - acked < 256) {
			memset(m, 0, sizeof(*m));
			make(m, (uint32_t)(start + sent), s);
			xsend(m);
			sent++;
		}
		xrecv(m);
		if (m->type == DPMSG_ERROR && failed++ == 0)
			fprintf(stderr, "pshim6-dpctl: %s: %s\n", what, dpmsg_errname(m->u.error.code));
		acked++;
	}
	return failed;
}

static uint64_t mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A whole REAP walk, one request in flight as control walks: the contexts
 * with traffic after `since` (printed when `print`), the requests it took. */
static int walk(struct dpmsg *m, uint64_t since, bool print, uint64_t *reqs, uint64_t *n)
{
	uint32_t cursor = 0;
	*reqs = *n = 0;
	do {
		memset(m, 0, sizeof(*m));
		m->type = DPMSG_REAP_SCAN_REQ;
		m->u.scan_req.cursor = cursor;
		m->u.scan_req.max_slots = DPMSG_SCAN_SLOTS_MAX;
		m->u.scan_req.since_ns = since;
		xsend(m);
		xrecv(m);
		++*reqs;
		if (m->type != DPMSG_REAP_SCAN)
			return finish(m);
		*n += m->u.scan.n;
		for (unsigned i = 0; print && i < m->u.scan.n; i++)
			printf("otag=0x%" PRIx64 " found=1 last_sent_ns=%" PRIu64 " last_recv_ns=%" PRIu64 "\n",
			       m->u.scan.e[i].own_tag, m->u.scan.e[i].last_sent_ns, m->u.scan.e[i].last_recv_ns);
		/* a step looks at one context at least: a cursor that stays put would loop for ever */
		if (m->u.scan.next == cursor)
			die("reap-scan: %s", "the dataplane's walk does not advance");
		cursor = m->u.scan.next;
	} while (cursor != DPMSG_SCAN_END);
	return 0;
}

static void print_host(const struct dpmsg_host *h)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, h->cmula, a, sizeof(a));
	printf("host cmula=%s", a);
	for (int i = 0; i < h->nloc; i++) {
		inet_ntop(AF_INET6, h->loc[i], a, sizeof(a));
		printf(" loc%d=%s", i, a);
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	const char *sock = DEFAULT_SOCKET;
	static struct dpmsg m;
	const char *cmd;
	int opt;

	static const struct option longopts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	while ((opt = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	cmd = argv[optind];
	argc -= optind + 1;
	argv += optind + 1;

	fd = dpmsg_connect(sock);
	if (fd < 0)
		die("cannot connect: %s", strerror(errno));
	memset(&m, 0, sizeof(m));
	m.type = DPMSG_HELLO;
	m.u.hello.version = DPMSG_VERSION;
	m.u.hello.role = DPMSG_ROLE_TOOL;
	xsend(&m);
	xrecv(&m);
	if (m.type == DPMSG_ERROR)
		return finish(&m);
	if (m.type != DPMSG_HELLO)
		die("unexpected reply %s to hello", dpmsg_type_name(m.type));
	if (!strcmp(cmd, "hello")) {
		printf("version=%u ctx_capacity=%" PRIu32 " host_capacity=%" PRIu32
		       " lcores=%u isps=%u boot_id=0x%" PRIx64 "\n", m.u.hello.version,
		       m.u.hello.ctx_capacity, m.u.hello.host_capacity, m.u.hello.n_lcores,
		       m.u.hello.n_isp, m.u.hello.boot_id);
		return 0;
	}

	memset(&m, 0, sizeof(m));
	if (!strcmp(cmd, "add")) {
		struct dpmsg_ctx *c = &m.u.ctx;
		m.type = DPMSG_CTX_ADD;
		addr(argc, argv, "lulid", c->local_ulid, 1);
		addr(argc, argv, "rulid", c->remote_ulid, 1);
		addr(argc, argv, "lloc", c->local_loc, 1);
		addr(argc, argv, "rloc", c->remote_loc, 1);
		c->peer_tag = num(argc, argv, "ptag", DPMSG_TAG_MASK, 1, NULL);
		c->own_tag = num(argc, argv, "otag", DPMSG_TAG_MASK, 1, NULL);
		c->isp = (uint8_t)num(argc, argv, "isp", DPMSG_MAX_ISP - 1, 1, NULL);
		c->fii = (uint32_t)num(argc, argv, "fii", UINT32_MAX, 0, NULL);
		c->flags = (uint32_t)num(argc, argv, "flags", UINT32_MAX, 0, NULL);
		xsend(&m);
		return finish(&m);
	}
	if (!strcmp(cmd, "mod")) {
		struct dpmsg_ctx *c = &m.u.mod.ctx;
		int has;
		m.type = DPMSG_CTX_MOD;
		c->own_tag = num(argc, argv, "otag", DPMSG_TAG_MASK, 1, NULL);
		if (kv(argc, argv, "lloc") || kv(argc, argv, "rloc")) {
			addr(argc, argv, "lloc", c->local_loc, 1);
			addr(argc, argv, "rloc", c->remote_loc, 1);
			c->isp = (uint8_t)num(argc, argv, "isp", DPMSG_MAX_ISP - 1, 1, NULL);
			m.u.mod.what |= DPMSG_MOD_LOCATORS;
		}
		c->peer_tag = num(argc, argv, "ptag", DPMSG_TAG_MASK, 0, &has);
		if (has)
			m.u.mod.what |= DPMSG_MOD_PEER_TAG;
		c->flags = (uint32_t)num(argc, argv, "flags", UINT32_MAX, 0, &has);
		if (has)
			m.u.mod.what |= DPMSG_MOD_FLAGS;
		if (!m.u.mod.what)
			die("%s: nothing to change (give lloc= rloc= isp=, ptag= or flags=)", "mod");
		xsend(&m);
		return finish(&m);
	}
	if (!strcmp(cmd, "del")) {
		m.type = DPMSG_CTX_DEL;
		m.u.ctx.own_tag = num(argc, argv, "otag", DPMSG_TAG_MASK, 1, NULL);
		xsend(&m);
		return finish(&m);
	}
	if (!strcmp(cmd, "host-add") || !strcmp(cmd, "host-del")) {
		m.type = cmd[5] == 'a' ? DPMSG_HOST_ADD : DPMSG_HOST_DEL;
		addr(argc, argv, "cmula", m.u.host.cmula, 1);
		if (m.type == DPMSG_HOST_ADD) {
			for (int i = 0; i < DPMSG_MAX_ISP; i++) {
				char key[8];
				snprintf(key, sizeof(key), "loc%d", i);
				if (!kv(argc, argv, key))
					break;
				addr(argc, argv, key, m.u.host.loc[i], 1);
				m.u.host.nloc++;
			}
			if (!m.u.host.nloc)
				die("%s: at least loc0= is needed", cmd);
		}
		xsend(&m);
		return finish(&m);
	}
	if (!strcmp(cmd, "dump")) {
		const char *what = kv(argc, argv, "what");
		unsigned n = 0;
		m.type = DPMSG_DUMP_REQ;
		m.u.dump_req.what = DPMSG_DUMP_CONTEXTS | DPMSG_DUMP_HOSTS;
		if (what && !strcmp(what, "contexts"))
			m.u.dump_req.what = DPMSG_DUMP_CONTEXTS;
		else if (what && !strcmp(what, "hosts"))
			m.u.dump_req.what = DPMSG_DUMP_HOSTS;
		else if (what && strcmp(what, "all"))
			die("dump: what= must be contexts, hosts or all, not %s", what);
		xsend(&m);
		for (;;) {
			xrecv(&m);
			if (m.type == DPMSG_DUMP_CTX)
				print_ctx(&m.u.ctx), n++;
			else if (m.type == DPMSG_DUMP_HOST)
				print_host(&m.u.host), n++;
			else if (m.type == DPMSG_DUMP_END) {
				if (m.u.dump_end.count != n)
					die("dump: %s", "entry count mismatch");
				return 0;
			} else
				return finish(&m);
		}
	}
	if (!strcmp(cmd, "reap")) {
		m.type = DPMSG_REAP_REQ;
		for (int i = 0; i < argc && m.u.reap_req.n < DPMSG_REAP_MAX; i++) {
			char *end;
			errno = 0;
			m.u.reap_req.own_tag[m.u.reap_req.n++] = strtoull(argv[i], &end, 0);
			if (errno || *end)
				die("reap: bad tag %s", argv[i]);
		}
		xsend(&m);
		xrecv(&m);
		if (m.type != DPMSG_REAP)
			return finish(&m);
		for (unsigned i = 0; i < m.u.reap.n; i++)
			printf("otag=0x%" PRIx64 " found=%u last_sent_ns=%" PRIu64 " last_recv_ns=%" PRIu64 "\n",
			       m.u.reap.e[i].own_tag, m.u.reap.e[i].found, m.u.reap.e[i].last_sent_ns,
			       m.u.reap.e[i].last_recv_ns);
		return 0;
	}
	if (!strcmp(cmd, "reap-scan")) {
		uint64_t since = 0;
		if (argc > 1)
			die("reap-scan: %s", "one argument at most (SINCE_NS)");
		if (argc == 1) {
			char *end;
			errno = 0;
			since = strtoull(argv[0], &end, 0);
			if (errno || *end || end == argv[0] || argv[0][0] == '-')
				die("reap-scan: bad time %s", argv[0]);
		}
		uint64_t reqs, n;
		return walk(&m, since, true, &reqs, &n);
	}
	if (!strcmp(cmd, "reap-time")) {
		uint64_t count = num(argc, argv, "count", 1u << 26, 1, NULL);
		uint64_t start = num(argc, argv, "start", UINT32_MAX, 0, NULL);
		uint64_t ago = num(argc, argv, "ago_ms", 86400000, 1, NULL);
		uint64_t lists = (count + DPMSG_REAP_MAX - 1) / DPMSG_REAP_MAX, sent = 0, got = 0, busy = 0;
		uint64_t t0 = mono(), since = t0 > ago * 1000000u ? t0 - ago * 1000000u : 1;
		/* as control read them before: every context by tag, requests pipelined */
		while (got < lists) {
			while (sent < lists && sent - got < 64) {
				memset(&m, 0, sizeof(m));
				m.type = DPMSG_REAP_REQ;
				for (uint64_t i = sent * DPMSG_REAP_MAX; i < count && m.u.reap_req.n < DPMSG_REAP_MAX; i++)
					m.u.reap_req.own_tag[m.u.reap_req.n++] = UINT64_C(0x200000000) + start + i;
				xsend(&m);
				sent++;
			}
			xrecv(&m);
			if (m.type != DPMSG_REAP)
				return finish(&m);
			for (unsigned i = 0; i < m.u.reap.n; i++)
				busy += m.u.reap.e[i].found &&
					(m.u.reap.e[i].last_sent_ns > since || m.u.reap.e[i].last_recv_ns > since);
			got++;
		}
		uint64_t t1 = mono(), wreqs, wn;
		int rc = walk(&m, since, false, &wreqs, &wn);
		uint64_t t2 = mono();
		if (rc)
			return rc;
		printf("tag lists: %" PRIu64 " requests, %.2f ms, %" PRIu64 " with traffic in the last %" PRIu64 " ms\n",
		       lists, (double)(t1 - t0) / 1e6, busy, ago);
		printf("walk: %" PRIu64 " requests, %.2f ms, %" PRIu64 " with traffic since\n", wreqs,
		       (double)(t2 - t1) / 1e6, wn);
		return 0;
	}
	if (!strcmp(cmd, "counters")) {
		m.type = DPMSG_COUNTERS_REQ;
		xsend(&m);
		xrecv(&m);
		if (m.type != DPMSG_COUNTERS)
			return finish(&m);
		for (unsigned i = 0; i < m.u.counters.n; i++)
			printf("%s %" PRIu64 "\n", dpmsg_counter_name(m.u.counters.c[i].id), m.u.counters.c[i].value);
		return 0;
	}
	if (!strcmp(cmd, "fill")) {
		uint64_t count = num(argc, argv, "count", 1u << 26, 1, NULL);
		uint64_t start = num(argc, argv, "start", UINT32_MAX, 0, NULL);
		static const char *base[4] = { "fd00:1:1:1::", "fd00:2:2:1::", "2001:db8:10:1::", "2001:db8:30:1::" };
		struct synth sy = { .isp = (uint8_t)num(argc, argv, "isp", DPMSG_MAX_ISP - 1, 0, NULL) };
		for (int k = 0; k < 4; k++)
			inet_pton(AF_INET6, base[k], sy.base[k]);
		uint64_t failed = pipeline(&m, start, count, &sy, make_add, "fill");
		printf("filled %" PRIu64 " contexts, %" PRIu64 " refused\n", count - failed, failed);
		return failed ? 1 : 0;
	}
	if (!strcmp(cmd, "move")) {
		uint64_t count = num(argc, argv, "count", 1u << 26, 1, NULL);
		uint64_t start = num(argc, argv, "start", UINT32_MAX, 0, NULL);
		struct synth sy = { .isp = (uint8_t)num(argc, argv, "isp", DPMSG_MAX_ISP - 1, 0, NULL) };
		inet_pton(AF_INET6, "2001:db8:10:1::", sy.base[2]);
		inet_pton(AF_INET6, "2001:db8:30:1::", sy.base[3]);
		sy.base[2][5] = (uint8_t)(0x10 * (sy.isp + 1));
		uint64_t t0 = mono();
		uint64_t failed = pipeline(&m, start, count, &sy, make_move, "move");
		double ms = (double)(mono() - t0) / 1e6;
		printf("moved %" PRIu64 " contexts to isp %u in %.1f ms (%.0f per second), %" PRIu64 " refused\n",
		       count - failed, sy.isp, ms, ms > 0 ? (double)(count - failed) * 1e3 / ms : 0.0, failed);
		return failed ? 1 : 0;
	}
	die("unknown command %s (try -h)", cmd);
	return 2;
}
