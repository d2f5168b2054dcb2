/* The context state machine of RFC 5533 §7, as a table of rows in the
 * manner of OpenBSD ospfd: (states, event) -> action, next state.  The first
 * row that matches runs; a (state, event) pair with no row is ignored, which
 * is how a duplicate or out-of-state message is dropped without side
 * effects.  An action that fails leaves the state unchanged. */
#include "internal.h"

#define S(x)   (1u << SHIM6_ST_##x)
#define NOCHG  SHIM6_ST__COUNT

struct fsm_row {
	unsigned     states;
	enum fsm_ev  ev;
	int        (*act)(struct shim6_engine *, struct ctx *, struct fsm_arg *);
	enum shim6_state next;
};

static const struct fsm_row fsm[] = {
	/* initiator */
	{ S(IDLE),                         FEV_OPEN,       act_send_i1,      SHIM6_ST_I1_SENT },
	{ S(I1_SENT),                      FEV_HS_TIMEOUT, act_resend_i1,    NOCHG },
	{ S(I1_SENT),                      FEV_HS_GIVEUP,  act_no_support,   SHIM6_ST_NO_SUPPORT },
	{ S(I1_SENT),                      FEV_R1,         act_send_i2,      SHIM6_ST_I2_SENT },
	{ S(I2_SENT),                      FEV_HS_TIMEOUT, act_resend_i2,    NOCHG },
	{ S(I2_SENT) | S(I2BIS_SENT),      FEV_HS_GIVEUP,  act_fallback_i1,  SHIM6_ST_I1_SENT },
	{ S(I2_SENT) | S(I2BIS_SENT),      FEV_R2,         act_accept_r2,    SHIM6_ST_ESTABLISHED },
	/* I2 for an existing context: simultaneous open, lost R2, or a peer
	 * that restarted and handshakes again */
	{ S(IDLE) | S(I1_SENT) | S(I2_SENT) | S(I2BIS_SENT) | S(ESTABLISHED),
	                                   FEV_I2,         act_accept_i2,    SHIM6_ST_ESTABLISHED },
	/* recovery: the peer lost our context */
	{ S(ESTABLISHED),                  FEV_R1BIS,      act_send_i2bis,   SHIM6_ST_I2BIS_SENT },
	{ S(I2BIS_SENT),                   FEV_HS_TIMEOUT, act_resend_i2bis, NOCHG },
	{ S(ESTABLISHED),                  FEV_EXPLORE_GIVEUP, act_fail,     SHIM6_ST_E_FAILED },
	{ S(I1_SENT) | S(I2_SENT) | S(I2BIS_SENT), FEV_EXPLORE_GIVEUP, act_fail, SHIM6_ST_E_FAILED },
	/* end of life */
	{ S(E_FAILED) | S(NO_SUPPORT),     FEV_LINGER,     act_remove,       SHIM6_ST_IDLE },
	{ ~0u,                             FEV_CLOSE,      act_remove,       SHIM6_ST_IDLE },
};

static const char *const st_names[SHIM6_ST__COUNT] = {
	[SHIM6_ST_IDLE] = "IDLE", [SHIM6_ST_I1_SENT] = "I1-SENT",
	[SHIM6_ST_I2_SENT] = "I2-SENT", [SHIM6_ST_I2BIS_SENT] = "I2BIS-SENT",
	[SHIM6_ST_ESTABLISHED] = "ESTABLISHED", [SHIM6_ST_E_FAILED] = "E-FAILED",
	[SHIM6_ST_NO_SUPPORT] = "NO-SUPPORT",
};

static const char *const ev_names[FEV__COUNT] = {
	[FEV_OPEN] = "open", [FEV_R1] = "rx-R1", [FEV_I2] = "rx-I2", [FEV_R2] = "rx-R2",
	[FEV_R1BIS] = "rx-R1bis", [FEV_I2BIS] = "rx-I2bis", [FEV_HS_TIMEOUT] = "hs-timeout",
	[FEV_HS_GIVEUP] = "hs-giveup", [FEV_EXPLORE_GIVEUP] = "explore-giveup",
	[FEV_LINGER] = "linger-expired", [FEV_CLOSE] = "close",
};

const char *shim6_state_name(enum shim6_state st)
{
	return (unsigned)st < SHIM6_ST__COUNT ? st_names[st] : "?";
}

const char *fsm_ev_name(enum fsm_ev ev)
{
	return (unsigned)ev < FEV__COUNT ? ev_names[ev] : "?";
}

int fsm_run(struct shim6_engine *e, struct ctx *c, enum fsm_ev ev, struct fsm_arg *a)
{
	for (size_t i = 0; i < sizeof(fsm) / sizeof(fsm[0]); i++) {
		const struct fsm_row *r = &fsm[i];
		if (r->ev != ev || !(r->states & (1u << c->st)))
			continue;
		enum shim6_state old = c->st;
		uint64_t tag = c->tag;
		int rc = r->act(e, c, a);
		if (rc < 0) {
			eng_log(e, 2, "ctx %012llx %s: %s failed: %s", (unsigned long long)tag,
			        shim6_state_name(old), fsm_ev_name(ev), shim6_engine_strerror(rc));
			return rc;
		}
		if (ev == FEV_CLOSE || ev == FEV_LINGER)
			return 0;   /* the context is gone */
		if (r->next != NOCHG && r->next != c->st) {
			eng_log(e, 2, "ctx %012llx %s -> %s on %s", (unsigned long long)tag,
			        shim6_state_name(old), shim6_state_name(r->next), fsm_ev_name(ev));
			ctx_set_state(e, c, r->next);
		}
		return 0;
	}
	eng_log(e, 2, "ctx %012llx %s: %s ignored", (unsigned long long)c->tag,
	        shim6_state_name(c->st), fsm_ev_name(ev));
	return SHIM6_ENG_ESTATE;
}
