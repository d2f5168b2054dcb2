/* A simulated network of site proxies, each running one shim6 engine, for
 * the engine's scenario tests, random run and benchmark. */
#ifndef SHIM6_TEST_SIM_H
#define SHIM6_TEST_SIM_H

#include <shim6/engine.h>
#include <stdbool.h>
#include <stdint.h>

#define SIM_MAX_SITES 4
#define SIM_MAX_HOSTS 8
#define SIM_MAX_LOCS  3
#define SIM_MAX_PKTS  4096
#define SIM_MAX_FLOWS 64
#define SIM_MAX_EVENTS 4096

struct sim_pkt {
	shim6_tstamp at;
	struct shim6_in6 src, dst;
	bool payload;
	uint64_t tag;
	size_t len;
	uint8_t buf[SHIM6_MAX_MSG];
};

struct sim_flow {            /* data in both directions on a ULID pair */
	int s1, h1, s2, h2;
	uint32_t forkid;
	shim6_tstamp interval, next;
	bool active;
	bool oneway;         /* only s1's side opens contexts and sends */
};

struct sim_ev { int site; struct shim6_event ev; shim6_tstamp at; };

struct sim;
struct sim_site {
	struct sim *sim;
	int idx;
	struct shim6_engine *eng;
	int nhosts, nlocs;
	bool loc_removed[SIM_MAX_HOSTS][SIM_MAX_LOCS];
	uint8_t loc_flags[SIM_MAX_LOCS];
	uint32_t gen[SIM_MAX_HOSTS];
	bool cga;                /* sign locator lists */
	bool reject_verify;      /* make verify fail (tests) */
};

struct sim {
	shim6_tstamp now;
	uint64_t rng;
	int nsites;
	struct sim_site site[SIM_MAX_SITES];
	/* network */
	double loss, dup, reorder;
	shim6_tstamp delay;
	bool fail[SIM_MAX_SITES][SIM_MAX_LOCS][SIM_MAX_SITES][SIM_MAX_LOCS];
	struct sim_pkt *pkts;
	size_t npkts;
	uint64_t dropped, delivered;
	/* traffic */
	struct sim_flow flows[SIM_MAX_FLOWS];
	int nflows;
	/* events */
	struct sim_ev evs[SIM_MAX_EVENTS];
	int nevs;
	/* allocation accounting */
	long allocs;
	/* tap: every message delivered is offered to it (attacker tests) */
	void (*tap)(void *u, const struct sim_pkt *p);
	void *tap_user;
	bool log;
	/* every message an engine emits, before the network sees it */
	void (*tx_tap)(void *u, int site, const struct shim6_tx *tx);
	void *tx_tap_user;
};

struct shim6_in6 sim_ulid(int site, int host);
struct shim6_in6 sim_loc(int site, int host, int loc);
int  sim_addr_site(const struct shim6_in6 *a);
int  sim_addr_loc(const struct shim6_in6 *a);

/* settings may be NULL (RFC defaults with small bounds) */
void sim_init(struct sim *s, uint64_t seed, int nsites, int nhosts, int nlocs,
              const struct shim6_engine_settings *settings);
void sim_fini(struct sim *s);
void sim_reset_site(struct sim *s, int site);   /* lose all state */
void sim_set_fail(struct sim *s, int s1, int l1, int s2, int l2, bool failed);
int  sim_open(struct sim *s, int s1, int h1, int s2, int h2, uint32_t forkid, uint64_t *id);
int  sim_flow(struct sim *s, int s1, int h1, int s2, int h2, uint32_t forkid, shim6_tstamp interval);
void sim_inject(struct sim *s, const struct shim6_in6 *src, const struct shim6_in6 *dst,
                const uint8_t *buf, size_t len, bool payload, uint64_t tag);
void sim_run(struct sim *s, shim6_tstamp duration);
bool sim_ctx(struct sim *s, int site, int h, int peer_site, int ph, uint32_t forkid,
             struct shim6_ctx_info *out);
int  sim_count_events(struct sim *s, int site, enum shim6_event_type t);
uint64_t sim_rand(struct sim *s);
/* the stand-in CGA signature of the simulated sites */
uint64_t sim_fake_sig(const struct shim6_in6 *ulid, const uint8_t *data, size_t len);
/* "both ends agree": established, tags cross-match, pairs are reverses */
bool sim_agree(struct sim *s, int s1, int h1, int s2, int h2, uint32_t forkid, char *why, size_t n);

#endif
