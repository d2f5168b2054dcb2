/*
 * SIGHUP: re-read the config and apply what a running ALG can take without
 * a restart - the inside hosts, the cookie secret's rollover interval, how
 * long a TCP client may stay idle, the upstream servers and their timeout.
 * Sockets, threads and cache sizes need a restart; the caches
 * live on.  A config with any error changes nothing (its errors are printed
 * as file:line by the loader), so a typo never leaves the ALG half-reloaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsalg.h"

static void interval_text(uint32_t s, char *buf, size_t len)
{
	if (s)
		snprintf(buf, len, "every %u s", s);
	else
		snprintf(buf, len, "never");
}

/* Servers and timeout_ms go into x->upstreams in one set: each kept from
 * the command line on its own, but one generation for both, so no query
 * starts with the new servers and the old shares. */
static void reload_upstreams(struct dnsalg_ctx *x, const struct dnsalg_opts *n,
			     const struct dnsalg_reload_keep *keep, FILE *log)
{
	struct dnsalg_endpoint was[DNSALG_MAX_UPSTREAMS];
	uint32_t gen, was_ms;
	char a[320], b[320];
	if (!x->upstreams)
		return;
	unsigned nw = dnsalg_upstream_list_get(x->upstreams, was, &was_ms, &gen);
	if (dnsalg_upstream_list_format(was, nw, a, sizeof a) < 0)
		return;
	const struct dnsalg_endpoint *ep = was;
	unsigned ne = nw;
	if (!n->n_upstreams) {
		/* at start that is an error; here the running ones stay */
		if (!keep->upstreams_cmdline)
			fprintf(log, "pshim6-dnsalg: SIGHUP: the config has no dnsalg.upstreams: keeping %s\n", a);
	} else if (dnsalg_upstream_list_format(n->upstreams, n->n_upstreams, b, sizeof b) >= 0 &&
		   strcmp(a, b)) {
		if (keep->upstreams_cmdline) {
			fprintf(log, "pshim6-dnsalg: SIGHUP: dnsalg.upstreams = %s not applied: "
				"--upstream on the command line keeps %s\n", b, a);
		} else {
			ep = n->upstreams;
			ne = n->n_upstreams;
		}
	}
	uint32_t ms = n->timeout_ms;
	if (keep->timeout_cmdline) {
		if (ms != was_ms)
			fprintf(log, "pshim6-dnsalg: SIGHUP: dnsalg.timeout_ms = %u not applied: "
				"--timeout on the command line keeps %u ms\n", ms, was_ms);
		ms = was_ms;
	}
	if (dnsalg_upstream_list_set(x->upstreams, ep, ne, ms) != 1)
		return;
	if (ep != was)
		fprintf(log, "pshim6-dnsalg: SIGHUP: upstreams %s (was %s), from each thread's next query on\n",
			b, a);
	if (ms != was_ms)
		fprintf(log, "pshim6-dnsalg: SIGHUP: upstream timeout %u ms (was %u), "
			"from each thread's next query on\n", ms, was_ms);
}

int dnsalg_reload(struct dnsalg_ctx *x, const struct dnsalg_opts *run,
		  const struct dnsalg_reload_keep *keep, uint64_t now, FILE *log)
{
	if (!run->config_file[0]) {
		fprintf(log, "pshim6-dnsalg: SIGHUP: no config file to reload\n");
		return DNSALG_EINVAL;
	}
	struct dnsalg_opts *n = calloc(1, sizeof *n);
	if (!n)
		return DNSALG_ENOMEM;
	dnsalg_opts_defaults(n);
	int r = dnsalg_opts_load_conf(n, run->config_file);
	if (r < 0) {
		fprintf(log, "pshim6-dnsalg: SIGHUP: %s has errors; keeping the running config\n",
			run->config_file);
		goto out;
	}
	/* -H hosts follow the config's, as at start */
	for (unsigned i = keep->n_conf_hosts; i < run->n_hosts; i++)
		dnsalg_opts_add_host(n, run->hosts[i].name, &run->hosts[i].addr);
	if (x->inside && dnsalg_inside_set_hosts(x->inside, n->hosts, n->n_hosts) == 0)
		fprintf(log, "pshim6-dnsalg: SIGHUP: %u inside hosts from %s\n", n->n_hosts,
			run->config_file);

	uint32_t was = x->cookie.interval_s, want = n->cookie_rotate_s;
	char a[32], b[32];
	interval_text(was, a, sizeof a);
	interval_text(want, b, sizeof b);
	if (want != was && keep->cookie_rotate_cmdline) {
		/* the command line overrides the file, at start and on reload */
		fprintf(log, "pshim6-dnsalg: SIGHUP: dnsalg.cookie_rotate_s = %u not applied: "
			"--cookie-rotate on the command line keeps the rollover %s\n", want, a);
	} else if (dnsalg_cookie_set_interval(&x->cookie, want, now)) {
		if (want)
			fprintf(log, "pshim6-dnsalg: SIGHUP: cookie secret rollover %s (was %s); "
				"next in %u s; every secret kept\n", b, a, want);
		else
			fprintf(log, "pshim6-dnsalg: SIGHUP: cookie secret rollover %s (was %s); "
				"every secret kept\n", b, a);
	}
	uint32_t idle = atomic_load(&x->tcp_idle_ms);
	if (n->tcp_idle_ms != idle && keep->tcp_idle_cmdline)
		fprintf(log, "pshim6-dnsalg: SIGHUP: dnsalg.tcp_idle_ms = %u not applied: "
			"--tcp-idle on the command line keeps %u ms\n", n->tcp_idle_ms, idle);
	else if (n->tcp_idle_ms != idle) {
		atomic_store(&x->tcp_idle_ms, n->tcp_idle_ms);
		fprintf(log, "pshim6-dnsalg: SIGHUP: TCP clients may stay idle %u ms (was %u), "
			"from each one's next query on\n", n->tcp_idle_ms, idle);
	}
	reload_upstreams(x, n, keep, log);
out:
	dnsalg_opts_free(n);
	free(n);
	return r < 0 ? r : 0;
}
