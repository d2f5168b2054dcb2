/* control/ctlsock.c and control/commands.c together, served the way
 * daemon.c's poll loop serves them: the socket opened at control.socket from
 * a config file, real clients connected over it, and accept, read and write
 * called when poll() says so.  The daemon state is built as daemon.c builds
 * it (config, tables, context table).  What the engine, the dataplane
 * channel, the peer module, the resolver and reload would do is done by the
 * small fakes below, which record what they are asked and answer what a case
 * sets.  The clock is fake, so the pause after a failed accept() is stepped
 * through exactly; real time only bounds the waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "daemon.h"
#include "fd_count.h"
#include "fd_limit.h"
#include "log.h"
#include "peer.h"
#include "proxy.h"
#include "resolve.h"

#define MS UINT64_C(1000000)
#define WAIT_MS 20000          /* for what must happen, even on a slow, loaded machine */
#define QUIET_MS 100           /* a bounded look for what must not happen */
#define MAX_CONTEXTS 1024
#define CL_BUF (1u << 20)      /* one contexts reply of MAX_CONTEXTS fits */

/* ---- fakes of what commands.c calls outside the two modules ----------------- */

/* A client that reads while the daemon answers its burst: the daemon's one
 * thread gives the test control mid-burst only through what commands.c
 * calls, the clock among them (once per context listed), so that is where
 * this client reads, and where the memory held for it is looked at. */
static struct {
	int fd, slot;                  /* fd -1: no such client now */
	size_t peak, read;             /* most reply octets held for it; octets it read */
} mid = { .fd = -1 };

static const struct client *client_at(int slot);

static void mid_burst_read(void)
{
	const struct client *k = client_at(mid.slot);
	if (k && k->outlen > mid.peak)
		mid.peak = k->outlen;
	char b[65536];
	ssize_t r;
	while ((r = recv(mid.fd, b, sizeof b, MSG_DONTWAIT)) > 0)
		mid.read += (size_t)r;
}

static uint64_t clk;
uint64_t now_ns(void)
{
	if (mid.fd >= 0)
		mid_burst_read();
	return clk;
}

static bool engine_on;
bool proxy_enabled(const struct daemon *d) { (void)d; return engine_on; }

void proxy_counters(struct daemon *d, FILE *out, void (*put)(void *, const char *, const char *, uint64_t),
		    void *arg)
{
	(void)d;
	(void)out;
	put(arg, "engine", "i1_sent", 77);
}

void peer_counters(struct daemon *d, void (*put)(void *, const char *, const char *, uint64_t), void *arg)
{
	(void)d;
	put(arg, "peer", "takeovers", 88);
}

void peer_status(struct daemon *d, FILE *json, FILE *text)
{
	(void)d;
	if (json)
		fputs(",\"peer\":null", json);
	if (text)
		fputs("peer:       none (single proxy)\n", text);
}

static char lease_changed[64][INET6_ADDRSTRLEN];
static uint32_t lease_changed_fwd[64];
static unsigned nlease_changed;

void peer_lease_changed(struct daemon *d, const char *cmula, uint32_t fwd_was)
{
	(void)d;
	assert_true(nlease_changed < 64);
	lease_changed_fwd[nlease_changed] = fwd_was;
	snprintf(lease_changed[nlease_changed++], INET6_ADDRSTRLEN, "%s", cmula ? cmula : "(null)");
}

static struct resolve_stats rstats;
const struct resolve_stats *resolve_stats(void) { return &rstats; }

uint64_t dp_reap_sweep_ms(const struct daemon *d) { (void)d; return 1234; }

static int resync_rc;
static unsigned nresync;
int dp_resync_start(struct daemon *d) { (void)d; nresync++; return resync_rc; }

static const char *reload_errs;   /* NULL: the reload succeeds */
static unsigned nreload;

int daemon_reload(struct daemon *d, char **errs)
{
	(void)d;
	nreload++;
	if (!reload_errs)
		return 0;
	*errs = strdup(reload_errs);
	return -1;
}

/* ---- the rig ----------------------------------------------------------------- */

struct cl {
	int fd;
	int slot;                      /* the daemon's clients[] entry; -1 when refused */
	size_t len;
	char *buf;                     /* what arrived and was not taken as a line yet */
};

static struct {
	char dir[64], conf_path[96], sock[108], bad_path[96];
	struct pshim6_conf conf;
	struct daemon d;
	bool d_up;
	int fds_before;
	struct rlimit nofile;
	bool nofile_low;
	struct cl *cl[CTL_MAX_CLIENTS + 4];
	unsigned ncl;
} R;

static const struct client *client_at(int slot) { return R.d.clients[slot]; }

static uint64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void conf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	fail_msg("%s:%u: %s", file, line, msg);
}

static int setup(void **state)
{
	(void)state;
	memset(&R, 0, sizeof R);
	R.fds_before = fd_count();
	engine_on = false;
	nlease_changed = nresync = nreload = 0;
	resync_rc = 0;
	reload_errs = NULL;
	memset(&rstats, 0, sizeof rstats);
	mid.fd = -1;
	mid.peak = mid.read = 0;
	snprintf(R.dir, sizeof R.dir, "/tmp/test_ctlsock.XXXXXX");
	assert_non_null(mkdtemp(R.dir));
	snprintf(R.conf_path, sizeof R.conf_path, "%s/pshim6.conf", R.dir);
	snprintf(R.sock, sizeof R.sock, "%s/control.sock", R.dir);
	snprintf(R.bad_path, sizeof R.bad_path, "%s/bad.conf", R.dir);
	char conf[2048];
	snprintf(conf, sizeof conf,
		"site = { name = \"s\"; cmula_prefixes = [ \"fd00:10::/48\" ]; key_file = \"/k\"; };\n"
		"inside = { port = \"0000:00:01.0\"; };\n"
		"isps = ( { name = \"x\"; pa_prefix = \"2001:db8:1:1::/64\"; port = \"0000:00:02.0\"; "
		"next_hop = \"2001:db8:1:1::1\"; weight = 3; cost = 7; address = \"2001:db8:1:ffff::2/64\"; "
		"probe = \"2001:db8:1:ffff::1\"; },\n"
		"         { name = \"y\"; pa_prefix = \"2001:db8:2:1::/64\"; port = \"0000:00:03.0\"; "
		"next_hop = \"2001:db8:2:1::1\"; } );\n"
		"control = { socket = \"%s\"; lease_table = 16; peer_cache = 16; };\n"
		"engine = { max_contexts = %u; };\n", R.sock, MAX_CONTEXTS);
	write_file(R.conf_path, conf);
	assert_int_equal(pshim6_conf_load(R.conf_path, &R.conf, conf_err, NULL), 0);
	/* as ctl_daemon_run builds it */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	clk = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	snprintf(R.d.path, sizeof R.d.path, "%s", R.conf_path);
	R.d.conf = &R.conf;
	R.d.start_ns = clk;
	R.d.listen_fd = R.d.sig_fd = R.d.dp.fd = -1;
	assert_int_equal(tables_init(&R.d.tables, R.conf.control.peer_cache, R.conf.control.lease_table, 1), 0);
	assert_int_equal(ctxtab_init(&R.d.ctxs, R.conf.engine.max_contexts), 0);
	te_init(&R.d.te, R.d.conf);
	R.d_up = true;
	assert_int_equal(ctlsock_open(&R.d), 0);
	assert_true(R.d.listen_fd >= 0);
	/* a daemon that blocks on a client would hang the suite: end it instead */
	alarm(120);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	alarm(0);
	if (R.nofile_low)
		setrlimit(RLIMIT_NOFILE, &R.nofile);
	for (unsigned i = 0; i < R.ncl; i++) {
		if (R.cl[i]->fd >= 0)
			close(R.cl[i]->fd);
		free(R.cl[i]->buf);
		free(R.cl[i]);
	}
	if (R.d_up) {
		ctlsock_close(&R.d);
		tables_free(&R.d.tables);
		ctxtab_free(&R.d.ctxs);
	}
	struct stat st;
	int gone = stat(R.sock, &st) < 0 && errno == ENOENT;
	unlink(R.sock);
	unlink(R.conf_path);
	unlink(R.bad_path);
	rmdir(R.dir);
	assert_true(gone);
	assert_int_equal(fd_count(), R.fds_before);
	return 0;
}

/* One turn of daemon.c's loop, for what this suite serves: the listener
 * unless a failed accept() paused it, and each client, polled for POLLOUT
 * while replies wait for it and for POLLIN otherwise. */
static void serve_once(int timeout_ms)
{
	struct pollfd pf[1 + CTL_MAX_CLIENTS];
	int idx[1 + CTL_MAX_CLIENTS];
	nfds_t n = 0;
	if (clk >= R.d.accept_resume_ns) {
		pf[n] = (struct pollfd){ .fd = R.d.listen_fd, .events = POLLIN };
		idx[n++] = -2;
	}
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct client *c = R.d.clients[i];
		if (!c)
			continue;
		pf[n] = (struct pollfd){ .fd = c->fd, .events = (short)(c->outlen > c->outoff ? POLLOUT : POLLIN) };
		idx[n++] = i;
	}
	int r = poll(pf, n, timeout_ms);
	assert_true(r >= 0 || errno == EINTR);
	for (nfds_t i = 0; r > 0 && i < n; i++) {
		if (!pf[i].revents)
			continue;
		if (idx[i] == -2)
			ctlsock_accept(&R.d);
		else if (pf[i].revents & POLLOUT)
			ctlsock_write(&R.d, idx[i]);
		else
			ctlsock_read(&R.d, idx[i]);
	}
}

static uint64_t accept_outcomes(void)
{
	return R.d.st.clients_accepted + R.d.st.clients_refused_full + R.d.st.clients_accept_failed;
}

static struct cl *cl_connect(void)
{
	assert_true(R.ncl < sizeof R.cl / sizeof R.cl[0]);
	struct cl *c = calloc(1, sizeof *c);
	assert_non_null(c);
	c->buf = malloc(CL_BUF);
	assert_non_null(c->buf);
	R.cl[R.ncl++] = c;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", R.sock);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sun, sizeof sun), 0);
	return c;
}

/* connected, and the daemon has dealt with it (taken or refused) */
static struct cl *cl_open(void)
{
	bool was[CTL_MAX_CLIENTS];
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		was[i] = R.d.clients[i] != NULL;
	uint64_t before = accept_outcomes();
	struct cl *c = cl_connect();
	uint64_t end = real_ms() + WAIT_MS;
	while (accept_outcomes() == before && real_ms() < end)
		serve_once(10);
	assert_int_equal(accept_outcomes(), before + 1);
	c->slot = -1;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (!was[i] && R.d.clients[i])
			c->slot = i;
	return c;
}

static void cl_close(struct cl *c)
{
	close(c->fd);
	c->fd = -1;
}

static void cl_send(struct cl *c, const char *s, size_t len)
{
	while (len) {
		ssize_t w = send(c->fd, s, len, MSG_NOSIGNAL);
		assert_true(w > 0);
		s += w;
		len -= (size_t)w;
	}
}

static void cl_say(struct cl *c, const char *s) { cl_send(c, s, strlen(s)); }

/* Take what arrived without waiting: >0 octets, 0 end of stream, -1 nothing. */
static ssize_t cl_take(struct cl *c)
{
	if (c->len == CL_BUF)
		return -1;
	ssize_t r = recv(c->fd, c->buf + c->len, CL_BUF - c->len, MSG_DONTWAIT);
	if (r < 0 && errno == ECONNRESET)
		return 0;
	if (r < 0) {
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
		return -1;
	}
	c->len += (size_t)r;
	return r;
}

/* The next reply line (without its newline) into `line`, serving the daemon
 * meanwhile; false if the stream ended or time ran out first. */
static bool cl_line_wait(struct cl *c, char *line, size_t cap, int ms)
{
	uint64_t end = real_ms() + (uint64_t)ms;
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			size_t n = (size_t)(nl - c->buf);
			assert_true(n < cap);
			memcpy(line, c->buf, n);
			line[n] = '\0';
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return true;
		}
		ssize_t r = cl_take(c);
		if (r > 0)
			continue;
		if (r == 0 || real_ms() >= end)
			return false;
		serve_once(5);
	}
}

static bool cl_line(struct cl *c, char *line, size_t cap) { return cl_line_wait(c, line, cap, WAIT_MS); }

/* The daemon ended the stream; what came before it is counted, not kept. */
static bool cl_ended(struct cl *c, size_t *octets)
{
	uint64_t end = real_ms() + WAIT_MS;
	size_t n = c->len;
	c->len = 0;
	for (;;) {
		ssize_t r = cl_take(c);
		if (r > 0) {
			n += c->len;
			c->len = 0;
			continue;
		}
		if (r == 0) {
			if (octets)
				*octets = n;
			return true;
		}
		if (real_ms() >= end)
			return false;
		serve_once(5);
	}
}

static char line[CL_BUF];

static const char *ask(struct cl *c, const char *req)
{
	cl_say(c, req);
	if (!cl_line(c, line, sizeof line))
		fail_msg("no reply to %s", req);
	return line;
}

static void has(const char *reply, const char *frag)
{
	if (!strstr(reply, frag))
		fail_msg("%s\n  lacks %s", reply, frag);
}

static void is(const char *reply, const char *want)
{
	if (strcmp(reply, want))
		fail_msg("%s\n  is not %s", reply, want);
}

static struct ctl_ctx *ctx_put(uint64_t tag, const char *local, const char *remote, uint8_t isp, uint8_t st)
{
	struct dpmsg_ctx dc = { .own_tag = tag, .peer_tag = 0x111, .isp = isp, .fii = 3 };
	assert_int_equal(inet_pton(AF_INET6, local, dc.local_ulid), 1);
	assert_int_equal(inet_pton(AF_INET6, remote, dc.remote_ulid), 1);
	assert_int_equal(inet_pton(AF_INET6, isp ? "2001:db8:2:1::1" : "2001:db8:1:1::1", dc.local_loc), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:9::1", dc.remote_loc), 1);
	struct ctl_ctx *x = ctxtab_add(&R.d.ctxs, &dc);
	assert_non_null(x);
	x->state = st;
	x->created_ns = clk;
	return x;
}

/* ---- requests ---------------------------------------------------------------- */

static void test_status(void **state)
{
	(void)state;
	struct cl *c = cl_open();
	R.d.start_ns = clk - 42000 * MS;
	R.d.dp.hello_done = true;
	R.d.dp.hello.boot_id = 7;
	R.d.dp.hello.ctx_capacity = 65536;
	R.d.dp.hello.n_lcores = 2;
	R.d.te.chosen[0] = 3;
	R.d.te.chosen[1] = 5;
	R.d.dp.isp_down = 1;
	ctx_put(1, "fd00:10::1", "fd00:20::1", 0, 4);
	char want[1024];
	snprintf(want, sizeof want,
		 "{\"ok\":true,\"version\":\"0.1.0\",\"uptime_s\":42,\"config\":\"%s\",\"site\":\"s\","
		 "\"dataplane\":{\"connected\":true,\"boot_id\":7,\"ctx_capacity\":65536,\"lcores\":2},"
		 "\"engine\":false,\"contexts\":1,\"max_contexts\":%u,\"peers_cached\":0,\"leases\":0,"
		 "\"log_level\":\"err\",\"peer\":null,\"isps\":["
		 "{\"name\":\"x\",\"pa_prefix\":\"2001:db8:1:1::/64\",\"weight\":3,\"cost\":7,\"chosen\":3,"
		 "\"probe_failed\":true,\"drain\":false},"
		 "{\"name\":\"y\",\"pa_prefix\":\"2001:db8:2:1::/64\",\"weight\":1,\"cost\":0,\"chosen\":5,"
		 "\"probe_failed\":false,\"drain\":false}]}",
		 R.conf_path, MAX_CONTEXTS);
	is(ask(c, "{\"cmd\":\"status\"}\n"), want);

	R.d.dp.hello_done = false;
	engine_on = true;
	const char *r = ask(c, "{\"cmd\":\"status\",\"text\":true}\n");
	has(r, "\"dataplane\":{\"connected\":false,");
	has(r, "\"engine\":true,");
	has(r, ",\"text\":\"pshim6-control 0.1.0, up 42s, config ");
	has(r, "dataplane:  not connected\\nengine:     running\\ncontexts:   1 of 1024\\n");
	has(r, "peer:       none (single proxy)\\n");
	has(r, "ISP          PA prefix                weight   cost   new ctxs  probes\\n");
	has(r, "x            2001:db8:1:1::/64             3      7          3  failed\\n");
	has(r, "y            2001:db8:2:1::/64             1      0          5  -\\n");
	R.d.dp.isp_down = 0;
	has(ask(c, "{\"cmd\":\"status\",\"text\":true}\n"), "3  working\\n");
	/* drained by config: so said, whatever the probes say, and in JSON */
	R.d.conf->isps[1].drain = true;
	r = ask(c, "{\"cmd\":\"status\",\"text\":true}\n");
	has(r, "5  drained\\n");
	has(r, "\"chosen\":5,\"probe_failed\":false,\"drain\":true}");
	R.d.conf->isps[1].drain = false;
	assert_int_equal(R.d.st.requests, 4);
}

static void test_counters(void **state)
{
	(void)state;
	struct cl *c = cl_open();
	R.d.st.reloads = 5;
	R.d.st.dp_msgs_rx = 11;
	R.d.st.replies_dropped = 4;
	R.d.tables.st.lease_full = 2;
	R.d.te.chosen[0] = 3;
	R.d.te.chosen[1] = 5;
	R.d.dp.outq.hwm = 4096;
	R.d.dp.rs.runs = 2;
	R.d.dp.ncounters = 1;
	R.d.dp.counters[0] = (struct dpmsg_counter){ .id = DPMSG_CNT_RX_IN_PKTS, .value = 55 };
	rstats.busy = 9;
	const char *r = ask(c, "{\"cmd\":\"counters\"}\n");
	has(r, "{\"ok\":true,\"counters\":{\"control.clients_accepted\":1,\"control.clients_refused_full\":0,"
	       "\"control.clients_accept_failed\":0,\"control.clients_evicted_idle\":0,"
	       "\"control.requests\":1,\"control.bad_requests\":0,"
	       "\"control.overlong_requests\":0,\"control.replies_dropped\":4,\"control.leases_refused\":0,"
	       "\"control.reloads\":5,");
	has(r, ",\"tables.lease_full\":2,");
	has(r, ",\"te.x\":3,\"te.y\":5,");
	has(r, ",\"dpchan.msgs_rx\":11,");
	has(r, ",\"dpchan.reap_sweep_ms\":1234,");
	has(r, ",\"dpchan.tx_wait_max_octets\":4096,");
	has(r, ",\"dpchan.resyncs\":2,");
	has(r, ",\"dataplane.rx_inside_packets\":55,");
	has(r, ",\"engine.i1_sent\":77,");
	has(r, ",\"peer.takeovers\":88,");
	has(r, ",\"resolve.busy\":9,");
	assert_int_equal(strcmp(r + strlen(r) - 2, "}}"), 0);

	r = ask(c, "{\"cmd\":\"counters\",\"text\":true}\n");
	has(r, "\"control.requests\":2,");
	has(r, "\"text\":\"control socket\\nclients_accepted");
}

static void test_contexts(void **state)
{
	(void)state;
	struct cl *c = cl_open();
	struct ctl_ctx *a = ctx_put(0x0a1b2c3d4e5f, "fd00:10::1", "fd00:20::1", 0, 4);
	a->reap = 1;
	a->origin = CTX_FROM_DUMP;
	a->pair_changes = 2;
	a->created_ns = clk - 10000 * MS;
	a->last_sent_ns = clk - 250 * MS;
	ctx_put(2, "fd00:10::2", "fd00:20::2", 1, 1);
	ctx_put(3, "fd00:10::1", "fd00:20::3", 0, 4);

	const char *r = ask(c, "{\"cmd\":\"contexts\"}\n");
	has(r, "{\"ok\":true,\"contexts\":[{\"tag\":\"0a1b2c3d4e5f\",\"peer_tag\":\"000000000111\","
	       "\"state\":\"established\",\"reap\":\"exploring\",\"local_ulid\":\"fd00:10::1\","
	       "\"remote_ulid\":\"fd00:20::1\",\"local_loc\":\"2001:db8:1:1::1\",\"remote_loc\":\"2001:db8:9::1\","
	       "\"isp\":\"x\",\"fii\":3,\"origin\":\"dump\",\"age_s\":10,\"pair_changes\":2,"
	       "\"last_sent_ms_ago\":250,\"last_recv_ms_ago\":-1},");
	has(r, "],\"matched\":3,\"shown\":3}");
	r = ask(c, "{\"cmd\":\"contexts\",\"isp\":\"y\"}\n");
	has(r, "\"tag\":\"000000000002\"");
	has(r, "\"state\":\"i1-sent\"");
	has(r, "\"matched\":1,\"shown\":1}");
	has(ask(c, "{\"cmd\":\"contexts\",\"state\":\"established\"}\n"), "\"matched\":2,\"shown\":2}");
	has(ask(c, "{\"cmd\":\"contexts\",\"host\":\"fd00:10::1\"}\n"), "\"matched\":2,\"shown\":2}");
	r = ask(c, "{\"cmd\":\"contexts\",\"peer\":\"fd00:20::3\"}\n");
	has(r, "\"tag\":\"000000000003\"");
	has(r, "\"matched\":1,\"shown\":1}");
	has(ask(c, "{\"cmd\":\"contexts\",\"limit\":1}\n"), "\"matched\":3,\"shown\":1}");
	is(ask(c, "{\"cmd\":\"contexts\",\"isp\":\"nosuch\"}\n"), "{\"ok\":true,\"contexts\":[],\"matched\":0,\"shown\":0}");
	has(ask(c, "{\"cmd\":\"contexts\",\"limit\":1,\"text\":true}\n"), "3 contexts (output limited; use limit)\\n");
}

static void test_context(void **state)
{
	(void)state;
	struct cl *c = cl_open();
	struct ctl_ctx *a = ctx_put(0x0a1b2c3d4e5f, "fd00:10::1", "fd00:20::1", 0, 4);
	a->last_recv_ns = clk - 1500 * MS;
	ctx_put(3, "fd00:10::1", "fd00:20::3", 1, 2);

	const char *r = ask(c, "{\"cmd\":\"context\",\"tag\":\"0a1b2c3d4e5f\"}\n");
	has(r, "{\"ok\":true,\"context\":{\"tag\":\"0a1b2c3d4e5f\",");
	has(r, "\"last_sent_ms_ago\":-1,\"last_recv_ms_ago\":1500}}");
	r = ask(c, "{\"cmd\":\"context\",\"local\":\"fd00:10::1\",\"remote\":\"fd00:20::3\"}\n");
	has(r, "\"context\":{\"tag\":\"000000000003\",");
	has(r, "\"state\":\"i2-sent\"");
	has(r, "\"isp\":\"y\"");
	has(ask(c, "{\"cmd\":\"context\",\"tag\":\"3\",\"text\":true}\n"),
	    "\"text\":\"context 000000000003 (peer tag 000000000111, fii 3)\\n");

	is(ask(c, "{\"cmd\":\"context\",\"tag\":\"xyz\"}\n"), "{\"ok\":false,\"error\":\"'tag' must be hex\"}");
	is(ask(c, "{\"cmd\":\"context\",\"tag\":\"\"}\n"), "{\"ok\":false,\"error\":\"'tag' must be hex\"}");
	is(ask(c, "{\"cmd\":\"context\",\"local\":\"fd00:10::1\"}\n"),
	   "{\"ok\":false,\"error\":\"give 'tag', or 'local' and 'remote'\"}");
	is(ask(c, "{\"cmd\":\"context\",\"local\":\"fd00:10::1\",\"remote\":\"nope\"}\n"),
	   "{\"ok\":false,\"error\":\"'local' and 'remote' must be IPv6 addresses\"}");
	is(ask(c, "{\"cmd\":\"context\",\"tag\":\"99\"}\n"), "{\"ok\":false,\"error\":\"no such context\"}");
	is(ask(c, "{\"cmd\":\"context\",\"local\":\"fd00:10::2\",\"remote\":\"fd00:20::3\"}\n"),
	   "{\"ok\":false,\"error\":\"no such context\"}");
	/* a refused argument is not a malformed request */
	assert_int_equal(R.d.st.bad_requests, 0);
	assert_non_null(R.d.clients[c->slot]);
}

static void test_bad_requests_keep_client(void **state)
{
	(void)state;
	struct cl *c = cl_open();
	is(ask(c, "hello\n"), "{\"ok\":false,\"error\":\"expected a JSON object\"}");
	is(ask(c, "\n"), "{\"ok\":false,\"error\":\"expected a JSON object\"}");
	has(ask(c, "{\"cmd\":\"status\"\n"), "{\"ok\":false,\"error\":\"");
	has(ask(c, "{\"cmd\":\"status\"} x\n"), "{\"ok\":false,\"error\":\"trailing characters after the object\"}");
	is(ask(c, "{\"text\":true}\n"), "{\"ok\":false,\"error\":\"missing 'cmd'\"}");
	is(ask(c, "{\"cmd\":5}\n"), "{\"ok\":false,\"error\":\"missing 'cmd'\"}");
	is(ask(c, "{\"cmd\":\"stat\"}\n"), "{\"ok\":false,\"error\":\"unknown command\"}");
	is(ask(c, "{\"cmd\":\"STATUS\"}\n"), "{\"ok\":false,\"error\":\"unknown command\"}");
	assert_int_equal(R.d.st.bad_requests, 8);
	assert_int_equal(R.d.st.requests, 8);
	/* still connected, still served */
	has(ask(c, "{\"cmd\":\"status\"}\r\n"), "{\"ok\":true,\"version\":\"0.1.0\",");
	has(ask(c, "{\"cmd\":\"counters\"}\n"), "\"control.requests\":10,\"control.bad_requests\":8,");
	assert_int_equal(R.d.st.clients_accepted, 1);
}

/* ---- line framing ------------------------------------------------------------ */

static void test_line_in_pieces(void **state)
{
	(void)state;
	struct cl *c = cl_open();
	cl_say(c, "{\"cmd\":");
	assert_false(cl_line_wait(c, line, sizeof line, QUIET_MS));
	cl_say(c, "\"sta");
	assert_false(cl_line_wait(c, line, sizeof line, QUIET_MS));
	assert_int_equal(R.d.st.requests, 0);
	cl_say(c, "tus\"}\r");
	assert_false(cl_line_wait(c, line, sizeof line, QUIET_MS));
	cl_say(c, "\n");
	assert_true(cl_line(c, line, sizeof line));
	has(line, "{\"ok\":true,\"version\":\"0.1.0\",");
	assert_int_equal(R.d.st.requests, 1);
}

static void test_lines_in_one_write(void **state)
{
	(void)state;
	struct cl *c = cl_open();
	cl_say(c, "{\"cmd\":\"nope\"}\n{\"cmd\":\"context\"}\n{\"cmd\":\"status\"}\n{\"cmd\":\"resync\"}\n{\"cmd\":");
	assert_true(cl_line(c, line, sizeof line));
	is(line, "{\"ok\":false,\"error\":\"unknown command\"}");
	assert_true(cl_line(c, line, sizeof line));
	is(line, "{\"ok\":false,\"error\":\"give 'tag', or 'local' and 'remote'\"}");
	assert_true(cl_line(c, line, sizeof line));
	has(line, "{\"ok\":true,\"version\":");
	assert_true(cl_line(c, line, sizeof line));
	is(line, "{\"ok\":true}");
	/* the unfinished last line waits for the rest */
	assert_false(cl_line_wait(c, line, sizeof line, QUIET_MS));
	assert_int_equal(R.d.st.requests, 4);
	cl_say(c, "\"reload\"}\n");
	assert_true(cl_line(c, line, sizeof line));
	is(line, "{\"ok\":true}");
	assert_int_equal(nreload, 1);
}

static void test_line_bound(void **state)
{
	(void)state;
	static char req[CTL_LINE_MAX];
	/* the longest line taken: CTL_LINE_MAX octets with its newline */
	struct cl *c = cl_open();
	int slot = c->slot;
	memset(req, ' ', sizeof req);
	memcpy(req, "{\"cmd\":\"status\"", 15);
	req[CTL_LINE_MAX - 2] = '}';
	req[CTL_LINE_MAX - 1] = '\n';
	cl_send(c, req, CTL_LINE_MAX);
	assert_true(cl_line(c, line, sizeof line));
	has(line, "{\"ok\":true,\"version\":");
	assert_non_null(R.d.clients[slot]);

	/* one octet more: refused, told and closed as soon as the bound is
	 * reached, not when more arrives */
	req[CTL_LINE_MAX - 2] = ' ';
	req[CTL_LINE_MAX - 1] = '}';
	cl_send(c, req, CTL_LINE_MAX);
	assert_true(cl_line(c, line, sizeof line));
	is(line, "{\"ok\":false,\"error\":\"request line too long\"}");
	size_t more = 1;
	assert_true(cl_ended(c, &more));
	assert_int_equal(more, 0);
	assert_null(R.d.clients[slot]);
	assert_int_equal(R.d.st.overlong, 1);
	assert_int_equal(R.d.st.requests, 1);

	struct cl *d = cl_open();
	has(ask(d, "{\"cmd\":\"counters\"}\n"), "\"control.overlong_requests\":1,");
}

/* ---- clients ----------------------------------------------------------------- */

static void test_client_bound(void **state)
{
	(void)state;
	struct cl *c[CTL_MAX_CLIENTS];
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		c[i] = cl_open();
	assert_int_equal(R.d.st.clients_accepted, CTL_MAX_CLIENTS);
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		assert_non_null(R.d.clients[i]);

	struct cl *extra = cl_open();
	assert_int_equal(extra->slot, -1);
	assert_int_equal(R.d.st.clients_refused_full, 1);
	assert_true(cl_line(extra, line, sizeof line));
	is(line, "{\"ok\":false,\"error\":\"too many clients\"}");
	assert_true(cl_ended(extra, NULL));
	assert_int_equal(R.d.st.clients_accepted, CTL_MAX_CLIENTS);

	/* every one taken is served */
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		has(ask(c[i], "{\"cmd\":\"resync\"}\n"), "{\"ok\":true}");

	/* a client that leaves frees its slot for the next one */
	cl_close(c[5]);
	uint64_t end = real_ms() + WAIT_MS;
	while (R.d.clients[5] && real_ms() < end)
		serve_once(10);
	assert_null(R.d.clients[5]);
	struct cl *next = cl_open();
	assert_int_equal(R.d.st.clients_accepted, CTL_MAX_CLIENTS + 1);
	assert_int_equal(next->slot, 5);
	has(ask(next, "{\"cmd\":\"counters\"}\n"),
	    "\"control.clients_accepted\":33,\"control.clients_refused_full\":1,");
	has(ask(c[0], "{\"cmd\":\"resync\"}\n"), "{\"ok\":true}");
}

/* With every slot taken, the client silent the longest gives way to a new
 * one once it has been silent CTL_IDLE_EVICT_NS, and not a nanosecond before. */
static void test_idle_client_gives_way(void **state)
{
	(void)state;
	struct cl *c[CTL_MAX_CLIENTS];
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		c[i] = cl_open();
	uint64_t t0 = clk;
	clk += 1000 * MS;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (i != 7 && i != 3)
			has(ask(c[i], "{\"cmd\":\"resync\"}\n"), "{\"ok\":true}");
	/* c[3] has sent half a request: no answer yet, but it is not idle */
	clk += 1000 * MS;
	cl_say(c[3], "{\"cmd\":");
	uint64_t end = real_ms() + WAIT_MS;
	while (client_at(3)->inlen == 0 && real_ms() < end)
		serve_once(10);
	assert_true(client_at(3)->inlen > 0);
	/* c[7] silent since t0, c[3] since t0 + 2 s, the others since t0 + 1 s */
	clk = t0 + CTL_IDLE_EVICT_NS - 1;
	struct cl *early = cl_open();
	assert_int_equal(early->slot, -1);
	assert_true(cl_line(early, line, sizeof line));
	is(line, "{\"ok\":false,\"error\":\"too many clients\"}");
	assert_int_equal(R.d.st.clients_evicted_idle, 0);

	clk = t0 + CTL_IDLE_EVICT_NS;
	struct cl *next = cl_open();
	assert_int_equal(R.d.st.clients_evicted_idle, 1);
	assert_int_equal(R.d.st.clients_accepted, CTL_MAX_CLIENTS + 1);
	assert_non_null(client_at(7));
	assert_true(client_at(7)->active_ns == clk);   /* the newcomer, not c[7] (silent since t0) */
	assert_true(cl_line(c[7], line, sizeof line));
	is(line, "{\"ok\":false,\"error\":\"idle; disconnected to make room\"}");
	assert_true(cl_ended(c[7], NULL));
	has(ask(next, "{\"cmd\":\"counters\"}\n"), "\"control.clients_evicted_idle\":1,");
	/* the others kept their places and are served, c[3] its half request too */
	has(ask(c[3], "\"resync\"}\n"), "{\"ok\":true}");
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (i != 7)
			has(ask(c[i], "{\"cmd\":\"resync\"}\n"), "{\"ok\":true}");
	/* the next newcomer finds nobody idle long enough: c[1] spoke just now */
	struct cl *late = cl_open();
	assert_int_equal(late->slot, -1);
	assert_int_equal(R.d.st.clients_evicted_idle, 1);
}

/* A daemon alive on the path but not accepting (its backlog full) is
 * detected without blocking the start. */
static void test_open_refuses_busy_live_socket(void **state)
{
	(void)state;
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s/busy.sock", R.dir);
	unlink(sun.sun_path);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof sun), 0);
	assert_int_equal(listen(lfd, 0), 0);
	/* fill the backlog: non-blocking connects until one is refused */
	int q[8], nq = 0;
	for (; nq < 8; nq++) {
		q[nq] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_true(q[nq] >= 0);
		if (connect(q[nq], (struct sockaddr *)&sun, sizeof sun) < 0) {
			assert_int_equal(errno, EAGAIN);
			close(q[nq]);
			break;
		}
	}
	assert_true(nq < 8);
	struct pshim6_conf conf = R.conf;
	snprintf(conf.control.socket, sizeof conf.control.socket, "%s", sun.sun_path);
	struct daemon d2 = { .conf = &conf, .listen_fd = -1 };
	uint64_t t = real_ms();
	assert_int_equal(ctlsock_open(&d2), -1);
	assert_true(real_ms() - t < 1000);
	assert_int_equal(d2.listen_fd, -1);
	struct stat st;
	assert_int_equal(lstat(sun.sun_path, &st), 0);   /* the live daemon's socket stays */
	for (int i = 0; i < nq; i++)
		close(q[i]);
	close(lfd);
	unlink(sun.sun_path);
}

/* A path that fills sun_path leaves no room for its NUL: refused as too
 * long, and nothing is created on disk. */
static void test_open_refuses_path_of_sun_path_size(void **state)
{
	(void)state;
	struct sockaddr_un sun;
	struct pshim6_conf conf = R.conf;
	int n = snprintf(conf.control.socket, sizeof conf.control.socket, "%s/", R.dir);
	while ((size_t)n < sizeof sun.sun_path)
		conf.control.socket[n++] = 'a';
	conf.control.socket[n] = 0;
	struct daemon d2 = { .conf = &conf, .listen_fd = -1 };
	int rc = ctlsock_open(&d2);
	if (d2.listen_fd >= 0)
		close(d2.listen_fd);
	struct stat st;
	bool made = lstat(conf.control.socket, &st) == 0;
	unlink(conf.control.socket);
	assert_int_equal(rc, -1);
	assert_false(made);
}

/* A control.socket_group that names no group fails the open and leaves no
 * socket behind, rather than serving it under the daemon's own group. */
static void test_open_refuses_unknown_group(void **state)
{
	(void)state;
	struct pshim6_conf conf = R.conf;
	snprintf(conf.control.socket, sizeof conf.control.socket, "%s/grp.sock", R.dir);
	snprintf(conf.control.socket_group, sizeof conf.control.socket_group, "pshim6-no-such-group");
	conf.control.socket_mode = 0660;
	struct daemon d2 = { .conf = &conf, .listen_fd = -1 };
	int rc = ctlsock_open(&d2);
	if (d2.listen_fd >= 0)
		close(d2.listen_fd);
	struct stat st;
	bool left = lstat(conf.control.socket, &st) == 0;
	unlink(conf.control.socket);
	assert_int_equal(rc, -1);
	assert_false(left);
}

/* A wakeup with nobody waiting (EAGAIN) is not a failed accept: no count
 * and no pause of the listener. */
static void test_accept_with_nobody_waiting(void **state)
{
	(void)state;
	ctlsock_accept(&R.d);
	assert_int_equal(R.d.st.clients_accept_failed, 0);
	assert_int_equal(R.d.accept_resume_ns, 0);
	assert_int_equal(R.d.st.clients_accepted, 0);
}

static void test_accept_failure_pauses_listener(void **state)
{
	(void)state;
	struct cl *c = cl_connect();
	assert_int_equal(fd_limit_at_lowest_free(&R.nofile), 0);
	R.nofile_low = true;
	uint64_t end = real_ms() + WAIT_MS;
	while (!R.d.st.clients_accept_failed && real_ms() < end)
		serve_once(10);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &R.nofile), 0);
	R.nofile_low = false;
	assert_int_equal(R.d.st.clients_accept_failed, 1);
	assert_int_equal(R.d.st.clients_accepted, 0);
	assert_int_equal(R.d.accept_resume_ns, clk + CTL_ACCEPT_PAUSE_NS);

	/* descriptors are back, but the listener is left alone until the pause ends */
	serve_once(QUIET_MS);
	clk += CTL_ACCEPT_PAUSE_NS - 1;
	serve_once(QUIET_MS);
	assert_int_equal(R.d.st.clients_accepted, 0);
	assert_int_equal(R.d.st.clients_accept_failed, 1);

	clk += 1;
	is(ask(c, "{\"cmd\":\"resync\"}\n"), "{\"ok\":true}");
	assert_int_equal(R.d.st.clients_accepted, 1);
	has(ask(c, "{\"cmd\":\"counters\"}\n"), "\"control.clients_accept_failed\":1,");
}

/* ---- a client that does not read its replies -------------------------------- */

static void fill_contexts(void)
{
	for (unsigned i = 0; i < MAX_CONTEXTS; i++) {
		char r[INET6_ADDRSTRLEN];
		snprintf(r, sizeof r, "fd00:20::%x", i + 1);
		ctx_put(0x100000 + i, "fd00:10::1", r, (uint8_t)(i & 1), 4);
	}
}

static size_t pending(int slot)
{
	return R.d.clients[slot]->outlen - R.d.clients[slot]->outoff;
}

static void set_small_sndbuf(int slot)
{
	/* so that what the socket takes is far below the reply bound whatever
	 * the host's default buffer */
	int sz = 32768;
	assert_int_equal(setsockopt(R.d.clients[slot]->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz), 0);
}

static char *repeat(const char *req, unsigned n)
{
	size_t l = strlen(req);
	char *s = malloc(l * n + 1);
	assert_non_null(s);
	for (unsigned i = 0; i < n; i++)
		memcpy(s + i * l, req, l);
	s[l * n] = '\0';
	return s;
}

static void test_slow_reader_queued(void **state)
{
	(void)state;
	fill_contexts();
	struct cl *c = cl_open();
	int slot = c->slot;
	set_small_sndbuf(slot);
	size_t one = strlen(ask(c, "{\"cmd\":\"contexts\"}\n")) + 1;
	has(line, "\"matched\":1024,\"shown\":1000}");

	/* half the bound, in one write: queued, the client kept */
	unsigned n = (unsigned)(CTL_OUT_MAX / 2 / one);
	char *burst = repeat("{\"cmd\":\"contexts\"}\n", n);
	cl_say(c, burst);
	free(burst);
	uint64_t end = real_ms() + WAIT_MS;
	while (R.d.st.requests < 1 + n && real_ms() < end)
		serve_once(10);
	assert_int_equal(R.d.st.requests, 1 + n);
	assert_non_null(R.d.clients[slot]);
	assert_true(pending(slot) > 0);
	assert_true(pending(slot) <= CTL_OUT_MAX);
	assert_int_equal(R.d.st.replies_dropped, 0);
	/* while replies wait, no more requests are read */
	cl_say(c, "{\"cmd\":\"resync\"}\n");
	serve_once(QUIET_MS);
	assert_int_equal(R.d.st.requests, 1 + n);

	for (unsigned i = 0; i < n; i++) {
		assert_true(cl_line(c, line, sizeof line));
		assert_int_equal(strlen(line) + 1, one);
	}
	assert_true(cl_line(c, line, sizeof line));
	is(line, "{\"ok\":true}");
	assert_non_null(R.d.clients[slot]);
	assert_null(R.d.clients[slot]->out);
	assert_int_equal(R.d.st.replies_dropped, 0);
	assert_int_equal(nresync, 1);
}

static void test_slow_reader_dropped(void **state)
{
	(void)state;
	fill_contexts();
	struct cl *c = cl_open();
	int slot = c->slot;
	set_small_sndbuf(slot);
	size_t one = strlen(ask(c, "{\"cmd\":\"contexts\"}\n")) + 1;

	/* past the bound in one write: the daemon drops the client rather than
	 * wait for it or buffer without end (alarm() in setup ends a daemon that waits) */
	unsigned n = (unsigned)(CTL_OUT_MAX / one) + 4;
	char *burst = repeat("{\"cmd\":\"contexts\"}\n", n);
	cl_say(c, burst);
	free(burst);
	uint64_t end = real_ms() + WAIT_MS;
	while (R.d.clients[slot] && real_ms() < end)
		serve_once(10);
	assert_null(R.d.clients[slot]);
	assert_int_equal(R.d.st.replies_dropped, 1);
	assert_true(R.d.st.requests < 1 + n);
	size_t got;
	assert_true(cl_ended(c, &got));
	assert_true(got > 0 && got < (size_t)n * one);

	struct cl *d = cl_open();
	has(ask(d, "{\"cmd\":\"counters\"}\n"), "\"control.replies_dropped\":1,");
}

static void test_reply_memory_bounded(void **state)
{
	(void)state;
	fill_contexts();
	struct cl *c = cl_open();
	int slot = c->slot;
	set_small_sndbuf(slot);
	size_t one = strlen(ask(c, "{\"cmd\":\"contexts\"}\n")) + 1;

	/* the client reads all along: what the socket took is the client's, and
	 * keeping it allocated would hold ever more for one burst of requests */
	unsigned n = (unsigned)(3 * CTL_OUT_MAX / one);
	char *burst = repeat("{\"cmd\":\"contexts\"}\n", n);
	mid.fd = c->fd;
	mid.slot = slot;
	cl_say(c, burst);
	free(burst);
	uint64_t end = real_ms() + WAIT_MS;
	while (R.d.clients[slot] && R.d.st.requests < 1 + n && real_ms() < end)
		serve_once(10);
	mid.fd = -1;
	assert_true(mid.read > one);
	if (mid.peak > CTL_OUT_MAX)
		fail_msg("%zu octets held for one client, over the bound of %u", mid.peak, CTL_OUT_MAX);
}

/*
 * The reply bound is exact: with the socket taking nothing more, a reply
 * that brings what waits for the client to exactly CTL_OUT_MAX is queued,
 * and one octet more drops the client.  What waits is set up by hand and
 * the request handed to ctlsock_read directly, because the serving loop
 * reads no request while replies wait.
 */
static void test_reply_bound_exact(void **state)
{
	(void)state;
	for (size_t over = 0; over < 2; over++) {
		struct cl *c = cl_open();
		int slot = c->slot;
		static const char req[] = "{\"cmd\":\"resync\"}";
		size_t one = strlen(ask(c, "{\"cmd\":\"resync\"}\n")) + 1;
		struct client *k = R.d.clients[slot];
		set_small_sndbuf(slot);
		char junk[4096];
		memset(junk, ' ', sizeof junk);
		while (write(k->fd, junk, sizeof junk) > 0)
			;
		assert_int_equal(errno, EAGAIN);
		k->outlen = CTL_OUT_MAX - one + over;
		k->outoff = 0;
		k->out = malloc(k->outlen);
		assert_non_null(k->out);
		memset(k->out, ' ', k->outlen);
		memcpy(k->in, req, sizeof req - 1);
		k->inlen = sizeof req - 1;
		uint64_t before = R.d.st.requests;
		cl_say(c, "\n");
		ctlsock_read(&R.d, slot);
		assert_int_equal(R.d.st.requests, before + 1);
		if (!over) {
			assert_non_null(R.d.clients[slot]);
			assert_int_equal(pending(slot), CTL_OUT_MAX);
			assert_int_equal(R.d.st.replies_dropped, 0);   /* teardown closes it */
		} else {
			assert_null(R.d.clients[slot]);
			assert_int_equal(R.d.st.replies_dropped, 1);
		}
		cl_close(c);
	}
}

/* ---- tables fed by other daemons ---------------------------------------------- */

static const char *lease(struct cl *c, const char *event, const char *cmula)
{
	char req[512];
	snprintf(req, sizeof req, "{\"cmd\":\"lease\",\"event\":\"%s\",\"cmula\":\"%s\",\"mode\":\"cga\","
		 "\"pds\":\"00aa01bb\",\"duid\":\"000100\",\"iaid\":7}\n", event, cmula);
	return ask(c, req);
}

static void test_lease(void **state)
{
	(void)state;
	struct cl *c = cl_open();
	is(lease(c, "add", "fd00:10::1"), "{\"ok\":true}");
	assert_int_equal(R.d.tables.leases.n, 1);
	assert_int_equal(nlease_changed, 1);
	assert_string_equal(lease_changed[0], "fd00:10::1");
	struct in6_addr a;
	inet_pton(AF_INET6, "fd00:10::1", &a);
	const struct lease_entry *l = addrtab_find(&R.d.tables.leases, &a);
	assert_non_null(l);
	assert_int_equal(l->iaid, 7);
	assert_int_equal(l->pds_len, 4);

	is(lease(c, "add", "fd00:99::1"), "{\"ok\":false,\"error\":\"'cmula' is not in a site cmula prefix\"}");
	is(lease(c, "grant", "fd00:10::2"),
	   "{\"ok\":false,\"error\":\"'event' must be add, renew, release or expire\"}");
	is(ask(c, "{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::2\",\"mode\":\"cga\","
		  "\"pds\":\"00aa\",\"duid\":\"0001\"}\n"),
	   "{\"ok\":false,\"error\":\"'iaid' must be an integer 0..4294967295\"}");
	assert_int_equal(nlease_changed, 1);   /* nothing refused is announced */
	assert_int_equal(R.d.tables.st.lease_rejected, 3);
	assert_int_equal(R.d.st.leases_refused, 3);

	/* a lease the other proxy forwarded (peer.c sets the id): a renew by
	 * this one's server keeps it, and a release hands it to peer.c, which
	 * can no longer find it in the table */
	((struct lease_entry *)l)->fwd_id = 0x12345678;
	is(lease(c, "renew", "fd00:10::1"), "{\"ok\":true}");
	assert_int_equal(R.d.tables.st.lease_renews, 1);
	assert_int_equal(l->fwd_id, 0x12345678);
	assert_int_equal(lease_changed_fwd[1], 0x12345678);
	is(ask(c, "{\"cmd\":\"lease\",\"event\":\"release\",\"cmula\":\"fd00:10::1\"}\n"), "{\"ok\":true}");
	assert_int_equal(R.d.tables.leases.n, 0);
	assert_int_equal(nlease_changed, 3);
	assert_string_equal(lease_changed[2], "fd00:10::1");
	assert_int_equal(lease_changed_fwd[2], 0x12345678);
	assert_int_equal(lease_changed_fwd[0], 0);
	/* one of our own events: the ACTIVE proxy keeps no record of its release */
	is(lease(c, "add", "fd00:10::1"), "{\"ok\":true}");
	struct in6_addr a1;
	assert_int_equal(inet_pton(AF_INET6, "fd00:10::1", &a1), 1);
	struct lease_entry *own = addrtab_find(&R.d.tables.leases, &a1);
	assert_non_null(own);
	own->fwd_id = 0x9abc;
	own->fwd_ours = true;
	is(ask(c, "{\"cmd\":\"lease\",\"event\":\"release\",\"cmula\":\"fd00:10::1\"}\n"), "{\"ok\":true}");
	assert_int_equal(nlease_changed, 5);
	assert_int_equal(lease_changed_fwd[4], 0);

	/* full: the next one is refused, never evicting one held */
	for (unsigned i = 0; i < R.d.tables.leases.cap; i++) {
		char cm[INET6_ADDRSTRLEN];
		snprintf(cm, sizeof cm, "fd00:10::%x", 0x100 + i);
		is(lease(c, "add", cm), "{\"ok\":true}");
	}
	is(lease(c, "add", "fd00:10::ffff"), "{\"ok\":false,\"error\":\"lease table full\"}");
	assert_int_equal(R.d.st.leases_refused, 4);
	assert_int_equal(R.d.tables.leases.n, R.d.tables.leases.cap);
	assert_int_equal(nlease_changed, 5 + R.d.tables.leases.cap);
	has(ask(c, "{\"cmd\":\"status\"}\n"), "\"leases\":16,");
}

static void test_peer_locators(void **state)
{
	(void)state;
	struct cl *c = cl_open();
	is(ask(c, "{\"cmd\":\"peer-locators\",\"ulid\":\"fd00:20::1\",\"locators\":[\"2001:db8:9::1\","
		  "\"2001:db8:9::2\"],\"ttl\":60,\"name\":\"h.example\"}\n"), "{\"ok\":true}");
	assert_int_equal(R.d.tables.peers.n, 1);
	struct in6_addr u;
	inet_pton(AF_INET6, "fd00:20::1", &u);
	const struct peer_entry *p = tables_peer(&R.d.tables, &u, clk);
	assert_non_null(p);
	assert_int_equal(p->nloc, 2);
	is(ask(c, "{\"cmd\":\"peer-locators\",\"ulid\":\"fd00:20::2\",\"locators\":[\"2001:db8:9::1\"],"
		  "\"ttl\":-1}\n"), "{\"ok\":false,\"error\":\"'ttl' must be an integer 0..604800\"}");
	is(ask(c, "{\"cmd\":\"peer-locators\",\"ulid\":\"fd00:20::2\",\"ttl\":5}\n"),
	   "{\"ok\":false,\"error\":\"'locators' must be a non-empty array of IPv6 addresses\"}");
	assert_int_equal(R.d.tables.peers.n, 1);
	has(ask(c, "{\"cmd\":\"status\"}\n"), "\"peers_cached\":1,");
}

/* ---- config-check, reload, resync --------------------------------------------- */

static void test_config_check(void **state)
{
	(void)state;
	struct cl *c = cl_open();
	char want[256];
	snprintf(want, sizeof want, "{\"ok\":true,\"file\":\"%s\"}", R.conf_path);
	is(ask(c, "{\"cmd\":\"config-check\"}\n"), want);
	snprintf(want, sizeof want, "\"text\":\"%s: configuration OK\\n\"}", R.conf_path);
	has(ask(c, "{\"cmd\":\"config-check\",\"text\":true}\n"), want);

	write_file(R.bad_path, "site = { name = \"s\"; };\nisps = 3;\n");
	char req[256];
	snprintf(req, sizeof req, "{\"cmd\":\"config-check\",\"file\":\"%s\"}\n", R.bad_path);
	const char *r = ask(c, req);
	has(r, "{\"ok\":false,\"error\":\"configuration has errors\",\"errors\":[\"");
	snprintf(want, sizeof want, "\"%s:", R.bad_path);
	has(r, want);
	assert_int_equal(strcmp(r + strlen(r) - 3, "\"]}"), 0);

	snprintf(req, sizeof req, "{\"cmd\":\"config-check\",\"file\":\"%s/absent.conf\"}\n", R.dir);
	has(ask(c, req), "{\"ok\":false,\"error\":\"configuration has errors\",\"errors\":[\"");
}

static void test_reload(void **state)
{
	(void)state;
	struct cl *c = cl_open();
	is(ask(c, "{\"cmd\":\"reload\"}\n"), "{\"ok\":true}");
	is(ask(c, "{\"cmd\":\"reload\",\"text\":true}\n"),
	   "{\"ok\":true,\"text\":\"configuration reloaded; 0 contexts kept\\n\"}");
	reload_errs = "f.conf:1: boom\nf.conf:2: \"bang\"\n";
	is(ask(c, "{\"cmd\":\"reload\"}\n"),
	   "{\"ok\":false,\"error\":\"reload refused; running configuration kept\","
	   "\"errors\":[\"f.conf:1: boom\",\"f.conf:2: \\\"bang\\\"\"]}");
	assert_int_equal(nreload, 3);
}

static void test_resync(void **state)
{
	(void)state;
	struct cl *c = cl_open();
	resync_rc = -1;
	is(ask(c, "{\"cmd\":\"resync\"}\n"), "{\"ok\":false,\"error\":\"the dataplane is not connected\"}");
	R.d.dp.dumping = true;
	is(ask(c, "{\"cmd\":\"resync\"}\n"),
	   "{\"ok\":false,\"error\":\"a dump of the dataplane is under way already\"}");
	resync_rc = 0;
	is(ask(c, "{\"cmd\":\"resync\"}\n"), "{\"ok\":true}");
	assert_int_equal(nresync, 3);
}

/* ---- the socket itself -------------------------------------------------------- */

static void test_open_and_close(void **state)
{
	(void)state;
	struct stat st;
	assert_int_equal(stat(R.sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);

	/* a live daemon on the path is not displaced */
	struct daemon other = { .conf = &R.conf, .listen_fd = -1 };
	assert_int_equal(ctlsock_open(&other), -1);
	assert_int_equal(other.listen_fd, -1);
	/* its probe connected and left: taken and dropped like any client */
	uint64_t end = real_ms() + WAIT_MS;
	while ((R.d.st.clients_accepted < 1 || R.d.clients[0]) && real_ms() < end)
		serve_once(10);
	assert_int_equal(R.d.st.clients_accepted, 1);
	assert_null(R.d.clients[0]);
	struct cl *a = cl_open(), *b = cl_open();
	has(ask(a, "{\"cmd\":\"status\"}\n"), "{\"ok\":true,");

	/* replies still waiting go with the client */
	int slot = b->slot;
	set_small_sndbuf(slot);
	fill_contexts();
	cl_say(b, "{\"cmd\":\"contexts\"}\n");
	end = real_ms() + WAIT_MS;
	while (R.d.st.requests < 2 && real_ms() < end)
		serve_once(10);
	assert_true(pending(slot) > 0);

	ctlsock_close(&R.d);
	assert_int_equal(R.d.listen_fd, -1);
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		assert_null(R.d.clients[i]);
	assert_int_equal(stat(R.sock, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_true(cl_ended(a, NULL));
	assert_true(cl_ended(b, NULL));
	ctlsock_close(&R.d);   /* twice is harmless */

	/* and it opens again on the same path */
	assert_int_equal(ctlsock_open(&R.d), 0);
	struct cl *n = cl_open();
	has(ask(n, "{\"cmd\":\"status\"}\n"), "{\"ok\":true,");
}

static void test_open_replaces_stale_socket(void **state)
{
	(void)state;
	/* a daemon that died left its socket file: nobody listens there */
	ctlsock_close(&R.d);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", R.sock);
	assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof sun), 0);
	close(s);
	assert_int_equal(access(R.sock, F_OK), 0);
	assert_int_equal(ctlsock_open(&R.d), 0);
	has(ask(cl_open(), "{\"cmd\":\"status\"}\n"), "{\"ok\":true,");
}

/* What control.socket names, if it is not a socket, is not deleted: a
 * mistyped path must not cost the operator a file. */
static void test_open_leaves_a_file_alone(void **state)
{
	(void)state;
	ctlsock_close(&R.d);
	FILE *f = fopen(R.sock, "w");
	assert_non_null(f);
	fputs("keep me\n", f);
	fclose(f);
	assert_int_equal(ctlsock_open(&R.d), -1);
	assert_int_equal(R.d.listen_fd, -1);
	char buf[16] = "";
	f = fopen(R.sock, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_string_equal(buf, "keep me\n");
	assert_int_equal(unlink(R.sock), 0);
	assert_int_equal(ctlsock_open(&R.d), 0);
}

int main(void)
{
	log_setup("test_ctlsock", false, "daemon", PSHIM6_LOG_ERR);
	signal(SIGPIPE, SIG_IGN);   /* as daemon.c does */
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_status),
		T(test_counters),
		T(test_contexts),
		T(test_context),
		T(test_bad_requests_keep_client),
		T(test_line_in_pieces),
		T(test_lines_in_one_write),
		T(test_line_bound),
		T(test_client_bound),
		T(test_idle_client_gives_way),
		T(test_accept_failure_pauses_listener),
		T(test_open_refuses_path_of_sun_path_size),
		T(test_open_refuses_unknown_group),
		T(test_accept_with_nobody_waiting),
		T(test_slow_reader_queued),
		T(test_slow_reader_dropped),
		T(test_reply_memory_bounded),
		T(test_reply_bound_exact),
		T(test_lease),
		T(test_peer_locators),
		T(test_config_check),
		T(test_reload),
		T(test_resync),
		T(test_open_and_close),
		T(test_open_replaces_stale_socket),
		T(test_open_leaves_a_file_alone),
		T(test_open_refuses_busy_live_socket),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
