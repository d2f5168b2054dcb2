/*
 * pshim6-cga - generate and verify CGAs (RFC 3972) and HBA sets (RFC 5535)
 * for a site's CMULAs.
 *
 * Interface contract (scripts depend on it):
 *   - results go to stdout as "key value" lines; diagnostics to stderr as
 *     one line "pshim6-cga: <subcommand>: <message>";
 *   - exit 0 success/valid, 1 verification failed, 2 bad usage or input,
 *     3 internal or I/O error, 130 interrupted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <shim6/cga.h>
#include <shim6/hba.h>

#define EX_OK      0
#define EX_INVALID 1
#define EX_USAGE   2
#define EX_FAIL    3
#define EX_INTR    130

static const char *sub = "pshim6-cga";
static volatile int cancel_flag;

static void on_signal(int sig)
{
	(void)sig;
	cancel_flag = 1;
}

static int die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int die(int code, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "pshim6-cga: %s: ", sub);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* --- help texts (kept in step with docs/man/pshim6-cga.1) ---------------- */
static const char help_main[] =
"Usage: pshim6-cga COMMAND [OPTIONS] [ARGS]\n"
"\n"
"Generate and verify Cryptographically Generated Addresses (CGA, RFC 3972)\n"
"and Hash-Based Address sets (HBA, RFC 5535): the CMULAs of a P-SHIM6 site.\n"
"\n"
"Commands:\n"
"  keygen   create an RSA key pair (PEM or DER)\n"
"  gen      make a CGA from a key and a /64 prefix\n"
"  hba      make an HBA set from a key (or a pseudo-key) and several prefixes\n"
"  verify   check that an address belongs to a CGA Parameter Data Structure\n"
"  help     show help for a command (also: pshim6-cga COMMAND --help)\n"
"\n"
"A first CGA:\n"
"  pshim6-cga keygen --out site.pem\n"
"  pshim6-cga gen --key site.pem --prefix 2001:db8:1:2::/64\n"
"  pshim6-cga verify ADDRESS PDS-HEX\n"
"\n"
"Output is \"key value\" lines on stdout.  Exit status: 0 success (or valid),\n"
"1 verification failed, 2 bad usage or input, 3 internal or I/O error,\n"
"130 interrupted.  See pshim6-cga(1).\n";

static const char help_keygen[] =
"Usage: pshim6-cga keygen [--bits N] [--der] [--out FILE] [--public-out FILE]\n"
"\n"
"Create an RSA key pair for CGAs (the site key).  The private key is written\n"
"as PKCS#8, PEM by default, to FILE (created with mode 0600) or to stdout.\n"
"\n"
"  -b, --bits N           modulus size, 1024..4096 (default 2048)\n"
"  -d, --der              write DER instead of PEM (needs --out)\n"
"  -o, --out FILE         private key file (default: stdout, PEM only)\n"
"  -p, --public-out FILE  also write the public key (SubjectPublicKeyInfo)\n"
"  -h, --help             this text\n"
"\n"
"Prints \"bits N\" and \"spki HEX\" (the DER public key) on stdout when the\n"
"key goes to a file.\n";

static const char help_gen[] =
"Usage: pshim6-cga gen --key FILE --prefix PREFIX [--sec N] [--modifier HEX]\n"
"                      [--collision-count N] [--progress]\n"
"\n"
"Make a CGA under a /64 prefix from a public key (RFC 3972 section 4).\n"
"\n"
"  -k, --key FILE             RSA key, PEM or DER, private or public\n"
"  -P, --prefix PREFIX        the /64, e.g. 2001:db8:1:2::/64 (\"/64\" optional)\n"
"  -s, --sec N                security parameter 0, 1 or 2 (default 0).\n"
"                             Sec 1 costs about 2^16 hashes (well under a\n"
"                             second), Sec 2 about 2^32 (hours)\n"
"  -m, --modifier HEX         16-octet start modifier (32 hex digits); the\n"
"                             search for Sec starts there, so a modifier from\n"
"                             an earlier run gives back the same address\n"
"                             (default: random)\n"
"  -c, --collision-count N    0, 1 or 2 (default 0); raise it when duplicate\n"
"                             address detection finds the address in use\n"
"      --progress             report the Sec search on stderr\n"
"  -h, --help                 this text\n"
"\n"
"Output lines: address, sec, collision-count, modifier, pds (the CGA\n"
"Parameter Data Structure in hex, what `verify` and the Shim6 CGA Parameter\n"
"Data Structure option carry).  Ctrl-C stops a long search (exit 130).\n"
"\n"
"Example:\n"
"  pshim6-cga gen --key site.pem --prefix 2001:db8:1:2::/64 --sec 1\n";

static const char help_hba[] =
"Usage: pshim6-cga hba (--key FILE | --pseudo-key) --prefix P1 --prefix P2 ...\n"
"                      [--sec N] [--modifier HEX] [--collision-count N]\n"
"                      [--progress]\n"
"\n"
"Make an HBA set: one address per /64 prefix, all bound to one CGA\n"
"Parameter Data Structure carrying the Multi-Prefix Extension (RFC 5535).\n"
"Prefixes may also be given as arguments after the options.\n"
"\n"
"  -k, --key FILE             RSA key (PEM or DER): the set is also\n"
"                             CGA-compatible and can sign locator lists\n"
"      --pseudo-key           no key: a random 384-bit pseudo-key instead;\n"
"                             the set then only proves membership\n"
"  -P, --prefix PREFIX        a /64 prefix; repeat, 1 to 32 distinct prefixes\n"
"  -s, --sec N                0, 1 or 2 (default 0)\n"
"  -m, --modifier HEX         start modifier, as for gen\n"
"  -c, --collision-count N    0, 1 or 2 (default 0)\n"
"      --progress             report the Sec search on stderr\n"
"  -h, --help                 this text\n"
"\n"
"Output lines: one \"address ADDR\" per prefix in the order given, then sec,\n"
"key (real or pseudo), modifier and pds.\n"
"\n"
"Example:\n"
"  pshim6-cga hba --pseudo-key --prefix 2001:db8:a::/64 --prefix 2001:db8:b::/64\n";

static const char help_verify[] =
"Usage: pshim6-cga verify [--cga | --hba] [--quiet] ADDRESS PDS\n"
"\n"
"Check that ADDRESS belongs to the CGA Parameter Data Structure PDS, given\n"
"in hex (colons and spaces allowed), as @FILE holding the hex, or as - to\n"
"read the hex from stdin.  No key is needed and no signature is checked.\n"
"\n"
"A PDS with a Multi-Prefix Extension is an HBA set: ADDRESS is valid if its\n"
"/64 is one of the set's prefixes and its identifier matches.  Otherwise it\n"
"is a CGA: ADDRESS's /64 must be the PDS's subnet prefix.\n"
"\n"
"  --cga         insist on CGA verification (fails for other prefixes of a set)\n"
"  --hba         insist on HBA verification (fails without a Multi-Prefix Extension)\n"
"  -q, --quiet   print nothing; the exit status says it\n"
"  -h, --help    this text\n"
"\n"
"Prints \"valid cga\" or \"valid hba\" and exits 0; otherwise prints\n"
"\"invalid: REASON\" on stderr and exits 1.  Malformed input exits 2.\n"
"\n"
"Example:\n"
"  pshim6-cga verify 2001:db8:1:2:3c68:c565:2211:c2e4 1b9b9aac...0203010001\n"
"  pshim6-cga verify -q \"$addr\" @pds.hex && echo ok\n";

/* --- argument parsing helpers ----------------------------------------------- */
static int parse_prefix(const char *s, uint8_t out[8])
{
	char buf[INET6_ADDRSTRLEN + 8];
	uint8_t a[16];
	char *slash;

	if (strlen(s) >= sizeof(buf))
		return die(EX_USAGE, "prefix '%.60s': too long", s);
	strcpy(buf, s);
	if ((slash = strchr(buf, '/'))) {
		*slash = '\0';
		if (strcmp(slash + 1, "64") != 0)
			return die(EX_USAGE, "prefix '%s': CGAs live in a /64, not /%s", s, slash + 1);
	}
	if (inet_pton(AF_INET6, buf, a) != 1)
		return die(EX_USAGE, "prefix '%s': not an IPv6 prefix", s);
	for (int i = 8; i < 16; i++)
		if (a[i])
			return die(EX_USAGE, "prefix '%s': bits set past /64", s);
	memcpy(out, a, 8);
	return 0;
}

static int parse_uint(const char *opt, const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return die(EX_USAGE, "%s '%s': expected an integer 0..%u", opt, s, max);
	*out = (unsigned)v;
	return 0;
}

static int parse_modifier(const char *s, uint8_t out[16])
{
	if (shim6_cga_hex_decode(s, out, 16) != 16 || strlen(s) > 64)
		return die(EX_USAGE, "--modifier '%.60s': expected 32 hex digits", s);
	return 0;
}

static int load_key_spki(const char *path, uint8_t *spki, size_t cap, size_t *len)
{
	EVP_PKEY *k = NULL;
	int rc = shim6_key_load_file(&k, path);

	if (rc < 0)
		return die(rc == SHIM6_CGA_EIO ? EX_FAIL : EX_USAGE, "key '%s': %s%s%s", path,
		           shim6_cga_strerror(rc), rc == SHIM6_CGA_EIO ? ": " : "",
		           rc == SHIM6_CGA_EIO ? strerror(errno) : "");
	rc = shim6_key_spki(k, spki, cap);
	EVP_PKEY_free(k);
	if (rc < 0)
		return die(EX_FAIL, "key '%s': %s", path, shim6_cga_strerror(rc));
	*len = (size_t)rc;
	return 0;
}

static void print_hex_line(const char *key, const uint8_t *b, size_t n)
{
	char hex[2 * SHIM6_CGA_PDS_MAX + 1];
	shim6_cga_hex_encode(b, n, hex, sizeof(hex));
	printf("%s %s\n", key, hex);
}

static void print_addr_line(const uint8_t a[16])
{
	char s[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, a, s, sizeof(s));
	printf("address %s\n", s);
}

static int on_progress(void *user, uint64_t tries, unsigned sec)
{
	(void)user;
	fprintf(stderr, "pshim6-cga: %s: Sec %u search: %llu hashes\n", sub, sec,
	        (unsigned long long)tries);
	return 0;
}

static void catch_interrupts(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int gen_error(int rc)
{
	if (rc == SHIM6_CGA_ECANCELLED)
		return die(EX_INTR, "interrupted");
	return die(rc == SHIM6_CGA_ECRYPTO || rc == SHIM6_CGA_ERNG ? EX_FAIL : EX_USAGE,
	           "%s", shim6_cga_strerror(rc));
}

/* getopt stays quiet (opterr = 0) so that every error is one line. */
static int bad_option(char **argv)
{
	const char *o = argv[optind - 1];
	if (optopt && optopt != '?' && o && strncmp(o, "--", 2) != 0)
		return die(EX_USAGE, "option -%c: unknown or missing its argument (see --help)", optopt);
	return die(EX_USAGE, "option '%.60s': unknown or missing its argument (see --help)",
	           o ? o : "?");
}

static int extra_args(int argc, char **argv, const char *help)
{
	(void)help;
	if (optind < argc)
		return die(EX_USAGE, "unexpected argument '%.60s' (see --help)", argv[optind]);
	return 0;
}

/* --- keygen ----------------------------------------------------------------- */
static int write_file(const char *path, const void *buf, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return die(EX_FAIL, "%s: %s", path, strerror(errno));
	if (write(fd, buf, n) != (ssize_t)n || close(fd) != 0)
		return die(EX_FAIL, "%s: write failed", path);
	return 0;
}

static int cmd_keygen(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "bits", required_argument, NULL, 'b' }, { "der", no_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' }, { "public-out", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 } };
	unsigned bits = SHIM6_CGA_KEY_BITS_DEFAULT;
	const char *out = NULL, *pub = NULL;
	int der = 0, c, rc;
	static uint8_t buf[16384];
	EVP_PKEY *k;

	while ((c = getopt_long(argc, argv, "b:do:p:h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': if ((rc = parse_uint("--bits", optarg, 65536, &bits))) return rc; break;
		case 'd': der = 1; break;
		case 'o': out = optarg; break;
		case 'p': pub = optarg; break;
		case 'h': fputs(help_keygen, stdout); return EX_OK;
		default: return bad_option(argv);
		}
	}
	if ((rc = extra_args(argc, argv, help_keygen)))
		return rc;
	if (bits < SHIM6_CGA_KEY_BITS_MIN || bits > SHIM6_CGA_KEY_BITS_MAX)
		return die(EX_USAGE, "--bits %u: must be %d..%d", bits, SHIM6_CGA_KEY_BITS_MIN,
		           SHIM6_CGA_KEY_BITS_MAX);
	if (der && !out)
		return die(EX_USAGE, "--der needs --out FILE (binary output)");
	if ((rc = shim6_key_generate(&k, bits)) < 0)
		return die(EX_FAIL, "%s", shim6_cga_strerror(rc));
	rc = der ? shim6_key_to_der(k, true, buf, sizeof(buf))
	         : shim6_key_to_pem(k, true, (char *)buf, sizeof(buf));
	if (rc < 0) {
		EVP_PKEY_free(k);
		return die(EX_FAIL, "%s", shim6_cga_strerror(rc));
	}
	if (!out) {
		fwrite(buf, 1, (size_t)rc, stdout);
	} else if ((c = write_file(out, buf, (size_t)rc, 0600))) {
		EVP_PKEY_free(k);
		return c;
	}
	if (pub) {
		rc = der ? shim6_key_to_der(k, false, buf, sizeof(buf))
		         : shim6_key_to_pem(k, false, (char *)buf, sizeof(buf));
		if (rc < 0 || (c = write_file(pub, buf, (size_t)rc, 0644))) {
			EVP_PKEY_free(k);
			return rc < 0 ? die(EX_FAIL, "%s", shim6_cga_strerror(rc)) : c;
		}
	}
	if (out) {
		rc = shim6_key_spki(k, buf, sizeof(buf));
		printf("bits %u\n", bits);
		if (rc > 0)
			print_hex_line("spki", buf, (size_t)rc);
	}
	EVP_PKEY_free(k);
	return EX_OK;
}

/* --- gen and hba share their options ----------------------------------------- */
struct genargs {
	const char *key;
	int pseudo;
	uint8_t prefixes[SHIM6_HBA_MAX_PREFIXES][8];
	size_t nprefix;
	unsigned sec, cc;
	int have_mod, progress;
	uint8_t mod[16];
};

static int parse_genargs(int argc, char **argv, struct genargs *g, int hba, const char *help)
{
	static const struct option lo[] = {
		{ "key", required_argument, NULL, 'k' }, { "prefix", required_argument, NULL, 'P' },
		{ "sec", required_argument, NULL, 's' }, { "modifier", required_argument, NULL, 'm' },
		{ "collision-count", required_argument, NULL, 'c' },
		{ "progress", no_argument, NULL, 'r' }, { "pseudo-key", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 } };
	int c, rc;

	memset(g, 0, sizeof(*g));
	while ((c = getopt_long(argc, argv, "k:P:s:m:c:h", lo, NULL)) != -1) {
		switch (c) {
		case 'k': g->key = optarg; break;
		case 'x':
			if (!hba)
				return die(EX_USAGE, "--pseudo-key is for hba only");
			g->pseudo = 1;
			break;
		case 'P':
			if (g->nprefix == (hba ? SHIM6_HBA_MAX_PREFIXES : 1))
				return die(EX_USAGE, hba ? "at most %d prefixes" : "one --prefix only (%d)",
				           hba ? SHIM6_HBA_MAX_PREFIXES : 1);
			if ((rc = parse_prefix(optarg, g->prefixes[g->nprefix])))
				return rc;
			g->nprefix++;
			break;
		case 's': if ((rc = parse_uint("--sec", optarg, SHIM6_CGA_SEC_MAX, &g->sec))) return rc; break;
		case 'c':
			if ((rc = parse_uint("--collision-count", optarg, SHIM6_CGA_COLLISION_MAX, &g->cc)))
				return rc;
			break;
		case 'm': if ((rc = parse_modifier(optarg, g->mod))) return rc; g->have_mod = 1; break;
		case 'r': g->progress = 1; break;
		case 'h': fputs(help, stdout); return -1;
		default: return bad_option(argv);
		}
	}
	if (hba) {
		for (; optind < argc; optind++) {
			if (g->nprefix == SHIM6_HBA_MAX_PREFIXES)
				return die(EX_USAGE, "at most %d prefixes", SHIM6_HBA_MAX_PREFIXES);
			if ((rc = parse_prefix(argv[optind], g->prefixes[g->nprefix])))
				return rc;
			g->nprefix++;
		}
		if (!g->key == !g->pseudo)
			return die(EX_USAGE, "give exactly one of --key FILE and --pseudo-key");
	} else {
		if ((rc = extra_args(argc, argv, help)))
			return rc;
		if (!g->key)
			return die(EX_USAGE, "--key FILE is required (see --help)");
	}
	if (g->nprefix == 0)
		return die(EX_USAGE, "--prefix PREFIX is required (see --help)");
	for (size_t i = 0; i < g->nprefix; i++)
		for (size_t j = 0; j < i; j++)
			if (!memcmp(g->prefixes[i], g->prefixes[j], 8))
				return die(EX_USAGE, "prefix %zu repeats prefix %zu", i + 1, j + 1);
	return 0;
}

static void fill_opts(struct shim6_cga_gen_opts *o, const struct genargs *g)
{
	memset(o, 0, sizeof(*o));
	o->sec = g->sec;
	o->collision_count = (uint8_t)g->cc;
	o->modifier = g->have_mod ? g->mod : NULL;
	o->progress = g->progress ? on_progress : NULL;
	o->progress_every = 1u << 24;
	o->cancel = &cancel_flag;
}

static int cmd_gen(int argc, char **argv)
{
	struct genargs g;
	struct shim6_cga_gen_opts o;
	static struct shim6_cga cga;
	uint8_t spki[SHIM6_CGA_PDS_MAX];
	size_t spki_len = 0;
	int rc;

	if ((rc = parse_genargs(argc, argv, &g, 0, help_gen)))
		return rc < 0 ? EX_OK : rc;
	if ((rc = load_key_spki(g.key, spki, sizeof(spki), &spki_len)))
		return rc;
	fill_opts(&o, &g);
	catch_interrupts();
	if ((rc = shim6_cga_generate(&cga, g.prefixes[0], spki, spki_len, &o)) < 0)
		return gen_error(rc);
	print_addr_line(cga.addr);
	printf("sec %u\ncollision-count %u\n", cga.sec, cga.collision_count);
	print_hex_line("modifier", cga.modifier, 16);
	print_hex_line("pds", cga.pds, cga.pds_len);
	return EX_OK;
}

static int cmd_hba(int argc, char **argv)
{
	struct genargs g;
	struct shim6_cga_gen_opts o;
	static struct shim6_hba_set set;
	uint8_t spki[SHIM6_CGA_PDS_MAX];
	size_t spki_len = 0;
	int rc;

	if ((rc = parse_genargs(argc, argv, &g, 1, help_hba)))
		return rc < 0 ? EX_OK : rc;
	if (g.key && (rc = load_key_spki(g.key, spki, sizeof(spki), &spki_len)))
		return rc;
	fill_opts(&o, &g);
	catch_interrupts();
	rc = shim6_hba_generate(&set, &g.prefixes[0][0], g.nprefix, g.key ? spki : NULL,
	                        spki_len, &o);
	if (rc < 0)
		return gen_error(rc);
	for (size_t i = 0; i < set.count; i++)
		print_addr_line(set.addrs[i]);
	printf("sec %u\nkey %s\n", set.sec, set.real_key ? "real" : "pseudo");
	print_hex_line("modifier", set.modifier, 16);
	print_hex_line("pds", set.pds, set.pds_len);
	return EX_OK;
}

/* --- verify ------------------------------------------------------------------ */
static int read_hex_arg(const char *arg, uint8_t *pds, size_t cap, size_t *len)
{
	static char text[4 * SHIM6_CGA_PDS_MAX + 64];
	const char *hex = arg;
	int n;

	if (arg[0] == '@' || strcmp(arg, "-") == 0) {
		FILE *f = arg[0] == '@' ? fopen(arg + 1, "r") : stdin;
		size_t got;
		if (!f)
			return die(EX_USAGE, "%s: %s", arg + 1, strerror(errno));
		got = fread(text, 1, sizeof(text) - 1, f);
		int toolong = got == sizeof(text) - 1 && fgetc(f) != EOF;
		if (f != stdin)
			fclose(f);
		if (toolong)
			return die(EX_USAGE, "PDS input longer than %d octets", SHIM6_CGA_PDS_MAX);
		text[got] = '\0';
		if (strlen(text) != got)
			return die(EX_USAGE, "PDS input holds a NUL byte: expected hex text");
		hex = text;
	}
	n = shim6_cga_hex_decode(hex, pds, cap);
	if (n == SHIM6_CGA_ENOSPACE)
		return die(EX_USAGE, "PDS longer than %d octets", SHIM6_CGA_PDS_MAX);
	if (n < 0)
		return die(EX_USAGE, "PDS: %s", shim6_cga_strerror(n));
	if (n == 0)
		return die(EX_USAGE, "PDS is empty");
	*len = (size_t)n;
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "cga", no_argument, NULL, 'C' }, { "hba", no_argument, NULL, 'H' },
		{ "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 } };
	int c, rc, want = 0, quiet = 0, hba;
	static uint8_t pds[SHIM6_CGA_PDS_MAX];
	uint8_t addr[16];
	size_t len = 0;
	struct shim6_cga_params p;

	while ((c = getopt_long(argc, argv, "qh", lo, NULL)) != -1) {
		switch (c) {
		case 'C': case 'H':
			if (want && want != c)
				return die(EX_USAGE, "--cga and --hba exclude each other");
			want = c;
			break;
		case 'q': quiet = 1; break;
		case 'h': fputs(help_verify, stdout); return EX_OK;
		default: return bad_option(argv);
		}
	}
	if (argc - optind != 2)
		return die(EX_USAGE, "expected ADDRESS and PDS (see --help)");
	if (inet_pton(AF_INET6, argv[optind], addr) != 1)
		return die(EX_USAGE, "'%.60s': not an IPv6 address", argv[optind]);
	if ((rc = read_hex_arg(argv[optind + 1], pds, sizeof(pds), &len)))
		return rc;
	if ((rc = shim6_cga_parse(&p, pds, len)) < 0)
		return die(EX_USAGE, "PDS malformed: %s", shim6_cga_strerror(rc));
	hba = want ? want == 'H' : p.mp_present;
	rc = hba ? shim6_hba_verify(addr, pds, len) : shim6_cga_verify(addr, pds, len);
	if (rc < 0) {
		if (!quiet)
			fprintf(stderr, "invalid: %s\n", shim6_cga_strerror(rc));
		return EX_INVALID;
	}
	if (!quiet)
		printf("valid %s\n", hba ? "hba" : "cga");
	return EX_OK;
}

/* --- main ------------------------------------------------------------------- */
static const struct {
	const char *name;
	int (*run)(int, char **);
	const char *help;
} cmds[] = {
	{ "keygen", cmd_keygen, help_keygen },
	{ "gen", cmd_gen, help_gen },
	{ "hba", cmd_hba, help_hba },
	{ "verify", cmd_verify, help_verify },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(help_main, stderr);
		return EX_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(help_main, stdout);
		return EX_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		puts("pshim6-cga 0.1.0");
		return EX_OK;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			fputs(help_main, stdout);
			return EX_OK;
		}
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (!strcmp(argv[2], cmds[i].name)) {
				fputs(cmds[i].help, stdout);
				return EX_OK;
			}
		return die(EX_USAGE, "no command '%.40s' (try: pshim6-cga --help)", argv[2]);
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			sub = cmds[i].name;
			optind = 1;
			opterr = 0;
			return cmds[i].run(argc - 1, argv + 1);
		}
	}
	return die(EX_USAGE, "unknown command '%.40s' (try: pshim6-cga --help)", argv[1]);
}
