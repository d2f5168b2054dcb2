/*
 * The ALG's own control socket (one JSON object per line, one reply line)
 * and the bounded push queue towards pshim6-control.
 *
 *   {"cmd":"counters"}                 -> {"ok":true,"queries_udp":N,...}
 *                                         (counters, then gauges: cache sizes,
 *                                         cookie_secrets_retired, cookie_rotate_s,
 *                                         cookie_rotate_in_s)
 *   {"cmd":"resolve-ulid","ulid":"v6"} -> {"ok":true,"name":..,"locators":[..],"ttl":N}
 *
 * Pushes never block a DNS thread: they go into a fixed-size ring that one
 * thread drains; when the ring is full the line is dropped and counted, and
 * when pshim6-control is not listening the push is counted as failed.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "dnsalg.h"

uint64_t dnsalg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- minimal JSON for flat objects --------------------------------------- */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* Parse a JSON string at p (at the quote); copy unescaped into out (may be NULL).
 * Returns pointer after the closing quote, or NULL. */
static const char *parse_str(const char *p, char *out, size_t cap, size_t *len)
{
	size_t n = 0;
	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		char c = *p++;
		if (c == '\\') {
			c = *p++;
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u':
				for (int i = 0; i < 4; i++)
					if (!p[i] || !strchr("0123456789abcdefABCDEF", p[i]))
						return NULL;
				p += 4;
				c = '?'; /* only ASCII keys/values matter here */
				break;
			default: return NULL;
			}
		} else if ((unsigned char)c < 0x20) {
			return NULL;
		}
		if (out && n + 1 < cap)
			out[n] = c;
		n++;
	}
	if (*p != '"')
		return NULL;
	if (out && cap)
		out[n < cap ? n : cap - 1] = 0;
	if (len)
		*len = n;
	return p + 1;
}

/* Skip any JSON value (nested containers with a depth bound). */
static const char *skip_value(const char *p, int depth)
{
	p = skip_ws(p);
	if (depth > 16)
		return NULL;
	if (*p == '"')
		return parse_str(p, NULL, 0, NULL);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		p = skip_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				if (!(p = parse_str(skip_ws(p), NULL, 0, NULL)))
					return NULL;
				p = skip_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			if (!(p = skip_value(p, depth + 1)))
				return NULL;
			p = skip_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	const char *s = p;
	while (*p && strchr("-+.0123456789eEtruefalsn", *p))
		p++;
	return p > s ? p : NULL;
}

int dnsalg_json_get(const char *json, const char *key, char *out, size_t outcap)
{
	const char *p = skip_ws(json);
	if (*p++ != '{')
		return DNSALG_EINVAL;
	p = skip_ws(p);
	if (*p == '}')
		return DNSALG_ENOENT;
	for (;;) {
		char k[64];
		size_t kl;
		p = parse_str(skip_ws(p), k, sizeof k, &kl);
		if (!p)
			return DNSALG_EINVAL;
		p = skip_ws(p);
		if (*p++ != ':')
			return DNSALG_EINVAL;
		p = skip_ws(p);
		bool match = kl < sizeof k && strcmp(k, key) == 0;
		const char *v = p;
		if (match && *p == '"') {
			size_t vl;
			p = parse_str(p, out, outcap, &vl);
			if (!p)
				return DNSALG_EINVAL;
			return vl < outcap ? 0 : DNSALG_EINVAL;
		}
		p = skip_value(p, 0);
		if (!p)
			return DNSALG_EINVAL;
		if (match) {
			size_t vl = (size_t)(p - v);
			if (vl >= outcap)
				return DNSALG_EINVAL;
			memcpy(out, v, vl);
			out[vl] = 0;
			return 0;
		}
		p = skip_ws(p);
		if (*p == '}')
			return DNSALG_ENOENT;
		if (*p++ != ',')
			return DNSALG_EINVAL;
	}
}

/* Room every answer needs; the counters line with every counter at its
 * largest is the longest (test_query checks that it fits). */
#define CTL_OUT_MIN 2560

/* Append to out[cap] at *n.  Once something does not fit, *n stays at or
 * past cap, so that nothing more is written and the caller can tell. */
static void put(char *out, size_t cap, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;
	if (*n >= cap)
		return;
	va_start(ap, fmt);
	r = vsnprintf(out + *n, cap - *n, fmt, ap);
	va_end(ap);
	*n += r < 0 ? cap : (size_t)r;
}

/* The counters line; DNSALG_EFULL rather than a line cut short. */
static int counters_line(struct dnsalg_ctx *x, uint64_t now, char *out, size_t outcap)
{
	size_t n = 0;
	put(out, outcap, &n, "{\"ok\":true");
#define DNSALG_CNT_JSON(f) \
	put(out, outcap, &n, ",\"" #f "\":%llu", (unsigned long long)atomic_load(&x->cnt->f));
	DNSALG_COUNTERS(DNSALG_CNT_JSON)
#undef DNSALG_CNT_JSON
	put(out, outcap, &n, ",\"cache_entries\":%u,\"ulid_cache_entries\":%u",
	    x->acache ? dnsalg_acache_count(x->acache) : 0, x->ucache ? dnsalg_ucache_count(x->ucache) : 0);
	/* the running rollover interval (a reload may have changed it) and the
	 * seconds to the next rollover, null for never */
	uint64_t due = dnsalg_cookie_deadline(&x->cookie);
	put(out, outcap, &n, ",\"cookie_secrets_retired\":%u", dnsalg_cookie_retired(&x->cookie));
	put(out, outcap, &n, ",\"cookie_rotate_s\":%u", (unsigned)x->cookie.interval_s);
	if (due == UINT64_MAX)
		put(out, outcap, &n, ",\"cookie_rotate_in_s\":null}\n");
	else
		put(out, outcap, &n, ",\"cookie_rotate_in_s\":%llu}\n",
		    (unsigned long long)(due > now ? (due - now + 999) / 1000 : 0));
	return n < outcap ? (int)n : DNSALG_EFULL;
}

int dnsalg_ctl_handle(struct dnsalg_ctx *x, const struct dnsalg_upstream_ops *up,
		      const char *line, uint64_t now, char *out, size_t outcap)
{
	char cmd[32], arg[64];
	if (outcap < CTL_OUT_MIN)
		return DNSALG_EINVAL;
	if (dnsalg_json_get(line, "cmd", cmd, sizeof cmd) < 0)
		return snprintf(out, outcap, "{\"ok\":false,\"error\":\"expected a JSON object with \\\"cmd\\\"\"}\n");
	if (!strcmp(cmd, "counters"))
		return counters_line(x, now, out, outcap);
	if (!strcmp(cmd, "resolve-ulid")) {
		struct in6_addr a;
		if (dnsalg_json_get(line, "ulid", arg, sizeof arg) < 0 || inet_pton(AF_INET6, arg, &a) != 1)
			return snprintf(out, outcap, "{\"ok\":false,\"error\":\"\\\"ulid\\\" must be an IPv6 address\"}\n");
		struct dnsalg_ulid_entry e;
		int r = up ? dnsalg_reverse_resolve(x, up, &a, now, &e) : DNSALG_ENOENT;
		if (r < 0)
			return snprintf(out, outcap, "{\"ok\":false,\"error\":\"%s\"}\n", dnsalg_strerror(r));
		/* Reuse the push encoder, then reshape its head. */
		char tmp[2048];
		if (dnsalg_push_line(&e, tmp, sizeof tmp) < 0)
			return snprintf(out, outcap, "{\"ok\":false,\"error\":\"encoding\"}\n");
		const char *loc = strstr(tmp, "\"locators\"");
		return snprintf(out, outcap, "{\"ok\":true,%s\n", loc ? loc : "}");
	}
	return snprintf(out, outcap, "{\"ok\":false,\"error\":\"unknown cmd\"}\n");
}

/* ---- push queue ----------------------------------------------------------- */

#define PUSH_LINE_MAX 2048

struct dnsalg_pusher {
	char path[DNSALG_PATH_MAX];
	struct dnsalg_counters *cnt;
	uint32_t depth, head, count;
	char (*ring)[PUSH_LINE_MAX];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	pthread_t thr;
};

int dnsalg_pusher_push(void *arg, const char *line)
{
	struct dnsalg_pusher *p = arg;
	if (strlen(line) >= PUSH_LINE_MAX)
		return DNSALG_EINVAL;
	pthread_mutex_lock(&p->lock);
	if (p->count == p->depth) {
		pthread_mutex_unlock(&p->lock);
		return DNSALG_EFULL;
	}
	snprintf(p->ring[(p->head + p->count) % p->depth], PUSH_LINE_MAX, "%s", line);
	p->count++;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* One request/reply on a fresh connection; 0 when control said ok. */
static int push_one(const char *path, const char *line)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t pl = strnlen(path, sizeof sun.sun_path);
	if (pl >= sizeof sun.sun_path) {
		close(fd);
		return -1;
	}
	memcpy(sun.sun_path, path, pl);
	struct timeval tv = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	int r = -1;
	char buf[512];
	size_t l = strlen(line);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0 &&
	    send(fd, line, l, MSG_NOSIGNAL) == (ssize_t)l && send(fd, "\n", 1, MSG_NOSIGNAL) == 1) {
		ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
		if (n > 0) {
			buf[n] = 0;
			r = strstr(buf, "\"ok\":true") ? 0 : -1;
		}
	}
	close(fd);
	return r;
}

static void *pusher_main(void *arg)
{
	struct dnsalg_pusher *p = arg;
	char line[PUSH_LINE_MAX];
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		if (p->count == 0) {
			pthread_cond_wait(&p->cond, &p->lock);
			continue;
		}
		memcpy(line, p->ring[p->head], PUSH_LINE_MAX);
		p->head = (p->head + 1) % p->depth;
		p->count--;
		pthread_mutex_unlock(&p->lock);
		if (push_one(p->path, line) == 0)
			DNSALG_INC(p->cnt, pushes);
		else
			DNSALG_INC(p->cnt, push_failures);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct dnsalg_pusher *dnsalg_pusher_start(const char *path, uint32_t depth,
					  struct dnsalg_counters *cnt)
{
	struct dnsalg_pusher *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	snprintf(p->path, sizeof p->path, "%s", path);
	p->cnt = cnt;
	p->depth = depth ? depth : 1;
	p->ring = calloc(p->depth, PUSH_LINE_MAX);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (!p->ring || pthread_create(&p->thr, NULL, pusher_main, p) != 0) {
		free(p->ring);
		free(p);
		return NULL;
	}
	return p;
}

void dnsalg_pusher_stop(struct dnsalg_pusher *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thr, NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p->ring);
	free(p);
}
