/*
 * The listening side of the ALG's control socket: one connection at a time
 * (requests are rare and come from pshim6-control or an operator), lines up
 * to 4 KiB, 2 s to send each.  The thread also re-reads the lease file.
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
	if (!line || !reply)
		goto out;
	for (int k = 0; k < 100 && !atomic_load(&d->stop);) {
		char *nl = memchr(line, '\n', have);
		if (nl) {
			*nl = 0;
			int n = dnsalg_ctl_handle(&d->ctx, ops, line, dnsalg_now_ms(), reply, 8192);
			if (n <= 0 || send(fd, reply, (size_t)n, MSG_NOSIGNAL) != n)
				goto out;
			size_t used = (size_t)(nl - line) + 1;
			memmove(line, nl + 1, have - used);
			have -= used;
			k++;
			continue;
		}
		if (have == CTL_LINE_MAX - 1) {
			const char *e = "{\"ok\":false,\"error\":\"line too long\"}\n";
			send(fd, e, strlen(e), MSG_NOSIGNAL);
			goto out;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 2000) <= 0)
			goto out;
		ssize_t r = recv(fd, line + have, CTL_LINE_MAX - 1 - have, 0);
		if (r <= 0)
			goto out;
		have += (size_t)r;
	}
out:
	free(line);
	free(reply);
}

void *dnsalg_ctl_main(void *arg)
{
	struct dnsalg_daemon *d = arg;
	struct dnsalg_upstream *u = dnsalg_upstream_new(d->o);
	if (!u) {
		fprintf(stderr, "pshim6-dnsalg: cannot create the control resolver\n");
		return NULL;
	}
	struct dnsalg_upstream_ops ops = dnsalg_upstream_ops(u);
	while (!atomic_load(&d->stop)) {
		if (d->ctx.inside)
			dnsalg_inside_refresh(d->ctx.inside, dnsalg_now_ms());
		struct pollfd p = { .fd = d->ctl_fd, .events = POLLIN };
		if (d->ctl_fd < 0 || poll(&p, 1, 1000) <= 0) {
			if (d->ctl_fd < 0)
				poll(NULL, 0, 1000);
			continue;
		}
		int fd = accept4(d->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve(d, &ops, fd);
		close(fd);
	}
	dnsalg_upstream_free(u);
	return NULL;
}
