/* The daemon's I/O side: sockets, threads, the bounded miss queue. */
#ifndef PSHIM6_DNSALG_SERVER_H
#define PSHIM6_DNSALG_SERVER_H

#include <errno.h>
#include <poll.h>

#include "dnsalg.h"

/* accept() failed.  Short of descriptors or memory the listener stays
 * readable, so going straight back to poll() would spin a core until one
 * frees up: count it and wait a little. */
static inline void dnsalg_accept_failed(int err, struct dnsalg_counters *cnt)
{
	if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED)
		return;   /* the client went, or another thread took it */
	DNSALG_INC(cnt, accept_failed);
	poll(NULL, 0, 100);
}

struct dnsalg_job {
	int fd;
	socklen_t peer_len;
	struct sockaddr_storage peer;
	struct in6_pktinfo local;    /* address the query came to: the answer's source */
	bool has_local;
	uint16_t len;
	struct dnsalg_query q;
	uint8_t buf[DNSALG_QUERY_MAX];
};

struct dnsalg_daemon {
	struct dnsalg_opts *o;
	struct dnsalg_counters cnt;
	struct dnsalg_ctx ctx;
	struct dnsalg_pusher *pusher;
	struct dnsalg_upstream_keep *keep;   /* upstream TCP connections, shared by the threads */
	struct dnsalg_health *health;        /* upstream health, shared by the threads */
	unsigned n_fd;
	int udp_fd[DNSALG_MAX_LISTEN], tcp_fd[DNSALG_MAX_LISTEN];
	int ctl_fd;
	_Atomic bool stop;
	/* misses waiting for a resolver thread: a ring of max_inflight jobs */
	struct dnsalg_job *jobs;
	uint32_t jhead, jcount;
	pthread_mutex_t jlock;
	pthread_cond_t jcond;
	/* accepted TCP connections waiting for a TCP thread, bounded */
	struct dnsalg_tcpq tcpq;
	pthread_mutex_t tlock;
	pthread_cond_t tcond;
	unsigned n_threads;
	pthread_t *threads;
};

/* A thread's own resolver, sharing the daemon's TCP connections, upstream
 * health and upstream list; NULL when it cannot be made. */
static inline struct dnsalg_upstream *dnsalg_thread_upstream(struct dnsalg_daemon *d)
{
	struct dnsalg_upstream *u = dnsalg_upstream_new(d->o, &d->cnt);
	if (!u)
		return NULL;
	if (d->keep)
		dnsalg_upstream_share(u, d->keep);
	if (d->health)
		dnsalg_upstream_share_health(u, d->health);
	if (d->ctx.upstreams)
		dnsalg_upstream_follow(u, d->ctx.upstreams);
	return u;
}

int dnsalg_udp_bind(struct dnsalg_daemon *d);
void dnsalg_udp_send(int fd, const uint8_t *b, size_t n, const struct sockaddr_storage *peer,
		     socklen_t plen, const struct in6_pktinfo *local);
int dnsalg_tcp_bind(struct dnsalg_daemon *d);
int dnsalg_ctl_bind(struct dnsalg_daemon *d);
void *dnsalg_udp_main(void *d);
void *dnsalg_resolver_main(void *d);
void *dnsalg_tcp_main(void *d);
void *dnsalg_tcp_accept_main(void *d);
void *dnsalg_ctl_main(void *d);

#endif
