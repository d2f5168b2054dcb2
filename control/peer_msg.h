/*
 * Messages between a site's primary and backup proxies (UDP, port
 * peer.port).  One message per datagram, OpenBSD imsg style: a fixed
 * header with type and total length, a typed body whose length each type
 * fixes (or bounds), and an HMAC-SHA256 over header and body with the key
 * of peer.key_file.  Sans-I/O: callers pass bytes, get bytes.
 *
 *   0  u8  version (1)        1  u8  type        2  u16 length (whole datagram)
 *   4  u8  sender role        5  u8  sender state 6  u16 reserved (0)
 *   8  u64 session   random per sender run
 *  16  u64 echo      the receiver's session as last seen by the sender (0: none)
 *  24  u64 seq       per session, strictly increasing
 *  32  body
 *  len-32  HMAC-SHA256(key, octets 0 .. len-33)
 * All integers big-endian.
 */
#ifndef PSHIM6_CONTROL_PEER_MSG_H
#define PSHIM6_CONTROL_PEER_MSG_H
#include <stddef.h>
#include <stdint.h>
#include "state.h"

#define PEER_VERSION   1
#define PEER_HDR_LEN   32
#define PEER_MAC_LEN   32
#define PEER_KEY_MIN   32          /* octets in peer.key_file */
#define PEER_KEY_MAX   1024
/* CTX body: 4 addresses, 2 tags, forkid, isp, flags, line length, line */
#define PEER_CTX_FIXED 88
/* SYNC_CTX body: u32 epoch, then a CTX body */
#define PEER_SYNC_CTX_FIXED (4 + PEER_CTX_FIXED)
#define PEER_LINE_MAX  (STATE_LINE_MAX - 1)
#define PEER_MSG_MAX   (PEER_HDR_LEN + PEER_SYNC_CTX_FIXED + PEER_LINE_MAX + PEER_MAC_LEN)

enum peer_type {
	PEER_HEARTBEAT = 1,   /* body 12: u32 contexts held (replicas when standing by),
	                         u32 last full sync received whole, u32 last one sent */
	PEER_CTX = 2,         /* body 88 + line: one context, added or changed (an
	                         incremental update, outside any full sync) */
	PEER_CTX_DEL = 3,     /* body 8: u64 own tag */
	PEER_SYNC_BEGIN = 4,  /* body 8: u32 epoch (non-zero), u32 contexts listed
	                         (the sender's table when the sync starts) */
	PEER_SYNC_END = 5,    /* body 8: u32 epoch (non-zero), u32 SYNC_CTX sent in
	                         it (fewer when contexts went away meanwhile) */
	PEER_LEASE = 6,       /* body 1..PEER_LINE_MAX: a host's lease as the DHCP hook's
	                         "lease" request line (JSON, no NUL/CR/LF); the receiver
	                         applies it with the control socket's own checks.  The
	                         ACTIVE proxy adds "sync": the epoch of the full sync
	                         the line is an item of, 0 for its own hook's change:
	                         SYNC_BEGIN and SYNC_END may be lost, and a change can
	                         come between them.  Forwards carry none; nor does a
	                         proxy older than the member.  A forward's add ends
	                         with "fwd" instead: the random id (non-zero u32) of
	                         the standing-by proxy's hook event, the same when it
	                         goes again, so the ACTIVE proxy can tell a stale
	                         repeat after its own release from new news */
	PEER_SYNC_CTX = 7,    /* body 4 + 88 + line: u32 epoch (non-zero), then a CTX
	                         body: one context of full sync `epoch`, which goes out
	                         paced, interleaved with the other types */
};

/* Roles and states as they travel (peer_fsm.h uses the same numbers). */
#define PEER_ROLE_PRIMARY 1
#define PEER_ROLE_BACKUP  2
#define PEER_STATE_MAX    4

/* Errors (negative) */
#define PEER_E_SHORT   (-1)  /* shorter than header + MAC */
#define PEER_E_VERSION (-2)  /* version is not PEER_VERSION */
#define PEER_E_LENGTH  (-3)  /* header length differs from the datagram's */
#define PEER_E_MAC     (-4)  /* HMAC does not verify */
#define PEER_E_TYPE    (-5)  /* unknown type */
#define PEER_E_BODY    (-6)  /* body length wrong for the type */
#define PEER_E_FIELD   (-7)  /* a field out of range: role, state, reserved,
                                tag, line (state-file syntax), tag mismatch,
                                a NUL, CR or LF in a lease line, a zero
                                sync epoch */
#define PEER_E_SPACE   (-8)  /* encode: output buffer too small / line too long */
const char *peer_msg_strerror(int err);

/* A replicated context: what the dataplane needs (pair, tags, ISP, flags)
 * and what a state file line holds (peer locators, generations, initiator). */
struct peer_ctx {
	uint8_t  local_ulid[16], peer_ulid[16], local_loc[16], peer_loc[16];
	uint64_t own_tag, peer_tag;
	uint32_t forkid;
	uint8_t  isp, flags;
	struct ctl_state_ctx st;      /* st.own_tag == own_tag */
};

struct peer_msg {
	uint8_t  type, role, state;
	uint64_t session, echo, seq;
	uint32_t sync_epoch;          /* PEER_SYNC_CTX: the full sync it belongs to */
	union {
		struct { uint32_t contexts, epoch_rx, epoch_tx; } hb;
		struct { uint32_t epoch, count; } sync;   /* BEGIN and END */
		uint64_t del_tag;
		struct peer_ctx ctx;                      /* CTX and SYNC_CTX */
		struct { uint16_t len; char text[PEER_LINE_MAX + 1]; } lease;  /* NUL-terminated */
	} u;
};

/* Encode m into buf (cap octets) with the key: length, or PEER_E_SPACE /
 * PEER_E_TYPE / PEER_E_FIELD. */
int peer_msg_encode(const struct peer_msg *m, const uint8_t *key, size_t keylen, uint8_t *buf, size_t cap);
/* Check and decode one datagram: 0 and *m filled, or a PEER_E_* code.  The
 * MAC is checked before any body octet is read. */
int peer_msg_decode(const uint8_t *buf, size_t len, const uint8_t *key, size_t keylen, struct peer_msg *m);
#endif
