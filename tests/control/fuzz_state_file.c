/* libFuzzer target: control.state_file as pshim6-control reads it after a
 * restart.  The file lives on disk between runs, so it may be truncated,
 * corrupted or edited by hand.  Two ways in: the whole input as one line
 * through state_parse_line (when it is accepted: a write/parse round trip,
 * and the daemon's line writer checked against a printf one), and the
 * input as a file through state_load (line splitting, the max_contexts
 * bound, repeated contexts). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <unistd.h>
#include "daemon.h"
#include "log.h"
#include "state.h"
#include "state_line.h"
#include "state_line_ref.h"

#define MAX_CTX 8

static struct pshim6_conf conf;
static struct daemon d;
static int fd = -1;

static void check(const struct ctl_state_ctx *s)
{
	if (s->own_tag == 0 || s->own_tag > STATE_TAG_MASK || s->npeer > SHIM6_MAX_LOCATORS ||
	    (s->initiator != 0 && s->initiator != 1))
		abort();
	for (size_t i = 0; i < s->npeer; i++)
		if (s->verified[i] > 1)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fd < 0) {
		log_set_level(PSHIM6_LOG_ERR); /* a warning per bad line would drown the run */
		pshim6_conf_defaults(&conf);
		conf.engine.max_contexts = MAX_CTX;
		fd = memfd_create("state", 0);
		if (fd < 0)
			abort();
		snprintf(conf.control.state_file, sizeof conf.control.state_file, "/proc/self/fd/%d", fd);
		d.conf = &conf;
	}

	struct ctl_state_ctx s, s2;
	int r = state_parse_line((const char *)data, size, &s);
	if (r < -1 || r > 1)
		abort();
	if (r == 1) {
		check(&s);
		char line[STATE_LINE_MAX];
		size_t n = state_line_ref(&s, line, sizeof line);
		if (n >= sizeof line || state_parse_line(line, n, &s2) != 1 || memcmp(&s, &s2, sizeof s))
			abort();
		/* the daemon's writer gives the same octets as the printf one */
		char mine[STATE_LINE_MAX];
		if (state_line_format(&s, mine, sizeof mine) != (int)n || memcmp(mine, line, n + 1))
			abort();
		/* and refuses, without overrunning, a buffer one octet short */
		char *tight = malloc(n);
		if (!tight || state_line_format(&s, tight, n) != -1 || (n && tight[0]))
			abort();
		free(tight);
	}

	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	state_load(&d);
	size_t cnt = state_count();
	if (cnt > MAX_CTX || state_at(cnt))
		abort();
	for (size_t i = 0; i < cnt; i++) {
		const struct ctl_state_ctx *c = state_at(i);
		check(c);
		if (state_find(&d, c->own_tag) != c)
			abort(); /* a tag listed twice would shadow a later context */
	}
	state_free();
	return 0;
}
