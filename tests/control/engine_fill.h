/* An engine holding n established contexts, imported as a restarted
 * control imports them (no handshake, no crypto), for the state file's
 * tests and benchmark.  Tags 0x1000 + i, generations 100 + i / 200 + i,
 * two peer locators each. */
#ifndef PSHIM6_TESTS_ENGINE_FILL_H
#define PSHIM6_TESTS_ENGINE_FILL_H
#include <stdlib.h>
#include <string.h>
#include <shim6/engine.h>

static void fill(void *u, void *buf, size_t len)
{
	(void)u;
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = (uint8_t)(rand() | 1);
}

/* our locators: the ULID's interface identifier under two ISP prefixes */
static int host_info(void *u, const struct shim6_in6 *ulid, struct shim6_host_info *o)
{
	(void)u;
	memset(o, 0, sizeof *o);
	o->method = SHIM6_VERIF_HBA;
	o->nlocs = 2;
	for (unsigned i = 0; i < 2; i++) {
		o->locs[i].addr = *ulid;
		o->locs[i].addr.b[0] = 0x20;
		o->locs[i].addr.b[1] = (uint8_t)(1 + i);
	}
	o->generation = 1;
	return 0;
}

static struct shim6_engine *engine_with(unsigned n)
{
	struct shim6_engine_settings s;
	shim6_engine_settings_default(&s);
	s.max_contexts = n + 1;
	struct shim6_engine_callbacks cb = { .host_info = host_info };
	struct shim6_engine_rand r = { NULL, fill };
	struct shim6_engine *e;
	if (shim6_engine_new(&e, &s, &cb, NULL, &r, 1))
		abort();
	for (unsigned i = 0; i < n; i++) {
		struct shim6_ctx_import im;
		struct shim6_host_info h;
		memset(&im, 0, sizeof im);
		im.local_ulid.b[0] = 0xfd;
		im.local_ulid.b[13] = (uint8_t)(i >> 16);
		im.local_ulid.b[14] = (uint8_t)(i >> 8);
		im.local_ulid.b[15] = (uint8_t)i;
		im.peer_ulid = im.local_ulid;
		im.peer_ulid.b[1] = 2;
		host_info(NULL, &im.local_ulid, &h);
		im.local_loc = h.locs[0].addr;
		im.peer_loc = im.peer_ulid;
		im.peer_loc.b[0] = 0x20;
		im.peer_loc.b[1] = 3;
		im.npeer = 2;   /* a dual-homed peer, as the file mostly holds */
		im.peer_locs[0].addr = im.peer_loc;
		im.peer_locs[1].addr = im.peer_loc;
		im.peer_locs[1].addr.b[1] = 4;
		im.verified[0] = im.verified[1] = 1;
		im.own_tag = 0x1000 + i;
		im.peer_tag = 0x2000 + i;
		im.local_gen = 100 + i;
		im.peer_gen = 200 + i;
		uint64_t id;
		if (shim6_engine_context_import(e, &im, 1, &id))
			abort();
	}
	return e;
}
#endif
