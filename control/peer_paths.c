/* The state of each path to the other proxy (peer_paths.h), a table of rows.
 *
 * Why these rows: a path is UP once a confirmed heartbeat came over it and
 * SILENT after PEER_PATH_QUIET_HB heartbeat intervals without one.  That
 * is sooner than dead_ms on purpose: sync traffic should leave a cut path
 * before the replica misses much, while takeover waits for dead_ms of
 * silence on every path (peer_fsm.c).  A path never heard since start is
 * reported once as such, not as lost.
 */
#include "peer_paths.h"
#include <stddef.h>
#include <string.h>

struct path_row {
	enum peer_path_state state;
	enum peer_path_event ev;
	enum peer_path_state next;
	enum peer_path_action action;
};

static const struct path_row path_rows[] = {
	{ PEER_PATH_UNKNOWN, PEER_PATH_EV_HEARD, PEER_PATH_UP,     PEER_PATH_A_FIRST },
	{ PEER_PATH_UNKNOWN, PEER_PATH_EV_QUIET, PEER_PATH_SILENT, PEER_PATH_A_NEVER },
	{ PEER_PATH_UP,      PEER_PATH_EV_QUIET, PEER_PATH_SILENT, PEER_PATH_A_LOST },
	{ PEER_PATH_SILENT,  PEER_PATH_EV_HEARD, PEER_PATH_UP,     PEER_PATH_A_BACK },
	/* UP + HEARD and SILENT + QUIET change nothing */
};

void peer_paths_init(struct peer_paths *P, const struct in6_addr *addrs, unsigned n, uint64_t hb_ns, uint64_t now)
{
	memset(P, 0, sizeof *P);
	if (n < 1)
		n = 1;
	if (n > PEER_PATHS_MAX)
		n = PEER_PATHS_MAX;
	P->n = n;
	P->quiet_ns = PEER_PATH_QUIET_HB * hb_ns;
	for (unsigned i = 0; i < n; i++) {
		P->p[i].addr = addrs[i];
		P->p[i].added_ns = now;
	}
}

void peer_paths_set(struct peer_paths *P, const struct in6_addr *addrs, unsigned n, uint64_t now)
{
	struct peer_path np[PEER_PATHS_MAX];
	unsigned k = 0;
	if (n > PEER_PATHS_MAX)
		n = PEER_PATHS_MAX;
	memset(np, 0, sizeof np);
	for (unsigned i = 0; i < n; i++) {
		bool twice = false;
		for (unsigned j = 0; j < k; j++)
			twice = twice || !memcmp(&np[j].addr, &addrs[i], sizeof addrs[i]);
		if (twice)
			continue;    /* listed twice: one path */
		int old = peer_paths_find(P, &addrs[i]);
		if (old >= 0) {
			np[k] = P->p[old];
		} else {
			np[k].addr = addrs[i];
			np[k].added_ns = now;
		}
		k++;
	}
	memcpy(P->p, np, sizeof np);
	P->n = k ? k : 1;
}

bool peer_paths_same(const struct peer_paths *P, const struct in6_addr *addrs, unsigned n)
{
	if (n != P->n)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (memcmp(&P->p[i].addr, &addrs[i], sizeof addrs[i]))
			return false;
	return true;
}

int peer_paths_find(const struct peer_paths *P, const struct in6_addr *from)
{
	for (unsigned i = 0; i < P->n; i++)
		if (!memcmp(&P->p[i].addr, from, sizeof *from))
			return (int)i;
	return -1;
}

static void taken(struct peer_paths *P, uint64_t seq)
{
	P->hb_taken[P->hb_pos] = seq;
	P->hb_pos = (P->hb_pos + 1) % PEER_PATHS_HB_KEEP;
	if (P->hb_n < PEER_PATHS_HB_KEEP)
		P->hb_n++;
}

void peer_paths_session(struct peer_paths *P, unsigned path, uint64_t seq)
{
	for (unsigned i = 0; i < P->n; i++)
		P->p[i].hb_seq = 0;
	P->hb_n = P->hb_pos = 0;
	P->hb_above = 0;
	P->data_seq = seq;    /* as with one path: older messages of the run are not taken */
	taken(P, seq);
	if (path < P->n) {
		P->p[path].hb_seq = seq;
		P->p[path].st.hb_rx++;
	}
}

enum peer_rx_verdict peer_paths_rx_hb(struct peer_paths *P, unsigned path, uint64_t seq)
{
	struct peer_path *p = &P->p[path];
	if (seq <= p->hb_seq) {
		p->st.replay++;
		P->replay++;
		return PEER_RX_REPLAY;
	}
	uint64_t oldest = UINT64_MAX;
	for (unsigned i = 0; i < P->hb_n; i++) {
		if (P->hb_taken[i] == seq) {
			p->hb_seq = seq;
			p->st.dup++;
			p->st.hb_rx++;
			P->dup++;
			return PEER_RX_DUP;
		}
		if (P->hb_taken[i] < oldest)
			oldest = P->hb_taken[i];
	}
	/* older than every number kept: it cannot be told from a copy */
	if (P->hb_n == PEER_PATHS_HB_KEEP && seq < oldest) {
		p->st.replay++;
		P->replay++;
		return PEER_RX_REPLAY;
	}
	p->hb_seq = seq;
	p->st.hb_rx++;
	taken(P, seq);
	if (seq > P->data_seq)
		P->hb_above++;
	return PEER_RX_NEW;
}

enum peer_rx_verdict peer_paths_rx_data(struct peer_paths *P, unsigned path, uint64_t seq, uint64_t *lost)
{
	*lost = 0;
	if (seq <= P->data_seq) {
		P->p[path].st.replay++;
		P->replay++;
		return PEER_RX_REPLAY;
	}
	/* heartbeats taken above `seq` (they overtook this message) stay above */
	uint64_t above = 0;
	for (unsigned i = 0; i < P->hb_n; i++)
		if (P->hb_taken[i] > seq)
			above++;
	uint64_t between = P->hb_above > above ? P->hb_above - above : 0;
	uint64_t gap = seq - P->data_seq - 1;
	*lost = gap > between ? gap - between : 0;
	P->data_seq = seq;
	P->hb_above = above;
	P->p[path].st.rx++;
	return PEER_RX_NEW;
}

static enum peer_path_action path_event(struct peer_paths *P, unsigned path, enum peer_path_event ev, uint64_t now)
{
	struct peer_path *p = &P->p[path];
	for (size_t i = 0; i < sizeof path_rows / sizeof path_rows[0]; i++) {
		const struct path_row *r = &path_rows[i];
		if (r->state != p->state || r->ev != ev)
			continue;
		p->state = r->next;
		if (r->action == PEER_PATH_A_LOST)
			p->st.silences++;
		if (r->action == PEER_PATH_A_BACK) {
			p->st.returns++;
			p->avoid_until_ns = 0;    /* the link came back: whatever was wrong may be mended */
			p->holds = 0;
		}
		if (p->last_log_ns && now < p->last_log_ns + PEER_PATH_LOG_GAP_NS) {
			p->unlogged++;
			p->st.logs_suppressed++;
			return PEER_PATH_A_NONE;
		}
		p->last_log_ns = now;
		return r->action;
	}
	return PEER_PATH_A_NONE;
}

enum peer_path_action peer_paths_heard(struct peer_paths *P, unsigned path, uint64_t now)
{
	if (path >= P->n)
		return PEER_PATH_A_NONE;
	P->p[path].last_heard_ns = now;
	return path_event(P, path, PEER_PATH_EV_HEARD, now);
}

static uint64_t quiet_at(const struct peer_paths *P, const struct peer_path *p)
{
	return (p->last_heard_ns ? p->last_heard_ns : p->added_ns) + P->quiet_ns;
}

unsigned peer_paths_tick(struct peer_paths *P, uint64_t now,
			 void (*note)(void *arg, unsigned path, enum peer_path_action a), void *arg)
{
	unsigned went = 0;
	for (unsigned i = 0; i < P->n; i++) {
		struct peer_path *p = &P->p[i];
		if (p->avoid_until_ns && now >= p->avoid_until_ns) {
			p->avoid_until_ns = 0;
			if (note)
				note(arg, i, PEER_PATH_A_RETRY);
		}
		if (p->state != PEER_PATH_SILENT && now >= quiet_at(P, p)) {
			went++;
			enum peer_path_action a = path_event(P, i, PEER_PATH_EV_QUIET, now);
			if (a != PEER_PATH_A_NONE && note)
				note(arg, i, a);
		} else if (p->unlogged && now >= p->last_log_ns + PEER_PATH_LOG_GAP_NS) {
			/* transitions were swallowed: say where the path ended up */
			p->last_log_ns = now;
			if (note)
				note(arg, i, p->state == PEER_PATH_UP ? PEER_PATH_A_BACK : PEER_PATH_A_LOST);
			p->unlogged = 0;
		}
	}
	return went;
}

uint64_t peer_paths_deadline(const struct peer_paths *P)
{
	uint64_t t = UINT64_MAX;
	for (unsigned i = 0; i < P->n; i++) {
		const struct peer_path *p = &P->p[i];
		uint64_t d = p->state != PEER_PATH_SILENT ? quiet_at(P, p)
			   : p->unlogged ? p->last_log_ns + PEER_PATH_LOG_GAP_NS : UINT64_MAX;
		if (p->state != PEER_PATH_SILENT && p->unlogged && p->last_log_ns + PEER_PATH_LOG_GAP_NS < d)
			d = p->last_log_ns + PEER_PATH_LOG_GAP_NS;
		if (p->avoid_until_ns && p->avoid_until_ns < d)
			d = p->avoid_until_ns;
		if (d < t)
			t = d;
	}
	return t;
}

unsigned peer_paths_sync(const struct peer_paths *P)
{
	unsigned best = 0;
	uint64_t heard = 0;
	for (unsigned i = 0; i < P->n; i++)
		if (P->p[i].state == PEER_PATH_UP && !P->p[i].avoid_until_ns)
			return i;
	for (unsigned i = 0; i < P->n; i++) {
		if (P->p[i].state == PEER_PATH_UP)
			return i;
		if (P->p[i].last_heard_ns > heard) {
			heard = P->p[i].last_heard_ns;
			best = i;
		}
	}
	return best;
}

unsigned peer_paths_unreceived(struct peer_paths *P, unsigned path, uint64_t now, uint64_t hold_ns)
{
	if (path < P->n) {
		struct peer_path *p = &P->p[path];
		unsigned k = p->holds < PEER_PATH_HOLD_MAX_DOUBLINGS ? p->holds : PEER_PATH_HOLD_MAX_DOUBLINGS;
		uint64_t hold = hold_ns ? hold_ns : 1;
		p->st.unreceived++;
		p->holds++;
		p->avoid_until_ns = now + (hold > UINT64_MAX >> PEER_PATH_HOLD_MAX_DOUBLINGS ? hold : hold << k);
	}
	return peer_paths_sync(P);
}

void peer_paths_received(struct peer_paths *P, unsigned path)
{
	if (path < P->n)
		P->p[path].holds = 0;
}

bool peer_paths_avoided(const struct peer_paths *P, unsigned path)
{
	return path < P->n && P->p[path].avoid_until_ns != 0;
}

bool peer_paths_up(const struct peer_paths *P, unsigned path)
{
	return path < P->n && P->p[path].state == PEER_PATH_UP;
}

unsigned peer_paths_n_up(const struct peer_paths *P)
{
	unsigned n = 0;
	for (unsigned i = 0; i < P->n; i++)
		n += P->p[i].state == PEER_PATH_UP;
	return n;
}

uint64_t peer_paths_age_ms(const struct peer_paths *P, unsigned path, uint64_t now)
{
	if (path >= P->n || !P->p[path].last_heard_ns)
		return UINT64_MAX;
	return now > P->p[path].last_heard_ns ? (now - P->p[path].last_heard_ns) / 1000000 : 0;
}

const char *peer_path_state_name(int s)
{
	static const char *const n[] = { "unknown", "up", "silent" };
	return s >= 0 && s <= 2 ? n[s] : "?";
}

const char *peer_path_action_name(int a)
{
	static const char *const n[] = { "none", "first heard", "heard again", "silent", "never heard",
					 "tried again for messages" };
	return a >= 0 && a < (int)(sizeof n / sizeof n[0]) ? n[a] : "?";
}
