/*
 * The schema of pshim6.conf: what keys exist, their types, ranges and
 * defaults' home (defaults live in pshim6_conf_defaults()).  Rows are kept in
 * the order the normal form prints them; sections that refer to others (te
 * refers to isps) come after what they refer to, because the walk resolves
 * names as it goes.
 */
#include <stddef.h>
#include <string.h>
#include "schema.h"

#define FSIZE(T, f) sizeof(((T *)0)->f)
#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

#define R_STR(T, k, f, fl) { .key = k, .kind = K_STR, .flags = fl, .off = offsetof(T, f), .size = FSIZE(T, f) }
#define R_FQDN(T, k, f, fl) { .key = k, .kind = K_FQDN, .flags = fl, .off = offsetof(T, f), .size = FSIZE(T, f) }
#define R_INT(K, T, k, f, lo, hi) { .key = k, .kind = K, .off = offsetof(T, f), .min = lo, .max = hi }
#define R_U32(T, k, f, lo, hi) R_INT(K_U32, T, k, f, lo, hi)
#define R_U16(T, k, f, lo, hi) R_INT(K_U16, T, k, f, lo, hi)
#define R_U8(T, k, f, lo, hi) R_INT(K_U8, T, k, f, lo, hi)
#define R_KIND(K, T, k, f, fl) { .key = k, .kind = K, .flags = fl, .off = offsetof(T, f) }
#define R_HASKIND(K, T, k, f, h) { .key = k, .kind = K, .flags = R_HAS, .off = offsetof(T, f), .has_off = offsetof(T, h) }
#define R_IFA(T, k, f, h) { .key = k, .kind = K_PREFIX, .flags = R_HAS | R_IFADDR, .off = offsetof(T, f), .has_off = offsetof(T, h) }
#define R_ENUM(T, k, f, tbl, fl) { .key = k, .kind = K_ENUM, .flags = fl, .off = offsetof(T, f), .names = tbl }
#define R_PFX(T, k, f, fl, pl) { .key = k, .kind = K_PREFIX, .flags = fl, .off = offsetof(T, f), .plen = pl }
#define R_ARR(T, k, E, f, n, fl, lo, hi) { .key = k, .kind = K_ARRAY, .elem = E, .flags = fl, .off = offsetof(T, f), \
		.size = sizeof(((T *)0)->f[0]), .count_off = offsetof(T, n), .min = lo, .max = hi }
#define R_GRP(T, k, f, s, fl) { .key = k, .kind = K_GROUP, .flags = fl, .off = offsetof(T, f), .sub = &s }
#define R_LST(T, k, f, n, s, fl, lo, hi) { .key = k, .kind = K_LIST, .flags = fl, .off = offsetof(T, f), \
		.size = sizeof(((T *)0)->f[0]), .count_off = offsetof(T, n), .sub = &s, .min = lo, .max = hi }
#define SECTION(nm, rows_, ini, chk) { .name = nm, .rows = rows_, .n_rows = NROWS(rows_), .init = ini, .check = chk }

static const struct enum_name addr_modes[] = {
	{ "cga", PSHIM6_ADDR_CGA }, { "hba", PSHIM6_ADDR_HBA }, { NULL, 0 } };
static const struct enum_name pmtu_modes[] = {
	{ "icmp", PSHIM6_PMTU_ICMP }, { "mss", PSHIM6_PMTU_MSS }, { "both", PSHIM6_PMTU_BOTH }, { NULL, 0 } };
static const struct enum_name log_levels[] = {
	{ "err", PSHIM6_LOG_ERR }, { "warning", PSHIM6_LOG_WARNING }, { "notice", PSHIM6_LOG_NOTICE },
	{ "info", PSHIM6_LOG_INFO }, { "debug", PSHIM6_LOG_DEBUG }, { NULL, 0 } };
static const struct enum_name dnssec_policies[] = {
	{ "rewrite-strip", PSHIM6_DNSSEC_REWRITE_STRIP }, { "passthrough", PSHIM6_DNSSEC_PASSTHROUGH }, { NULL, 0 } };
static const struct enum_name te_ingress[] = {
	{ "weights", PSHIM6_TE_INGRESS_WEIGHTS }, { "prefer", PSHIM6_TE_INGRESS_PREFER }, { NULL, 0 } };
static const struct enum_name peer_roles[] = {
	{ "primary", PSHIM6_PEER_PRIMARY }, { "backup", PSHIM6_PEER_BACKUP }, { NULL, 0 } };

/* checks.c */
void conf_check_isp(struct ctx *, const config_setting_t *, void *);
void conf_check_group(struct ctx *, const config_setting_t *, void *);
void conf_check_rule(struct ctx *, const config_setting_t *, void *);
void conf_check_te(struct ctx *, const config_setting_t *, void *);
void conf_check_control(struct ctx *, const config_setting_t *, void *);
void conf_check_host(struct ctx *, const config_setting_t *, void *);
void conf_check_peer(struct ctx *, const config_setting_t *, void *);
void conf_check_peer_proxy(struct ctx *, const config_setting_t *, void *);
void conf_check_root(struct ctx *, const config_setting_t *, void *);
void conf_check_site(struct ctx *, const config_setting_t *, void *);
void conf_load_weights(struct ctx *, const config_setting_t *, void *);
void conf_print_weights(FILE *, const struct pshim6_conf *, const void *, int);

#define T struct pshim6_conf_site
static const struct row site_rows[] = {
	R_STR(T, "name", name, R_REQ),
	R_ARR(T, "cmula_prefixes", K_PREFIX, cmula_prefixes, n_cmula_prefixes, R_REQ, 1, PSHIM6_CONF_MAX_CMULA_PREFIXES),
	R_STR(T, "key_file", key_file, R_REQ),
	R_STR(T, "public_key_file", public_key_file, 0),
	R_ENUM(T, "mode", mode, addr_modes, 0),
	R_U8(T, "cga_sec", cga_sec, 0, 7),
};
#undef T
static const struct section site_sec = SECTION("site", site_rows, NULL, conf_check_site);

#define T struct pshim6_conf_inside
static const struct row inside_rows[] = {
	R_STR(T, "port", port, R_REQ),
	R_STR(T, "name", name, 0),
	R_U32(T, "mtu", mtu, 1280, 9216),
	R_IFA(T, "address", address, has_address),
	R_HASKIND(K_ADDR, T, "next_hop", next_hop, has_next_hop),
	R_KIND(K_MAC, T, "next_hop_mac", next_hop_mac, 0),
};
#undef T
static const struct section inside_sec = SECTION("inside", inside_rows, NULL, NULL);

static void isp_init(void *b)
{
	struct pshim6_conf_isp *i = b;
	memset(i, 0, sizeof(*i));
	i->mtu = 1500;
	i->weight = 1;
}
#define T struct pshim6_conf_isp
static const struct row isp_rows[] = {
	R_STR(T, "name", name, R_REQ),
	R_PFX(T, "pa_prefix", pa_prefix, R_REQ, 64),
	R_STR(T, "port", port, R_REQ),
	R_IFA(T, "address", address, has_address),
	R_KIND(K_ADDR, T, "next_hop", next_hop, R_REQ),
	R_KIND(K_MAC, T, "next_hop_mac", next_hop_mac, 0),
	R_U32(T, "mtu", mtu, 1280, 9216),
	R_U32(T, "weight", weight, 0, 1000),
	R_U32(T, "cost", cost, 0, 1000000),
	R_ARR(T, "probe", K_ADDR, probes, n_probes, R_NONEMPTY | R_ONE, 0, PSHIM6_CONF_MAX_PROBES),
	R_KIND(K_BOOL, T, "drain", drain, 0),
};
#undef T
static const struct section isp_sec = SECTION("isps", isp_rows, isp_init, conf_check_isp);

#define T struct pshim6_conf_dataplane
static const struct row dataplane_rows[] = {
	R_STR(T, "channel", channel, 0),
	R_U32(T, "max_contexts", max_contexts, 1, 16777216),
	R_U32(T, "hba_hosts", hba_hosts, 1, 1048576),
	R_U32(T, "punt_queue", punt_queue, 16, 65536),
	R_U32(T, "natv6_flows", natv6_flows, 64, 16777216),
	R_ARR(T, "lcores", K_U16, lcores, n_lcores, 0, 0, PSHIM6_CONF_MAX_LCORES),
	R_U32(T, "idle_polls", idle_polls, 0, 10000000),
	R_U32(T, "idle_sleep_us", idle_sleep_us, 1, 100000),
	R_ENUM(T, "pmtu", pmtu, pmtu_modes, 0),
	R_U32(T, "nd_reachable_ms", nd_reachable_ms, 1000, 3600000),
	R_U32(T, "probe_interval_ms", probe_interval_ms, 100, 60000),
	R_U32(T, "probe_down_after", probe_down_after, 1, 100),
	R_U32(T, "probe_up_after", probe_up_after, 1, 100),
	R_ARR(T, "eal_args", K_STR, eal_args, n_eal_args, 0, 0, PSHIM6_CONF_MAX_EAL_ARGS),
};
#undef T
static const struct section dataplane_sec = SECTION("dataplane", dataplane_rows, NULL, NULL);

#define T struct pshim6_conf_shim6_timers
static const struct row shim6_rows[] = {
	R_U32(T, "i1_timeout_ms", i1_timeout_ms, 100, 600000),
	R_U32(T, "i1_retries", i1_retries, 0, 100),
	R_U32(T, "i2_timeout_ms", i2_timeout_ms, 100, 600000),
	R_U32(T, "i2_retries", i2_retries, 0, 100),
	R_U32(T, "i2bis_timeout_ms", i2bis_timeout_ms, 100, 600000),
	R_U32(T, "i2bis_retries", i2bis_retries, 0, 100),
	R_U32(T, "update_timeout_ms", update_timeout_ms, 100, 600000),
	R_U32(T, "max_update_timeout_ms", max_update_timeout_ms, 100, 3600000),
	R_U32(T, "no_r1_holddown_ms", no_r1_holddown_ms, 0, 86400000),
	R_U32(T, "icmp_holddown_ms", icmp_holddown_ms, 0, 86400000),
	R_U32(T, "validator_lifetime_ms", validator_lifetime_ms, 1000, 86400000),
};
#undef T
static const struct section shim6_sec = SECTION("shim6", shim6_rows, NULL, NULL);

#define T struct pshim6_conf_reap_timers
static const struct row reap_rows[] = {
	R_U32(T, "send_timeout_ms", send_timeout_ms, 100, 600000),
	R_U32(T, "keepalive_interval_ms", keepalive_interval_ms, 50, 600000),
	R_U32(T, "initial_probe_ms", initial_probe_ms, 10, 60000),
	R_U32(T, "initial_probes", initial_probes, 1, 100),
	R_U32(T, "max_probe_backoff_ms", max_probe_backoff_ms, 10, 3600000),
};
#undef T
static const struct section reap_sec = SECTION("reap", reap_rows, NULL, NULL);

#define T struct pshim6_conf_engine
static const struct row engine_rows[] = {
	R_U32(T, "max_contexts", max_contexts, 1, 16777216),
	R_U32(T, "max_pending", max_pending, 1, 1048576),
	R_U32(T, "recovery_rate", recovery_rate, 1, 1000000),
	R_U32(T, "recovery_burst", recovery_burst, 1, 1000000),
};
#undef T
static const struct section engine_sec = SECTION("engine", engine_rows, NULL, NULL);

#define T struct pshim6_conf_te_group
static const struct row group_rows[] = {
	R_STR(T, "name", name, R_REQ),
	R_ARR(T, "prefixes", K_PREFIX, prefixes, n_prefixes, R_REQ, 1, PSHIM6_CONF_MAX_GROUP_PREFIXES),
};
#undef T
static const struct section group_sec = SECTION("te.groups", group_rows, NULL, conf_check_group);

static void rule_init(void *b)
{
	struct pshim6_conf_te_rule *r = b;
	memset(r, 0, sizeof(*r));
	r->group = -1;
	r->isp = -1;
}
#define T struct pshim6_conf_te_rule
static const struct row rule_rows[] = {
	R_HASKIND(K_PREFIX, T, "destination", destination, has_destination),
	R_KIND(K_GROUPREF, T, "group", group, 0),
	R_KIND(K_ISPREF, T, "isp", isp, 0),
	{ .key = "weights", .kind = K_CUSTOM, .off = offsetof(T, weights),
	  .load = conf_load_weights, .print = conf_print_weights },
};
#undef T
static const struct section rule_sec = SECTION("te.rules", rule_rows, rule_init, conf_check_rule);

#define T struct pshim6_conf_te
static const struct row te_rows[] = {
	R_ENUM(T, "ingress", ingress, te_ingress, 0),
	R_KIND(K_ISPREF, T, "ingress_isp", ingress_isp, 0),
	R_LST(T, "groups", groups, n_groups, group_sec, 0, 0, PSHIM6_CONF_MAX_TE_GROUPS),
	R_LST(T, "rules", rules, n_rules, rule_sec, 0, 0, PSHIM6_CONF_MAX_TE_RULES),
};
#undef T
static const struct section te_sec = SECTION("te", te_rows, NULL, conf_check_te);

#define T struct pshim6_conf_control
static const struct row control_rows[] = {
	R_STR(T, "socket", socket, 0),
	R_KIND(K_MODE, T, "socket_mode", socket_mode, 0),
	R_STR(T, "socket_group", socket_group, 0),
	R_STR(T, "state_file", state_file, 0),
	R_ENUM(T, "log_level", log_level, log_levels, 0),
	R_KIND(K_BOOL, T, "syslog", syslog, 0),
	R_STR(T, "syslog_facility", syslog_facility, 0),
	R_U32(T, "hold_packets", hold_packets, 1, 256),
	R_U32(T, "hold_total", hold_total, 1, 1048576),
	R_U32(T, "peer_cache", peer_cache, 16, 16777216),
	R_U32(T, "lease_table", lease_table, 16, 16777216),
	R_STR(T, "isp_notify", isp_notify, 0),
};
#undef T
static const struct section control_sec = SECTION("control", control_rows, NULL, conf_check_control);

#define T struct pshim6_conf_dnsalg
static const struct row dnsalg_rows[] = {
	R_ARR(T, "listen", K_ADDR, listen, n_listen, 0, 1, PSHIM6_CONF_MAX_DNS_LISTEN),
	R_U16(T, "port", port, 1, 65535),
	R_ARR(T, "upstreams", K_ENDPOINT, upstreams, n_upstreams, R_REQ, 1, PSHIM6_CONF_MAX_DNS_UPSTREAMS),
	R_U16(T, "ulid_rrtype", ulid_rrtype, 65280, 65533),
	R_U32(T, "cache_entries", cache_entries, 16, 16777216),
	R_U32(T, "max_inflight", max_inflight, 1, 65536),
	R_U32(T, "timeout_ms", timeout_ms, 100, 60000),
	R_U32(T, "tcp_clients", tcp_clients, 1, 4096),
	R_U32(T, "tcp_idle_ms", tcp_idle_ms, 1000, 300000),
	R_U32(T, "cookie_rotate_s", cookie_rotate_s, 0, 604800),
	R_ENUM(T, "dnssec", dnssec, dnssec_policies, 0),
	R_STR(T, "control_socket", control_socket, 0),
	R_STR(T, "user", user, 0),
	R_FQDN(T, "zone", zone, 0),
};
#undef T
/* A secret that lives under a minute would make a client's cookie stale
 * between two of its queries; 0 keeps one secret for the whole run. */
static void dnsalg_check(struct ctx *x, const config_setting_t *g, void *base)
{
	const struct pshim6_conf_dnsalg *d = base;
	const config_setting_t *s = config_setting_lookup((config_setting_t *)g, "cookie_rotate_s");
	if (d->cookie_rotate_s && d->cookie_rotate_s < 60)
		conf_error(x, s ? s : g, "dnsalg.cookie_rotate_s: %u is neither 0 (never rotate) nor in 60..604800",
			   d->cookie_rotate_s);
}
static const struct section dnsalg_sec = SECTION("dnsalg", dnsalg_rows, NULL, dnsalg_check);

static void host_init(void *b) { memset(b, 0, sizeof(struct pshim6_conf_host)); }
#define T struct pshim6_conf_host
static const struct row host_rows[] = {
	R_STR(T, "name", name, R_REQ),
	R_KIND(K_ADDR, T, "cmula", cmula, R_REQ),
	R_ARR(T, "hba", K_ADDR, hba, n_hba, 0, 0, PSHIM6_CONF_MAX_HBA_SET),
	{ .key = "pds", .kind = K_HEX, .off = offsetof(T, pds), .size = PSHIM6_CONF_PDS_MAX,
	  .count_off = offsetof(T, pds_len) },
};
#undef T
static const struct section host_sec = SECTION("hosts", host_rows, host_init, conf_check_host);

static void peer_init(void *b) { memset(b, 0, sizeof(struct pshim6_conf_peer)); }
#define T struct pshim6_conf_peer
static const struct row peer_rows[] = {
	R_KIND(K_ADDR, T, "ulid", ulid, R_REQ),
	R_FQDN(T, "name", name, 0),
	R_ARR(T, "locators", K_ADDR, locators, n_locators, R_REQ, 1, PSHIM6_CONF_MAX_PEER_LOCATORS),
};
#undef T
static const struct section peer_sec = SECTION("peers", peer_rows, peer_init, conf_check_peer);

#define T struct pshim6_conf_peer_proxy
static const struct row proxy_rows[] = {
	R_ENUM(T, "role", role, peer_roles, R_REQ),
	R_KIND(K_ADDR, T, "address", address, R_REQ),
	R_ARR(T, "alt_addresses", K_ADDR, alt_addresses, n_alt_addresses, R_NONEMPTY, 0, PSHIM6_CONF_MAX_PEER_PATHS - 1),
	R_ARR(T, "sources", K_ADDR, sources, n_sources, R_NONEMPTY, 0, PSHIM6_CONF_MAX_PEER_PATHS),
	R_U16(T, "port", port, 1, 65535),
	R_STR(T, "key_file", key_file, 0),
	R_U32(T, "heartbeat_ms", heartbeat_ms, 20, 10000),
	R_U32(T, "dead_ms", dead_ms, 60, 60000),
	R_U32(T, "sync_interval_ms", sync_interval_ms, 1000, 3600000),
	R_KIND(K_BOOL, T, "replicate", replicate, 0),
	R_U32(T, "sync_batch", sync_batch, 1, 8192),
	R_U32(T, "yield_linger_ms", yield_linger_ms, 0, 600000),
	R_STR(T, "notify", notify, 0),
	R_U32(T, "notify_timeout_ms", notify_timeout_ms, 100, 600000),
};
#undef T
static const struct section proxy_sec = SECTION("peer", proxy_rows, NULL, conf_check_peer_proxy);

#define T struct pshim6_conf_dhcp
static const struct row dhcp_rows[] = {
	R_STR(T, "lease_file", lease_file, 0),
};
#undef T
static const struct section dhcp_sec = SECTION("dhcp", dhcp_rows, NULL, NULL);

#define T struct pshim6_conf
static const struct row root_rows[] = {
	R_GRP(T, "site", site, site_sec, R_REQ),
	R_GRP(T, "inside", inside, inside_sec, R_REQ),
	R_LST(T, "isps", isps, n_isps, isp_sec, R_REQ, 1, PSHIM6_CONF_MAX_ISPS),
	R_GRP(T, "dataplane", dataplane, dataplane_sec, 0),
	R_GRP(T, "shim6", shim6, shim6_sec, 0),
	R_GRP(T, "reap", reap, reap_sec, 0),
	R_GRP(T, "engine", engine, engine_sec, 0),
	R_GRP(T, "te", te, te_sec, 0),
	R_GRP(T, "control", control, control_sec, 0),
	{ .key = "dnsalg", .kind = K_GROUP, .flags = R_HAS, .off = offsetof(T, dnsalg),
	  .has_off = offsetof(T, dnsalg.enabled), .sub = &dnsalg_sec },
	R_LST(T, "hosts", hosts, n_hosts, host_sec, 0, 0, PSHIM6_CONF_MAX_HOSTS),
	R_LST(T, "peers", peers, n_peers, peer_sec, 0, 0, PSHIM6_CONF_MAX_PEERS),
	R_GRP(T, "peer", peer, proxy_sec, 0),
	R_GRP(T, "dhcp", dhcp, dhcp_sec, 0),
};
#undef T
const struct section pshim6_conf_root = SECTION("the top level", root_rows, NULL, conf_check_root);
