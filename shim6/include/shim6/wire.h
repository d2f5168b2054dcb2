/*
 * shim6/wire.h - Shim6 wire codec (RFC 5533 §5, RFC 5534 §5).
 *
 * Decoding is zero-copy: shim6_wire_decode() fills a caller-owned
 * struct shim6_msg whose pointers point into the caller's buffer.  It never
 * allocates and never reads outside [buf, buf + len).  The views stay valid
 * as long as the buffer does.
 *
 * Encoding takes the same struct, which callers may also build from their
 * own values (pointers to their own octets), and writes the message with
 * Hdr Ext Len, option padding and the checksum computed.  For every message
 * that decodes without error, encode(decode(x)) reproduces x octet for
 * octet: reserved fields, option order, option padding and unknown
 * non-critical options are all kept in the view.
 *
 * Every function returning int returns >= 0 on success and a negative
 * SHIM6_E_* code on failure.  The codes are stable; each names exactly one
 * validity rule, so the engine can count them and, where the RFC asks for
 * it, answer with an Error message (see shim6_wire_error_code()).
 *
 * Byte order: all integer fields in the structs are host order; addresses,
 * validators, CGA data and probe reports are raw network octets.
 */
#ifndef SHIM6_WIRE_H
#define SHIM6_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- constants ----------------------------------------------------------- */
#define SHIM6_PROTO             140     /* IPv6 Next Header value (IANA) */
#define SHIM6_NH_NONE           59      /* Next Header of a control message */
#define SHIM6_CTAG_MASK         0x7fffffffffffULL   /* 47-bit context tag */
#define SHIM6_PAYLOAD_HDR_LEN   8       /* payload extension header, octets */
#define SHIM6_MSG_MAX           2048    /* (255 + 1) * 8: largest Hdr Ext Len */
#define SHIM6_WIRE_MAX_OPTS     16      /* options kept per decoded message */
#define SHIM6_WIRE_MAX_LOCATORS 255     /* Num Locators is 8 bits */
#define SHIM6_PROBE_REPORT_LEN  40      /* RFC 5534 §5.3: src, dst, nonce, data */
#define SHIM6_PROBE_MAX_REPORTS 15      /* Psent / Precvd are 4-bit counts */
#define SHIM6_CGA_TAG_LEN       16

/* CGA Message Type tag for Shim6 (RFC 5533 §5.15.5). */
extern const uint8_t shim6_cga_msg_type_tag[SHIM6_CGA_TAG_LEN];

/* Message types (RFC 5533 §5 and IANA "Shim6 Types"). */
enum shim6_msg_type {
	SHIM6_TYPE_I1         = 1,
	SHIM6_TYPE_R1         = 2,
	SHIM6_TYPE_I2         = 3,
	SHIM6_TYPE_R2         = 4,
	SHIM6_TYPE_R1BIS      = 5,
	SHIM6_TYPE_I2BIS      = 6,
	SHIM6_TYPE_UPDATE_REQ = 64,
	SHIM6_TYPE_UPDATE_ACK = 65,
	SHIM6_TYPE_KEEPALIVE  = 66,     /* RFC 5534 §5.2 */
	SHIM6_TYPE_PROBE      = 67,     /* RFC 5534 §5.3 */
	SHIM6_TYPE_ERROR      = 68,     /* RFC 5533 §5.14 */
};

/* Option types (15 bits; RFC 5533 §5.15, RFC 5534 §5.4). */
enum shim6_opt_type {
	SHIM6_OPT_RESP_VALIDATOR    = 1,
	SHIM6_OPT_LOCATOR_LIST      = 2,
	SHIM6_OPT_LOCATOR_PREFS     = 3,
	SHIM6_OPT_CGA_PDS           = 4,
	SHIM6_OPT_CGA_SIGNATURE     = 5,
	SHIM6_OPT_ULID_PAIR         = 6,
	SHIM6_OPT_FORKED_INSTANCE   = 7,
	SHIM6_OPT_KEEPALIVE_TIMEOUT = 10,
};

/* Locator verification methods (Locator List option). */
#define SHIM6_WIRE_VERIF_HBA    1
#define SHIM6_WIRE_VERIF_CGA    2

/* Locator Preferences flags. */
#define SHIM6_WIRE_LOCF_BROKEN    0x01
#define SHIM6_WIRE_LOCF_TEMPORARY 0x02

/* Probe State field (RFC 5534 §5.3). */
#define SHIM6_WIRE_STATE_OPERATIONAL 0
#define SHIM6_WIRE_STATE_EXPLORING   1
#define SHIM6_WIRE_STATE_INBOUND_OK  2

/* Error message codes (RFC 5533 §5.14, IANA "Shim6 Error Codes"). */
#define SHIM6_ERRCODE_UNKNOWN_TYPE     0
#define SHIM6_ERRCODE_CRITICAL_OPTION  1
#define SHIM6_ERRCODE_VERIFY_FAILED    2
#define SHIM6_ERRCODE_GEN_OUT_OF_SYNC  3
#define SHIM6_ERRCODE_PREF_COUNT       4

/* --- error codes ----------------------------------------------------------
 * Negative; one per validity rule.  A message failing any rule MUST be
 * dropped by the caller; the comment says which RFC rule it is and what the
 * RFC says to send back, if anything.
 */
enum shim6_wire_err {
	SHIM6_E_OK               =  0,
	SHIM6_E_INVAL            = -1,  /* bad argument (NULL pointer, n_opts too big, ...) */
	SHIM6_E_NOSPACE          = -2,  /* encode: output buffer too small, or message > SHIM6_MSG_MAX */
	SHIM6_E_FIELD            = -3,  /* encode: a field exceeds its width (tag > 47 bits, ...) */
	SHIM6_E_TRUNC            = -4,  /* fewer than 8 octets, or fewer than (Hdr Ext Len + 1) * 8 */
	SHIM6_E_PBIT             = -5,  /* P bit set: a payload extension header, not a control message */
	SHIM6_E_HIPBIT           = -6,  /* octet 3 bit 0 (Shim6/HIP discriminator, §5.3) is not 0 */
	SHIM6_E_CSUM             = -7,  /* Internet checksum over the message does not verify */
	SHIM6_E_BADTYPE          = -8,  /* unknown message type; RFC: Error code 0, Pointer at octet 2 */
	SHIM6_E_HDRLEN           = -9,  /* Hdr Ext Len below the type's minimum (I2 >= 2, I2bis >= 3, else >= 1) */
	SHIM6_E_PROBE_LEN        = -10, /* Probe: Hdr Ext Len < 1 + 5 * (Psent + Precvd) (RFC 5534) */
	SHIM6_E_OPT_TRUNC        = -11, /* option header, content or padding runs past the message end */
	SHIM6_E_OPT_CRIT_UNKNOWN = -12, /* unknown option with C=1; RFC: Error code 1, Pointer at option */
	SHIM6_E_OPT_LEN          = -13, /* known option with a Content Length its type forbids */
	SHIM6_E_OPT_DUP          = -14, /* a known option occurs twice (ambiguous; local rule) */
	SHIM6_E_OPT_TOO_MANY     = -15, /* more than SHIM6_WIRE_MAX_OPTS options (local bound) */
	SHIM6_E_LOCLIST_COUNT    = -16, /* Locator List: Content Length disagrees with Num Locators */
	SHIM6_E_LOCLIST_METHOD   = -17, /* Locator List: verification method not HBA(1) or CGA(2);
	                                   err_offset is that method octet */
	SHIM6_E_LOCPREF_ELEMLEN  = -18, /* Locator Preferences: Element Length 0 (lengths above 3
	                                   are accepted: the first three octets are Flags,
	                                   Priority, Weight; the rest is ignored) */
	SHIM6_E_LOCPREF_LEN      = -19, /* Locator Preferences: Content Length not 5 + k * Element Length */
	SHIM6_E_LOCPREF_COUNT    = -20, /* Locator Preferences and Locator List of the same generation
	                                   in one message differ in count; RFC: Error code 4 */
	SHIM6_E_MISSING_VALIDATOR = -21,/* R1, I2, R1bis or I2bis without a Responder Validator */
	SHIM6_E_CGA_SIG_ORPHAN   = -22, /* CGA Signature without a Locator List to cover */
	SHIM6_E_PAYLOAD_LEN      = -23, /* payload header: Hdr Ext Len is not 0 */
};
#define SHIM6_E__COUNT 24

const char *shim6_wire_strerror(int err);
/* For a decode error, the Error message code the RFC asks for
 * (SHIM6_ERRCODE_*), or -1 if the message is simply discarded. */
int shim6_wire_error_code(int err);
const char *shim6_wire_type_name(unsigned type);   /* "I1", ..., "Unknown" */
const char *shim6_wire_opt_name(unsigned type);    /* "Locator List", ..., "Unknown" */

/* --- option views ------------------------------------------------------- */

/* Opaque contents: Responder Validator, CGA PDS, CGA Signature, unknown. */
struct shim6_opt_bytes {
	const uint8_t *data;
	uint16_t len;
};

/* Locator List (type 2):
 *   gen(32) | N(8) | N verification methods | pad to 8 | N * 16 locators.
 * locators points at n * 16 contiguous octets (an array of struct in6_addr
 * has this layout). */
struct shim6_opt_loclist {
	uint32_t gen;
	uint8_t n;
	const uint8_t *methods;         /* n octets */
	const uint8_t *locators;        /* n * 16 octets */
	uint8_t pad[7];                 /* padding before the locators (0 when built) */
};

/* One Locator Preferences element, whatever its encoded length. */
struct shim6_locpref_elem {
	uint8_t flags;                  /* SHIM6_WIRE_LOCF_* */
	uint8_t priority;               /* 0 when Element Length < 2 */
	uint8_t weight;                 /* 0 when Element Length < 3 */
};

/* Locator Preferences (type 3): gen(32) | elem_len(8) | n * elem_len.
 * elems points at n * elem_len raw octets; use shim6_wire_locpref_get().
 * Element lengths 1-3 carry Flags, then Priority, then Weight; a longer
 * element (a later extension) starts with the same three octets. */
struct shim6_opt_locpref {
	uint32_t gen;
	uint8_t elem_len;               /* 1, 2 or 3; >= 4 accepted, extra octets ignored */
	uint16_t n;
	const uint8_t *elems;
};

/* ULID Pair (type 6): reserved(32) | sender ULID | receiver ULID. */
struct shim6_opt_ulid_pair {
	uint32_t reserved;
	const uint8_t *sender;          /* 16 octets */
	const uint8_t *receiver;        /* 16 octets */
};

/* Keepalive Timeout (type 10, RFC 5534 §5.4): reserved(16) | seconds(16). */
struct shim6_opt_ka_timeout {
	uint16_t reserved;
	uint16_t seconds;
};

/* One option as it appears (or will appear) on the wire, in order. */
struct shim6_opt {
	uint16_t type;                  /* 15 bits, SHIM6_OPT_* or unknown */
	bool critical;                  /* C bit */
	uint8_t pad[7];                 /* trailing padding octets; zero when built */
	union {
		struct shim6_opt_bytes bytes;   /* validator, CGA PDS/Sig, unknown */
		struct shim6_opt_loclist loclist;
		struct shim6_opt_locpref locpref;
		struct shim6_opt_ulid_pair ulid;
		uint32_t forked_instance_id;
		struct shim6_opt_ka_timeout ka;
	} u;
};

/* --- message views ------------------------------------------------------ */

/* Context tags are 47 bits (SHIM6_CTAG_MASK).  The R bit and the other
 * reserved fields are ignored on receipt (RFC 5533) but kept for round trip;
 * set them to 0 when building. */
struct shim6_m_i1 {                     /* type 1, Hdr Ext Len >= 1 */
	bool r;
	uint64_t init_ctag;
	uint32_t init_nonce;
};
struct shim6_m_r1 {                     /* type 2, >= 1 */
	uint16_t reserved2;
	uint32_t init_nonce;
	uint32_t resp_nonce;
};
struct shim6_m_i2 {                     /* type 3, >= 2 */
	bool r;
	uint64_t init_ctag;
	uint32_t init_nonce;
	uint32_t resp_nonce;
	uint32_t reserved2;
};
struct shim6_m_r2 {                     /* type 4, >= 1 */
	bool r;
	uint64_t resp_ctag;
	uint32_t init_nonce;
};
struct shim6_m_r1bis {                  /* type 5, >= 1 */
	bool r;
	uint64_t pkt_ctag;
	uint32_t resp_nonce;
};
struct shim6_m_i2bis {                  /* type 6, >= 3 */
	bool r;
	uint64_t init_ctag;
	uint32_t init_nonce;
	uint32_t resp_nonce;
	uint64_t reserved2;             /* 49 bits */
	uint64_t pkt_ctag;
};
struct shim6_m_update {                 /* types 64 and 65, >= 1 */
	bool r;
	uint64_t rcv_ctag;
	uint32_t req_nonce;
};
struct shim6_m_keepalive {              /* type 66, >= 1 */
	bool r;
	uint64_t rcv_ctag;
	uint32_t reserved2;
};
/* Probe report: 40 octets, src(16) dst(16) nonce(32) data(32). */
struct shim6_probe_report {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t nonce;
	uint32_t data;
};
struct shim6_m_probe {                  /* type 67, >= 1 + 5 * (psent + precvd) */
	bool r;
	uint64_t rcv_ctag;
	uint8_t precvd;                 /* high nibble of octet 12 */
	uint8_t psent;                  /* low nibble of octet 12 */
	uint8_t state;                  /* SHIM6_WIRE_STATE_*, 2 bits */
	uint32_t reserved2;             /* 22 bits */
	const uint8_t *sent;            /* psent * 40 octets, see shim6_wire_probe_report() */
	const uint8_t *recvd;           /* precvd * 40 octets */
};
struct shim6_m_error {                  /* type 68; Error Code is msg.type_specific */
	uint16_t pointer;
	const uint8_t *invoking;        /* the invoking packet, to the message end */
	uint16_t invoking_len;          /* on encode: padded with zeros to 8 */
};

struct shim6_msg {
	uint8_t type;                   /* SHIM6_TYPE_* */
	uint8_t next_header;            /* SHIM6_NH_NONE when built */
	uint8_t type_specific;          /* 7 bits: Reserved1, or the Error Code */
	uint16_t checksum;              /* as received; computed on encode */
	uint16_t len;                   /* decode: message length in octets */
	union {
		struct shim6_m_i1 i1;
		struct shim6_m_r1 r1;
		struct shim6_m_i2 i2;
		struct shim6_m_r2 r2;
		struct shim6_m_r1bis r1bis;
		struct shim6_m_i2bis i2bis;
		struct shim6_m_update update;   /* Update Request and Acknowledgement */
		struct shim6_m_keepalive ka;
		struct shim6_m_probe probe;
		struct shim6_m_error error;
	} m;
	uint8_t n_opts;
	struct shim6_opt opts[SHIM6_WIRE_MAX_OPTS];
	/* Decode: the options above by role, or NULL.  Pointers into this
	 * struct's opts[]: a copy of the struct still points at the original. */
	const struct shim6_opt *validator;
	const struct shim6_opt *loclist;
	const struct shim6_opt *locpref;
	const struct shim6_opt *cga_pds;
	const struct shim6_opt *cga_sig;
	const struct shim6_opt *ulid_pair;
	const struct shim6_opt *forked;
	const struct shim6_opt *ka_timeout;
	/* Decode error: octet offset of the offending field (for the Pointer
	 * field of an Error message); unset on success. */
	uint16_t err_offset;
};

/* --- calls -------------------------------------------------------------- */

/* Decode and validate one control message at buf (the first octet is the
 * Shim6 Next Header).  len may exceed the message; out->len tells its size.
 * Returns 0 or a SHIM6_E_* code; on error *out is partially filled and
 * out->err_offset points at the offending octet. */
int shim6_wire_decode(const uint8_t *buf, size_t len, struct shim6_msg *out);

/* Encode msg into buf.  Ignores msg->checksum, msg->len and the role
 * pointers; writes opts[0..n_opts) in order.  Returns the length written
 * (a multiple of 8) or SHIM6_E_NOSPACE / SHIM6_E_FIELD / SHIM6_E_INVAL.
 * Only field widths are checked: message-level rules (validator present,
 * no repeated option, valid verification methods) are the caller's, and
 * shim6_wire_decode() of the output tells whether they hold. */
int shim6_wire_encode(const struct shim6_msg *msg, uint8_t *buf, size_t cap);

/* Zero msg and set its type and Next Header (59).  Then add options. */
void shim6_wire_msg_init(struct shim6_msg *msg, enum shim6_msg_type type);
/* Append an option; returns a pointer to it for filling, or NULL when
 * SHIM6_WIRE_MAX_OPTS are already present. */
struct shim6_opt *shim6_wire_opt_add(struct shim6_msg *msg, uint16_t type, bool critical);

/* RFC 1071 Internet checksum (one's complement of the one's complement
 * sum) over len octets.  Over a whole valid message it returns 0. */
uint16_t shim6_wire_checksum(const uint8_t *buf, size_t len);

/* Payload extension header (RFC 5533 §5.2): 8 octets. */
int shim6_wire_payload_encode(uint8_t next_header, uint64_t ctag, uint8_t out[SHIM6_PAYLOAD_HDR_LEN]);
/* Returns 0 and fills next_header and ctag, or SHIM6_E_TRUNC (len < 8),
 * SHIM6_E_PBIT (P bit clear: a control message), SHIM6_E_PAYLOAD_LEN. */
int shim6_wire_payload_decode(const uint8_t *buf, size_t len, uint8_t *next_header, uint64_t *ctag);
/* Cheap test for the fast path: octet 2's top bit. buf must hold >= 3 octets. */
static inline bool shim6_wire_is_payload(const uint8_t *buf) { return (buf[2] & 0x80) != 0; }

/* Octets needed to encode one option (header + content + padding). */
size_t shim6_wire_opt_size(const struct shim6_opt *opt);

/* Locator Preferences element i (< lp->n). */
void shim6_wire_locpref_get(const struct shim6_opt_locpref *lp, unsigned i, struct shim6_locpref_elem *out);
/* Pack n elements of elem_len octets each into out (n * elem_len octets);
 * use the result as locpref.elems when building.  Octets beyond the third
 * of a longer element are written as zero. */
void shim6_wire_locpref_pack(const struct shim6_locpref_elem *e, unsigned n, uint8_t elem_len, uint8_t *out);

/* Probe report i from a probe view (received=false: Probes Sent list). */
int shim6_wire_probe_report(const struct shim6_m_probe *p, bool received, unsigned i,
                            struct shim6_probe_report *out);
/* Pack one report into 40 octets (for building sent / recvd arrays). */
void shim6_wire_probe_report_pack(const struct shim6_probe_report *r, uint8_t out[SHIM6_PROBE_REPORT_LEN]);

/* The octets a CGA Signature covers (RFC 5533 §5.15.5): the Shim6 CGA
 * Message Type tag, the Locator List Generation number, then every locator
 * of the list whose verification method is CGA, in list order.  Writes
 * them to buf; returns the length (16 + 4 + 16 * k) or SHIM6_E_NOSPACE.
 * Feed the result to the signer / verifier of shim6/cga.h. */
int shim6_wire_cga_signed_data(const struct shim6_opt_loclist *ll, uint8_t *buf, size_t cap);
#define SHIM6_CGA_SIGNED_MAX (SHIM6_CGA_TAG_LEN + 4 + 16 * SHIM6_WIRE_MAX_LOCATORS)
/* The same octets without the leading tag (generation || CGA locators):
 * the input shim6_cga_sign_data() and shim6_cga_verify_sig_data() of
 * shim6/cga.h expect, since they prepend the tag themselves.  Do not feed
 * them the output of shim6_wire_cga_signed_data(): the tag would be twice.
 * (shim6/cga.h's struct shim6_cga_loclist also takes gen, n, methods and
 * locators straight from a struct shim6_opt_loclist.) */
int shim6_wire_cga_sig_body(const struct shim6_opt_loclist *ll, uint8_t *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* SHIM6_WIRE_H */
