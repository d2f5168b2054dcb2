/* Hex codec for the PDS string kept in user-context and sent to control. */
#include "pdh.h"

int pdh_hex_encode(char *out, size_t cap, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	if (n > (SIZE_MAX - 1) / 2 || cap < 2 * n + 1)
		return PDH_ENOSPC;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
	return PDH_OK;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

ssize_t pdh_hex_decode(uint8_t *out, size_t cap, const char *in, size_t inlen)
{
	if (inlen % 2)
		return PDH_EINVAL;
	if (inlen / 2 > cap)
		return PDH_ENOSPC;
	for (size_t i = 0; i < inlen / 2; i++) {
		int hi = nibble(in[2 * i]), lo = nibble(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return PDH_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (ssize_t)(inlen / 2);
}

const char *pdh_strerror(int err)
{
	switch (err) {
	case PDH_OK: return "ok";
	case PDH_EINVAL: return "invalid input";
	case PDH_ENOSPC: return "buffer too small";
	case PDH_EEXHAUSTED: return "no free CMULA after every modifier and collision count";
	case PDH_ECRYPTO: return "crypto operation failed";
	case PDH_EIO: return "I/O error";
	case PDH_ENOENT: return "not found";
	case PDH_EFULL: return "table full";
	}
	return "unknown error";
}
