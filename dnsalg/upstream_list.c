/*
 * The upstream servers in force and the timeout a query shares out among
 * them, shared by every thread's transport.  A reload replaces either; each
 * transport compares the generation when a query starts and copies both
 * when it moved, so no thread is stopped and a query under way finishes
 * with the servers and the time it began with.  The kept TCP
 * connections and the health state are found by address, so neither carries
 * anything over to a server no longer listed.
 */
#include <string.h>
#include <arpa/inet.h>

#include "dnsalg.h"

int dnsalg_upstream_list_init(struct dnsalg_upstream_list *l, const struct dnsalg_endpoint *ep, unsigned n,
			      uint32_t timeout_ms)
{
	if (n == 0 || n > DNSALG_MAX_UPSTREAMS || timeout_ms == 0)
		return DNSALG_EINVAL;
	if (pthread_mutex_init(&l->lock, NULL) != 0)
		return DNSALG_ENOMEM;
	memcpy(l->ep, ep, n * sizeof ep[0]);
	l->n = n;
	l->timeout_ms = timeout_ms;
	atomic_init(&l->gen, 1);
	return 0;
}

void dnsalg_upstream_list_fini(struct dnsalg_upstream_list *l)
{
	pthread_mutex_destroy(&l->lock);
}

static bool same_list(const struct dnsalg_endpoint *a, unsigned na, const struct dnsalg_endpoint *b, unsigned nb)
{
	if (na != nb)
		return false;
	for (unsigned i = 0; i < na; i++)
		if (memcmp(&a[i].addr, &b[i].addr, sizeof a[i].addr) || a[i].port != b[i].port)
			return false;
	return true;
}

/* Servers and timeout change under one generation: a transport that took
 * the new servers with the old timeout would share out the wrong time. */
int dnsalg_upstream_list_set(struct dnsalg_upstream_list *l, const struct dnsalg_endpoint *ep, unsigned n,
			     uint32_t timeout_ms)
{
	if (n == 0 || n > DNSALG_MAX_UPSTREAMS || timeout_ms == 0)
		return DNSALG_EINVAL;
	pthread_mutex_lock(&l->lock);
	bool same = same_list(l->ep, l->n, ep, n) && l->timeout_ms == timeout_ms;
	if (!same) {
		memcpy(l->ep, ep, n * sizeof ep[0]);
		l->n = n;
		l->timeout_ms = timeout_ms;
		atomic_fetch_add_explicit(&l->gen, 1, memory_order_release);
	}
	pthread_mutex_unlock(&l->lock);
	return same ? 0 : 1;
}

unsigned dnsalg_upstream_list_get(struct dnsalg_upstream_list *l, struct dnsalg_endpoint *ep,
				  uint32_t *timeout_ms, uint32_t *gen)
{
	pthread_mutex_lock(&l->lock);
	unsigned n = l->n;
	memcpy(ep, l->ep, n * sizeof ep[0]);
	*timeout_ms = l->timeout_ms;
	*gen = atomic_load_explicit(&l->gen, memory_order_relaxed);
	pthread_mutex_unlock(&l->lock);
	return n;
}

/* "fd99::53, [fd99::1]:5399": port 53 left out, as the config may write it */
int dnsalg_upstream_list_format(const struct dnsalg_endpoint *ep, unsigned n, char *out, size_t cap)
{
	size_t at = 0;
	if (cap)
		out[0] = 0;
	for (unsigned i = 0; i < n; i++) {
		char a[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &ep[i].addr, a, sizeof a);
		int r = ep[i].port == 53 ? snprintf(out + at, cap - at, "%s%s", i ? ", " : "", a)
					 : snprintf(out + at, cap - at, "%s[%s]:%u", i ? ", " : "", a, ep[i].port);
		if (r < 0 || (size_t)r >= cap - at)
			return DNSALG_EFULL;
		at += (size_t)r;
	}
	return (int)at;
}
