/*
 * The listening side of the ALG's control socket: one connection at a time
 * (requests are rare and come from pshim6-control or an operator), lines up
 * to 4 KiB.  Each line must arrive whole within 2 s of the connection or of
 * the answer before, and each answer must be taken within 2 s: the one
 * thread also re-reads the lease file and answers pshim6-control, so a
 * client that trickles or stops reading is cut off (ctl_timeouts) rather
 * than holding it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "server.h"

#define CTL_LINE_MAX 4096
#define CTL_LINE_MS  2000

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* All of b by `deadline`: 0, or -1 (peer gone, too slow, or stop). */
static int send_by(struct dnsalg_daemon *d, int fd, const char *b, size_t n, uint64_t deadline)
{
	int rc = dnsalg_xfer_full(fd, (uint8_t *)(uintptr_t)b, n, POLLOUT, deadline, &d->stop);
	if (rc == -2)
		DNSALG_INC(&d->cnt, ctl_timeouts);
	return rc ? -1 : 0;
}

int dnsalg_ctl_bind(struct dnsalg_daemon *d)
{
	const char *path = d->o->control_socket;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	char dir[sizeof sun.sun_path];
	snprintf(dir, sizeof dir, "%s", path);
	char *sl = strrchr(dir, '/');
	if (sl && sl != dir) {
		*sl = 0;
		mkdir(dir, 0755); /* /run/pshim6 may not exist yet */
	}
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	mode_t old = umask(0117);
	int r = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (r < 0 || listen(fd, 8) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	d->ctl_fd = fd;
	return 0;
}

static void serve(struct dnsalg_daemon *d, struct dnsalg_upstream_ops *ops, int fd)
{
	char *line = malloc(CTL_LINE_MAX), *reply = malloc(8192);
	size_t have = 0;
	uint64_t line_by = dnsalg_now_ms() + CTL_LINE_MS;
	if (!line || !reply)
		goto out;
	for (int k = 0; k < 100 && !atomic_load(&d->stop);) {
		char *nl = memchr(line, '\n', have);
		if (nl) {
			*nl = 0;
			int n = dnsalg_ctl_handle(&d->ctx, ops, line, dnsalg_now_ms(), reply, 8192);
			if (n <= 0 || send_by(d, fd, reply, (size_t)n, dnsalg_now_ms() + CTL_LINE_MS) < 0)
				goto out;
			size_t used = (size_t)(nl - line) + 1;
			memmove(line, nl + 1, have - used);
			have -= used;
			k++;
			line_by = dnsalg_now_ms() + CTL_LINE_MS;
			continue;
		}
		if (have == CTL_LINE_MAX - 1) {
			const char *e = "{\"ok\":false,\"error\":\"line too long\"}\n";
			(void)send_by(d, fd, e, strlen(e), dnsalg_now_ms() + CTL_LINE_MS);
			goto out;
		}
		uint64_t now = dnsalg_now_ms();
		if (now >= line_by) {
			if (have)   /* an idle client that sent nothing is not a fault */
				DNSALG_INC(&d->cnt, ctl_timeouts);
			goto out;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = poll(&p, 1, (int)min_u64(line_by - now, DNSALG_STOP_CHECK_MS));
		if (pr < 0 && errno != EINTR)
			goto out;
		if (pr <= 0)
			continue;
		ssize_t r = recv(fd, line + have, CTL_LINE_MAX - 1 - have, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			goto out;
		if (r > 0)
			have += (size_t)r;
	}
out:
	free(line);
	free(reply);
}

void *dnsalg_ctl_main(void *arg)
{
	struct dnsalg_daemon *d = arg;
	struct dnsalg_upstream *u = dnsalg_thread_upstream(d);
	if (!u) {
		fprintf(stderr, "pshim6-dnsalg: cannot create the control resolver\n");
		return NULL;
	}
	struct dnsalg_upstream_ops ops = dnsalg_upstream_ops(u);
	while (!atomic_load(&d->stop)) {
		if (d->ctx.inside)
			dnsalg_inside_refresh(d->ctx.inside, dnsalg_now_ms());
		struct pollfd p = { .fd = d->ctl_fd, .events = POLLIN };
		if (d->ctl_fd < 0 || poll(&p, 1, DNSALG_STOP_CHECK_MS) <= 0) {
			if (d->ctl_fd < 0)
				poll(NULL, 0, DNSALG_STOP_CHECK_MS);
			continue;
		}
		/* non-blocking: every wait in serve() has a deadline */
		int fd = accept4(d->ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			dnsalg_accept_failed(errno, &d->cnt);
			continue;
		}
		serve(d, &ops, fd);
		close(fd);
	}
	dnsalg_upstream_free(u);
	return NULL;
}
