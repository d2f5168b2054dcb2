#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "tables.h"

int tables_init(struct tables *t, uint32_t peer_cap, uint32_t lease_cap, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	if (addrtab_init(&t->peers, peer_cap, sizeof(struct peer_entry), seed))
		return -1;
	if (addrtab_init(&t->leases, lease_cap, sizeof(struct lease_entry), seed ^ 0x5a5a5a5a5a5a5a5aULL)) {
		addrtab_free(&t->peers);
		return -1;
	}
	return 0;
}

void tables_free(struct tables *t)
{
	addrtab_free(&t->peers);
	addrtab_free(&t->leases);
}

static int hex_decode(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s);
	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		char b[3] = { s[2 * i], s[2 * i + 1], 0 };
		char *e;
		v = (unsigned)strtoul(b, &e, 16);
		if (*e || b[0] == '+' || b[0] == '-' || b[0] == ' ')
			return -1;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

static void evict_soonest(struct tables *t)
{
	uint32_t best = UINT32_MAX;
	uint64_t best_exp = UINT64_MAX;
	for (uint32_t i = 0; i < t->peers.cap; i++) {
		struct peer_entry *p = addrtab_slot(&t->peers, i, NULL);
		if (p && p->expires_ns < best_exp) {
			best_exp = p->expires_ns;
			best = i;
		}
	}
	const struct in6_addr *k;
	if (best != UINT32_MAX && addrtab_slot(&t->peers, best, &k)) {
		struct in6_addr key = *k;
		addrtab_remove(&t->peers, &key);
		t->st.peer_evicted++;
	}
}

static int peer_set(struct tables *t, const struct in6_addr *given, const struct jobj *o,
		    uint64_t now_ns, const char **why);

int tables_peer_locators(struct tables *t, const struct jobj *o, uint64_t now_ns, const char **why)
{
	return peer_set(t, NULL, o, now_ns, why);
}

int tables_peer_set(struct tables *t, const struct in6_addr *ulid, const struct jobj *o,
		    uint64_t now_ns, const char **why)
{
	return peer_set(t, ulid, o, now_ns, why);
}

static int peer_set(struct tables *t, const struct in6_addr *given, const struct jobj *o,
		    uint64_t now_ns, const char **why)
{
	struct in6_addr ulid;
	const char *u = json_str(o, "ulid");
	const struct jval *locs = json_get(o, "locators");
	const struct jval *ttl = json_get(o, "ttl");
	const char *name = json_str(o, "name");

	*why = NULL;
	if (given)
		ulid = *given;
	if (!given && (!u || inet_pton(AF_INET6, u, &ulid) != 1))
		*why = "'ulid' must be an IPv6 address";
	else if (!locs || locs->t != J_ARR || locs->nelem == 0)
		*why = "'locators' must be a non-empty array of IPv6 addresses";
	else if (locs->nelem > PEER_MAX_LOCS)
		*why = "too many locators";
	else if (!ttl || ttl->t != J_NUM || ttl->n < 0 || ttl->n > 604800)
		*why = "'ttl' must be an integer 0..604800";
	else if (name && strlen(name) >= sizeof(((struct peer_entry *)0)->name))
		*why = "'name' too long";
	struct in6_addr l[PEER_MAX_LOCS];
	for (unsigned i = 0; !*why && i < locs->nelem; i++)
		if (inet_pton(AF_INET6, locs->elem[i], &l[i]) != 1)
			*why = "a locator is not an IPv6 address";
	if (*why) {
		t->st.peer_rejected++;
		return -1;
	}
	if (ttl->n == 0) {      /* TTL 0: nothing to cache; forget what we had */
		addrtab_remove(&t->peers, &ulid);
		t->st.peer_updates++;
		return 0;
	}
	bool existed;
	struct peer_entry *p = addrtab_insert(&t->peers, &ulid, &existed);
	if (!p) {
		tables_expire(t, now_ns);
		p = addrtab_insert(&t->peers, &ulid, &existed);
	}
	if (!p) {
		evict_soonest(t);
		p = addrtab_insert(&t->peers, &ulid, &existed);
	}
	if (!p) {
		*why = "peer table full";
		t->st.peer_rejected++;
		return -1;
	}
	p->nloc = locs->nelem;
	memcpy(p->loc, l, sizeof(l[0]) * locs->nelem);
	snprintf(p->name, sizeof p->name, "%s", name ? name : "");
	p->expires_ns = now_ns + (uint64_t)ttl->n * 1000000000ULL;
	p->updated_ns = now_ns;
	t->st.peer_updates++;
	return 0;
}

int tables_lease(struct tables *t, const struct pshim6_conf *c, const struct jobj *o,
		 uint64_t now_ns, const char **why)
{
	struct in6_addr cmula;
	const char *ev = json_str(o, "event");
	const char *cm = json_str(o, "cmula");
	const char *mode = json_str(o, "mode");
	const char *pds = json_str(o, "pds");
	const char *duid = json_str(o, "duid");
	const struct jval *iaid = json_get(o, "iaid");

	*why = NULL;
	if (!ev || (strcmp(ev, "add") && strcmp(ev, "renew") && strcmp(ev, "release") && strcmp(ev, "expire")))
		*why = "'event' must be add, renew, release or expire";
	else if (!cm || inet_pton(AF_INET6, cm, &cmula) != 1)
		*why = "'cmula' must be an IPv6 address";
	else if (c && pshim6_conf_cmula_index(c, &cmula) < 0)
		*why = "'cmula' is not in a site cmula prefix";
	if (*why) {
		t->st.lease_rejected++;
		return -1;
	}
	if (!strcmp(ev, "release") || !strcmp(ev, "expire")) {
		addrtab_remove(&t->leases, &cmula);
		t->st.lease_removes++;
		return 0;
	}
	struct lease_entry tmp = { 0 };
	size_t n;
	if (!mode || (strcmp(mode, "cga") && strcmp(mode, "hba")))
		*why = "'mode' must be cga or hba";
	else if (!pds || hex_decode(pds, tmp.pds, sizeof tmp.pds, &n) || n == 0)
		*why = "'pds' must be non-empty hex of at most 1024 octets";
	else if ((tmp.pds_len = (uint16_t)n, !duid) || hex_decode(duid, tmp.duid, sizeof tmp.duid, &n))
		*why = "'duid' must be hex of at most 65 octets";
	else if (!iaid || iaid->t != J_NUM || iaid->n < 0 || iaid->n > 0xffffffffLL)
		*why = "'iaid' must be an integer 0..4294967295";
	if (*why) {
		t->st.lease_rejected++;
		return -1;
	}
	tmp.duid_len = (uint8_t)n;
	tmp.mode = strcmp(mode, "hba") ? PSHIM6_ADDR_CGA : PSHIM6_ADDR_HBA;
	tmp.iaid = (uint32_t)iaid->n;
	tmp.updated_ns = now_ns;
	bool existed;
	struct lease_entry *l = addrtab_insert(&t->leases, &cmula, &existed);
	if (!l) {
		*why = "lease table full";
		t->st.lease_full++;
		return -1;
	}
	tmp.fwd_id = existed ? l->fwd_id : 0;
	tmp.fwd_ours = existed && l->fwd_ours;
	*l = tmp;
	if (existed)
		t->st.lease_renews++;
	else
		t->st.lease_adds++;
	return 0;
}

unsigned tables_expire(struct tables *t, uint64_t now_ns)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < t->peers.cap; i++) {
		const struct in6_addr *k;
		struct peer_entry *p = addrtab_slot(&t->peers, i, &k);
		if (p && p->expires_ns <= now_ns) {
			struct in6_addr key = *k;
			addrtab_remove(&t->peers, &key);
			n++;
		}
	}
	t->st.peer_expired += n;
	return n;
}

const struct peer_entry *tables_peer(const struct tables *t, const struct in6_addr *ulid, uint64_t now_ns)
{
	const struct peer_entry *p = addrtab_find(&t->peers, ulid);
	return p && p->expires_ns > now_ns ? p : NULL;
}
