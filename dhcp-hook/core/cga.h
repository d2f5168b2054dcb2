/* Internal: CGA hashes used by the allocator and the verifier. */
#ifndef PSHIM6_DHCP_CGA_H
#define PSHIM6_DHCP_CGA_H
#include "pdh.h"

/* 1 when Hash2 of (mod, key, ext) has its leftmost 16*sec bits zero. */
int pdh_cga_hash2_ok(const uint8_t mod[16], const uint8_t *key, size_t klen,
                     const uint8_t *ext, size_t extlen, int sec);
/* Increments mod until Hash2 qualifies (RFC 3972 §4 step 3); bounded. */
int pdh_cga_find_modifier(uint8_t mod[16], const uint8_t *key, size_t klen,
                          const uint8_t *ext, size_t extlen, int sec, uint32_t max_tries);
/* Interface identifier from Hash1 over the encoded parameters. */
int pdh_cga_iid(uint8_t iid[8], const uint8_t *pds, size_t len, int sec);
#endif
