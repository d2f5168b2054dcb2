/*
 * pshim6 DHCPv6 hook core: CMULA allocation as CGA or HBA, the CGA Parameter
 * Data Structure (PDS) kept in the lease's user-context, the pending table
 * that bridges Solicit and Request, and the lease messages to pshim6-control.
 *
 * Plain C, no Kea: the Kea callouts file (callouts.cc) is a thin adapter, and
 * everything here is unit-tested and fuzzed without Kea.  Time comes in as
 * `now` (seconds), randomness and "is this address leased?" as callbacks.
 */
#ifndef PSHIM6_DHCP_PDH_H
#define PSHIM6_DHCP_PDH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Errors (negative return values). */
enum {
	PDH_OK = 0,
	PDH_EINVAL = -1,     /* malformed input or parameter */
	PDH_ENOSPC = -2,     /* output buffer too small */
	PDH_EEXHAUSTED = -3, /* every modifier/collision count tried is leased */
	PDH_ECRYPTO = -4,    /* hash or key operation failed */
	PDH_EIO = -5,        /* socket or file error */
	PDH_ENOENT = -6,     /* not found */
	PDH_EFULL = -7,      /* bounded table full (oldest entry was evicted) */
};

const char *pdh_strerror(int err);

/* ---- hex ---------------------------------------------------------------- */
/* Writes 2*n lowercase hex chars and a NUL; returns PDH_ENOSPC if cap < 2n+1. */
int pdh_hex_encode(char *out, size_t cap, const uint8_t *in, size_t n);
/* Decodes exactly inlen hex chars; returns the byte count or a negative error. */
ssize_t pdh_hex_decode(uint8_t *out, size_t cap, const char *in, size_t inlen);

/* ---- CGA Parameter Data Structure (RFC 3972 §3, RFC 5535 §4) ------------ */
#define PDH_MAX_PREFIXES 8          /* CMULA prefix + up to 7 PA prefixes */
#define PDH_KEY_MAX 1024            /* DER SubjectPublicKeyInfo */
#define PDH_PDS_MAX (16 + 8 + 1 + PDH_KEY_MAX + 4 + 4 + 8 * PDH_MAX_PREFIXES)
#define PDH_EXT_MULTI_PREFIX 0x0012

struct pdh_pds {
	uint8_t modifier[16];
	uint8_t prefix[8];
	uint8_t collision_count;
	const uint8_t *key; /* points into the parsed buffer */
	size_t key_len;
	/* Multi-Prefix extension (HBA); n_prefixes == 0 for a plain CGA. */
	int has_multi_prefix;
	uint8_t p_flag;
	size_t n_prefixes;
	uint8_t prefixes[PDH_MAX_PREFIXES][8];
};

/* Parses a PDS; rejects trailing junk, bad DER lengths, collision count > 2,
 * unknown or duplicate extensions and more than PDH_MAX_PREFIXES prefixes. */
int pdh_pds_parse(struct pdh_pds *out, const uint8_t *buf, size_t len);
/* Encodes `p` (key and prefixes included); returns the length or an error. */
ssize_t pdh_pds_encode(uint8_t *out, size_t cap, const struct pdh_pds *p);

/* ---- configuration ------------------------------------------------------ */
enum pdh_mode { PDH_MODE_CGA = 0, PDH_MODE_HBA = 1 };

struct pdh_conf {
	uint8_t key[PDH_KEY_MAX]; /* DER SubjectPublicKeyInfo of the site key */
	size_t key_len;
	uint8_t key_id[8];        /* leftmost 64 bits of SHA-256(key) */
	int sec;                  /* 0..PDH_SEC_MAX */
	enum pdh_mode mode;
	uint8_t cmula_prefix[8];
	size_t n_pa;
	uint8_t pa[PDH_MAX_PREFIXES - 1][8];
	char control_socket[108];
	unsigned pending_ttl;     /* seconds a Solicit's CMULA waits for its Request */
	size_t pending_max;
	size_t modifier_pool;     /* precomputed modifiers (Sec >= 1); 0: none */
};

/* Sec 2 costs ~2^32 SHA-1 per address: far too slow for a DHCP server. */
#define PDH_SEC_MAX 1

/* Raw parameters as they come from Kea's `parameters` map (strings may be NULL
 * when absent; integers < 0 when absent). */
struct pdh_params {
	const char *public_key_file;
	long long sec;
	const char *mode;
	const char *cmula_prefix;
	const char *pa_prefixes[PDH_MAX_PREFIXES]; /* NULL-terminated */
	size_t n_pa_given;                         /* how many the map held */
	const char *control_socket;
	long long pending_ttl;
	long long pending_max;
	long long modifier_pool;
};

void pdh_params_init(struct pdh_params *p);
/* Validates `p`, loads the public key; on error writes a one-line reason. */
int pdh_conf_load(struct pdh_conf *c, const struct pdh_params *p, char *err, size_t errlen);
/* Parses "2001:db8:1::/64" (a /64, host bits zero) into 8 octets. */
int pdh_prefix64_parse(uint8_t out[8], const char *s);
/* Sets key, key_len and key_id from a PEM file; rejects private keys. */
int pdh_conf_load_key(struct pdh_conf *c, const char *path, char *err, size_t errlen);

/* ---- allocation --------------------------------------------------------- */
typedef int (*pdh_rand_fn)(void *arg, uint8_t *buf, size_t n);            /* 0 on success */
typedef int (*pdh_taken_fn)(void *arg, const uint8_t addr[16]);           /* 1 taken, 0 free, <0 error */

struct pdh_alloc_result {
	uint8_t addr[16];
	uint8_t pds_bytes[PDH_PDS_MAX]; /* as shim6 built it */
	size_t pds_len;
	struct pdh_pds pds;       /* parsed view into pds_bytes */
	unsigned modifiers_tried; /* for counters */
	unsigned collisions;
};

#define PDH_MODIFIER_ATTEMPTS 4 /* fresh modifiers before giving up */

int pdh_alloc(const struct pdh_conf *c, pdh_rand_fn rnd, void *rnd_arg,
              pdh_taken_fn taken, void *taken_arg, struct pdh_alloc_result *out);
/* The address of the set under `prefix` (HBA: any prefix of the set; CGA:
 * the PDS's own prefix). */
int pdh_addr_for_prefix(uint8_t addr[16], const struct pdh_pds *p, const uint8_t prefix[8], int sec);
/* ---- modifier pool (Sec >= 1) ------------------------------------------ */
/* Hash2 covers modifier, key and extensions, never the subnet prefix or the
 * collision count; so modifiers meeting Sec can be searched ahead of need by
 * a background thread (niced) and each used once.  Bursts of Solicits then
 * cost one Hash1 each until the pool runs dry; the steady rate stays bound by
 * the search.  Bounded ring; when full the thread sleeps. */
struct pdh_modpool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t (*mods)[16];
	size_t cap, head, count;
	volatile int stop;
	int running;
	pthread_t th;
	const struct pdh_conf *conf;
	pdh_rand_fn rnd;
	void *rnd_arg;
	uint64_t made, taken, empty;
};
#define PDH_MODPOOL_MAX 65536
int pdh_modpool_init(struct pdh_modpool *mp, const struct pdh_conf *c, size_t cap,
                     pdh_rand_fn rnd, void *rnd_arg);
/* Searches one modifier and adds it (the thread's step; tests call it). */
int pdh_modpool_fill_one(struct pdh_modpool *mp);
int pdh_modpool_start(struct pdh_modpool *mp);
void pdh_modpool_free(struct pdh_modpool *mp); /* stops and joins the thread */
/* 0 and a modifier, or PDH_ENOENT when empty. */
int pdh_modpool_take(struct pdh_modpool *mp, uint8_t out[16]);

/* pdh_alloc drawing its first modifier from `pool` when it has one. */
int pdh_alloc_ex(const struct pdh_conf *c, pdh_rand_fn rnd, void *rnd_arg,
                 pdh_taken_fn taken, void *taken_arg, struct pdh_modpool *pool,
                 struct pdh_alloc_result *out);

/* Recomputes the address of `pds` and compares with addr; 0 if it verifies. */
int pdh_verify(const uint8_t addr[16], const struct pdh_pds *pds, int sec);

/* ---- user-context ------------------------------------------------------- */
/* Writes the JSON object stored under user-context "pshim6". */
int pdh_ctx_format(char *out, size_t cap, const struct pdh_conf *c, const struct pdh_pds *p);
/* Extracts and parses the "pds" hex of such an object (or of a lease message):
 * decodes into buf, parses into out. */
int pdh_ctx_pds_from_hex(struct pdh_pds *out, uint8_t *buf, size_t cap, const char *hex, size_t hexlen);

/* ---- pending table (Solicit -> Request) --------------------------------- */
#define PDH_CLIENT_MAX 144 /* DUID (<= 128 + type) + IAID */

struct pdh_pending_entry {
	uint8_t client[PDH_CLIENT_MAX];
	size_t client_len;
	uint8_t addr[16];
	uint8_t pds[PDH_PDS_MAX];
	size_t pds_len;
	uint64_t expires;
	int used;
	int32_t cnext, anext; /* hash chains by client and by address */
	int32_t older, newer; /* age list (live) or free list (newer) */
};

struct pdh_pending {
	pthread_mutex_t lock;
	struct pdh_pending_entry *e;
	size_t cap;
	int32_t oldest, newest, freelist;
	int32_t *cbucket, *abucket;
	size_t nbucket;     /* power of two >= cap */
	unsigned ttl;
	uint64_t evicted, expired;
};

int pdh_client_key(uint8_t *out, size_t cap, const uint8_t *duid, size_t duid_len, uint32_t iaid);
int pdh_pending_init(struct pdh_pending *t, size_t cap, unsigned ttl);
void pdh_pending_free(struct pdh_pending *t);
/* Stores (replaces) the client's entry in a free slot.  No free slot: reuses
 * the oldest entry's; if that one was still live it is evicted, counted, and
 * PDH_EFULL returned (the new entry is stored all the same). */
int pdh_pending_put(struct pdh_pending *t, const uint8_t *client, size_t clen,
                    const uint8_t addr[16], const uint8_t *pds, size_t pds_len, uint64_t now);
/* Copies the client's live entry; PDH_ENOENT when none or expired. */
int pdh_pending_get(struct pdh_pending *t, const uint8_t *client, size_t clen,
                    uint64_t now, struct pdh_pending_entry *out);
/* 1 when a live entry of another client holds addr. */
int pdh_pending_addr_taken(struct pdh_pending *t, const uint8_t addr[16],
                           const uint8_t *client, size_t clen, uint64_t now);
/* Drops the entry holding addr; returns 1 if one was dropped. */
int pdh_pending_drop_addr(struct pdh_pending *t, const uint8_t addr[16]);
size_t pdh_pending_count(struct pdh_pending *t, uint64_t now);

/* ---- control-daemon messages -------------------------------------------- */
enum pdh_event { PDH_EV_ADD, PDH_EV_RENEW, PDH_EV_RELEASE, PDH_EV_EXPIRE };
/* One line {"cmd":"lease",...}\n as COMMON.md fixes it. */
int pdh_msg_lease(char *out, size_t cap, enum pdh_event ev, const uint8_t addr[16],
                  enum pdh_mode mode, const uint8_t *pds, size_t pds_len,
                  const uint8_t *duid, size_t duid_len, uint32_t iaid);
/* Parses a reply line: 0 for {"ok":true}, PDH_EINVAL for anything else
 * (error text, if present, copied into err). */
int pdh_msg_reply(const char *line, size_t len, char *err, size_t errlen);

/* Blocking client with short timeouts and reconnect back-off, one per hook;
 * calls are serialised by its mutex so Kea's worker threads may share it. */
struct pdh_notifier {
	pthread_mutex_t lock;
	char path[108];
	int fd;
	uint64_t retry_at; /* no connect attempt before this (seconds) */
	unsigned timeout_ms;
	uint64_t sent, failed, skipped;
};
void pdh_notifier_init(struct pdh_notifier *n, const char *path, unsigned timeout_ms);
void pdh_notifier_close(struct pdh_notifier *n);
/* Sends one line and waits for its reply.  Absent path: returns PDH_ENOENT
 * at once.  After a failure no attempt is made for 5 seconds. */
int pdh_notifier_send(struct pdh_notifier *n, const char *line, uint64_t now);

#ifdef __cplusplus
}
#endif
#endif
