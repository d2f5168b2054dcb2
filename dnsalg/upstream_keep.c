/*
 * TCP connections to the upstreams kept between queries (RFC 7766 §6.2.1),
 * shared by the threads of a daemon.  The TCP threads are a pool and a
 * client's connection goes to whichever waits: connections kept per thread
 * were almost never found again by the next query (none of 8 in a row in
 * the e2e run, 64 threads).
 *
 * Bounded: DNSALG_UPSTREAM_KEEP_PER connections an upstream address and
 * DNSALG_UPSTREAM_KEEP_MAX in all; a connection put back beyond either
 * bound closes the one idle longest.  A connection is found by the address
 * it was opened to, so one kept across a reload that changed the upstream
 * list never carries a query to a server no longer configured.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsalg.h"

struct kept {
	int fd;
	uint64_t used_ms;
	struct sockaddr_storage sa;
	socklen_t salen;
};

struct dnsalg_upstream_keep {
	pthread_mutex_t lock;
	unsigned n;
	/* whoever closes idle connections knows when the next is due: the last
	 * dnsalg_upstream_keep_idle() found one, or a put has woken it since */
	bool told;
	void (*wake)(void *);
	void *wake_arg;
	struct kept v[DNSALG_UPSTREAM_KEEP_MAX];   /* v[0..n), in the order put back */
};

struct dnsalg_upstream_keep *dnsalg_upstream_keep_new(void)
{
	struct dnsalg_upstream_keep *k = calloc(1, sizeof *k);
	if (k && pthread_mutex_init(&k->lock, NULL) != 0) {
		free(k);
		return NULL;
	}
	return k;
}

void dnsalg_upstream_keep_free(struct dnsalg_upstream_keep *k)
{
	if (!k)
		return;
	for (unsigned i = 0; i < k->n; i++)
		close(k->v[i].fd);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static bool same(const struct kept *e, const struct sockaddr_storage *sa, socklen_t salen)
{
	return e->salen == salen && !memcmp(&e->sa, sa, salen);
}

/* Drop entry i (lock held), keeping the order of the rest. */
static int drop(struct dnsalg_upstream_keep *k, unsigned i)
{
	int fd = k->v[i].fd;
	memmove(&k->v[i], &k->v[i + 1], (k->n - i - 1) * sizeof k->v[0]);
	k->n--;
	return fd;
}

int dnsalg_upstream_keep_take(struct dnsalg_upstream_keep *k, const struct sockaddr_storage *sa, socklen_t salen,
			      uint64_t now)
{
	int fd = -1;
	pthread_mutex_lock(&k->lock);
	/* the one put back last: the least likely to have been closed by the
	 * server; one too old is closed on the way (a server that serves one
	 * connection at a time would wait on it) */
	for (unsigned i = k->n; i-- > 0 && fd < 0;) {
		if (!same(&k->v[i], sa, salen))
			continue;
		/* put back by another thread after this caller read its clock:
		 * used_ms may be past now, and now - used_ms would wrap */
		if (k->v[i].used_ms + DNSALG_UPSTREAM_KEEP_MS > now)
			fd = drop(k, i);
		else
			close(drop(k, i));
	}
	pthread_mutex_unlock(&k->lock);
	return fd;
}

void dnsalg_upstream_keep_put(struct dnsalg_upstream_keep *k, int fd, const struct sockaddr_storage *sa,
			      socklen_t salen, uint64_t now)
{
	int gone = -1;
	pthread_mutex_lock(&k->lock);
	unsigned same_n = 0, oldest_same = 0;
	for (unsigned i = k->n; i-- > 0;)
		if (same(&k->v[i], sa, salen)) {
			same_n++;
			oldest_same = i;
		}
	if (same_n >= DNSALG_UPSTREAM_KEEP_PER)
		gone = drop(k, oldest_same);
	else if (k->n == DNSALG_UPSTREAM_KEEP_MAX)
		gone = drop(k, 0);
	struct kept *e = &k->v[k->n++];
	e->fd = fd;
	e->used_ms = now;
	memcpy(&e->sa, sa, salen);
	e->salen = salen;
	/* the first connection since the waiter last looked: without a wake it
	 * would sleep on a deadline that knows nothing of this one (up to a
	 * minute, or until a signal) and keep it long past its idle time */
	bool wake = !k->told && k->wake;
	k->told = true;
	pthread_mutex_unlock(&k->lock);
	if (gone >= 0)
		close(gone);
	if (wake)
		k->wake(k->wake_arg);
}

void dnsalg_upstream_keep_waker(struct dnsalg_upstream_keep *k, void (*wake)(void *), void *arg)
{
	pthread_mutex_lock(&k->lock);
	k->wake = wake;
	k->wake_arg = arg;
	pthread_mutex_unlock(&k->lock);
}

uint64_t dnsalg_upstream_keep_idle(struct dnsalg_upstream_keep *k, uint64_t now)
{
	uint64_t due = UINT64_MAX;
	pthread_mutex_lock(&k->lock);
	for (unsigned i = 0; i < k->n;) {
		if (k->v[i].used_ms + DNSALG_UPSTREAM_KEEP_MS <= now) {   /* not now - used_ms: see take */
			close(drop(k, i));
			continue;
		}
		if (k->v[i].used_ms + DNSALG_UPSTREAM_KEEP_MS < due)
			due = k->v[i].used_ms + DNSALG_UPSTREAM_KEEP_MS;
		i++;
	}
	k->told = due != UINT64_MAX;
	pthread_mutex_unlock(&k->lock);
	return due;
}

unsigned dnsalg_upstream_keep_count(struct dnsalg_upstream_keep *k)
{
	pthread_mutex_lock(&k->lock);
	unsigned n = k->n;
	pthread_mutex_unlock(&k->lock);
	return n;
}
