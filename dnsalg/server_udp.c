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

static int enqueue(struct dnsalg_daemon *d, int fd, const struct sockaddr_storage *peer,
		   socklen_t plen, const uint8_t *buf, size_t len, const struct dnsalg_query *q)
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
		if (poll(pfd, d->n_fd, 500) <= 0)
			continue;
		for (unsigned i = 0; i < d->n_fd; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			for (int burst = 0; burst < 64; burst++) {
				struct sockaddr_storage peer;
				socklen_t plen = sizeof peer;
				ssize_t n = recvfrom(pfd[i].fd, in, sizeof in, MSG_DONTWAIT | MSG_TRUNC,
						     (struct sockaddr *)&peer, &plen);
				if (n < 0)
					break;
				size_t len = (size_t)n > sizeof in ? sizeof in : (size_t)n;
				struct dnsalg_query q;
				int r = dnsalg_fast(&d->ctx, in, len, false, dnsalg_now_ms(), &q,
						    out, sizeof out);
				if (r == DNSALG_EMISS) {
					if (enqueue(d, pfd[i].fd, &peer, plen, in, len, &q) < 0)
						DNSALG_INC(&d->cnt, inflight_full);
					continue;
				}
				if (r > 0)
					sendto(pfd[i].fd, out, (size_t)r, MSG_DONTWAIT,
					       (struct sockaddr *)&peer, plen);
			}
		}
	}
	return NULL;
}

void *dnsalg_resolver_main(void *arg)
{
	struct dnsalg_daemon *d = arg;
	struct dnsalg_upstream *u = dnsalg_upstream_new(d->o);
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
		if (r > 0)
			sendto(j.fd, out, (size_t)r, MSG_DONTWAIT, (struct sockaddr *)&j.peer, j.peer_len);
	}
	dnsalg_upstream_free(u);
	return NULL;
}
