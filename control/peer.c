/* The primary/backup glue (peer.h): one UDP socket, heartbeats, context
 * replication out of the engine, the replica table, and the actions of
 * peer_fsm.c run against the engine and the dataplane. */
#include "peer.h"
#include "reload_keep.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/rand.h>
#include "shim6/engine.h"
#include "daemon.h"
#include "json.h"
#include "log.h"
#include "peer_fsm.h"
#include "peer_linger.h"
#include "peer_msg.h"
#include "peer_notify.h"
#include "peer_paths.h"
#include "peer_sync.h"
#include "peer_table.h"
#include "proxy.h"
#include "state.h"

#define MS UINT64_C(1000000)
_Static_assert(PEER_PATHS_MAX == PSHIM6_CONF_MAX_PEER_PATHS, "one path per address of the other proxy");

/*
 * A release our own DHCP server made while another proxy was ACTIVE: its
 * forward is one datagram, and when it is lost the ACTIVE proxy keeps the
 * lease and its full syncs carry it back here for good.  So it is kept
 * until a whole full sync no longer carries the lease (see tomb_check).
 * 256 is the default peer.sync_batch, the re-sends a sync may carry: at the
 * default all of them go again in one sync.  A record only has to last
 * from a release to the next whole sync, so 256 releases by one DHCP
 * server in one sync interval is far above any site's churn; past it the
 * oldest goes (counted), and a sync carrying its lease is applied again.
 */
#define LEASE_TOMBS 256
/* Re-sends per release: each goes in a different full sync, so with the
 * lease still carried after that many the ACTIVE proxy holds it for a
 * reason other than a lost datagram (its own server gave it again, or it
 * refuses the release), and this proxy follows its table as usual. */
#define LEASE_TOMB_RESENDS 3

/*
 * The mirror of a release record, ACTIVE: a lease of the standing-by
 * proxy's (forwarded by it, or given while it was ACTIVE itself) that our own
 * DHCP server released.  Our release to it is one datagram; when it is lost,
 * the standing-by proxy still holds the lease as its own, our next whole
 * sync lacks it, and it forwards the lease again (lease_reforward), which
 * would undo the release.  Each event of either proxy's hook has a random id
 * that every line of the lease carries ("fwd"), so a repeat of the event we
 * released after is told from a new one.  A release of a lease whose event
 * was ours needs no record: the other proxy holds it as ours.  A record
 * needs no age limit: all it does is refuse a forward carrying its id,
 * which only a stale repeat (or a duplicated datagram) carries; a new event
 * there has a new id and ends it.  Nothing confirms that a release
 * arrived (the standing-by proxy just drops the lease), so most records
 * end as the oldest, pushed out by new ones: counted, not logged.  A
 * record is needed only until the re-forward after our next whole sync,
 * and 256 releases of forwarded leases by our own server in that time is
 * far above any site's churn, as for LEASE_TOMBS; past it the repeat of a
 * forgotten record's event is applied, as before records.
 */
#define LEASE_RELS 256
/* Releases sent again per record: each answers a re-forward, which comes
 * once per whole sync at most; a standing-by proxy still sending the lease
 * after that many is not missing a datagram, and its forward is applied. */
#define LEASE_REL_RESENDS 3

_Static_assert(LEASE_RELS == LEASE_TOMBS, "both kinds of record are kept in a struct lease_recs");

/* A release record of either kind: standing by (born, seen, sent) or ACTIVE (fwd). */
struct lease_rec {
	struct in6_addr cmula;
	uint64_t at_ns;           /* the release */
	uint32_t resent;          /* releases sent again for it */
	uint32_t born;            /* full syncs begun then (rx.gen): only a later one can confirm it */
	uint32_t seen;            /* the last sync (its rx.gen) that carried the lease anyway */
	uint32_t sent;            /* the last sync after which the release went again */
	uint32_t fwd;             /* the forwarded event it came after */
};

/* Records oldest first, at most one per lease. */
struct lease_recs {
	struct lease_rec r[LEASE_TOMBS];
	uint32_t n;
};

static struct {
	bool on;
	int fd;
	int rcvbuf;                       /* SO_RCVBUF as the kernel counts it */
	int role;
	uint8_t key[PEER_KEY_MAX];
	size_t keylen;
	struct sockaddr_in6 to;           /* port, family; the address is the path's */
	struct peer_paths paths;          /* one per address of the other proxy */
	struct in6_addr src[PEER_PATHS_MAX];  /* peer.sources per path; :: = the kernel picks */
	uint64_t src_fail_log_ns[PEER_PATHS_MAX];  /* a refused source is logged once a minute */
	unsigned sync_path;               /* where other messages went last */
	int sync_tx_path;                 /* the path of every message of the sync being sent, or -1 */
	int epoch_tx_path;                /* the same for epoch_tx's sync */
	uint32_t epoch_blamed;            /* the last sync found unreceived (one verdict per sync) */
	bool sync_judged;                 /* whether the last sync sent whole may be judged
	                                     unreceived: the other proxy was heard throughout and
	                                     never said ACTIVE (it ignores syncs then) since the
	                                     sync started, and no newer one has started */
	uint64_t unreceived_log_ns, unreceived_unlogged;  /* verdicts with nowhere to go: rate limited */
	uint32_t batch_eff;               /* sync messages per tick in use (peer_sync_batch_adapt); 0: the configured */
	uint32_t epoch_acked;             /* our last sync the other proxy reported received whole */
	uint64_t sync_path_changes;
	uint64_t hb_ns, dead_ns, sync_ns;
	struct peer_fsm fsm;
	struct peer_table tab;
	uint64_t session, seq;            /* ours */
	uint64_t peer_session;            /* the other proxy's run, as last authenticated
	                                     (its numbering: S.paths) */
	int peer_state;                   /* from its last confirmed heartbeat, 0 unknown */
	bool peer_alive;
	uint64_t last_hb_ns;              /* last confirmed heartbeat */
	uint64_t next_hb_ns, next_sync_ns, last_sync_tx_ns;
	uint32_t epoch_alloc;             /* our last full sync started */
	uint32_t epoch_tx;                /* our last full sync sent whole (END out) */
	uint32_t epoch_base;              /* our first full sync since the last takeover */
	/* sending a full sync: the snapshot it walks, leases then context tags */
	struct peer_sync_tx tx;
	struct in6_addr *snap_leases;
	uint64_t *snap_tags;
	uint32_t snap_nleases, snap_leases_cap, snap_tags_cap;
	struct peer_sync_rx rx;           /* receiving them */
	uint32_t fwd_pos;                 /* lease slot the next re-forward looks at first */
	/* standing by: our own releases the ACTIVE proxy may have missed, oldest first */
	struct lease_recs tombs;
	/* ACTIVE: our own releases of leases the standing-by proxy forwarded, oldest first */
	struct lease_recs rels;
	/* contexts imported from the dataplane's dump, going out as CTX
	 * updates at the full sync's pace (bound: engine.max_contexts) */
	struct peer_updq updq;
	/* after a yield: tags left installed in our dataplane until routing
	 * has moved back to the primary (peer.yield_linger_ms), then deleted */
	struct peer_linger linger;
	struct peer_notify notify;
	struct peer_stats st;
} S = { .fd = -1 };

static const char *role_name(int r) { return r == PEER_ROLE_PRIMARY ? "primary" : "backup"; }

static void check_notify(const char *path)
{
	if (!path[0])
		return;
	if (path[0] != '/')
		log_warn("peer.notify %s: not an absolute path; it is run as given, from the daemon's directory", path);
	else if (access(path, X_OK))
		log_warn("peer.notify %s: %s; each role change will fail to run it", path, strerror(errno));
	else
		log_info("peer.notify %s: run on every role change", path);
}

/* The hook's path and timeout as the config in force gives them: the
 * timeout first, so a new path's first run already has it. */
static void notify_follow_conf(const struct pshim6_conf_peer_proxy *c, uint64_t now)
{
	peer_notify_set_timeout(&S.notify, (uint64_t)c->notify_timeout_ms * MS);
	peer_notify_set_path(&S.notify, c->notify, now);
}

/* The other proxy sends `batch` sync messages per tick: say when they would not fit our socket. */
static void check_batch(uint32_t batch)
{
	if (!peer_sync_batch_fits(batch, S.rcvbuf))
		log_warn("peer.sync_batch %u: a tick's burst (about %u octets as the kernel counts it) exceeds the "
			 "receive buffer of %d octets; full syncs may arrive incomplete and be repeated. Lower "
			 "sync_batch to %d or less, or raise net.core.rmem_max", batch,
			 (unsigned)(batch * PEER_SYNC_TRUESIZE), S.rcvbuf, S.rcvbuf / PEER_SYNC_TRUESIZE);
}

static int load_key(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_err("peer.key_file %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat sb;
	if (fstat(fd, &sb) == 0 && (sb.st_mode & 0077))
		log_warn("peer.key_file %s is readable by group or others", path);
	uint8_t buf[PEER_KEY_MAX + 1];
	ssize_t n = read(fd, buf, sizeof buf);
	close(fd);
	if (n < PEER_KEY_MIN || n > PEER_KEY_MAX) {
		log_err("peer.key_file %s: %zd octets; the key is the file's octets, %d to %d of them", path, n,
			PEER_KEY_MIN, PEER_KEY_MAX);
		return -1;
	}
	memcpy(S.key, buf, (size_t)n);
	S.keylen = (size_t)n;
	return 0;
}

/* Path 0 is peer.address, the others are peer.alt_addresses, as the
 * config has them now, without an address twice.  `srcs` gets each path's peer.sources entry
 * (:: when none is configured). */
static unsigned path_list(const struct in6_addr *first, const struct pshim6_conf_peer_proxy *c,
			  struct in6_addr *addrs, struct in6_addr *srcs)
{
	unsigned n = 1;
	for (unsigned i = 0; i < PEER_PATHS_MAX; i++)
		srcs[i] = in6addr_any;
	addrs[0] = *first;
	if (c->n_sources)
		srcs[0] = c->sources[0];
	for (unsigned i = 0; i < c->n_alt_addresses && n < PEER_PATHS_MAX; i++) {
		bool twice = false;
		for (unsigned j = 0; j < n; j++)
			twice = twice || !memcmp(&addrs[j], &c->alt_addresses[i], sizeof addrs[j]);
		if (twice)
			continue;
		if (c->n_sources > i + 1)
			srcs[n] = c->sources[i + 1];
		addrs[n++] = c->alt_addresses[i];
	}
	return n;
}

#define PATHS_STR (PEER_PATHS_MAX * (INET6_ADDRSTRLEN + 4) + 20)
/* " (other paths: a, b)", or "" with one path */
static void paths_str(char *buf)
{
	char ab[INET6_ADDRSTRLEN];
	buf[0] = 0;
	for (unsigned i = 1; i < S.paths.n; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, PATHS_STR - l, "%s%s", i == 1 ? " (other paths: " : ", ",
			 inet_ntop(AF_INET6, &S.paths.p[i].addr, ab, sizeof ab));
	}
	if (S.paths.n > 1)
		strcat(buf, ")");
}

/* peer.sources as the kernel will take them: binding to each says whether
 * it is an address of this host now (a deprecated one still is), which the
 * config check cannot know.  Said at start and when the sources change;
 * the sends themselves are not held back. */
static void sources_check(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (IN6_IS_ADDR_UNSPECIFIED(&S.src[i]))
			continue;
		int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = S.src[i] };
		if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
			char sa[INET6_ADDRSTRLEN];
			log_warn("peer: peer.sources: %s (path %u) is not an address of this host now (%s): that path's "
				 "sends will fail", inet_ntop(AF_INET6, &S.src[i], sa, sizeof sa), i, strerror(errno));
		}
		if (fd >= 0)
			close(fd);
	}
}

/* peer.address and peer.alt_addresses are read here, so a reload that
 * changes them applies: renumbering the other proxy or adding a link needs
 * no restart (a restart of the ACTIVE proxy would move the site).  Paths
 * whose address stays keep their state (peer_paths_set), wherever they are
 * in the new list. */
static void paths_follow_conf(const struct pshim6_conf_peer_proxy *c, uint64_t now)
{
	struct in6_addr addrs[PEER_PATHS_MAX], srcs[PEER_PATHS_MAX];
	unsigned n = path_list(&c->address, c, addrs, srcs);
	if (memcmp(S.src, srcs, n * sizeof srcs[0])) {
		memcpy(S.src, srcs, sizeof S.src);
		memset(S.src_fail_log_ns, 0, sizeof S.src_fail_log_ns);
		log_notice("peer: %s", c->n_sources ? "sources per path changed" : "the kernel now picks each path's source");
		sources_check(n);
	}
	if (peer_paths_same(&S.paths, addrs, n))
		return;
	peer_paths_set(&S.paths, addrs, n, now);
	char ab[INET6_ADDRSTRLEN], paths[PATHS_STR];
	paths_str(paths);
	log_notice("peer: paths to the other proxy now [%s]%s", inet_ntop(AF_INET6, &addrs[0], ab, sizeof ab),
		   n > 1 ? paths : " only");
}

int peer_init(struct daemon *d)
{
	const struct pshim6_conf_peer_proxy *c = &d->conf->peer;
	if (c->role == PSHIM6_PEER_NONE)
		return 0;
	S.role = c->role == PSHIM6_PEER_PRIMARY ? PEER_ROLE_PRIMARY : PEER_ROLE_BACKUP;
	if (load_key(c->key_file))
		return -1;
	if (RAND_bytes((unsigned char *)&S.session, sizeof S.session) != 1 || !S.session)
		return -1;
	uint32_t cap = d->conf->engine.max_contexts ? d->conf->engine.max_contexts : 1;
	S.snap_tags_cap = cap;
	S.snap_leases_cap = d->tables.leases.cap;
	S.snap_tags = calloc(cap, sizeof *S.snap_tags);
	S.snap_leases = calloc(S.snap_leases_cap ? S.snap_leases_cap : 1, sizeof *S.snap_leases);
	if (!S.snap_tags || !S.snap_leases || peer_linger_init(&S.linger, cap) || peer_table_init(&S.tab, cap) ||
	    peer_updq_init(&S.updq, cap)) {
		log_err("peer: out of memory for %u replicas", d->conf->engine.max_contexts);
		peer_free(d);
		return -1;
	}
	S.fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(c->port), .sin6_addr = in6addr_any };
	int buf = 4 << 20;
	if (S.fd >= 0) {
		setsockopt(S.fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
		/* a full sync batch must fit the receiving buffer; FORCE needs
		 * CAP_NET_ADMIN, else rmem_max caps the plain request */
		if (setsockopt(S.fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf))
			setsockopt(S.fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	}
	if (S.fd < 0 || bind(S.fd, (struct sockaddr *)&a, sizeof a)) {
		log_err("peer: UDP port %u: %s", c->port, strerror(errno));
		peer_free(d);
		return -1;
	}
	S.to = a;
	S.to.sin6_addr = c->address;
	S.hb_ns = c->heartbeat_ms * MS;
	S.dead_ns = c->dead_ms * MS;
	S.sync_ns = c->sync_interval_ms * MS;
	uint64_t now = now_ns();
	struct in6_addr addrs[PEER_PATHS_MAX];
	unsigned np = path_list(&c->address, c, addrs, S.src);
	sources_check(np);
	peer_paths_init(&S.paths, addrs, np, S.hb_ns, now);
	peer_fsm_init(&S.fsm, S.role, S.dead_ns, now);
	S.last_hb_ns = now;
	S.next_hb_ns = now;
	S.sync_tx_path = S.epoch_tx_path = -1;
	S.on = true;
	int rcv = 0;
	socklen_t rl = sizeof rcv;
	getsockopt(S.fd, SOL_SOCKET, SO_RCVBUF, &rcv, &rl);
	S.rcvbuf = rcv;
	char ab[INET6_ADDRSTRLEN], paths[PATHS_STR];
	paths_str(paths);
	log_notice("peer: %s, other proxy [%s]:%u%s, heartbeat %u ms, dead %u ms, full sync every %u ms in batches "
		   "of %u per %u ms (receive buffer %d octets)%s; yield linger %u ms; %s",
		   role_name(S.role), inet_ntop(AF_INET6, &c->address, ab, sizeof ab), c->port, paths, c->heartbeat_ms,
		   c->dead_ms, c->sync_interval_ms, c->sync_batch, (unsigned)(PEER_SYNC_TICK_NS / MS), rcv,
		   c->replicate ? "" : ", replication off", c->yield_linger_ms, peer_state_name(S.fsm.state));
	peer_notify_init(&S.notify, &peer_notify_ops_real, role_name(S.role), peer_state_name(S.fsm.state));
	check_notify(c->notify);
	check_batch(c->sync_batch);
	notify_follow_conf(c, now);
	return 0;
}

void peer_conf_reload_check(const struct pshim6_conf_peer_proxy *old, const struct pshim6_conf_peer_proxy *new)
{
	/* the reloadable keys take effect at once: say now if they are wrong */
	if (S.on && strcmp(old->notify, new->notify))
		check_notify(new->notify);
	if (S.on && old->sync_batch != new->sync_batch)
		check_batch(new->sync_batch);
}

void peer_stop(struct daemon *d)
{
	if (!S.on)
		return;
	/* a reload may have just changed the path or the timeout */
	notify_follow_conf(&d->conf->peer, now_ns());
	if (!S.notify.path[0])
		return;
	uint64_t t0 = now_ns();
	log_notice("peer: stopping as the %s (%s); telling %s", role_name(S.role), peer_state_name(S.fsm.state),
		   S.notify.path);
	int rc = peer_notify_stop(&S.notify);
	log_info("peer: notify at stop: %s after %" PRIu64 " ms", rc ? "given up" : "done", (now_ns() - t0) / MS);
}

void peer_free(struct daemon *d)
{
	(void)d;
	if (S.fd >= 0)
		close(S.fd);
	peer_table_free(&S.tab);
	peer_linger_free(&S.linger);
	peer_updq_free(&S.updq);
	free(S.snap_tags);
	free(S.snap_leases);
	/* peer_stop waited for the notify runs (bounded); on other paths a
	 * run still in flight is left to finish on its own */
	memset(&S, 0, sizeof S);
	S.fd = -1;
}

int peer_fd(const struct daemon *d)
{
	(void)d;
	return S.on ? S.fd : -1;
}

static int encode(struct peer_msg *m, uint8_t *buf, size_t cap)
{
	m->role = (uint8_t)S.role;
	m->state = (uint8_t)S.fsm.state;
	m->session = S.session;
	m->echo = S.peer_session;
	m->seq = ++S.seq;
	return peer_msg_encode(m, S.key, S.keylen, buf, cap);
}

/* What a source this host lacks makes the send fail with (Linux 6.x): a
 * native IPv6 one EINVAL, an IPv4-mapped one ENETUNREACH even with an IPv4
 * route to the destination, so the strerror alone points at routing (a
 * missing IPv4 route gives that error too, hence the hint's "or");
 * EADDRNOTAVAIL is what bind says (sources_check). */
static const char *src_hint(unsigned path, int err)
{
	if (err == EINVAL || err == EADDRNOTAVAIL)
		return " (peer.sources: not an address of this host?)";
	if (err == ENETUNREACH && IN6_IS_ADDR_V4MAPPED(&S.src[path]))
		return " (peer.sources: not an address of this host, or no IPv4 route?)";
	return "";
}

/* With peer.sources, the path's own source rides along as IPV6_PKTINFO: the
 * kernel then sends from it (routing still picks the link), or refuses an
 * address this host does not have. */
static bool send_path(unsigned path, const uint8_t *buf, int n)
{
	struct sockaddr_in6 to = S.to;
	to.sin6_addr = S.paths.p[path].addr;
	if (IN6_IS_ADDR_UNSPECIFIED(&S.src[path]))
		return sendto(S.fd, buf, (size_t)n, 0, (struct sockaddr *)&to, sizeof to) == n;
	union {
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cb;
	memset(&cb, 0, sizeof cb);
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = (size_t)n };
	struct msghdr mh = { .msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cb.b, .msg_controllen = sizeof cb.b };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = IPPROTO_IPV6;
	cm->cmsg_type = IPV6_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
	struct in6_pktinfo pi = { .ipi6_addr = S.src[path], .ipi6_ifindex = 0 };
	memcpy(CMSG_DATA(cm), &pi, sizeof pi);
	if (sendmsg(S.fd, &mh, 0) == n)
		return true;
	uint64_t now = now_ns();
	if (!S.src_fail_log_ns[path] || now - S.src_fail_log_ns[path] >= 60000 * MS) {
		char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
		log_warn("peer: path %u: sending from %s to %s: %s%s", path, inet_ntop(AF_INET6, &S.src[path], sa, sizeof sa),
			 inet_ntop(AF_INET6, &to.sin6_addr, da, sizeof da), strerror(errno), src_hint(path, errno));
		S.src_fail_log_ns[path] = now ? now : 1;
	}
	return false;
}

/* Everything but heartbeats: one copy, over the path the other proxy was
 * last heard on (the first configured one while it is heard). */
static int send_msg(struct peer_msg *m)
{
	static uint8_t buf[PEER_MSG_MAX];
	int n = encode(m, buf, sizeof buf);
	unsigned path = peer_paths_sync(&S.paths);
	if (S.tx.on && (int)path != S.sync_tx_path)
		S.sync_tx_path = -1;     /* the sync is spread over paths: no verdict on one */
	if (n < 0 || !send_path(path, buf, n)) {
		S.st.tx_failed++;
		return -1;
	}
	S.paths.p[path].st.tx++;
	S.st.tx++;
	return 0;
}

static uint32_t hb_contexts;
static void send_hb(void)
{
	struct peer_msg m = { .type = PEER_HEARTBEAT };
	m.u.hb.contexts = S.fsm.state == PEER_ST_ACTIVE ? hb_contexts : S.tab.n;
	m.u.hb.epoch_rx = S.rx.done;
	m.u.hb.epoch_tx = S.epoch_tx;
	/* the same datagram, same number, over every path: the receiver takes
	 * the first copy and counts the others as duplicates (peer_paths.h) */
	static uint8_t buf[PEER_MSG_MAX];
	int n = encode(&m, buf, sizeof buf), sent = 0;
	for (unsigned i = 0; n > 0 && i < S.paths.n; i++) {
		if (send_path(i, buf, n)) {
			S.paths.p[i].st.hb_tx++;
			S.st.tx++;
			sent++;
		} else {
			S.paths.p[i].st.hb_tx_failed++;
		}
	}
	if (sent)
		S.st.hb_tx++;
	else
		S.st.tx_failed++;
}

static bool replicating(const struct daemon *d)
{
	return S.on && S.fsm.state == PEER_ST_ACTIVE && d->conf->peer.replicate && S.peer_alive;
}

/* The other way, for leases only: with Kea HA load balancing both proxies'
 * DHCP servers give leases, and the ACTIVE proxy must hold the CGA
 * parameters of every host whose contexts it verifies and builds. */
static bool forwarding(const struct daemon *d)
{
	return S.on && S.fsm.state == PEER_ST_STANDBY && d->conf->peer.replicate && S.peer_alive;
}

/* ---- sending contexts ----------------------------------------------------- */

static int fill_ctx(struct daemon *d, struct shim6_engine *eng, const struct shim6_ctx_info *ci, struct peer_ctx *pc)
{
	struct ctl_ctx *x = ctxtab_find(&d->ctxs, ci->id);
	if (!x || ci->state != SHIM6_ST_ESTABLISHED)
		return -1;
	memset(pc, 0, sizeof *pc);
	memcpy(pc->local_ulid, x->d.local_ulid, 16);
	memcpy(pc->peer_ulid, x->d.remote_ulid, 16);
	memcpy(pc->local_loc, x->d.local_loc, 16);
	memcpy(pc->peer_loc, x->d.remote_loc, 16);
	pc->own_tag = x->d.own_tag;
	pc->peer_tag = x->d.peer_tag;
	pc->forkid = x->d.fii;
	pc->isp = x->d.isp;
	pc->flags = (uint8_t)x->d.flags;
	struct ctl_state_ctx *s = &pc->st;
	s->own_tag = x->d.own_tag;
	shim6_engine_ctx_generations(eng, ci->id, &s->local_gen, &s->peer_gen);
	s->initiator = ci->initiator ? 1 : 0;
	s->npeer = ci->npeer < SHIM6_MAX_LOCATORS ? ci->npeer : SHIM6_MAX_LOCATORS;
	for (size_t i = 0; i < s->npeer; i++) {
		s->peer_locs[i] = ci->peer_locs[i];
		/* as state.c: a list under a known generation passed verification */
		s->verified[i] = s->peer_gen != 0 || ci->peer_usable[i];
	}
	return 0;
}

static int send_ctx(struct daemon *d, struct shim6_engine *eng, const struct shim6_ctx_info *ci)
{
	struct peer_msg m = { .type = PEER_CTX };
	if (fill_ctx(d, eng, ci, &m.u.ctx))
		return -1;
	if (send_msg(&m))
		return -1;
	S.st.ctx_tx++;
	return 0;
}

static int send_sync(uint8_t type, uint32_t epoch, uint32_t count)
{
	struct peer_msg m = { .type = type };
	m.u.sync.epoch = epoch;
	m.u.sync.count = count;
	return send_msg(&m);
}

void peer_ctx_changed(struct daemon *d, uint64_t own_tag)
{
	struct shim6_engine *eng = proxy_engine();
	struct shim6_ctx_info ci;
	if (!replicating(d) || !eng || shim6_engine_ctx_info(eng, own_tag, &ci))
		return;
	send_ctx(d, eng, &ci);
}

void peer_ctx_removed(struct daemon *d, uint64_t own_tag)
{
	if (!replicating(d))
		return;
	struct peer_msg m = { .type = PEER_CTX_DEL };
	m.u.del_tag = own_tag & DPMSG_TAG_MASK;
	if (send_msg(&m) == 0)
		S.st.del_tx++;
}

/* A queued import's turn: sent as it is now, as peer_ctx_changed would. */
static enum peer_sync_item upd_send(void *arg, uint64_t tag)
{
	struct daemon *d = arg;
	struct shim6_engine *eng = proxy_engine();
	struct shim6_ctx_info ci;
	if (!eng || shim6_engine_ctx_info(eng, tag, &ci) || !ctxtab_find(&d->ctxs, ci.id) ||
	    ci.state != SHIM6_ST_ESTABLISHED)
		return PEER_SYNC_GONE;       /* its deletion (if any) went out when it happened */
	return send_ctx(d, eng, &ci) ? PEER_SYNC_FAILED : PEER_SYNC_SENT_CTX;
}

static void sync_start(struct daemon *d, uint64_t now);

void peer_ctx_imported(struct daemon *d, uint64_t own_tag)
{
	/* not replicating: the full sync that starts when replication does
	 * (activation, the other proxy appearing) carries it */
	if (!replicating(d))
		return;
	if (peer_updq_push(&S.updq, own_tag) == 0)
		return;
	/* full: one full sync carries this one and everything queued; a sync
	 * under way is superseded, its snapshot predates this import */
	log_info("peer: %u imported contexts waiting to be sent; a full sync replaces them", S.updq.n);
	sync_start(d, now_ns());
}

/*
 * A lease as the DHCP hook would send it: the backup applies it through
 * the same checks (tables_lease), so a host's CGA parameters are there
 * when its contexts are taken over.  The ACTIVE proxy adds "sync": the
 * epoch of the full sync that carries the line, 0 for a change its own
 * hook made.  Whether a line is its table or its server's news decides
 * what a release record does with it (tomb_check), and SYNC_BEGIN and
 * SYNC_END, one datagram each, cannot say that when one is lost.  A
 * forward from the standing-by proxy carries no mark: the ACTIVE one
 * takes each the same.  tables_lease and the control socket ignore the
 * member, and a proxy that predates it sends none (see lease_kind).  An
 * add also carries "fwd", the id of the hook event the lease came from
 * (fwd_id, non-zero), whichever proxy's hook it was and also when it goes
 * again: an ACTIVE proxy tells a repeat of an event it has released since
 * from a new event (LEASE_RELS), and a standing-by one keeps the ACTIVE
 * proxy's ids so that it can do the same once the roles swap.  Both ignore
 * that member too.
 */
#define LEASE_UNMARKED (-1)
static int lease_line(const struct in6_addr *cmula, const struct lease_entry *l, int64_t mark, uint32_t fwd,
		      char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN], m[48] = "";
	inet_ntop(AF_INET6, cmula, a, sizeof a);
	if (mark >= 0)
		snprintf(m, sizeof m, ",\"sync\":%" PRId64, mark);
	if (l && fwd)
		snprintf(m + strlen(m), sizeof m - strlen(m), ",\"fwd\":%" PRIu32, fwd);
	if (!l)
		return snprintf(buf, cap, "{\"cmd\":\"lease\",\"event\":\"release\",\"cmula\":\"%s\"%s}", a, m);
	int n = snprintf(buf, cap, "{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"%s\",\"mode\":\"%s\",\"iaid\":%u,\"pds\":\"",
			 a, l->mode == PSHIM6_ADDR_HBA ? "hba" : "cga", l->iaid);
	for (size_t i = 0; i < l->pds_len && n > 0 && (size_t)n + 3 < cap; i++)
		n += snprintf(buf + n, cap - (size_t)n, "%02x", l->pds[i]);
	if (n > 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, "\",\"duid\":\"");
	for (size_t i = 0; i < l->duid_len && n > 0 && (size_t)n + 3 < cap; i++)
		n += snprintf(buf + n, cap - (size_t)n, "%02x", l->duid[i]);
	if (n > 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, "\"%s}", m);
	return n > 0 && (size_t)n < cap ? n : -1;
}

/* The longest line lease_line writes: an add with the longest address text
 * (an IPv4-mapped one), a PDS and a DUID at their bounds, a ten-digit IAID,
 * mark and event id.  A longer one would fail to send every time, the
 * lease never reaching the other proxy. */
#define LEASE_LINE_LONGEST                                                                                     \
	(sizeof "{\"cmd\":\"lease\",\"event\":\"add\",\"cmula\":\"\",\"mode\":\"cga\",\"iaid\":,\"pds\":\"\",\"duid\":\"\",\"sync\":,\"fwd\":}" - \
	 1 + (INET6_ADDRSTRLEN - 1) + 10 + 2 * LEASE_PDS_MAX + LEASE_DUID_MAX + 10 + 10)
_Static_assert(sizeof ",\"sync\":4294967295,\"fwd\":4294967295" <= 48, "lease_line's m holds a mark and an id");
_Static_assert(LEASE_LINE_LONGEST <= PEER_LINE_MAX, "every lease line fits a LEASE message");
_Static_assert(LEASE_DUID_MAX == 2 * sizeof ((struct lease_entry *)0)->duid, "LEASE_DUID_MAX counts hex digits");

/* 0 sent, -1 not (counted in tx_failed); the caller counts what it sent */
static int send_lease(const struct in6_addr *cmula, const struct lease_entry *l, int64_t mark, uint32_t fwd)
{
	static struct peer_msg m;
	m.type = PEER_LEASE;
	int n = lease_line(cmula, l, mark, fwd, m.u.lease.text, sizeof m.u.lease.text);
	if (n <= 0 || n > PEER_LINE_MAX) {
		S.st.tx_failed++;
		return -1;
	}
	m.u.lease.len = (uint16_t)n;
	return send_msg(&m);
}

static int recs_find(const struct lease_recs *L, const struct in6_addr *a)
{
	for (uint32_t i = 0; i < L->n; i++)
		if (!memcmp(&L->r[i].cmula, a, sizeof *a))
			return (int)i;
	return -1;
}

static void recs_del(struct lease_recs *L, uint32_t i)
{
	memmove(&L->r[i], &L->r[i + 1], (L->n - i - 1) * sizeof L->r[0]);
	L->n--;
}

/* v as the newest record: one of its lease goes (released again, a fresh
 * record); a full list loses its oldest, and then true. */
static bool recs_put(struct lease_recs *L, const struct lease_rec *v)
{
	int i = recs_find(L, &v->cmula);
	bool evicted = false;
	if (i >= 0) {
		recs_del(L, (uint32_t)i);
	} else if (L->n == sizeof L->r / sizeof L->r[0]) {
		recs_del(L, 0);
		evicted = true;
	}
	L->r[L->n++] = *v;
	return evicted;
}

/* The record of the lease a LEASE line names, or -1; *gone: the line says
 * the lease is no more (a release or an expiry). */
static int recs_of_line(const struct lease_recs *L, const struct jobj *o, struct in6_addr *a, const char **cm,
			bool *gone)
{
	const char *ev = json_str(o, "event");
	*cm = json_str(o, "cmula");
	if (!L->n || !ev || !*cm || inet_pton(AF_INET6, *cm, a) != 1)
		return -1;
	*gone = !strcmp(ev, "release") || !strcmp(ev, "expire");
	return recs_find(L, a);
}

static void tomb_add(const struct in6_addr *a, uint64_t now)
{
	if (recs_put(&S.tombs, &(struct lease_rec){ .cmula = *a, .at_ns = now, .born = S.rx.gen })) {
		uint64_t n = ++S.st.lease_tomb_evicted;
		if (log_nth(n))
			log_info("peer: %u own lease releases not yet confirmed by a full sync: the oldest is "
				 "forgotten (%" PRIu64 " times)", LEASE_TOMBS, n);
	}
}

/* Becoming ACTIVE: no full sync comes here any more, and the other proxy,
 * standing by, follows our table, where the lease is not: a lease it holds
 * from us (forwarded, marked LEASE_GEN_OTHER there) goes at its first whole
 * full sync. */
static void tomb_clear(void)
{
	if (S.tombs.n)
		log_info("peer: %u own lease releases not confirmed by a full sync forgotten (now ACTIVE)", S.tombs.n);
	S.st.lease_tomb_expired += S.tombs.n;
	S.tombs.n = 0;
}

static void rel_add(const struct in6_addr *a, uint32_t fwd, uint64_t now)
{
	if (recs_put(&S.rels, &(struct lease_rec){ .cmula = *a, .at_ns = now, .fwd = fwd }))
		S.st.lease_rel_record_evicted++;
}

/* No longer ACTIVE: forwards come to the other proxy now, and the leases
 * its syncs do not carry are swept here (a lease forwarded to us is marked
 * the other proxy's, LEASE_GEN_OTHER), so nothing is left to refuse. */
static void rel_clear(void)
{
	if (S.rels.n)
		log_info("peer: %u records of own releases of forwarded leases forgotten (no longer ACTIVE)", S.rels.n);
	S.st.lease_rel_record_expired += S.rels.n;
	S.rels.n = 0;
}

/* A non-zero random id for a hook event of ours; 0 when no randomness is
 * to be had: the forward then goes without one, taken as from a proxy
 * that predates ids, as before. */
static uint32_t fwd_id_new(void)
{
	uint32_t id = 0;
	for (int i = 0; i < 4 && !id; i++)
		if (RAND_bytes((unsigned char *)&id, sizeof id) != 1)
			return 0;
	return id;
}

void peer_lease_changed(struct daemon *d, const char *cmula, uint32_t fwd_was)
{
	struct in6_addr a;
	if (!S.on || !cmula || inet_pton(AF_INET6, cmula, &a) != 1)
		return;
	struct lease_entry *l = addrtab_find(&d->tables.leases, &a);
	bool active = S.fsm.state == PEER_ST_ACTIVE;
	int t = recs_find(&S.tombs, &a);
	if (l && t >= 0) {
		recs_del(&S.tombs, (uint32_t)t);   /* given again: the new lease is the one to keep */
		S.st.lease_tomb_superseded++;
	} else if (!l && !active && d->conf->peer.replicate) {
		/* also while the other proxy is not heard: nothing is sent then,
		 * and its next full sync would carry the lease back just the same */
		tomb_add(&a, now_ns());
	}
	int r = recs_find(&S.rels, &a);
	if (l && r >= 0) {
		/* our server gave it again: a stale repeat of the old forward
		 * must not be answered with a release any more */
		recs_del(&S.rels, (uint32_t)r);
		S.st.lease_rel_record_superseded++;
	} else if (!l && active && fwd_was && d->conf->peer.replicate) {
		rel_add(&a, fwd_was, now_ns());
	}
	/* standing by, a new event of our server's, whether it goes now or is
	 * forwarded again after a whole sync that lacked it.  ACTIVE, a renew
	 * keeps the entry's id (tables.h): one the standing-by proxy forwarded
	 * still names the event our release would be recorded against, and one
	 * of ours is the id the other proxy holds if our renew's line is lost;
	 * a lease without one gets one, which our lines carry, so that were the
	 * roles to swap, our re-forward of it is told from news there. */
	if (l && (!active || !l->fwd_id)) {
		l->fwd_id = fwd_id_new();
		l->fwd_ours = true;
	}
	bool rep = replicating(d), fwd = !rep && forwarding(d);
	if (!rep && !fwd)
		return;
	if (send_lease(&a, l, rep ? 0 : LEASE_UNMARKED, l ? l->fwd_id : 0))
		return;
	if (rep)
		S.st.lease_tx++;
	else
		S.st.lease_fwd_tx++;
}

/*
 * The mark an ACTIVE proxy gives a lease the standing-by one forwarded: not
 * 0, which would make it this proxy's own for good.  Were the roles to swap,
 * this proxy would stand by and the lease would still be the other server's:
 * a release of it lost on the way must then be repaired by the sweep (which
 * spares 0), and the re-forward of own leases (which takes only 0) would
 * otherwise send a lease the other proxy released back to it.  1 says "from
 * the other proxy, carried by no sync received": it is what a lease received
 * standing by before any sync began gets too, and no sync's mark is ever 1
 * (gen + 1 >= 2), so the first whole sync after a swap keeps it only if it
 * carries it.  While ACTIVE nothing sweeps, and every full sync sent carries
 * it back to the proxy that gave it.
 */
#define LEASE_GEN_OTHER 1u

/* What a line of the ACTIVE proxy's is, to one standing by. */
enum lease_kind {
	LEASE_LIVE,        /* a change its own DHCP hook made */
	LEASE_SYNC,        /* an item of the full sync under way here */
	LEASE_SYNC_STRAY,  /* an item of a sync whose SYNC_BEGIN did not arrive */
};

/*
 * From the line's "sync" mark (lease_line), not from SYNC_BEGIN and
 * SYNC_END: either may be lost, and a live change made during a sync
 * arrives between them.  A stray item is still the ACTIVE proxy's table,
 * but of a sync that cannot be whole here (peer_sync_rx_end wants its
 * BEGIN), so it confirms nothing: only rx.gen names a sync this proxy can
 * judge, the sender's epoch does not (it restarts with the sender's run).
 * A line without the member comes from a proxy that predates it: what
 * SYNC_BEGIN and SYNC_END said is all there is.  -1: a mark that is no
 * epoch.
 */
static int lease_kind(const struct jobj *o, enum lease_kind *k)
{
	const struct jval *v = json_get(o, "sync");
	if (!v) {
		*k = S.rx.in_sync ? LEASE_SYNC : LEASE_LIVE;
		return 0;
	}
	if (v->t != J_NUM || v->n < 0 || v->n > UINT32_MAX)
		return -1;
	if (v->n == 0)
		*k = LEASE_LIVE;
	else if (S.rx.in_sync && v->n == S.rx.epoch)
		*k = LEASE_SYNC;
	else
		*k = LEASE_SYNC_STRAY;
	return 0;
}

/*
 * Standing by: a line of the ACTIVE proxy's about a lease our own server
 * released.  true: not applied.  A sync item is the ACTIVE proxy's table:
 * it still holds the lease, so our release was lost, and it goes again
 * after a whole sync that carried the lease (tomb_resend).  A live add is
 * what its own DHCP hook did: its server gave the lease after ours
 * released it, so that lease is real.  A release from it says it no
 * longer has the lease.
 */
static bool tomb_check(const struct jobj *o, enum lease_kind kind, uint64_t now)
{
	struct in6_addr a;
	const char *cm;
	bool gone;
	int i = recs_of_line(&S.tombs, o, &a, &cm, &gone);
	if (i < 0)
		return false;
	struct lease_rec *t = &S.tombs.r[i];
	if (gone) {
		recs_del(&S.tombs, (uint32_t)i);
		S.st.lease_tomb_confirmed++;
		return false;
	}
	if (kind == LEASE_LIVE) {
		recs_del(&S.tombs, (uint32_t)i);
		S.st.lease_tomb_superseded++;
		return false;
	}
	if (t->resent >= LEASE_TOMB_RESENDS) {
		uint64_t n = ++S.st.lease_tomb_expired;
		if (log_nth(n))
			log_info("peer: lease %s released here %" PRIu64 " s ago is still held by the ACTIVE proxy "
				 "after %u releases sent again: kept as its lease (%" PRIu64 " times)", cm,
				 (now - t->at_ns) / (1000 * MS), LEASE_TOMB_RESENDS, n);
		recs_del(&S.tombs, (uint32_t)i);
		return false;
	}
	if (kind == LEASE_SYNC)
		t->seen = S.rx.gen;
	return true;
}

/* A whole full sync began after these releases and did not carry their
 * leases: the ACTIVE proxy has none of them, the releases got through. */
static uint32_t tomb_confirm(void)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < S.tombs.n;) {
		if (S.tombs.r[i].born != S.rx.gen && S.tombs.r[i].seen != S.rx.gen) {
			recs_del(&S.tombs, i);
			n++;
		} else {
			i++;
		}
	}
	S.st.lease_tomb_confirmed += n;
	return n;
}

/* After a whole full sync that still carried leases we released: each
 * release goes again once, at most `max` (the caller's share of one sync
 * batch, the burst lease_reforward is bounded by for the same receiving
 * socket), the least re-sent first, so that a few leases the ACTIVE proxy
 * keeps cannot hold the others back. */
static uint32_t tomb_resend(uint32_t max)
{
	uint32_t n = 0;
	for (uint32_t r = 0; r < LEASE_TOMB_RESENDS && n < max; r++)
		for (uint32_t i = 0; i < S.tombs.n && n < max; i++) {
			struct lease_rec *t = &S.tombs.r[i];
			if (t->seen != S.rx.gen || t->sent == S.rx.gen || t->resent != r)
				continue;
			t->sent = S.rx.gen;
			t->resent++;
			n++;
			if (send_lease(&t->cmula, NULL, LEASE_UNMARKED, 0) == 0)
				S.st.lease_fwd_release_retry++;
		}
	return n;
}

/* A forward's "fwd" (lease_line): 0 when absent (a proxy that predates
 * it, or a release), -1 when it is no id. */
static int64_t lease_fwd(const struct jobj *o)
{
	const struct jval *v = json_get(o, "fwd");
	if (!v)
		return 0;
	return v->t == J_NUM && v->n >= 1 && v->n <= UINT32_MAX ? v->n : -1;
}

/*
 * ACTIVE: a forward of a lease our own server released after the forward
 * it came from (LEASE_RELS).  true: not applied.  The same event's id
 * is a repeat from before our release, which the standing-by proxy sends
 * because that release did not reach it: the release goes again instead,
 * a few times, each answering one repeat (so bounded by its re-forwards,
 * one sync batch per sync).  Another id, or none (a proxy that predates
 * ids), is its server's news; a release from it says it has the lease no
 * more.  Either ends the record.
 */
static bool rel_check(struct daemon *d, const struct jobj *o, uint32_t fwd, uint64_t now)
{
	struct in6_addr a;
	const char *cm;
	bool gone;
	int i = recs_of_line(&S.rels, o, &a, &cm, &gone);
	if (i < 0)
		return false;
	struct lease_rec *r = &S.rels.r[i];
	if (gone) {
		recs_del(&S.rels, (uint32_t)i);
		S.st.lease_rel_record_confirmed++;
		return false;
	}
	if (fwd != r->fwd) {
		recs_del(&S.rels, (uint32_t)i);
		S.st.lease_rel_record_superseded++;
		return false;
	}
	if (r->resent >= LEASE_REL_RESENDS) {
		uint64_t n = ++S.st.lease_rel_record_expired;
		if (log_nth(n))
			log_info("peer: lease %s released here %" PRIu64 " s ago is still forwarded by the standing-by "
				 "proxy after %u releases sent again: taken as its lease (%" PRIu64 " times)", cm,
				 (now - r->at_ns) / (1000 * MS), LEASE_REL_RESENDS, n);
		recs_del(&S.rels, (uint32_t)i);
		return false;
	}
	r->resent++;
	if (replicating(d) && send_lease(&a, NULL, 0, 0) == 0)
		S.st.lease_release_resent++;
	return true;
}

/* A LEASE message: standing by, the active proxy's table; ACTIVE, a lease
 * the standing-by proxy's own DHCP server gave or released.  Both go
 * through the hook's checks.  ACTIVE sends nothing back (its next full sync
 * carries the lease, and an echo would only cross the wire twice), but for
 * a repeat of a forwarded event it has released since: that release, lost,
 * goes again (rel_check). */
static void on_lease(struct daemon *d, const struct peer_msg *m, uint64_t now)
{
	static struct jobj o;
	const char *why = NULL;
	const char *cmd;
	bool active = S.fsm.state == PEER_ST_ACTIVE;
	if (active && m->state != PEER_ST_STANDBY) {
		/* only a standing-by proxy forwards: this is the table of another
		 * ACTIVE one (both are, until one yields), which may hold leases
		 * our own server released meanwhile; a forward lost here goes
		 * again after our next whole sync reaches it (lease_reforward) */
		S.st.rx_ignored_active++;
		return;
	}
	if (active)
		S.st.lease_fwd_rx++;
	else
		S.st.lease_rx++;
	enum lease_kind kind = LEASE_LIVE;
	bool ok = !json_parse(m->u.lease.text, m->u.lease.len, &o, &why) && (cmd = json_str(&o, "cmd")) &&
		  !strcmp(cmd, "lease");
	int64_t fwd = ok ? lease_fwd(&o) : 0;
	if (ok && !active && lease_kind(&o, &kind)) {
		ok = false;
		why = "'sync' must be an integer 0..4294967295";
	} else if (ok && fwd < 0) {
		ok = false;
		why = "'fwd' must be an integer 1..4294967295";
	}
	if (ok && !active && d->conf->peer.replicate && tomb_check(&o, kind, now))
		return;
	if (ok && active && rel_check(d, &o, (uint32_t)fwd, now))
		return;
	if (!ok || tables_lease(&d->tables, d->conf, &o, now, &why)) {
		/* a misconfigured site refuses every lease, and a full sync
		 * carries them all again every sync_interval_ms */
		uint64_t n = ++S.st.lease_refused;
		if (log_nth(n))
			log_warn("peer: lease refused: %s (%" PRIu64 " times)", why ? why : "not a lease request", n);
		return;
	}
	/* marked with the sync under way (or the last one begun), whatever the
	 * line's kind: a lease the active proxy added after its snapshot
	 * survives that sync's sweep, and one a stray item carried is judged
	 * by the next whole sync (its own cannot be whole).  The mark is the
	 * sync's number plus one, never 0: 0 is a lease this proxy's own DHCP
	 * server gave, which the other proxy never had. */
	struct in6_addr a;
	struct lease_entry *l;
	const char *cm = json_str(&o, "cmula");
	if (cm && inet_pton(AF_INET6, cm, &a) == 1 && (l = addrtab_find(&d->tables.leases, &a))) {
		l->sync_gen = active ? LEASE_GEN_OTHER : S.rx.gen + 1;
		/* the event our release of it is recorded against, ACTIVE now or
		 * after the roles swap; 0 from a proxy that predates ids */
		l->fwd_id = (uint32_t)fwd;
		l->fwd_ours = false;
	}
}

/* A whole full sync carried every lease the active proxy holds: one held
 * here from it that it did not carry lost its release on the way (or the
 * release came while we were not heard), so it goes; one given here, by
 * this proxy's own DHCP server, stays.  Leases are never evicted
 * otherwise, so those would fill the table until new ones were refused. */
static uint32_t lease_sweep(struct daemon *d)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < d->tables.leases.cap; i++) {
		const struct in6_addr *k;
		const struct lease_entry *l = addrtab_slot(&d->tables.leases, i, &k);
		if (l && l->sync_gen && l->sync_gen != S.rx.gen + 1) {
			struct in6_addr key = *k;
			addrtab_remove(&d->tables.leases, &key);
			n++;
		}
	}
	S.st.lease_swept += n;
	return n;
}

/*
 * After a whole full sync, standing by: a lease our own DHCP server gave
 * (mark 0) that the sync did not carry never reached the ACTIVE proxy (the
 * forward was lost, or made while it was not heard), so it goes again; one
 * the sync carried is marked as the active proxy's now and is left alone.
 * These go out at once, from the read loop, so at most one sync batch per
 * sync, shared with our releases sent again (tomb_resend): the burst the
 * other proxy's receive buffer is sized and checked for (check_batch on its
 * side; both read one config).  The walk
 * resumes where the last one stopped, so leases the ACTIVE keeps refusing
 * (counted there) cannot hold the others back for good.
 */
static uint32_t lease_reforward(struct daemon *d, uint32_t max)
{
	uint32_t cap = d->tables.leases.cap, n = 0;
	if (!forwarding(d) || !cap)
		return 0;
	uint32_t i = S.fwd_pos % cap;
	for (uint32_t k = 0; k < cap && n < max; k++, i = (i + 1) % cap) {
		const struct in6_addr *key;
		const struct lease_entry *l = addrtab_slot(&d->tables.leases, i, &key);
		if (!l || l->sync_gen)
			continue;
		n++;
		/* the id of the event it repeats: the ACTIVE proxy may have
		 * released the lease since (LEASE_RELS) */
		if (send_lease(key, l, LEASE_UNMARKED, l->fwd_id) == 0)
			S.st.lease_fwd_retry++;
	}
	S.fwd_pos = i;
	return n;
}

/* ---- full syncs, paced (peer_sync.h) -------------------------------------- */

struct snap_arg { struct daemon *d; uint32_t n; };

static int snap_one(void *arg, const struct shim6_ctx_info *ci)
{
	struct snap_arg *a = arg;
	if (ci->state == SHIM6_ST_ESTABLISHED && ctxtab_find(&a->d->ctxs, ci->id) && a->n < S.snap_tags_cap)
		S.snap_tags[a->n++] = ci->id;
	return 0;
}

static struct daemon *io_d;

static int io_begin(void *arg, uint32_t epoch, uint32_t contexts)
{
	(void)arg;
	return send_sync(PEER_SYNC_BEGIN, epoch, contexts);
}

static int io_end(void *arg, uint32_t epoch, uint32_t sent)
{
	(void)arg;
	return send_sync(PEER_SYNC_END, epoch, sent);
}

/* item i of the snapshot, as it is now: leases first, then contexts */
static enum peer_sync_item io_item(void *arg, uint32_t epoch, uint32_t i)
{
	struct shim6_engine *eng = arg;
	if (i < S.snap_nleases) {
		const struct lease_entry *l = addrtab_find(&io_d->tables.leases, &S.snap_leases[i]);
		if (!l)
			return PEER_SYNC_GONE;   /* its release went out when it happened */
		if (send_lease(&S.snap_leases[i], l, epoch, l->fwd_id))
			return PEER_SYNC_FAILED;
		S.st.lease_tx++;
		return PEER_SYNC_SENT_OTHER;
	}
	static struct peer_msg m;
	struct shim6_ctx_info ci;
	uint64_t tag = S.snap_tags[i - S.snap_nleases];
	if (shim6_engine_ctx_info(eng, tag, &ci))
		return PEER_SYNC_GONE;       /* its deletion went out when it happened */
	memset(&m, 0, sizeof m);
	m.type = PEER_SYNC_CTX;
	m.sync_epoch = epoch;
	if (fill_ctx(io_d, eng, &ci, &m.u.ctx))
		return PEER_SYNC_GONE;       /* no longer established or installed */
	if (send_msg(&m))
		return PEER_SYNC_FAILED;
	S.st.ctx_tx++;
	return PEER_SYNC_SENT_CTX;
}

static void sync_step(struct daemon *d, uint64_t now, uint32_t batch)
{
	struct shim6_engine *eng = proxy_engine();
	if (!S.tx.on)
		return;
	if (!replicating(d) || !eng || S.tx.owner != S.peer_session) {
		peer_sync_tx_abort(&S.tx);
		log_info("peer: full sync %u stopped after %u of %u items (no longer replicating to that run of "
			 "the other proxy)", S.tx.epoch, S.tx.pos, S.tx.n);
		return;
	}
	struct peer_sync_io io = { eng, io_begin, io_item, io_end };
	io_d = d;
	if (peer_sync_tx_step(&S.tx, now, batch, &io) != 1)
		return;
	S.epoch_tx = S.tx.epoch;
	S.epoch_tx_path = S.sync_tx_path;
	S.last_sync_tx_ns = now;
	S.st.syncs_tx++;
	log_debug("peer: full sync %u sent: %u contexts (%u listed), %u leases, in %u batches, %" PRIu64 " ms",
		  S.tx.epoch, S.tx.sent, S.tx.nctx, S.snap_nleases, S.tx.st.last_batches, S.tx.st.last_ms);
}

/* The batch per tick in use: the configured one, less after losses. */
static uint32_t sync_batch(const struct daemon *d)
{
	uint32_t conf = d->conf->peer.sync_batch;
	return S.batch_eff && S.batch_eff < conf ? S.batch_eff : conf;
}

/* Start a full sync now: snapshot the leases and contexts, send BEGIN and
 * the first batch; the rest goes out from peer_tick. */
static void sync_start(struct daemon *d, uint64_t now)
{
	struct shim6_engine *eng = proxy_engine();
	S.next_sync_ns = now + S.sync_ns;
	if (!replicating(d) || !eng) {
		peer_sync_tx_abort(&S.tx);
		return;
	}
	uint32_t nl = 0;
	for (uint32_t i = 0; i < d->tables.leases.cap && nl < S.snap_leases_cap; i++) {
		const struct in6_addr *k;
		if (addrtab_slot(&d->tables.leases, i, &k))
			S.snap_leases[nl++] = *k;
	}
	struct snap_arg a = { d, 0 };
	shim6_engine_ctx_foreach(eng, snap_one, &a);
	S.snap_nleases = nl;
	peer_updq_clear(&S.updq);   /* the snapshot holds what was queued */
	if (S.tx.on)
		log_info("peer: full sync %u superseded after %u of %u items", S.tx.epoch, S.tx.pos, S.tx.n);
	S.sync_tx_path = (int)peer_paths_sync(&S.paths);
	S.sync_judged = S.peer_alive && S.peer_state != PEER_ST_ACTIVE;
	peer_sync_tx_start(&S.tx, ++S.epoch_alloc, nl + a.n, a.n, S.peer_session, now);
	sync_step(d, now, sync_batch(d));
}

static const char *path_addr(unsigned path, char *b);

/* The other proxy is heard, yet a dead interval after our last sync went
 * out whole over one path it does not report it: that path may lose what
 * we send (a one-way fault; peer_paths.h).  Messages move to another UP
 * path for a while; the caller then sends the sync again. */
static void sync_unreceived(const struct daemon *d, uint64_t now)
{
	char b[INET6_ADDRSTRLEN], c[INET6_ADDRSTRLEN];
	uint64_t late = (now - S.last_sync_tx_ns) / MS;
	S.epoch_blamed = S.epoch_tx;
	S.st.syncs_unreceived++;
	/* the bursts may overrun its socket too: smaller ones until one arrives */
	uint32_t was = sync_batch(d);
	S.batch_eff = peer_sync_batch_adapt(was, d->conf->peer.sync_batch, false);
	if (S.batch_eff != was)
		log_info("peer: full syncs now go out %u messages per tick (was %u; back up by %u per sync received)",
			 S.batch_eff, was, peer_sync_batch_step(d->conf->peer.sync_batch));
	if (S.epoch_tx_path >= 0 && S.paths.n > 1) {
		unsigned from = (unsigned)S.epoch_tx_path;
		uint64_t hold = 6 * S.sync_ns > 10 * S.dead_ns ? 6 * S.sync_ns : 10 * S.dead_ns;
		unsigned to = peer_paths_unreceived(&S.paths, from, now, hold);
		hold = S.paths.p[from].avoid_until_ns - now;   /* doubled after verdicts in a row */
		if (to != from) {
			log_warn("peer: full sync %u over path %u to [%s] not received %" PRIu64 " ms after it was "
				 "sent, though the other proxy is heard (a one-way fault?); messages go over path %u "
				 "to [%s] for %" PRIu64 " s", S.epoch_tx, from, path_addr(from, b), late, to,
				 path_addr(to, c), hold / (1000 * MS));
			return;
		}
	}
	/* no path to blame or none to move to: the caller sends it again over
	 * the same; said once a minute */
	if (S.unreceived_log_ns && now < S.unreceived_log_ns + 60000 * MS) {
		S.unreceived_unlogged++;
		return;
	}
	const char *why = S.paths.n < 2 ? "one path" : S.epoch_tx_path < 0 ? "it went over more than one path"
										: "no other path is usable";
	unsigned same = peer_paths_sync(&S.paths);
	log_warn("peer: full sync %u not received %" PRIu64 " ms after it was sent, though the other proxy is heard; "
		 "%s, so it goes again over path %u to [%s] (%" PRIu64 " such since the last line)", S.epoch_tx, late,
		 why, same, path_addr(same, b), S.unreceived_unlogged);
	S.unreceived_log_ns = now;
	S.unreceived_unlogged = 0;
}

/* A full sync for the other proxy's current run, unless one is on its way. */
static void sync_request(struct daemon *d, uint64_t now)
{
	if (S.tx.on && S.tx.owner == S.peer_session && replicating(d))
		return;
	sync_start(d, now);
}

/* ---- actions -------------------------------------------------------------- */

static void linger_end(struct daemon *d)
{
	for (uint32_t i = 0; i < S.linger.n; i++) {
		if (ctxtab_find(&d->ctxs, S.linger.tags[i]))
			continue;   /* ours again (taken over meanwhile) */
		struct dpmsg m = { .type = DPMSG_CTX_DEL };
		m.u.ctx.own_tag = S.linger.tags[i];
		dp_write(d, &m);
	}
	if (S.linger.n)
		log_info("peer: %u contexts given back to the primary removed from the dataplane", S.linger.n);
	S.linger.n = 0;
}

bool peer_lingering(struct daemon *d, uint64_t own_tag)
{
	(void)d;
	return peer_linger_has(&S.linger, own_tag);
}

static void takeover(struct daemon *d, uint64_t now, const char *why)
{
	uint64_t t0 = now_ns();
	S.linger.n = 0;   /* the dataplane entries are about to be ours again */
	/* whether the replica reflected the active proxy's table: a whole full
	 * sync and no message lost since */
	bool complete = peer_sync_rx_complete(&S.rx);
	bool mid_sync = S.rx.in_sync;
	uint32_t done = S.rx.done;
	uint32_t ok = 0, held = 0, bad = 0, n = S.tab.n;
	for (uint32_t i = 0; i < S.tab.n; i++) {
		const struct peer_ctx *c = &S.tab.v[i].c;
		struct dpmsg_ctx dc;
		memset(&dc, 0, sizeof dc);
		memcpy(dc.local_ulid, c->local_ulid, 16);
		memcpy(dc.remote_ulid, c->peer_ulid, 16);
		memcpy(dc.local_loc, c->local_loc, 16);
		memcpy(dc.remote_loc, c->peer_loc, 16);
		dc.own_tag = c->own_tag;
		dc.peer_tag = c->peer_tag;
		dc.fii = c->forkid;
		dc.flags = c->flags;
		dc.isp = c->isp;
		int rc = proxy_adopt(d, &dc, &c->st);
		if (rc == 0)
			ok++;
		else if (rc == 1)
			held++;
		else
			bad++;
	}
	peer_table_clear(&S.tab);
	/* a backup's heartbeats now say it holds no sync, so a primary that
	 * goes on as ACTIVE sends a full one again; a primary keeps the epoch
	 * it imported, which tells the backup its contexts are safe */
	if (S.role == PEER_ROLE_BACKUP)
		peer_sync_rx_reset(&S.rx);
	else
		peer_sync_rx_cut(&S.rx);
	S.epoch_base = S.epoch_alloc + 1;
	state_save(d, proxy_engine());
	S.st.takeovers++;
	if (!complete)
		S.st.takeovers_incomplete++;
	S.st.takeover_imported += ok;
	S.st.takeover_failed += bad;
	S.st.last_takeover_after_ms = (now - S.last_hb_ns) / MS;
	S.st.last_takeover_us = (now_ns() - t0) / 1000;
	log_notice("peer: takeover (%s) %" PRIu64 " ms after the last heartbeat: %u of %u replicated contexts "
		   "imported and installed, %u already held, %u failed, in %" PRIu64 " us; replica %s", why,
		   S.st.last_takeover_after_ms, ok, n, held, bad, S.st.last_takeover_us,
		   complete ? "complete (last full sync whole, nothing lost since)"
		   : done ? "INCOMPLETE (messages lost since the last whole full sync)"
		   : mid_sync ? "INCOMPLETE (the first full sync was still under way)"
		   : "INCOMPLETE (no full sync received whole)");
}

static void run(struct daemon *d, enum peer_action a, uint64_t now, const char *why, int from)
{
	bool changed = from != (int)S.fsm.state;
	if (changed)
		log_notice("peer: %s -> %s (%s)", peer_state_name(from), peer_state_name(S.fsm.state), why);
	if (changed && S.fsm.state == PEER_ST_ACTIVE)
		tomb_clear();
	if (changed && from == PEER_ST_ACTIVE)
		rel_clear();
	switch (a) {
	case PEER_A_NONE:
		break;
	case PEER_A_ACTIVATE:
		S.st.activations++;
		sync_start(d, now);
		break;
	case PEER_A_TAKEOVER:
		takeover(d, now, why);
		sync_start(d, now);
		break;
	case PEER_A_YIELD: {
		uint32_t lms = d->conf->peer.yield_linger_ms;
		S.st.yields++;
		log_notice("peer: the primary is back and synced; releasing %u contexts (nothing sent to peers; "
			   "the dataplane forwards them %u ms more while routing moves back)", d->ctxs.n, lms);
		peer_sync_tx_abort(&S.tx);
		linger_end(d);
		peer_linger_start(&S.linger, now, peer_linger_ns(&d->conf->peer));
		for (uint32_t i = 0; i < d->ctxs.n; i++)
			peer_linger_add(&S.linger, d->ctxs.v[i].d.own_tag);
		S.st.last_linger_ms = lms;
		proxy_release_all(d, true);
		peer_table_clear(&S.tab);
		peer_sync_rx_reset(&S.rx);   /* asks the primary for a full sync now */
		if (peer_linger_due(&S.linger, now))
			linger_end(d);           /* yield_linger_ms = 0 */
		break;
	}
	}
	if (changed)
		peer_notify_change(&S.notify, peer_state_name(S.fsm.state), now);
}

/* ---- receiving ------------------------------------------------------------ */

/* CTX, SYNC_CTX, CTX_DEL, SYNC_BEGIN, SYNC_END while standing by */
static void on_replica(struct daemon *d, const struct peer_msg *m, bool keep, uint64_t now)
{
	bool was = S.rx.in_sync, gap = S.rx.gap;
	uint32_t epoch = S.rx.epoch, got = S.rx.count, expect = S.rx.expect, pruned;
	uint64_t incomplete = S.rx.st.incomplete;
	int whole = peer_sync_rx_apply(&S.rx, &S.tab, m, keep, now, &pruned);
	if (S.rx.st.incomplete != incomplete) {
		if (m->type == PEER_SYNC_BEGIN)
			log_info("peer: full sync %u incomplete: superseded by %u after %u of %u contexts", epoch,
				 m->u.sync.epoch, got, expect);
		else
			log_info("peer: full sync %u incomplete: %s; %u of %u contexts received", m->u.sync.epoch,
				 !was || epoch != m->u.sync.epoch ? "its start was not received"
				 : gap ? "messages were lost during it" : "fewer contexts than sent", got, m->u.sync.count);
	}
	if (!whole)
		return;
	S.st.syncs_rx++;
	uint32_t swept = lease_sweep(d);
	if (swept)
		log_info("peer: full sync %u received whole without %u leases held here: removed (their release "
			 "was not received)", S.rx.done, swept);
	uint32_t confirmed = tomb_confirm();
	log_debug("peer: full sync %u received whole: %u contexts in %" PRIu64 " ms, %u stale pruned", S.rx.done,
		  S.rx.count, (now - S.rx.began_ns) / MS, pruned);
	int from = (int)S.fsm.state;
	run(d, peer_fsm_event(&S.fsm, PEER_EV_SYNC_DONE, now), now, "full sync received", from);
	/* one sync batch at most for both: releases first, they are few
	 * (LEASE_TOMBS) and each goes LEASE_TOMB_RESENDS times at most */
	uint32_t max = d->conf->peer.sync_batch, released = forwarding(d) ? tomb_resend(max) : 0;
	uint32_t again = lease_reforward(d, max - released);
	if (again || released || confirmed)
		log_debug("peer: full sync %u received whole: %u of our own leases it lacked sent again, %u of our "
			  "releases it still carried sent again, %u confirmed", S.rx.done, again, released, confirmed);
}

static const char *path_addr(unsigned path, char *b)
{
	return inet_ntop(AF_INET6, &S.paths.p[path].addr, b, INET6_ADDRSTRLEN);
}

static void path_log(unsigned path, enum peer_path_action a, uint64_t now)
{
	const struct peer_path *p = &S.paths.p[path];
	char b[INET6_ADDRSTRLEN], more[64] = "";
	if (p->unlogged)
		snprintf(more, sizeof more, " (%" PRIu64 " changes not logged)", p->unlogged);
	unsigned up = peer_paths_n_up(&S.paths);
	switch (a) {
	case PEER_PATH_A_RETRY:
		log_info("peer: path %u to [%s] may carry messages again (its hold after an unreceived sync ended)",
			 path, path_addr(path, b));
		return;   /* not a transition: what was not logged stays counted */
	case PEER_PATH_A_FIRST:
	case PEER_PATH_A_BACK:
		log_notice("peer: path %u to [%s] %s%s; %u of %u paths up", path, path_addr(path, b),
			   a == PEER_PATH_A_FIRST ? "up" : "back", more, up, S.paths.n);
		break;
	case PEER_PATH_A_LOST:
	case PEER_PATH_A_NEVER:
		log_warn("peer: path %u to [%s] silent: %s %" PRIu64 " ms%s; %u of %u paths up%s", path,
			 path_addr(path, b), a == PEER_PATH_A_LOST ? "no heartbeat over it for" : "nothing heard over it in",
			 (now - (p->last_heard_ns ? p->last_heard_ns : p->added_ns)) / MS, more, up, S.paths.n,
			 up ? " (the other proxy is heard on another: no takeover)" : "");
		break;
	default:
		break;
	}
	S.paths.p[path].unlogged = 0;
}

static void path_note(void *arg, unsigned path, enum peer_path_action a)
{
	path_log(path, a, *(const uint64_t *)arg);
}

static void on_msg(struct daemon *d, const struct peer_msg *m, unsigned path, uint64_t now)
{
	if (m->role == S.role) {
		S.st.rx_bad++;
		log_warn("peer: the other proxy also says it is the %s; check both peer sections", role_name(S.role));
		return;
	}
	if (m->session != S.peer_session) {
		/* a new run of the other proxy; only a heartbeat may start one,
		 * and only one that echoes our session counts (a replay from an
		 * earlier run of ours cannot) */
		if (m->type != PEER_HEARTBEAT) {
			S.st.rx_unconfirmed++;
			return;
		}
		S.peer_session = m->session;
		S.sync_judged = false;
		S.st.peer_sessions++;
		peer_sync_rx_cut(&S.rx);
		peer_paths_session(&S.paths, path, m->seq);
	} else {
		enum peer_rx_verdict v;
		uint64_t lost = 0;
		if (m->type == PEER_HEARTBEAT)
			v = peer_paths_rx_hb(&S.paths, path, m->seq);
		else
			v = peer_paths_rx_data(&S.paths, path, m->seq, &lost);
		if (v == PEER_RX_REPLAY) {
			S.st.rx_replay++;
			return;
		}
		/* messages of this run of the other proxy that never arrived */
		if (lost)
			peer_sync_rx_lost(&S.rx, lost);
		if (v == PEER_RX_DUP) {
			/* the copy of a heartbeat taken over another path: this
			 * path works, the FSM already had the news */
			S.st.rx_duplicate++;
			if (m->echo == S.session) {
				enum peer_path_action pa = peer_paths_heard(&S.paths, path, now);
				if (pa != PEER_PATH_A_NONE)
					path_log(path, pa, now);
			}
			return;
		}
	}
	if (m->echo != S.session) {
		S.st.rx_unconfirmed++;
		return;
	}
	int from = (int)S.fsm.state;
	switch (m->type) {
	case PEER_HEARTBEAT: {
		S.st.hb_rx++;
		enum peer_path_action pa = peer_paths_heard(&S.paths, path, now);
		if (pa != PEER_PATH_A_NONE)
			path_log(path, pa, now);
		bool was = S.peer_alive;
		int old_state = S.peer_state;
		S.peer_alive = true;
		S.last_hb_ns = now;
		S.peer_state = m->state;
		if (!was)
			log_notice("peer: the %s is up (%s)", role_name(m->role), peer_state_name(m->state));
		else if (old_state != m->state)
			log_info("peer: the %s is now %s", role_name(m->role), peer_state_name(m->state));
		int ps = m->state;
		if (ps == PEER_ST_ACTIVE && S.fsm.state == PEER_ST_ACTIVE) {
			/* two ACTIVE proxies: the primary collects an ACTIVE backup's
			 * contexts unless it holds none; the backup yields only once
			 * the primary imported a full sync sent since its takeover */
			if (S.role == PEER_ROLE_PRIMARY &&
			    (m->u.hb.contexts == 0 || (m->u.hb.epoch_tx && m->u.hb.epoch_tx == S.rx.done)))
				ps = PEER_ST_STANDBY;   /* nothing held, or its last sync already imported */
			if (S.role == PEER_ROLE_BACKUP && d->ctxs.n && m->u.hb.epoch_rx < S.epoch_base)
				ps = PEER_ST_SYNCING;   /* has not imported our contexts yet */
		}
		enum peer_action a = peer_fsm_heard(&S.fsm, ps, now);
		run(d, a, now, "heartbeat", from);
		if (m->state == PEER_ST_ACTIVE || !was)
			S.sync_judged = false;
		if (a == PEER_A_NONE && S.fsm.state == PEER_ST_ACTIVE && S.sync_judged && !S.tx.on && S.epoch_tx &&
		    m->u.hb.epoch_rx != S.epoch_tx && now >= S.last_sync_tx_ns + S.dead_ns && S.epoch_blamed != S.epoch_tx)
			sync_unreceived(d, now);
		if (S.epoch_tx && m->u.hb.epoch_rx == S.epoch_tx && S.epoch_acked != S.epoch_tx) {
			/* received whole: the pace comes back toward the configured one */
			S.epoch_acked = S.epoch_tx;
			if (S.epoch_tx_path >= 0)
				peer_paths_received(&S.paths, (unsigned)S.epoch_tx_path);
			if (S.batch_eff && S.batch_eff < d->conf->peer.sync_batch)
				S.batch_eff = peer_sync_batch_adapt(S.batch_eff, d->conf->peer.sync_batch, true);
		}
		/* a peer that just appeared, or is waiting for our sync, gets one now */
		if (a == PEER_A_NONE && S.fsm.state == PEER_ST_ACTIVE &&
		    (!was || (ps != PEER_ST_ACTIVE && (m->u.hb.epoch_rx != S.epoch_tx || !S.epoch_tx) &&
			      now >= S.last_sync_tx_ns + S.dead_ns)))
			sync_request(d, now);
		return;
	}
	case PEER_CTX:
	case PEER_SYNC_CTX:
		S.st.ctx_rx++;
		if (S.fsm.state == PEER_ST_ACTIVE) {
			S.st.rx_ignored_active++;
			return;
		}
		/* one we cannot keep still counts for its sync: it arrived
		 * (rx_bad_isp and replica_full say what could not be kept) */
		if (m->u.ctx.isp >= d->conf->n_isps)
			S.st.rx_bad_isp++;
		on_replica(d, m, m->u.ctx.isp < d->conf->n_isps, now);
		return;
	case PEER_CTX_DEL:
		S.st.del_rx++;
		if (S.fsm.state != PEER_ST_ACTIVE)
			on_replica(d, m, true, now);
		else
			S.st.rx_ignored_active++;
		return;
	case PEER_LEASE:
		on_lease(d, m, now);
		return;
	case PEER_SYNC_BEGIN:
	case PEER_SYNC_END:
		if (S.fsm.state == PEER_ST_ACTIVE) {
			S.st.rx_ignored_active++;
			return;
		}
		on_replica(d, m, true, now);
		return;
	}
}

void peer_read(struct daemon *d)
{
	static uint8_t buf[PEER_MSG_MAX + 1];
	static struct peer_msg m;
	for (int i = 0; i < 256; i++) {
		struct sockaddr_in6 from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(S.fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		S.st.rx++;
		/* the configured addresses and port only; the MAC does the rest */
		int path = fl < sizeof from || from.sin6_family != AF_INET6 || from.sin6_port != S.to.sin6_port ? -1
			   : peer_paths_find(&S.paths, &from.sin6_addr);
		if (path < 0) {
			S.st.rx_wrong_source++;
			continue;
		}
		int rc = peer_msg_decode(buf, (size_t)n, S.key, S.keylen, &m);
		if (rc < 0) {
			if (rc == PEER_E_MAC)
				S.st.rx_bad_mac++;
			else
				S.st.rx_bad++;
			log_debug("peer: message dropped: %s", peer_msg_strerror(rc));
			continue;
		}
		on_msg(d, &m, (unsigned)path, now_ns());
	}
}

/* ---- time ----------------------------------------------------------------- */

void peer_tick(struct daemon *d, uint64_t now)
{
	if (!S.on)
		return;
	if (now >= S.next_hb_ns) {
		hb_contexts = d->ctxs.n;
		send_hb();
		S.next_hb_ns = now + S.hb_ns;
	}
	paths_follow_conf(&d->conf->peer, now);
	peer_paths_tick(&S.paths, now, path_note, &now);
	unsigned sp = peer_paths_sync(&S.paths);
	if (sp != S.sync_path) {
		char b[INET6_ADDRSTRLEN];
		S.sync_path_changes++;
		log_notice("peer: messages other than heartbeats now go over path %u to [%s] (was path %u)", sp,
			   path_addr(sp, b), S.sync_path);
		S.sync_path = sp;
	}
	if (S.peer_alive && now >= S.last_hb_ns + S.dead_ns) {
		S.peer_alive = false;
		S.sync_judged = false;    /* lost with everything else: no verdict on one path */
		log_warn("peer: no heartbeat from the %s for %" PRIu64 " ms",
			 role_name(S.role == PEER_ROLE_PRIMARY ? PEER_ROLE_BACKUP : PEER_ROLE_PRIMARY),
			 (now - S.last_hb_ns) / MS);
	}
	if (peer_linger_due(&S.linger, now))
		linger_end(d);
	int from = (int)S.fsm.state;
	enum peer_action a = peer_fsm_tick(&S.fsm, now);
	if (a == PEER_A_TAKEOVER)
		S.st.takeovers_silence++;
	run(d, a, now, "silence", from);
	/* queued imports first, then the next batch of a sync under way (or its
	 * abort), else a new one when due; both share one budget per tick */
	uint32_t batch = sync_batch(d), used = 0;
	if (S.updq.n && !replicating(d))
		peer_updq_clear(&S.updq);    /* the next full sync carries them */
	else if (S.updq.n)
		used = peer_updq_step(&S.updq, now, batch, upd_send, d);
	if (S.tx.on && used >= batch && now >= S.tx.next_ns && replicating(d))
		S.tx.next_ns = now + PEER_SYNC_TICK_NS;   /* this tick's budget is spent */
	else if (S.tx.on)
		sync_step(d, now, batch - used);
	else if (replicating(d) && now >= S.next_sync_ns)
		sync_start(d, now);
	/* peer.notify is read here, so a reload that sets or changes it applies */
	notify_follow_conf(&d->conf->peer, now);
	peer_notify_tick(&S.notify, now);
}

uint64_t peer_deadline(const struct daemon *d)
{
	if (!S.on)
		return UINT64_MAX;
	uint64_t t = S.next_hb_ns, f = peer_fsm_deadline(&S.fsm);
	if (f < t)
		t = f;
	if (S.tx.on) {
		uint64_t b = peer_sync_tx_deadline(&S.tx);
		if (b < t)
			t = b;
	} else if (replicating(d) && S.next_sync_ns < t) {
		t = S.next_sync_ns;
	}
	if (S.peer_alive && S.last_hb_ns + S.dead_ns < t)
		t = S.last_hb_ns + S.dead_ns;
	uint64_t pd = peer_paths_deadline(&S.paths);
	if (pd < t)
		t = pd;
	uint64_t q = peer_updq_deadline(&S.updq);
	if (q < t)
		t = q;
	uint64_t l = peer_linger_deadline(&S.linger), n = peer_notify_deadline(&S.notify);
	if (l < t)
		t = l;
	if (n < t)
		t = n;
	return t;
}

/* ---- punts while standing by ---------------------------------------------- */

static struct peer_replica *replica_of(const struct dpmsg_punt *p)
{
	if (p->len < 40)
		return NULL;
	if (p->reason == DPMSG_PUNT_NO_CTX)
		return peer_table_find_pair(&S.tab, p->data + 8, p->data + 24);
	/* a payload packet: the Shim6 header right behind the IPv6 header */
	if (p->reason == DPMSG_PUNT_UNKNOWN_TAG && p->len >= 48 && p->data[6] == 140) {
		const uint8_t *h = p->data + 40;
		uint64_t tag = ((uint64_t)(h[2] & 0x7f) << 40) | ((uint64_t)h[3] << 32) | ((uint64_t)h[4] << 24) |
			       ((uint64_t)h[5] << 16) | ((uint64_t)h[6] << 8) | h[7];
		return peer_table_find(&S.tab, tag);
	}
	return NULL;
}

bool peer_punt_gate(struct daemon *d, const struct dpmsg_punt *p)
{
	if (!S.on || S.fsm.state != PEER_ST_STANDBY)
		return true;
	uint64_t now = now_ns();
	/* traffic counts only once the primary is late: while it heartbeats,
	 * a stray packet must not make two proxies serve the same context */
	if (replica_of(p) && now >= S.last_hb_ns + 2 * S.hb_ns) {
		int from = (int)S.fsm.state;
		enum peer_action a = peer_fsm_event(&S.fsm, PEER_EV_TRAFFIC, now);
		if (a == PEER_A_TAKEOVER)
			S.st.takeovers_traffic++;
		run(d, a, now, "traffic of a replicated context", from);
		/* the context is installed now: the packet goes back in as received */
		struct dpmsg m = { .type = DPMSG_INJECT };
		m.u.inject.port = p->port;
		m.u.inject.flags = DPMSG_INJECT_AS_RX;
		m.u.inject.len = p->len;
		m.u.inject.data = p->data;
		if (p->orig_len <= p->len)
			dp_write(d, &m);
		return false;
	}
	S.st.standby_punts_dropped++;
	return false;
}

/* ---- reporting ------------------------------------------------------------ */

void peer_counters(struct daemon *d, void (*put)(void *, const char *, const char *, uint64_t), void *arg)
{
	(void)d;
	if (!S.on)
		return;
	const struct peer_stats *s = &S.st;
#define C(f) put(arg, "peer", #f, s->f)
	put(arg, "peer", "state", (uint64_t)S.fsm.state);
	put(arg, "peer", "peer_alive", S.peer_alive);
	put(arg, "peer", "replicas", S.tab.n);
	put(arg, "peer", "replica_capacity", S.tab.cap);
	put(arg, "peer", "replica_full", S.tab.st.full);
	put(arg, "peer", "replica_pruned", S.tab.st.pruned);
	C(tx); C(tx_failed); C(rx); C(rx_wrong_source); C(rx_bad); C(rx_bad_mac); C(rx_replay); C(rx_unconfirmed);
	C(rx_ignored_active); C(rx_bad_isp); C(hb_tx); C(hb_rx); C(ctx_tx); C(ctx_rx); C(del_tx); C(del_rx);
	C(syncs_tx); C(syncs_rx); C(peer_sessions); C(standby_punts_dropped);
	C(lease_tx); C(lease_rx); C(lease_refused); C(lease_swept); C(lease_fwd_tx); C(lease_fwd_rx); C(lease_fwd_retry);
	put(arg, "peer", "lease_tombstones", S.tombs.n);
	C(lease_fwd_release_retry); C(lease_tomb_confirmed); C(lease_tomb_superseded); C(lease_tomb_expired);
	C(lease_tomb_evicted);
	put(arg, "peer", "lease_rel_records", S.rels.n);
	C(lease_release_resent); C(lease_rel_record_confirmed); C(lease_rel_record_superseded);
	C(lease_rel_record_expired); C(lease_rel_record_evicted);
	C(takeovers); C(takeovers_silence); C(takeovers_traffic); C(takeover_imported); C(takeover_failed);
	C(yields); C(activations); C(last_takeover_after_ms); C(last_takeover_us); C(takeovers_incomplete);
	C(rx_duplicate); C(syncs_unreceived);
#undef C
	/* each path to the other proxy (peer.address is path 0) */
	uint64_t now = now_ns();
	put(arg, "peer", "paths", S.paths.n);
	put(arg, "peer", "paths_up", peer_paths_n_up(&S.paths));
	put(arg, "peer", "sync_path", peer_paths_sync(&S.paths));
	put(arg, "peer", "sync_path_changes", S.sync_path_changes);
	for (unsigned i = 0; i < S.paths.n; i++) {
		const struct peer_path *p = &S.paths.p[i];
		static const char *const f[] = { "up", "hb_tx", "hb_tx_failed", "hb_rx", "tx", "rx", "dup", "replay",
						 "silences", "returns", "heard_ms_ago", "syncs_unreceived", "avoided" };
		uint64_t age = peer_paths_age_ms(&S.paths, i, now);
		const uint64_t v[] = { p->state == PEER_PATH_UP, p->st.hb_tx, p->st.hb_tx_failed, p->st.hb_rx, p->st.tx,
				       p->st.rx, p->st.dup, p->st.replay, p->st.silences, p->st.returns, age,
				       p->st.unreceived, p->avoid_until_ns != 0 };
		/* counter names must outlive the call: one static set per path */
		static char names[PEER_PATHS_MAX][sizeof f / sizeof f[0]][32];
		for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
			snprintf(names[i][k], sizeof names[i][k], "path%u_%s", i, f[k]);
			put(arg, "peer", names[i][k], v[k]);
		}
	}
	/* full syncs sent (paced) */
	const struct peer_sync_tx_stats *t = &S.tx.st;
	put(arg, "peer", "sync_batch", d->conf->peer.sync_batch);
	put(arg, "peer", "sync_batch_in_use", sync_batch(d));
	put(arg, "peer", "sync_tx_running", S.tx.on);
	put(arg, "peer", "sync_tx_started", t->started);
	put(arg, "peer", "sync_tx_aborted", t->aborted);
	put(arg, "peer", "sync_tx_batches", t->batches);
	put(arg, "peer", "sync_tx_items", t->items_sent);
	put(arg, "peer", "sync_tx_items_gone", t->items_gone);
	put(arg, "peer", "sync_tx_items_failed", t->items_failed);
	put(arg, "peer", "last_sync_tx", S.epoch_tx);
	put(arg, "peer", "last_sync_tx_ms", t->last_ms);
	put(arg, "peer", "last_sync_tx_batches", t->last_batches);
	/* full syncs received, and whether the replica is complete */
	const struct peer_sync_rx_stats *r = &S.rx.st;
	put(arg, "peer", "sync_incomplete", r->incomplete);
	put(arg, "peer", "sync_rx_begun", r->begun);
	put(arg, "peer", "sync_rx_ctx_stray", r->ctx_stray);
	put(arg, "peer", "rx_lost", r->lost);
	put(arg, "peer", "last_sync_rx", S.rx.done);
	put(arg, "peer", "replica_complete", peer_sync_rx_complete(&S.rx));
	/* contexts imported from the dataplane's dump, sent as paced updates */
	const struct peer_updq_stats *u = &S.updq.st;
	put(arg, "peer", "import_tx_queued", u->queued);
	put(arg, "peer", "import_tx_pending", S.updq.n);
	put(arg, "peer", "import_tx_sent", u->sent);
	put(arg, "peer", "import_tx_gone", u->gone);
	put(arg, "peer", "import_tx_failed", u->failed);
	put(arg, "peer", "import_tx_full", u->full);
	put(arg, "peer", "import_tx_batches", u->batches);
	put(arg, "peer", "import_tx_dropped", u->dropped);
	/* a yielding backup's forwarding */
	put(arg, "peer", "yield_linger_ms", d->conf->peer.yield_linger_ms);
	put(arg, "peer", "lingering", S.linger.n);
	put(arg, "peer", "last_linger_ms", s->last_linger_ms);
	/* peer.notify */
	const struct peer_notify_stats *n = &S.notify.st;
	put(arg, "peer", "notify_runs", n->runs);
	put(arg, "peer", "notify_ok", n->ok);
	put(arg, "peer", "notify_failed", n->failed);
	put(arg, "peer", "notify_skipped", n->skipped);
	put(arg, "peer", "notify_timeouts", n->timeouts);
	put(arg, "peer", "notify_in_flight", S.notify.pid != 0);
	put(arg, "peer", "notify_timeout_ms", d->conf->peer.notify_timeout_ms);
}

void peer_status(struct daemon *d, FILE *json, FILE *text)
{
	if (!S.on) {
		bool conf = d->conf->peer.role != PSHIM6_PEER_NONE;
		if (json)
			fputs(conf ? ",\"peer\":{\"state\":\"off\",\"error\":\"peer section unusable, see the log\"}"
				   : ",\"peer\":null", json);
		if (text)
			fputs(conf ? "peer:       OFF: the peer section is unusable (see the log); single proxy\n"
				   : "peer:       none (single proxy)\n", text);
		return;
	}
	char a[INET6_ADDRSTRLEN];
	path_addr(0, a);   /* the address in use: a reload applies at the next tick */
	uint64_t now = now_ns(), ago = (now - S.last_hb_ns) / MS;
	if (json)
		fprintf(json, ",\"peer\":{\"role\":\"%s\",\"state\":\"%s\",\"address\":\"%s\",\"port\":%u,\"alive\":%s,"
		"\"peer_state\":\"%s\",\"last_heard_ms_ago\":%" PRIu64 ",\"replicas\":%u,\"replicate\":%s,"
		"\"takeovers\":%" PRIu64 ",\"replica_complete\":%s,\"last_sync_rx\":%u,\"last_sync_tx\":%u,"
		"\"sync_tx_running\":%s", role_name(S.role), peer_state_name(S.fsm.state), a, d->conf->peer.port,
		S.peer_alive ? "true" : "false", S.peer_state ? peer_state_name(S.peer_state) : "unknown", ago,
		S.tab.n, d->conf->peer.replicate ? "true" : "false", S.st.takeovers,
		peer_sync_rx_complete(&S.rx) ? "true" : "false", S.rx.done, S.epoch_tx, S.tx.on ? "true" : "false");
	unsigned sp = peer_paths_sync(&S.paths);
	if (json) {
		fprintf(json, ",\"sync_path\":%u,\"paths\":[", sp);
		for (unsigned i = 0; i < S.paths.n; i++) {
			const struct peer_path *p = &S.paths.p[i];
			char b[INET6_ADDRSTRLEN];
			uint64_t age = peer_paths_age_ms(&S.paths, i, now);
			fprintf(json, "%s{\"address\":\"%s\",\"state\":\"%s\",\"heard_ms_ago\":", i ? "," : "",
				path_addr(i, b), peer_path_state_name(p->state));
			if (age == UINT64_MAX)
				fputs("null", json);
			else
				fprintf(json, "%" PRIu64, age);
			fprintf(json, ",\"hb_tx\":%" PRIu64 ",\"hb_rx\":%" PRIu64 ",\"dup\":%" PRIu64
				",\"syncs_unreceived\":%" PRIu64 ",\"avoided\":%s}", p->st.hb_tx, p->st.hb_rx, p->st.dup,
				p->st.unreceived, p->avoid_until_ns ? "true" : "false");
		}
		fputs("]}", json);
	}
	if (text)
		fprintf(text, "peer:       %s, %s; other proxy [%s]:%u %s (%s, heard %" PRIu64 " ms ago); "
			"%u replicas%s; %" PRIu64 " takeovers%s\n", role_name(S.role), peer_state_name(S.fsm.state), a,
			d->conf->peer.port, S.peer_alive ? "up" : "silent",
			S.peer_state ? peer_state_name(S.peer_state) : "unknown", ago, S.tab.n,
			S.fsm.state == PEER_ST_ACTIVE ? "" : peer_sync_rx_complete(&S.rx) ? " (complete)" : " (INCOMPLETE)",
			S.st.takeovers, S.tx.on ? "; full sync being sent" : "");
	for (unsigned i = 0; text && S.paths.n > 1 && i < S.paths.n; i++) {
		const struct peer_path *p = &S.paths.p[i];
		char b[INET6_ADDRSTRLEN], h[32] = "never";
		uint64_t age = peer_paths_age_ms(&S.paths, i, now);
		if (age != UINT64_MAX)
			snprintf(h, sizeof h, "%" PRIu64 " ms ago", age);
		char av[96] = "";
		if (p->avoid_until_ns)
			snprintf(av, sizeof av, "; avoided for %" PRIu64 " s more (a sync over it went unreceived)",
				 p->avoid_until_ns > now ? (p->avoid_until_ns - now + 999 * MS) / (1000 * MS) : 0);
		fprintf(text, "  path %u:   [%s] %s, heard %s; heartbeats %" PRIu64 " sent, %" PRIu64 " received "
			"(%" PRIu64 " duplicates)%s%s\n", i, path_addr(i, b), peer_path_state_name(p->state), h,
			p->st.hb_tx, p->st.hb_rx, p->st.dup, av, i == sp ? "; sync goes here" : "");
	}
}
