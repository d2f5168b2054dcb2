/* Shared between the files of shim6/crypto; not installed. */
#ifndef SHIM6_CGA_INTERNAL_H
#define SHIM6_CGA_INTERNAL_H

#include <shim6/cga.h>

/* Fill buf from rng, or RAND_bytes when rng is NULL. */
int cga_rng_fill(const struct shim6_cga_rng *rng, uint8_t *buf, size_t len);

/* A reusable SHA-1 context: the Sec search hashes millions of times. */
struct cga_hasher {
	EVP_MD_CTX *ctx;
	EVP_MD *md;
};
int cga_hasher_init(struct cga_hasher *h);
void cga_hasher_free(struct cga_hasher *h);

/* SHA-1 over the concatenation of up to 4 pieces (zero-length ones skipped).
 * h may be NULL (a context is made for the call). */
int cga_sha1(struct cga_hasher *h, uint8_t md[20],
             const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
             const uint8_t *c, size_t clen, const uint8_t *d, size_t dlen);

/* RFC 3972 §4 steps 1-3: starting at `modifier` (in/out), find a modifier
 * whose Hash2 over (modifier | 9 zeros | key | ext) has 16*sec leading zero
 * bits.  Honours progress/cancel of opts; adds the work to *tries. */
int cga_find_modifier(uint8_t modifier[16], unsigned sec,
                      const uint8_t *key, size_t key_len,
                      const uint8_t *ext, size_t ext_len,
                      const struct shim6_cga_gen_opts *opts, uint64_t *tries);

/* Interface identifier from a 20-octet Hash1 and Sec. */
void cga_iid_from_hash(const uint8_t hash1[20], unsigned sec, uint8_t iid[8]);

/* Parse a DER TLV header at p[len]: SEQUENCE etc.  Returns total TLV length
 * (header + content) or < 0. */
int cga_der_tlv_len(const uint8_t *p, size_t len, uint8_t want_tag);

#endif
