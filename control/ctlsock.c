/*
 * The control socket: Unix SOCK_STREAM, one JSON object per line in, one
 * JSON line out.  Owner-only by default (control.socket_mode).  Bounded:
 * at most CTL_MAX_CLIENTS clients, CTL_LINE_MAX bytes per request line,
 * CTL_OUT_MAX bytes of unread replies; past a bound the client is told
 * (when possible) and disconnected.  With every slot taken, a client idle
 * CTL_IDLE_EVICT_NS gives way to a new one.
 */
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "daemon.h"
#include "log.h"

int ctlsock_open(struct daemon *d)
{
	const char *path = d->conf->control.socket;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sun.sun_path) {
		log_err("control socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* A live daemon on the path must not be displaced.  The probe does not
	 * block: a daemon that is alive but not accepting (its backlog full)
	 * would hold this start forever, and EAGAIN says it is there. */
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		int live = connect(probe, (struct sockaddr *)&sun, sizeof sun) == 0 || errno == EAGAIN;
		close(probe);
		if (live) {
			log_err("%s: another pshim6-control is running", path);
			close(fd);
			return -1;
		}
	}
	/* a stale socket is replaced; anything else there is not ours to delete
	 * (a mistyped control.socket naming a file) */
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		log_err("control socket %s: exists and is not a socket; not removed", path);
		close(fd);
		return -1;
	}
	unlink(path);
	/* bind under a restrictive umask so there is no window with wider access */
	mode_t old = umask(0777 & ~d->conf->control.socket_mode);
	int rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (rc < 0) {
		log_err("control socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (chmod(path, d->conf->control.socket_mode) < 0) {
		log_err("control socket %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	/* The group is set before listen(), so nobody can connect while the
	 * socket is 0660 under the daemon's own group. */
	const char *grp = d->conf->control.socket_group;
	if (grp[0]) {
		errno = 0;
		struct group *gr = getgrnam(grp);
		if (!gr || chown(path, (uid_t)-1, gr->gr_gid) < 0) {
			log_err("control socket %s: group %s: %s", path, grp,
				gr ? strerror(errno) : errno ? strerror(errno) : "no such group");
			close(fd);
			unlink(path);
			return -1;
		}
	}
	if (listen(fd, 16) < 0) {
		log_err("control socket %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	log_info("control socket %s mode 0%03o%s%s", path, d->conf->control.socket_mode,
		 grp[0] ? " group " : "", grp);
	d->listen_fd = fd;
	return 0;
}

static void client_drop(struct daemon *d, int i)
{
	struct client *c = d->clients[i];
	close(c->fd);
	free(c->out);
	free(c);
	d->clients[i] = NULL;
}

void ctlsock_close(struct daemon *d)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (d->clients[i])
			client_drop(d, i);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->conf->control.socket);
	}
	d->listen_fd = -1;
}

/* Short of descriptors or memory the listener stays readable: polling it
 * at once again would spin the daemon's only thread. */
static void accept_failed(struct daemon *d, int err)
{
	uint64_t n = ++d->st.clients_accept_failed;
	d->accept_resume_ns = now_ns() + CTL_ACCEPT_PAUSE_NS;
	if (log_nth(n))
		log_warn("control socket: accept: %s (%llu times); not accepting for %llu ms",
			 strerror(err), (unsigned long long)n, (unsigned long long)(CTL_ACCEPT_PAUSE_NS / 1000000));
}

/*
 * All slots taken: the client silent the longest gives way, if it has been
 * silent CTL_IDLE_EVICT_NS.  Otherwise clients that connect and never speak
 * (a hung script, a forgotten `socat`) would lock the operator out, while a
 * client in the middle of a dump or a request keeps its place.  Returns the
 * freed slot or -1.
 */
static int evict_idle(struct daemon *d, uint64_t now)
{
	int oldest = -1;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (d->clients[i] && (oldest < 0 || d->clients[i]->active_ns < d->clients[oldest]->active_ns))
			oldest = i;
	if (oldest < 0 || now - d->clients[oldest]->active_ns < CTL_IDLE_EVICT_NS)
		return -1;
	static const char idle[] = "{\"ok\":false,\"error\":\"idle; disconnected to make room\"}\n";
	if (d->clients[oldest]->outoff == d->clients[oldest]->outlen &&
	    write(d->clients[oldest]->fd, idle, sizeof idle - 1) < 0) { /* best effort */ }
	uint64_t n = ++d->st.clients_evicted_idle;
	if (log_nth(n))
		log_warn("control socket: all %d client slots taken; the longest idle client (%llu s) disconnected "
			 "(%llu times)", CTL_MAX_CLIENTS, (unsigned long long)((now - d->clients[oldest]->active_ns) / 1000000000ULL),
			 (unsigned long long)n);
	client_drop(d, oldest);
	return oldest;
}

void ctlsock_accept(struct daemon *d)
{
	int fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			accept_failed(d, errno);
		return;
	}
	uint64_t now = now_ns();
	int slot = -1;
	for (int i = 0; i < CTL_MAX_CLIENTS && slot < 0; i++)
		if (!d->clients[i])
			slot = i;
	if (slot < 0)
		slot = evict_idle(d, now);
	if (slot >= 0) {
		struct client *c = calloc(1, sizeof(*c));
		if (!c) {   /* short of memory: the failed accept it is */
			close(fd);
			accept_failed(d, ENOMEM);
			return;
		}
		c->fd = fd;
		c->active_ns = now;
		d->clients[slot] = c;
		d->st.clients_accepted++;
		return;
	}
	static const char full[] = "{\"ok\":false,\"error\":\"too many clients\"}\n";
	if (write(fd, full, sizeof full - 1) < 0) { /* best effort */ }
	close(fd);
	d->st.clients_refused_full++;
}

static void queue_reply(struct daemon *d, int i, const char *buf, size_t len)
{
	struct client *c = d->clients[i];
	if (c->outlen - c->outoff + len > CTL_OUT_MAX) {
		d->st.replies_dropped++;
		log_warn("control client not reading its replies; disconnected");
		client_drop(d, i);
		return;
	}
	/* what the socket took is not kept: a client reading along with a
	 * burst would otherwise have the whole burst held for it */
	if (c->outoff) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	char *n = realloc(c->out, c->outlen + len);
	if (!n) {
		client_drop(d, i);
		return;
	}
	memcpy(n + c->outlen, buf, len);
	c->out = n;
	c->outlen += len;
	ctlsock_write(d, i);
}

void ctlsock_read(struct daemon *d, int i)
{
	struct client *c = d->clients[i];
	ssize_t r = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		client_drop(d, i);
		return;
	}
	if (r < 0)
		return;
	c->active_ns = now_ns();
	c->inlen += (size_t)r;
	for (;;) {
		c = d->clients[i];
		if (!c)
			return;
		char *nl = memchr(c->in, '\n', c->inlen);
		if (!nl) {
			if (c->inlen == sizeof c->in) {
				static const char big[] = "{\"ok\":false,\"error\":\"request line too long\"}\n";
				d->st.overlong++;
				if (write(c->fd, big, sizeof big - 1) < 0) { /* best effort */ }
				client_drop(d, i);
			}
			return;
		}
		size_t len = (size_t)(nl - c->in);
		char *out = NULL;
		size_t outlen = 0;
		FILE *f = open_memstream(&out, &outlen);
		if (!f) {
			client_drop(d, i);
			return;
		}
		d->st.requests++;
		commands_handle(d, c->in, len, f);
		fclose(f);
		memmove(c->in, nl + 1, c->inlen - len - 1);
		c->inlen -= len + 1;
		queue_reply(d, i, out, outlen);
		free(out);
	}
}

void ctlsock_write(struct daemon *d, int i)
{
	struct client *c = d->clients[i];
	if (!c)
		return;
	while (c->outoff < c->outlen) {
		ssize_t w = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			client_drop(d, i);
			return;
		}
		c->outoff += (size_t)w;
		c->active_ns = now_ns();
	}
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = 0;
}
