/*
 * Inside names: the site's hosts answer with their CMULAs, and PTR queries
 * for those CMULAs are answered here.  Hosts come from the config's static
 * list and from Kea's memfile lease CSV when one is configured (re-read when
 * it changes, at most once a second).  Answers are written directly as wire
 * bytes; nothing here allocates per query.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <arpa/inet.h>

#include "dnsalg.h"

#define LEASE_FILE_MAX (16u << 20)
#define LEASE_HOSTS_MAX 65536

struct table {
	unsigned n;
	struct dnsalg_host *by_name;  /* sorted by name */
	struct dnsalg_host *by_addr;  /* sorted by address */
};

struct dnsalg_inside {
	const struct dnsalg_opts *o;
	pthread_rwlock_t lock;
	struct table t;
	/* the sources of t, under refresh_lock */
	struct dnsalg_host *stat, *lease;
	unsigned n_stat, n_lease;
	pthread_mutex_t refresh_lock;
	uint64_t last_check;
	struct timespec lease_mtime;
	off_t lease_size;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct dnsalg_host *)a)->name, ((const struct dnsalg_host *)b)->name);
}
static int cmp_addr(const void *a, const void *b)
{
	return memcmp(&((const struct dnsalg_host *)a)->addr, &((const struct dnsalg_host *)b)->addr, 16);
}

static int table_build(struct table *t, const struct dnsalg_host *a, unsigned na,
		       const struct dnsalg_host *b, unsigned nb)
{
	unsigned n = na + nb;
	t->n = n;
	t->by_name = calloc(n ? n : 1, sizeof *t->by_name);
	t->by_addr = calloc(n ? n : 1, sizeof *t->by_addr);
	if (!t->by_name || !t->by_addr) {
		free(t->by_name);
		free(t->by_addr);
		return DNSALG_ENOMEM;
	}
	if (na)
		memcpy(t->by_name, a, na * sizeof *a);
	if (nb)
		memcpy(t->by_name + na, b, nb * sizeof *b);
	memcpy(t->by_addr, t->by_name, n * sizeof *a);
	qsort(t->by_name, n, sizeof *a, cmp_name);
	qsort(t->by_addr, n, sizeof *a, cmp_addr);
	return 0;
}

struct dnsalg_inside *dnsalg_inside_new(const struct dnsalg_opts *o)
{
	struct dnsalg_inside *in = calloc(1, sizeof *in);
	if (!in)
		return NULL;
	in->o = o;
	pthread_rwlock_init(&in->lock, NULL);
	pthread_mutex_init(&in->refresh_lock, NULL);
	in->stat = calloc(o->n_hosts ? o->n_hosts : 1, sizeof *in->stat);
	if (!in->stat || table_build(&in->t, o->hosts, o->n_hosts, NULL, 0) < 0) {
		free(in->stat);
		free(in);
		return NULL;
	}
	if (o->n_hosts)
		memcpy(in->stat, o->hosts, o->n_hosts * sizeof *in->stat);
	in->n_stat = o->n_hosts;
	in->last_check = 0;
	dnsalg_inside_refresh(in, 0);
	return in;
}

void dnsalg_inside_free(struct dnsalg_inside *in)
{
	if (!in)
		return;
	free(in->t.by_name);
	free(in->t.by_addr);
	free(in->stat);
	free(in->lease);
	pthread_rwlock_destroy(&in->lock);
	pthread_mutex_destroy(&in->refresh_lock);
	free(in);
}

/* ---- Kea memfile lease6 CSV ---------------------------------------------- */

struct lease_rec {
	struct dnsalg_host h;
	unsigned seq;
	bool live;
};

static int cmp_lease(const void *a, const void *b)
{
	const struct lease_rec *x = a, *y = b;
	int c = memcmp(&x->h.addr, &y->h.addr, 16);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Split one CSV line (Kea escapes commas in values as "&#x2c", so plain split). */
static unsigned split(char *line, char **f, unsigned max)
{
	unsigned n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == ',') {
			*p = 0;
			f[n++] = p + 1;
		}
	return n;
}

int dnsalg_kea_leases_parse(const char *text, size_t len, const char *zone, time_t wall_now,
			    struct dnsalg_host *out, unsigned max)
{
	char *buf = malloc(len + 1);
	if (!buf)
		return DNSALG_ENOMEM;
	memcpy(buf, text, len);
	buf[len] = 0;
	int c_addr = -1, c_valid = -1, c_expire = -1, c_type = -1, c_host = -1, c_state = -1;
	unsigned cap = 64, n = 0, seq = 0;
	struct lease_rec *recs = malloc(cap * sizeof *recs);
	if (!recs) {
		free(buf);
		return DNSALG_ENOMEM;
	}
	char *save = NULL;
	bool header = true;
	for (char *line = strtok_r(buf, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *f[32];
		unsigned nf = split(line, f, 32);
		if (header) {
			for (unsigned i = 0; i < nf; i++) {
				if (!strcmp(f[i], "address")) c_addr = (int)i;
				else if (!strcmp(f[i], "valid_lifetime")) c_valid = (int)i;
				else if (!strcmp(f[i], "expire")) c_expire = (int)i;
				else if (!strcmp(f[i], "lease_type")) c_type = (int)i;
				else if (!strcmp(f[i], "hostname")) c_host = (int)i;
				else if (!strcmp(f[i], "state")) c_state = (int)i;
			}
			header = false;
			if (c_addr < 0 || c_host < 0)
				break;
			continue;
		}
		if ((int)nf <= c_addr || (int)nf <= c_host)
			continue;
		struct lease_rec r;
		memset(&r, 0, sizeof r);
		if (inet_pton(AF_INET6, f[c_addr], &r.h.addr) != 1)
			continue;
		r.seq = seq++;
		r.live = true;
		if (c_valid >= 0 && (int)nf > c_valid && strtoul(f[c_valid], NULL, 10) == 0)
			r.live = false; /* released: Kea writes valid_lifetime 0 */
		if (c_expire >= 0 && (int)nf > c_expire && strtoll(f[c_expire], NULL, 10) < wall_now)
			r.live = false;
		if (c_type >= 0 && (int)nf > c_type && strcmp(f[c_type], "0") != 0)
			r.live = false; /* prefixes and temporaries are not hosts */
		if (c_state >= 0 && (int)nf > c_state && strcmp(f[c_state], "0") != 0)
			r.live = false; /* declined or expired-reclaimed */
		if (!*f[c_host] || dnsalg_name_norm(f[c_host], zone, r.h.name, sizeof r.h.name) < 0)
			r.live = false;
		if (n == cap) {
			if (cap >= LEASE_HOSTS_MAX * 4u)
				break;
			struct lease_rec *nr = realloc(recs, 2 * cap * sizeof *recs);
			if (!nr)
				break;
			recs = nr;
			cap *= 2;
		}
		recs[n++] = r;
	}
	qsort(recs, n, sizeof *recs, cmp_lease);
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		bool last = i + 1 == n || memcmp(&recs[i].h.addr, &recs[i + 1].h.addr, 16) != 0;
		if (last && recs[i].live && k < max)
			out[k++] = recs[i].h;
	}
	free(recs);
	free(buf);
	return (int)k;
}

static void swap(struct dnsalg_inside *in, struct table *t)
{
	pthread_rwlock_wrlock(&in->lock);
	struct table old = in->t;
	in->t = *t;
	pthread_rwlock_unlock(&in->lock);
	free(old.by_name);
	free(old.by_addr);
}

int dnsalg_inside_set_hosts(struct dnsalg_inside *in, const struct dnsalg_host *h, unsigned n)
{
	struct dnsalg_host *copy = calloc(n ? n : 1, sizeof *copy);
	struct table t;
	if (!copy)
		return DNSALG_ENOMEM;
	if (n)
		memcpy(copy, h, n * sizeof *h);
	pthread_mutex_lock(&in->refresh_lock);
	int r = table_build(&t, copy, n, in->lease, in->n_lease);
	if (r == 0) {
		free(in->stat);
		in->stat = copy;
		in->n_stat = n;
		swap(in, &t);
	} else {
		free(copy);
	}
	pthread_mutex_unlock(&in->refresh_lock);
	return r;
}

void dnsalg_inside_refresh(struct dnsalg_inside *in, uint64_t now)
{
	const struct dnsalg_opts *o = in->o;
	if (!o->lease_file[0])
		return;
	if (pthread_mutex_trylock(&in->refresh_lock) != 0)
		return;
	if (in->last_check && now < in->last_check + 1000)
		goto out;
	in->last_check = now ? now : 1;
	struct stat st;
	if (stat(o->lease_file, &st) != 0 || st.st_size > (off_t)LEASE_FILE_MAX)
		goto out;
	if (st.st_mtim.tv_sec == in->lease_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == in->lease_mtime.tv_nsec && st.st_size == in->lease_size)
		goto out;
	FILE *f = fopen(o->lease_file, "r");
	if (!f)
		goto out;
	char *text = malloc((size_t)st.st_size + 1);
	size_t len = text ? fread(text, 1, (size_t)st.st_size, f) : 0;
	fclose(f);
	struct dnsalg_host *hosts = calloc(LEASE_HOSTS_MAX, sizeof *hosts);
	int n = (text && hosts) ? dnsalg_kea_leases_parse(text, len, o->zone, time(NULL), hosts,
							  LEASE_HOSTS_MAX) : -1;
	free(text);
	struct table t;
	struct dnsalg_host *keep = n >= 0 ? calloc(n ? (size_t)n : 1, sizeof *keep) : NULL;
	if (keep && table_build(&t, in->stat, in->n_stat, hosts, (unsigned)n) == 0) {
		if (n)
			memcpy(keep, hosts, (size_t)n * sizeof *keep);
		free(in->lease);
		in->lease = keep;
		in->n_lease = (unsigned)n;
		swap(in, &t);
		in->lease_mtime = st.st_mtim;
		in->lease_size = st.st_size;
	} else {
		free(keep);
	}
	free(hosts);
out:
	pthread_mutex_unlock(&in->refresh_lock);
}

/* ---- answers ------------------------------------------------------------- */

/* Wire name -> lower-case presentation with trailing dot. */
static bool wire_to_text(const uint8_t *w, size_t wl, char *out, size_t cap)
{
	size_t n = 0, i = 0;
	if (wl == 1) {
		if (cap < 2)
			return false;
		out[0] = '.';
		out[1] = 0;
		return true;
	}
	while (i < wl && w[i]) {
		uint8_t l = w[i++];
		for (unsigned j = 0; j < l; j++) {
			unsigned char c = w[i++];
			if (c == '.' || c == '\\' || c <= ' ' || c >= 0x7f)
				return false; /* such names are never inside hosts */
			if (n + 2 >= cap)
				return false;
			out[n++] = (char)tolower(c);
		}
		out[n++] = '.';
	}
	out[n] = 0;
	return true;
}

/* ip6.arpa nibble name -> address. */
static bool ptr_to_addr(const char *name, struct in6_addr *a)
{
	static const char sfx[] = "ip6.arpa.";
	if (strlen(name) != 64 + sizeof sfx - 1 || strcmp(name + 64, sfx) != 0)
		return false;
	memset(a, 0, sizeof *a);
	for (int i = 0; i < 32; i++) {
		char c = name[2 * i];
		if (name[2 * i + 1] != '.')
			return false;
		int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
		if (v < 0)
			return false;
		int nib = 31 - i;
		a->s6_addr[nib / 2] |= (uint8_t)((nib & 1) ? v : v << 4);
	}
	return true;
}

static size_t text_to_wire(const char *name, uint8_t *w)
{
	size_t n = 0;
	while (*name && strcmp(name, ".") != 0) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		w[n++] = (uint8_t)l;
		memcpy(w + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
	}
	w[n++] = 0;
	return n;
}

struct ans {
	uint8_t *out;
	size_t cap, n;
	unsigned count;
	bool full;
};

static void put(struct ans *a, const void *p, size_t l)
{
	if (a->n + l > a->cap) {
		a->full = true;
		return;
	}
	memcpy(a->out + a->n, p, l);
	a->n += l;
}

static void put_rr(struct ans *a, uint16_t type, uint32_t ttl, const uint8_t *rd, uint16_t rdl)
{
	uint8_t h[12] = { 0xC0, 12, (uint8_t)(type >> 8), (uint8_t)type, 0, 1,
			  (uint8_t)(ttl >> 24), (uint8_t)(ttl >> 16), (uint8_t)(ttl >> 8), (uint8_t)ttl,
			  (uint8_t)(rdl >> 8), (uint8_t)rdl };
	put(a, h, sizeof h);
	put(a, rd, rdl);
	a->count++;
}

int dnsalg_inside_answer(struct dnsalg_inside *in, const struct dnsalg_query *q,
			 const uint8_t *wire, uint8_t *out, size_t outcap)
{
	if (q->qclass != LDNS_RR_CLASS_IN || in->t.n == 0)
		return DNSALG_ENOENT;
	char name[DNSALG_NAME_MAX];
	if (!wire_to_text(q->qname, q->qname_len, name, sizeof name))
		return DNSALG_ENOENT;
	bool ptr = false;
	struct dnsalg_host key;
	memset(&key, 0, sizeof key);
	if (q->qtype == LDNS_RR_TYPE_PTR && ptr_to_addr(name, &key.addr)) {
		bool site = false;
		for (unsigned i = 0; i < in->o->n_prefixes; i++)
			site |= dnsalg_prefix_contains(&in->o->cmula_prefixes[i], &key.addr);
		if (!site && in->o->n_prefixes)
			return DNSALG_ENOENT;
		ptr = true;
	} else {
		snprintf(key.name, sizeof key.name, "%s", name);
	}
	int r = DNSALG_ENOENT;
	pthread_rwlock_rdlock(&in->lock);
	const struct table *t = &in->t;
	size_t lo = 0, hi = t->n;
	const struct dnsalg_host *base = ptr ? t->by_addr : t->by_name;
	int (*cmp)(const void *, const void *) = ptr ? cmp_addr : cmp_name;
	while (lo < hi) { /* first match */
		size_t mid = (lo + hi) / 2;
		if (cmp(&base[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->n && cmp(&base[lo], &key) == 0) {
		struct ans a = { out, outcap, 0, 0, false };
		uint8_t hdr[12] = { (uint8_t)(q->id >> 8), (uint8_t)q->id,
				    (uint8_t)(0x84 | ((q->flags & DNSALG_F_RD) ? 1 : 0)), 0x80,
				    0, 1, 0, 0, 0, 0, 0, 0 };
		put(&a, hdr, sizeof hdr);
		put(&a, wire + 12, q->question_len);
		uint32_t ttl = in->o->inside_ttl;
		for (size_t i = lo; i < t->n && cmp(&base[i], &key) == 0; i++) {
			if (ptr) {
				uint8_t w[256];
				size_t wl = text_to_wire(base[i].name, w);
				put_rr(&a, LDNS_RR_TYPE_PTR, ttl, w, (uint16_t)wl);
			} else if (q->qtype == LDNS_RR_TYPE_AAAA || q->qtype == LDNS_RR_TYPE_ANY) {
				put_rr(&a, LDNS_RR_TYPE_AAAA, ttl, base[i].addr.s6_addr, 16);
			}
			/* other types of an inside name: NOERROR, no data */
		}
		if (q->edns) {
			uint8_t opt[11] = { 0, 0, 41, DNSALG_UDP_OUT_MAX >> 8, DNSALG_UDP_OUT_MAX & 0xFF,
					    0, 0, (uint8_t)(q->do_bit ? 0x80 : 0), 0, 0, 0 };
			put(&a, opt, sizeof opt);
			out[11] = 1;
		}
		if (a.full) {
			r = DNSALG_EFULL;
		} else {
			out[6] = (uint8_t)(a.count >> 8);
			out[7] = (uint8_t)a.count;
			r = (int)a.n;
		}
	}
	pthread_rwlock_unlock(&in->lock);
	return r;
}
