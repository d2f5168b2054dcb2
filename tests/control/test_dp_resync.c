/* control/dp_resync.c: each kind of difference between a dump and control's
 * table gets the one message that removes it, and a random dataplane table
 * (stale, missing, altered, foreign entries) ends equal to control's once
 * the fixes are applied to it as the dataplane would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "test_rng.h"
#include "dp_resync.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void) { return test_rng64(&rng); }

static struct dpmsg_ctx mk(uint64_t tag)
{
	struct dpmsg_ctx c;
	memset(&c, 0, sizeof c);
	c.own_tag = tag;
	c.peer_tag = tag ^ 0x5555;
	c.local_ulid[0] = 0xfd;
	memcpy(c.local_ulid + 8, &tag, 8);
	c.remote_ulid[0] = 0xfd;
	c.remote_ulid[1] = 0x02;
	c.local_loc[0] = 0x20;
	c.local_loc[15] = 1;
	c.remote_loc[0] = 0x20;
	c.remote_loc[15] = 2;
	c.flags = DPMSG_CTXF_DEFAULT_FII;
	return c;
}

static bool ctx_eq(const struct dpmsg_ctx *a, const struct dpmsg_ctx *b)
{
	return !memcmp(a->local_ulid, b->local_ulid, 16) && !memcmp(a->remote_ulid, b->remote_ulid, 16) &&
	       !memcmp(a->local_loc, b->local_loc, 16) && !memcmp(a->remote_loc, b->remote_loc, 16) &&
	       a->peer_tag == b->peer_tag && a->own_tag == b->own_tag && a->fii == b->fii &&
	       a->flags == b->flags && a->isp == b->isp;
}

static void equal_is_left_alone(void **st)
{
	(void)st;
	struct ctxtab t;
	struct dp_resync r = { 0 };
	struct dpmsg fix;
	assert_int_equal(ctxtab_init(&t, 8), 0);
	struct dpmsg_ctx c = mk(7);
	assert_non_null(ctxtab_add(&t, &c));
	dp_resync_begin(&r);
	assert_int_equal(dp_resync_entry(&r, &t, &c, &fix), DP_RESYNC_SAME);
	assert_false(dp_resync_next_missing(&r, &t, &fix));
	assert_false(r.active);
	assert_true(r.now.same == 1 && r.now.added == 0 && r.now.modified == 0);
	ctxtab_free(&t);
}

static void altered_entry_is_modified_back(void **st)
{
	(void)st;
	struct ctxtab t;
	struct dp_resync r = { 0 };
	struct dpmsg fix;
	assert_int_equal(ctxtab_init(&t, 8), 0);
	struct dpmsg_ctx ours = mk(7), theirs = ours;
	assert_non_null(ctxtab_add(&t, &ours));

	dp_resync_begin(&r);
	theirs.local_loc[3] = 0x99;           /* an older pair, as a lost CTX_MOD leaves it */
	theirs.isp = 1;
	assert_int_equal(dp_resync_entry(&r, &t, &theirs, &fix), DP_RESYNC_FIX);
	assert_int_equal(fix.type, DPMSG_CTX_MOD);
	assert_int_equal(fix.u.mod.what, DPMSG_MOD_LOCATORS);
	assert_true(ctx_eq(&fix.u.mod.ctx, &ours));

	theirs = ours;
	theirs.peer_tag = 0x1234;
	assert_int_equal(dp_resync_entry(&r, &t, &theirs, &fix), DP_RESYNC_FIX);
	assert_int_equal(fix.u.mod.what, DPMSG_MOD_PEER_TAG);

	theirs = ours;
	theirs.flags |= DPMSG_CTXF_MSS_CLAMP;
	theirs.remote_loc[15] = 9;
	assert_int_equal(dp_resync_entry(&r, &t, &theirs, &fix), DP_RESYNC_FIX);
	assert_int_equal(fix.u.mod.what, DPMSG_MOD_FLAGS | DPMSG_MOD_LOCATORS);
	assert_true(r.now.modified == 3);
	/* shown by the dump, fixed in place: nothing to add at the end */
	assert_false(dp_resync_next_missing(&r, &t, &fix));
	ctxtab_free(&t);
}

static void other_context_under_our_tag_is_replaced(void **st)
{
	(void)st;
	struct ctxtab t;
	struct dp_resync r = { 0 };
	struct dpmsg fix;
	assert_int_equal(ctxtab_init(&t, 8), 0);
	struct dpmsg_ctx ours = mk(7), theirs = mk(7);
	theirs.remote_ulid[5] = 0x42;         /* the tag was reused for another peer */
	assert_non_null(ctxtab_add(&t, &ours));
	dp_resync_begin(&r);
	assert_int_equal(dp_resync_entry(&r, &t, &theirs, &fix), DP_RESYNC_FIX);
	assert_int_equal(fix.type, DPMSG_CTX_DEL);
	assert_true(fix.u.ctx.own_tag == 7);
	assert_true(dp_resync_next_missing(&r, &t, &fix));
	assert_int_equal(fix.type, DPMSG_CTX_ADD);
	assert_true(ctx_eq(&fix.u.ctx, &ours));
	assert_false(dp_resync_next_missing(&r, &t, &fix));
	assert_true(r.now.replaced == 1 && r.now.added == 1);

	/* a different fork of the same pair is another context too */
	theirs = ours;
	theirs.fii = 3;
	dp_resync_begin(&r);
	assert_int_equal(dp_resync_entry(&r, &t, &theirs, &fix), DP_RESYNC_FIX);
	assert_int_equal(fix.type, DPMSG_CTX_DEL);
	ctxtab_free(&t);
}

static void unknown_is_the_callers(void **st)
{
	(void)st;
	struct ctxtab t;
	struct dp_resync r = { 0 };
	struct dpmsg fix;
	assert_int_equal(ctxtab_init(&t, 8), 0);
	struct dpmsg_ctx c = mk(9);
	dp_resync_begin(&r);
	assert_int_equal(dp_resync_entry(&r, &t, &c, &fix), DP_RESYNC_UNKNOWN);
	assert_true(r.now.unknown == 1 && r.total.unknown == 1);
	assert_int_equal(t.n, 0);             /* nothing taken into the table by itself */
	ctxtab_free(&t);
}

/* Missing from the dump -> added once; written during the dump -> not added;
 * seen by the last dump but not by this one -> added (epochs). */
static void missing_written_and_epochs(void **st)
{
	(void)st;
	struct ctxtab t;
	struct dp_resync r = { 0 };
	struct dpmsg fix;
	assert_int_equal(ctxtab_init(&t, 16), 0);
	struct dpmsg_ctx c[4] = { mk(1), mk(2), mk(3), mk(4) };
	for (int i = 0; i < 3; i++)
		assert_non_null(ctxtab_add(&t, &c[i]));
	dp_resync_begin(&r);
	assert_int_equal(dp_resync_entry(&r, &t, &c[0], &fix), DP_RESYNC_SAME);
	assert_non_null(ctxtab_add(&t, &c[3]));   /* established during the dump ... */
	dp_resync_mark(&r, &t, 4);                /* ... and its CTX_ADD sent after DUMP_REQ */
	uint64_t added = 0;
	while (dp_resync_next_missing(&r, &t, &fix)) {
		assert_int_equal(fix.type, DPMSG_CTX_ADD);
		assert_true(fix.u.ctx.own_tag == 2 || fix.u.ctx.own_tag == 3);
		added |= 1u << fix.u.ctx.own_tag;
	}
	assert_true(added == ((1u << 2) | (1u << 3)));
	dp_resync_mark(&r, &t, 1);                /* no dump under way: no effect */

	/* the next dump shows only 2: 1, 3 and 4 go in again */
	dp_resync_begin(&r);
	assert_int_equal(dp_resync_entry(&r, &t, &c[1], &fix), DP_RESYNC_SAME);
	added = 0;
	while (dp_resync_next_missing(&r, &t, &fix))
		added |= 1u << fix.u.ctx.own_tag;
	assert_true(added == ((1u << 1) | (1u << 3) | (1u << 4)));
	assert_true(r.total.added == 5 && r.runs == 2);
	ctxtab_free(&t);
}

/* The dataplane as a list of entries, applying fixes as tables.c would
 * (ADD of a present tag and MOD/DEL of an absent one are refused). */
struct model {
	struct dpmsg_ctx v[600];
	unsigned n;
	unsigned refused;
};

static int model_find(const struct model *m, uint64_t tag)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->v[i].own_tag == tag)
			return (int)i;
	return -1;
}

static void model_apply(struct model *m, const struct dpmsg *f)
{
	int i = model_find(m, f->type == DPMSG_CTX_MOD ? f->u.mod.ctx.own_tag : f->u.ctx.own_tag);
	switch (f->type) {
	case DPMSG_CTX_ADD:
		if (i >= 0) { m->refused++; return; }
		m->v[m->n++] = f->u.ctx;
		return;
	case DPMSG_CTX_DEL:
		if (i < 0) { m->refused++; return; }
		m->v[i] = m->v[--m->n];
		return;
	case DPMSG_CTX_MOD:
		if (i < 0) { m->refused++; return; }
		if (f->u.mod.what & DPMSG_MOD_LOCATORS) {
			memcpy(m->v[i].local_loc, f->u.mod.ctx.local_loc, 16);
			memcpy(m->v[i].remote_loc, f->u.mod.ctx.remote_loc, 16);
			m->v[i].isp = f->u.mod.ctx.isp;
		}
		if (f->u.mod.what & DPMSG_MOD_PEER_TAG)
			m->v[i].peer_tag = f->u.mod.ctx.peer_tag;
		if (f->u.mod.what & DPMSG_MOD_FLAGS)
			m->v[i].flags = f->u.mod.ctx.flags;
		return;
	default:
		fail();
	}
}

static void random_tables_end_equal(void **st)
{
	(void)st;
	static struct model dp, dump;
	for (int round = 0; round < 200; round++) {
		struct ctxtab t;
		struct dp_resync r = { 0 };
		struct dpmsg fix;
		assert_int_equal(ctxtab_init(&t, 300), 0);
		dp.n = dp.refused = 0;
		unsigned n = (unsigned)(next() % 300);
		for (unsigned i = 0; i < n; i++) {
			struct dpmsg_ctx c = mk(1 + i);
			c.isp = (uint8_t)(next() % 3);
			assert_non_null(ctxtab_add(&t, &c));
			switch (next() % 6) {
			case 0: break;                                 /* lost CTX_ADD */
			case 1: c.remote_loc[7] ^= 1; dp.v[dp.n++] = c; break;   /* lost CTX_MOD */
			case 2: c.peer_tag ^= next() % 2; dp.v[dp.n++] = c; break;
			default: dp.v[dp.n++] = c; break;
			case 5: c.remote_ulid[9] ^= 0xff; dp.v[dp.n++] = c; break;   /* tag reused */
			}
		}
		for (unsigned i = 0, k = (unsigned)(next() % 200); i < k; i++)  /* lost CTX_DELs */
			dp.v[dp.n++] = mk(1000 + i);
		/* the dump shows the table as it was at DUMP_REQ, in table order */
		dump = dp;
		dp_resync_begin(&r);
		for (unsigned i = 0; i < dump.n; i++) {
			switch (dp_resync_entry(&r, &t, &dump.v[i], &fix)) {
			case DP_RESYNC_SAME: break;
			case DP_RESYNC_FIX: model_apply(&dp, &fix); break;
			case DP_RESYNC_UNKNOWN:
				fix = (struct dpmsg){ .type = DPMSG_CTX_DEL };
				fix.u.ctx.own_tag = dump.v[i].own_tag;
				model_apply(&dp, &fix);
				break;
			}
		}
		while (dp_resync_next_missing(&r, &t, &fix))
			model_apply(&dp, &fix);
		assert_int_equal(dp.refused, 0);
		assert_int_equal(dp.n, t.n);
		for (uint32_t i = 0; i < t.n; i++) {
			int j = model_find(&dp, t.v[i].d.own_tag);
			assert_true(j >= 0);
			assert_true(ctx_eq(&dp.v[j], &t.v[i].d));
		}
		/* and a dump of the fixed table changes nothing */
		dump = dp;
		dp_resync_begin(&r);
		for (unsigned i = 0; i < dump.n; i++)
			assert_int_equal(dp_resync_entry(&r, &t, &dump.v[i], &fix), DP_RESYNC_SAME);
		assert_false(dp_resync_next_missing(&r, &t, &fix));
		ctxtab_free(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(equal_is_left_alone),
		cmocka_unit_test(altered_entry_is_modified_back),
		cmocka_unit_test(other_context_under_our_tag_is_replaced),
		cmocka_unit_test(unknown_is_the_callers),
		cmocka_unit_test(missing_written_and_epochs),
		cmocka_unit_test(random_tables_end_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
