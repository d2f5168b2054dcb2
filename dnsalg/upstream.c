/*
 * Upstream queries over the ALG's own sockets.  ldns only builds the query
 * (ldns_pkt2wire) and parses an answer that passed
 * dnsalg_upstream_wire_check(), so a bogus answer never costs a parse (nor,
 * with ldns 1.8.3's TSIG leak, memory).
 *
 * Upstreams are tried in turn, each on its own port, each for its share of
 * timeout_ms, in the order the health state shared by the threads
 * (upstream_health.c) gives: a DOWN one due for its trial, then the UP
 * ones in the configured order, then those still held DOWN; every try is
 * reported back to it.  So a dead upstream costs the daemon
 * DNSALG_HEALTH_FAILS shares, not one a thread, and every thread learns
 * from one trial that it came back.  Over UDP a try is a connected socket: the kernel drops
 * datagrams from any other address or port, and one that arrives from the
 * upstream but fails the check is counted and the wait goes on, so a
 * spoofer who guesses the port cannot make a query fail with one bad
 * datagram.  There is no fallback to TCP: a truncated answer reaches the
 * client with TC set, and the client's TCP retry goes upstream over TCP.
 * The callers give every query a random ID and match the answer against
 * it, so the ID is sent as it is.
 *
 * Over TCP a connection that gave a good answer goes back to a keep
 * (upstream_keep.c), shared by the daemon's threads, for the next query to
 * the same upstream: a connection a query cost a round trip and a
 * TIME_WAIT each.  A kept connection that has anything to read before the
 * query goes (the server closed it, or sent what we did not ask for) is
 * closed, not used; one that fails before an answer arrives (the server
 * closed it meanwhile) costs a second try on a new connection, within the
 * same deadline.  A connection that failed or gave a bad answer is closed:
 * only one left at a message boundary is kept.
 *
 * One struct dnsalg_upstream per thread: it owns the receive buffer.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "dnsalg.h"

struct dnsalg_upstream {
	unsigned n;
	struct dnsalg_upstream_addr to[DNSALG_MAX_UPSTREAMS];
	uint32_t timeout_ms, share_ms;   /* a query's time; each upstream's part of it */
	struct dnsalg_upstream_list *list;   /* followed when not NULL (a reload may change it) */
	uint32_t list_gen;                   /* the list's generation to[] holds */
	struct dnsalg_counters *cnt;   /* upstream_refused, upstream_tcp_*; NULL: not counted */
	struct dnsalg_upstream_keep *keep;   /* TCP connections kept; shared or own */
	bool own_keep;
	struct dnsalg_health *health;        /* the upstreams' state; shared or own */
	bool own_health;
	uint8_t buf[2 + DNSALG_UPSTREAM_RECV_MAX];
};

/* poll() one descriptor until the deadline: 1 ready, 0 deadline passed,
 * -1 error (revents other than those asked for count as ready: the next
 * call reports the error). */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t now = dnsalg_now_ms();
		if (now >= deadline)
			return 0;
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, (int)(deadline - now));
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* A v4-mapped upstream gets an AF_INET socket: it works whatever
 * net.ipv6.bindv6only says, and on a host without IPv6. */
static void addr_set(struct dnsalg_upstream_addr *a, const struct dnsalg_endpoint *e)
{
	memset(a, 0, sizeof *a);
	if (IN6_IS_ADDR_V4MAPPED(&e->addr)) {
		struct sockaddr_in *s = (struct sockaddr_in *)&a->sa;
		s->sin_family = AF_INET;
		s->sin_port = htons(e->port);
		memcpy(&s->sin_addr, &e->addr.s6_addr[12], 4);
		a->salen = sizeof *s;
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a->sa;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(e->port);
		s->sin6_addr = e->addr;
		a->salen = sizeof *s;
	}
}

static void set_to(struct dnsalg_upstream *u, const struct dnsalg_endpoint *ep, unsigned n)
{
	u->n = n < DNSALG_MAX_UPSTREAMS ? n : DNSALG_MAX_UPSTREAMS;
	for (unsigned i = 0; i < u->n; i++)
		addr_set(&u->to[i], &ep[i]);
	u->share_ms = u->timeout_ms / (u->n ? u->n : 1);
	if (!u->share_ms)
		u->share_ms = 1;
}

/* Take the list's servers and timeout when it moved since the last query;
 * only ever as a query starts, so one under way keeps its shares. */
static void follow_list(struct dnsalg_upstream *u)
{
	if (atomic_load_explicit(&u->list->gen, memory_order_acquire) == u->list_gen)
		return;
	struct dnsalg_endpoint ep[DNSALG_MAX_UPSTREAMS];
	unsigned n = dnsalg_upstream_list_get(u->list, ep, &u->timeout_ms, &u->list_gen);
	set_to(u, ep, n);
}

void dnsalg_upstream_follow(struct dnsalg_upstream *u, struct dnsalg_upstream_list *l)
{
	u->list = l;
	u->list_gen = 0;   /* never a list's: the first query takes it */
}

struct dnsalg_upstream *dnsalg_upstream_new(const struct dnsalg_opts *o, struct dnsalg_counters *cnt)
{
	struct dnsalg_upstream *u = calloc(1, sizeof *u);
	if (!u)
		return NULL;
	u->cnt = cnt;
	u->keep = dnsalg_upstream_keep_new();
	if (!u->keep) {
		free(u);
		return NULL;
	}
	u->own_keep = true;
	u->health = dnsalg_health_new();
	if (!u->health) {
		dnsalg_upstream_keep_free(u->keep);
		free(u);
		return NULL;
	}
	u->own_health = true;
	u->timeout_ms = o->timeout_ms;
	set_to(u, o->upstreams, o->n_upstreams);
	return u;
}

void dnsalg_upstream_free(struct dnsalg_upstream *u)
{
	if (!u)
		return;
	if (u->own_keep)
		dnsalg_upstream_keep_free(u->keep);
	if (u->own_health)
		dnsalg_health_free(u->health);
	free(u);
}

void dnsalg_upstream_share(struct dnsalg_upstream *u, struct dnsalg_upstream_keep *k)
{
	if (u->own_keep)
		dnsalg_upstream_keep_free(u->keep);
	u->keep = k;
	u->own_keep = false;
}

void dnsalg_upstream_share_health(struct dnsalg_upstream *u, struct dnsalg_health *h)
{
	if (u->own_health)
		dnsalg_health_free(u->health);
	u->health = h;
	u->own_health = false;
}

/* Tell the health state how a try went; log a change of state. */
static void report(struct dnsalg_upstream *u, unsigned i, bool answered, bool trial)
{
	struct dnsalg_health_info after;
	uint64_t now = dnsalg_now_ms();
	int change = dnsalg_health_report(u->health, &u->to[i], answered, trial, now, u->cnt, &after);
	char line[160];
	if (change > 0 && dnsalg_health_format(&u->to[i], change, &after, now, line, sizeof line) > 0)
		fprintf(stderr, "pshim6-dnsalg: %s\n", line);
}

/* Counters are optional (cnt NULL: not counted). */
#define UP_INC(u, name) do { if ((u)->cnt) DNSALG_INC((u)->cnt, name); } while (0)

/* A connected, non-blocking socket towards `to`, or -1.  For TCP the
 * connect is waited for until the deadline. */
static int open_to(const struct dnsalg_upstream_addr *to, int type, uint64_t deadline)
{
	int fd = socket(to->sa.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&to->sa, to->salen) == 0)
		return fd;
	if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 1) {
		int err = 0;
		socklen_t el = sizeof err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0)
			return fd;
	}
	close(fd);
	return -1;
}

/* Parse an answer that passed the check; NULL (counted) if ldns will not. */
static ldns_pkt *parse(struct dnsalg_upstream *u, const uint8_t *m, size_t len, uint16_t id)
{
	ldns_pkt *p = NULL;
	if (dnsalg_upstream_wire_check(m, len, id) == 0 &&
	    ldns_wire2pkt(&p, m, len) == LDNS_STATUS_OK)
		return p;
	if (p)
		ldns_pkt_free(p);
	UP_INC(u, upstream_refused);
	return NULL;
}

/* One UDP try: the first datagram that passes, or NULL at the deadline
 * or when the upstream's port is closed (ICMP: no point waiting). */
static ldns_pkt *try_udp(struct dnsalg_upstream *u, const struct dnsalg_upstream_addr *to,
			 const uint8_t *q, size_t qlen, uint16_t id, uint64_t deadline)
{
	int fd = open_to(to, SOCK_DGRAM, deadline);
	if (fd < 0)
		return NULL;
	ldns_pkt *ans = NULL;
	if (send(fd, q, qlen, 0) != (ssize_t)qlen)
		goto out;
	while (!ans && wait_fd(fd, POLLIN, deadline) == 1) {
		ssize_t n = recv(fd, u->buf, DNSALG_UPSTREAM_RECV_MAX, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			break;
		}
		/* more than we said we take: a server that ignores our EDNS
		 * size, or someone else's datagram; never cut and parsed */
		if ((size_t)n > DNSALG_UPSTREAM_BUFSIZE) {
			UP_INC(u, upstream_refused);
			continue;
		}
		ans = parse(u, u->buf, (size_t)n, id);
	}
out:
	close(fd);
	return ans;
}

/* A kept connection to `to` that may carry a query now: with nothing to
 * read (a connection the server closed reads as an end of file). */
static int tcp_take(struct dnsalg_upstream *u, const struct dnsalg_upstream_addr *to)
{
	int fd;
	while ((fd = dnsalg_upstream_keep_take(u->keep, &to->sa, to->salen, dnsalg_now_ms())) >= 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
		if (poll(&p, 1, 0) == 0)
			return fd;
		close(fd);
	}
	return -1;
}

/* One query on a connected stream (RFC 1035 §4.2.2 framing): 1 the answer
 * is in u->buf (*alen octets), 0 the connection failed before any of it
 * arrived (it may have been closed under us), -1 otherwise. */
static int tcp_exchange(struct dnsalg_upstream *u, int fd, const uint8_t *q, size_t qlen, uint64_t deadline,
			size_t *alen)
{
	uint8_t *b = u->buf;
	b[0] = (uint8_t)(qlen >> 8);
	b[1] = (uint8_t)qlen;
	memcpy(b + 2, q, qlen);
	int r = dnsalg_xfer_full(fd, b, 2 + qlen, POLLOUT, deadline, NULL);
	if (r == 0)
		r = dnsalg_xfer_full(fd, b, 2, POLLIN, deadline, NULL);
	if (r < 0)
		return r == -1 ? 0 : -1;
	*alen = (size_t)b[0] << 8 | b[1];
	return dnsalg_xfer_full(fd, b, *alen, POLLIN, deadline, NULL) == 0 ? 1 : -1;
}

/* One TCP try, all within the deadline, on the kept connection or a new
 * one.  The peer is the one we connected to, so a bad answer ends the
 * try. */
static ldns_pkt *try_tcp(struct dnsalg_upstream *u, unsigned i, const uint8_t *q, size_t qlen, uint16_t id,
			 uint64_t deadline)
{
	const struct dnsalg_upstream_addr *to = &u->to[i];
	int fd = tcp_take(u, to);
	bool kept = fd >= 0;
	size_t alen = 0;
	int r = -1;
	if (kept) {
		r = tcp_exchange(u, fd, q, qlen, deadline, &alen);
		if (r == 0) {   /* closed under us: a new connection once */
			close(fd);
			kept = false;
			UP_INC(u, upstream_tcp_reconnects);
		}
	}
	if (!kept) {
		fd = open_to(to, SOCK_STREAM, deadline);
		if (fd < 0)
			return NULL;
		UP_INC(u, upstream_tcp_opened);
		r = tcp_exchange(u, fd, q, qlen, deadline, &alen);
	} else if (r > 0) {
		UP_INC(u, upstream_tcp_reused);
	}
	ldns_pkt *ans = r > 0 ? parse(u, u->buf, alen, id) : NULL;
	if (ans)
		dnsalg_upstream_keep_put(u->keep, fd, &to->sa, to->salen, dnsalg_now_ms());
	else
		close(fd);
	return ans;
}

static int query(void *arg, ldns_pkt *q, bool tcp, ldns_pkt **ans)
{
	struct dnsalg_upstream *u = arg;
	*ans = NULL;
	uint8_t *wire = NULL;
	size_t wlen = 0;
	if (ldns_pkt2wire(&wire, q, &wlen) != LDNS_STATUS_OK || wlen > DNSALG_UPSTREAM_RECV_MAX) {
		free(wire);
		return DNSALG_ETIMEOUT;
	}
	uint16_t id = ldns_pkt_id(q);
	if (u->list)
		follow_list(u);
	unsigned order[DNSALG_MAX_UPSTREAMS];
	int trial = -1;
	if (dnsalg_health_order(u->health, u->to, u->n, dnsalg_now_ms(), order, &trial, u->cnt) < 0)
		for (unsigned k = 0; k < u->n; k++)
			order[k] = k;
	for (unsigned k = 0; k < u->n && !*ans; k++) {
		unsigned i = order[k];
		uint64_t deadline = dnsalg_now_ms() + u->share_ms;
		*ans = tcp ? try_tcp(u, i, wire, wlen, id, deadline)
			   : try_udp(u, &u->to[i], wire, wlen, id, deadline);
		report(u, i, *ans != NULL, (int)i == trial);
	}
	free(wire);
	return *ans ? 0 : DNSALG_ETIMEOUT;
}

struct dnsalg_upstream_ops dnsalg_upstream_ops(struct dnsalg_upstream *u)
{
	struct dnsalg_upstream_ops ops = { query, u };
	return ops;
}
