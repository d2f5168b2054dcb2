/* The poll loop, signals and reload. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>
#include "daemon.h"
#include "heap.h"
#include "reload_keep.h"
#include "log.h"
#include "peer.h"
#include "proxy.h"
#include "resolve.h"

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void append_err(void *arg, const char *file, unsigned line, const char *msg)
{
	FILE *f = arg;
	if (line)
		fprintf(f, "%s:%u: %s\n", file, line, msg);
	else
		fprintf(f, "%s: %s\n", file, msg);
}

static void warn_restart(void *arg, const char *what)
{
	(void)arg;
	log_warn("%s changes take effect at restart%s", what,
		 strcmp(what, CONF_KEEP_PEER) ? "" : " (but sync_batch, yield_linger_ms, notify, notify_timeout_ms, address, alt_addresses, sources)");
}

int daemon_reload(struct daemon *d, char **errs)
{
	struct pshim6_conf *n = calloc(1, sizeof(*n));
	size_t len = 0;
	FILE *f = open_memstream(errs, &len);
	if (!n || !f) {
		if (f)
			fclose(f);
		free(n);
		return -1;
	}
	int rc = pshim6_conf_load(d->path, n, append_err, f);
	char why[160];
	/* the site's addressing: the dataplane refuses such a reload, and control
	 * taking it alone would hand out locators and pick ISPs it does not have */
	if (!rc && pshim6_conf_addressing_differs(d->conf, n, why, sizeof why)) {
		/* said to the asking pshim6ctl as well as to the log */
		fprintf(f, "%s: %s changed: the dataplane takes the site's prefixes and ISPs only at its start; "
			"restart both daemons to apply it\n", d->path, why);
		log_err("reload of %s: %s changed, which needs a restart of the dataplane and control", d->path, why);
		rc = -1;
	}
	fclose(f);
	if (rc) {
		d->st.reloads_refused++;
		log_err("reload of %s refused; keeping the running configuration", d->path);
		free(n);
		return -1;
	}
	/* What needs a restart is said, not silently ignored. */
	peer_conf_reload_check(&d->conf->peer, &n->peer);
	conf_keep_running(n, d->conf, warn_restart, NULL);
	struct pshim6_conf *o = d->conf;
	d->conf = n;
	proxy_reload(d, o);
	free(o);
	te_init(&d->te, d->conf);  /* new weights: round-robin restarts */
	isp_notify_conf(&d->ispn, d->conf, now_ns());
	log_setup("pshim6-control", n->control.syslog, n->control.syslog_facility, n->control.log_level);
	d->st.reloads++;
	log_notice("configuration %s reloaded (%u ISPs); %u contexts kept", d->path, n->n_isps, d->ctxs.n);
	free(*errs);
	*errs = NULL;
	return 0;
}

static int signals_open(void)
{
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGHUP);
	sigaddset(&m, SIGTERM);
	sigaddset(&m, SIGINT);
	sigprocmask(SIG_BLOCK, &m, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void signals_read(struct daemon *d)
{
	struct signalfd_siginfo si;
	while (read(d->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP) {
			char *errs = NULL;
			log_info("SIGHUP: reloading %s", d->path);
			if (daemon_reload(d, &errs) && errs) {
				char *save, *line = strtok_r(errs, "\n", &save);
				for (; line; line = strtok_r(NULL, "\n", &save))
					log_err("%s", line);
			}
			free(errs);
		} else {
			log_notice("signal %u: stopping; the dataplane keeps forwarding", si.ssi_signo);
			d->stop = true;
		}
	}
}

static uint64_t next_deadline(struct daemon *d, uint64_t now)
{
	uint64_t t = now + 1000000000ULL;   /* housekeeping at least every second */
	uint64_t dpd = dp_deadline(d);
	uint64_t pd = proxy_deadline(d);
	if (pd < t)
		t = pd;
	uint64_t rd = peer_deadline(d);
	if (rd < t)
		t = rd;
	uint64_t nd = isp_notify_deadline(&d->ispn);
	if (nd < t)
		t = nd;
	if (d->accept_resume_ns > now && d->accept_resume_ns < t)
		t = d->accept_resume_ns;
	return dpd < t ? dpd : t;
}

int ctl_daemon_run(const char *path, const struct pshim6_conf *conf, bool debug)
{
	static struct daemon d;
	uint64_t seed;

	memset(&d, 0, sizeof d);
	snprintf(d.path, sizeof d.path, "%s", path);
	d.conf = malloc(sizeof(*d.conf));
	if (!d.conf)
		return 1;
	memcpy(d.conf, conf, sizeof(*d.conf));
	log_setup("pshim6-control", debug ? false : conf->control.syslog, conf->control.syslog_facility,
		  debug ? PSHIM6_LOG_DEBUG : conf->control.log_level);
	if (RAND_bytes((unsigned char *)&seed, sizeof seed) != 1) {
		log_err("no randomness from OpenSSL");
		return 1;
	}
	d.start_ns = now_ns();
	d.listen_fd = d.sig_fd = d.dp.fd = -1;
	if (tables_init(&d.tables, conf->control.peer_cache, conf->control.lease_table, seed) ||
	    ctxtab_init(&d.ctxs, conf->engine.max_contexts)) {
		log_err("out of memory for tables");
		return 1;
	}
	te_init(&d.te, d.conf);
	proxy_init(&d);   /* without a key the daemon still serves dump-taken contexts */
	if (peer_init(&d))
		log_err("peer section unusable (see above): running as a single proxy, no replication, no takeover");
	isp_notify_init(&d.ispn, &peer_notify_ops_real, d.conf);
	isp_notify_conf(&d.ispn, d.conf, now_ns());
	d.sig_fd = signals_open();
	if (d.sig_fd < 0 || ctlsock_open(&d))
		return 1;
	log_notice("started: site %s, %u ISPs, control socket %s, dataplane %s",
		   conf->site.name, conf->n_isps, conf->control.socket, conf->dataplane.channel);
	enum heap_thp heap = heap_thp_now();
	if (heap == HEAP_THP_NOT_ASKED && conf->engine.max_contexts >= HEAP_THP_ADVISE_CONTEXTS)
		log_notice("heap on %s: with engine.max_contexts %u, background state-file saves take several "
			   "times longer (pshim6-control(8), ENVIRONMENT)", heap_thp_str(heap), conf->engine.max_contexts);
	else
		log_info("heap on %s", heap_thp_str(heap));

	while (!d.stop) {
		struct pollfd pf[4 + CTL_MAX_CLIENTS + RESOLVE_MAX];
		int idx[4 + CTL_MAX_CLIENTS + RESOLVE_MAX];
		nfds_t n = 0;
		uint64_t now = now_ns();

		log_tick();
		dp_tick(&d, now);
		proxy_tick(&d, now);
		peer_tick(&d, now);
		isp_notify_tick(&d.ispn, now);
		resolve_expire(&d, now);
		tables_expire(&d.tables, now);
		pf[n] = (struct pollfd){ .fd = d.sig_fd, .events = POLLIN };
		idx[n++] = -1;
		if (now >= d.accept_resume_ns) {
			pf[n] = (struct pollfd){ .fd = d.listen_fd, .events = POLLIN };
			idx[n++] = -2;
		}
		if (d.dp.fd >= 0) {
			pf[n] = (struct pollfd){ .fd = d.dp.fd,
				.events = (short)(POLLIN | (d.dp.outq.n ? POLLOUT : 0)) };
			idx[n++] = -3;
		}
		if (peer_fd(&d) >= 0) {
			pf[n] = (struct pollfd){ .fd = peer_fd(&d), .events = POLLIN };
			idx[n++] = -5;
		}
		for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
			struct client *c = d.clients[i];
			if (!c)
				continue;
			pf[n] = (struct pollfd){ .fd = c->fd,
				.events = (short)(c->outlen > c->outoff ? POLLOUT : POLLIN) };
			idx[n++] = i;
		}
		unsigned nr = resolve_pollfds(&d, pf + n, RESOLVE_MAX);
		for (unsigned k = 0; k < nr; k++)
			idx[n++] = -4;
		uint64_t dl = next_deadline(&d, now);
		int timeout = dl <= now ? 0 : (int)((dl - now + 999999) / 1000000);
		int r = poll(pf, n, timeout);
		if (r < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			break;
		}
		for (nfds_t i = 0; r > 0 && i < n; i++) {
			if (!pf[i].revents)
				continue;
			switch (idx[i]) {
			case -1: signals_read(&d); break;
			case -2: ctlsock_accept(&d); break;
			case -3:
				/* answers first: they are what lets the dataplane take more */
				if (pf[i].revents & (POLLIN | POLLHUP | POLLERR))
					dp_read(&d);
				if (pf[i].revents & POLLOUT)
					dp_flush(&d);
				break;
			case -4: resolve_ready(&d, pf[i].fd); break;
			case -5: peer_read(&d); break;
			default:
				if (pf[i].revents & POLLOUT)
					ctlsock_write(&d, idx[i]);
				else
					ctlsock_read(&d, idx[i]);
			}
		}
	}
	/* a signal (or a poll failure): routing is told before we go, bounded */
	peer_stop(&d);
	ctlsock_close(&d);
	dp_close(&d, "shutdown");
	peer_free(&d);
	proxy_free(&d);
	resolve_free(&d);
	tables_free(&d.tables);
	ctxtab_free(&d.ctxs);
	free(d.conf);
	close(d.sig_fd);
	log_notice("stopped");
	return 0;
}
