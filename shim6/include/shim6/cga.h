/*
 * shim6/cga.h - Cryptographically Generated Addresses (RFC 3972, with the
 * extension format of RFC 4581 and the Sec values of RFC 4982) and the CGA
 * signature over Shim6 locator lists (RFC 5533 §5.15.5).
 *
 * CGA Parameter Data Structure ("PDS"), as carried in the Shim6 CGA
 * Parameter Data Structure option:
 *
 *     Modifier (16) | Subnet Prefix (8) | Collision Count (1) |
 *     Public Key (DER SubjectPublicKeyInfo) | Extension Fields (TLVs)
 *
 *     Hash2 = SHA-1(Modifier | 9 zero octets | Public Key | Extensions);
 *             its leftmost 16*Sec bits must be zero.
 *     Hash1 = SHA-1(the whole PDS); the interface identifier is its leftmost
 *             64 bits with the top 3 bits replaced by Sec and the u (0x02)
 *             and g (0x01) bits of the first octet cleared.
 *
 * Parsing (shim6_cga_parse) is zero-copy and bounds-checked: it is meant for
 * untrusted bytes straight off the wire, returns views into the buffer and
 * allocates nothing.  Hashing, keys and signatures use OpenSSL 3 EVP.
 *
 * Every function returning int returns 0 (or a length) on success and a
 * negative SHIM6_CGA_E* code on failure; shim6_cga_strerror() names it.
 * Randomness comes from an injectable source (struct shim6_cga_rng) so tests
 * are deterministic; NULL means OpenSSL's RAND_bytes.
 *
 * Only Sec 0, 1 and 2 are accepted: RFC 4982 assigns them to SHA-1 and leaves
 * the others unassigned.
 */
#ifndef SHIM6_CGA_H
#define SHIM6_CGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- sizes and bounds ------------------------------------------------------ */
#define SHIM6_CGA_MODIFIER_LEN   16
#define SHIM6_CGA_PREFIX_LEN     8
#define SHIM6_CGA_FIXED_LEN      25     /* modifier + prefix + collision count */
#define SHIM6_CGA_PDS_MAX        1024   /* == SHIM6_MAX_PDS of engine.h */
#define SHIM6_CGA_SEC_MAX        2
#define SHIM6_CGA_COLLISION_MAX  2      /* RFC 3972 §4 step 7: at most 3 tries */
#define SHIM6_CGA_KEY_BITS_MIN   1024   /* for signatures and key generation */
#define SHIM6_CGA_KEY_BITS_MAX   4096   /* bounds the cost of a peer's key */
#define SHIM6_CGA_KEY_BITS_DEFAULT 2048
#define SHIM6_CGA_SIG_MAX        (SHIM6_CGA_KEY_BITS_MAX / 8)
#define SHIM6_CGA_EXT_MULTIPREFIX 0x0012 /* RFC 5535 Multi-Prefix Extension */

/* The CGA Message Type tag for Shim6 (RFC 5533 §5.15.5, IANA CGA registry). */
extern const uint8_t shim6_cga_shim6_tag[16];

/* --- error codes ----------------------------------------------------------- */
#define SHIM6_CGA_OK             0
#define SHIM6_CGA_EINVAL       (-1)  /* bad argument (NULL, length, Sec > 2) */
#define SHIM6_CGA_ESHORT       (-2)  /* PDS shorter than its fixed part + key */
#define SHIM6_CGA_EKEYDER      (-3)  /* Public Key is not a well-formed DER SEQUENCE */
#define SHIM6_CGA_EEXT         (-4)  /* malformed or duplicate extension field */
#define SHIM6_CGA_ETOOLONG     (-5)  /* PDS longer than SHIM6_CGA_PDS_MAX */
#define SHIM6_CGA_ECOLLISION   (-6)  /* collision count > 2 */
#define SHIM6_CGA_EPREFIX      (-7)  /* Subnet Prefix differs from the address */
#define SHIM6_CGA_EHASH1       (-8)  /* interface identifier != Hash1 */
#define SHIM6_CGA_EHASH2       (-9)  /* leftmost 16*Sec bits of Hash2 not zero */
#define SHIM6_CGA_ESEC        (-10)  /* Sec value in the address is not 0..2 */
#define SHIM6_CGA_ENOSPACE    (-11)  /* output buffer too small */
#define SHIM6_CGA_ECANCELLED  (-12)  /* generation cancelled by the caller */
#define SHIM6_CGA_ECRYPTO     (-13)  /* OpenSSL failed */
#define SHIM6_CGA_EKEY        (-14)  /* key unusable: not RSA, too small/large, garbled */
#define SHIM6_CGA_ESIG        (-15)  /* signature does not verify */
#define SHIM6_CGA_ENOTHBA     (-16)  /* no Multi-Prefix Extension in the PDS */
#define SHIM6_CGA_ENOTINSET   (-17)  /* address prefix not in the HBA set */
#define SHIM6_CGA_EPSEUDOKEY  (-18)  /* signature asked of a pseudo-key HBA set (P=0) */
#define SHIM6_CGA_ERNG        (-19)  /* randomness source failed */
#define SHIM6_CGA_EIO         (-20)  /* key file unreadable */
#define SHIM6_CGA_ENOPRIV     (-21)  /* signing needs a private key */
#define SHIM6_CGA_EHEX        (-22)  /* not an even-length hexadecimal string */

const char *shim6_cga_strerror(int err);

/* --- injectable randomness ------------------------------------------------- */
struct shim6_cga_rng {
	void *user;
	/* Fill buf with len random octets; return 0, or non-zero on failure. */
	int (*fill)(void *user, uint8_t *buf, size_t len);
};

/* --- parameter data structure: parse (zero-copy) and build ---------------- */
struct shim6_cga_ext {
	uint16_t       type;
	uint16_t       len;
	const uint8_t *data;
};

#define SHIM6_CGA_EXT_MAX 8          /* more extension fields => SHIM6_CGA_EEXT */

struct shim6_cga_params {
	const uint8_t *raw;              /* the whole PDS */
	size_t         raw_len;
	const uint8_t *modifier;         /* 16 octets */
	const uint8_t *prefix;           /* 8 octets */
	uint8_t        collision_count;  /* as on the wire, not range-checked here */
	const uint8_t *pubkey;           /* DER SubjectPublicKeyInfo */
	size_t         pubkey_len;
	const uint8_t *ext;              /* all extension fields */
	size_t         ext_len;
	size_t         n_ext;
	struct shim6_cga_ext exts[SHIM6_CGA_EXT_MAX];
	/* RFC 5535 Multi-Prefix Extension, when present (n_prefixes > 0). */
	bool           mp_present;
	bool           mp_pflag;         /* P: the key is a real public key */
	size_t         n_prefixes;
	const uint8_t *prefixes;         /* n_prefixes * 8 octets */
};

/* Split `len` octets at `buf` into fields.  Checks the structure only: the
 * key is a DER SEQUENCE that fits, the extensions are RFC 4581 TLVs that fit
 * exactly, at most one Multi-Prefix Extension with length 4 + 8n, n >= 1.
 * Never reads outside [buf, buf+len). */
int shim6_cga_parse(struct shim6_cga_params *out, const uint8_t *buf, size_t len);

/* Write a PDS into out[cap]; return its length.  `ext` may be NULL. */
int shim6_cga_build(uint8_t *out, size_t cap,
                    const uint8_t modifier[16], const uint8_t prefix[8],
                    uint8_t collision_count,
                    const uint8_t *pubkey, size_t pubkey_len,
                    const uint8_t *ext, size_t ext_len);

/* --- hashes (exposed for tests and tools) ---------------------------------- */
/* Hash2 over the PDS at `p`; 0 if its leftmost 16*sec bits are zero. */
int shim6_cga_check_hash2(const struct shim6_cga_params *p, unsigned sec);
/* Interface identifier (8 octets) of the PDS at `p` taking `prefix` as the
 * Subnet Prefix (NULL: the PDS's own) and the given Sec. */
int shim6_cga_iid(const struct shim6_cga_params *p, const uint8_t *prefix,
                  unsigned sec, uint8_t iid[8]);

/* --- generation ------------------------------------------------------------ */
/* Called every `progress_every` Hash2 tries; return non-zero to cancel. */
typedef int (*shim6_cga_progress_fn)(void *user, uint64_t tries, unsigned sec);

struct shim6_cga_gen_opts {
	unsigned       sec;              /* 0..2 */
	uint8_t        collision_count;  /* 0..2, normally 0 */
	const uint8_t *modifier;         /* NULL: random; else the search starts here */
	const struct shim6_cga_rng *rng; /* NULL: RAND_bytes */
	const uint8_t *ext;              /* extra extension fields, NULL if none */
	size_t         ext_len;
	shim6_cga_progress_fn progress;  /* may be NULL */
	void          *progress_user;
	uint64_t       progress_every;   /* 0: 65536 */
	const volatile int *cancel;      /* may be NULL; non-zero => stop soon */
};

struct shim6_cga {
	uint8_t  addr[16];
	uint8_t  pds[SHIM6_CGA_PDS_MAX];
	size_t   pds_len;
	unsigned sec;
	uint8_t  modifier[16];
	uint8_t  collision_count;
	uint64_t tries;                  /* Hash2 computations spent */
};

/* RFC 3972 §4: find a modifier meeting Sec (incrementing it as a 128-bit
 * big-endian integer from the start value), then form the address under
 * `prefix`.  Sec 1 costs ~2^16 SHA-1s, Sec 2 ~2^32 (hours): pass progress and
 * cancel for those.  Returns 0 or SHIM6_CGA_ECANCELLED etc. */
int shim6_cga_generate(struct shim6_cga *out, const uint8_t prefix[8],
                       const uint8_t *pubkey, size_t pubkey_len,
                       const struct shim6_cga_gen_opts *opts);

/* The cheap call for address allocators (DHCPv6 hook): public key only, a
 * fresh random modifier, the given Sec and collision count. */
int shim6_cga_new(struct shim6_cga *out, const uint8_t prefix[8],
                  const uint8_t *pubkey, size_t pubkey_len,
                  unsigned sec, uint8_t collision_count,
                  const struct shim6_cga_rng *rng);

/* After a duplicate address: collision count + 1 and a new Hash1 (same
 * modifier); once the count would pass 2, a fresh modifier (and Sec search)
 * with the count back at 0.  Returns 1 if a new modifier was drawn, 0 if
 * only the count moved, or < 0. */
int shim6_cga_bump(struct shim6_cga *cga, const struct shim6_cga_rng *rng);

/* --- verification ---------------------------------------------------------- */
/* RFC 3972 §5: does `addr` belong to the PDS?  Checks collision count <= 2,
 * Subnet Prefix == addr's /64, Hash1 == interface identifier (ignoring Sec,
 * u and g), Sec <= 2, Hash2 zero bits.  No public-key operation. */
int shim6_cga_verify(const uint8_t addr[16], const uint8_t *pds, size_t pds_len);

/* --- keys (OpenSSL 3 EVP; RSA only) ---------------------------------------- */
/* PEM or DER; private (PKCS#8 or PKCS#1) or public (SubjectPublicKeyInfo or
 * PKCS#1 RSAPublicKey).  Refuses anything but RSA of 1024..4096 bits. */
int shim6_key_load(EVP_PKEY **out, const uint8_t *buf, size_t len);
int shim6_key_load_file(EVP_PKEY **out, const char *path);
/* RSA key of `bits` (0: 2048; must be 1024..4096), e = 65537. */
int shim6_key_generate(EVP_PKEY **out, unsigned bits);
/* DER SubjectPublicKeyInfo of the key (what goes into the PDS). */
int shim6_key_spki(EVP_PKEY *key, uint8_t *out, size_t cap);
bool shim6_key_has_private(EVP_PKEY *key);
/* PEM text of the key: private (PKCS#8) if `priv` and present, else public. */
int shim6_key_to_pem(EVP_PKEY *key, bool priv, char *out, size_t cap);
int shim6_key_to_der(EVP_PKEY *key, bool priv, uint8_t *out, size_t cap);

/* --- CGA signature over a locator list (RFC 5533 §5.15.5) ------------------ */
/* The signed octets are: the Shim6 CGA Message Type tag, the Locator List's
 * 32-bit generation number, then the locators whose verification method is
 * CGA (2), in list order.  RSASSA-PKCS1-v1_5 with SHA-1 (RFC 3972 §6, as
 * SEND uses).
 *
 * shim6_cga_sig_input() writes generation || CGA locators (everything but
 * the tag) into out[cap] and returns its length; the *_data() calls take
 * those octets and prepend the tag themselves.  `methods` holds n octets,
 * `locators` n*16 octets (both exactly as in the option, zero-copy). */
struct shim6_cga_loclist {
	uint32_t       generation;
	size_t         count;
	const uint8_t *methods;
	const uint8_t *locators;
};
#define SHIM6_CGA_VERIF_HBA 1
#define SHIM6_CGA_VERIF_CGA 2

int shim6_cga_sig_input(const struct shim6_cga_loclist *ll, uint8_t *out, size_t cap);

/* Return the signature length written to sig[cap]. */
int shim6_cga_sign(EVP_PKEY *priv, const struct shim6_cga_loclist *ll,
                   uint8_t *sig, size_t cap);
int shim6_cga_sign_data(EVP_PKEY *priv, const uint8_t *data, size_t len,
                        uint8_t *sig, size_t cap);

/* Verify with the public key carried in the PDS (decoded each call; the key
 * must be RSA of 1024..4096 bits).  A PDS with a Multi-Prefix Extension whose
 * P flag is clear carries a pseudo-key: SHIM6_CGA_EPSEUDOKEY. */
int shim6_cga_verify_sig(const uint8_t *pds, size_t pds_len,
                         const struct shim6_cga_loclist *ll,
                         const uint8_t *sig, size_t sig_len);
int shim6_cga_verify_sig_data(const uint8_t *pds, size_t pds_len,
                              const uint8_t *data, size_t len,
                              const uint8_t *sig, size_t sig_len);
/* Same with an already decoded public key (for callers that cache it). */
int shim6_cga_verify_sig_key(EVP_PKEY *pub, const uint8_t *data, size_t len,
                             const uint8_t *sig, size_t sig_len);

/* --- hex helpers (PDS in JSON, leases, the command line) ------------------- */
/* Lower-case hex of in[len] plus NUL into out[cap]; returns 2*len. */
int shim6_cga_hex_encode(const uint8_t *in, size_t len, char *out, size_t cap);
/* Decode hex (upper or lower case; ':' and whitespace ignored); returns the
 * octet count. */
int shim6_cga_hex_decode(const char *hex, uint8_t *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* SHIM6_CGA_H */
