/*
 * UDP: a few threads answer from the fast path (errors, inside names, cache
 * hits) and put misses into a ring of max_inflight jobs.  Resolver threads,
 * each with its own ldns resolver, take jobs and answer them.  A full ring
 * drops the query (counted): the client retries, memory stays fixed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

static int bind_one(int type, const struct in6_addr *a, uint16_t port)
{
	int fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (IN6_IS_ADDR_UNSPECIFIED(a))
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	if (type == SOCK_STREAM) /* accept() after poll() must not block */
		fcntl(fd, F_SETFL, O_NONBLOCK);
	else /* answer from the address the query came to, even on :: */
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = *a };
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int dnsalg_udp_bind(struct dnsalg_daemon *d)
{
	for (unsigned i = 0; i < d->o->n_listen; i++) {
		d->udp_fd[i] = bind_one(SOCK_DGRAM, &d->o->listen[i], d->o->port);
		if (d->udp_fd[i] < 0)
			return -1;
		d->n_fd = i + 1;
	}
	return 0;
}

int dnsalg_tcp_bind(struct dnsalg_daemon *d)
{
	for (unsigned i = 0; i < d->o->n_listen; i++) {
		d->tcp_fd[i] = bind_one(SOCK_STREAM, &d->o->listen[i], d->o->port);
		if (d->tcp_fd[i] < 0)
			return -1;
	}
	return 0;
}

void dnsalg_udp_send(int fd, const uint8_t *b, size_t n, const struct sockaddr_storage *peer,
		     socklen_t plen, const struct in6_pktinfo *local)
{
	struct iovec iov = { (void *)(uintptr_t)b, n };
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cm;
	struct msghdr mh = { .msg_name = (void *)(uintptr_t)peer, .msg_namelen = plen,
			     .msg_iov = &iov, .msg_iovlen = 1 };
	if (local) {
		memset(&cm, 0, sizeof cm);
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof cm.buf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof *local);
		memcpy(CMSG_DATA(c), local, sizeof *local);
	}
	sendmsg(fd, &mh, MSG_DONTWAIT);
}

static void client_of(const struct sockaddr_storage *peer, struct dnsalg_client *cl)
{
	memset(cl, 0, sizeof *cl);
	if (peer->ss_family == AF_INET6)
		cl->addr = ((const struct sockaddr_in6 *)peer)->sin6_addr;
	cl->wall_s = (uint32_t)time(NULL);
}

static int enqueue(struct dnsalg_daemon *d, int fd, const struct sockaddr_storage *peer,
		   socklen_t plen, const struct in6_pktinfo *local,
		   const uint8_t *buf, size_t len, const struct dnsalg_query *q)
{
	pthread_mutex_lock(&d->jlock);
	if (d->jcount == d->o->max_inflight) {
		pthread_mutex_unlock(&d->jlock);
		return DNSALG_EFULL;
	}
	struct dnsalg_job *j = &d->jobs[(d->jhead + d->jcount) % d->o->max_inflight];
	j->fd = fd;
	j->peer = *peer;
	j->peer_len = plen;
	j->has_local = local != NULL;
	if (local)
		j->local = *local;
	j->len = (uint16_t)len;
	memcpy(j->buf, buf, len);
	j->q = *q;
	d->jcount++;
	pthread_cond_signal(&d->jcond);
	pthread_mutex_unlock(&d->jlock);
	return 0;
}

void *dnsalg_udp_main(void *arg)
{
	struct dnsalg_daemon *d = arg;
	struct pollfd pfd[DNSALG_MAX_LISTEN];
	uint8_t in[DNSALG_QUERY_MAX + 1], out[DNSALG_UDP_OUT_MAX];
	for (unsigned i = 0; i < d->n_fd; i++)
		pfd[i] = (struct pollfd){ .fd = d->udp_fd[i], .events = POLLIN };
	while (!atomic_load(&d->stop)) {
		if (poll(pfd, d->n_fd, DNSALG_STOP_CHECK_MS) <= 0)
			continue;
		for (unsigned i = 0; i < d->n_fd; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			for (int burst = 0; burst < 64; burst++) {
				struct sockaddr_storage peer;
				union {
					char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
					struct cmsghdr align;
				} cm;
				struct iovec iov = { in, sizeof in };
				struct msghdr mh = { .msg_name = &peer, .msg_namelen = sizeof peer,
						     .msg_iov = &iov, .msg_iovlen = 1,
						     .msg_control = cm.buf, .msg_controllen = sizeof cm.buf };
				ssize_t n = recvmsg(pfd[i].fd, &mh, MSG_DONTWAIT);
				if (n < 0)
					break;
				socklen_t plen = mh.msg_namelen;
				struct in6_pktinfo local, *lp = NULL;
				for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
					if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
						memcpy(&local, CMSG_DATA(c), sizeof local);
						local.ipi6_ifindex = 0;
						lp = &local;
					}
				/* MSG_TRUNC in flags: longer than any legitimate query */
				size_t len = (mh.msg_flags & MSG_TRUNC) ? sizeof in : (size_t)n;
				struct dnsalg_query q;
				int r = dnsalg_fast(&d->ctx, in, len, false, dnsalg_now_ms(), &q,
						    out, sizeof out);
				if (r == DNSALG_EMISS) {
					if (enqueue(d, pfd[i].fd, &peer, plen, lp, in, len, &q) < 0)
						DNSALG_INC(&d->cnt, inflight_full);
					continue;
				}
				struct dnsalg_client cl;
				client_of(&peer, &cl);
				r = dnsalg_edns_finish(&d->ctx, &q, in, &cl, false, out, r, sizeof out);
				if (r > 0)
					dnsalg_udp_send(pfd[i].fd, out, (size_t)r, &peer, plen, lp);
			}
		}
	}
	return NULL;
}

void *dnsalg_resolver_main(void *arg)
{
	struct dnsalg_daemon *d = arg;
	struct dnsalg_upstream *u = dnsalg_thread_upstream(d);
	if (!u) {
		fprintf(stderr, "pshim6-dnsalg: cannot create a resolver\n");
		return NULL;
	}
	struct dnsalg_upstream_ops ops = dnsalg_upstream_ops(u);
	static _Thread_local struct dnsalg_job j;
	static _Thread_local uint8_t out[DNSALG_UDP_OUT_MAX];
	for (;;) {
		pthread_mutex_lock(&d->jlock);
		while (d->jcount == 0 && !atomic_load(&d->stop))
			pthread_cond_wait(&d->jcond, &d->jlock);
		if (atomic_load(&d->stop)) {
			pthread_mutex_unlock(&d->jlock);
			break;
		}
		j = d->jobs[d->jhead];
		d->jhead = (d->jhead + 1) % d->o->max_inflight;
		d->jcount--;
		pthread_mutex_unlock(&d->jlock);
		int r = dnsalg_slow(&d->ctx, &ops, &j.q, j.buf, false, dnsalg_now_ms(), out, sizeof out);
		struct dnsalg_client cl;
		client_of(&j.peer, &cl);
		r = dnsalg_edns_finish(&d->ctx, &j.q, j.buf, &cl, false, out, r, sizeof out);
		if (r > 0)
			dnsalg_udp_send(j.fd, out, (size_t)r, &j.peer, j.peer_len,
					j.has_local ? &j.local : NULL);
	}
	dnsalg_upstream_free(u);
	return NULL;
}
