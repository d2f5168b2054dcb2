#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "daemon.h"
#include "json.h"
#include "log.h"
#include "resolve.h"

struct lookup {
	int fd;                 /* -1 = free slot */
	struct in6_addr ulid;
	uint64_t deadline;
	size_t len;
	char buf[4096];
};

static struct lookup L[RESOLVE_MAX];
static struct resolve_stats st;
static int inited;

const struct resolve_stats *resolve_stats(void) { return &st; }

static void init(void)
{
	if (inited)
		return;
	for (int i = 0; i < RESOLVE_MAX; i++)
		L[i].fd = -1;
	inited = 1;
}

static void finish(struct lookup *l)
{
	close(l->fd);
	l->fd = -1;
}

void resolve_start(struct daemon *d, const struct in6_addr *ulid)
{
	init();
	if (!d->conf->dnsalg.enabled)
		return;
	struct lookup *free_slot = NULL;
	for (int i = 0; i < RESOLVE_MAX; i++) {
		if (L[i].fd >= 0 && !memcmp(&L[i].ulid, ulid, sizeof *ulid))
			return;         /* already asked */
		if (L[i].fd < 0 && !free_slot)
			free_slot = &L[i];
	}
	if (!free_slot) {
		st.busy++;
		return;
	}
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = d->conf->dnsalg.control_socket;
	if (strlen(path) >= sizeof sun.sun_path) {
		st.failed++;
		return;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	char a[INET6_ADDRSTRLEN], req[128];
	inet_ntop(AF_INET6, ulid, a, sizeof a);
	int n = snprintf(req, sizeof req, "{\"cmd\":\"resolve-ulid\",\"ulid\":\"%s\"}\n", a);
	/* Unix stream connect completes at once or fails; the request is far
	 * below the socket buffer, so the write does not block either. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || write(fd, req, (size_t)n) != n) {
		log_debug("resolve %s: DNS ALG at %s: %s", a, sun.sun_path, strerror(errno));
		close(fd);
		st.failed++;
		return;
	}
	free_slot->fd = fd;
	free_slot->ulid = *ulid;
	free_slot->len = 0;
	/* the ALG runs PTR then AAAA+ULID queries, each bounded by its timeout */
	free_slot->deadline = now_ns() + 3ULL * d->conf->dnsalg.timeout_ms * 1000000ULL;
	st.started++;
	log_info("asking the DNS ALG for the locators of %s", a);
}

unsigned resolve_pollfds(struct daemon *d, struct pollfd *pf, unsigned cap)
{
	unsigned n = 0;
	init();
	for (int i = 0; i < RESOLVE_MAX && n < cap; i++)
		if (L[i].fd >= 0)
			pf[n++] = (struct pollfd){ .fd = L[i].fd, .events = POLLIN };
	return n;
}

void resolve_ready(struct daemon *d, int fd)
{
	struct lookup *l = NULL;
	for (int i = 0; i < RESOLVE_MAX; i++)
		if (L[i].fd == fd)
			l = &L[i];
	if (!l)
		return;
	ssize_t r = read(fd, l->buf + l->len, sizeof l->buf - 1 - l->len);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0)
		l->len += (size_t)r;
	char *nl = memchr(l->buf, '\n', l->len);
	if (!nl && r > 0 && l->len < sizeof l->buf - 1)
		return;
	char a[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, &l->ulid, a, sizeof a);
	static struct jobj o;
	const char *why = "no reply";
	const struct jval *ok;
	if (nl && !json_parse(l->buf, (size_t)(nl - l->buf), &o, &why) &&
	    (ok = json_get(&o, "ok")) && ok->t == J_BOOL && ok->b) {
		/* the reply has the push's shape minus the ULID */
		if (tables_peer_set(&d->tables, &l->ulid, &o, now_ns(), &why) == 0) {
			st.answered++;
			log_info("DNS ALG: %u locators for %s", json_get(&o, "locators")->nelem, a);
			finish(l);
			return;
		}
	} else if (nl && json_str(&o, "error")) {
		why = json_str(&o, "error");
	}
	st.failed++;
	log_info("DNS ALG found no locators for %s: %s", a, why);
	finish(l);
}

void resolve_expire(struct daemon *d, uint64_t now)
{
	init();
	for (int i = 0; i < RESOLVE_MAX; i++)
		if (L[i].fd >= 0 && now >= L[i].deadline) {
			st.timeouts++;
			finish(&L[i]);
		}
}

void resolve_free(struct daemon *d)
{
	init();
	for (int i = 0; i < RESOLVE_MAX; i++)
		if (L[i].fd >= 0)
			finish(&L[i]);
}
