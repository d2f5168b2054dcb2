/* The state file, one line per context:
 *   ctx <own tag hex> <local gen> <peer gen> <initiator 0|1> <loc>,<verif>,<flags>,<prio>,<weight>,<verified> ...
 * Text so an operator can read it; rewritten whole under a temp name and
 * renamed, so a crash leaves the old file or the new one, never half. */
#include "state.h"
#include "state_line.h"
#include "daemon.h"
#include "log.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct ctl_state_ctx *S;
static size_t Sn, Scap;

void state_free(void)
{
	free(S);
	S = NULL;
	Sn = Scap = 0;
}

/* Decimal or hex digits only: strtoull alone would also take leading
 * blanks, a sign ("-1" wraps to 2^64-1) and a "0x" prefix. */
static int parse_num(const char *s, int base, uint64_t max, uint64_t *out)
{
	if (!*s || strlen(s) > 20)
		return -1;
	for (const char *p = s; *p; p++)
		if (base == 16 ? !isxdigit((unsigned char)*p) : !isdigit((unsigned char)*p))
			return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_loc(char *tok, struct shim6_locator *l, uint8_t *ver)
{
	/* exactly six fields, none empty (strtok would merge ",,") */
	char *f[6];
	size_t n = 0;
	for (char *p = tok; p; n++) {
		if (n == 6)
			return -1;
		f[n] = p;
		if ((p = strchr(p, ',')))
			*p++ = 0;
	}
	if (n != 6 || inet_pton(AF_INET6, f[0], l->addr.b) != 1)
		return -1;
	/* any method octet: the engine keeps what a verified list carried */
	static const uint64_t max[5] = { 255, 255, 255, 255, 1 };
	uint64_t v[5];
	for (size_t i = 0; i < 5; i++)
		if (parse_num(f[i + 1], 10, max[i], &v[i]) < 0)
			return -1;
	l->verif = (uint8_t)v[0];
	l->flags = (uint8_t)v[1];
	l->priority = (uint8_t)v[2];
	l->weight = (uint8_t)v[3];
	*ver = (uint8_t)v[4];
	return 0;
}

int state_parse_line(const char *text, size_t len, struct ctl_state_ctx *s)
{
	char line[STATE_LINE_MAX];
	memset(s, 0, sizeof *s);
	if (len >= sizeof line || memchr(text, 0, len))
		return -1;
	memcpy(line, text, len);
	line[len] = 0;
	char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);
	if (!tok || tok[0] == '#')
		return 0;
	if (strcmp(tok, "ctx"))
		return -1;
	static const int base[4] = { 16, 10, 10, 10 };
	static const uint64_t max[4] = { STATE_TAG_MASK, UINT32_MAX, UINT32_MAX, 1 };
	uint64_t v[4];
	for (int i = 0; i < 4; i++) {
		tok = strtok_r(NULL, " \t\r\n", &save);
		if (!tok || parse_num(tok, base[i], max[i], &v[i]) < 0)
			return -1;
	}
	if (v[0] == 0)
		return -1;
	while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
		if (s->npeer >= SHIM6_MAX_LOCATORS ||
		    parse_loc(tok, &s->peer_locs[s->npeer], &s->verified[s->npeer]) < 0)
			return -1;
		s->npeer++;
	}
	s->own_tag = v[0];
	s->local_gen = (uint32_t)v[1];
	s->peer_gen = (uint32_t)v[2];
	s->initiator = (int)v[3];
	return 1;
}

/* One line into buf (without its newline).  A line that does not fit is
 * consumed to its end and reported as too long, so its tail is never read
 * as a line of its own.  Returns the length, -2 for too long, -1 at EOF. */
static long read_line(FILE *f, char *buf, size_t cap)
{
	size_t n = 0;
	int c, over = 0;
	while ((c = getc(f)) != EOF && c != '\n') {
		if (n + 1 < cap)
			buf[n++] = (char)c;
		else
			over = 1;
	}
	if (c == EOF && n == 0 && !over)
		return -1;
	return over ? -2 : (long)n;
}

/*
 * A save that a crash or SIGKILL interrupted leaves its temp file, up to
 * the whole table's size each time.  At start no save of ours can be
 * running, so every "<file>.<pid>.tmp" (and "<file>.tmp" of older
 * versions) beside the state file is such a leftover.
 */
static void clean_stale(const char *path)
{
	char dir[PSHIM6_CONF_PATH_MAX];
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	DIR *dd = opendir(dir);
	if (!dd)
		return;
	size_t bl = strlen(base);
	unsigned n = 0;
	for (struct dirent *e; (e = readdir(dd));) {
		const char *nm = e->d_name, *q;
		if (strncmp(nm, base, bl) || nm[bl] != '.')
			continue;
		for (q = nm + bl + 1; isdigit((unsigned char)*q); q++)
			;
		if (strcmp(q, q == nm + bl + 1 ? "tmp" : ".tmp"))
			continue;
		char full[2 * PSHIM6_CONF_PATH_MAX];
		snprintf(full, sizeof full, "%s/%s", dir, nm);
		n += unlink(full) == 0;
	}
	closedir(dd);
	if (n)
		log_notice("state file %s: removed %u temp file%s of saves a crash interrupted", path, n, n == 1 ? "" : "s");
}

void state_load(struct daemon *d)
{
	state_free();
	const char *path = d->conf->control.state_file;
	if (!path[0])
		return;
	clean_stale(path);
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno != ENOENT)
			log_warn("state file %s: %s", path, strerror(errno));
		return;
	}
	Scap = d->conf->engine.max_contexts ? d->conf->engine.max_contexts : 1;
	S = calloc(Scap, sizeof *S);
	if (!S) {
		fclose(f);
		Scap = 0;
		return;
	}
	char line[STATE_LINE_MAX];
	unsigned lineno = 0;
	long n;
	while (Sn < Scap && (n = read_line(f, line, sizeof line)) != -1) {
		lineno++;
		struct ctl_state_ctx *s = &S[Sn];
		int r = n < 0 ? -1 : state_parse_line(line, (size_t)n, s);
		if (r == 1 && state_find(d, s->own_tag)) {
			log_warn("%s:%u: context %012" PRIx64 " listed twice, first kept", path, lineno, s->own_tag);
			continue;
		}
		if (r < 0)
			log_warn("%s:%u: %s state line skipped", path, lineno, n < 0 ? "overlong" : "malformed");
		if (r == 1)
			Sn++;
	}
	fclose(f);
	log_info("state file %s: %zu contexts", path, Sn);
}

size_t state_count(void)
{
	return Sn;
}

const struct ctl_state_ctx *state_at(size_t i)
{
	return i < Sn ? &S[i] : NULL;
}

const struct ctl_state_ctx *state_find(struct daemon *d, uint64_t own_tag)
{
	(void)d;
	for (size_t i = 0; i < Sn; i++)
		if (S[i].own_tag == own_tag)
			return &S[i];
	return NULL;
}

struct wctx { struct shim6_engine *eng; FILE *f; struct ctl_state_ctx s; char line[STATE_LINE_MAX]; };

static int write_one(void *arg, const struct shim6_ctx_info *ci)
{
	struct wctx *w = arg;
	struct ctl_state_ctx *s = &w->s;
	if (ci->state != SHIM6_ST_ESTABLISHED)
		return 0;
	s->own_tag = ci->id;
	s->local_gen = s->peer_gen = 0;
	shim6_engine_ctx_generations(w->eng, ci->id, &s->local_gen, &s->peer_gen);
	s->initiator = ci->initiator ? 1 : 0;
	s->npeer = ci->npeer < SHIM6_MAX_LOCATORS ? ci->npeer : SHIM6_MAX_LOCATORS;
	memcpy(s->peer_locs, ci->peer_locs, s->npeer * sizeof s->peer_locs[0]);
	for (size_t i = 0; i < s->npeer; i++)
		/* a list under a known generation passed CGA/HBA verification */
		s->verified[i] = s->peer_gen != 0 || ci->peer_usable[i];
	int n = state_line_format(s, w->line, sizeof w->line - 1);
	if (n < 0)
		return -1;  /* 16 locators take about 1.1 KB: a save that lost a context fails instead */
	w->line[n] = '\n';
	fwrite(w->line, 1, (size_t)n + 1, w->f);
	return 0;
}

static uint64_t saves_started;

uint64_t state_generation(void)
{
	return saves_started;
}

int state_save(struct daemon *d, struct shim6_engine *eng)
{
	const char *path = d->conf->control.state_file;
	if (!path[0] || !eng)
		return 0;
	saves_started++;
	/* the daemon and a background save may write at once: one temp file each */
	char tmp[PSHIM6_CONF_PATH_MAX + 32];
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		log_warn("state file %s: %s", tmp, strerror(errno));
		return -1;
	}
	/* large writes: a million contexts are about 75 MB */
	static char obuf[1 << 18];
	setvbuf(f, obuf, _IOFBF, sizeof obuf);
	fputs("# pshim6-control context state; rewritten after context changes\n", f);
	struct wctx w = { .eng = eng, .f = f };
	int lost = shim6_engine_ctx_foreach(eng, write_one, &w) != 0;
	int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
	bad |= fclose(f) != 0;
	if (lost || bad || rename(tmp, path) != 0) {
		log_warn("state file %s: %s", path, lost ? "a context's line does not fit" : strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

pid_t state_save_bg(struct daemon *d, struct shim6_engine *eng)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(state_save(d, eng) == 0 ? 0 : 1);
	return pid;
}

int state_save_bg_done(pid_t pid, bool wait)
{
	int status;
	pid_t r = waitpid(pid, &status, wait ? 0 : WNOHANG);
	if (r == 0)
		return -1;
	if (r != pid)
		return 1;   /* not ours, or already reaped: count it failed, save again */
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
