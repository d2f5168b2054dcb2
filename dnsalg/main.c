/*
 * pshim6-dnsalg: the DNS server of the site's hosts.  Binds port 53 (UDP and
 * TCP) and its control socket as root, then drops to the configured user
 * and runs: UDP fast-path threads, resolver threads, TCP threads, the
 * control thread and the push thread.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/prctl.h>

#include "server.h"

static const char usage_text[] =
"Usage: pshim6-dnsalg [-c FILE] [-n [-v]] [OPTION]...\n"
"\n"
"The DNS application-level gateway of a P-SHIM6 site.  Inside hosts use it as\n"
"their DNS server.  For an outside name it asks upstream for the AAAA set and\n"
"the ULID record (a private-use RR type holding the peer's CMULA).  If a ULID\n"
"record exists the answer is the CMULA as AAAA with the minimum TTL, and the\n"
"AAAA set is kept as the peer's locators and pushed to pshim6-control.\n"
"Without one, the AAAA answer passes unchanged.  Inside names get the hosts'\n"
"CMULAs (config hosts, Kea leases); PTR for those CMULAs is answered too.\n"
"Every other query passes through untouched.\n"
"\n"
"Options (command-line values override the config file):\n"
"  -c, --config FILE       appliance config (libconfig); sections dnsalg, hosts,\n"
"                          site.cmula_prefixes, control.socket, dhcp.lease_file\n"
"  -n, --check             check the config and exit (0 = valid)\n"
"  -v, --verbose           with -n: print the effective settings\n"
"  -l, --listen ADDR       listen address (repeatable; default ::)\n"
"  -p, --port N            DNS port (default 53)\n"
"  -u, --upstream ADDR     upstream server, ADDR or [ADDR]:PORT (repeatable)\n"
"  -t, --ulid-type N       ULID RR type, 65280..65533 (default 65300)\n"
"  -z, --zone NAME         inside zone, e.g. site1.example.\n"
"  -H, --host NAME=CMULA   static inside host (repeatable)\n"
"  -P, --prefix P/L        site CMULA prefix, for PTR (repeatable)\n"
"  -L, --leases FILE       Kea memfile lease6 CSV to take inside hosts from\n"
"  -s, --socket PATH       own control socket (default /run/pshim6/dnsalg.sock)\n"
"  -C, --control PATH      pshim6-control socket for pushes; \"none\" disables\n"
"                          (default /run/pshim6/control.sock)\n"
"  -U, --user USER         drop privileges to USER after binding\n"
"  -D, --dnssec POLICY     rewrite-strip (default) or passthrough: what to do\n"
"                          with a signed AAAA answer to a DO query\n"
"  -T, --timeout MS        upstream timeout (default 2000)\n"
"  -e, --cache N           answer cache entries (default 65536)\n"
"  -i, --inflight N        queued cache misses (default 1024)\n"
"  -r, --resolvers N       resolver threads (default 8)\n"
"  -w, --udp-threads N     UDP threads (default 2)\n"
"  -x, --tcp-clients N     concurrent TCP clients (default 64)\n"
"  -I, --tcp-idle MS       a TCP client's next query must arrive whole within MS\n"
"                          of the last answer, 1000..300000 (default 10000)\n"
"  -m, --max-ttl SEC       cap on cached TTLs (default 86400)\n"
"  -K, --cookie-rotate SEC roll the DNS cookie secret over every SEC seconds,\n"
"                          60..604800, 0 = never (default 3600); a retired\n"
"                          secret verifies for an hour after its rollover\n"
"                          (at most 32 retired secrets are kept)\n"
"  -h, --help              this text\n"
"  -V, --version           version\n"
"\n"
"Behaviour:\n"
"  CD set            no rewrite (the client validates)\n"
"  DO + signed AAAA  policy: rewrite-strip removes RRSIG/NSEC and marks the\n"
"                    answer with EDE 4 (Forged Answer); passthrough leaves it\n"
"  malformed query   FORMERR;  upstream timeout: SERVFAIL\n"
"  answer too big    TC=1 over UDP; the client retries over TCP\n"
"  full miss queue   the query is dropped and counted (inflight_full)\n"
"\n"
"Control socket (one JSON object per line):\n"
"  {\"cmd\":\"counters\"}\n"
"  {\"cmd\":\"resolve-ulid\",\"ulid\":\"<v6>\"}   PTR, then AAAA + ULID of the name\n"
"\n"
"Signals: SIGTERM/SIGINT stop; SIGHUP re-reads the config for the inside hosts,\n"
"dnsalg.cookie_rotate_s, tcp_idle_ms, upstreams and timeout_ms (each one given\n"
"on the command line stays; other settings need a restart; a config with\n"
"errors changes nothing); SIGUSR1 rolls the cookie secret over at once and\n"
"keeps only the secret it retires (a secret feared leaked).\n"
"Exit status: 0 ok, 1 config or startup error.\n"
"See pshim6-dnsalg(8).\n";

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

static unsigned long num(const char *opt, const char *s, unsigned long lo, unsigned long hi)
{
	char *e;
	errno = 0;
	unsigned long v = strtoul(s, &e, 10);
	if (errno || *e || !*s || v < lo || v > hi) {
		fprintf(stderr, "pshim6-dnsalg: %s: expected a number %lu..%lu, got \"%s\"\n", opt, lo, hi, s);
		exit(1);
	}
	return v;
}

static void print_opts(const struct dnsalg_opts *o)
{
	char a[INET6_ADDRSTRLEN];
	printf("config = \"%s\";\nlisten = [", o->config_file);
	for (unsigned i = 0; i < o->n_listen; i++)
		printf("%s\"%s\"", i ? ", " : " ", inet_ntop(AF_INET6, &o->listen[i], a, sizeof a));
	printf(" ];\nport = %u;\nupstreams = [", o->port);
	for (unsigned i = 0; i < o->n_upstreams; i++)
		printf("%s\"[%s]:%u\"", i ? ", " : " ",
		       inet_ntop(AF_INET6, &o->upstreams[i].addr, a, sizeof a), o->upstreams[i].port);
	printf(" ];\nulid_rrtype = %u;\ncache_entries = %u;\nmax_inflight = %u;\n"
	       "resolver_threads = %u;\nudp_threads = %u;\ntimeout_ms = %u;\ntcp_clients = %u;\ntcp_idle_ms = %u;\n"
	       "max_ttl = %u;\ncookie_rotate_s = %u;\ndnssec = \"%s\";\ncontrol_socket = \"%s\";\npush_socket = \"%s\";\n"
	       "user = \"%s\";\nzone = \"%s\";\nlease_file = \"%s\";\ncmula_prefixes = [",
	       o->ulid_type, o->cache_entries, o->max_inflight, o->resolver_threads, o->udp_threads,
	       o->timeout_ms, o->tcp_clients, o->tcp_idle_ms, o->max_ttl, o->cookie_rotate_s,
	       o->dnssec == DNSALG_DNSSEC_PASSTHROUGH ? "passthrough" : "rewrite-strip",
	       o->control_socket, o->push_socket, o->user, o->zone, o->lease_file);
	for (unsigned i = 0; i < o->n_prefixes; i++)
		printf("%s\"%s/%u\"", i ? ", " : " ",
		       inet_ntop(AF_INET6, &o->cmula_prefixes[i].addr, a, sizeof a), o->cmula_prefixes[i].len);
	printf(" ];\nhosts = (");
	for (unsigned i = 0; i < o->n_hosts; i++)
		printf("%s\n  { name = \"%s\"; cmula = \"%s\"; }", i ? "," : "", o->hosts[i].name,
		       inet_ntop(AF_INET6, &o->hosts[i].addr, a, sizeof a));
	printf("\n);\n");
}

static int drop_privileges(const char *user)
{
	if (!user[0] || geteuid() != 0)
		return 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		fprintf(stderr, "pshim6-dnsalg: user \"%s\" does not exist\n", user);
		return -1;
	}
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		fprintf(stderr, "pshim6-dnsalg: cannot drop privileges to %s: %s\n", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		fprintf(stderr, "pshim6-dnsalg: privileges not dropped\n");
		return -1;
	}
	prctl(PR_SET_DUMPABLE, 0);
	return 0;
}

static void on_signal(int s) { (void)s; }

/*
 * The main thread waits for signals and is the one writer of the cookie
 * secrets: it wakes at their rollover deadline, and SIGUSR1 rolls them over
 * at once (an operator who fears the secret leaked).  It also closes the
 * upstream TCP connections kept idle too long: the threads that kept them
 * may wait for work far longer.  Returns on a stop signal.
 */
static pthread_t main_thread;

/* A kept upstream connection now waits to be closed when idle, and the main
 * thread may be asleep on a later deadline or none. */
static void wake_main(void *arg)
{
	(void)arg;
	pthread_kill(main_thread, SIGUSR2);
}

static void wait_signals(struct dnsalg_daemon *d, const sigset_t *set,
			 const struct dnsalg_reload_keep *keep)
{
	struct dnsalg_cookie_secrets *ck = &d->ctx.cookie;
	char line[320];
	for (;;) {
		uint64_t now = dnsalg_now_ms(), due = dnsalg_cookie_deadline(ck);
		uint64_t idle = dnsalg_upstream_keep_idle(d->keep, now);
		if (idle < due)
			due = idle;
		int s;
		if (due == UINT64_MAX) {
			s = sigwaitinfo(set, NULL);
		} else {
			/* a failed rollover moved the deadline one interval on too,
			 * so this never spins on a source that keeps failing */
			uint64_t ms = due > now ? due - now : 0;
			if (ms > 60000)
				ms = 60000;
			struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 };
			s = sigtimedwait(set, NULL, &ts);
		}
		if (s < 0 && errno != EAGAIN && errno != EINTR)
			return;
		if (s == SIGTERM || s == SIGINT)
			return;
		if (s == SIGUSR2)
			continue;
		if (s == SIGHUP)
			dnsalg_reload(&d->ctx, d->o, keep, dnsalg_now_ms(), stderr);
		int r;
		if (s == SIGUSR1) {
			/* an operator asked: always answer in the log */
			/* a secret feared leaked: only the one just retired stays */
			r = dnsalg_cookie_rotate_forget(ck, dnsalg_now_ms(), (uint32_t)time(NULL), &d->cnt);
			if (r < 0)
				fprintf(stderr, "pshim6-dnsalg: SIGUSR1: cookie secret not rolled over: "
					"no fresh random bytes (%s); every secret kept\n",
					strerror(ck->random_err));
			else
				fprintf(stderr, "pshim6-dnsalg: SIGUSR1: cookie secret rolled over\n");
		} else {
			/* the wall clock the query threads stamp cookies with */
			r = dnsalg_cookie_tick(ck, dnsalg_now_ms(), (uint32_t)time(NULL), &d->cnt);
		}
		if (dnsalg_cookie_log_line(ck, r, line, sizeof line) > 0 && !(s == SIGUSR1 && r < 0))
			fprintf(stderr, "pshim6-dnsalg: %s\n", line);
	}
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", 1, 0, 'c' }, { "check", 0, 0, 'n' }, { "verbose", 0, 0, 'v' },
		{ "listen", 1, 0, 'l' }, { "port", 1, 0, 'p' }, { "upstream", 1, 0, 'u' },
		{ "ulid-type", 1, 0, 't' }, { "zone", 1, 0, 'z' }, { "host", 1, 0, 'H' },
		{ "prefix", 1, 0, 'P' }, { "leases", 1, 0, 'L' }, { "socket", 1, 0, 's' },
		{ "control", 1, 0, 'C' }, { "user", 1, 0, 'U' }, { "dnssec", 1, 0, 'D' },
		{ "timeout", 1, 0, 'T' }, { "cache", 1, 0, 'e' }, { "inflight", 1, 0, 'i' },
		{ "resolvers", 1, 0, 'r' }, { "udp-threads", 1, 0, 'w' }, { "tcp-clients", 1, 0, 'x' },
		{ "tcp-idle", 1, 0, 'I' }, { "max-ttl", 1, 0, 'm' }, { "cookie-rotate", 1, 0, 'K' },
		{ "help", 0, 0, 'h' }, { "version", 0, 0, 'V' },
		{ 0, 0, 0, 0 } };
	static const char so[] = "c:nvl:p:u:t:z:H:P:L:s:C:U:D:T:e:i:r:w:x:I:m:K:hV";
	static struct dnsalg_opts o;
	dnsalg_opts_defaults(&o);
	bool check = false;
	int c;
	/* First pass: the config file, so that the command line overrides it. */
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (c == 'c' && dnsalg_opts_load_conf(&o, optarg) < 0)
			return 1;
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'V') {
			puts("pshim6-dnsalg 0.1.0");
			return 0;
		}
		if (c == '?') {
			usage(stderr);
			return 1;
		}
	}
	/* -H hosts follow the config's and -K, -I, -u, -T override it, across
	 * reloads too */
	struct dnsalg_reload_keep keep = { .n_conf_hosts = o.n_hosts };
	bool cl_listen = false, cl_up = false;
	optind = 1;
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		struct dnsalg_endpoint ep;
		struct in6_addr a;
		char buf[DNSALG_NAME_MAX];
		switch (c) {
		case 'n': check = true; break;
		case 'v': o.verbose++; break;
		case 'l':
			if (!cl_listen)
				o.n_listen = 0;
			cl_listen = true;
			if (o.n_listen == DNSALG_MAX_LISTEN || dnsalg_endpoint_parse(optarg, 0, &ep) < 0) {
				fprintf(stderr, "pshim6-dnsalg: --listen %s: bad address or too many\n", optarg);
				return 1;
			}
			o.listen[o.n_listen++] = ep.addr;
			if (ep.port)
				o.port = ep.port;
			break;
		case 'p': o.port = (uint16_t)num("--port", optarg, 1, 65535); break;
		case 'u':
			if (!cl_up)
				o.n_upstreams = 0;
			cl_up = true;
			keep.upstreams_cmdline = true;
			if (o.n_upstreams == DNSALG_MAX_UPSTREAMS ||
			    dnsalg_endpoint_parse(optarg, 53, &o.upstreams[o.n_upstreams]) < 0) {
				fprintf(stderr, "pshim6-dnsalg: --upstream %s: bad address or too many\n", optarg);
				return 1;
			}
			o.n_upstreams++;
			break;
		case 't': o.ulid_type = (uint16_t)num("--ulid-type", optarg, 65280, 65533); break;
		case 'z':
			if (dnsalg_name_norm(optarg, NULL, o.zone, sizeof o.zone) < 0) {
				fprintf(stderr, "pshim6-dnsalg: --zone %s: not a DNS name\n", optarg);
				return 1;
			}
			break;
		case 'H': {
			const char *eq = strchr(optarg, '=');
			if (!eq || (size_t)(eq - optarg) >= sizeof buf) {
				fprintf(stderr, "pshim6-dnsalg: --host %s: expected NAME=CMULA\n", optarg);
				return 1;
			}
			memcpy(buf, optarg, (size_t)(eq - optarg));
			buf[eq - optarg] = 0;
			if (inet_pton(AF_INET6, eq + 1, &a) != 1 || dnsalg_opts_add_host(&o, buf, &a) < 0) {
				fprintf(stderr, "pshim6-dnsalg: --host %s: bad name or address\n", optarg);
				return 1;
			}
			break;
		}
		case 'P':
			if (o.n_prefixes == DNSALG_MAX_PREFIXES ||
			    dnsalg_prefix_parse(optarg, &o.cmula_prefixes[o.n_prefixes]) < 0) {
				fprintf(stderr, "pshim6-dnsalg: --prefix %s: bad prefix or too many\n", optarg);
				return 1;
			}
			o.n_prefixes++;
			break;
		case 'L': snprintf(o.lease_file, sizeof o.lease_file, "%s", optarg); break;
		case 's': snprintf(o.control_socket, sizeof o.control_socket, "%s", optarg); break;
		case 'C':
			snprintf(o.push_socket, sizeof o.push_socket, "%s",
				 strcmp(optarg, "none") ? optarg : "");
			break;
		case 'U': snprintf(o.user, sizeof o.user, "%s", optarg); break;
		case 'D':
			if (!strcmp(optarg, "rewrite-strip"))
				o.dnssec = DNSALG_DNSSEC_REWRITE_STRIP;
			else if (!strcmp(optarg, "passthrough"))
				o.dnssec = DNSALG_DNSSEC_PASSTHROUGH;
			else {
				fprintf(stderr, "pshim6-dnsalg: --dnssec %s: rewrite-strip or passthrough\n", optarg);
				return 1;
			}
			break;
		case 'T':
			o.timeout_ms = (uint32_t)num("--timeout", optarg, 10, 60000);
			keep.timeout_cmdline = true;
			break;
		case 'e': o.cache_entries = (uint32_t)num("--cache", optarg, 4, 16u << 20); break;
		case 'i': o.max_inflight = (uint32_t)num("--inflight", optarg, 1, 1u << 20); break;
		case 'r': o.resolver_threads = (uint32_t)num("--resolvers", optarg, 1, 256); break;
		case 'w': o.udp_threads = (uint32_t)num("--udp-threads", optarg, 1, 64); break;
		case 'x': o.tcp_clients = (uint32_t)num("--tcp-clients", optarg, 1, 1024); break;
		case 'I':
			o.tcp_idle_ms = (uint32_t)num("--tcp-idle", optarg, 1000, 300000);
			keep.tcp_idle_cmdline = true;
			break;
		case 'm': o.max_ttl = (uint32_t)num("--max-ttl", optarg, 1, 604800); break;
		case 'K':
			o.cookie_rotate_s = (uint32_t)num("--cookie-rotate", optarg, 0, 604800);
			keep.cookie_rotate_cmdline = true;
			if (o.cookie_rotate_s && o.cookie_rotate_s < 60) {
				fprintf(stderr, "pshim6-dnsalg: --cookie-rotate %s: 0 (never) or 60..604800\n", optarg);
				return 1;
			}
			break;
		default: break;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "pshim6-dnsalg: unexpected argument \"%s\"\n", argv[optind]);
		return 1;
	}
	if (o.n_upstreams == 0) {
		fprintf(stderr, "pshim6-dnsalg: no upstream server (config dnsalg.upstreams or -u)\n");
		return 1;
	}
	o.ulid_cache_entries = o.cache_entries / 4 < 256 ? 256 : o.cache_entries / 4;
	if (check) {
		if (o.verbose)
			print_opts(&o);
		return 0;
	}

	static struct dnsalg_daemon d;
	d.o = &o;
	d.ctl_fd = -1;
	d.ctx.o = &o;
	d.ctx.cnt = &d.cnt;
	atomic_init(&d.ctx.tcp_idle_ms, o.tcp_idle_ms);
	static struct dnsalg_upstream_list upstreams;
	if (dnsalg_upstream_list_init(&upstreams, o.upstreams, o.n_upstreams, o.timeout_ms) == 0)
		d.ctx.upstreams = &upstreams;
	d.ctx.acache = dnsalg_acache_new(o.cache_entries, o.max_ttl);
	d.ctx.ucache = dnsalg_ucache_new(o.ulid_cache_entries);
	d.ctx.inside = dnsalg_inside_new(&o);
	d.jobs = calloc(o.max_inflight, sizeof *d.jobs);
	d.keep = dnsalg_upstream_keep_new();
	d.health = dnsalg_health_new();
	if (!d.ctx.acache || !d.ctx.ucache || !d.ctx.inside || !d.jobs || !d.keep || !d.health) {
		fprintf(stderr, "pshim6-dnsalg: out of memory\n");
		return 1;
	}
	pthread_mutex_init(&d.jlock, NULL);
	pthread_cond_init(&d.jcond, NULL);
	pthread_mutex_init(&d.tlock, NULL);
	pthread_cond_init(&d.tcond, NULL);
	if (dnsalg_tcpq_init(&d.tcpq, o.tcp_clients) < 0) {
		fprintf(stderr, "pshim6-dnsalg: out of memory for the TCP queue\n");
		return 1;
	}
	/* no cookie answers without a secret nobody can guess: refuse to start */
	if (dnsalg_cookie_init(&d.ctx.cookie, o.cookie_rotate_s, dnsalg_now_ms()) < 0) {
		fprintf(stderr, "pshim6-dnsalg: cannot draw the DNS cookie secret: getrandom: %s; "
			"not starting\n", strerror(d.ctx.cookie.random_err));
		return 1;
	}
	if (dnsalg_udp_bind(&d) < 0 || dnsalg_tcp_bind(&d) < 0) {
		fprintf(stderr, "pshim6-dnsalg: cannot bind port %u: %s\n", o.port, strerror(errno));
		return 1;
	}
	if (o.control_socket[0] && dnsalg_ctl_bind(&d) < 0) {
		fprintf(stderr, "pshim6-dnsalg: %s: %s\n", o.control_socket, strerror(errno));
		return 1;
	}
	if (o.control_socket[0] && o.user[0] && geteuid() == 0) {
		struct passwd *pw = getpwnam(o.user);
		if (pw && chown(o.control_socket, 0, pw->pw_gid) < 0)
			fprintf(stderr, "pshim6-dnsalg: chown %s: %s\n", o.control_socket, strerror(errno));
	}
	if (drop_privileges(o.user) < 0)
		return 1;

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Threads inherit a mask without the stop signals; main waits for them. */
	sigset_t stopset, old;
	sigemptyset(&stopset);
	sigaddset(&stopset, SIGTERM);
	sigaddset(&stopset, SIGINT);
	sigaddset(&stopset, SIGHUP);
	sigaddset(&stopset, SIGUSR1);
	sigaddset(&stopset, SIGUSR2);   /* wake_main: only makes it look at its deadlines again */
	pthread_sigmask(SIG_BLOCK, &stopset, &old);
	main_thread = pthread_self();
	dnsalg_upstream_keep_waker(d.keep, wake_main, NULL);

	if (o.push_socket[0]) {
		d.pusher = dnsalg_pusher_start(o.push_socket, 256, &d.cnt);
		if (d.pusher) {
			d.ctx.push.push = dnsalg_pusher_push;
			d.ctx.push.arg = d.pusher;
		}
	}
	unsigned tcp = o.tcp_clients;
	d.n_threads = o.udp_threads + o.resolver_threads + tcp + 2;
	d.threads = calloc(d.n_threads, sizeof *d.threads);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256 * 1024);
	unsigned k = 0;
	bool ok = d.threads != NULL;
	for (unsigned i = 0; ok && i < o.udp_threads; i++)
		ok = pthread_create(&d.threads[k++], &at, dnsalg_udp_main, &d) == 0;
	for (unsigned i = 0; ok && i < o.resolver_threads; i++)
		ok = pthread_create(&d.threads[k++], &at, dnsalg_resolver_main, &d) == 0;
	for (unsigned i = 0; ok && i < tcp; i++)
		ok = pthread_create(&d.threads[k++], &at, dnsalg_tcp_main, &d) == 0;
	if (ok)
		ok = pthread_create(&d.threads[k++], &at, dnsalg_tcp_accept_main, &d) == 0;
	if (ok)
		ok = pthread_create(&d.threads[k++], &at, dnsalg_ctl_main, &d) == 0;
	if (!ok) {
		fprintf(stderr, "pshim6-dnsalg: cannot start threads\n");
		k = d.threads ? k - 1 : 0;
		atomic_store(&d.stop, true);
	} else {
		fprintf(stderr, "pshim6-dnsalg: serving on port %u (%u upstreams, ULID type %u, "
			"cookie secret rollover every %u s)\n",
			o.port, o.n_upstreams, o.ulid_type, o.cookie_rotate_s);
		wait_signals(&d, &stopset, &keep);
	}
	atomic_store(&d.stop, true);
	pthread_mutex_lock(&d.jlock);
	pthread_cond_broadcast(&d.jcond);
	pthread_mutex_unlock(&d.jlock);
	pthread_mutex_lock(&d.tlock);
	pthread_cond_broadcast(&d.tcond);
	pthread_mutex_unlock(&d.tlock);
	for (unsigned i = 0; i < k; i++)
		pthread_join(d.threads[i], NULL);
	dnsalg_pusher_stop(d.pusher);
	if (d.ctl_fd >= 0)
		unlink(o.control_socket); /* may fail after the privilege drop; harmless */
	free(d.threads);
	free(d.jobs);
	for (int fd; (fd = dnsalg_tcpq_take(&d.tcpq)) >= 0;)
		close(fd);
	dnsalg_tcpq_free(&d.tcpq);
	dnsalg_upstream_keep_free(d.keep);
	dnsalg_health_free(d.health);
	dnsalg_acache_free(d.ctx.acache);
	dnsalg_ucache_free(d.ctx.ucache);
	dnsalg_inside_free(d.ctx.inside);
	dnsalg_opts_free(&o);
	return ok ? 0 : 1;
}
