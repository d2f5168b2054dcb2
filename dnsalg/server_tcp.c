/*
 * TCP (RFC 7766): one acceptor thread and tcp_clients threads, each serving
 * one connection at a time with its own ldns resolver (upstream over TCP as
 * well).  The acceptor hands connections over through a bounded queue
 * (tcpq.c): with tcp_clients connections open, the next one is closed at
 * once and counted in tcp_rejected.  A connection is closed when the next
 * query has not arrived whole within tcp_idle_ms, when an answer has not
 * gone out within 5 s (both counted in tcp_timeouts when data was in
 * flight), and after 100 queries.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

#define TCP_QUERIES_PER_CONN 100

#define TCP_WRITE_MS 5000

static void serve(struct dnsalg_daemon *d, struct dnsalg_upstream_ops *ops, int fd,
		  uint8_t *in, uint8_t *out)
{
	struct dnsalg_client cl;
	memset(&cl, 0, sizeof cl);
	struct sockaddr_in6 peer;
	socklen_t plen = sizeof peer;
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0 && peer.sin6_family == AF_INET6)
		cl.addr = peer.sin6_addr;
	for (int k = 0; k < TCP_QUERIES_PER_CONN && !atomic_load(&d->stop); k++) {
		uint8_t lb[2];
		/* the next query, whole, within tcp_idle_ms of the last answer */
		uint64_t deadline = dnsalg_now_ms() + atomic_load_explicit(&d->ctx.tcp_idle_ms, memory_order_relaxed);
		if (dnsalg_xfer_full(fd, lb, 1, POLLIN, deadline, &d->stop) < 0)
			return;   /* idle, closed or stopping: an ordinary end */
		int rc = dnsalg_xfer_full(fd, lb + 1, 1, POLLIN, deadline, &d->stop);
		size_t len = (size_t)lb[0] << 8 | lb[1];
		if (rc == 0)
			rc = dnsalg_xfer_full(fd, in, len, POLLIN, deadline, &d->stop);
		if (rc < 0) {
			/* begun and not finished in time: a client holding the thread */
			if (rc == -2)
				DNSALG_INC(&d->cnt, tcp_timeouts);
			return;
		}
		cl.wall_s = (uint32_t)time(NULL);
		int r = dnsalg_handle(&d->ctx, ops, &cl, in, len, true, dnsalg_now_ms(), out + 2,
				      DNSALG_TCP_OUT_MAX);
		if (r <= 0)
			return; /* nothing to say: close, as a server may */
		out[0] = (uint8_t)(r >> 8);
		out[1] = (uint8_t)r;
		int wr = dnsalg_xfer_full(fd, out, (size_t)r + 2, POLLOUT, dnsalg_now_ms() + TCP_WRITE_MS, &d->stop);
		if (wr < 0) {
			if (wr == -2)
				DNSALG_INC(&d->cnt, tcp_timeouts);
			return;
		}
	}
}

void *dnsalg_tcp_main(void *arg)
{
	struct dnsalg_daemon *d = arg;
	struct dnsalg_upstream *u = dnsalg_thread_upstream(d);
	uint8_t *in = malloc(65536), *out = malloc(DNSALG_TCP_OUT_MAX + 2);
	if (!u || !in || !out) {
		fprintf(stderr, "pshim6-dnsalg: cannot start a TCP thread\n");
		goto done;
	}
	struct dnsalg_upstream_ops ops = dnsalg_upstream_ops(u);
	for (;;) {
		pthread_mutex_lock(&d->tlock);
		int fd;
		while ((fd = dnsalg_tcpq_take(&d->tcpq)) < 0 && !atomic_load(&d->stop))
			pthread_cond_wait(&d->tcond, &d->tlock);
		pthread_mutex_unlock(&d->tlock);
		if (fd < 0)
			break;
		if (!atomic_load(&d->stop))
			serve(d, &ops, fd, in, out);
		close(fd);
		pthread_mutex_lock(&d->tlock);
		dnsalg_tcpq_done(&d->tcpq);
		pthread_mutex_unlock(&d->tlock);
	}
done:
	free(in);
	free(out);
	dnsalg_upstream_free(u);
	return NULL;
}

void *dnsalg_tcp_accept_main(void *arg)
{
	struct dnsalg_daemon *d = arg;
	struct pollfd pfd[DNSALG_MAX_LISTEN];
	for (unsigned i = 0; i < d->n_fd; i++)
		pfd[i] = (struct pollfd){ .fd = d->tcp_fd[i], .events = POLLIN };
	while (!atomic_load(&d->stop)) {
		if (poll(pfd, d->n_fd, DNSALG_STOP_CHECK_MS) <= 0)
			continue;
		for (unsigned i = 0; i < d->n_fd; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			int fd = accept4(pfd[i].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0) {
				dnsalg_accept_failed(errno, &d->cnt);
				continue;
			}
			pthread_mutex_lock(&d->tlock);
			int r = dnsalg_tcpq_offer(&d->tcpq, fd, &d->cnt);
			if (r == 0)
				pthread_cond_signal(&d->tcond);
			pthread_mutex_unlock(&d->tlock);
			if (r < 0)
				close(fd); /* every TCP thread is busy: refused, counted */
		}
	}
	return NULL;
}
