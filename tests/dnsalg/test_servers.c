/*
 * The daemon's I/O side for real: UDP, resolver, TCP, acceptor and control
 * threads on loopback sockets and a Unix socket, the query path answered by
 * the fake upstream.  Each test starts its own ALG (ephemeral ports, control
 * socket in a fresh temporary directory) and stops it, threads joined and
 * every socket closed, even when an assertion fails.
 *
 * The servers read the real monotonic clock (dnsalg_now_ms), so the TCP idle
 * test runs at the smallest idle time an operator may set, 1000 ms.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake.h"
#include "fd_count.h"
#include "fd_limit.h"
#include "server.h"

#define WAIT_MS 3000 /* for what must happen; generous for sanitizer builds */

/* ---- the zone the fake upstream serves ------------------------------------ */

#define PEER_ULID "fd00:2:2:1::22"
#define PEER_PTR "2.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.2.0.0.0.2.0.0.0.0.0.d.f.ip6.arpa."
#define BIG_N 40 /* AAAA records: over the 512 octets of a client without EDNS */

static char big_rrs[BIG_N * 48];

static const struct fake_rrset zone[] = {
	{ "peer.ext.", LDNS_RR_TYPE_AAAA, 0, "peer.ext. 300 IN AAAA 2001:db8:30::22", false },
	{ "peer.ext.", 65300, 0, "peer.ext. 100 IN TYPE65300 \\# 16 fd000002000200010000000000000022", false },
	{ PEER_PTR, LDNS_RR_TYPE_PTR, 0, PEER_PTR " 600 IN PTR peer.ext.", false },
	{ "big.ext.", LDNS_RR_TYPE_AAAA, 0, big_rrs, false },
};

static void fill_big_rrs(void)
{
	size_t at = 0;
	for (unsigned i = 0; i < BIG_N; i++)
		at += (size_t)snprintf(big_rrs + at, sizeof big_rrs - at, "%sbig.ext. 300 IN AAAA 2001:db8:b::%x",
				       i ? "\n" : "", i + 1);
}

/* ---- the harness: one running ALG ----------------------------------------- */

struct cfg {
	const char *listen;
	unsigned udp_threads, resolver_threads, max_inflight, tcp_clients, tcp_idle_ms;
};

struct harness {
	struct dnsalg_opts o;
	struct dnsalg_daemon d;
	/* the fake upstream is not thread-safe and the ALG calls it from every
	 * resolver, TCP and control thread */
	struct fake_up f;
	pthread_mutex_t flock;
	pthread_cond_t fcond;
	bool gate_closed;   /* upstream queries wait: resolver threads stay busy */
	unsigned at_gate;
	char dir[64];
	uint16_t udp_port, tcp_port;
	pthread_t *thr;
	unsigned n_thr;
	bool halted;
	int fds_before;
};

/*
 * The threads make their upstream with dnsalg_upstream_new(), ldns towards
 * the configured servers.  Defining these here keeps upstream.c out of
 * this executable (the linker looks in libdnsalg.a only for what is still
 * undefined), so every thread asks the harness's fake upstream instead.
 */
struct dnsalg_upstream {
	struct harness *h;
};

static int gated_query(void *arg, ldns_pkt *q, bool tcp, ldns_pkt **ans)
{
	struct harness *h = arg;
	pthread_mutex_lock(&h->flock);
	h->at_gate++;
	while (h->gate_closed && !atomic_load(&h->d.stop))
		pthread_cond_wait(&h->fcond, &h->flock);
	h->at_gate--;
	int r = fake_query(&h->f, q, tcp, ans);
	pthread_mutex_unlock(&h->flock);
	return r;
}

struct dnsalg_upstream *dnsalg_upstream_new(const struct dnsalg_opts *o, struct dnsalg_counters *cnt)
{
	(void)cnt;
	struct dnsalg_upstream *u = malloc(sizeof *u);
	if (u)
		u->h = (struct harness *)(void *)((char *)(uintptr_t)o - offsetof(struct harness, o));
	return u;
}

void dnsalg_upstream_free(struct dnsalg_upstream *u)
{
	free(u);
}

void dnsalg_upstream_share(struct dnsalg_upstream *u, struct dnsalg_upstream_keep *k)
{
	(void)u;
	(void)k;
}

void dnsalg_upstream_share_health(struct dnsalg_upstream *u, struct dnsalg_health *h)
{
	(void)u;
	(void)h;
}

void dnsalg_upstream_follow(struct dnsalg_upstream *u, struct dnsalg_upstream_list *l)
{
	(void)u;
	(void)l;
}

struct dnsalg_upstream_ops dnsalg_upstream_ops(struct dnsalg_upstream *u)
{
	return (struct dnsalg_upstream_ops){ gated_query, u->h };
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in6 sa;
	socklen_t l = sizeof sa;
	if (getsockname(fd, (struct sockaddr *)&sa, &l) < 0)
		return 0;
	return ntohs(sa.sin6_port);
}

static int spawn(struct harness *h, void *(*fn)(void *))
{
	return pthread_create(&h->thr[h->n_thr++], NULL, fn, &h->d) == 0 ? 0 : -1;
}

/* The daemon as main() sets it up, minus privileges and signals. */
static int start(struct harness *h, const struct cfg *c)
{
	struct dnsalg_opts *o = &h->o;
	struct dnsalg_daemon *d = &h->d;
	dnsalg_opts_defaults(o);
	inet_pton(AF_INET6, c->listen, &o->listen[0]);
	o->port = 0; /* UDP and TCP each get an ephemeral port */
	o->udp_threads = c->udp_threads;
	o->resolver_threads = c->resolver_threads;
	o->max_inflight = c->max_inflight;
	o->tcp_clients = c->tcp_clients;
	o->tcp_idle_ms = c->tcp_idle_ms;
	o->cache_entries = 256;
	o->ulid_cache_entries = 256;
	o->push_socket[0] = 0;
	snprintf(o->zone, sizeof o->zone, "site1.example.");
	struct in6_addr a;
	inet_pton(AF_INET6, "fd00:1:1:1::11", &a);
	if (dnsalg_opts_add_host(o, "h1", &a) < 0)
		return -1;
	snprintf(h->dir, sizeof h->dir, "/tmp/dnsalg-servers-XXXXXX");
	if (!mkdtemp(h->dir))
		return -1;
	snprintf(o->control_socket, sizeof o->control_socket, "%s/dnsalg.sock", h->dir);

	d->o = o;
	d->ctl_fd = -1;
	d->ctx.o = o;
	d->ctx.cnt = &d->cnt;
	atomic_init(&d->ctx.tcp_idle_ms, o->tcp_idle_ms);
	d->ctx.acache = dnsalg_acache_new(o->cache_entries, o->max_ttl);
	d->ctx.ucache = dnsalg_ucache_new(o->ulid_cache_entries);
	d->ctx.inside = dnsalg_inside_new(o);
	d->jobs = calloc(o->max_inflight, sizeof *d->jobs);
	h->thr = calloc(o->udp_threads + o->resolver_threads + o->tcp_clients + 2, sizeof *h->thr);
	static const uint8_t secret[DNSALG_COOKIE_SECRET] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	dnsalg_cookie_set(&d->ctx.cookie, secret, 0, dnsalg_now_ms());
	if (!d->ctx.acache || !d->ctx.ucache || !d->ctx.inside || !d->jobs || !h->thr ||
	    dnsalg_tcpq_init(&d->tcpq, o->tcp_clients) < 0)
		return -1;
	if (dnsalg_udp_bind(d) < 0 || dnsalg_tcp_bind(d) < 0 || dnsalg_ctl_bind(d) < 0)
		return -1;
	h->udp_port = local_port(d->udp_fd[0]);
	h->tcp_port = local_port(d->tcp_fd[0]);

	int r = 0;
	for (unsigned i = 0; !r && i < o->udp_threads; i++)
		r = spawn(h, dnsalg_udp_main);
	for (unsigned i = 0; !r && i < o->resolver_threads; i++)
		r = spawn(h, dnsalg_resolver_main);
	for (unsigned i = 0; !r && i < o->tcp_clients; i++)
		r = spawn(h, dnsalg_tcp_main);
	if (!r)
		r = spawn(h, dnsalg_tcp_accept_main);
	if (!r)
		r = spawn(h, dnsalg_ctl_main);
	if (r)
		h->n_thr--; /* the failed one */
	return r;
}

/* Stop as main() does; returns how long the threads took to return (ms). */
static uint64_t halt(struct harness *h)
{
	struct dnsalg_daemon *d = &h->d;
	uint64_t t0 = dnsalg_now_ms();
	atomic_store(&d->stop, true);
	pthread_mutex_lock(&d->jlock);
	pthread_cond_broadcast(&d->jcond);
	pthread_mutex_unlock(&d->jlock);
	pthread_mutex_lock(&d->tlock);
	pthread_cond_broadcast(&d->tcond);
	pthread_mutex_unlock(&d->tlock);
	pthread_mutex_lock(&h->flock);
	pthread_cond_broadcast(&h->fcond);
	pthread_mutex_unlock(&h->flock);
	for (unsigned i = 0; i < h->n_thr; i++)
		pthread_join(h->thr[i], NULL);
	h->n_thr = 0;
	h->halted = true;
	return dnsalg_now_ms() - t0;
}

static void closefd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* What main()'s exit leaves to the kernel, closed here so that fds can be counted. */
static void release(struct harness *h)
{
	struct dnsalg_daemon *d = &h->d;
	if (d->tcpq.fds)
		for (int fd; (fd = dnsalg_tcpq_take(&d->tcpq)) >= 0;)
			close(fd);
	dnsalg_tcpq_free(&d->tcpq);
	for (unsigned i = 0; i < DNSALG_MAX_LISTEN; i++) {
		closefd(&d->udp_fd[i]);
		closefd(&d->tcp_fd[i]);
	}
	closefd(&d->ctl_fd);
	if (h->dir[0]) {
		unlink(h->o.control_socket);
		rmdir(h->dir);
		h->dir[0] = 0;
	}
	free(d->jobs);
	d->jobs = NULL;
	free(h->thr);
	h->thr = NULL;
	dnsalg_acache_free(d->ctx.acache);
	dnsalg_ucache_free(d->ctx.ucache);
	dnsalg_inside_free(d->ctx.inside);
	d->ctx.acache = NULL;
	d->ctx.ucache = NULL;
	d->ctx.inside = NULL;
	dnsalg_opts_free(&h->o);
}

static int teardown(void **state)
{
	struct harness *h = *state;
	if (!h->halted)
		halt(h);
	release(h);
	pthread_mutex_destroy(&h->flock);
	pthread_cond_destroy(&h->fcond);
	pthread_mutex_destroy(&h->d.jlock);
	pthread_cond_destroy(&h->d.jcond);
	pthread_mutex_destroy(&h->d.tlock);
	pthread_cond_destroy(&h->d.tcond);
	free(h);
	return 0;
}

static int setup(void **state)
{
	const struct cfg *c = *state;
	struct harness *h = calloc(1, sizeof *h);
	if (!h)
		return -1;
	h->fds_before = fd_count();
	for (unsigned i = 0; i < DNSALG_MAX_LISTEN; i++)
		h->d.udp_fd[i] = h->d.tcp_fd[i] = -1;
	pthread_mutex_init(&h->flock, NULL);
	pthread_cond_init(&h->fcond, NULL);
	pthread_mutex_init(&h->d.jlock, NULL);
	pthread_cond_init(&h->d.jcond, NULL);
	pthread_mutex_init(&h->d.tlock, NULL);
	pthread_cond_init(&h->d.tcond, NULL);
	h->f.set = zone;
	h->f.n = sizeof zone / sizeof zone[0];
	*state = h;
	if (start(h, c) == 0)
		return 0;
	teardown(state); /* cmocka skips the teardown of a failed setup */
	return -1;
}

/* Poll a counter until it reaches want. */
static bool wait_count(_Atomic uint64_t *c, uint64_t want)
{
	for (uint64_t t0 = dnsalg_now_ms(); dnsalg_now_ms() - t0 < WAIT_MS; poll(NULL, 0, 2))
		if (atomic_load(c) >= want)
			return true;
	return atomic_load(c) >= want;
}

static bool wait_at_gate(struct harness *h, unsigned want)
{
	for (uint64_t t0 = dnsalg_now_ms(); dnsalg_now_ms() - t0 < WAIT_MS; poll(NULL, 0, 2)) {
		pthread_mutex_lock(&h->flock);
		bool ok = h->at_gate >= want;
		pthread_mutex_unlock(&h->flock);
		if (ok)
			return true;
	}
	return false;
}

static void open_gate(struct harness *h, bool open)
{
	pthread_mutex_lock(&h->flock);
	h->gate_closed = !open;
	pthread_cond_broadcast(&h->fcond);
	pthread_mutex_unlock(&h->flock);
}

/* ---- clients -------------------------------------------------------------- */

static socklen_t sockaddr_of(const char *addr, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		return sizeof *s6;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	inet_pton(AF_INET, addr, &s4->sin_addr);
	return sizeof *s4;
}

static bool same_sockaddr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port && IN6_ARE_ADDR_EQUAL(&x->sin6_addr, &y->sin6_addr);
}

/* An unconnected UDP socket bound to src, so recvfrom() says who answered. */
static int udp_client(const char *src)
{
	struct sockaddr_storage ss;
	socklen_t l = sockaddr_of(src, 0, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, l), 0);
	return fd;
}

static void udp_send(int fd, const char *dst, uint16_t port, const uint8_t *b, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t l = sockaddr_of(dst, port, &ss);
	assert_int_equal(sendto(fd, b, n, 0, (struct sockaddr *)&ss, l), (ssize_t)n);
}

/* One datagram within ms, or -1. */
static int udp_recv(int fd, uint8_t *b, size_t cap, int ms, struct sockaddr_storage *from)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, ms) <= 0)
		return -1;
	socklen_t l = sizeof *from;
	return (int)recvfrom(fd, b, cap, MSG_DONTWAIT, (struct sockaddr *)from, &l);
}

static uint16_t wire_id(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* The answer's one AAAA (or "" if none) in out; asserts it is an answer to id. */
static void answer_aaaa(const uint8_t *b, int n, uint16_t id, char *out, size_t cap)
{
	ldns_pkt *p = parse(b, n);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_id(p), id);
	assert_true(ldns_pkt_qr(p));
	out[0] = 0;
	count_type(p, LDNS_RR_TYPE_AAAA, out, cap);
	ldns_pkt_free(p);
}

static int tcp_connect(struct harness *h)
{
	struct sockaddr_storage ss;
	socklen_t l = sockaddr_of("::1", h->tcp_port, &ss);
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, l), 0);
	return fd;
}

/* A query with its two-octet length (RFC 1035 §4.2.2). */
static size_t framed(uint8_t *b, size_t cap, uint16_t id, const char *name, uint16_t type)
{
	size_t n = mkquery(b + 2, cap - 2, id, name, type, DNSALG_F_RD, -1, false);
	assert_true(n > 0);
	b[0] = (uint8_t)(n >> 8);
	b[1] = (uint8_t)n;
	return n + 2;
}

static void send_all(int fd, const uint8_t *b, size_t n)
{
	assert_int_equal(send(fd, b, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Exactly n octets by the deadline: 0, -1 on EOF or reset, -2 on timeout. */
static int recv_full(int fd, uint8_t *b, size_t n, uint64_t deadline)
{
	for (size_t got = 0; got < n;) {
		uint64_t now = dnsalg_now_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) == 0)
			return -2;
		ssize_t r = recv(fd, b + got, n - got, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* One framed message: its length, -1 on EOF before it, -2 on timeout. */
static int tcp_recv_msg(int fd, uint8_t *b, size_t cap)
{
	uint64_t deadline = dnsalg_now_ms() + WAIT_MS;
	uint8_t lb[2];
	int r = recv_full(fd, lb, 2, deadline);
	if (r < 0)
		return r;
	size_t n = (size_t)lb[0] << 8 | lb[1];
	assert_true(n <= cap);
	r = recv_full(fd, b, n, deadline);
	return r < 0 ? r : (int)n;
}

/* Milliseconds until the peer closes (EOF or reset), -1 if not within ms;
 * data before the close is a failure. */
static int64_t wait_closed(int fd, int ms)
{
	uint64_t t0 = dnsalg_now_ms();
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, ms) <= 0)
		return -1;
	uint8_t b[1];
	ssize_t r = recv(fd, b, 1, MSG_DONTWAIT);
	assert_true(r <= 0);
	return (int64_t)(dnsalg_now_ms() - t0);
}

static int ctl_connect(struct harness *h)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t l = strlen(h->o.control_socket);
	assert_true(l < sizeof sun.sun_path);
	memcpy(sun.sun_path, h->o.control_socket, l + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	return fd;
}

/* One reply line (without its '\n'); false on EOF or timeout. */
static bool ctl_line(int fd, char *out, size_t cap)
{
	uint64_t deadline = dnsalg_now_ms() + WAIT_MS;
	for (size_t n = 0; n + 1 < cap; n++) {
		if (recv_full(fd, (uint8_t *)out + n, 1, deadline) < 0)
			return false;
		if (out[n] == '\n') {
			out[n] = 0;
			return true;
		}
	}
	return false;
}

static long long ctl_counter(const char *reply, const char *name)
{
	char v[32];
	assert_int_equal(dnsalg_json_get(reply, name, v, sizeof v), 0);
	return atoll(v);
}

/* ---- UDP ------------------------------------------------------------------ */

/*
 * On a :: listener every answer leaves from the address its query was sent
 * to: a client that asked 127.0.0.2 drops an answer from 127.0.0.1 (the
 * source the kernel would pick towards it).  Both the UDP thread (inside
 * name) and a resolver thread (a miss, answered later) keep to that.
 */
static void test_udp_answer_from_query_address(void **state)
{
	struct harness *h = *state;
	uint8_t q[512], a[4096];
	struct sockaddr_storage want, from;
	char aaaa[80];
	int c4 = udp_client("127.0.0.1");
	size_t n = mkquery(q, sizeof q, 0x101, "h1.site1.example.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false);
	udp_send(c4, "127.0.0.2", h->udp_port, q, n);
	n = mkquery(q, sizeof q, 0x102, "peer.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false);
	udp_send(c4, "127.0.0.2", h->udp_port, q, n);
	sockaddr_of("127.0.0.2", h->udp_port, &want);
	bool seen[2] = { false, false };
	for (int k = 0; k < 2; k++) {
		int r = udp_recv(c4, a, sizeof a, WAIT_MS, &from);
		assert_true(r > 0);
		assert_true(same_sockaddr(&from, &want));
		uint16_t id = wire_id(a);
		assert_true(id == 0x101 || id == 0x102);
		answer_aaaa(a, r, id, aaaa, sizeof aaaa);
		assert_string_equal(aaaa, id == 0x101 ? "fd00:1:1:1::11" : PEER_ULID);
		seen[id - 0x101] = true;
	}
	assert_true(seen[0] && seen[1]);
	close(c4);

	int c6 = udp_client("::1");
	n = mkquery(q, sizeof q, 0x103, "peer.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false);
	udp_send(c6, "::1", h->udp_port, q, n);
	int r = udp_recv(c6, a, sizeof a, WAIT_MS, &from);
	sockaddr_of("::1", h->udp_port, &want);
	assert_true(r > 0);
	assert_true(same_sockaddr(&from, &want));
	answer_aaaa(a, r, 0x103, aaaa, sizeof aaaa);
	assert_string_equal(aaaa, PEER_ULID);
	close(c6);
}

/*
 * What is not a query is dropped and counted (empty, shorter than a header,
 * an answer: no reflection); a malformed or oversized one gets FORMERR with
 * its ID; none of them stops the thread from serving the next query.
 */
static void test_udp_malformed_dropped_counted_and_serving_goes_on(void **state)
{
	struct harness *h = *state;
	uint8_t q[1400], a[4096];
	struct sockaddr_storage from;
	int c = udp_client("::1");
	udp_send(c, "::1", h->udp_port, q, 0);
	memset(q, 0xD0, 5);
	udp_send(c, "::1", h->udp_port, q, 5);
	size_t n = mkquery(q, sizeof q, 0xD003, "h1.site1.example.", LDNS_RR_TYPE_AAAA, 0, -1, false);
	q[2] |= 0x80; /* QR */
	udp_send(c, "::1", h->udp_port, q, n);
	n = mkquery(q, sizeof q, 0x1111, "h1.site1.example.", LDNS_RR_TYPE_AAAA, 0, -1, false);
	q[5] = 2; /* QDCOUNT 2 */
	udp_send(c, "::1", h->udp_port, q, n);
	n = mkquery(q, sizeof q, 0x2222, "h1.site1.example.", LDNS_RR_TYPE_AAAA, 0, -1, false);
	memset(q + n, 0, sizeof q - n); /* 1400 octets: more than any query may be */
	udp_send(c, "::1", h->udp_port, q, sizeof q);
	n = mkquery(q, sizeof q, 0x3333, "h1.site1.example.", LDNS_RR_TYPE_AAAA, 0, -1, false);
	udp_send(c, "::1", h->udp_port, q, n);

	unsigned formerr = 0, ok = 0;
	for (int k = 0; k < 3; k++) {
		int r = udp_recv(c, a, sizeof a, WAIT_MS, &from);
		assert_true(r >= 12);
		uint16_t id = wire_id(a);
		if (id == 0x3333) {
			char aaaa[80];
			answer_aaaa(a, r, id, aaaa, sizeof aaaa);
			assert_string_equal(aaaa, "fd00:1:1:1::11");
			ok++;
		} else {
			assert_true(id == 0x1111 || id == 0x2222);
			assert_int_equal(a[3] & 0xF, LDNS_RCODE_FORMERR);
			formerr++;
		}
	}
	assert_int_equal(formerr, 2);
	assert_int_equal(ok, 1);
	assert_int_equal(udp_recv(c, a, sizeof a, 300, &from), -1); /* nothing for the three dropped */
	assert_int_equal(atomic_load(&h->d.cnt.dropped), 3);
	assert_int_equal(atomic_load(&h->d.cnt.formerr), 2);
	assert_int_equal(atomic_load(&h->d.cnt.queries_udp), 6);
	close(c);
}

/*
 * The miss queue holds max_inflight jobs (here 2, one resolver thread): with
 * the resolver busy and both slots taken, the next miss gets no answer at
 * all and is counted in inflight_full; those queued are answered once the
 * upstream answers, and the dropped query's retry is served.
 */
static void test_udp_full_miss_queue_drops_and_counts(void **state)
{
	struct harness *h = *state;
	uint8_t q[512], a[4096];
	struct sockaddr_storage from;
	char name[32];
	int c = udp_client("::1");
	open_gate(h, false);
	for (uint16_t id = 1; id <= 4; id++) {
		snprintf(name, sizeof name, "miss%u.ext.", id);
		size_t n = mkquery(q, sizeof q, id, name, LDNS_RR_TYPE_A, DNSALG_F_RD, -1, false);
		udp_send(c, "::1", h->udp_port, q, n);
		if (id == 1) /* the resolver holds the first: the ring is empty */
			assert_true(wait_at_gate(h, 1));
		else
			assert_true(wait_count(&h->d.cnt.cache_misses, id));
	}
	assert_true(wait_count(&h->d.cnt.inflight_full, 1));
	assert_int_equal(atomic_load(&h->d.cnt.inflight_full), 1);

	open_gate(h, true);
	bool seen[5] = { false };
	for (int k = 0; k < 3; k++) {
		int r = udp_recv(c, a, sizeof a, WAIT_MS, &from);
		assert_true(r >= 12);
		uint16_t id = wire_id(a);
		assert_true(id >= 1 && id <= 3);
		assert_false(seen[id]);
		seen[id] = true;
	}
	assert_int_equal(udp_recv(c, a, sizeof a, 300, &from), -1); /* none for the 4th */

	size_t n = mkquery(q, sizeof q, 4, "miss4.ext.", LDNS_RR_TYPE_A, DNSALG_F_RD, -1, false);
	udp_send(c, "::1", h->udp_port, q, n);
	int r = udp_recv(c, a, sizeof a, WAIT_MS, &from);
	assert_true(r >= 12);
	assert_int_equal(wire_id(a), 4);
	assert_int_equal(atomic_load(&h->d.cnt.inflight_full), 1);
	close(c);
}

/* ---- TCP ------------------------------------------------------------------ */

/*
 * Several queries in one write, then the client's half-close: each answer
 * comes back, in order, each behind its own two-octet length, then the
 * server closes.  A miss goes upstream over TCP.
 */
static void test_tcp_framing_several_queries_one_connection(void **state)
{
	struct harness *h = *state;
	uint8_t q[3 * 512], a[65536];
	size_t n = framed(q, sizeof q, 1, "h1.site1.example.", LDNS_RR_TYPE_AAAA);
	n += framed(q + n, sizeof q - n, 2, "peer.ext.", LDNS_RR_TYPE_AAAA);
	n += framed(q + n, sizeof q - n, 3, "big.ext.", LDNS_RR_TYPE_AAAA);
	int fd = tcp_connect(h);
	send_all(fd, q, n);
	shutdown(fd, SHUT_WR);
	static const char *const want[] = { "fd00:1:1:1::11", PEER_ULID, "2001:db8:b::1" };
	for (uint16_t id = 1; id <= 3; id++) {
		int r = tcp_recv_msg(fd, a, sizeof a);
		assert_true(r > 0);
		char aaaa[80];
		answer_aaaa(a, r, id, aaaa, sizeof aaaa);
		assert_string_equal(aaaa, want[id - 1]);
		ldns_pkt *p = parse(a, r);
		assert_non_null(p);
		assert_false(ldns_pkt_tc(p));
		if (id == 3)
			assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, NULL, 0), BIG_N);
		ldns_pkt_free(p);
	}
	assert_int_equal(tcp_recv_msg(fd, a, sizeof a), -1); /* EOF after the last answer */
	pthread_mutex_lock(&h->flock);
	assert_true(h->f.tcp_queries > 0);
	pthread_mutex_unlock(&h->flock);
	assert_int_equal(atomic_load(&h->d.cnt.queries_tcp), 3);
	close(fd);
}

/*
 * The answer UDP must truncate for a client without EDNS comes whole over
 * TCP, even when the query arrives in pieces (the length split in two).
 */
static void test_tcp_whole_answer_where_udp_truncates(void **state)
{
	struct harness *h = *state;
	uint8_t q[512], a[65536];
	struct sockaddr_storage from;
	int c = udp_client("::1");
	size_t n = mkquery(q, sizeof q, 7, "big.ext.", LDNS_RR_TYPE_AAAA, DNSALG_F_RD, -1, false);
	udp_send(c, "::1", h->udp_port, q, n);
	int r = udp_recv(c, a, sizeof a, WAIT_MS, &from);
	assert_true(r >= 12 && r <= 512);
	ldns_pkt *p = parse(a, r);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_id(p), 7);
	assert_true(ldns_pkt_tc(p));
	ldns_pkt_free(p);
	close(c);

	int fd = tcp_connect(h);
	n = framed(q, sizeof q, 8, "big.ext.", LDNS_RR_TYPE_AAAA);
	send_all(fd, q, 1);
	poll(NULL, 0, 30);
	send_all(fd, q + 1, 5);
	poll(NULL, 0, 30);
	send_all(fd, q + 6, n - 6);
	r = tcp_recv_msg(fd, a, sizeof a);
	assert_true(r > 512);
	p = parse(a, r);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_id(p), 8);
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(count_type(p, LDNS_RR_TYPE_AAAA, NULL, 0), BIG_N);
	ldns_pkt_free(p);
	close(fd);
}

/*
 * tcp_idle_ms (1000 here) bounds how long a client holds a TCP thread: a
 * silent one, one that sent half a length, and one trickling a byte every
 * 200 ms (its query would take 7 s) are all cut off about a second after
 * they connected.  The two that had begun a query count as timeouts; the
 * silent one is an ordinary end.
 */
static void test_tcp_idle_and_trickling_clients_cut_off(void **state)
{
	struct harness *h = *state;
	uint8_t q[512];
	size_t n = framed(q, sizeof q, 9, "h1.site1.example.", LDNS_RR_TYPE_AAAA);
	assert_true(n * 200 > 3 * h->o.tcp_idle_ms);
	int fd[3] = { tcp_connect(h), tcp_connect(h), tcp_connect(h) };
	int64_t closed[3] = { -1, -1, -1 };
	uint64_t t0 = dnsalg_now_ms();
	send_all(fd[1], q, 1);
	size_t sent = 0;
	while (dnsalg_now_ms() - t0 < 4000 && (closed[0] < 0 || closed[1] < 0 || closed[2] < 0)) {
		if (closed[2] < 0 && sent < n && send(fd[2], q + sent, 1, MSG_NOSIGNAL) == 1)
			sent++;
		struct pollfd p[3];
		for (int i = 0; i < 3; i++)
			p[i] = (struct pollfd){ .fd = closed[i] < 0 ? fd[i] : -1, .events = POLLIN };
		poll(p, 3, 200);
		for (int i = 0; i < 3; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			uint8_t b[1];
			assert_true(recv(fd[i], b, 1, MSG_DONTWAIT) <= 0); /* never an answer */
			closed[i] = (int64_t)(dnsalg_now_ms() - t0);
		}
	}
	for (int i = 0; i < 3; i++) {
		print_message("connection %d closed after %lld ms\n", i, (long long)closed[i]);
		assert_true(closed[i] >= 800);
		assert_true(closed[i] <= 2500);
		close(fd[i]);
	}
	assert_true(sent < n);
	assert_int_equal(atomic_load(&h->d.cnt.tcp_timeouts), 2);
}

static uint32_t tcp_open(struct harness *h)
{
	pthread_mutex_lock(&h->d.tlock);
	uint32_t n = h->d.tcpq.open;
	pthread_mutex_unlock(&h->d.tlock);
	return n;
}

static void tcp_ask_h1(int fd, uint16_t id)
{
	uint8_t q[512], a[4096];
	char aaaa[80];
	send_all(fd, q, framed(q, sizeof q, id, "h1.site1.example.", LDNS_RR_TYPE_AAAA));
	int r = tcp_recv_msg(fd, a, sizeof a);
	assert_true(r > 0);
	answer_aaaa(a, r, id, aaaa, sizeof aaaa);
	assert_string_equal(aaaa, "fd00:1:1:1::11");
}

/*
 * With tcp_clients (1) connections open, the next one is accepted and
 * closed at once and counted in tcp_rejected, rather than left waiting in
 * the backlog; the open one is not disturbed, and once it is closed its
 * slot takes a new client.
 */
static void test_tcp_connection_beyond_bound_closed_and_counted(void **state)
{
	struct harness *h = *state;
	int a = tcp_connect(h);
	tcp_ask_h1(a, 1);
	int b = tcp_connect(h);
	int64_t t = wait_closed(b, 1500);
	assert_true(t >= 0);
	assert_int_equal(atomic_load(&h->d.cnt.tcp_rejected), 1);
	tcp_ask_h1(a, 2);
	close(a);
	for (uint64_t t0 = dnsalg_now_ms(); tcp_open(h) && dnsalg_now_ms() - t0 < WAIT_MS;)
		poll(NULL, 0, 5);
	assert_int_equal(tcp_open(h), 0);
	int c = tcp_connect(h);
	tcp_ask_h1(c, 3);
	assert_int_equal(atomic_load(&h->d.cnt.tcp_rejected), 1);
	close(b);
	close(c);
}

/* ---- control socket ------------------------------------------------------- */

/*
 * Commands answer one line each, in order, from the running daemon's state
 * (its live counters, a reverse lookup through the upstream); a line that
 * is not a command, or an unknown command, gets an error and the connection
 * goes on serving.
 */
static void test_ctl_commands_answer_and_errors_keep_serving(void **state)
{
	struct harness *h = *state;
	uint8_t q[512], a[4096];
	struct sockaddr_storage from;
	int c = udp_client("::1");
	for (uint16_t id = 1; id <= 2; id++) {
		udp_send(c, "::1", h->udp_port, q,
			 mkquery(q, sizeof q, id, "h1.site1.example.", LDNS_RR_TYPE_AAAA, 0, -1, false));
		assert_true(udp_recv(c, a, sizeof a, WAIT_MS, &from) > 0);
	}
	close(c);

	char line[8192];
	int fd = ctl_connect(h);
	const char *cmds = "{\"cmd\":\"counters\"}\n"
			   "not json\n"
			   "{\"cmd\":\"nope\"}\n"
			   "{\"cmd\":\"resolve-ulid\",\"ulid\":\"" PEER_ULID "\"}\n"
			   "{\"cmd\":\"counters\"}\n";
	send_all(fd, (const uint8_t *)cmds, strlen(cmds));
	assert_true(ctl_line(fd, line, sizeof line));
	assert_non_null(strstr(line, "{\"ok\":true,"));
	assert_int_equal(ctl_counter(line, "queries_udp"), 2);
	assert_int_equal(ctl_counter(line, "inside_answers"), 2);
	assert_true(ctl_line(fd, line, sizeof line));
	assert_non_null(strstr(line, "\"ok\":false"));
	assert_true(ctl_line(fd, line, sizeof line));
	assert_non_null(strstr(line, "\"ok\":false"));
	assert_non_null(strstr(line, "unknown cmd"));
	assert_true(ctl_line(fd, line, sizeof line));
	assert_non_null(strstr(line, "\"ok\":true"));
	assert_non_null(strstr(line, "\"2001:db8:30::22\""));
	assert_non_null(strstr(line, "\"peer.ext.\""));
	assert_true(ctl_line(fd, line, sizeof line));
	assert_int_equal(ctl_counter(line, "reverse_lookups"), 1);
	close(fd);
}

/*
 * Lines are up to 4 KiB (4095 octets with the newline): one that fills it
 * is answered; one that does not end within it gets "line too long" and
 * the connection is closed; the next connection is served.
 */
static void test_ctl_oversized_line_error_then_serving_goes_on(void **state)
{
	struct harness *h = *state;
	static char buf[8192];
	char line[8192];
	int fd = ctl_connect(h);
	const char *cmd = "{\"cmd\":\"counters\"";
	size_t l = strlen(cmd);
	memcpy(buf, cmd, l);
	memset(buf + l, ' ', 4093 - l);
	buf[4093] = '}';
	buf[4094] = '\n';
	/* the pause lets the server hold the whole line before its end */
	send_all(fd, (const uint8_t *)buf, 4094);
	poll(NULL, 0, 50);
	send_all(fd, (const uint8_t *)buf + 4094, 1);
	assert_true(ctl_line(fd, line, sizeof line));
	assert_non_null(strstr(line, "{\"ok\":true,"));

	memset(buf, 'x', 4096);
	send_all(fd, (const uint8_t *)buf, 4096);
	assert_true(ctl_line(fd, line, sizeof line));
	assert_non_null(strstr(line, "\"ok\":false"));
	assert_non_null(strstr(line, "line too long"));
	assert_true(wait_closed(fd, WAIT_MS) >= 0);
	close(fd);

	fd = ctl_connect(h);
	send_all(fd, (const uint8_t *)"{\"cmd\":\"counters\"}\n", 19);
	assert_true(ctl_line(fd, line, sizeof line));
	assert_non_null(strstr(line, "{\"ok\":true,"));
	close(fd);
}

/*
 * The control thread is the only one: a client trickling a line, or one
 * that stops reading its answers, is cut off 2 s into the line or the
 * answer (ctl_timeouts), not after each byte, and the next client is
 * served.
 */
static void test_ctl_trickling_client_cut_off_whole_line(void **state)
{
	struct harness *h = *state;
	char line[8192];
	int fd = ctl_connect(h);
	const char *cmd = "{\"cmd\":\"counters\"}";
	uint64_t t0 = dnsalg_now_ms();
	int64_t closed = -1;
	/* a byte every 300 ms: each read well within 2 s, the line never done */
	for (size_t i = 0; i < strlen(cmd); i++) {
		if (send(fd, cmd + i, 1, MSG_NOSIGNAL) != 1 || (closed = wait_closed(fd, 300)) >= 0)
			break;
	}
	if (closed < 0)
		closed = wait_closed(fd, WAIT_MS);
	uint64_t took = dnsalg_now_ms() - t0;
	print_message("trickling client closed after %llu ms\n", (unsigned long long)took);
	assert_true(took >= 1800 && took < 3000);
	close(fd);
	assert_true(wait_count(&h->d.cnt.ctl_timeouts, 1));

	/* the 2 s run from the answer before: a session may last longer */
	fd = ctl_connect(h);
	for (int i = 0; i < 3; i++) {
		if (i)
			poll(NULL, 0, 1200);
		send_all(fd, (const uint8_t *)"{\"cmd\":\"counters\"}\n", 19);
		assert_true(ctl_line(fd, line, sizeof line));
		assert_int_equal(ctl_counter(line, "ctl_timeouts"), 1);
	}
	close(fd);
}

static void test_ctl_client_not_reading_cut_off(void **state)
{
	struct harness *h = *state;
	char line[8192];
	int fd = ctl_connect(h);
	int small = 4096;
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
	/* 99 requests whose answers (each over 1 KiB) far exceed what the
	 * socket holds, and none read */
	static char many[99 * 19];
	for (int i = 0; i < 99; i++)
		memcpy(many + i * 19, "{\"cmd\":\"counters\"}\n", 19);
	send_all(fd, (const uint8_t *)many, sizeof many);
	bool cut = wait_count(&h->d.cnt.ctl_timeouts, 1);
	close(fd);    /* before the verdict: a thread stuck in send() is let go */
	assert_true(cut);

	fd = ctl_connect(h);
	send_all(fd, (const uint8_t *)"{\"cmd\":\"counters\"}\n", 19);
	assert_true(ctl_line(fd, line, sizeof line));
	assert_non_null(strstr(line, "{\"ok\":true,"));
	close(fd);
}

/*
 * Out of descriptors, a listener stays readable and accept() keeps failing:
 * both accepting threads count it and wait 100 ms instead of spinning, and
 * serve the clients that waited once descriptors are back.
 */
static void test_accept_out_of_descriptors_waits_and_recovers(void **state)
{
	struct harness *h = *state;
	char line[8192];
	struct sockaddr_storage ss;
	socklen_t l = sockaddr_of("::1", h->tcp_port, &ss);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	memcpy(sun.sun_path, h->o.control_socket, strlen(h->o.control_socket) + 1);
	int tcp = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ctl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(tcp >= 0 && ctl >= 0);
	struct rlimit old;
	assert_int_equal(fd_limit_at_lowest_free(&old), 0);
	int c1 = connect(tcp, (struct sockaddr *)&ss, l), c2 = connect(ctl, (struct sockaddr *)&sun, sizeof sun);
	poll(NULL, 0, 1000);
	uint64_t failed = atomic_load(&h->d.cnt.accept_failed);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(c1, 0);
	assert_int_equal(c2, 0);
	print_message("accept failed %llu times in 1 s\n", (unsigned long long)failed);
	assert_true(failed >= 2 && failed <= 40);   /* ~10 a second each; a spin makes thousands */

	tcp_ask_h1(tcp, 7);
	send_all(ctl, (const uint8_t *)"{\"cmd\":\"counters\"}\n", 19);
	assert_true(ctl_line(ctl, line, sizeof line));
	assert_true(ctl_counter(line, "accept_failed") >= (long long)failed);
	close(tcp);
	close(ctl);
}

/* ---- stop ----------------------------------------------------------------- */

/*
 * Setting stop makes every thread return within about a second, even with
 * TCP clients holding threads (one idle after an answer, one half-way
 * through a query) at the default 10 s idle time; their connections are
 * closed, and once the listening sockets are closed the process has the
 * descriptors it had before the ALG started.
 */
static void test_stop_returns_promptly_and_closes_everything(void **state)
{
	struct harness *h = *state;
	uint8_t q[512], a[4096];
	struct sockaddr_storage from;
	int c = udp_client("::1");
	udp_send(c, "::1", h->udp_port, q,
		 mkquery(q, sizeof q, 1, "peer.ext.", LDNS_RR_TYPE_AAAA, 0, -1, false));
	assert_true(udp_recv(c, a, sizeof a, WAIT_MS, &from) > 0);
	int idle = tcp_connect(h);
	tcp_ask_h1(idle, 2);
	int half = tcp_connect(h);
	send_all(half, q, 1);
	int rejected = tcp_connect(h); /* tcp_clients is 2 */
	assert_true(wait_closed(rejected, WAIT_MS) >= 0);
	close(rejected);

	uint64_t took = halt(h);
	print_message("threads returned %llu ms after stop\n", (unsigned long long)took);
	assert_true(took < 2000);
	assert_true(wait_closed(idle, 0) >= 0);
	assert_true(wait_closed(half, 0) >= 0);
	close(idle);
	close(half);
	close(c);
	release(h);
	assert_int_equal(fd_count(), h->fds_before);
}

#define T(f, c) cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, (void *)&(c))

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	fill_big_rrs();
	/* listen, UDP threads, resolvers, max_inflight, tcp_clients, tcp_idle_ms */
	static const struct cfg any = { "::", 2, 2, 16, 2, 10000 };
	static const struct cfg lo = { "::1", 2, 2, 16, 2, 10000 };
	static const struct cfg ring2 = { "::1", 1, 1, 2, 1, 10000 };
	static const struct cfg idle1s = { "::1", 1, 1, 16, 3, 1000 };
	static const struct cfg one_tcp = { "::1", 1, 1, 16, 1, 3000 };
	const struct CMUnitTest t[] = {
		T(test_udp_answer_from_query_address, any),
		T(test_udp_malformed_dropped_counted_and_serving_goes_on, lo),
		T(test_udp_full_miss_queue_drops_and_counts, ring2),
		T(test_tcp_framing_several_queries_one_connection, lo),
		T(test_tcp_whole_answer_where_udp_truncates, lo),
		T(test_tcp_idle_and_trickling_clients_cut_off, idle1s),
		T(test_tcp_connection_beyond_bound_closed_and_counted, one_tcp),
		T(test_ctl_commands_answer_and_errors_keep_serving, lo),
		T(test_ctl_oversized_line_error_then_serving_goes_on, lo),
		T(test_ctl_trickling_client_cut_off_whole_line, lo),
		T(test_ctl_client_not_reading_cut_off, lo),
		T(test_accept_out_of_descriptors_waits_and_recovers, lo),
		T(test_stop_returns_promptly_and_closes_everything, lo),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
