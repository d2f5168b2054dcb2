/*
 * Moving a whole message over a stream socket within a deadline: the TCP
 * threads' clients (server_tcp.c) and the upstream over TCP (upstream.c).
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include "dnsalg.h"

/*
 * dnsalg.h has the contract.  The deadline covers the whole message,
 * not each chunk: a client that trickles a byte at a time, or reads its
 * answer that way, would otherwise hold one of the tcp_clients threads for
 * as long as it likes.
 */
int dnsalg_xfer_full(int fd, uint8_t *b, size_t n, short dir, uint64_t deadline, const _Atomic bool *stop)
{
	size_t done = 0;
	while (done < n) {
		uint64_t now = dnsalg_now_ms();
		if (now >= deadline)
			return -2;
		struct pollfd p = { .fd = fd, .events = dir };
		/* wake at least every DNSALG_STOP_CHECK_MS: waiting out the whole
		 * deadline (tcp_idle_ms, up to 300 s) would hold stop that long
		 * for every idle client of the TCP threads */
		uint64_t wait = deadline - now < DNSALG_STOP_CHECK_MS ? deadline - now : DNSALG_STOP_CHECK_MS;
		int pr = poll(&p, 1, (int)wait);
		if (stop && atomic_load(stop))
			return -1;
		if (pr == 0)
			continue; /* the deadline is checked above */
		if (pr < 0)
			return -1;
		ssize_t r = dir == POLLIN ? recv(fd, b + done, n - done, MSG_DONTWAIT)
					  : send(fd, b + done, n - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}
