/* control/peer.c itself, on a fake clock, against a stand-in for the other
 * proxy: real UDP datagrams on loopback, every one through the codec
 * (peer_msg.c), the daemon's config loaded from a file, its tables and
 * context table as daemon.c makes them.  What the engine and the dataplane
 * would do is recorded by small fakes of proxy.c and dp.c below.
 *
 * Addresses.  Both proxies use peer.port, and peer.c binds it on the
 * wildcard address, so the stand-in needs an address of its own on the
 * same port: ::1 is the only IPv6 loopback address, so the stand-in sits on
 * 127.0.0.1 (and 127.0.0.3 for a second path), configured as the
 * IPv4-mapped ::ffff:127.0.0.1, and sends to peer.c at 127.0.0.2.  Its
 * sockets and peer.c's carry SO_REUSEADDR (set here, after peer_init) so
 * the kernel lets them share the port; it then delivers each datagram to
 * the socket bound to its destination address, the stand-in's before the
 * wildcard one.  With peer.sources, peer.c's own addresses are 127.0.0.2
 * on path 0 and 127.0.0.4 on path 1 (all of 127.0.0.0/8 is this host's),
 * so the stand-in can tell which source each datagram left from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include "daemon.h"
#include "json.h"
#include "engine_fill.h"
#include "log.h"
#include "peer.h"
#include "peer_fsm.h"
#include "peer_msg.h"
#include "proxy.h"

#define MS UINT64_C(1000000)
#define HB_MS 100
#define DEAD_MS 500
#define STEP_MS 10                           /* the daemon's poll wakes at least this often */
#define MAXIN 512

static const uint8_t KEY[40] = "peer-io test key: 40 octets, both sides";

/* ---- fakes of what peer.c calls outside the peer modules ------------------- */

/* The fake clock starts at CLOCK_MONOTONIC's reading, and then only the
 * test moves it: peer_stop waits for the hook on the real clock (the
 * daemon's is the same one), which must not find a run started in the far
 * future or past. */
static uint64_t T0, clk;
uint64_t now_ns(void) { return clk; }

static struct shim6_engine *eng;   /* what proxy.c would hand peer.c; NULL: engine off */
struct shim6_engine *proxy_engine(void) { return eng; }

/* a takeover's imports, as proxy.c would receive them */
static struct dpmsg_ctx adopted[64];
static unsigned nadopted, nreleased;

int proxy_adopt(struct daemon *d, const struct dpmsg_ctx *dc, const struct ctl_state_ctx *sc)
{
	(void)sc;
	assert_true(nadopted < sizeof adopted / sizeof adopted[0]);
	adopted[nadopted++] = *dc;
	struct ctl_ctx *x = ctxtab_add(&d->ctxs, dc);
	if (!x)
		return -1;
	x->state = SHIM6_ST_ESTABLISHED;
	return 0;
}

void proxy_release_all(struct daemon *d, bool keep_dp)
{
	(void)keep_dp;
	ctxtab_clear(&d->ctxs);
	nreleased++;
}

static uint64_t dp_deleted[64];
static unsigned ndp_deleted, ninjected;
static struct dpmsg_inject injected;   /* the last packet given back to the dataplane */

int dp_write(struct daemon *d, struct dpmsg *m)
{
	(void)d;
	if (m->type == DPMSG_CTX_DEL && ndp_deleted < 64)
		dp_deleted[ndp_deleted++] = m->u.ctx.own_tag;
	if (m->type == DPMSG_INJECT) {
		injected = m->u.inject;
		ninjected++;
	}
	return 0;
}

/* ---- the rig: config, daemon state, the stand-in's sockets ----------------- */

struct got {                        /* one datagram peer.c sent, decoded */
	struct peer_msg m;
	unsigned path;
	struct sockaddr_in src;         /* where it came from */
	uint64_t at;                    /* fake time it was collected */
};

static struct {
	char dir[64], path_conf[96], path_key[96], path_script[96], path_record[96];
	struct pshim6_conf conf;
	struct daemon d;
	bool up, d_up;                  /* the temp dir; the daemon state */
	uint16_t port;
	unsigned npaths;
	int other[2];                   /* the stand-in, one socket per path */
	/* the stand-in's run */
	int role, state;
	uint64_t session, seq, echo;
	struct got in[MAXIN];
	unsigned nin;
} R = { .other = { -1, -1 } };

static void write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void conf_err(void *arg, const char *file, unsigned line, const char *msg)
{
	(void)arg;
	fail_msg("%s:%u: %s", file, line, msg);
}

/* a port nobody holds now (the rig retries when that changed meanwhile) */
static uint16_t free_port(void)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	socklen_t l = sizeof a;
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	close(fd);
	return ntohs(a.sin6_port);
}

static int bound_v4(const char *addr, uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, addr, &a.sin_addr), 1);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	return fd;
}

static void rig_down_peer(void)
{
	if (!R.d_up)
		return;
	R.d_up = false;
	peer_free(&R.d);
	tables_free(&R.d.tables);
	ctxtab_free(&R.d.ctxs);
}

struct opts {
	const char *role;               /* "primary" or "backup" */
	unsigned max_contexts;          /* engine.max_contexts: replica and import bounds */
	unsigned sync_batch;
	unsigned paths;                 /* 1, or 2 with an alt address */
	bool notify;
	unsigned linger_ms;             /* peer.yield_linger_ms */
	const char *sources;            /* peer.sources, as the config writes the array, or NULL */
	bool no_peer;                   /* no peer section at all */
	bool no_replicate;              /* peer.replicate = false */
};

/* The daemon as daemon.c builds it (config, tables, context table,
 * peer_init), and the stand-in for the other proxy on its own address. */
static void rig_up(const struct opts *o)
{
	snprintf(R.dir, sizeof R.dir, "/tmp/test_peer_io.XXXXXX");
	assert_non_null(mkdtemp(R.dir));
	R.up = true;
	snprintf(R.path_conf, sizeof R.path_conf, "%s/pshim6.conf", R.dir);
	snprintf(R.path_key, sizeof R.path_key, "%s/peer.key", R.dir);
	snprintf(R.path_script, sizeof R.path_script, "%s/notify", R.dir);
	snprintf(R.path_record, sizeof R.path_record, "%s/notify.calls", R.dir);
	write_file(R.path_key, (const char *)KEY, sizeof KEY, 0600);
	char script[256];
	int n = snprintf(script, sizeof script, "#!/bin/sh\necho \"$1 $2 $3\" >> %s\n", R.path_record);
	write_file(R.path_script, script, (size_t)n, 0700);
	R.npaths = o->paths ? o->paths : 1;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	clk = T0 = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	for (int attempt = 0;; attempt++) {
		R.port = free_port();
		char conf[4096], notify[160] = "", sources[160] = "";
		if (o->notify)
			snprintf(notify, sizeof notify, "notify = \"%s\"; notify_timeout_ms = 600000;", R.path_script);
		if (o->sources)
			snprintf(sources, sizeof sources, "sources = %s;", o->sources);
		n = snprintf(conf, sizeof conf,
			"site = { name = \"s\"; cmula_prefixes = [ \"fd00:10::/48\" ]; key_file = \"/k\"; };\n"
			"inside = { port = \"0000:00:01.0\"; };\n"
			"isps = ( { name = \"x\"; pa_prefix = \"2001:db8:1:1::/64\"; port = \"0000:00:02.0\"; "
			"next_hop = \"2001:db8:1:1::1\"; },\n"
			"         { name = \"y\"; pa_prefix = \"2001:db8:2:1::/64\"; port = \"0000:00:03.0\"; "
			"next_hop = \"2001:db8:2:1::1\"; } );\n"
			"control = { lease_table = 16; peer_cache = 16; };\n"
			"engine = { max_contexts = %u; };\n"
			"peer = { role = \"%s\"; address = \"::ffff:127.0.0.1\"; %s %s port = %u; key_file = \"%s\";\n"
			"         heartbeat_ms = %u; dead_ms = %u; sync_interval_ms = 1000; sync_batch = %u;\n"
			"         yield_linger_ms = %u; %s %s };\n",
			o->max_contexts ? o->max_contexts : 64, o->role,
			R.npaths > 1 ? "alt_addresses = [ \"::ffff:127.0.0.3\" ];" : "", sources, R.port, R.path_key,
			HB_MS, DEAD_MS, o->sync_batch ? o->sync_batch : 256, o->linger_ms, notify,
			o->no_replicate ? "replicate = false;" : "");
		if (o->no_peer)
			n = (int)(strstr(conf, "peer = {") - conf);
		write_file(R.path_conf, conf, (size_t)n, 0600);
		memset(&R.conf, 0, sizeof R.conf);
		assert_int_equal(pshim6_conf_load(R.path_conf, &R.conf, conf_err, NULL), 0);
		memset(&R.d, 0, sizeof R.d);
		R.d.conf = &R.conf;
		R.d.listen_fd = R.d.sig_fd = R.d.dp.fd = -1;
		assert_int_equal(tables_init(&R.d.tables, R.conf.control.peer_cache, R.conf.control.lease_table, 1), 0);
		assert_int_equal(ctxtab_init(&R.d.ctxs, R.conf.engine.max_contexts), 0);
		R.d_up = true;
		if (peer_init(&R.d) == 0)
			break;
		assert_false(o->no_peer);
		/* the port was taken between free_port and the bind */
		rig_down_peer();
		assert_true(attempt < 10);
	}
	if (o->no_peer)
		return;
	int one = 1;
	assert_true(peer_fd(&R.d) >= 0);
	assert_int_equal(setsockopt(peer_fd(&R.d), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
	R.other[0] = bound_v4("127.0.0.1", R.port);
	if (R.npaths > 1)
		R.other[1] = bound_v4("127.0.0.3", R.port);
	R.role = !strcmp(o->role, "primary") ? PEER_ROLE_BACKUP : PEER_ROLE_PRIMARY;
	R.state = R.role == PEER_ROLE_PRIMARY ? PEER_ST_ACTIVE : PEER_ST_STANDBY;
	R.session = 0x5eed0000u + (uint64_t)getpid();
	R.seq = R.echo = 0;
	R.nin = 0;
}

/* stderr (the log, warnings included) into a fresh file for a while;
 * teardown puts it back */
static int saved_stderr = -1;
static enum pshim6_conf_log_level saved_level;
static FILE *log_file;

static void log_to_file(void)
{
	if (log_file)
		fclose(log_file);
	fflush(stderr);
	log_file = tmpfile();
	assert_non_null(log_file);
	saved_stderr = dup(2);
	assert_true(saved_stderr >= 0);
	assert_int_equal(dup2(fileno(log_file), 2), 2);
	saved_level = log_get_level();
	if (saved_level < PSHIM6_LOG_WARNING)
		log_set_level(PSHIM6_LOG_WARNING);
}

static void log_back(void)
{
	if (saved_stderr < 0)
		return;
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	saved_stderr = -1;
	log_set_level(saved_level);
}

static int teardown(void **st)
{
	(void)st;
	log_back();
	if (log_file)
		fclose(log_file);
	log_file = NULL;
	if (!R.up)
		return 0;
	rig_down_peer();
	for (unsigned i = 0; i < 2; i++) {
		if (R.other[i] >= 0)
			close(R.other[i]);
		R.other[i] = -1;
	}
	if (eng)
		shim6_engine_del(eng);
	eng = NULL;
	nadopted = nreleased = ndp_deleted = ninjected = 0;
	unlink(R.path_conf);
	unlink(R.path_key);
	unlink(R.path_script);
	unlink(R.path_record);
	rmdir(R.dir);
	R.up = false;
	return 0;
}

/* ---- the stand-in: what it receives, what it says -------------------------- */

/* Everything peer.c sent since the last call, decoded; the stand-in learns
 * peer.c's session from it, as the other proxy would. */
static unsigned collect(void)
{
	unsigned got = 0;
	for (unsigned p = 0; p < R.npaths; p++) {
		uint8_t buf[PEER_MSG_MAX + 1];
		ssize_t n;
		struct sockaddr_in src;
		socklen_t sl = sizeof src;
		while ((n = recvfrom(R.other[p], buf, sizeof buf, 0, (struct sockaddr *)&src, &sl)) >= 0) {
			assert_true(R.nin < MAXIN);
			struct got *g = &R.in[R.nin];
			assert_int_equal(sl, sizeof src);
			g->src = src;
			sl = sizeof src;
			assert_int_equal(peer_msg_decode(buf, (size_t)n, KEY, sizeof KEY, &g->m), 0);
			g->path = p;
			g->at = clk;
			R.echo = g->m.session;
			R.nin++;
			got++;
		}
		assert_int_equal(errno, EAGAIN);
	}
	return got;
}

static unsigned count_type(uint8_t type, unsigned from)
{
	unsigned n = 0;
	for (unsigned i = from; i < R.nin; i++)
		n += R.in[i].m.type == type;
	return n;
}

static const struct got *last_of(uint8_t type)
{
	for (unsigned i = R.nin; i-- > 0;)
		if (R.in[i].m.type == type)
			return &R.in[i];
	return NULL;
}

static void send_from(int fd, const uint8_t *buf, int n)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(R.port) };
	inet_pton(AF_INET, "127.0.0.2", &to.sin_addr);
	assert_int_equal(sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&to, sizeof to), n);
}

/* peer.c reads what was sent to it; loopback delivers at once, the poll
 * only guards against a deferred softirq on a loaded machine */
static void deliver(void)
{
	struct pollfd pf = { .fd = peer_fd(&R.d), .events = POLLIN };
	assert_int_equal(poll(&pf, 1, 5000), 1);
	peer_read(&R.d);
}

/* m as the stand-in's run sends it, signed with `key`: its length */
static int encode_as_other(struct peer_msg *m, const uint8_t *key, size_t keylen, uint8_t *buf)
{
	m->role = (uint8_t)R.role;
	m->state = (uint8_t)R.state;
	m->session = R.session;
	m->echo = R.echo;
	m->seq = ++R.seq;
	int n = peer_msg_encode(m, key, keylen, buf, PEER_MSG_MAX);
	assert_true(n > 0);
	return n;
}

/* Send m over each path in `paths` (a bit mask), the same datagram on each,
 * as peer.c sends its heartbeats; then peer.c reads.  The datagram is kept
 * in `raw` when asked for (replays). */
static int say_on(unsigned paths, struct peer_msg *m, uint8_t *raw)
{
	uint8_t buf[PEER_MSG_MAX];
	int n = encode_as_other(m, KEY, sizeof KEY, buf);
	for (unsigned p = 0; p < R.npaths; p++)
		if (paths & (1u << p))
			send_from(R.other[p], buf, n);
	if (raw)
		memcpy(raw, buf, (size_t)n);
	deliver();
	return n;
}

static void say(struct peer_msg *m) { say_on(1, m, NULL); }

static void heartbeat(uint32_t contexts, uint32_t epoch_rx, uint32_t epoch_tx)
{
	struct peer_msg m = { .type = PEER_HEARTBEAT };
	m.u.hb.contexts = contexts;
	m.u.hb.epoch_rx = epoch_rx;
	m.u.hb.epoch_tx = epoch_tx;
	say(&m);
}

/* A context as the active proxy describes it: tag 0x1000 + i, the pair and
 * generations of engine_fill.h's context i, ISP i % 2. */
static void ctx_body(struct peer_ctx *c, unsigned i)
{
	memset(c, 0, sizeof *c);
	c->local_ulid[0] = 0xfd;
	c->local_ulid[15] = (uint8_t)i;
	memcpy(c->peer_ulid, c->local_ulid, 16);
	c->peer_ulid[1] = 2;
	memcpy(c->local_loc, c->local_ulid, 16);
	c->local_loc[0] = 0x20;
	c->local_loc[1] = 1;
	memcpy(c->peer_loc, c->peer_ulid, 16);
	c->peer_loc[0] = 0x20;
	c->peer_loc[1] = 3;
	c->own_tag = 0x1000 + i;
	c->peer_tag = 0x2000 + i;
	c->isp = (uint8_t)(i % 2);
	c->st.own_tag = c->own_tag;
	c->st.local_gen = 100 + i;
	c->st.peer_gen = 200 + i;
	c->st.npeer = 1;
	memcpy(c->st.peer_locs[0].addr.b, c->peer_loc, 16);
	c->st.verified[0] = 1;
}

static void send_ctx(uint8_t type, uint32_t epoch, unsigned i)
{
	struct peer_msg m = { .type = type, .sync_epoch = epoch };
	ctx_body(&m.u.ctx, i);
	say(&m);
}

static void send_del(unsigned i)
{
	struct peer_msg m = { .type = PEER_CTX_DEL };
	m.u.del_tag = 0x1000 + i;
	say(&m);
}

static void send_sync(uint8_t type, uint32_t epoch, uint32_t count)
{
	struct peer_msg m = { .type = type };
	m.u.sync.epoch = epoch;
	m.u.sync.count = count;
	say(&m);
}

/* ---- time and counters ----------------------------------------------------- */

/* The daemon's loop: peer_tick at every wake-up, here every STEP_MS of fake
 * time, up to and including `until`; what peer.c sends is collected. */
static void run_to(uint64_t until)
{
	while (clk + STEP_MS * MS <= until) {
		clk += STEP_MS * MS;
		peer_tick(&R.d, clk);
		collect();
	}
}

/* The stand-in heartbeats every HB_MS for `ms` (the first one now). */
static void heard_for(uint64_t ms, uint32_t contexts, uint32_t epoch_rx)
{
	uint64_t end = clk + ms * MS;
	for (;;) {
		heartbeat(contexts, epoch_rx, 0);
		if (clk + HB_MS * MS > end)
			break;
		run_to(clk + HB_MS * MS);
	}
}

struct find { const char *name; uint64_t v; bool found; };
static void put_one(void *arg, const char *group, const char *name, uint64_t v)
{
	struct find *f = arg;
	assert_string_equal(group, "peer");
	if (!strcmp(name, f->name)) {
		f->v = v;
		f->found = true;
	}
}

static uint64_t ctr(const char *name)
{
	struct find f = { name, 0, false };
	peer_counters(&R.d, put_one, &f);
	if (!f.found)
		fail_msg("no peer counter %s", name);
	return f.v;
}

/* Still standing by one step before dead_ms after `since`, active at it. */
static void takes_over_at_dead_ms_after(uint64_t since)
{
	run_to(since + (DEAD_MS - STEP_MS) * MS);
	assert_int_equal(ctr("state"), PEER_ST_STANDBY);
	run_to(since + DEAD_MS * MS);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
}

/* The first tick: peer.c's first heartbeat tells the stand-in its session. */
static void start(void)
{
	peer_tick(&R.d, clk);
	assert_true(collect() >= 1);
	assert_int_not_equal(R.echo, 0);
}

/* ---- heartbeats ------------------------------------------------------------ */

static void heartbeats_go_out_every_interval_on_every_path_with_rising_numbers(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "primary", .paths = 2 });
	peer_tick(&R.d, clk);
	collect();
	run_to(T0 + 1000 * MS);
	/* 0, 100, ..., 1000 ms: eleven heartbeats, each once per path */
	assert_int_equal(R.nin, 22);
	assert_int_equal(count_type(PEER_HEARTBEAT, 0), 22);
	uint64_t last_seq = 0;
	for (unsigned k = 0; k < 11; k++) {
		const struct got *a = NULL, *b = NULL;
		for (unsigned i = 0; i < R.nin; i++)
			if (R.in[i].at == T0 + k * HB_MS * MS)
				*(R.in[i].path ? &b : &a) = &R.in[i];
		assert_non_null(a);
		assert_non_null(b);
		assert_true(a->m.seq == b->m.seq);           /* one heartbeat, two copies */
		assert_true(a->m.seq > last_seq);
		last_seq = a->m.seq;
		assert_int_equal(a->m.role, PEER_ROLE_PRIMARY);
	}
	assert_int_equal(ctr("hb_tx"), 11);
	assert_int_equal(ctr("path0_hb_tx"), 11);
	assert_int_equal(ctr("path1_hb_tx"), 11);
	assert_int_equal(ctr("tx"), 22);
	assert_int_equal(ctr("tx_failed"), 0);
	/* nobody answered: the primary serves after dead_ms on its own */
	assert_int_equal(R.in[0].m.state, PEER_ST_INIT);
	assert_int_equal(R.in[R.nin - 1].m.state, PEER_ST_ACTIVE);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	assert_int_equal(ctr("activations"), 1);
}

/* ---- takeover -------------------------------------------------------------- */

static void backup_takes_over_dead_ms_after_the_last_heartbeat_not_before(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heard_for(1000, 2, 0);
	send_ctx(PEER_CTX, 0, 0);
	send_ctx(PEER_CTX, 0, 1);
	uint64_t last = clk;
	assert_int_equal(ctr("hb_rx"), 11);
	assert_int_equal(ctr("peer_alive"), 1);
	assert_int_equal(ctr("replicas"), 2);
	run_to(last + (DEAD_MS - STEP_MS) * MS);
	assert_int_equal(ctr("state"), PEER_ST_STANDBY);
	assert_int_equal(ctr("takeovers"), 0);
	assert_int_equal(nadopted, 0);
	run_to(last + DEAD_MS * MS);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	assert_int_equal(ctr("takeovers"), 1);
	assert_int_equal(ctr("takeovers_silence"), 1);
	assert_int_equal(ctr("last_takeover_after_ms"), DEAD_MS);
	assert_int_equal(ctr("replicas"), 0);             /* now the engine's */
	assert_int_equal(nadopted, 2);
	assert_int_equal(adopted[0].own_tag, 0x1000);
	assert_int_equal(adopted[1].own_tag, 0x1001);
	/* the next heartbeat tells the primary */
	run_to(clk + HB_MS * MS);
	assert_int_equal(last_of(PEER_HEARTBEAT)->m.state, PEER_ST_ACTIVE);
	char *js = NULL;
	size_t jl = 0;
	FILE *f = open_memstream(&js, &jl);
	assert_non_null(f);
	peer_status(&R.d, f, NULL);
	fclose(f);
	assert_non_null(strstr(js, "\"role\":\"backup\",\"state\":\"active\""));
	assert_non_null(strstr(js, "\"takeovers\":1"));
	free(js);
}

static void one_silent_path_is_no_takeover_silence_on_all_is(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup", .paths = 2 });
	start();
	struct peer_msg m = { .type = PEER_HEARTBEAT };
	for (int k = 0; k < 3; k++) {
		say_on(3, &m, NULL);      /* one heartbeat, a copy over each path */
		run_to(clk + HB_MS * MS);
	}
	assert_int_equal(ctr("hb_rx"), 3);
	assert_int_equal(ctr("rx_duplicate"), 3);
	assert_int_equal(ctr("paths_up"), 2);
	/* path 0 cut for four dead intervals */
	uint64_t last = clk;
	while (clk < last + 4 * DEAD_MS * MS) {
		say_on(2, &m, NULL);
		run_to(clk + HB_MS * MS);
	}
	last = clk - HB_MS * MS;
	assert_int_equal(ctr("state"), PEER_ST_STANDBY);
	assert_int_equal(ctr("takeovers"), 0);
	assert_int_equal(ctr("path0_up"), 0);
	assert_int_equal(ctr("path1_up"), 1);
	assert_int_equal(ctr("sync_path"), 1);
	/* and then path 1 */
	takes_over_at_dead_ms_after(last);
	assert_int_equal(ctr("takeovers_silence"), 1);
}

/* The hook's run in flight, if any, has ended and peer.c reaped it.  The
 * wait is for the script's process, not for time: waitid without reaping
 * (that is peer.c's), then a tick at the same fake time. */
static void hook_done(void)
{
	if (ctr("notify_in_flight")) {
		siginfo_t si;
		assert_int_equal(waitid(P_ALL, 0, &si, WEXITED | WNOWAIT), 0);
		peer_tick(&R.d, clk);
	}
	assert_int_equal(ctr("notify_in_flight"), 0);
}

static void notify_hook_is_told_each_role_change_in_order(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup", .notify = true });
	hook_done();
	start();
	assert_int_equal(ctr("notify_ok"), 1);
	run_to(T0 + DEAD_MS * MS);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	hook_done();
	assert_int_equal(ctr("notify_ok"), 2);
	assert_int_equal(ctr("notify_failed"), 0);
	assert_int_equal(ctr("notify_skipped"), 0);
	peer_stop(&R.d);
	/* nothing left running or unreaped */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	FILE *f = fopen(R.path_record, "r");
	assert_non_null(f);
	char lines[4][64] = { "", "", "", "" };
	for (unsigned i = 0; i < 4 && fgets(lines[i], sizeof lines[i], f); i++)
		;
	fclose(f);
	assert_string_equal(lines[0], "standby none backup\n");
	assert_string_equal(lines[1], "active standby backup\n");
	assert_string_equal(lines[2], "stopped active backup\n");
	assert_string_equal(lines[3], "");
}

/* ---- replication ----------------------------------------------------------- */

/* The primary's engine holds contexts 0x1000.. (engine_fill.h), installed
 * as control's context table holds them. */
static int install_one(void *arg, const struct shim6_ctx_info *ci)
{
	struct daemon *d = arg;
	struct dpmsg_ctx dc;
	memset(&dc, 0, sizeof dc);
	memcpy(dc.local_ulid, ci->local_ulid.b, 16);
	memcpy(dc.remote_ulid, ci->peer_ulid.b, 16);
	memcpy(dc.local_loc, ci->local_loc.b, 16);
	memcpy(dc.remote_loc, ci->peer_loc.b, 16);
	dc.own_tag = ci->id;
	dc.peer_tag = ci->peer_tag;
	dc.isp = (uint8_t)(ci->id & 1);
	assert_non_null(ctxtab_add(&d->ctxs, &dc));
	return 0;
}

static void engine_installed(unsigned n)
{
	eng = engine_with(n);
	shim6_engine_ctx_foreach(eng, install_one, &R.d);
}

/* The messages of one full sync, from its BEGIN on: the tags of its
 * SYNC_CTX in `tags`, their number returned; fails on a foreign epoch. */
static unsigned sync_tags(unsigned from, uint32_t *epoch, uint64_t *tags, uint32_t *end_count)
{
	unsigned n = 0, i = from;
	while (i < R.nin && R.in[i].m.type != PEER_SYNC_BEGIN)
		i++;
	assert_true(i < R.nin);
	*epoch = R.in[i].m.u.sync.epoch;
	*end_count = UINT32_MAX;
	for (; i < R.nin; i++) {
		const struct peer_msg *m = &R.in[i].m;
		if (m->type == PEER_SYNC_CTX) {
			assert_int_equal(m->sync_epoch, *epoch);
			tags[n++] = m->u.ctx.own_tag;
		} else if (m->type == PEER_SYNC_END) {
			assert_int_equal(m->u.sync.epoch, *epoch);
			*end_count = m->u.sync.count;
			break;
		}
	}
	return n;
}

static void primary_sends_a_paced_full_sync_then_each_change(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "primary", .sync_batch = 2 });
	engine_installed(3);
	start();
	unsigned mark = R.nin;
	heartbeat(0, 0, 0);            /* a standing-by backup appears */
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	collect();
	unsigned per_tick_max = R.nin - mark;
	for (int k = 0; k < 10; k++) {
		unsigned before = R.nin;
		run_to(clk + STEP_MS * MS);
		unsigned other = R.nin - before - count_type(PEER_HEARTBEAT, before);
		per_tick_max = other > per_tick_max ? other : per_tick_max;
	}
	assert_true(per_tick_max <= 2);   /* sync_batch messages per 10 ms, BEGIN and END included */
	uint32_t epoch, end_count;
	uint64_t tags[8];
	unsigned n = sync_tags(mark, &epoch, tags, &end_count);
	assert_int_equal(n, 3);
	assert_int_equal(end_count, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(tags[i] & ~UINT64_C(3), 0x1000);
	assert_true(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2]);
	const struct got *c = last_of(PEER_SYNC_CTX);
	uint64_t i = c->m.u.ctx.own_tag - 0x1000;
	assert_int_equal(c->m.u.ctx.peer_tag, 0x2000 + i);
	assert_int_equal(c->m.u.ctx.st.local_gen, 100 + i);
	assert_int_equal(c->m.u.ctx.st.peer_gen, 200 + i);
	assert_int_equal(c->m.u.ctx.st.npeer, 2);
	assert_int_equal(ctr("syncs_tx"), 1);
	assert_int_equal(ctr("last_sync_tx"), epoch);
	heartbeat(0, epoch, 0);        /* received whole */
	mark = R.nin;
	peer_ctx_changed(&R.d, 0x1001);
	peer_ctx_removed(&R.d, 0x1002);
	collect();
	assert_int_equal(R.nin - mark, 2);
	assert_int_equal(R.in[mark].m.type, PEER_CTX);
	assert_int_equal(R.in[mark].m.u.ctx.own_tag, 0x1001);
	assert_int_equal(R.in[mark + 1].m.type, PEER_CTX_DEL);
	assert_int_equal(R.in[mark + 1].m.u.del_tag, 0x1002);
	assert_true(R.in[mark + 1].m.seq > R.in[mark].m.seq);
	assert_int_equal(ctr("ctx_tx"), 4);
	assert_int_equal(ctr("del_tx"), 1);
	/* a change while the backup is silent is not sent: the sync at its return carries it */
	run_to(clk + DEAD_MS * MS);
	assert_int_equal(ctr("peer_alive"), 0);
	mark = R.nin;
	peer_ctx_changed(&R.d, 0x1000);
	collect();
	assert_int_equal(R.nin - mark, 0);
}

static void backup_replica_follows_updates_deletions_and_a_whole_sync(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heartbeat(3, 0, 0);
	for (unsigned i = 0; i < 3; i++)
		send_ctx(PEER_CTX, 0, i);
	assert_int_equal(ctr("replicas"), 3);
	assert_int_equal(ctr("ctx_rx"), 3);
	send_del(1);
	assert_int_equal(ctr("replicas"), 2);
	assert_int_equal(ctr("del_rx"), 1);
	assert_int_equal(ctr("replica_complete"), 0);
	/* a full sync that no longer lists context 2 */
	send_sync(PEER_SYNC_BEGIN, 7, 1);
	send_ctx(PEER_SYNC_CTX, 7, 0);
	send_sync(PEER_SYNC_END, 7, 1);
	assert_int_equal(ctr("syncs_rx"), 1);
	assert_int_equal(ctr("replicas"), 1);
	assert_int_equal(ctr("replica_pruned"), 1);
	assert_int_equal(ctr("replica_complete"), 1);
	assert_int_equal(ctr("last_sync_rx"), 7);
	/* the backup's heartbeats tell the primary its sync arrived */
	run_to(clk + HB_MS * MS);
	assert_int_equal(last_of(PEER_HEARTBEAT)->m.u.hb.epoch_rx, 7);
	assert_int_equal(last_of(PEER_HEARTBEAT)->m.u.hb.contexts, 1);
	/* what a takeover installs is what was replicated, field for field */
	run_to(clk + DEAD_MS * MS);
	assert_int_equal(ctr("takeovers"), 1);
	assert_int_equal(ctr("takeovers_incomplete"), 0);
	assert_int_equal(nadopted, 1);
	struct peer_ctx want;
	ctx_body(&want, 0);
	assert_int_equal(adopted[0].own_tag, want.own_tag);
	assert_int_equal(adopted[0].peer_tag, want.peer_tag);
	assert_int_equal(adopted[0].isp, want.isp);
	assert_memory_equal(adopted[0].local_ulid, want.local_ulid, 16);
	assert_memory_equal(adopted[0].remote_ulid, want.peer_ulid, 16);
	assert_memory_equal(adopted[0].local_loc, want.local_loc, 16);
	assert_memory_equal(adopted[0].remote_loc, want.peer_loc, 16);
}

static void replica_table_is_bounded_and_refusals_are_counted(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup", .max_contexts = 4 });
	start();
	heartbeat(6, 0, 0);
	for (unsigned i = 0; i < 6; i++)
		send_ctx(PEER_CTX, 0, i);
	assert_int_equal(ctr("replica_capacity"), 4);
	assert_int_equal(ctr("replicas"), 4);
	assert_int_equal(ctr("replica_full"), 2);
	assert_int_equal(ctr("ctx_rx"), 6);
	send_ctx(PEER_CTX, 0, 2);      /* an update of a held one still fits */
	assert_int_equal(ctr("replica_full"), 2);
	run_to(clk + DEAD_MS * MS);
	assert_int_equal(nadopted, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(adopted[i].own_tag, 0x1000 + i);   /* held ones kept, none evicted */
}

/* A primary with an ISP this site lacks (the two configs disagree): its
 * context is counted and not kept, yet it still counts for its sync, so
 * the sync completes and nothing is pruned for it. */
static void context_on_an_isp_we_lack_is_counted_and_not_kept(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heartbeat(2, 0, 0);
	struct peer_msg m = { .type = PEER_CTX };
	ctx_body(&m.u.ctx, 5);
	m.u.ctx.isp = 7;
	say(&m);
	assert_int_equal(ctr("ctx_rx"), 1);
	assert_int_equal(ctr("rx_bad_isp"), 1);
	assert_int_equal(ctr("replicas"), 0);
	send_sync(PEER_SYNC_BEGIN, 3, 2);
	send_ctx(PEER_SYNC_CTX, 3, 0);
	m = (struct peer_msg){ .type = PEER_SYNC_CTX, .sync_epoch = 3 };
	ctx_body(&m.u.ctx, 5);
	m.u.ctx.isp = 7;
	say(&m);
	send_sync(PEER_SYNC_END, 3, 2);
	assert_int_equal(ctr("rx_bad_isp"), 2);
	assert_int_equal(ctr("replicas"), 1);
	assert_int_equal(ctr("replica_complete"), 1);
	run_to(clk + DEAD_MS * MS);
	assert_int_equal(nadopted, 1);
	assert_int_equal(adopted[0].own_tag, 0x1000);
}

static void imports_go_out_paced_and_a_full_queue_becomes_a_full_sync(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "primary", .max_contexts = 4, .sync_batch = 2 });
	engine_installed(4);
	start();
	heartbeat(0, 0, 0);
	run_to(clk + 100 * MS);        /* the first sync, 6 messages at 2 a tick */
	assert_int_equal(ctr("syncs_tx"), 1);
	heartbeat(0, ctr("last_sync_tx"), 0);
	unsigned mark = R.nin;
	for (unsigned i = 0; i < 4; i++)
		peer_ctx_imported(&R.d, 0x1000 + i);
	assert_int_equal(ctr("import_tx_queued"), 4);
	assert_int_equal(ctr("import_tx_pending"), 4);
	collect();
	assert_int_equal(R.nin, mark);   /* nothing before the tick */
	run_to(clk + STEP_MS * MS);
	assert_int_equal(count_type(PEER_CTX, mark), 2);
	run_to(clk + STEP_MS * MS);
	assert_int_equal(count_type(PEER_CTX, mark), 4);
	assert_int_equal(ctr("import_tx_sent"), 4);
	assert_int_equal(ctr("import_tx_pending"), 0);
	/* one more than the queue holds: a full sync carries them all */
	uint64_t started = ctr("sync_tx_started");
	mark = R.nin;
	for (unsigned i = 0; i < 5; i++)
		peer_ctx_imported(&R.d, 0x1000 + i % 4);
	assert_int_equal(ctr("import_tx_full"), 1);
	assert_int_equal(ctr("import_tx_dropped"), 4);
	assert_int_equal(ctr("import_tx_pending"), 0);
	assert_int_equal(ctr("sync_tx_started"), started + 1);
	run_to(clk + 50 * MS);
	uint32_t epoch, end_count;
	uint64_t tags[8];
	assert_int_equal(sync_tags(mark, &epoch, tags, &end_count), 4);
	assert_int_equal(end_count, 4);
	assert_int_equal(count_type(PEER_CTX, mark), 0);
}

static void returning_primary_gets_a_full_sync_and_the_backup_yields_only_after_it_is_imported(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	eng = engine_with(2);          /* what the takeover imports into */
	start();
	heartbeat(2, 0, 0);
	send_ctx(PEER_CTX, 0, 0);
	send_ctx(PEER_CTX, 0, 1);
	run_to(clk + DEAD_MS * MS);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	assert_int_equal(R.d.ctxs.n, 2);
	/* the primary restarts: a new run, waiting for the backup's contexts */
	R.session++;
	R.seq = 0;
	R.state = PEER_ST_SYNCING;
	unsigned mark = R.nin;
	heartbeat(0, 0, 0);
	assert_int_equal(ctr("peer_sessions"), 2);
	run_to(clk + 50 * MS);
	uint32_t epoch, end_count;
	uint64_t tags[8];
	assert_int_equal(sync_tags(mark, &epoch, tags, &end_count), 2);
	assert_int_equal(end_count, 2);
	/* ACTIVE again but without that sync imported: the backup keeps serving */
	R.state = PEER_ST_ACTIVE;
	heartbeat(0, 0, 0);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	assert_int_equal(ctr("yields"), 0);
	assert_int_equal(nreleased, 0);
	heartbeat(2, epoch, 0);
	assert_int_equal(ctr("state"), PEER_ST_STANDBY);
	assert_int_equal(ctr("yields"), 1);
	assert_int_equal(nreleased, 1);
	/* yield_linger_ms = 0: the dataplane entries go at once */
	assert_int_equal(ndp_deleted, 2);
	assert_int_equal(ctr("lingering"), 0);
}

/* ---- what is dropped ------------------------------------------------------- */

/* A heartbeat that would count, sent from `fd`. */
static void heartbeat_from(int fd)
{
	struct peer_msg m = { .type = PEER_HEARTBEAT };
	uint8_t buf[PEER_MSG_MAX];
	int n = encode_as_other(&m, KEY, sizeof KEY, buf);
	send_from(fd, buf, n);
	deliver();
}

static void datagrams_from_other_addresses_or_ports_are_dropped(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	int wrong_port = bound_v4("127.0.0.1", 0);
	int wrong_addr = bound_v4("127.0.0.4", R.port);
	int v6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(v6 >= 0);
	for (int k = 0; k < 5; k++) {
		heartbeat_from(wrong_port);
		heartbeat_from(wrong_addr);
		/* ::1, to peer.c's IPv6 side */
		struct peer_msg m = { .type = PEER_HEARTBEAT };
		uint8_t buf[PEER_MSG_MAX];
		int n = encode_as_other(&m, KEY, sizeof KEY, buf);
		struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(R.port),
					   .sin6_addr = in6addr_loopback };
		assert_int_equal(sendto(v6, buf, (size_t)n, 0, (struct sockaddr *)&to, sizeof to), n);
		deliver();
		run_to(clk + HB_MS * MS - STEP_MS * MS);
	}
	close(wrong_port);
	close(wrong_addr);
	close(v6);
	assert_int_equal(ctr("rx"), 15);
	assert_int_equal(ctr("rx_wrong_source"), 15);
	assert_int_equal(ctr("hb_rx"), 0);
	assert_int_equal(ctr("peer_alive"), 0);
	assert_int_equal(ctr("peer_sessions"), 0);
	/* they kept nothing alive: silence since the start */
	takes_over_at_dead_ms_after(T0);
}

/* A reload that renumbers the other proxy (peer.address) applies without a
 * restart: heartbeats go to the new address from the next tick, only the
 * new address is heard, and the other proxy stays alive throughout. */
static void a_reloaded_peer_address_applies_at_once(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heard_for(300, 0, 0);
	assert_int_equal(ctr("peer_alive"), 1);
	/* the merged config the reload installs: daemon_reload swaps it in */
	R.other[1] = bound_v4("127.0.0.3", R.port);
	R.npaths = 2;
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.3", &R.conf.peer.address), 1);
	unsigned from = R.nin;
	run_to(clk + 2 * HB_MS * MS);
	unsigned old_addr = 0, new_addr = 0;
	for (unsigned i = from; i < R.nin; i++)
		if (R.in[i].m.type == PEER_HEARTBEAT)
			*(R.in[i].path ? &new_addr : &old_addr) += 1;
	assert_true(new_addr >= 2);
	assert_int_equal(old_addr, 0);
	/* the old address is a stranger now; the new one keeps the peer alive */
	uint64_t wrong = ctr("rx_wrong_source");
	heartbeat_from(R.other[0]);
	assert_int_equal(ctr("rx_wrong_source"), wrong + 1);
	uint64_t hb = ctr("hb_rx");
	for (int k = 0; k < 8; k++) {
		heartbeat_from(R.other[1]);
		run_to(clk + HB_MS * MS);
	}
	assert_int_equal(ctr("hb_rx"), hb + 8);
	assert_int_equal(ctr("peer_alive"), 1);
	assert_int_equal(ctr("takeovers"), 0);
}

static void truncated_or_corrupted_datagrams_are_dropped_and_counted(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heartbeat(0, 0, 0);
	uint64_t last = clk;
	static const uint8_t other_key[40] = "another key, not the one of this site!!";
	for (int k = 0; k < 4; k++) {
		run_to(clk + HB_MS * MS);
		uint8_t buf[PEER_MSG_MAX];
		struct peer_msg m = { .type = PEER_HEARTBEAT };
		int n = encode_as_other(&m, KEY, sizeof KEY, buf);
		send_from(R.other[0], buf, n - 1);             /* truncated */
		send_from(R.other[0], buf, 20);                /* shorter than a header */
		buf[PEER_HDR_LEN] ^= 1;                       /* one bit of the body */
		send_from(R.other[0], buf, n);
		n = encode_as_other(&m, other_key, sizeof other_key, buf);
		send_from(R.other[0], buf, n);                 /* signed with another key */
		struct peer_msg c = { .type = PEER_CTX };
		ctx_body(&c.u.ctx, (unsigned)k);
		n = encode_as_other(&c, KEY, sizeof KEY, buf);
		buf[n - 1] ^= 0x80;                           /* the MAC itself */
		send_from(R.other[0], buf, n);
		deliver();
	}
	assert_int_equal(ctr("rx"), 1 + 4 * 5);
	assert_int_equal(ctr("rx_bad"), 4 * 2);
	assert_int_equal(ctr("rx_bad_mac"), 4 * 3);
	assert_int_equal(ctr("hb_rx"), 1);
	assert_int_equal(ctr("ctx_rx"), 0);
	assert_int_equal(ctr("replicas"), 0);
	takes_over_at_dead_ms_after(last);
}

static void replayed_messages_are_dropped_and_do_not_delay_a_takeover(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	uint8_t hb[PEER_MSG_MAX], ctx[PEER_MSG_MAX];
	struct peer_msg m = { .type = PEER_HEARTBEAT };
	int hbn = say_on(1, &m, hb);
	struct peer_msg c = { .type = PEER_CTX };
	ctx_body(&c.u.ctx, 0);
	int ctxn = say_on(1, &c, ctx);
	send_del(0);
	assert_int_equal(ctr("replicas"), 0);
	run_to(clk + HB_MS * MS);
	heartbeat(0, 0, 0);
	uint64_t last = clk;
	for (int k = 0; k < 4; k++) {
		run_to(clk + HB_MS * MS);
		send_from(R.other[0], hb, hbn);
		send_from(R.other[0], ctx, ctxn);
		deliver();
	}
	assert_int_equal(ctr("rx_replay"), 8);
	assert_int_equal(ctr("hb_rx"), 2);
	assert_int_equal(ctr("ctx_rx"), 1);
	assert_int_equal(ctr("replicas"), 0);          /* the deleted context stays deleted */
	takes_over_at_dead_ms_after(last);
	assert_int_equal(ctr("last_takeover_after_ms"), DEAD_MS);
}

static void heartbeats_not_echoing_this_run_keep_nothing_alive(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	uint64_t ours = R.echo;
	/* recorded in an earlier run of this proxy: another session echoed */
	for (int k = 0; k < 5; k++) {
		R.echo = ours ^ 0x10000;
		heartbeat(0, 0, 0);
		send_ctx(PEER_CTX, 0, 0);
		run_to(clk + HB_MS * MS - STEP_MS * MS);
	}
	assert_int_equal(ctr("rx_unconfirmed"), 10);
	assert_int_equal(ctr("hb_rx"), 0);
	assert_int_equal(ctr("replicas"), 0);
	assert_int_equal(ctr("peer_alive"), 0);
	run_to(T0 + DEAD_MS * MS);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
}

/* ---- punts while standing by ----------------------------------------------- */

/* What the dataplane punts, built in pkt: an IPv6 header from `src` to `dst`
 * with next header `nh`, then 8 octets that are a Shim6 payload header
 * carrying `tag` when nh is 140. */
static struct dpmsg_punt punt(uint8_t pkt[48], uint16_t reason, const uint8_t *src, const uint8_t *dst, uint8_t nh,
			      uint64_t tag)
{
	memset(pkt, 0, 48);
	pkt[0] = 0x60;
	pkt[5] = 8;
	pkt[6] = nh;
	pkt[7] = 64;
	memcpy(pkt + 8, src, 16);
	memcpy(pkt + 24, dst, 16);
	pkt[40] = 59;
	for (int k = 0; k < 6; k++)
		pkt[42 + k] = (uint8_t)(tag >> (40 - 8 * k));
	return (struct dpmsg_punt){ .reason = reason, .port = 1, .orig_len = 48, .len = 48, .data = pkt };
}

/* An egress packet of replicated context i's pair, as a punt for lack of a context. */
static struct dpmsg_punt punt_of_pair(uint8_t pkt[48], unsigned i)
{
	struct peer_ctx c;
	ctx_body(&c, i);
	return punt(pkt, DPMSG_PUNT_NO_CTX, c.local_ulid, c.peer_ulid, 17, 0);
}

static void standing_by_backup_drops_punts_until_a_late_primary_and_a_replica_s_packet(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heartbeat(1, 0, 0);
	uint64_t heard = clk;
	send_ctx(PEER_CTX, 0, 0);
	assert_int_equal(ctr("replicas"), 1);
	uint8_t pkt[48];
	struct dpmsg_punt own = punt_of_pair(pkt, 0);
	/* while the primary heartbeats, even a replica's own packet is stray */
	run_to(heard + (2 * HB_MS - STEP_MS) * MS);
	assert_false(peer_punt_gate(&R.d, &own));
	assert_int_equal(ctr("standby_punts_dropped"), 1);
	assert_int_equal(ctr("state"), PEER_ST_STANDBY);
	/* two heartbeats late: only a replica's packet counts as traffic */
	run_to(heard + 2 * HB_MS * MS);
	struct peer_ctx c;
	ctx_body(&c, 0);
	uint8_t other_peer[16], sp[5][48];
	memcpy(other_peer, c.peer_ulid, 16);
	other_peer[15] ^= 0x40;
	struct dpmsg_punt stray[5] = {
		punt(sp[0], DPMSG_PUNT_NO_CTX, c.local_ulid, other_peer, 17, 0),
		punt(sp[1], DPMSG_PUNT_SHIM6_CTL, c.local_ulid, c.peer_ulid, 140, c.own_tag),
		punt(sp[2], DPMSG_PUNT_UNKNOWN_TAG, c.peer_loc, c.local_loc, 140, c.own_tag + 1),
		punt(sp[3], DPMSG_PUNT_UNKNOWN_TAG, c.peer_loc, c.local_loc, 17, c.own_tag),
		punt(sp[4], DPMSG_PUNT_NO_CTX, c.local_ulid, c.peer_ulid, 17, 0),
	};
	stray[4].len = stray[4].orig_len = 39;     /* no whole IPv6 header */
	for (unsigned k = 0; k < 5; k++)
		assert_false(peer_punt_gate(&R.d, &stray[k]));
	assert_int_equal(ctr("standby_punts_dropped"), 6);
	assert_int_equal(ctr("state"), PEER_ST_STANDBY);
	assert_int_equal(ctr("takeovers"), 0);
	assert_int_equal(ninjected, 0);
	/* the replica's packet: taken over now, the packet goes back in as received */
	own = punt_of_pair(pkt, 0);
	assert_false(peer_punt_gate(&R.d, &own));
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	assert_int_equal(ctr("takeovers_traffic"), 1);
	assert_int_equal(ctr("takeovers"), 1);
	assert_int_equal(ctr("standby_punts_dropped"), 6);
	assert_int_equal(nadopted, 1);
	assert_int_equal(adopted[0].own_tag, 0x1000);
	assert_int_equal(ninjected, 1);
	assert_int_equal(injected.flags, DPMSG_INJECT_AS_RX);
	assert_int_equal(injected.port, own.port);
	assert_int_equal(injected.len, own.len);
	assert_ptr_equal(injected.data, pkt);
	/* serving: every punt is handled, none counted */
	assert_true(peer_punt_gate(&R.d, &stray[0]));
	assert_true(peer_punt_gate(&R.d, &own));
	assert_int_equal(ctr("standby_punts_dropped"), 6);
	assert_int_equal(ninjected, 1);
}

/* Ingress: the tag of the Shim6 payload header finds the replica.  A punt
 * truncated to DPMSG_PKT_MAX still takes over, but is not re-injected cut. */
static void a_replica_s_payload_packet_takes_over_and_a_truncated_one_is_not_reinjected(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heartbeat(2, 0, 0);
	uint64_t heard = clk;
	send_ctx(PEER_CTX, 0, 0);
	send_ctx(PEER_CTX, 0, 1);
	run_to(heard + 2 * HB_MS * MS);
	struct peer_ctx c;
	ctx_body(&c, 1);
	uint8_t pkt[48];
	struct dpmsg_punt p = punt(pkt, DPMSG_PUNT_UNKNOWN_TAG, c.peer_loc, c.local_loc, 140, c.own_tag);
	p.orig_len = 1500;
	assert_false(peer_punt_gate(&R.d, &p));
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	assert_int_equal(ctr("takeovers_traffic"), 1);
	assert_int_equal(ctr("standby_punts_dropped"), 0);
	assert_int_equal(nadopted, 2);
	assert_int_equal(ninjected, 0);
}

/* Only a backup standing by holds punts back: a primary handles them from
 * its start, while it waits for the backup's sync, and once it serves. */
static void a_primary_lets_every_punt_through(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "primary" });
	start();
	uint8_t pkt[48];
	struct dpmsg_punt p = punt_of_pair(pkt, 0);
	assert_int_equal(ctr("state"), PEER_ST_INIT);
	assert_true(peer_punt_gate(&R.d, &p));
	R.state = PEER_ST_ACTIVE;          /* the backup serves */
	heartbeat(1, 0, 0);
	assert_int_equal(ctr("state"), PEER_ST_SYNCING);
	assert_true(peer_punt_gate(&R.d, &p));
	R.state = PEER_ST_STANDBY;
	heartbeat(0, 0, 0);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	assert_true(peer_punt_gate(&R.d, &p));
	assert_int_equal(ctr("standby_punts_dropped"), 0);
	assert_int_equal(ninjected, 0);
}

static void without_a_peer_section_every_punt_goes_on_and_nothing_is_counted(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup", .no_peer = true });
	assert_int_equal(R.conf.peer.role, PSHIM6_PEER_NONE);
	assert_int_equal(peer_fd(&R.d), -1);
	uint8_t pkt[48];
	struct dpmsg_punt p = punt_of_pair(pkt, 0);
	assert_true(peer_punt_gate(&R.d, &p));
	p.reason = DPMSG_PUNT_SHIM6_CTL;
	assert_true(peer_punt_gate(&R.d, &p));
	assert_int_equal(peer_deadline(&R.d), UINT64_MAX);
	struct find f = { "standby_punts_dropped", 0, false };
	peer_counters(&R.d, put_one, &f);
	assert_false(f.found);
}

/* The gate follows the role: open from the tick that takes over, shut again
 * by the yield, even for the contexts the dataplane still forwards then
 * (dp.c asks peer_lingering for those, not the gate). */
static void the_gate_opens_at_the_takeover_and_shuts_at_the_yield(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup", .linger_ms = 1000 });
	eng = engine_with(2);
	start();
	heartbeat(2, 0, 0);
	uint64_t heard = clk;
	send_ctx(PEER_CTX, 0, 0);
	send_ctx(PEER_CTX, 0, 1);
	uint8_t pkt[48], own_pkt[48];
	struct peer_ctx c;
	ctx_body(&c, 5);                   /* a pair nobody replicated */
	struct dpmsg_punt other = punt(pkt, DPMSG_PUNT_NO_CTX, c.local_ulid, c.peer_ulid, 17, 0);
	run_to(heard + (DEAD_MS - STEP_MS) * MS);
	assert_int_equal(ctr("state"), PEER_ST_STANDBY);
	assert_false(peer_punt_gate(&R.d, &other));
	assert_int_equal(ctr("standby_punts_dropped"), 1);
	run_to(heard + DEAD_MS * MS);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	assert_true(peer_punt_gate(&R.d, &other));
	assert_int_equal(ctr("standby_punts_dropped"), 1);
	/* the primary returns, imports our sync, says ACTIVE: we yield */
	R.session++;
	R.seq = 0;
	R.state = PEER_ST_SYNCING;
	unsigned mark = R.nin;
	heartbeat(0, 0, 0);
	run_to(clk + 50 * MS);
	uint32_t epoch, end_count;
	uint64_t tags[8];
	assert_int_equal(sync_tags(mark, &epoch, tags, &end_count), 2);
	R.state = PEER_ST_ACTIVE;
	heartbeat(2, epoch, 0);
	assert_int_equal(ctr("yields"), 1);
	assert_int_equal(ctr("state"), PEER_ST_STANDBY);
	assert_false(peer_punt_gate(&R.d, &other));
	assert_int_equal(ctr("standby_punts_dropped"), 2);
	struct dpmsg_punt own = punt_of_pair(own_pkt, 0);
	assert_true(peer_lingering(&R.d, 0x1000));
	assert_false(peer_punt_gate(&R.d, &own));
	assert_int_equal(ctr("standby_punts_dropped"), 3);
	assert_int_equal(ctr("takeovers"), 1);
	assert_int_equal(ninjected, 0);
}

/* ---- leases ---------------------------------------------------------------- */

/* Lease requests as the DHCP hook sends them; the replicated line of an add
 * is the request itself, so these are written in the order peer.c writes. */
#define LEASE_A "{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::5\",\"mode\":\"cga\",\"iaid\":7," \
		"\"pds\":\"0a0b0c\",\"duid\":\"000102\"}"
#define LEASE_B "{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::6\",\"mode\":\"hba\",\"iaid\":0," \
		"\"pds\":\"ff\",\"duid\":\"aa\"}"
#define RELEASE_A "{\"cmd\":\"lease\",\"event\":\"release\",\"cmula\":\"fd00:10::5\"}"

/* What commands.c does with a hook's lease request: applied, then told to
 * peer.c with the id of the forward the entry came from. */
static void lease_request(const char *line)
{
	static struct jobj o;
	const char *why = NULL;
	struct in6_addr a;
	assert_int_equal(json_parse(line, strlen(line), &o, &why), 0);
	assert_int_equal(inet_pton(AF_INET6, json_str(&o, "cmula"), &a), 1);
	uint32_t fwd_was = lease_event_theirs(addrtab_find(&R.d.tables.leases, &a));
	assert_int_equal(tables_lease(&R.d.tables, &R.conf, &o, clk, &why), 0);
	peer_lease_changed(&R.d, json_str(&o, "cmula"), fwd_was);
}

static const struct lease_entry *lease_held(const char *cmula)
{
	struct in6_addr a;
	assert_int_equal(inet_pton(AF_INET6, cmula, &a), 1);
	return addrtab_find(&R.d.tables.leases, &a);
}

static uint32_t own_event_id(const char *cmula)
{
	const struct lease_entry *l = lease_held(cmula);
	assert_non_null(l);
	assert_true(l->fwd_ours);
	assert_int_not_equal(l->fwd_id, 0);
	return l->fwd_id;
}

static void send_lease_line(const char *line)
{
	struct peer_msg m = { .type = PEER_LEASE };
	m.u.lease.len = (uint16_t)strlen(line);
	memcpy(m.u.lease.text, line, m.u.lease.len);
	say(&m);
}

/* `line` as the ACTIVE proxy sends it: an item of full sync `epoch`, or
 * with 0 a change its own hook made (the last member, "sync") */
static const char *marked(const char *line, uint32_t epoch)
{
	static char b[8][PEER_LINE_MAX + 1];
	static unsigned next;
	char *o = b[next++ % 8];
	size_t n = strlen(line);
	assert_true(n > 0 && line[n - 1] == '}');
	assert_true(snprintf(o, sizeof b[0], "%.*s,\"sync\":%u}", (int)(n - 1), line, epoch) < (int)sizeof b[0]);
	return o;
}

/* `line` with the id of the hook event it came from (the last member,
 * "fwd"), as every add goes: after the mark, when it has one */
static const char *with_id(const char *line, uint32_t id)
{
	static char b[8][PEER_LINE_MAX + 1];
	static unsigned next;
	char *o = b[next++ % 8];
	size_t n = strlen(line);
	assert_true(n > 0 && line[n - 1] == '}');
	assert_true(snprintf(o, sizeof b[0], "%.*s,\"fwd\":%u}", (int)(n - 1), line, id) < (int)sizeof b[0]);
	return o;
}

/* The id of the hook event held lease `cmula` came from, which must be one
 * our own hook drew. */
static uint32_t own_event_id(const char *cmula);

/* The hook's line, marked as a change of the ACTIVE proxy's own (not a
 * full sync's item): the standing-by proxy takes it as its server's news. */
static void active_proxy_sends_each_lease_change_as_the_hook_s_line_marked_live(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "primary" });
	start();
	/* nobody to replicate to yet: the full sync at its arrival carries it */
	lease_request(LEASE_A);
	collect();
	assert_int_equal(count_type(PEER_LEASE, 0), 0);
	heartbeat(0, 0, 0);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	unsigned mark = R.nin;
	lease_request(LEASE_B);
	lease_request(RELEASE_A);
	peer_lease_changed(&R.d, "not an address", 0);
	peer_lease_changed(&R.d, NULL, 0);
	collect();
	assert_int_equal(R.nin - mark, 2);
	assert_int_equal(R.in[mark].m.type, PEER_LEASE);
	const char *b = with_id(marked(LEASE_B, 0), own_event_id("fd00:10::6"));
	assert_string_equal(R.in[mark].m.u.lease.text, b);
	assert_int_equal(R.in[mark].m.u.lease.len, strlen(b));
	assert_int_equal(R.in[mark + 1].m.type, PEER_LEASE);
	assert_string_equal(R.in[mark + 1].m.u.lease.text, marked(RELEASE_A, 0));
	assert_int_equal(ctr("lease_tx"), 2);
	assert_int_equal(ctr("tx_failed"), 0);
	/* the backup silent: not sent */
	run_to(clk + DEAD_MS * MS);
	assert_int_equal(ctr("peer_alive"), 0);
	mark = R.nin;
	lease_request(LEASE_A);
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 0);
	assert_int_equal(ctr("lease_tx"), 2);
}

static void a_full_sync_sends_the_leases_before_the_contexts(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "primary", .sync_batch = 2 });
	engine_installed(2);
	lease_request(LEASE_A);
	lease_request(LEASE_B);
	start();
	unsigned mark = R.nin;
	heartbeat(0, 0, 0);
	run_to(clk + 100 * MS);
	assert_int_equal(ctr("syncs_tx"), 1);
	/* BEGIN, both leases, both contexts, END: heartbeats aside, in that order */
	uint8_t want[] = { PEER_SYNC_BEGIN, PEER_LEASE, PEER_LEASE, PEER_SYNC_CTX, PEER_SYNC_CTX, PEER_SYNC_END };
	const struct got *seen[6];
	unsigned n = 0;
	for (unsigned i = mark; i < R.nin; i++)
		if (R.in[i].m.type != PEER_HEARTBEAT) {
			assert_true(n < 6);
			seen[n++] = &R.in[i];
		}
	assert_int_equal(n, 6);
	for (unsigned k = 0; k < 6; k++)
		assert_int_equal(seen[k]->m.type, want[k]);
	assert_int_equal(seen[0]->m.u.sync.count, 2);   /* contexts, not leases */
	assert_int_equal(seen[5]->m.u.sync.count, 2);
	/* each lease marked with the sync that carries it, and with its event */
	uint32_t e = seen[0]->m.u.sync.epoch;
	assert_int_equal(seen[5]->m.u.sync.epoch, e);
	const char *la = with_id(marked(LEASE_A, e), own_event_id("fd00:10::5"));
	const char *lb = with_id(marked(LEASE_B, e), own_event_id("fd00:10::6"));
	bool a = !strcmp(seen[1]->m.u.lease.text, la) && !strcmp(seen[2]->m.u.lease.text, lb);
	bool b = !strcmp(seen[1]->m.u.lease.text, lb) && !strcmp(seen[2]->m.u.lease.text, la);
	assert_true(a || b);
	assert_int_equal(ctr("lease_tx"), 2);
	assert_int_equal(ctr("sync_tx_items"), 4);
}

static void standing_by_proxy_applies_leases_and_refuses_bad_ones_unapplied(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heartbeat(0, 0, 0);
	send_lease_line(LEASE_A);
	assert_int_equal(ctr("lease_rx"), 1);
	assert_int_equal(ctr("lease_refused"), 0);
	const struct lease_entry *l = lease_held("fd00:10::5");
	assert_non_null(l);
	assert_int_equal(l->mode, PSHIM6_ADDR_CGA);
	assert_int_equal(l->iaid, 7);
	assert_int_equal(l->pds_len, 3);
	assert_memory_equal(l->pds, "\x0a\x0b\x0c", 3);
	assert_int_equal(l->duid_len, 3);
	assert_memory_equal(l->duid, "\x00\x01\x02", 3);
	/* the active proxy's lease, not ours: nothing goes back */
	collect();
	assert_int_equal(count_type(PEER_LEASE, 0), 0);
	assert_int_equal(ctr("lease_tx"), 0);
	assert_int_equal(ctr("lease_fwd_tx"), 0);
	static const char *const bad[] = {
		"{\"cmd\":\"lease\",\"event\":\"add\",",                                   /* not JSON */
		"{\"event\":\"add\",\"cmula\":\"fd00:10::6\",\"mode\":\"hba\",\"iaid\":0,\"pds\":\"ff\",\"duid\":\"aa\"}",
		/* another request, with a good lease's fields */
		"{\"cmd\":\"peer-locators\",\"event\":\"add\",\"cmula\":\"fd00:10::6\",\"mode\":\"hba\",\"iaid\":0,"
		"\"pds\":\"ff\",\"duid\":\"aa\"}",
		"{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd99::6\",\"mode\":\"hba\",\"iaid\":0,\"pds\":\"ff\","
		"\"duid\":\"aa\"}",                                                     /* outside the site */
		"{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::6\",\"mode\":\"hba\",\"iaid\":0,\"duid\":\"aa\"}",
		"{\"cmd\":\"lease\",\"event\":\"release\",\"cmula\":\"fd99::5\"}",
		/* a good lease with a mark that names no sync */
		"{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::6\",\"mode\":\"hba\",\"iaid\":0,\"pds\":\"ff\","
		"\"duid\":\"aa\",\"sync\":-1}",
		"{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::6\",\"mode\":\"hba\",\"iaid\":0,\"pds\":\"ff\","
		"\"duid\":\"aa\",\"sync\":4294967296}",
		"{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::6\",\"mode\":\"hba\",\"iaid\":0,\"pds\":\"ff\","
		"\"duid\":\"aa\",\"sync\":\"1\"}",
	};
	for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++)
		send_lease_line(bad[k]);
	assert_int_equal(ctr("lease_rx"), 10);
	assert_int_equal(ctr("lease_refused"), 9);
	assert_int_equal(R.d.tables.leases.n, 1);
	assert_null(lease_held("fd00:10::6"));
	assert_non_null(lease_held("fd00:10::5"));
	send_lease_line(RELEASE_A);
	assert_null(lease_held("fd00:10::5"));
	assert_int_equal(ctr("lease_rx"), 11);
	assert_int_equal(ctr("lease_refused"), 9);
	/* serving, what the other proxy sends standing by is its DHCP
	 * server's, forwarded; what it sends as ACTIVE is its table, ignored */
	run_to(clk + DEAD_MS * MS);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	uint64_t ignored = ctr("rx_ignored_active");
	send_lease_line(LEASE_B);
	assert_int_equal(ctr("rx_ignored_active"), ignored + 1);
	assert_int_equal(ctr("lease_fwd_rx"), 0);
	assert_null(lease_held("fd00:10::6"));
	R.state = PEER_ST_STANDBY;
	send_lease_line(LEASE_B);
	assert_int_equal(ctr("rx_ignored_active"), ignored + 1);
	assert_int_equal(ctr("lease_rx"), 11);
	assert_int_equal(ctr("lease_fwd_rx"), 1);
	assert_non_null(lease_held("fd00:10::6"));
}

/* B again with other contents, and a third lease */
#define LEASE_B2 "{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::6\",\"mode\":\"cga\",\"iaid\":9," \
		 "\"pds\":\"0102\",\"duid\":\"bb\"}"
#define LEASE_C "{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::7\",\"mode\":\"cga\",\"iaid\":1," \
		"\"pds\":\"07\",\"duid\":\"cc\"}"

/* lines of the captured log holding both `a` and `b` */
static unsigned logged(const char *a, const char *b)
{
	unsigned n = 0;
	char line[1024];
	rewind(log_file);
	while (fgets(line, sizeof line, log_file))
		n += strstr(line, a) && strstr(line, b);
	return n;
}

/* The active proxy's table as a whole sync lists it: what a standing-by
 * proxy holds beyond it is a lease whose release it never got. */
static void a_whole_full_sync_removes_the_leases_it_did_not_carry(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heartbeat(0, 0, 0);
	send_lease_line(LEASE_A);
	send_lease_line(LEASE_B);
	assert_int_equal(R.d.tables.leases.n, 2);
	log_to_file();
	log_set_level(PSHIM6_LOG_INFO);
	/* sync 3 lists B only, with new contents, and one context */
	send_sync(PEER_SYNC_BEGIN, 3, 1);
	send_lease_line(LEASE_B2);
	send_ctx(PEER_SYNC_CTX, 3, 0);
	assert_non_null(lease_held("fd00:10::5"));       /* nothing goes before the END */
	send_sync(PEER_SYNC_END, 3, 1);
	assert_int_equal(ctr("syncs_rx"), 1);
	assert_null(lease_held("fd00:10::5"));
	assert_int_equal(ctr("lease_swept"), 1);
	assert_int_equal(R.d.tables.leases.n, 1);
	const struct lease_entry *l = lease_held("fd00:10::6");
	assert_non_null(l);
	assert_int_equal(l->mode, PSHIM6_ADDR_CGA);
	assert_int_equal(l->iaid, 9);
	assert_int_equal(l->pds_len, 2);
	assert_memory_equal(l->pds, "\x01\x02", 2);
	assert_int_equal(l->duid_len, 1);
	assert_memory_equal(l->duid, "\xbb", 1);
	assert_int_equal(ctr("replicas"), 1);
	/* a lease added after the active proxy's snapshot arrives as an update
	 * during the sync, or after its END: neither is taken for stale */
	send_sync(PEER_SYNC_BEGIN, 4, 0);
	send_lease_line(LEASE_B2);
	send_lease_line(LEASE_A);
	send_sync(PEER_SYNC_END, 4, 0);
	send_lease_line(LEASE_C);
	assert_int_equal(R.d.tables.leases.n, 3);
	assert_int_equal(ctr("lease_swept"), 1);
	send_sync(PEER_SYNC_BEGIN, 5, 0);
	send_lease_line(LEASE_A);
	send_lease_line(LEASE_B2);
	send_lease_line(LEASE_C);
	send_sync(PEER_SYNC_END, 5, 0);
	assert_int_equal(R.d.tables.leases.n, 3);
	assert_int_equal(ctr("lease_swept"), 1);
	/* an empty table empties ours of what it sent, not of the lease our
	 * own DHCP server gave */
	lease_request("{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::8\",\"mode\":\"cga\","
		      "\"iaid\":2,\"pds\":\"01\",\"duid\":\"02\"}");
	send_sync(PEER_SYNC_BEGIN, 6, 0);
	send_sync(PEER_SYNC_END, 6, 0);
	assert_int_equal(R.d.tables.leases.n, 1);
	assert_non_null(lease_held("fd00:10::8"));
	assert_int_equal(ctr("lease_swept"), 4);
	assert_int_equal(ctr("syncs_rx"), 4);
	log_back();
	/* one line per sync that removed any, with the number */
	assert_int_equal(logged("peer: full sync", "leases held here"), 2);
	assert_int_equal(logged("peer: full sync 3 ", "without 1 leases"), 1);
	assert_int_equal(logged("peer: full sync 6 ", "without 3 leases"), 1);
}

/* Only a sync known whole lists the active proxy's table: one cut short,
 * superseded, or with a loss removes nothing. */
static void a_sync_not_received_whole_removes_no_lease(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heartbeat(0, 0, 0);
	send_lease_line(LEASE_A);
	send_lease_line(LEASE_B);
	/* superseded: 3 carried B, then 4 began; 3's END is no END of 4 */
	send_sync(PEER_SYNC_BEGIN, 3, 0);
	send_lease_line(LEASE_B);
	send_sync(PEER_SYNC_BEGIN, 4, 0);
	send_sync(PEER_SYNC_END, 3, 0);
	assert_int_equal(ctr("sync_incomplete"), 2);
	/* ends short of the contexts it announced sent */
	send_sync(PEER_SYNC_BEGIN, 5, 1);
	send_lease_line(LEASE_B);
	send_sync(PEER_SYNC_END, 5, 1);
	assert_int_equal(ctr("sync_incomplete"), 3);
	/* a message of it lost (a gap in the sender's numbers) */
	send_sync(PEER_SYNC_BEGIN, 6, 0);
	send_lease_line(LEASE_B);
	R.seq++;
	send_sync(PEER_SYNC_END, 6, 0);
	assert_int_equal(ctr("sync_incomplete"), 4);
	assert_int_equal(ctr("rx_lost"), 1);
	/* never ends: the active proxy went silent, and this one took over */
	send_sync(PEER_SYNC_BEGIN, 7, 0);
	send_lease_line(LEASE_B);
	run_to(clk + DEAD_MS * MS);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	assert_int_equal(ctr("syncs_rx"), 0);
	assert_int_equal(ctr("lease_swept"), 0);
	assert_non_null(lease_held("fd00:10::5"));
	assert_non_null(lease_held("fd00:10::6"));
	assert_int_equal(R.d.tables.leases.n, 2);
}

/* The case the sweep is for, end to end: the active proxy's own messages,
 * the datagram of a release lost on the way to the standing-by one. */
static void a_release_lost_on_the_way_is_repaired_by_the_next_full_sync(void **st)
{
	(void)st;
	/* the active proxy: A and B held, a full sync, A released, the next sync */
	rig_up(&(struct opts){ .role = "primary" });
	engine_installed(1);
	lease_request(LEASE_A);
	lease_request(LEASE_B);
	start();
	heartbeat(0, 0, 0);
	run_to(clk + 100 * MS);
	assert_int_equal(ctr("syncs_tx"), 1);
	lease_request(RELEASE_A);
	/* heard, and told each sync arrived, until the periodic one went out */
	uint64_t t = clk;
	while (ctr("syncs_tx") < 2) {
		assert_true(clk < t + 2000 * MS);
		heartbeat(0, (uint32_t)ctr("last_sync_tx"), 0);
		run_to(clk + HB_MS * MS);
	}
	static struct peer_msg sent[32];
	unsigned n = 0, release = UINT32_MAX;
	for (unsigned i = 0; i < R.nin; i++) {
		if (R.in[i].m.type == PEER_HEARTBEAT)
			continue;
		assert_true(n < 32);
		if (R.in[i].m.type == PEER_LEASE && !strcmp(R.in[i].m.u.lease.text, marked(RELEASE_A, 0)))
			release = n;
		sent[n++] = R.in[i].m;
	}
	/* BEGIN, A, B, the context, END; the release; BEGIN, B, the context, END */
	assert_int_equal(n, 10);
	assert_int_equal(release, 5);
	teardown(NULL);
	/* the standing-by proxy gets all of it but the release */
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heartbeat(0, 0, 0);
	for (unsigned i = 0; i < n; i++) {
		if (i == release) {
			R.seq++;                      /* lost: a gap in the numbers */
			assert_non_null(lease_held("fd00:10::5"));
			assert_int_equal(ctr("syncs_rx"), 1);
			assert_int_equal(ctr("lease_swept"), 0);
			continue;
		}
		struct peer_msg m = sent[i];
		say(&m);
	}
	assert_int_equal(ctr("rx_lost"), 1);
	assert_int_equal(ctr("syncs_rx"), 2);
	assert_null(lease_held("fd00:10::5"));
	assert_non_null(lease_held("fd00:10::6"));
	assert_int_equal(ctr("lease_swept"), 1);
	assert_int_equal(ctr("replicas"), 1);
	assert_int_equal(ctr("replica_complete"), 1);
}

/* A site that refuses what the other proxy sends (the two configs' CMULA
 * prefixes differ) refuses every lease of every full sync: bounded in the
 * log, exact in the counter. */
static void refused_leases_are_logged_the_1st_2nd_4th_time(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heartbeat(0, 0, 0);
	log_to_file();
	for (unsigned i = 0; i < 100; i++)
		send_lease_line("{\"cmd\":\"lease\",\"event\":\"release\",\"cmula\":\"fd99::5\"}");
	log_back();
	assert_int_equal(ctr("lease_refused"), 100);
	assert_int_equal(logged("peer: lease refused", "'cmula' is not in a site cmula prefix"), 7);
	static const char *const times[] = { "(1 times)", "(2 times)", "(4 times)", "(8 times)", "(16 times)",
					     "(32 times)", "(64 times)" };
	for (unsigned k = 0; k < 7; k++)
		assert_int_equal(logged("peer: lease refused", times[k]), 1);
	/* a good one after them is applied */
	send_lease_line(LEASE_A);
	assert_non_null(lease_held("fd00:10::5"));
	assert_int_equal(ctr("lease_refused"), 100);
}

/* ---- leases the standing-by proxy's own DHCP server gave ------------------- */

/* Own lease i as its hook sends it, and as peer.c writes it back: the same line. */
static const char *own_line(unsigned i)
{
	static char b[8][160];
	snprintf(b[i % 8], sizeof b[0], "{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::1%u\",\"mode\":\"hba\","
		 "\"iaid\":0,\"pds\":\"ff\",\"duid\":\"aa\"}", i);
	return b[i % 8];
}

/* The id a forward of the hook's add `line` carries (the line with a last
 * member "fwd", a decimal 1..4294967295), 0 when g is not that. */
static uint32_t fwd_of(const struct got *g, const char *line)
{
	size_t n = strlen(line), len = g->m.u.lease.len;
	const char *t = g->m.u.lease.text, *d = t + n - 1 + 7;
	if (g->m.type != PEER_LEASE || len < n + 8 || memcmp(t, line, n - 1) || memcmp(t + n - 1, ",\"fwd\":", 7) ||
	    t[len - 1] != '}' || *d == '0')
		return 0;
	unsigned long long v = 0;
	for (; d < t + len - 1; d++) {
		if (*d < '0' || *d > '9' || (v = v * 10 + (unsigned)(*d - '0')) > UINT32_MAX)
			return 0;
	}
	return (uint32_t)v;
}

static uint32_t assert_forward(const struct got *g, const char *line)
{
	uint32_t id = fwd_of(g, line);
	if (!id)
		fail_msg("not a forward of %s: %.*s", line, (int)g->m.u.lease.len, g->m.u.lease.text);
	return id;
}

/* The LEASE messages sent since `from`: how many, and which own leases
 * (bit i) they carried, forwards with an id each (the last one's of lease
 * i in ids[i], when ids is given); fails on any other line. */
static unsigned leases_sent_ids(unsigned from, unsigned *which, uint32_t ids[8])
{
	unsigned n = 0;
	*which = 0;
	for (unsigned i = from; i < R.nin; i++) {
		if (R.in[i].m.type != PEER_LEASE)
			continue;
		n++;
		unsigned k = 0;
		uint32_t id = 0;
		while (k < 8 && !(id = fwd_of(&R.in[i], own_line(k))))
			k++;
		if (k == 8)
			fail_msg("unexpected lease line %s", R.in[i].m.u.lease.text);
		*which |= 1u << k;
		if (ids)
			ids[k] = id;
	}
	return n;
}

static unsigned leases_sent(unsigned from, unsigned *which) { return leases_sent_ids(from, which, NULL); }

/* A whole full sync from the stand-in carrying own leases `carry` (bits). */
static void whole_sync(uint32_t epoch, unsigned carry)
{
	send_sync(PEER_SYNC_BEGIN, epoch, 0);
	for (unsigned k = 0; k < 8; k++)
		if (carry & (1u << k))
			send_lease_line(own_line(k));
	send_sync(PEER_SYNC_END, epoch, 0);
}

static void a_standing_by_proxy_forwards_its_own_lease_changes_to_the_active_one(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	assert_int_equal(ctr("state"), PEER_ST_STANDBY);
	/* the other proxy not heard yet: nothing to send to */
	lease_request(LEASE_A);
	collect();
	assert_int_equal(count_type(PEER_LEASE, 0), 0);
	assert_int_equal(ctr("lease_fwd_tx"), 0);
	assert_int_equal(lease_held("fd00:10::5")->sync_gen, 0);
	heartbeat(0, 0, 0);
	assert_int_equal(ctr("peer_alive"), 1);
	unsigned mark = R.nin;
	lease_request(LEASE_B);
	lease_request(RELEASE_A);
	peer_lease_changed(&R.d, "not an address", 0);
	peer_lease_changed(&R.d, NULL, 0);
	collect();
	/* the hook's lines, as signed datagrams from a standing-by backup */
	assert_int_equal(R.nin - mark - count_type(PEER_HEARTBEAT, mark), 2);
	const struct got *g[2];
	for (unsigned i = mark, k = 0; i < R.nin; i++)
		if (R.in[i].m.type != PEER_HEARTBEAT)
			g[k++] = &R.in[i];
	for (unsigned k = 0; k < 2; k++) {
		assert_int_equal(g[k]->m.type, PEER_LEASE);
		assert_int_equal(g[k]->m.role, PEER_ROLE_BACKUP);
		assert_int_equal(g[k]->m.state, PEER_ST_STANDBY);
	}
	assert_forward(g[0], LEASE_B);
	assert_int_equal(g[1]->m.u.lease.len, strlen(RELEASE_A));
	assert_memory_equal(g[1]->m.u.lease.text, RELEASE_A, strlen(RELEASE_A));
	assert_int_equal(ctr("lease_fwd_tx"), 2);
	assert_int_equal(ctr("lease_tx"), 0);
	assert_int_equal(ctr("tx_failed"), 0);
	/* serving after a takeover, it replicates them as the ACTIVE one (lease_tx) */
	run_to(clk + DEAD_MS * MS);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	R.state = PEER_ST_SYNCING;     /* the primary back, waiting for our contexts */
	heartbeat(0, 0, 0);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	mark = R.nin;
	lease_request(LEASE_A);
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 1);
	assert_int_equal(ctr("lease_tx"), 1);
	assert_int_equal(ctr("lease_fwd_tx"), 2);
}

static void with_replication_off_own_leases_are_not_forwarded(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup", .no_replicate = true });
	start();
	heartbeat(0, 0, 0);
	assert_int_equal(ctr("state"), PEER_ST_STANDBY);
	assert_int_equal(ctr("peer_alive"), 1);
	lease_request(own_line(0));
	lease_request(LEASE_B);
	whole_sync(1, 0);
	assert_int_equal(ctr("syncs_rx"), 1);
	collect();
	assert_int_equal(count_type(PEER_LEASE, 0), 0);
	assert_int_equal(ctr("lease_fwd_tx"), 0);
	assert_int_equal(ctr("lease_fwd_retry"), 0);
	assert_non_null(lease_held("fd00:10::10"));
}

static void an_active_proxy_applies_a_forwarded_lease_and_sends_nothing_back(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "primary" });
	engine_installed(1);
	start();
	heartbeat(0, 0, 0);            /* a standing-by backup */
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	run_to(clk + 50 * MS);         /* its first full sync, at once */
	assert_int_equal(ctr("syncs_tx"), 1);
	unsigned mark = R.nin;
	send_lease_line(LEASE_A);
	assert_int_equal(ctr("lease_fwd_rx"), 1);
	assert_int_equal(ctr("lease_rx"), 0);
	assert_int_equal(ctr("rx_ignored_active"), 0);
	const struct lease_entry *l = lease_held("fd00:10::5");
	assert_non_null(l);
	assert_int_equal(l->mode, PSHIM6_ADDR_CGA);
	assert_int_equal(l->iaid, 7);
	assert_memory_equal(l->pds, "\x0a\x0b\x0c", 3);
	assert_int_not_equal(l->sync_gen, 0);   /* the other proxy's server's, not ours */
	send_lease_line(LEASE_B);
	send_lease_line(RELEASE_A);
	assert_null(lease_held("fd00:10::5"));
	assert_non_null(lease_held("fd00:10::6"));
	/* refused as a standing-by proxy refuses: nothing applied, counted */
	send_lease_line("{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd99::6\",\"mode\":\"hba\",\"iaid\":0,"
			"\"pds\":\"ff\",\"duid\":\"aa\"}");
	send_lease_line("{\"cmd\":\"lease\",\"event\":\"add\",");
	assert_int_equal(ctr("lease_fwd_rx"), 5);
	assert_int_equal(ctr("lease_refused"), 2);
	assert_int_equal(R.d.tables.leases.n, 1);
	/* the table of another ACTIVE proxy (both are, until one yields) is
	 * no forward: ignored, counted */
	R.state = PEER_ST_ACTIVE;
	send_lease_line(LEASE_A);
	R.state = PEER_ST_STANDBY;
	assert_null(lease_held("fd00:10::5"));
	assert_int_equal(ctr("lease_fwd_rx"), 5);
	assert_int_equal(ctr("rx_ignored_active"), 1);
	/* no echo: the next full sync carries it */
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 0);
	assert_int_equal(ctr("lease_tx"), 0);
	uint64_t t = clk;
	while (ctr("syncs_tx") < 2) {
		assert_true(clk < t + 2000 * MS);
		heartbeat(0, (uint32_t)ctr("last_sync_tx"), 0);
		run_to(clk + HB_MS * MS);
	}
	assert_int_equal(count_type(PEER_LEASE, mark), 1);
	assert_string_equal(last_of(PEER_LEASE)->m.u.lease.text,
			    marked(LEASE_B, last_of(PEER_SYNC_BEGIN)->m.u.sync.epoch));
	assert_int_equal(ctr("lease_tx"), 1);
}

/* A forwarded lease held by the ACTIVE proxy is the other server's: when
 * the roles change, the other proxy's whole sync decides whether it stays.
 * Here the backup took over, its server released C and the release never
 * arrived: the returning primary's replica of its table must drop C and
 * keep its own lease A. */
static void a_forwarded_lease_follows_the_other_proxy_s_table_after_a_role_change(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "primary" });
	start();
	heartbeat(0, 0, 0);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	lease_request(LEASE_A);
	send_lease_line(LEASE_C);
	assert_int_equal(ctr("lease_fwd_rx"), 1);
	/* given here while the backup served alone: its table lacks it */
	lease_request(own_line(0));
	/* the backup took over (holding contexts): this one collects them */
	R.state = PEER_ST_ACTIVE;
	heartbeat(1, 0, 5);
	assert_int_equal(ctr("state"), PEER_ST_SYNCING);
	send_sync(PEER_SYNC_BEGIN, 5, 0);
	send_lease_line(LEASE_A);
	send_lease_line(LEASE_B);
	send_sync(PEER_SYNC_END, 5, 0);
	assert_int_equal(ctr("syncs_rx"), 1);
	assert_null(lease_held("fd00:10::7"));
	assert_non_null(lease_held("fd00:10::5"));
	assert_non_null(lease_held("fd00:10::6"));
	assert_non_null(lease_held("fd00:10::10"));
	assert_int_equal(ctr("lease_swept"), 1);
	/* ACTIVE again, taking the site back: its own syncs carry its lease */
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	collect();
	assert_int_equal(ctr("lease_fwd_retry"), 0);
	assert_int_equal(ctr("lease_fwd_tx"), 0);
}

/* A forward lost on the way: the active proxy's next whole sync lacks the
 * lease, so it goes again, one sync batch (2 here) per sync at most, every
 * own lease in its turn; one a sync carried is the active proxy's now. */
static void own_leases_a_whole_sync_lacked_are_forwarded_again_bounded(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup", .sync_batch = 2 });
	start();
	for (unsigned i = 0; i < 5; i++)
		lease_request(own_line(i));   /* not heard yet: none sent */
	heartbeat(0, 0, 0);
	collect();
	assert_int_equal(count_type(PEER_LEASE, 0), 0);
	unsigned seen = 0, which, mark;
	for (uint32_t e = 1; e <= 3; e++) {
		mark = R.nin;
		whole_sync(e, 0);
		collect();
		assert_int_equal(leases_sent(mark, &which), 2);
		assert_int_equal(__builtin_popcount(which), 2);
		if (e < 3)
			assert_int_equal(seen & which, 0);   /* the walk goes on where it stopped */
		seen |= which;
	}
	assert_int_equal(seen, 0x1f);
	assert_int_equal(ctr("lease_fwd_retry"), 6);
	assert_int_equal(ctr("lease_fwd_tx"), 0);
	/* a sync not received whole lists nothing: nothing goes again */
	mark = R.nin;
	send_sync(PEER_SYNC_BEGIN, 4, 0);
	R.seq++;
	send_sync(PEER_SYNC_END, 4, 0);
	assert_int_equal(ctr("sync_incomplete"), 1);
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 0);
	/* 0, 1 and 2 arrived: from now on only 3 and 4 go again, never those */
	mark = R.nin;
	whole_sync(5, 0x07);
	whole_sync(6, 0x07);
	collect();
	assert_int_equal(leases_sent(mark, &which), 4);
	assert_int_equal(which, 0x18);
	assert_int_equal(ctr("lease_fwd_retry"), 10);
	assert_int_equal(ctr("lease_swept"), 0);
	for (unsigned i = 0; i < 5; i++)
		assert_non_null(lease_held(i == 0 ? "fd00:10::10" : i == 1 ? "fd00:10::11" : i == 2 ? "fd00:10::12"
						   : i == 3 ? "fd00:10::13" : "fd00:10::14"));
	/* renewed through our own hook, a lease is ours again, and goes */
	mark = R.nin;
	lease_request(own_line(1));
	collect();
	assert_int_equal(leases_sent(mark, &which), 1);
	assert_int_equal(which, 0x02);
	assert_int_equal(ctr("lease_fwd_tx"), 1);
}

/* ---- releases our own DHCP server made, and their loss --------------------- */

/* The release of own lease i as the hook sends it and peer.c forwards it. */
static const char *own_release(unsigned i)
{
	static char b[8][96];
	snprintf(b[i % 8], sizeof b[0], "{\"cmd\":\"lease\",\"event\":\"release\",\"cmula\":\"fd00:10::1%u\"}", i);
	return b[i % 8];
}

static const char *own_cmula(unsigned i)
{
	static char b[8][32];
	snprintf(b[i % 8], sizeof b[0], "fd00:10::1%u", i);
	return b[i % 8];
}

/* The releases of own leases sent since `from`, each line checked byte for
 * byte: how many, which (bit i), and how many of lease i (per[i]); fails on
 * any other LEASE line. */
static unsigned releases_sent(unsigned from, unsigned *which, unsigned per[8])
{
	unsigned n = 0;
	*which = 0;
	for (unsigned i = from; i < R.nin; i++) {
		if (R.in[i].m.type != PEER_LEASE)
			continue;
		unsigned k = 0;
		while (k < 8 && (R.in[i].m.u.lease.len != strlen(own_release(k)) ||
				 memcmp(R.in[i].m.u.lease.text, own_release(k), R.in[i].m.u.lease.len)))
			k++;
		if (k == 8)
			fail_msg("unexpected lease line %.*s", (int)R.in[i].m.u.lease.len, R.in[i].m.u.lease.text);
		assert_int_equal(R.in[i].m.role, PEER_ROLE_BACKUP);
		assert_int_equal(R.in[i].m.state, PEER_ST_STANDBY);
		n++;
		*which |= 1u << k;
		if (per)
			per[k]++;
	}
	return n;
}

/* The release of a lease the ACTIVE proxy got from us is lost: its whole
 * syncs carry the lease back, and each time the release goes again instead
 * of the lease being taken as the ACTIVE proxy's; the record ends with the
 * first whole sync begun after it that lacks the lease. */
static void a_lost_release_goes_again_while_full_syncs_carry_the_lease_back(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	engine_installed(1);
	start();
	heartbeat(0, 0, 0);
	lease_request(own_line(0));         /* forwarded; the ACTIVE proxy has it: */
	whole_sync(1, 0x01);
	collect();
	unsigned which, mark = R.nin;
	lease_request(own_release(0));      /* forwarded, and lost: the stand-in drops it */
	collect();
	assert_int_equal(releases_sent(mark, &which, NULL), 1);
	assert_int_equal(ctr("lease_fwd_tx"), 2);
	assert_int_equal(ctr("lease_tombstones"), 1);
	assert_null(lease_held(own_cmula(0)));
	/* the ACTIVE proxy's next whole sync still carries it */
	mark = R.nin;
	send_sync(PEER_SYNC_BEGIN, 2, 0);
	send_lease_line(own_line(0));
	assert_null(lease_held(own_cmula(0)));   /* not taken back */
	send_sync(PEER_SYNC_END, 2, 0);
	assert_int_equal(ctr("syncs_rx"), 2);
	collect();
	assert_int_equal(releases_sent(mark, &which, NULL), 1);
	const struct got *g = last_of(PEER_LEASE);
	assert_int_equal(g->m.u.lease.len, strlen(own_release(0)));
	assert_memory_equal(g->m.u.lease.text, own_release(0), strlen(own_release(0)));
	char resent[PEER_LINE_MAX + 1];
	memcpy(resent, g->m.u.lease.text, g->m.u.lease.len);
	resent[g->m.u.lease.len] = 0;
	assert_int_equal(ctr("lease_fwd_release_retry"), 1);
	assert_int_equal(ctr("lease_fwd_retry"), 0);
	assert_int_equal(ctr("lease_refused"), 0);
	assert_int_equal(ctr("lease_tombstones"), 1);
	assert_int_equal(R.d.tables.leases.n, 0);
	/* a sync not received whole lists nothing: no verdict, nothing sent */
	mark = R.nin;
	send_sync(PEER_SYNC_BEGIN, 3, 0);
	send_lease_line(own_line(0));
	R.seq++;
	send_sync(PEER_SYNC_END, 3, 0);
	assert_int_equal(ctr("sync_incomplete"), 1);
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 0);
	assert_int_equal(ctr("lease_tombstones"), 1);
	assert_null(lease_held(own_cmula(0)));
	/* the release got there: the next whole sync lacks the lease */
	whole_sync(4, 0);
	assert_int_equal(ctr("lease_tombstones"), 0);
	assert_int_equal(ctr("lease_tomb_confirmed"), 1);
	assert_int_equal(ctr("lease_tomb_expired"), 0);
	/* and from then on a sync that carries it is the ACTIVE proxy's table */
	whole_sync(5, 0x01);
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 0);
	assert_non_null(lease_held(own_cmula(0)));
	assert_int_not_equal(lease_held(own_cmula(0))->sync_gen, 0);
	assert_int_equal(ctr("lease_fwd_release_retry"), 1);
	/* released while a sync is under way, after it carried the lease: that
	 * sync says nothing of the release, the next one does */
	lease_request(own_line(1));
	whole_sync(6, 0x02);
	send_sync(PEER_SYNC_BEGIN, 7, 0);
	send_lease_line(own_line(1));
	lease_request(own_release(1));
	send_sync(PEER_SYNC_END, 7, 0);
	assert_int_equal(ctr("syncs_rx"), 6);
	assert_int_equal(ctr("lease_tombstones"), 1);
	collect();
	mark = R.nin;
	whole_sync(8, 0x03);
	collect();
	assert_int_equal(releases_sent(mark, &which, NULL), 1);
	assert_int_equal(which, 0x02);
	assert_null(lease_held(own_cmula(1)));
	assert_non_null(lease_held(own_cmula(0)));
	assert_int_equal(ctr("lease_fwd_release_retry"), 2);
	teardown(NULL);

	/* the ACTIVE proxy: the forward of the lease, then the release sent again */
	rig_up(&(struct opts){ .role = "primary" });
	engine_installed(1);
	start();
	heartbeat(0, 0, 0);
	run_to(clk + 50 * MS);
	assert_int_equal(ctr("syncs_tx"), 1);
	send_lease_line(own_line(0));
	assert_non_null(lease_held(own_cmula(0)));
	send_lease_line(resent);
	assert_null(lease_held(own_cmula(0)));
	assert_int_equal(ctr("lease_fwd_rx"), 2);
	assert_int_equal(ctr("lease_refused"), 0);
	/* and its next full sync no longer carries it */
	mark = R.nin;
	uint64_t t = clk;
	while (ctr("syncs_tx") < 2) {
		assert_true(clk < t + 2000 * MS);
		heartbeat(0, (uint32_t)ctr("last_sync_tx"), 0);
		run_to(clk + HB_MS * MS);
	}
	assert_int_equal(count_type(PEER_SYNC_END, mark), 1);
	assert_int_equal(count_type(PEER_LEASE, mark), 0);
}

/* A record of a release ends when the lease is given again, by our own
 * server (forwarded as an add) or by the ACTIVE proxy's (its update, outside
 * a sync), or when the ACTIVE proxy releases the lease itself. */
static void a_release_record_ends_when_the_lease_is_given_again(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heartbeat(0, 0, 0);
	for (unsigned i = 0; i < 3; i++)
		lease_request(own_line(i));
	whole_sync(1, 0x07);
	for (unsigned i = 0; i < 3; i++)
		lease_request(own_release(i));
	assert_int_equal(ctr("lease_tombstones"), 3);
	/* our own server gives 0 again: the new lease goes as an add */
	collect();
	unsigned mark = R.nin;
	lease_request(own_line(0));
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 1);
	assert_forward(last_of(PEER_LEASE), own_line(0));
	assert_int_equal(ctr("lease_tombstones"), 2);
	assert_int_equal(ctr("lease_tomb_superseded"), 1);
	/* the ACTIVE proxy's own server gives 1: its update is applied */
	send_lease_line(own_line(1));
	assert_non_null(lease_held(own_cmula(1)));
	assert_int_equal(ctr("lease_tombstones"), 1);
	assert_int_equal(ctr("lease_tomb_superseded"), 2);
	/* it releases 2 itself */
	send_lease_line(own_release(2));
	assert_int_equal(ctr("lease_tombstones"), 0);
	assert_int_equal(ctr("lease_tomb_confirmed"), 1);
	/* a sync carrying 0 and 1: both kept, nothing sent */
	mark = R.nin;
	whole_sync(2, 0x03);
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 0);
	assert_non_null(lease_held(own_cmula(0)));
	assert_non_null(lease_held(own_cmula(1)));
	assert_null(lease_held(own_cmula(2)));
	assert_int_equal(ctr("lease_fwd_release_retry"), 0);
	assert_int_equal(ctr("lease_tomb_expired"), 0);
}

/* ---- a full sync's items and live changes, told apart by the line ---------- */

/* Own leases `carry` (bits) as items of the stand-in's full sync `epoch`. */
static void sync_items(uint32_t epoch, unsigned carry)
{
	for (unsigned k = 0; k < 8; k++)
		if (carry & (1u << k))
			send_lease_line(marked(own_line(k), epoch));
}

/* A whole full sync from the stand-in, its items marked as a sender of now marks them. */
static void whole_marked_sync(uint32_t epoch, unsigned carry)
{
	send_sync(PEER_SYNC_BEGIN, epoch, 0);
	sync_items(epoch, carry);
	send_sync(PEER_SYNC_END, epoch, 0);
}

/* Own leases 0 and 1, held by the ACTIVE proxy (its whole sync 1 carried
 * them), and 0 released here since: its record, nothing sent yet. */
static void own_0_and_1_synced_then_0_released(void)
{
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heartbeat(0, 0, 0);
	lease_request(own_line(0));
	lease_request(own_line(1));
	whole_marked_sync(1, 0x03);
	assert_int_equal(ctr("syncs_rx"), 1);
	lease_request(own_release(0));
	assert_int_equal(ctr("lease_tombstones"), 1);
	assert_null(lease_held(own_cmula(0)));
	collect();
}

/* The release reached the ACTIVE proxy, whose own server then gave the
 * lease again while one of its full syncs was on the way: that add, in
 * between the sync's BEGIN and END, is its server's, and the lease is real. */
static void a_live_add_between_sync_begin_and_end_ends_the_release_record_and_is_kept(void **st)
{
	(void)st;
	own_0_and_1_synced_then_0_released();
	unsigned mark = R.nin;
	send_sync(PEER_SYNC_BEGIN, 2, 0);
	sync_items(2, 0x02);
	send_lease_line(marked(own_line(0), 0));
	assert_non_null(lease_held(own_cmula(0)));
	assert_int_equal(ctr("lease_tombstones"), 0);
	assert_int_equal(ctr("lease_tomb_superseded"), 1);
	send_sync(PEER_SYNC_END, 2, 0);
	assert_int_equal(ctr("syncs_rx"), 2);
	/* no release for it, and the sync's sweep leaves it, as the ACTIVE
	 * proxy's lease (not forwarded again) */
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 0);
	assert_int_equal(ctr("lease_fwd_release_retry"), 0);
	assert_int_equal(ctr("lease_swept"), 0);
	assert_non_null(lease_held(own_cmula(0)));
	assert_int_not_equal(lease_held(own_cmula(0))->sync_gen, 0);
	assert_non_null(lease_held(own_cmula(1)));
	/* the next sync carries it: applied like any item */
	whole_marked_sync(3, 0x03);
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 0);
	assert_non_null(lease_held(own_cmula(0)));
	assert_int_equal(ctr("lease_tomb_expired"), 0);
}

/* A SYNC_END lost leaves this proxy believing the sync goes on until the
 * next BEGIN: a live add meanwhile is still the ACTIVE server's. */
static void a_live_add_after_a_lost_sync_end_ends_the_release_record_and_is_kept(void **st)
{
	(void)st;
	own_0_and_1_synced_then_0_released();
	unsigned mark = R.nin;
	send_sync(PEER_SYNC_BEGIN, 2, 0);
	sync_items(2, 0x02);
	R.seq++;                               /* its END, lost */
	send_lease_line(marked(own_line(0), 0));
	assert_non_null(lease_held(own_cmula(0)));
	assert_int_equal(ctr("lease_tombstones"), 0);
	assert_int_equal(ctr("lease_tomb_superseded"), 1);
	whole_marked_sync(3, 0x03);
	assert_int_equal(ctr("syncs_rx"), 2);
	assert_int_equal(ctr("sync_incomplete"), 1);
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 0);
	assert_int_equal(ctr("lease_fwd_release_retry"), 0);
	assert_non_null(lease_held(own_cmula(0)));
	assert_non_null(lease_held(own_cmula(1)));
	assert_int_equal(ctr("lease_swept"), 0);
}

/* A sync whose SYNC_BEGIN was lost is still the ACTIVE proxy's table: its
 * items hold a released lease back.  But it cannot be whole here, so it
 * says nothing of the release (nothing sent at its END) and sweeps
 * nothing: the next whole sync does both.  Also when the END before it was
 * lost too, so that this proxy still believes the previous sync goes on. */
static void a_sync_whose_begin_was_lost_holds_a_released_lease_back_and_sweeps_nothing(void **st)
{
	(void)st;
	own_0_and_1_synced_then_0_released();
	/* the ACTIVE proxy's lease A, which it releases, the release lost */
	send_lease_line(marked(LEASE_A, 0));
	assert_non_null(lease_held("fd00:10::5"));
	unsigned mark = R.nin;
	R.seq++;                               /* BEGIN of 2, lost */
	sync_items(2, 0x03);
	assert_null(lease_held(own_cmula(0)));
	assert_int_equal(ctr("lease_tombstones"), 1);
	assert_int_equal(ctr("lease_tomb_superseded"), 0);
	send_sync(PEER_SYNC_END, 2, 0);
	assert_int_equal(ctr("syncs_rx"), 1);
	assert_int_equal(ctr("lease_swept"), 0);
	assert_non_null(lease_held("fd00:10::5"));
	assert_non_null(lease_held(own_cmula(1)));
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 0);
	/* sync 3 begun, its END lost, then 4's BEGIN lost: 4's items are
	 * told from 3's by their mark */
	send_sync(PEER_SYNC_BEGIN, 3, 0);
	sync_items(3, 0x03);
	R.seq += 2;
	sync_items(4, 0x03);
	send_sync(PEER_SYNC_END, 4, 0);
	assert_null(lease_held(own_cmula(0)));
	assert_int_equal(ctr("lease_tombstones"), 1);
	assert_int_equal(ctr("lease_tomb_superseded"), 0);
	assert_int_equal(ctr("syncs_rx"), 1);
	assert_int_equal(ctr("lease_swept"), 0);
	assert_non_null(lease_held("fd00:10::5"));
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 0);
	/* the next whole sync: the release goes again, A goes */
	whole_marked_sync(5, 0x03);
	assert_int_equal(ctr("syncs_rx"), 2);
	collect();
	unsigned which;
	assert_int_equal(releases_sent(mark, &which, NULL), 1);
	assert_int_equal(which, 0x01);
	assert_int_equal(ctr("lease_fwd_release_retry"), 1);
	assert_int_equal(ctr("lease_tombstones"), 1);
	assert_null(lease_held("fd00:10::5"));
	assert_int_equal(ctr("lease_swept"), 1);
	assert_non_null(lease_held(own_cmula(1)));
}

/* A proxy that predates the mark sends none: its lines are taken for a
 * sync's items between SYNC_BEGIN and SYNC_END, as live changes outside,
 * lost BEGINs and ENDs included. */
static void an_unmarked_line_is_a_sync_item_only_between_sync_begin_and_end(void **st)
{
	(void)st;
	own_0_and_1_synced_then_0_released();
	unsigned mark = R.nin, which;
	send_sync(PEER_SYNC_BEGIN, 2, 0);
	send_lease_line(own_line(0));
	assert_null(lease_held(own_cmula(0)));
	assert_int_equal(ctr("lease_tombstones"), 1);
	send_sync(PEER_SYNC_END, 2, 0);
	collect();
	assert_int_equal(releases_sent(mark, &which, NULL), 1);
	assert_int_equal(ctr("lease_fwd_release_retry"), 1);
	/* END lost: still taken for an item until the next BEGIN */
	send_sync(PEER_SYNC_BEGIN, 3, 0);
	R.seq++;
	send_lease_line(own_line(0));
	assert_null(lease_held(own_cmula(0)));
	assert_int_equal(ctr("lease_tombstones"), 1);
	assert_int_equal(ctr("lease_tomb_superseded"), 0);
	/* outside a sync: the ACTIVE server's own add */
	whole_sync(4, 0x03);
	assert_int_equal(ctr("lease_fwd_release_retry"), 2);
	assert_int_equal(ctr("lease_tombstones"), 1);
	send_lease_line(own_line(0));
	assert_non_null(lease_held(own_cmula(0)));
	assert_int_equal(ctr("lease_tombstones"), 0);
	assert_int_equal(ctr("lease_tomb_superseded"), 1);
	assert_int_equal(ctr("lease_refused"), 0);
}

/* Five releases lost, every sync carries the five leases: one sync batch
 * (2 here) goes again per sync, the least re-sent first, each release 3
 * times; a lease still carried after that is the ACTIVE proxy's. */
static void releases_sent_again_are_bounded_per_sync_and_per_release(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup", .sync_batch = 2 });
	start();
	heartbeat(0, 0, 0);
	for (unsigned i = 0; i < 5; i++)
		lease_request(own_line(i));
	whole_sync(1, 0x1f);
	for (unsigned i = 0; i < 5; i++)
		lease_request(own_release(i));
	collect();
	assert_int_equal(ctr("lease_tombstones"), 5);
	unsigned per[8] = { 0 }, which, seen = 0, syncs = 0;
	for (uint32_t e = 2; ctr("lease_tombstones") > 0; e++) {
		assert_true(e < 20);
		unsigned mark = R.nin;
		whole_sync(e, 0x1f);
		collect();
		unsigned n = releases_sent(mark, &which, per);
		assert_true(n <= 2);
		if (e <= 4) {
			assert_int_equal(n, 2);
			/* the least re-sent first: 4 is in the third, before any goes twice */
			assert_int_equal(e < 4 ? seen & which : which & 0x10, e < 4 ? 0 : 0x10);
			seen |= which;
		}
		syncs++;
	}
	assert_int_equal(seen, 0x1f);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(per[i], 3);
		assert_non_null(lease_held(own_cmula(i)));          /* the ACTIVE proxy's after all */
		assert_int_not_equal(lease_held(own_cmula(i))->sync_gen, 0);
	}
	assert_int_equal(ctr("lease_fwd_release_retry"), 15);
	assert_int_equal(ctr("lease_tomb_expired"), 5);
	assert_int_equal(ctr("lease_tomb_confirmed"), 0);
	assert_int_equal(syncs, 9);
	/* one sync batch per sync in all: releases first, then own leases */
	lease_request(own_line(5));
	lease_request(own_line(6));
	lease_request(own_line(7));
	lease_request(own_release(6));
	lease_request(own_release(7));
	collect();
	unsigned mark = R.nin;
	whole_sync(30, 0x1f | 0xc0);        /* carries the released 6 and 7, lacks 5 */
	collect();
	assert_int_equal(releases_sent(mark, &which, NULL), 2);
	assert_int_equal(which, 0xc0);
	assert_int_equal(ctr("lease_fwd_retry"), 0);
	mark = R.nin;
	whole_sync(31, 0x1f);               /* lacks all three: 6 and 7 confirmed, 5 goes again */
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 1);
	assert_forward(last_of(PEER_LEASE), own_line(5));
	assert_int_equal(ctr("lease_fwd_retry"), 1);
	assert_int_equal(ctr("lease_tomb_confirmed"), 2);
}

/* At most 256 records; the oldest goes for a new one.  Made also while the
 * other proxy is not heard: nothing is sent then, and its syncs would bring
 * the lease back the same. */
static void release_records_are_bounded_and_the_oldest_goes(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	assert_int_equal(ctr("state"), PEER_ST_STANDBY);
	char line[128];
	for (unsigned i = 0; i < 300; i++) {
		snprintf(line, sizeof line, "{\"cmd\":\"lease\",\"event\":\"release\",\"cmula\":\"fd00:10::1:%x\"}", i);
		lease_request(line);
	}
	collect();
	assert_int_equal(count_type(PEER_LEASE, 0), 0);
	assert_int_equal(ctr("lease_fwd_tx"), 0);
	assert_int_equal(ctr("lease_tombstones"), 256);
	assert_int_equal(ctr("lease_tomb_evicted"), 44);
	heartbeat(0, 0, 0);
	/* a sync carrying the oldest forgotten (43) and the oldest kept (44) */
	unsigned mark = R.nin;
	send_sync(PEER_SYNC_BEGIN, 1, 0);
	send_lease_line("{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::1:2b\",\"mode\":\"hba\",\"iaid\":0,"
			"\"pds\":\"ff\",\"duid\":\"aa\"}");
	send_lease_line("{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::1:2c\",\"mode\":\"hba\",\"iaid\":0,"
			"\"pds\":\"ff\",\"duid\":\"aa\"}");
	send_sync(PEER_SYNC_END, 1, 0);
	collect();
	assert_non_null(lease_held("fd00:10::1:2b"));
	assert_null(lease_held("fd00:10::1:2c"));
	assert_int_equal(count_type(PEER_LEASE, mark), 1);
	static const char want[] = "{\"cmd\":\"lease\",\"event\":\"release\",\"cmula\":\"fd00:10::1:2c\"}";
	assert_int_equal(last_of(PEER_LEASE)->m.u.lease.len, strlen(want));
	assert_memory_equal(last_of(PEER_LEASE)->m.u.lease.text, want, strlen(want));
	/* the others were not carried: confirmed */
	assert_int_equal(ctr("lease_tombstones"), 1);
	assert_int_equal(ctr("lease_tomb_confirmed"), 255);
}

/* Once ACTIVE, no sync comes to confirm or contradict a record: they go. */
static void becoming_active_forgets_the_release_records(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heartbeat(0, 0, 0);
	lease_request(own_line(0));
	whole_sync(1, 0x01);
	lease_request(own_release(0));
	lease_request(own_release(1));
	assert_int_equal(ctr("lease_tombstones"), 2);
	takes_over_at_dead_ms_after(clk);
	assert_int_equal(ctr("lease_tombstones"), 0);
	assert_int_equal(ctr("lease_tomb_expired"), 2);
	/* serving, its own releases are replicated, not recorded */
	lease_request(own_line(2));
	lease_request(own_release(2));
	assert_int_equal(ctr("lease_tombstones"), 0);
	/* and a forward of the lease from the other proxy, standing by, is applied */
	R.state = PEER_ST_STANDBY;
	heartbeat(0, 0, 0);
	send_lease_line(own_line(0));
	assert_non_null(lease_held(own_cmula(0)));
	assert_int_equal(ctr("lease_fwd_release_retry"), 0);
}

/* ---- releases our own DHCP server made of leases the other proxy forwarded -- */

/* ACTIVE, with a standing-by backup heard */
static void active_with_a_standby(void)
{
	rig_up(&(struct opts){ .role = "primary" });
	start();
	heartbeat(0, 0, 0);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	assert_int_equal(ctr("peer_alive"), 1);
}

/* Forwarded lease i, event `id`, applied; then released by our own server
 * (the release replicated, and lost on the way: the stand-in drops it). */
static void forwarded_then_released_here(unsigned i, uint32_t id)
{
	send_lease_line(with_id(own_line(i), id));
	assert_non_null(lease_held(own_cmula(i)));
	assert_int_equal(lease_held(own_cmula(i))->fwd_id, id);
	unsigned mark = R.nin;
	lease_request(own_release(i));
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 1);
	assert_string_equal(last_of(PEER_LEASE)->m.u.lease.text, marked(own_release(i), 0));
	assert_null(lease_held(own_cmula(i)));
}

/* The mirror of a lost release of the standing-by proxy's: ours is lost,
 * it still holds the lease as its own, our next whole sync lacks it, and it
 * forwards the lease again, with the id of the event we released after.
 * That repeat must not bring the lease back: the release goes again. */
static void a_stale_re_forward_of_a_lease_our_server_released_is_refused_and_the_release_goes_again(void **st)
{
	(void)st;
	active_with_a_standby();
	send_lease_line(with_id(own_line(0), 1000));
	/* renewed by our own server meanwhile: still the forwarded event's lease */
	lease_request(own_line(0));
	assert_int_equal(lease_held(own_cmula(0))->fwd_id, 1000);
	unsigned mark = R.nin;
	lease_request(own_release(0));
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 2);
	assert_int_equal(ctr("lease_rel_records"), 1);
	mark = R.nin;
	send_lease_line(with_id(own_line(0), 1000));
	assert_null(lease_held(own_cmula(0)));
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 1);
	assert_string_equal(last_of(PEER_LEASE)->m.u.lease.text, marked(own_release(0), 0));
	assert_int_equal(last_of(PEER_LEASE)->m.state, PEER_ST_ACTIVE);
	assert_int_equal(ctr("lease_release_resent"), 1);
	assert_int_equal(ctr("lease_rel_records"), 1);
	assert_int_equal(ctr("lease_fwd_rx"), 2);
	assert_int_equal(ctr("lease_refused"), 0);
	/* another repeat of that event: the same answer */
	send_lease_line(with_id(own_line(0), 1000));
	assert_null(lease_held(own_cmula(0)));
	assert_int_equal(ctr("lease_release_resent"), 2);
}

/* After our release, a forward of another event (the other server gave the
 * lease again), or without an id (a proxy that predates them), is news. */
static void a_forward_of_a_new_event_or_without_an_id_after_our_release_is_applied(void **st)
{
	(void)st;
	active_with_a_standby();
	forwarded_then_released_here(0, 1000);
	forwarded_then_released_here(1, 1001);
	assert_int_equal(ctr("lease_rel_records"), 2);
	unsigned mark = R.nin;
	send_lease_line(with_id(own_line(0), 2000));
	assert_non_null(lease_held(own_cmula(0)));
	assert_int_equal(lease_held(own_cmula(0))->fwd_id, 2000);
	send_lease_line(own_line(1));
	assert_non_null(lease_held(own_cmula(1)));
	assert_int_equal(lease_held(own_cmula(1))->fwd_id, 0);
	assert_int_equal(ctr("lease_rel_records"), 0);
	assert_int_equal(ctr("lease_rel_record_superseded"), 2);
	assert_int_equal(ctr("lease_release_resent"), 0);
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 0);
	/* the records gone, the old event's repeat is applied as before */
	send_lease_line(with_id(own_line(1), 1001));
	assert_int_equal(lease_held(own_cmula(1))->fwd_id, 1001);
}

/* A release forwarded by the other proxy says it holds the lease no more;
 * our own server giving the lease again makes it ours: either ends the
 * record, and a repeat of the old event is no longer answered. */
static void a_record_of_ours_ends_with_a_forwarded_release_or_our_server_s_add(void **st)
{
	(void)st;
	active_with_a_standby();
	forwarded_then_released_here(0, 1000);
	forwarded_then_released_here(1, 1001);
	send_lease_line(own_release(0));
	assert_int_equal(ctr("lease_rel_record_confirmed"), 1);
	lease_request(own_line(1));
	assert_int_equal(ctr("lease_rel_record_superseded"), 1);
	assert_int_equal(ctr("lease_rel_records"), 0);
	collect();
	unsigned mark = R.nin;
	send_lease_line(with_id(own_line(1), 1001));
	assert_int_equal(lease_held(own_cmula(1))->fwd_id, 1001);
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 0);
	assert_int_equal(ctr("lease_release_resent"), 0);
}

/* 3 releases sent again per record, each for one repeat: a standing-by
 * proxy still forwarding the event after that is not missing a datagram. */
static void releases_sent_again_for_stale_forwards_stop_after_3(void **st)
{
	(void)st;
	active_with_a_standby();
	forwarded_then_released_here(0, 1000);
	log_to_file();
	log_set_level(PSHIM6_LOG_INFO);
	unsigned mark = R.nin;
	for (unsigned k = 0; k < 3; k++) {
		send_lease_line(with_id(own_line(0), 1000));
		assert_null(lease_held(own_cmula(0)));
	}
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 3);
	assert_int_equal(ctr("lease_release_resent"), 3);
	send_lease_line(with_id(own_line(0), 1000));
	assert_non_null(lease_held(own_cmula(0)));
	assert_int_equal(lease_held(own_cmula(0))->fwd_id, 1000);
	assert_int_equal(ctr("lease_rel_records"), 0);
	assert_int_equal(ctr("lease_rel_record_expired"), 1);
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 3);
	assert_int_equal(logged("fd00:10::10", "after 3 releases sent again"), 1);
	log_back();
}

/* At most 256 records; the oldest goes for a new one, and its lease comes
 * back with the repeat as before records. */
static void records_of_our_releases_are_bounded_and_the_oldest_goes(void **st)
{
	(void)st;
	active_with_a_standby();
	char line[160], rel[96];
	for (unsigned i = 0; i < 300; i++) {
		snprintf(line, sizeof line, "{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::1:%x\",\"mode\":\"hba\","
			 "\"iaid\":0,\"pds\":\"ff\",\"duid\":\"aa\",\"fwd\":%u}", i, 5000 + i);
		send_lease_line(line);
		snprintf(rel, sizeof rel, "{\"cmd\":\"lease\",\"event\":\"release\",\"cmula\":\"fd00:10::1:%x\"}", i);
		lease_request(rel);
		collect();
	}
	assert_int_equal(ctr("lease_rel_records"), 256);
	assert_int_equal(ctr("lease_rel_record_evicted"), 44);
	assert_int_equal(R.d.tables.leases.n, 0);
	/* the oldest forgotten (43) is applied, the oldest kept (44) is not */
	unsigned mark = R.nin;
	send_lease_line("{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::1:2b\",\"mode\":\"hba\",\"iaid\":0,"
			"\"pds\":\"ff\",\"duid\":\"aa\",\"fwd\":5043}");
	send_lease_line("{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"fd00:10::1:2c\",\"mode\":\"hba\",\"iaid\":0,"
			"\"pds\":\"ff\",\"duid\":\"aa\",\"fwd\":5044}");
	assert_non_null(lease_held("fd00:10::1:2b"));
	assert_null(lease_held("fd00:10::1:2c"));
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 1);
	assert_string_equal(last_of(PEER_LEASE)->m.u.lease.text,
			    "{\"cmd\":\"lease\",\"event\":\"release\",\"cmula\":\"fd00:10::1:2c\",\"sync\":0}");
	assert_int_equal(ctr("lease_release_resent"), 1);
}

/* Standing by again, the other proxy is ACTIVE and forwards come to it; a
 * lease forwarded here is the other's (LEASE_GEN_OTHER) and its syncs
 * decide: the records go. */
static void leaving_active_forgets_the_records_of_our_releases(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	eng = engine_with(0);          /* a full sync needs one */
	start();
	heartbeat(0, 0, 0);
	takes_over_at_dead_ms_after(clk);
	R.state = PEER_ST_STANDBY;     /* the primary back, standing by */
	heartbeat(0, 0, 0);
	forwarded_then_released_here(0, 1000);
	forwarded_then_released_here(1, 1001);
	assert_int_equal(ctr("lease_rel_records"), 2);
	/* the primary restarts and takes the site back after our full sync */
	R.session++;
	R.seq = 0;
	R.state = PEER_ST_SYNCING;
	unsigned mark = R.nin;
	uint64_t t = clk;
	while (collect(), !count_type(PEER_SYNC_END, mark)) {
		assert_true(clk < t + 3000 * MS);
		heartbeat(0, 0, 0);
		run_to(clk + HB_MS * MS);
	}
	uint32_t epoch = last_of(PEER_SYNC_END)->m.u.sync.epoch;
	R.state = PEER_ST_ACTIVE;
	heartbeat(0, epoch, 0);
	assert_int_equal(ctr("state"), PEER_ST_STANDBY);
	assert_int_equal(ctr("lease_rel_records"), 0);
	assert_int_equal(ctr("lease_rel_record_expired"), 2);
}

/* "fwd" is an id, 1..4294967295, or absent: anything else is no forward. */
static void a_forward_whose_id_is_no_id_is_refused(void **st)
{
	(void)st;
	active_with_a_standby();
	static const char *const bad[] = { "0", "4294967296", "-1", "\"5\"", "true", "null" };
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char line[200];
		size_t n = strlen(own_line(0));
		snprintf(line, sizeof line, "%.*s,\"fwd\":%s}", (int)(n - 1), own_line(0), bad[i]);
		send_lease_line(line);
		assert_null(lease_held(own_cmula(0)));
	}
	assert_int_equal(ctr("lease_refused"), 6);
	send_lease_line(with_id(own_line(0), 4294967295u));
	assert_int_equal(lease_held(own_cmula(0))->fwd_id, 4294967295u);
	assert_int_equal(ctr("lease_refused"), 6);
}

/* Standing by: every change our own hook makes is an event with its own id,
 * and a forward sent again is the same event, with the same id. */
static void a_re_forward_carries_its_event_s_id_and_a_renew_is_a_new_event(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	start();
	heartbeat(0, 0, 0);
	unsigned which, mark = R.nin;
	uint32_t first[8] = { 0 }, again[8] = { 0 }, renew[8] = { 0 }, renew_again[8] = { 0 };
	lease_request(own_line(0));
	collect();
	assert_int_equal(leases_sent_ids(mark, &which, first), 1);
	assert_int_equal(lease_held(own_cmula(0))->fwd_id, first[0]);
	mark = R.nin;
	whole_sync(1, 0);                   /* the forward was lost */
	collect();
	assert_int_equal(leases_sent_ids(mark, &which, again), 1);
	assert_int_equal(again[0], first[0]);
	assert_int_equal(ctr("lease_fwd_retry"), 1);
	mark = R.nin;
	lease_request(own_line(0));         /* renewed by our own server */
	collect();
	assert_int_equal(leases_sent_ids(mark, &which, renew), 1);
	assert_int_not_equal(renew[0], first[0]);
	mark = R.nin;
	whole_sync(2, 0);
	collect();
	assert_int_equal(leases_sent_ids(mark, &which, renew_again), 1);
	assert_int_equal(renew_again[0], renew[0]);
	/* the ACTIVE proxy's line carries the event's id, the entry now its;
	 * one from a proxy that predates ids leaves it none */
	send_sync(PEER_SYNC_BEGIN, 3, 0);
	send_lease_line(with_id(marked(own_line(0), 3), renew[0]));
	send_sync(PEER_SYNC_END, 3, 0);
	assert_int_equal(lease_held(own_cmula(0))->fwd_id, renew[0]);
	assert_false(lease_held(own_cmula(0))->fwd_ours);
	whole_sync(4, 0x01);
	assert_int_equal(lease_held(own_cmula(0))->fwd_id, 0);
	/* nor does a release of ours */
	mark = R.nin;
	lease_request(own_release(0));
	collect();
	assert_int_equal(releases_sent(mark, &which, NULL), 1);
}

/* ACTIVE: a lease our own server gives has an event id too, which our lines
 * carry and a renew keeps (a renew's line may be lost, and the other proxy
 * holds the id of the line before).  Its release needs no record: the
 * standing-by proxy holds that lease as ours, never re-forwarding it. */
static void an_active_proxy_s_own_lease_has_an_id_its_lines_carry_and_a_renew_keeps(void **st)
{
	(void)st;
	active_with_a_standby();
	unsigned mark = R.nin;
	lease_request(own_line(0));
	uint32_t id = own_event_id(own_cmula(0));
	lease_request(own_line(0));
	assert_int_equal(own_event_id(own_cmula(0)), id);
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 2);
	assert_string_equal(R.in[R.nin - 1].m.u.lease.text, with_id(marked(own_line(0), 0), id));
	/* released and given again: a new lease, a new event */
	lease_request(own_release(0));
	assert_int_equal(ctr("lease_rel_records"), 0);
	lease_request(own_line(0));
	assert_int_not_equal(own_event_id(own_cmula(0)), id);
	/* a forwarded one renewed here stays the other proxy's event */
	send_lease_line(with_id(own_line(1), 1001));
	lease_request(own_line(1));
	assert_int_equal(lease_held(own_cmula(1))->fwd_id, 1001);
	assert_false(lease_held(own_cmula(1))->fwd_ours);
	collect();
	assert_string_equal(last_of(PEER_LEASE)->m.u.lease.text, with_id(marked(own_line(1), 0), 1001));
	assert_int_equal(ctr("lease_refused"), 0);
}

/* The other proxy gave a lease while it was ACTIVE; the roles swap and our
 * own server releases it, the release lost.  The other proxy, standing by,
 * holds the lease as its own, our whole sync lacks it and it forwards it
 * again with its event's id, which we kept from its line: a stale repeat,
 * refused, and the release goes again.  A lease whose line carried no id
 * (a proxy that predates them) comes back with its re-forward, as before. */
static void after_a_swap_the_re_forward_of_a_lease_given_while_the_other_was_active_is_refused(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "backup" });
	eng = engine_with(0);          /* a full sync needs one */
	start();
	heartbeat(0, 0, 0);
	send_lease_line(with_id(marked(own_line(0), 0), 3000));
	send_lease_line(marked(own_line(1), 0));
	assert_int_equal(lease_held(own_cmula(0))->fwd_id, 3000);
	assert_false(lease_held(own_cmula(0))->fwd_ours);
	assert_int_equal(lease_held(own_cmula(1))->fwd_id, 0);
	takes_over_at_dead_ms_after(clk);
	R.state = PEER_ST_STANDBY;     /* the primary back, standing by */
	heartbeat(0, 0, 0);
	lease_request(own_release(0));
	lease_request(own_release(1));
	assert_int_equal(ctr("lease_rel_records"), 1);
	collect();
	unsigned mark = R.nin;
	send_lease_line(with_id(own_line(0), 3000));
	assert_null(lease_held(own_cmula(0)));
	collect();
	assert_int_equal(count_type(PEER_LEASE, mark), 1);
	assert_string_equal(last_of(PEER_LEASE)->m.u.lease.text, marked(own_release(0), 0));
	assert_int_equal(ctr("lease_release_resent"), 1);
	send_lease_line(own_line(1));
	assert_non_null(lease_held(own_cmula(1)));
	assert_int_equal(ctr("lease_refused"), 0);
}

/* ---- peer.sources ---------------------------------------------------------- */

static void assert_from(const struct got *g, const char *addr)
{
	char a[INET_ADDRSTRLEN];
	assert_non_null(inet_ntop(AF_INET, &g->src.sin_addr, a, sizeof a));
	assert_string_equal(a, addr);
	assert_int_equal(ntohs(g->src.sin_port), R.port);
}

static void each_path_sends_from_its_configured_source(void **st)
{
	(void)st;
	rig_up(&(struct opts){ .role = "primary", .paths = 2,
			       .sources = "[ \"::ffff:127.0.0.2\", \"::ffff:127.0.0.4\" ]" });
	start();
	struct peer_msg hb = { .type = PEER_HEARTBEAT };
	say_on(3, &hb, NULL);
	assert_int_equal(ctr("state"), PEER_ST_ACTIVE);
	lease_request(LEASE_A);            /* one message over the sync path, 0 */
	collect();
	const struct got *l = last_of(PEER_LEASE);
	assert_non_null(l);
	assert_int_equal(l->path, 0);
	assert_from(l, "127.0.0.2");
	/* path 0 cut: the sync path moves to path 1, and its source with it */
	uint64_t cut = clk;
	while (ctr("sync_path") != 1) {
		assert_true(clk < cut + 4 * DEAD_MS * MS);
		hb = (struct peer_msg){ .type = PEER_HEARTBEAT };
		say_on(2, &hb, NULL);
		run_to(clk + HB_MS * MS);
	}
	lease_request(LEASE_B);
	collect();
	l = last_of(PEER_LEASE);
	assert_int_equal(l->path, 1);
	assert_from(l, "127.0.0.4");
	unsigned hbs[2] = { 0, 0 };
	for (unsigned i = 0; i < R.nin; i++) {
		assert_from(&R.in[i], R.in[i].path ? "127.0.0.4" : "127.0.0.2");
		hbs[R.in[i].path] += R.in[i].m.type == PEER_HEARTBEAT;
	}
	assert_true(hbs[0] > 1 && hbs[1] > 1);
	assert_int_equal(ctr("tx_failed"), 0);
	assert_int_equal(ctr("path0_hb_tx_failed"), 0);
	assert_int_equal(ctr("path1_hb_tx_failed"), 0);
}

/* An address the host lacks: the start goes on (it may be added later) with
 * a warning, and that path's sends fail, counted, logged once a minute. */
static void a_source_this_host_lacks_is_warned_about_and_its_sends_fail(void **st)
{
	(void)st;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	assert_int_equal(inet_pton(AF_INET, "198.51.100.7", &a.sin_addr), 1);
	/* the premise (198.51.100.0/24 is TEST-NET-2; net.ipv4.ip_nonlocal_bind off) */
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), -1);
	close(fd);
	log_to_file();
	rig_up(&(struct opts){ .role = "primary", .sources = "[ \"::ffff:198.51.100.7\" ]" });
	uint64_t t = clk;
	peer_tick(&R.d, clk);
	run_to(t + 59000 * MS);
	log_back();
	collect();
	assert_int_equal(R.nin, 0);
	assert_int_equal(ctr("hb_tx"), 0);
	assert_int_equal(ctr("path0_hb_tx"), 0);
	assert_int_equal(ctr("path0_hb_tx_failed"), 591);
	assert_int_equal(ctr("tx_failed"), 591);
	assert_int_equal(logged("198.51.100.7", "is not an address of this host now"), 1);   /* the start's check */
	assert_int_equal(logged("path 0: sending from ::ffff:198.51.100.7", "to ::ffff:127.0.0.1"), 1);
	/* an IPv4-mapped source fails with "Network is unreachable", which
	 * alone points away from peer.sources: the hint must say it */
	assert_int_equal(logged("sending from", "(peer.sources: not an address of this host"), 1);
	log_to_file();
	run_to(t + 60000 * MS);
	log_back();
	assert_int_equal(logged("198.51.100.7", "sending from"), 1);
	/* the other proxy, never having heard this run, cannot echo it: what
	 * arrives is read but confirms nothing */
	heartbeat(0, 0, 0);
	assert_int_equal(ctr("rx"), 1);
	assert_int_equal(ctr("rx_unconfirmed"), 1);
	assert_int_equal(ctr("hb_rx"), 0);
}

/* ---- stop and free --------------------------------------------------------- */

/* the open descriptors, as a sorted list in `out` */
static size_t fds(int *out, size_t cap)
{
	DIR *dir = opendir("/proc/self/fd");
	assert_non_null(dir);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(dir))
			continue;
		assert_true(n < cap);
		int v = atoi(e->d_name), j = (int)n++;
		for (; j > 0 && out[j - 1] > v; j--)
			out[j] = out[j - 1];
		out[j] = v;
	}
	closedir(dir);
	return n;
}

static void stop_and_free_release_every_descriptor_and_child(void **st)
{
	(void)st;
	int before[256], after[256];
	size_t nb = fds(before, 256);
	for (int round = 0; round < 3; round++) {
		rig_up(&(struct opts){ .role = "backup", .notify = true, .paths = 2 });
		start();
		heartbeat(1, 0, 0);
		send_ctx(PEER_CTX, 0, 0);
		run_to(clk + 200 * MS);
		assert_int_equal(ctr("replicas"), 1);
		peer_stop(&R.d);
		assert_int_equal(ctr("notify_timeouts"), 0);
		assert_int_equal(ctr("notify_failed"), 0);
		rig_down_peer();
		assert_int_equal(peer_fd(&R.d), -1);
		/* a freed peer is off: no heartbeat, no counters */
		unsigned n = R.nin;
		peer_tick(&R.d, clk + 1000 * MS);
		collect();
		assert_int_equal(R.nin, n);
		struct find f = { "hb_tx", 0, false };
		peer_counters(&R.d, put_one, &f);
		assert_false(f.found);
		teardown(NULL);
		assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
		assert_int_equal(errno, ECHILD);
		size_t na = fds(after, 256);
		assert_int_equal(na, nb);
		assert_memory_equal(after, before, nb * sizeof before[0]);
	}
}

int main(void)
{
	log_setup("test_peer_io", false, "daemon", getenv("PEER_IO_DEBUG") ? PSHIM6_LOG_DEBUG : PSHIM6_LOG_ERR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(heartbeats_go_out_every_interval_on_every_path_with_rising_numbers, teardown),
		cmocka_unit_test_teardown(backup_takes_over_dead_ms_after_the_last_heartbeat_not_before, teardown),
		cmocka_unit_test_teardown(one_silent_path_is_no_takeover_silence_on_all_is, teardown),
		cmocka_unit_test_teardown(notify_hook_is_told_each_role_change_in_order, teardown),
		cmocka_unit_test_teardown(primary_sends_a_paced_full_sync_then_each_change, teardown),
		cmocka_unit_test_teardown(backup_replica_follows_updates_deletions_and_a_whole_sync, teardown),
		cmocka_unit_test_teardown(replica_table_is_bounded_and_refusals_are_counted, teardown),
		cmocka_unit_test_teardown(context_on_an_isp_we_lack_is_counted_and_not_kept, teardown),
		cmocka_unit_test_teardown(imports_go_out_paced_and_a_full_queue_becomes_a_full_sync, teardown),
		cmocka_unit_test_teardown(
			returning_primary_gets_a_full_sync_and_the_backup_yields_only_after_it_is_imported, teardown),
		cmocka_unit_test_teardown(datagrams_from_other_addresses_or_ports_are_dropped, teardown),
		cmocka_unit_test_teardown(a_reloaded_peer_address_applies_at_once, teardown),
		cmocka_unit_test_teardown(truncated_or_corrupted_datagrams_are_dropped_and_counted, teardown),
		cmocka_unit_test_teardown(replayed_messages_are_dropped_and_do_not_delay_a_takeover, teardown),
		cmocka_unit_test_teardown(heartbeats_not_echoing_this_run_keep_nothing_alive, teardown),
		cmocka_unit_test_teardown(standing_by_backup_drops_punts_until_a_late_primary_and_a_replica_s_packet,
					  teardown),
		cmocka_unit_test_teardown(a_replica_s_payload_packet_takes_over_and_a_truncated_one_is_not_reinjected,
					  teardown),
		cmocka_unit_test_teardown(a_primary_lets_every_punt_through, teardown),
		cmocka_unit_test_teardown(without_a_peer_section_every_punt_goes_on_and_nothing_is_counted, teardown),
		cmocka_unit_test_teardown(the_gate_opens_at_the_takeover_and_shuts_at_the_yield, teardown),
		cmocka_unit_test_teardown(active_proxy_sends_each_lease_change_as_the_hook_s_line_marked_live, teardown),
		cmocka_unit_test_teardown(a_full_sync_sends_the_leases_before_the_contexts, teardown),
		cmocka_unit_test_teardown(standing_by_proxy_applies_leases_and_refuses_bad_ones_unapplied, teardown),
		cmocka_unit_test_teardown(a_whole_full_sync_removes_the_leases_it_did_not_carry, teardown),
		cmocka_unit_test_teardown(a_sync_not_received_whole_removes_no_lease, teardown),
		cmocka_unit_test_teardown(a_release_lost_on_the_way_is_repaired_by_the_next_full_sync, teardown),
		cmocka_unit_test_teardown(refused_leases_are_logged_the_1st_2nd_4th_time, teardown),
		cmocka_unit_test_teardown(a_standing_by_proxy_forwards_its_own_lease_changes_to_the_active_one, teardown),
		cmocka_unit_test_teardown(with_replication_off_own_leases_are_not_forwarded, teardown),
		cmocka_unit_test_teardown(an_active_proxy_applies_a_forwarded_lease_and_sends_nothing_back, teardown),
		cmocka_unit_test_teardown(a_forwarded_lease_follows_the_other_proxy_s_table_after_a_role_change,
					  teardown),
		cmocka_unit_test_teardown(own_leases_a_whole_sync_lacked_are_forwarded_again_bounded, teardown),
		cmocka_unit_test_teardown(a_lost_release_goes_again_while_full_syncs_carry_the_lease_back, teardown),
		cmocka_unit_test_teardown(a_release_record_ends_when_the_lease_is_given_again, teardown),
		cmocka_unit_test_teardown(a_live_add_between_sync_begin_and_end_ends_the_release_record_and_is_kept,
					  teardown),
		cmocka_unit_test_teardown(a_live_add_after_a_lost_sync_end_ends_the_release_record_and_is_kept,
					  teardown),
		cmocka_unit_test_teardown(a_sync_whose_begin_was_lost_holds_a_released_lease_back_and_sweeps_nothing,
					  teardown),
		cmocka_unit_test_teardown(an_unmarked_line_is_a_sync_item_only_between_sync_begin_and_end, teardown),
		cmocka_unit_test_teardown(releases_sent_again_are_bounded_per_sync_and_per_release, teardown),
		cmocka_unit_test_teardown(release_records_are_bounded_and_the_oldest_goes, teardown),
		cmocka_unit_test_teardown(becoming_active_forgets_the_release_records, teardown),
		cmocka_unit_test_teardown(
			a_stale_re_forward_of_a_lease_our_server_released_is_refused_and_the_release_goes_again, teardown),
		cmocka_unit_test_teardown(a_forward_of_a_new_event_or_without_an_id_after_our_release_is_applied, teardown),
		cmocka_unit_test_teardown(a_record_of_ours_ends_with_a_forwarded_release_or_our_server_s_add, teardown),
		cmocka_unit_test_teardown(releases_sent_again_for_stale_forwards_stop_after_3, teardown),
		cmocka_unit_test_teardown(records_of_our_releases_are_bounded_and_the_oldest_goes, teardown),
		cmocka_unit_test_teardown(leaving_active_forgets_the_records_of_our_releases, teardown),
		cmocka_unit_test_teardown(a_forward_whose_id_is_no_id_is_refused, teardown),
		cmocka_unit_test_teardown(a_re_forward_carries_its_event_s_id_and_a_renew_is_a_new_event, teardown),
		cmocka_unit_test_teardown(an_active_proxy_s_own_lease_has_an_id_its_lines_carry_and_a_renew_keeps, teardown),
		cmocka_unit_test_teardown(
			after_a_swap_the_re_forward_of_a_lease_given_while_the_other_was_active_is_refused, teardown),
		cmocka_unit_test_teardown(each_path_sends_from_its_configured_source, teardown),
		cmocka_unit_test_teardown(a_source_this_host_lacks_is_warned_about_and_its_sends_fail, teardown),
		cmocka_unit_test_teardown(stop_and_free_release_every_descriptor_and_child, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
