/* The state file, one line per context:
 *   ctx <own tag hex> <local gen> <peer gen> <initiator 0|1> <loc>,<verif>,<flags>,<prio>,<weight>,<verified> ...
 * Text so an operator can read it; rewritten whole under a temp name and
 * renamed, so a crash leaves the old file or the new one, never half. */
#include "state.h"
#include "daemon.h"
#include "log.h"
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ctl_state_ctx *S;
static size_t Sn, Scap;

void state_free(void)
{
	free(S);
	S = NULL;
	Sn = Scap = 0;
}

static int parse_loc(char *tok, struct shim6_locator *l, uint8_t *ver)
{
	char *f[6];
	size_t n = 0;
	for (char *save = NULL, *p = strtok_r(tok, ",", &save); p && n < 6; p = strtok_r(NULL, ",", &save))
		f[n++] = p;
	if (n != 6 || inet_pton(AF_INET6, f[0], l->addr.b) != 1)
		return -1;
	unsigned v[5];
	for (size_t i = 0; i < 5; i++) {
		char *end;
		unsigned long x = strtoul(f[i + 1], &end, 10);
		if (*end || x > 255)
			return -1;
		v[i] = (unsigned)x;
	}
	l->verif = (uint8_t)v[0];
	l->flags = (uint8_t)v[1];
	l->priority = (uint8_t)v[2];
	l->weight = (uint8_t)v[3];
	*ver = (uint8_t)(v[4] != 0);
	return 0;
}

void state_load(struct daemon *d)
{
	state_free();
	const char *path = d->conf->control.state_file;
	if (!path[0])
		return;
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
	char line[4096];
	unsigned lineno = 0;
	while (fgets(line, sizeof line, f) && Sn < Scap) {
		lineno++;
		struct ctl_state_ctx *s = &S[Sn];
		memset(s, 0, sizeof *s);
		char *save = NULL, *tok = strtok_r(line, " \n", &save);
		if (!tok || tok[0] == '#')
			continue;
		int ok = !strcmp(tok, "ctx");
		uint64_t vals[4] = { 0 };
		for (int i = 0; ok && i < 4; i++) {
			tok = strtok_r(NULL, " \n", &save);
			char *end;
			ok = tok && (vals[i] = strtoull(tok, &end, i == 0 ? 16 : 10), *end == 0);
		}
		while (ok && (tok = strtok_r(NULL, " \n", &save))) {
			if (s->npeer >= SHIM6_MAX_LOCATORS ||
			    parse_loc(tok, &s->peer_locs[s->npeer], &s->verified[s->npeer]) < 0)
				ok = 0;
			else
				s->npeer++;
		}
		if (!ok || vals[0] == 0 || vals[1] > UINT32_MAX || vals[2] > UINT32_MAX) {
			log_warn("%s:%u: malformed state line skipped", path, lineno);
			continue;
		}
		s->own_tag = vals[0];
		s->local_gen = (uint32_t)vals[1];
		s->peer_gen = (uint32_t)vals[2];
		s->initiator = vals[3] != 0;
		Sn++;
	}
	fclose(f);
	log_info("state file %s: %zu contexts", path, Sn);
}

const struct ctl_state_ctx *state_find(struct daemon *d, uint64_t own_tag)
{
	(void)d;
	for (size_t i = 0; i < Sn; i++)
		if (S[i].own_tag == own_tag)
			return &S[i];
	return NULL;
}

void state_fill_import(const struct ctl_state_ctx *s, struct shim6_ctx_import *im)
{
	im->local_gen = s->local_gen;
	im->peer_gen = s->peer_gen;
	im->initiator = s->initiator;
	if (s->npeer) {
		im->npeer = s->npeer;
		memcpy(im->peer_locs, s->peer_locs, sizeof s->peer_locs);
		memcpy(im->verified, s->verified, sizeof s->verified);
	}
}

struct wctx { struct shim6_engine *eng; FILE *f; };

static int write_one(void *arg, const struct shim6_ctx_info *ci)
{
	struct wctx *w = arg;
	if (ci->state != SHIM6_ST_ESTABLISHED)
		return 0;
	uint32_t lg = 0, pg = 0;
	shim6_engine_ctx_generations(w->eng, ci->id, &lg, &pg);
	fprintf(w->f, "ctx %012" PRIx64 " %" PRIu32 " %" PRIu32 " %d", ci->id, lg, pg, ci->initiator ? 1 : 0);
	for (size_t i = 0; i < ci->npeer; i++) {
		char a[INET6_ADDRSTRLEN];
		const struct shim6_locator *l = &ci->peer_locs[i];
		inet_ntop(AF_INET6, l->addr.b, a, sizeof a);
		/* a list under a known generation passed CGA/HBA verification */
		int ver = pg != 0 || ci->peer_usable[i];
		fprintf(w->f, " %s,%u,%u,%u,%u,%d", a, l->verif, l->flags, l->priority, l->weight, ver);
	}
	fputc('\n', w->f);
	return 0;
}

int state_save(struct daemon *d, struct shim6_engine *eng)
{
	const char *path = d->conf->control.state_file;
	if (!path[0] || !eng)
		return 0;
	char tmp[PSHIM6_CONF_PATH_MAX + 8];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		log_warn("state file %s: %s", tmp, strerror(errno));
		return -1;
	}
	fputs("# pshim6-control context state; rewritten on every context change\n", f);
	struct wctx w = { eng, f };
	shim6_engine_ctx_foreach(eng, write_one, &w);
	int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) != 0) {
		log_warn("state file %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
