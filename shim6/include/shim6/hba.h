/*
 * shim6/hba.h - Hash-Based Addresses (RFC 5535).
 *
 * An HBA set is one CGA Parameter Data Structure carrying a Multi-Prefix
 * Extension (type 0x0012: P flag, 31 reserved bits, then one 64-bit prefix
 * per address).  One modifier and one Hash2 (which covers the extension)
 * serve the whole set; address i takes Hash1 over the PDS with prefix i in
 * the Subnet Prefix field.  Verification needs no public-key operation.
 *
 * With no real key, a random 384-bit "pseudo-key" encoded as an RSA
 * SubjectPublicKeyInfo fills the Public Key field and P is 0; such a set can
 * never produce a CGA signature, only HBA verification.
 *
 * Errors are the SHIM6_CGA_E* codes of cga.h.
 */
#ifndef SHIM6_HBA_H
#define SHIM6_HBA_H

#include <shim6/cga.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHIM6_HBA_MAX_PREFIXES 32
#define SHIM6_HBA_PSEUDO_KEY_BITS 384

struct shim6_hba_set {
	size_t   count;
	uint8_t  addrs[SHIM6_HBA_MAX_PREFIXES][16];  /* addrs[i] under prefixes[i] */
	uint8_t  pds[SHIM6_CGA_PDS_MAX];             /* Subnet Prefix = prefixes[0] */
	size_t   pds_len;
	unsigned sec;
	bool     real_key;                           /* P flag */
	uint8_t  modifier[16];
	uint64_t tries;
};

/* Build the set for `n` prefixes (1..32, 8 octets each, distinct).  `pubkey`
 * is a DER SubjectPublicKeyInfo, or NULL for a fresh pseudo-key drawn from
 * opts->rng.  opts: Sec, collision count, start modifier, progress, cancel as
 * for shim6_cga_generate (opts->ext must be NULL). */
int shim6_hba_generate(struct shim6_hba_set *out,
                       const uint8_t *prefixes, size_t n,
                       const uint8_t *pubkey, size_t pubkey_len,
                       const struct shim6_cga_gen_opts *opts);

/* Does `addr` belong to the HBA set described by `pds`?  Its /64 must be one
 * of the Multi-Prefix Extension's prefixes, and Hash1 (with that prefix as
 * Subnet Prefix) and Hash2 must match.  0 or a negative code. */
int shim6_hba_verify(const uint8_t addr[16], const uint8_t *pds, size_t pds_len);

/* A random 384-bit pseudo-key as an RSA SubjectPublicKeyInfo (e = 65537). */
int shim6_hba_pseudo_key(uint8_t *out, size_t cap, const struct shim6_cga_rng *rng);

/* The Multi-Prefix Extension for `n` prefixes into out[cap]; its length. */
int shim6_hba_mp_ext(uint8_t *out, size_t cap, bool pflag,
                     const uint8_t *prefixes, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* SHIM6_HBA_H */
