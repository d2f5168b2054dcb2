/*
 * Upstream health, shared by every thread of the daemon.  Each resolver,
 * TCP and control thread has its own transport; without a shared view each
 * of them (up to 64) found a dead upstream on its own, at the cost of a
 * whole share of the timeout, and only came back to it by chance.
 *
 * DNSALG_HEALTH_FAILS is 3: a single lost datagram, or one name that is
 * slow to resolve, must not take a working upstream out of the way of
 * every thread, and two in a row still happens under some loss at high
 * query rates; each failure before DOWN costs some query a whole share,
 * so more than a few would spend most of what the state is for.  Held
 * DOWN upstreams are only moved to the back, never left out, so a wrong
 * DOWN costs nothing but order.
 *
 * The UP upstreams go in the configured order: the operator's, and the
 * one every thread follows.  A preference of each thread's own (the one
 * that answered it last) moved a thread away from a dead upstream after
 * one failure, so with few threads busy it was never marked DOWN, logged
 * or tried again; here every query asks it until it is DOWN, which costs
 * the daemon DNSALG_HEALTH_FAILS shares in all, not one a thread.
 *
 * The trial goes first, not after the UP upstreams: after them it would be
 * asked only when every UP one failed, so an upstream that came back would
 * never be seen UP (no log, no counter) while another answers.  Its cost
 * is one query a hold paying one share, at worst one every
 * DNSALG_HEALTH_HOLD_MAX_MS for an upstream that stays dead.
 *
 * Entries are found by address, as the kept TCP connections are, so state
 * never follows a reload onto another server.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <arpa/inet.h>

#include "dnsalg.h"

struct entry {
	struct dnsalg_upstream_addr a;
	uint64_t used;                 /* last ordered or reported: who makes room */
	struct dnsalg_health_info i;
};

struct dnsalg_health {
	pthread_mutex_t lock;
	unsigned n;
	struct entry v[DNSALG_MAX_UPSTREAMS];
};

struct dnsalg_health *dnsalg_health_new(void)
{
	struct dnsalg_health *h = calloc(1, sizeof *h);
	if (h && pthread_mutex_init(&h->lock, NULL) != 0) {
		free(h);
		return NULL;
	}
	return h;
}

void dnsalg_health_free(struct dnsalg_health *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static bool same(const struct dnsalg_upstream_addr *x, const struct dnsalg_upstream_addr *y)
{
	return x->salen == y->salen && x->salen <= sizeof x->sa && !memcmp(&x->sa, &y->sa, x->salen);
}

/* Lock held. */
static struct entry *find(struct dnsalg_health *h, const struct dnsalg_upstream_addr *a)
{
	for (unsigned i = 0; i < h->n; i++)
		if (same(&h->v[i].a, a))
			return &h->v[i];
	return NULL;
}

static bool listed(const struct dnsalg_upstream_addr *to, unsigned n, const struct dnsalg_upstream_addr *a)
{
	for (unsigned i = 0; i < n; i++)
		if (same(&to[i], a))
			return true;
	return false;
}

/* The entry of to[k], new and UP if there was none (lock held).  Room is
 * made by dropping the entry used longest ago of those whose address is
 * not in to[0..n): with n at most the table's size and to[k] not in it,
 * there is always one. */
static struct entry *entry_of(struct dnsalg_health *h, const struct dnsalg_upstream_addr *to, unsigned n,
			      unsigned k)
{
	struct entry *e = find(h, &to[k]);
	if (e)
		return e;
	if (h->n < DNSALG_MAX_UPSTREAMS) {
		e = &h->v[h->n++];
	} else {
		for (unsigned i = 0; i < h->n; i++)
			if (!listed(to, n, &h->v[i].a) && (!e || h->v[i].used < e->used))
				e = &h->v[i];
	}
	memset(e, 0, sizeof *e);
	memcpy(&e->a.sa, &to[k].sa, to[k].salen);
	e->a.salen = to[k].salen;
	return e;
}

int dnsalg_health_order(struct dnsalg_health *h, const struct dnsalg_upstream_addr *to, unsigned n,
			uint64_t now, unsigned *order, int *trial, struct dnsalg_counters *cnt)
{
	*trial = -1;
	if (n == 0 || n > DNSALG_MAX_UPSTREAMS)
		return DNSALG_EINVAL;
	for (unsigned k = 0; k < n; k++)
		if (to[k].salen > sizeof to[k].sa)
			return DNSALG_EINVAL;
	struct entry *e[DNSALG_MAX_UPSTREAMS];
	unsigned at = 0, skipped = 0;
	pthread_mutex_lock(&h->lock);
	/* room is only ever made from addresses not listed, so each e[k]
	 * stays the entry of to[k] */
	for (unsigned k = 0; k < n; k++) {
		e[k] = entry_of(h, to, n, k);
		e[k]->used = now;
	}
	for (unsigned k = 0; k < n && *trial < 0; k++) {
		struct dnsalg_health_info *s = &e[k]->i;
		if (s->down && !s->trial && now >= s->retry_at) {
			s->trial = true;
			*trial = (int)k;
			order[at++] = k;
		}
	}
	for (unsigned k = 0; k < n; k++)
		if (!e[k]->i.down)
			order[at++] = k;
	for (unsigned k = 0; k < n; k++) {
		if (e[k]->i.down && (int)k != *trial) {
			order[at++] = k;
			skipped++;
		}
	}
	pthread_mutex_unlock(&h->lock);
	if (cnt && skipped)
		atomic_fetch_add_explicit(&cnt->upstream_skipped, skipped, memory_order_relaxed);
	return (int)n;
}

int dnsalg_health_report(struct dnsalg_health *h, const struct dnsalg_upstream_addr *a, bool answered,
			 bool trial, uint64_t now, struct dnsalg_counters *cnt,
			 struct dnsalg_health_info *after)
{
	int change = DNSALG_HEALTH_SAME;
	pthread_mutex_lock(&h->lock);
	struct entry *e = find(h, a);
	if (!e) {
		pthread_mutex_unlock(&h->lock);
		return DNSALG_ENOENT;
	}
	struct dnsalg_health_info *s = &e->i;
	e->used = now;
	if (answered) {
		s->fails = 0;
		s->trial = false;
		s->hold_ms = 0;
		if (s->down) {
			s->down = false;
			change = DNSALG_HEALTH_WENT_UP;
		}
	} else {
		if (s->fails < UINT32_MAX)
			s->fails++;
		if (!s->down && s->fails >= DNSALG_HEALTH_FAILS) {
			s->down = true;
			s->trial = false;
			s->hold_ms = DNSALG_HEALTH_HOLD_MS;
			s->retry_at = now + s->hold_ms;
			s->down_since = now;
			change = DNSALG_HEALTH_WENT_DOWN;
		} else if (s->down && trial && s->trial) {
			/* only the trial's failure lengthens the hold: a held
			 * upstream asked last by a query that found nothing
			 * else says no more than the failure that took it down */
			s->trial = false;
			s->hold_ms = s->hold_ms >= DNSALG_HEALTH_HOLD_MAX_MS / 2 ? DNSALG_HEALTH_HOLD_MAX_MS
										 : s->hold_ms * 2;
			s->retry_at = now + s->hold_ms;
		}
	}
	if (after)
		*after = *s;
	pthread_mutex_unlock(&h->lock);
	if (cnt && change == DNSALG_HEALTH_WENT_DOWN)
		DNSALG_INC(cnt, upstream_down);
	if (cnt && change == DNSALG_HEALTH_WENT_UP)
		DNSALG_INC(cnt, upstream_up);
	return change;
}

int dnsalg_health_get(struct dnsalg_health *h, const struct dnsalg_upstream_addr *a,
		      struct dnsalg_health_info *out)
{
	pthread_mutex_lock(&h->lock);
	struct entry *e = find(h, a);
	if (e)
		*out = e->i;
	pthread_mutex_unlock(&h->lock);
	return e ? 0 : DNSALG_ENOENT;
}

unsigned dnsalg_health_count(struct dnsalg_health *h)
{
	pthread_mutex_lock(&h->lock);
	unsigned n = h->n;
	pthread_mutex_unlock(&h->lock);
	return n;
}

/* "[2001:db8::53]:53" or "192.0.2.53:53", as the config writes them. */
static void addr_str(const struct dnsalg_upstream_addr *a, char *out, size_t cap)
{
	char s[INET6_ADDRSTRLEN] = "?";
	if (a->sa.ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->sa;
		inet_ntop(AF_INET, &v4->sin_addr, s, sizeof s);
		snprintf(out, cap, "%s:%u", s, ntohs(v4->sin_port));
	} else {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->sa;
		inet_ntop(AF_INET6, &v6->sin6_addr, s, sizeof s);
		snprintf(out, cap, "[%s]:%u", s, ntohs(v6->sin6_port));
	}
}

int dnsalg_health_format(const struct dnsalg_upstream_addr *a, int change,
			 const struct dnsalg_health_info *i, uint64_t now, char *out, size_t cap)
{
	char s[INET6_ADDRSTRLEN + 10];
	int r;
	if (change != DNSALG_HEALTH_WENT_DOWN && change != DNSALG_HEALTH_WENT_UP)
		return 0;
	addr_str(a, s, sizeof s);
	if (change == DNSALG_HEALTH_WENT_DOWN)
		r = snprintf(out, cap, "upstream %s down after %u failed tries in a row; "
			     "asked last, and first again in %u ms", s, i->fails, i->hold_ms);
	else
		r = snprintf(out, cap, "upstream %s up again after %llu ms down", s,
			     (unsigned long long)(now > i->down_since ? now - i->down_since : 0));
	return r < 0 || (size_t)r >= cap ? DNSALG_EFULL : r;
}
