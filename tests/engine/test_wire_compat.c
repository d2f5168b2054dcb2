/* Every message the engine emits must decode with the project's validating
 * codec (shim6/wire) with the same field values: the engine's internal
 * builder and shim6/wire must never disagree on the layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <shim6/wire.h>
#include "sim.h"
#include "../../shim6/engine/internal.h"

#define S (SHIM6_NS_PER_S)
#define MS (SHIM6_NS_PER_MS)

static int seen[128];
static int checked, sigs;

static void check(const uint8_t *buf, size_t len)
{
	struct shim6_msg m;
	int rc = shim6_wire_decode(buf, len, &m);
	if (rc != 0)
		fail_msg("type %u: shim6_wire_decode: %s", buf[2] & 0x7f, shim6_wire_strerror(rc));
	uint8_t t = buf[2] & 0x7f;
	assert_int_equal(m.type, t);
	assert_int_equal(m.len, len);
	seen[t]++;
	checked++;
	switch (t) {
	case MT_I1:
		assert_int_equal(m.m.i1.init_ctag, get_tag(buf + 6));
		assert_int_equal(m.m.i1.init_nonce, get_u32(buf + 12));
		assert_non_null(m.ulid_pair);   /* a proxy never handshakes from its ULIDs */
		break;
	case MT_R1:
		assert_int_equal(m.m.r1.init_nonce, get_u32(buf + 8));
		assert_non_null(m.validator);
		break;
	case MT_I2:
	case MT_I2BIS:
		assert_non_null(m.validator);
		assert_non_null(m.loclist);
		assert_non_null(m.locpref);
		assert_non_null(m.cga_pds);
		assert_non_null(m.ka_timeout);
		assert_int_equal(m.locpref->u.locpref.n, m.loclist->u.loclist.n);
		if (t == MT_I2BIS)
			assert_int_equal(m.m.i2bis.pkt_ctag, get_tag(buf + 26));
		break;
	case MT_R2:
		assert_int_equal(m.m.r2.resp_ctag, get_tag(buf + 6));
		assert_non_null(m.loclist);
		break;
	case MT_R1BIS:
		assert_int_equal(m.m.r1bis.pkt_ctag, get_tag(buf + 6));
		break;
	case MT_UPDATE_REQ:
	case MT_UPDATE_ACK:
		assert_int_equal(m.m.update.req_nonce, get_u32(buf + 12));
		break;
	case MT_PROBE:
		assert_int_equal(m.m.probe.psent, buf[12] & 15);
		assert_int_equal(m.m.probe.precvd, buf[12] >> 4);
		assert_true(m.m.probe.state <= 2);
		if (m.m.probe.psent) {
			struct shim6_probe_report r;
			assert_int_equal(shim6_wire_probe_report(&m.m.probe, false, 0, &r), 0);
			assert_int_equal(r.nonce, get_u32(buf + 16 + 32));
		}
		break;
	case MT_ERROR:
		assert_int_equal(m.type_specific, ERR_CRITICAL_OPT);
		break;
	}
	if (m.cga_sig && m.loclist && m.ulid_pair) {
		/* the engine signs exactly the octets shim6/wire says are covered */
		uint8_t body[600];
		int n = shim6_wire_cga_sig_body(&m.loclist->u.loclist, body, sizeof(body));
		assert_true(n > 4);
		struct shim6_in6 sender;
		memcpy(sender.b, m.ulid_pair->u.ulid.sender, 16);
		uint64_t want = sim_fake_sig(&sender, body, (size_t)n);
		assert_int_equal(m.cga_sig->u.bytes.len, 8);
		assert_memory_equal(m.cga_sig->u.bytes.data, &want, 8);
		sigs++;
	}
}

static void tap(void *u, const struct sim_pkt *p)
{
	(void)u;
	if (!p->payload)
		check(p->buf, p->len);
}

static void test_all_types_decode(void **st)
{
	(void)st;
	static struct sim s;
	sim_init(&s, 123, 2, 2, 3, NULL);
	s.tap = tap;
	int f = sim_flow(&s, 0, 0, 1, 0, 0, 200 * MS);
	s.flows[f].oneway = true;
	sim_run(&s, 10 * S);
	/* update with preferences */
	s.site[1].loc_flags[2] = SHIM6_LOCF_TEMPORARY;
	struct shim6_in6 u = sim_ulid(1, 0);
	shim6_engine_local_changed(s.site[1].eng, &u, s.now);
	sim_run(&s, 5 * S);
	/* one-way data: keepalives */
	s.flows[f].active = false;
	struct shim6_ctx_info a;
	assert_true(sim_ctx(&s, 0, 0, 1, 0, 0, &a));
	for (int i = 0; i < 20; i++) {
		sim_inject(&s, &a.local_loc, &a.peer_loc, NULL, 0, true, a.peer_tag);
		shim6_engine_data(s.site[0].eng, a.id, SHIM6_DATA_SENT, s.now);
		sim_run(&s, 500 * MS);
	}
	/* failover: probes */
	s.flows[f].active = true;
	s.flows[f].oneway = false;
	sim_set_fail(&s, 0, sim_addr_loc(&a.local_loc), 1, sim_addr_loc(&a.peer_loc), true);
	sim_run(&s, 30 * S);
	/* state loss: R1bis, I2bis */
	sim_reset_site(&s, 1);
	sim_run(&s, 20 * S);
	/* an Error (unknown critical option) */
	uint8_t buf[64];
	struct mb m;
	mb_init(&m, buf, sizeof(buf), MT_KEEPALIVE);
	mb_tag(&m, 1);
	mb_u32(&m, 0);
	size_t o = mb_opt_begin(&m, 77, true);
	mb_opt_end(&m, o);
	size_t n = mb_finish(&m);
	struct shim6_in6 x = sim_loc(0, 0, 0), y = sim_loc(1, 0, 0);
	shim6_engine_recv(s.site[1].eng, buf, n, &x, &y, s.now);
	struct shim6_tx tx;
	while (shim6_engine_poll_tx(s.site[1].eng, &tx))
		check(tx.buf, tx.len);
	const int types[] = { MT_I1, MT_R1, MT_I2, MT_R2, MT_R1BIS, MT_I2BIS, MT_UPDATE_REQ,
	                      MT_UPDATE_ACK, MT_KEEPALIVE, MT_PROBE, MT_ERROR };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!seen[types[i]])
			fail_msg("no message of type %d was produced", types[i]);
	printf("%d engine messages decoded by shim6/wire, %d CGA signatures checked\n", checked, sigs);
	assert_true(sigs > 0);
	s.tap = NULL;
	sim_fini(&s);
	assert_int_equal(s.allocs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_all_types_decode) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
