/*
 * dpmsg: the typed, length-checked messages between pshim6-control and
 * pshim6-dataplane.  Plain C, no DPDK: the control daemon links only this.
 *
 * Transport: one message per datagram on a Unix SOCK_SEQPACKET socket whose
 * path is the config key `dataplane.socket`.  The dataplane listens; control
 * (or pshim6-dpctl) connects and sends HELLO first.  Every request carries a
 * sequence number; the dataplane answers each request with exactly one of
 * ACK, ERROR or the typed reply named below (dumps: a run of entries closed
 * by DUMP_END carrying the request's seq).  PUNT is unsolicited (seq 0).
 *
 * Wire format (all integers big-endian, so captures and fuzz corpora are
 * portable between hosts):
 *
 *   octet 0      version (DPMSG_VERSION)
 *   octet 1      type (enum dpmsg_type)
 *   octets 2-3   total length, header included (<= DPMSG_MAX_LEN)
 *   octets 4-7   seq
 *   octets 8-    type-specific body, fixed layout per type (see dpmsg.c)
 *
 * dpmsg_decode() rejects any datagram whose length field differs from the
 * datagram length, whose version is not DPMSG_VERSION, whose type is unknown
 * or whose body length does not match its type exactly; it never reads past
 * `len`.  Decoded packet bytes (PUNT, INJECT) point into the caller's buffer.
 */
#ifndef PSHIM6_DPMSG_H
#define PSHIM6_DPMSG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DPMSG_VERSION    1
#define DPMSG_HDR_LEN    8
#define DPMSG_MAX_LEN    4096     /* largest datagram either side sends */
#define DPMSG_PKT_MAX    2048     /* largest packet carried by PUNT/INJECT */
#define DPMSG_MAX_ISP    8        /* ISP ports (HBA host locator slots) */
#define DPMSG_REAP_MAX   128      /* REAP entries per REAP_READ request/reply */
#define DPMSG_COUNTERS_MAX 64     /* counters per COUNTERS reply */
#define DPMSG_ERRTEXT_MAX 96      /* ERROR text, NUL not counted */
#define DPMSG_TAG_MASK   UINT64_C(0x7fffffffffff) /* context tags are 47 bits */

/* Decode/encode results: negative, stable, documented. */
enum dpmsg_rc {
	DPMSG_OK          = 0,
	DPMSG_E_SHORT     = -1, /* fewer bytes than the header or the length field says */
	DPMSG_E_LEN       = -2, /* length field != datagram length, or body length wrong for type */
	DPMSG_E_VERSION   = -3, /* version octet is not DPMSG_VERSION */
	DPMSG_E_TYPE      = -4, /* unknown message type */
	DPMSG_E_FIELD     = -5, /* a field is out of range (tag > 47 bits, count too big, ...) */
	DPMSG_E_NOSPACE   = -6, /* encode: output buffer too small */
	DPMSG_E_TOOBIG    = -7, /* packet longer than DPMSG_PKT_MAX */
	DPMSG_E_IO        = -8, /* dpmsg_send/dpmsg_recv: socket error (errno kept) */
	DPMSG_E_CLOSED    = -9, /* dpmsg_recv: peer closed */
};

/* Application error codes carried in ERROR replies (struct dpmsg_error.code). */
enum dpmsg_err {
	DPMSG_ERR_INVAL    = 1, /* request malformed or fields inconsistent */
	DPMSG_ERR_EXISTS   = 2, /* CTX_ADD: ULID pair or own tag already installed */
	DPMSG_ERR_NOTFOUND = 3, /* CTX_MOD/CTX_DEL/HOST_DEL: no such entry */
	DPMSG_ERR_FULL     = 4, /* table at its configured bound */
	DPMSG_ERR_PORT     = 5, /* ISP index / port out of range */
	DPMSG_ERR_VERSION  = 6, /* HELLO version not supported */
	DPMSG_ERR_NOHELLO  = 7, /* request before HELLO */
	DPMSG_ERR_INTERNAL = 8,
};

enum dpmsg_type {
	DPMSG_HELLO       = 1,  /* both ways: version and sizes */
	DPMSG_ACK         = 2,  /* dp->ctl: request `seq` applied */
	DPMSG_ERROR       = 3,  /* dp->ctl: request `seq` refused */
	DPMSG_CTX_ADD     = 10, /* ctl->dp: install a context */
	DPMSG_CTX_MOD     = 11, /* ctl->dp: new locator pair and/or new peer tag / ISP */
	DPMSG_CTX_DEL     = 12, /* ctl->dp: remove by own tag */
	DPMSG_HOST_ADD    = 20, /* ctl->dp: HBA host: CMULA and its locator per ISP */
	DPMSG_HOST_DEL    = 21,
	DPMSG_PUNT        = 30, /* dp->ctl: packet the fast path does not handle */
	DPMSG_INJECT      = 31, /* ctl->dp: send these bytes out of a port */
	DPMSG_DUMP_REQ    = 40, /* ctl->dp: dump contexts and/or hosts */
	DPMSG_DUMP_CTX    = 41, /* dp->ctl: one context (body as CTX_ADD) */
	DPMSG_DUMP_HOST   = 42, /* dp->ctl: one HBA host (body as HOST_ADD) */
	DPMSG_DUMP_END    = 43, /* dp->ctl: end of dump, with entry count */
	DPMSG_REAP_REQ    = 50, /* ctl->dp: read REAP stamps for these own tags */
	DPMSG_REAP        = 51, /* dp->ctl: stamps, same order as requested */
	DPMSG_COUNTERS_REQ = 52,/* ctl->dp: read aggregated counters */
	DPMSG_COUNTERS    = 53, /* dp->ctl: (id, value) pairs */
	DPMSG_REAP_SCAN_REQ = 54, /* ctl->dp: stamps of the contexts with traffic since a time */
	DPMSG_REAP_SCAN   = 55, /* dp->ctl: those contexts, and where the walk goes on */
	DPMSG_ISP_STATE   = 56, /* dp->ctl: the ISPs its probes say have failed, or drained (after HELLO, and on change) */
};

/* struct dpmsg_ctx.flags */
#define DPMSG_CTXF_MSS_CLAMP  0x0001u /* clamp TCP MSS on this context's SYNs */
#define DPMSG_CTXF_DEFAULT_FII 0x0002u /* this is the context egress uses for the ULID pair */

/* struct dpmsg_ctx_mod.what */
#define DPMSG_MOD_LOCATORS  0x01u /* local_loc/remote_loc/isp replace the current pair */
#define DPMSG_MOD_PEER_TAG  0x02u /* peer_tag replaces the current one */
#define DPMSG_MOD_FLAGS     0x04u

/* Context: key for egress is (local_ulid, remote_ulid); key for ingress is own_tag. */
struct dpmsg_ctx {
	uint8_t  local_ulid[16];  /* our site host's CMULA */
	uint8_t  remote_ulid[16];
	uint8_t  local_loc[16];   /* source address on the wire */
	uint8_t  remote_loc[16];  /* destination address on the wire */
	uint64_t peer_tag;        /* tag we put in the payload header we send (47 bits) */
	uint64_t own_tag;         /* tag the peer puts in packets to us (47 bits) */
	uint32_t fii;             /* forked instance identifier, 0 = none */
	uint32_t flags;           /* DPMSG_CTXF_* */
	uint8_t  isp;             /* egress ISP index owning local_loc (< DPMSG_MAX_ISP) */
};
#define DPMSG_CTX_BODY 89  /* encoded body of CTX_ADD, CTX_DEL, DUMP_CTX */

struct dpmsg_ctx_mod {
	uint32_t what;            /* DPMSG_MOD_* (at least one bit) */
	struct dpmsg_ctx ctx;     /* own_tag selects the context; other fields per `what` */
};

struct dpmsg_host {
	uint8_t cmula[16];
	uint8_t nloc;                        /* locators used, <= DPMSG_MAX_ISP */
	uint8_t loc[DPMSG_MAX_ISP][16];      /* loc[i] is the locator under ISP i */
};

struct dpmsg_hello {
	uint16_t version;         /* DPMSG_VERSION */
	uint16_t role;            /* 1 = control, 2 = dataplane, 3 = dpctl tool */
	uint32_t ctx_capacity;    /* dataplane: context table bound; control: 0 */
	uint32_t host_capacity;   /* dataplane: HBA host table bound */
	uint16_t n_lcores;        /* dataplane: forwarding lcores */
	uint16_t n_isp;           /* dataplane: ISP ports */
	uint64_t boot_id;         /* dataplane: changes on every start (control re-dumps) */
};
#define DPMSG_ROLE_CONTROL   1
#define DPMSG_ROLE_DATAPLANE 2
#define DPMSG_ROLE_TOOL      3

/* PUNT reasons */
enum dpmsg_punt_reason {
	DPMSG_PUNT_NO_CTX      = 1, /* egress to a remote CMULA without a context */
	DPMSG_PUNT_UNKNOWN_TAG = 2, /* ingress payload header with an unknown tag (-> R1bis) */
	DPMSG_PUNT_SHIM6_CTL   = 3, /* ingress Shim6 control message */
	/* 4 is not used: a payload header after a Fragment header is dropped
	 * (counter drop_shim6_after_fragment), not punted */
};

struct dpmsg_punt {
	uint16_t reason;          /* enum dpmsg_punt_reason */
	uint16_t port;            /* port index it arrived on (0 = inside, 1+i = ISP i) */
	uint32_t orig_len;        /* frame length before truncation to DPMSG_PKT_MAX */
	uint32_t len;             /* bytes in data (IPv6 packet, no L2 header) */
	const uint8_t *data;
};

/* struct dpmsg_inject.flags */
#define DPMSG_INJECT_AS_RX  0x0001u /* process as if received on `port` (e.g. held packets
				       after a handshake: they take the fast path) */
struct dpmsg_inject {
	uint16_t port;            /* output port index (0 = inside, 1+i = ISP i) */
	uint16_t flags;           /* DPMSG_INJECT_*; 0 = send out of `port` as is */
	uint32_t len;
	const uint8_t *data;      /* IPv6 packet, no L2 header; dataplane adds Ethernet */
};

#define DPMSG_DUMP_CONTEXTS 0x01u
#define DPMSG_DUMP_HOSTS    0x02u
struct dpmsg_dump_req { uint32_t what; };
struct dpmsg_dump_end { uint32_t count; };

/* Unsolicited (seq 0): bit i of `down` set when ISP i's probes went
 * unanswered or isps.drain takes it out (an ISP with neither is never
 * set); no bit >= n_isp. */
struct dpmsg_isp_state {
	uint16_t n_isp;           /* <= DPMSG_MAX_ISP */
	uint32_t down;
};
#define DPMSG_ISP_STATE_BODY 8   /* n_isp, 2 octets reserved (0), down */

/* REAP: times are CLOCK_MONOTONIC nanoseconds, latest over all lcores; 0 = never. */
struct dpmsg_reap_req {
	uint16_t n;
	uint64_t own_tag[DPMSG_REAP_MAX];
};
struct dpmsg_reap_entry {
	uint64_t own_tag;
	uint64_t last_sent_ns;
	uint64_t last_recv_ns;    /* both 0 and found=0 when the tag is unknown */
	uint8_t  found;
};
struct dpmsg_reap {
	uint16_t n;
	struct dpmsg_reap_entry e[DPMSG_REAP_MAX];
};

/*
 * REAP_SCAN: the dataplane walks its context table from `cursor` (0 = the
 * start), looks at no more than `max_slots` contexts (1..DPMSG_SCAN_SLOTS_MAX)
 * and returns those with a stamp later than `since_ns`, at most
 * DPMSG_REAP_MAX of them (entries as in REAP, `found` always 1).  `next` is
 * the cursor of the next request, DPMSG_SCAN_END when the walk is done.
 * Idle contexts cost a look in the dataplane and nothing on the wire, so a
 * large table is read in a few requests when little of it is busy.  A
 * context installed during a walk can be missed by that walk (one removed
 * is simply not there): a reader asks for changes since the walk before
 * the last one.
 */
#define DPMSG_SCAN_SLOTS_MAX 65536u
#define DPMSG_SCAN_END   UINT32_MAX
struct dpmsg_reap_scan_req {
	uint32_t cursor;
	uint32_t max_slots;
	uint64_t since_ns;        /* CLOCK_MONOTONIC */
};
struct dpmsg_reap_scan {
	uint32_t next;            /* DPMSG_SCAN_END: walk done */
	uint16_t n;
	struct dpmsg_reap_entry e[DPMSG_REAP_MAX];
};

/* Counter ids of COUNTERS replies; values summed over lcores. */
enum dpmsg_counter_id {
	DPMSG_CNT_RX_IN_PKTS = 1, DPMSG_CNT_RX_IN_BYTES, DPMSG_CNT_RX_OUT_PKTS, DPMSG_CNT_RX_OUT_BYTES,
	DPMSG_CNT_TX_IN_PKTS, DPMSG_CNT_TX_IN_BYTES, DPMSG_CNT_TX_OUT_PKTS, DPMSG_CNT_TX_OUT_BYTES,
	DPMSG_CNT_EGRESS_SHIM, DPMSG_CNT_INGRESS_SHIM, DPMSG_CNT_NAT_OUT, DPMSG_CNT_NAT_IN,
	DPMSG_CNT_PUNT, DPMSG_CNT_PUNT_DROP, DPMSG_CNT_ICMP_GEN, DPMSG_CNT_ICMP_XLATE,
	DPMSG_CNT_DROP_MALFORMED, DPMSG_CNT_DROP_NOT_IPV6, DPMSG_CNT_DROP_NO_ROUTE,
	DPMSG_CNT_DROP_TX, DPMSG_CNT_DROP_HDR_CHAIN, DPMSG_CNT_DROP_MTU, DPMSG_CNT_EXCEPTION,
	DPMSG_CNT_CTX_ENTRIES, DPMSG_CNT_HOST_ENTRIES,
	DPMSG_CNT_NODE_CYCLES,       /* TSC cycles in node processing (--node-clock), drivers excluded */
	DPMSG_CNT_NODE_PKTS,         /* packets those cycles were spent on */
	DPMSG_CNT_MSS_CLAMPED, DPMSG_CNT_ICMP_XLATE_OUT, DPMSG_CNT_MSS_MALFORMED,
	DPMSG_CNT_ND_MAC_CHANGED,    /* a learned next-hop MAC replaced by a newer one */
	DPMSG_CNT_ND_PROBES,         /* unicast solicitations re-confirming a next hop */
	DPMSG_CNT_ND_UNREACHABLE,    /* next hops that left their probes unanswered */
	DPMSG_CNT_CONF_RELOADS,      /* config reloads applied (SIGHUP) */
	DPMSG_CNT_CONF_RELOAD_REFUSED, /* reloads refused: errors, or a key that needs a restart */
	DPMSG_CNT_DROP_SHIM_AFTER_FRAG, /* payload header after a Fragment header (RFC 5533 puts it before) */
	DPMSG_CNT_CHAN_CLIENT_STALLED,  /* channel clients dropped: their answers unread for too long */
	DPMSG_CNT_CHAN_ACCEPT_FAILED,   /* channel connections not accepted (descriptors or memory short) */
	DPMSG_CNT_ND_RECEIVED,          /* next-hop advertisements taken by a port with no kernel interface */
	DPMSG_CNT_NAT_FLOW_OUT,         /* NATv6 out by the ISP a peer's connection came in by, not the pick */
	DPMSG_CNT_NAT_FLOWS_NOTED,      /* such connections noted (natpin.h) */
	DPMSG_CNT_NAT_FLOWS_EVICTED,    /* notes that replaced the oldest of a full bucket */
	DPMSG_CNT_ISP_PROBES,           /* echo requests sent to find whether an ISP works (probe.h) */
	DPMSG_CNT_ISP_PROBE_REPLIES,    /* their answers */
	DPMSG_CNT_ISP_DOWN,             /* times an ISP was taken out of NATv6 (its probes lost) */
	DPMSG_CNT_NAT_ISP_MOVED,        /* NATv6 out by another ISP than the pick, which had failed */
	DPMSG_CNT_NAT_FLOWS_EXPIRED,    /* notes removed when found idle past their protocol's time */
	DPMSG_CNT_SHIM_GENERAL,         /* shimmed packets (either way) with a context, off the node loops'
	                                   canonical path: extension headers or Ethernet padding */
	DPMSG_CNT__MAX
};
struct dpmsg_counter { uint16_t id; uint64_t value; };
struct dpmsg_counters {
	uint16_t n;
	struct dpmsg_counter c[DPMSG_COUNTERS_MAX];
};

struct dpmsg_error {
	int32_t  code;            /* enum dpmsg_err */
	char     text[DPMSG_ERRTEXT_MAX + 1]; /* NUL-terminated after decode */
};

/* A decoded (or to-be-encoded) message.  Large arrays make it ~4 KiB. */
struct dpmsg {
	uint8_t  type;            /* enum dpmsg_type */
	uint32_t seq;
	union {
		struct dpmsg_hello hello;
		struct dpmsg_error error;
		struct dpmsg_ctx ctx;            /* CTX_ADD, CTX_DEL (only own_tag used), DUMP_CTX */
		struct dpmsg_ctx_mod mod;        /* CTX_MOD */
		struct dpmsg_host host;          /* HOST_ADD, HOST_DEL (only cmula used), DUMP_HOST */
		struct dpmsg_punt punt;
		struct dpmsg_inject inject;
		struct dpmsg_dump_req dump_req;
		struct dpmsg_dump_end dump_end;
		struct dpmsg_isp_state isp_state;
		struct dpmsg_reap_req reap_req;
		struct dpmsg_reap reap;
		struct dpmsg_reap_scan_req scan_req;
		struct dpmsg_reap_scan scan;
		struct dpmsg_counters counters;
	} u;
};

/* Encode m into buf[cap]; returns the datagram length (> 0) or a DPMSG_E_*. */
int dpmsg_encode(const struct dpmsg *m, uint8_t *buf, size_t cap);

/* Decode one datagram; returns DPMSG_OK or a DPMSG_E_*.  On error *m is unspecified. */
int dpmsg_decode(const uint8_t *buf, size_t len, struct dpmsg *m);

/* Encode and send one datagram on a SOCK_SEQPACKET fd (blocking unless fd is not). */
int dpmsg_send(int fd, const struct dpmsg *m);

/* Receive one datagram into buf[cap] (>= DPMSG_MAX_LEN) and decode it into m. */
int dpmsg_recv(int fd, uint8_t *buf, size_t cap, struct dpmsg *m);

/* Connect to the dataplane socket; returns fd or -1 (errno set). */
int dpmsg_connect(const char *path);

const char *dpmsg_strerror(int rc);       /* for DPMSG_E_* */
const char *dpmsg_errname(int32_t code);  /* for enum dpmsg_err */
const char *dpmsg_type_name(uint8_t type);
const char *dpmsg_counter_name(uint16_t id);

#ifdef __cplusplus
}
#endif
#endif
