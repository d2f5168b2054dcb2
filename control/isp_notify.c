/* control.isp_notify (isp_notify.h). */
#include <stdio.h>
#include "isp_notify.h"

static const char *verdict(const struct isp_notify *x, unsigned i)
{
	return !x->down[i] ? "working" : x->drain[i] ? "drained" : "failed";
}

void isp_notify_init(struct isp_notify *x, const struct peer_notify_ops *ops, const struct pshim6_conf *c)
{
	x->n_isp = c->n_isps < PSHIM6_CONF_MAX_ISPS ? c->n_isps : PSHIM6_CONF_MAX_ISPS;
	for (unsigned i = 0; i < x->n_isp; i++) {
		/* the names stay with the chains: a reload may free the config they came from */
		snprintf(x->name[i], sizeof x->name[i], "%s", c->isps[i].name);
		x->down[i] = false;
		x->drain[i] = c->isps[i].drain;
		peer_notify_init(&x->n[i], ops, x->name[i], verdict(x, i));
		x->n[i].label = "isp";
	}
}

void isp_notify_conf(struct isp_notify *x, const struct pshim6_conf *c, uint64_t now)
{
	for (unsigned i = 0; i < x->n_isp; i++) {
		/* the state first: a new path then tells the one that holds */
		if (i < c->n_isps && x->drain[i] != c->isps[i].drain) {
			x->drain[i] = c->isps[i].drain;
			peer_notify_change(&x->n[i], verdict(x, i), now);
		}
		peer_notify_set_path(&x->n[i], c->control.isp_notify, now);
	}
}

void isp_notify_change(struct isp_notify *x, unsigned isp, bool down, uint64_t now)
{
	if (isp >= x->n_isp)
		return;
	x->down[isp] = down;
	peer_notify_change(&x->n[isp], verdict(x, isp), now);
}

void isp_notify_tick(struct isp_notify *x, uint64_t now)
{
	for (unsigned i = 0; i < x->n_isp; i++)
		peer_notify_tick(&x->n[i], now);
}

uint64_t isp_notify_deadline(const struct isp_notify *x)
{
	uint64_t t = UINT64_MAX;
	for (unsigned i = 0; i < x->n_isp; i++) {
		uint64_t d = peer_notify_deadline(&x->n[i]);
		if (d < t)
			t = d;
	}
	return t;
}
