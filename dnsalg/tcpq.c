/*
 * The bound on TCP connections.  Each TCP thread serves one connection at a
 * time, so at most tcp_clients can be served; an accepted connection beyond
 * that is closed at once and counted (tcp_rejected), as BIND does past
 * tcp-clients.  Leaving it in the listen backlog instead would let a few
 * idle connections hold every later client for tcp_idle_ms each, with
 * nothing to show for it.  No locking here: the caller holds its lock.
 */
#include <stdlib.h>

#include "dnsalg.h"

int dnsalg_tcpq_init(struct dnsalg_tcpq *t, uint32_t max)
{
	t->max = max ? max : 1;
	t->open = t->head = t->count = 0;
	t->fds = calloc(t->max, sizeof *t->fds);
	return t->fds ? 0 : DNSALG_ENOMEM;
}

void dnsalg_tcpq_free(struct dnsalg_tcpq *t)
{
	free(t->fds);
	t->fds = NULL;
}

int dnsalg_tcpq_offer(struct dnsalg_tcpq *t, int fd, struct dnsalg_counters *cnt)
{
	if (t->open >= t->max) {
		DNSALG_INC(cnt, tcp_rejected);
		return DNSALG_EFULL;
	}
	/* count <= open < max: the ring has room */
	t->fds[(t->head + t->count) % t->max] = fd;
	t->count++;
	t->open++;
	return 0;
}

int dnsalg_tcpq_take(struct dnsalg_tcpq *t)
{
	if (t->count == 0)
		return -1;
	int fd = t->fds[t->head];
	t->head = (t->head + 1) % t->max;
	t->count--;
	return fd;
}

void dnsalg_tcpq_done(struct dnsalg_tcpq *t)
{
	if (t->open > 0)
		t->open--;
}
