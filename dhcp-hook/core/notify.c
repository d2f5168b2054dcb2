/*
 * Lease notices to pshim6-control.  One stream connection per hook, kept
 * open; each line waits for its reply line so the stream never drifts.
 * Timeouts are short and a failure silences attempts for RETRY_S seconds, so
 * an absent or hung control daemon costs DHCP at most one timeout per period.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "pdh.h"

#define RETRY_S 5

void pdh_notifier_init(struct pdh_notifier *n, const char *path, unsigned timeout_ms)
{
	memset(n, 0, sizeof(*n));
	pthread_mutex_init(&n->lock, NULL);
	snprintf(n->path, sizeof(n->path), "%s", path ? path : "");
	n->fd = -1;
	n->timeout_ms = timeout_ms;
}

void pdh_notifier_close(struct pdh_notifier *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	pthread_mutex_destroy(&n->lock);
}

static int wait_fd(int fd, short ev, unsigned ms)
{
	struct pollfd p = {.fd = fd, .events = ev};
	int r;

	do
		r = poll(&p, 1, (int)ms);
	while (r < 0 && errno == EINTR);
	return r == 1 ? 0 : -1;
}

static int do_connect(struct pdh_notifier *n)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	memcpy(sa.sun_path, n->path, strlen(n->path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int ok = (errno == EINPROGRESS || errno == EAGAIN) && wait_fd(fd, POLLOUT, n->timeout_ms) == 0;
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (!ok || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
			close(fd);
			return -1;
		}
	}
	n->fd = fd;
	return 0;
}

static int exchange(struct pdh_notifier *n, const char *line)
{
	size_t len = strlen(line), off = 0;
	char reply[512];
	size_t got = 0;

	while (off < len) {
		ssize_t w;
		if (wait_fd(n->fd, POLLOUT, n->timeout_ms) < 0)
			return PDH_EIO;
		w = send(n->fd, line + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return PDH_EIO;
		if (w > 0)
			off += (size_t)w;
	}
	for (;;) {
		ssize_t r;
		char *nl;
		if (wait_fd(n->fd, POLLIN, n->timeout_ms) < 0)
			return PDH_EIO;
		r = recv(n->fd, reply + got, sizeof(reply) - 1 - got, 0);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return PDH_EIO;
		if (r > 0)
			got += (size_t)r;
		nl = memchr(reply, '\n', got);
		if (nl)
			return pdh_msg_reply(reply, (size_t)(nl - reply), NULL, 0);
		if (got == sizeof(reply) - 1)
			return PDH_EIO; /* a reply line this long is not ours */
	}
}

int pdh_notifier_send(struct pdh_notifier *n, const char *line, uint64_t now)
{
	int rc;

	if (!n->path[0])
		return PDH_ENOENT;
	pthread_mutex_lock(&n->lock);
	if (n->fd < 0 && (now < n->retry_at || do_connect(n) < 0)) {
		if (now >= n->retry_at)
			n->retry_at = now + RETRY_S;
		n->skipped++;
		pthread_mutex_unlock(&n->lock);
		return PDH_ENOENT;
	}
	rc = exchange(n, line);
	if (rc == PDH_EIO) {
		close(n->fd);
		n->fd = -1;
		n->retry_at = now + RETRY_S;
	}
	if (rc == PDH_OK)
		n->sent++;
	else
		n->failed++;
	pthread_mutex_unlock(&n->lock);
	return rc;
}
