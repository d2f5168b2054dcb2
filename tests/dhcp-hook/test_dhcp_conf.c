/* Hook parameters: defaults, every rejection with a message naming the
 * parameter, and the private-key guard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "pdh.h"

static char pub_path[64], priv_path[64];

static int setup(void **state)
{
	EVP_PKEY *k = EVP_RSA_gen(1024);
	FILE *f;

	if (!k)
		return -1;
	snprintf(pub_path, sizeof(pub_path), "/tmp/pdh-conf-%d.pub", (int)getpid());
	snprintf(priv_path, sizeof(priv_path), "/tmp/pdh-conf-%d.key", (int)getpid());
	f = fopen(pub_path, "w");
	PEM_write_PUBKEY(f, k);
	fclose(f);
	f = fopen(priv_path, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	EVP_PKEY_free(k);
	return 0;
}

static int teardown(void **state)
{
	unlink(pub_path);
	unlink(priv_path);
	return 0;
}

static void base(struct pdh_params *p)
{
	pdh_params_init(p);
	p->public_key_file = pub_path;
	p->cmula_prefix = "fd00:1:2:3::/64";
}

static void good_defaults(void **state)
{
	struct pdh_params p;
	struct pdh_conf c;
	char err[256] = "";
	const uint8_t want[8] = {0xfd, 0, 0, 1, 0, 2, 0, 3};

	base(&p);
	assert_int_equal(pdh_conf_load(&c, &p, err, sizeof(err)), PDH_OK);
	assert_int_equal(c.sec, 1);
	assert_int_equal(c.mode, PDH_MODE_CGA);
	assert_memory_equal(c.cmula_prefix, want, 8);
	assert_int_equal(c.pending_ttl, 60);
	assert_int_equal(c.pending_max, 4096);
	assert_int_equal(c.modifier_pool, 64);
	assert_string_equal(c.control_socket, "");
	assert_true(c.key_len > 140 && c.key[0] == 0x30);
	uint8_t zero[8] = {0};
	assert_memory_not_equal(c.key_id, zero, 8);
}

static void good_hba(void **state)
{
	struct pdh_params p;
	struct pdh_conf c;
	char err[256] = "";

	base(&p);
	p.mode = "hba";
	p.sec = 0;
	p.pa_prefixes[0] = "2001:db8:a::/64";
	p.pa_prefixes[1] = "2001:db8:b::/64";
	p.n_pa_given = 2;
	p.control_socket = "/run/pshim6/control.sock";
	assert_int_equal(pdh_conf_load(&c, &p, err, sizeof(err)), PDH_OK);
	assert_int_equal(c.mode, PDH_MODE_HBA);
	assert_int_equal(c.n_pa, 2);
	assert_int_equal(c.sec, 0);
	assert_string_equal(c.control_socket, "/run/pshim6/control.sock");
}

#define REJECT(mutate, needle)                                                  \
	do {                                                                    \
		struct pdh_params p;                                            \
		struct pdh_conf c;                                              \
		char err[256] = "";                                             \
		base(&p);                                                       \
		mutate;                                                         \
		assert_int_equal(pdh_conf_load(&c, &p, err, sizeof(err)), PDH_EINVAL); \
		if (!strstr(err, needle))                                       \
			fail_msg("error \"%s\" lacks \"%s\"", err, needle);     \
	} while (0)

static void rejects(void **state)
{
	REJECT(p.public_key_file = NULL, "'public-key-file' is required");
	REJECT(p.public_key_file = "/nonexistent/key.pem", "No such file");
	REJECT(p.public_key_file = priv_path, "holds a private key");
	REJECT(p.public_key_file = "/etc/hostname", "no PEM public key");
	REJECT(p.sec = 2, "'sec' is 2");
	REJECT(p.mode = "ecdsa", "'mode' is \"ecdsa\"");
	REJECT(p.cmula_prefix = NULL, "'cmula-prefix' is required");
	REJECT(p.cmula_prefix = "fd00::/48", "not an IPv6 /64");
	REJECT(p.cmula_prefix = "fd00::1/64", "not an IPv6 /64");
	REJECT(p.cmula_prefix = "banana/64", "not an IPv6 /64");
	REJECT(p.mode = "hba", "needs parameter 'pa-prefixes'");
	REJECT((p.pa_prefixes[0] = "2001:db8::/56", p.n_pa_given = 1), "'pa-prefixes'[0]");
	REJECT((p.pa_prefixes[0] = NULL, p.n_pa_given = 1), "(not a string)");
	REJECT((p.pa_prefixes[0] = "2001:db8::/64", p.pa_prefixes[1] = "2001:db8::/64", p.n_pa_given = 2),
	       "repeats");
	REJECT((p.pa_prefixes[0] = "fd00:1:2:3::/64", p.n_pa_given = 1), "equals 'cmula-prefix'");
	REJECT(p.n_pa_given = PDH_MAX_PREFIXES, "at most");
	REJECT(p.control_socket = "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	       "'control-socket' is longer");
	REJECT(p.pending_ttl = 0, "'pending-ttl'");
	REJECT(p.pending_max = 0, "'pending-max'");
	REJECT(p.modifier_pool = PDH_MODPOOL_MAX + 1, "'modifier-pool'");
}

static void prefix_parse(void **state)
{
	uint8_t out[8];

	assert_int_equal(pdh_prefix64_parse(out, "2001:db8:1:2::/64"), PDH_OK);
	assert_int_equal(out[7], 2);
	assert_int_equal(pdh_prefix64_parse(out, "2001:db8:1:2::"), PDH_EINVAL);
	assert_int_equal(pdh_prefix64_parse(out, "/64"), PDH_EINVAL);
	assert_int_equal(pdh_prefix64_parse(out, "2001:db8::/640"), PDH_EINVAL);
}

/* Upper bounds taken at their value and refused one past it; a control
 * socket path must leave room for its NUL in sun_path. */
static void bounds_at_the_edge(void **state)
{
	struct pdh_params p;
	struct pdh_conf c;
	char path[120];

	base(&p);
	p.pending_ttl = 3600;
	p.pending_max = 1000000;
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[sizeof(c.control_socket) - 1] = '\0';
	p.control_socket = path;
	assert_int_equal(pdh_conf_load(&c, &p, NULL, 0), PDH_OK);
	assert_int_equal(c.pending_ttl, 3600);
	assert_int_equal(c.pending_max, 1000000);
	assert_string_equal(c.control_socket, path);
	REJECT(p.pending_ttl = 3601, "'pending-ttl'");
	REJECT(p.pending_max = 1000001, "'pending-max'");
	path[sizeof(c.control_socket) - 1] = 'a';
	path[sizeof(c.control_socket)] = '\0';
	REJECT(p.control_socket = path, "'control-socket' is longer");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_defaults),
		cmocka_unit_test(good_hba),
		cmocka_unit_test(rejects),
		cmocka_unit_test(prefix_parse),
		cmocka_unit_test(bounds_at_the_edge),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
