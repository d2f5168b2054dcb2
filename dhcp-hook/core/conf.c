/* Hook parameters: validation and the site public key.  Errors name the
 * parameter so the operator sees what to fix in kea-dhcp6.conf. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "pdh.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return PDH_EINVAL;
}

void pdh_params_init(struct pdh_params *p)
{
	memset(p, 0, sizeof(*p));
	p->sec = -1;
	p->pending_ttl = -1;
	p->pending_max = -1;
	p->modifier_pool = -1;
}

int pdh_prefix64_parse(uint8_t out[8], const char *s)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	struct in6_addr a;
	size_t n;

	if (!slash || strcmp(slash, "/64") != 0)
		return PDH_EINVAL;
	n = (size_t)(slash - s);
	if (n == 0 || n >= sizeof(buf))
		return PDH_EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET6, buf, &a) != 1)
		return PDH_EINVAL;
	for (int i = 8; i < 16; i++)
		if (a.s6_addr[i])
			return PDH_EINVAL;
	memcpy(out, a.s6_addr, 8);
	return PDH_OK;
}

int pdh_conf_load_key(struct pdh_conf *c, const char *path, char *err, size_t errlen)
{
	char line[128];
	FILE *f = fopen(path, "r");
	EVP_PKEY *pk;
	unsigned char *der = NULL;
	unsigned char md[32];
	unsigned mdlen = 0;
	int len;

	if (!f)
		return fail(err, errlen, "public-key-file %s: %s", path, strerror(errno));
	/* The DHCP server must never hold the site's private key. */
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "PRIVATE KEY")) {
			fclose(f);
			return fail(err, errlen, "public-key-file %s holds a private key; give the "
			            "public key only (openssl pkey -pubout)", path);
		}
	}
	rewind(f);
	pk = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!pk)
		return fail(err, errlen, "public-key-file %s: no PEM public key found", path);
	len = i2d_PUBKEY(pk, &der);
	EVP_PKEY_free(pk);
	if (len <= 0 || (size_t)len > PDH_KEY_MAX) {
		OPENSSL_free(der);
		return fail(err, errlen, "public-key-file %s: key encodes to %d octets (max %d)",
		            path, len, PDH_KEY_MAX);
	}
	memcpy(c->key, der, (size_t)len);
	c->key_len = (size_t)len;
	OPENSSL_free(der);
	if (!EVP_Digest(c->key, c->key_len, md, &mdlen, EVP_sha256(), NULL))
		return fail(err, errlen, "public-key-file %s: SHA-256 failed", path);
	memcpy(c->key_id, md, 8);
	return PDH_OK;
}

int pdh_conf_load(struct pdh_conf *c, const struct pdh_params *p, char *err, size_t errlen)
{
	int rc;

	memset(c, 0, sizeof(*c));
	if (!p->public_key_file || !*p->public_key_file)
		return fail(err, errlen, "parameter 'public-key-file' is required (PEM public key of the site)");
	if (p->sec < 0)
		c->sec = 1;
	else if (p->sec > PDH_SEC_MAX)
		return fail(err, errlen, "parameter 'sec' is %lld; allowed 0..%d (Sec %lld costs "
		            "about 2^%lld hashes per address)", p->sec, PDH_SEC_MAX, p->sec, 16 * p->sec);
	else
		c->sec = (int)p->sec;
	if (!p->mode || strcmp(p->mode, "cga") == 0)
		c->mode = PDH_MODE_CGA;
	else if (strcmp(p->mode, "hba") == 0)
		c->mode = PDH_MODE_HBA;
	else
		return fail(err, errlen, "parameter 'mode' is \"%s\"; allowed \"cga\" or \"hba\"", p->mode);
	if (!p->cmula_prefix)
		return fail(err, errlen, "parameter 'cmula-prefix' is required (the site's CMULA /64, "
		            "e.g. \"fd00:1::/64\")");
	if (pdh_prefix64_parse(c->cmula_prefix, p->cmula_prefix) < 0)
		return fail(err, errlen, "parameter 'cmula-prefix' \"%s\" is not an IPv6 /64 prefix",
		            p->cmula_prefix);
	if (p->n_pa_given > PDH_MAX_PREFIXES - 1)
		return fail(err, errlen, "parameter 'pa-prefixes' lists %zu prefixes; at most %d",
		            p->n_pa_given, PDH_MAX_PREFIXES - 1);
	for (size_t i = 0; i < p->n_pa_given; i++) {
		if (!p->pa_prefixes[i] || pdh_prefix64_parse(c->pa[i], p->pa_prefixes[i]) < 0)
			return fail(err, errlen, "parameter 'pa-prefixes'[%zu] \"%s\" is not an IPv6 /64 prefix",
			            i, p->pa_prefixes[i] ? p->pa_prefixes[i] : "(not a string)");
		for (size_t j = 0; j < i; j++)
			if (!memcmp(c->pa[i], c->pa[j], 8))
				return fail(err, errlen, "parameter 'pa-prefixes'[%zu] repeats [%zu]", i, j);
		if (!memcmp(c->pa[i], c->cmula_prefix, 8))
			return fail(err, errlen, "parameter 'pa-prefixes'[%zu] equals 'cmula-prefix'", i);
	}
	c->n_pa = p->n_pa_given;
	if (c->mode == PDH_MODE_HBA && c->n_pa == 0)
		return fail(err, errlen, "mode \"hba\" needs parameter 'pa-prefixes' (one /64 per ISP)");
	if (p->control_socket) {
		if (strlen(p->control_socket) >= sizeof(c->control_socket))
			return fail(err, errlen, "parameter 'control-socket' is longer than %zu characters",
			            sizeof(c->control_socket) - 1);
		strcpy(c->control_socket, p->control_socket);
	}
	if (p->pending_ttl == 0 || p->pending_ttl > 3600)
		return fail(err, errlen, "parameter 'pending-ttl' is %lld; allowed 1..3600 seconds", p->pending_ttl);
	c->pending_ttl = p->pending_ttl < 0 ? 60 : (unsigned)p->pending_ttl;
	if (p->pending_max == 0 || p->pending_max > 1000000)
		return fail(err, errlen, "parameter 'pending-max' is %lld; allowed 1..1000000", p->pending_max);
	c->pending_max = p->pending_max < 0 ? 4096 : (size_t)p->pending_max;
	if (p->modifier_pool > PDH_MODPOOL_MAX)
		return fail(err, errlen, "parameter 'modifier-pool' is %lld; allowed 0..%d", p->modifier_pool,
		            PDH_MODPOOL_MAX);
	c->modifier_pool = p->modifier_pool < 0 ? 64 : (size_t)p->modifier_pool;
	rc = pdh_conf_load_key(c, p->public_key_file, err, errlen);
	return rc;
}
