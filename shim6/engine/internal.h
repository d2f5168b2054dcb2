/* Engine-internal declarations shared by the files of shim6/engine/. */
#ifndef SHIM6_ENGINE_INTERNAL_H
#define SHIM6_ENGINE_INTERNAL_H

#include <shim6/engine.h>
#include <stdbool.h>
#include <string.h>

#define TAG_MASK     ((1ULL << 47) - 1)
#define NEVER        SHIM6_TSTAMP_NEVER
#define PROBE_HIST   4          /* probe reports kept per direction */
#define MAX_FALLBACK 2          /* I2/I2bis -> I1 fallbacks before E-FAILED */

/* Message types (RFC 5533 §5, RFC 5534 §5) */
enum {
	MT_I1 = 1, MT_R1 = 2, MT_I2 = 3, MT_R2 = 4, MT_R1BIS = 5, MT_I2BIS = 6,
	MT_UPDATE_REQ = 64, MT_UPDATE_ACK = 65, MT_KEEPALIVE = 66, MT_PROBE = 67,
	MT_ERROR = 68,
};
/* Option types */
enum {
	OPT_VALIDATOR = 1, OPT_LOCLIST = 2, OPT_LOCPREF = 3, OPT_PDS = 4,
	OPT_CGASIG = 5, OPT_ULIDPAIR = 6, OPT_FII = 7, OPT_KATIMEOUT = 10,
	OPT__MAX = 11,
};
/* Error codes carried in Error messages */
enum { ERR_UNKNOWN_TYPE = 0, ERR_CRITICAL_OPT = 1, ERR_VERIF_METHOD = 2 };

/* ---- message builder / decoder (msg.c) ---------------------------------- */
struct mb {
	uint8_t *buf;
	size_t   len, cap;
	bool     err;
};
void   mb_init(struct mb *m, uint8_t *buf, size_t cap, uint8_t type);
void   mb_u8(struct mb *m, uint8_t v);
void   mb_u16(struct mb *m, uint16_t v);
void   mb_u32(struct mb *m, uint32_t v);
void   mb_tag(struct mb *m, uint64_t tag);         /* R bit 0 + 47 bits */
void   mb_bytes(struct mb *m, const void *p, size_t n);
void   mb_zero(struct mb *m, size_t n);
size_t mb_opt_begin(struct mb *m, uint16_t type, bool crit);
void   mb_opt_end(struct mb *m, size_t off);
size_t mb_finish(struct mb *m);                     /* pads, lengths, checksum */

struct optv { const uint8_t *p; size_t len; const uint8_t *tlv; size_t tlv_len; };
struct dmsg {
	uint8_t        type;
	const uint8_t *m;          /* whole message */
	size_t         len;        /* per Hdr Ext Len */
	struct optv    opt[OPT__MAX];
	int            crit_unknown;   /* offset of the first unknown critical option, or -1 */
};
int      msg_decode(const uint8_t *buf, size_t len, struct dmsg *d);
uint16_t msg_cksum(const uint8_t *p, size_t len);
uint64_t get_tag(const uint8_t *p);
uint32_t get_u32(const uint8_t *p);
uint16_t get_u16(const uint8_t *p);
size_t   msg_fixed_len(uint8_t type);

/* ---- contexts ------------------------------------------------------------ */
struct probe_rec {
	struct shim6_in6 src, dst;
	uint32_t nonce, data;
};

struct ctx {
	uint64_t tag, peer_tag;
	enum shim6_state st;
	struct shim6_in6 lulid, pulid;
	uint32_t forkid;
	bool     initiator;
	unsigned fallbacks;

	/* local locators as last announced */
	size_t   nl;
	struct shim6_locator lloc[SHIM6_MAX_LOCATORS];
	bool     ldown[SHIM6_MAX_LOCATORS];
	uint32_t lgen;
	/* peer locators */
	size_t   np;
	struct shim6_locator ploc[SHIM6_MAX_LOCATORS];
	uint8_t  pver[SHIM6_MAX_LOCATORS];    /* verified by CGA/HBA */
	uint8_t  pprobed[SHIM6_MAX_LOCATORS]; /* passed return routability */
	bool     pdown[SHIM6_MAX_LOCATORS];
	uint32_t pgen;
	bool     pgen_valid;
	/* current pair */
	struct shim6_in6 cur_l, cur_p;

	/* handshake */
	uint32_t inonce, rnonce;
	uint8_t  validator[64];
	size_t   vlen;
	uint64_t pkt_tag;           /* I2bis: tag the R1bis named */
	unsigned retries;
	shim6_tstamp hs_base;       /* un-jittered timeout for the next retry */
	shim6_tstamp t_hs;

	/* update */
	uint32_t upd_nonce;
	shim6_tstamp t_upd, upd_to;
	uint32_t last_ack_nonce;

	/* signature over our locator list, cached per lgen */
	uint8_t *sig;
	size_t   siglen;
	uint32_t sig_gen;
	bool     sig_valid;

	/* REAP */
	enum shim6_reap_state reap;
	shim6_tstamp t_send, t_ka, t_probe, probe_to, explore_start;
	shim6_tstamp ka_interval;
	shim6_tstamp send_to;        /* send timeout announced in our handshake; 0: none (imported) */
	unsigned probes_in_cycle;
	bool     synced;            /* peer seen on the reverse of our pair */
	unsigned sync_left;
	size_t   explore_idx;
	struct probe_rec sent[PROBE_HIST];
	unsigned nsent;
	struct probe_rec rcvd[PROBE_HIST];
	unsigned nrcvd;

	shim6_tstamp t_linger, t_idle, last_data;

	/* indexing */
	shim6_tstamp deadline;
	size_t   heap_idx;          /* SIZE_MAX when not in the heap */
	struct ctx *hn[4];
	bool     in_tab[4];
	bool     pending_counted;
};

enum { HT_TAG = 0, HT_ULID = 1, HT_NONCE = 2, HT_PTAG = 3 };

/* ---- the engine ---------------------------------------------------------- */
struct shim6_engine {
	struct shim6_engine_settings s;
	struct shim6_engine_callbacks cb;
	struct shim6_engine_mem mem;
	struct shim6_engine_rand rnd;

	/* validator secrets (validator.c) */
	uint8_t  key_cur[16], key_prev[16];
	bool     have_prev;
	shim6_tstamp key_born;

	/* tables (table.c) */
	struct ctx **tab[4];
	size_t   nbuckets;
	struct ctx **heap;
	size_t   hn, hcap;
	unsigned nctx, npending;

	/* recovery token bucket, in milli-tokens */
	uint64_t tokens;
	shim6_tstamp tok_t;

	/* local prefixes down by an outside check (local_prefix_state), which
	 * locators new to a context inherit */
	struct { struct shim6_in6 p; unsigned plen; } down[SHIM6_ENG_MAX_DOWN_PREFIXES];
	size_t   ndown;

	/* output queues */
	struct shim6_tx *txq;
	size_t   txh, txn;
	struct shim6_event *evq;
	size_t   evh, evn;

	struct shim6_engine_stats st;
	struct shim6_host_info hi;   /* scratch for host_info */
};

/* engine.c */
void  eng_log(struct shim6_engine *e, int lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct shim6_tx *tx_alloc(struct shim6_engine *e);
void  tx_commit(struct shim6_engine *e, struct shim6_tx *t, const struct shim6_in6 *src,
                const struct shim6_in6 *dst, size_t len);
void  ev_push(struct shim6_engine *e, enum shim6_event_type type, const struct ctx *c, int reason);
uint32_t rnd32(struct shim6_engine *e);
shim6_tstamp jitter(struct shim6_engine *e, shim6_tstamp t);
void  ctx_reschedule(struct shim6_engine *e, struct ctx *c);
struct ctx *ctx_new(struct shim6_engine *e, const struct shim6_in6 *lulid,
                    const struct shim6_in6 *pulid, uint32_t forkid, uint64_t want_tag,
                    shim6_tstamp now);
void  ctx_free(struct shim6_engine *e, struct ctx *c, int reason);
void  ctx_release(struct shim6_engine *e, struct ctx *c);   /* no event */
void  ctx_set_state(struct shim6_engine *e, struct ctx *c, enum shim6_state st);
void  ctx_set_peer_tag(struct shim6_engine *e, struct ctx *c, uint64_t ptag);
void  ctx_set_nonce(struct shim6_engine *e, struct ctx *c, uint32_t nonce);
void  ctx_fill_info(const struct ctx *c, struct shim6_ctx_info *ci);
bool  in6_eq(const struct shim6_in6 *a, const struct shim6_in6 *b);
int   load_local(struct shim6_engine *e, struct ctx *c);
void  send_error(struct shim6_engine *e, const struct dmsg *d, uint8_t code, size_t ptr,
                 const struct shim6_in6 *src, const struct shim6_in6 *dst);

/* table.c */
int   tab_init(struct shim6_engine *e);
void  tab_fini(struct shim6_engine *e);
void  tab_insert(struct shim6_engine *e, int t, struct ctx *c);
void  tab_remove(struct shim6_engine *e, int t, struct ctx *c);
struct ctx *tab_by_tag(struct shim6_engine *e, uint64_t tag);
struct ctx *tab_by_ulid(struct shim6_engine *e, const struct shim6_in6 *l,
                        const struct shim6_in6 *p, uint32_t forkid);
struct ctx *tab_by_nonce(struct shim6_engine *e, uint32_t nonce);
struct ctx *tab_first_ptag(struct shim6_engine *e, uint64_t ptag);
struct ctx *tab_next_ptag(struct ctx *c, uint64_t ptag);
void  heap_update(struct shim6_engine *e, struct ctx *c);
void  heap_remove(struct shim6_engine *e, struct ctx *c);
struct ctx *heap_top(const struct shim6_engine *e);

/* validator.c */
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);
void  validator_rotate(struct shim6_engine *e, shim6_tstamp now);
void  validator_make(struct shim6_engine *e, const uint8_t key[16], uint32_t rnonce,
                     uint64_t tag, uint32_t inonce, const struct shim6_in6 *a,
                     const struct shim6_in6 *b, uint32_t forkid, uint8_t out[16]);
bool  validator_check(struct shim6_engine *e, uint32_t rnonce, uint64_t tag, uint32_t inonce,
                      const struct shim6_in6 *a, const struct shim6_in6 *b, uint32_t forkid,
                      const uint8_t *v, size_t vlen, shim6_tstamp now);

/* fsm.c */
enum fsm_ev {
	FEV_OPEN, FEV_R1, FEV_I2, FEV_R2, FEV_R1BIS, FEV_I2BIS,
	FEV_HS_TIMEOUT, FEV_HS_GIVEUP, FEV_EXPLORE_GIVEUP, FEV_LINGER, FEV_CLOSE,
	FEV__COUNT
};
struct fsm_arg {
	const struct dmsg *d;
	const struct shim6_in6 *src, *dst;
	shim6_tstamp now;
};
const char *fsm_ev_name(enum fsm_ev ev);
int   fsm_run(struct shim6_engine *e, struct ctx *c, enum fsm_ev ev, struct fsm_arg *a);

/* handshake.c: FSM actions and stateless responder */
int   act_send_i1(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a);
int   act_resend_i1(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a);
int   act_send_i2(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a);
int   act_resend_i2(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a);
int   act_accept_i2(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a);
int   act_accept_r2(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a);
int   act_send_i2bis(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a);
int   act_resend_i2bis(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a);
int   act_fallback_i1(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a);
int   act_no_support(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a);
int   act_fail(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a);
int   act_remove(struct shim6_engine *e, struct ctx *c, struct fsm_arg *a);
int   hs_rx_i1(struct shim6_engine *e, const struct dmsg *d, const struct shim6_in6 *src,
               const struct shim6_in6 *dst, shim6_tstamp now);
int   hs_rx_i2(struct shim6_engine *e, const struct dmsg *d, const struct shim6_in6 *src,
               const struct shim6_in6 *dst, shim6_tstamp now);
int   hs_rx_i2bis(struct shim6_engine *e, const struct dmsg *d, const struct shim6_in6 *src,
                  const struct shim6_in6 *dst, shim6_tstamp now);
void  hs_recovery_refill(struct shim6_engine *e, shim6_tstamp now);
int   hs_send_r1bis(struct shim6_engine *e, uint64_t tag, const struct shim6_in6 *src,
                    const struct shim6_in6 *dst, shim6_tstamp now);
void  put_locators(struct shim6_engine *e, struct ctx *c, struct mb *m);
int   take_locators(struct shim6_engine *e, struct ctx *c, const struct dmsg *d,
                    const struct shim6_in6 *src, const struct shim6_in6 *dst, bool initial);
int   hs_timer(struct shim6_engine *e, struct ctx *c, shim6_tstamp now);

/* update.c */
int   upd_start(struct shim6_engine *e, struct ctx *c, shim6_tstamp now);
int   upd_rx_request(struct shim6_engine *e, struct ctx *c, const struct dmsg *d,
                     const struct shim6_in6 *src, const struct shim6_in6 *dst, shim6_tstamp now);
int   upd_rx_ack(struct shim6_engine *e, struct ctx *c, const struct dmsg *d, shim6_tstamp now);
void  upd_timer(struct shim6_engine *e, struct ctx *c, shim6_tstamp now);

/* reap.c */
void  reap_established(struct shim6_engine *e, struct ctx *c, shim6_tstamp now);
void  reap_data(struct shim6_engine *e, struct ctx *c, int dir, shim6_tstamp now);
void  reap_start_explore(struct shim6_engine *e, struct ctx *c, shim6_tstamp now);
int   reap_rx_keepalive(struct shim6_engine *e, struct ctx *c, shim6_tstamp now);
int   reap_rx_probe(struct shim6_engine *e, struct ctx *c, const struct dmsg *d,
                    const struct shim6_in6 *src, const struct shim6_in6 *dst, shim6_tstamp now);
int   reap_timer(struct shim6_engine *e, struct ctx *c, shim6_tstamp now);
void  reap_pair_check(struct shim6_engine *e, struct ctx *c, shim6_tstamp now);

/* select.c */
int   sel_local(struct shim6_engine *e, struct ctx *c);
int   ploc_find(const struct ctx *c, const struct shim6_in6 *a);
int   lloc_find(const struct ctx *c, const struct shim6_in6 *a);
/* src is a peer locator its CGA/HBA check verified and dst one of ours: the
 * pair a REAP probe or an UPDATE must arrive by before it is acted on */
bool  pair_verified(const struct ctx *c, const struct shim6_in6 *src, const struct shim6_in6 *dst);
bool  ploc_usable(const struct ctx *c, size_t i);
bool  lloc_usable(const struct ctx *c, size_t i);

#endif
