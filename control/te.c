#include <string.h>
#include "te.h"

void te_init(struct te *t, const struct pshim6_conf *c)
{
	memset(t, 0, sizeof(*t));
	t->c = c;
}

static bool in_group(const struct pshim6_conf_te_group *g, const struct in6_addr *a)
{
	for (unsigned i = 0; i < g->n_prefixes; i++)
		if (pshim6_conf_prefix_contains(&g->prefixes[i], a))
			return true;
	return false;
}

int te_match(const struct pshim6_conf *c, const struct in6_addr *src, const struct in6_addr *dst)
{
	for (unsigned i = 0; i < c->te.n_rules; i++) {
		const struct pshim6_conf_te_rule *r = &c->te.rules[i];
		if (r->has_destination && !pshim6_conf_prefix_contains(&r->destination, dst))
			continue;
		if (r->group >= 0 && !in_group(&c->te.groups[r->group], src))
			continue;
		return (int)i;
	}
	return -1;
}

/* Smooth WRR step over candidates with weight w[i] > 0; a new candidate
 * set restarts it (te.h). */
static int swrr(int64_t *cur, uint32_t *set, const uint32_t *w, unsigned n, uint32_t cand)
{
	int64_t total = 0;
	int best = -1;
	for (unsigned i = 0; i < n; i++)
		if (!w[i])
			cand &= ~(1u << i);
	if (cand != *set) {
		memset(cur, 0, n * sizeof *cur);
		*set = cand;
	}
	for (unsigned i = 0; i < n; i++) {
		if (!(cand & (1u << i)))
			continue;
		cur[i] += w[i];
		total += w[i];
		if (best < 0 || cur[i] > cur[best])
			best = (int)i;
	}
	if (best >= 0)
		cur[best] -= total;
	return best;
}

static int default_choice(struct te *t, uint32_t avail)
{
	const struct pshim6_conf *c = t->c;
	uint32_t w[PSHIM6_CONF_MAX_ISPS] = { 0 };
	uint32_t mincost = UINT32_MAX, cand = 0;
	for (unsigned i = 0; i < c->n_isps; i++)
		if ((avail & (1u << i)) && c->isps[i].weight && c->isps[i].cost < mincost)
			mincost = c->isps[i].cost;
	for (unsigned i = 0; i < c->n_isps; i++)
		if ((avail & (1u << i)) && c->isps[i].weight && c->isps[i].cost == mincost) {
			cand |= 1u << i;
			w[i] = c->isps[i].weight;
		}
	int r = swrr(t->cur[PSHIM6_CONF_MAX_TE_RULES], &t->set[PSHIM6_CONF_MAX_TE_RULES], w, c->n_isps, cand);
	if (r >= 0)
		return r;
	/* only weight-0 ISPs are up: they are last resorts, cheapest first */
	int order[PSHIM6_CONF_MAX_ISPS];
	unsigned n = te_fallback_order(c, order);
	for (unsigned i = 0; i < n; i++)
		if (avail & (1u << order[i]))
			return order[i];
	return -1;
}

int te_choose(struct te *t, const struct in6_addr *src, const struct in6_addr *dst, uint32_t avail)
{
	const struct pshim6_conf *c = t->c;
	int pick = -1;
	avail &= (c->n_isps >= 32 ? UINT32_MAX : (1u << c->n_isps) - 1);
	int ri = te_match(c, src, dst);
	if (ri >= 0) {
		const struct pshim6_conf_te_rule *r = &c->te.rules[ri];
		t->rule_hits[ri]++;
		if (r->isp >= 0)
			pick = (avail & (1u << r->isp)) ? r->isp : -1;
		else
			pick = swrr(t->cur[ri], &t->set[ri], r->weights, c->n_isps, avail);
	}
	if (pick < 0)   /* no rule, or the rule's ISPs are all down */
		pick = default_choice(t, avail);
	if (pick >= 0)
		t->chosen[pick]++;
	return pick;
}

unsigned te_fallback_order(const struct pshim6_conf *c, int order[PSHIM6_CONF_MAX_ISPS])
{
	unsigned n = c->n_isps;
	for (unsigned i = 0; i < n; i++)
		order[i] = (int)i;
	for (unsigned i = 1; i < n; i++) {     /* insertion sort: n <= 8 */
		int v = order[i];
		unsigned j = i;
		while (j > 0) {
			const struct pshim6_conf_isp *a = &c->isps[order[j - 1]], *b = &c->isps[v];
			bool after = a->cost > b->cost || (a->cost == b->cost && a->weight < b->weight);
			if (!after)
				break;
			order[j] = order[j - 1];
			j--;
		}
		order[j] = v;
	}
	return n;
}

void te_ingress_pref(const struct pshim6_conf *c, unsigned isp, uint8_t *priority, uint8_t *weight)
{
	const struct pshim6_conf_isp *me = &c->isps[isp];
	uint32_t w = me->weight > 255 ? 255 : me->weight;
	if (c->te.ingress == PSHIM6_TE_INGRESS_PREFER) {
		*priority = (int)isp == c->te.ingress_isp ? 0 : 1;
		*weight = (uint8_t)w;
		return;
	}
	/* weights: priority is the rank of this ISP's cost among distinct
	 * costs, so cheaper ISPs are preferred and equal ones share by weight */
	unsigned rank = 0;
	for (unsigned i = 0; i < c->n_isps; i++) {
		bool seen_lower = c->isps[i].cost < me->cost;
		for (unsigned j = 0; seen_lower && j < i; j++)
			if (c->isps[j].cost == c->isps[i].cost)
				seen_lower = false;
		rank += seen_lower;
	}
	*priority = (uint8_t)(rank > 255 ? 255 : rank);
	*weight = (uint8_t)w;
}
