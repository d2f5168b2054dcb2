/* DPDK telemetry commands under /pshim6/ (dpdk-telemetry.py shows them). */
#include <stdlib.h>

#include <rte_telemetry.h>

#include "dataplane.h"

static void add_counters(struct rte_tel_data *d, const uint64_t *c)
{
	for (uint16_t i = 1; i < DPMSG_CNT__MAX; i++)
		rte_tel_data_add_dict_u64(d, dpmsg_counter_name(i), c[i]);
}

static int tel_counters(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint64_t sum[DPMSG_CNT__MAX];
	dp_counters_sum(&dp, sum);
	rte_tel_data_start_dict(d);
	add_counters(d, sum);
	return 0;
}

static int tel_lcore(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char *end;
	unsigned long i;

	if (!params || !*params)
		return -1;
	i = strtoul(params, &end, 10);
	if (*end || i >= dp.n_lcores)
		return -1;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "lcore_id", dp.lc[i].lcore_id);
	add_counters(d, dp.lc[i].cnt.c);
	return 0;
}

static int tel_tables(const char *cmd, const char *params, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "contexts", dp.t->n_ctx);
	rte_tel_data_add_dict_u64(d, "context_capacity", dp.t->cap);
	rte_tel_data_add_dict_u64(d, "hba_hosts", dp.t->n_host);
	rte_tel_data_add_dict_u64(d, "hba_host_capacity", dp.t->host_cap);
	rte_tel_data_add_dict_u64(d, "table_bytes", dp.t->mem_bytes);
	rte_tel_data_add_dict_u64(d, "punt_queue_used", rte_ring_count(dp.punt));
	rte_tel_data_add_dict_u64(d, "punt_queue_size", rte_ring_get_capacity(dp.punt));
	rte_tel_data_add_dict_u64(d, "natv6_flow_capacity", dp_natpin_words(dp.natpin.mask));
	rte_tel_data_add_dict_u64(d, "lcores", dp.n_lcores);
	return 0;
}

/*
 * Keyed by port index (0 = inside, 1 + i = ISP i): dict names may hold only
 * alphanumerics, '_' and '/', and the telemetry library drops any other name,
 * which devargs names ("0000:01:00.0") are.
 */
static int tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	for (unsigned p = 0; p < dp.n_ports; p++) {
		char key[64];
		snprintf(key, sizeof(key), "port%u_name", p);
		rte_tel_data_add_dict_string(d, key, dp.port[p].name);
		snprintf(key, sizeof(key), "port%u_next_hop_resolved", p);
		rte_tel_data_add_dict_u64(d, key, dp_nh_ok(dp_nh_load(&dp.port[p])));
		snprintf(key, sizeof(key), "port%u_next_hop_state", p);
		rte_tel_data_add_dict_string(d, key, dp.port[p].nh_static ? "static" : dp_nud_name(dp.port[p].nud.state));
		snprintf(key, sizeof(key), "port%u_mtu", p);
		rte_tel_data_add_dict_u64(d, key, dp.port[p].mtu);
		if (p == DP_PORT_INSIDE)
			continue;
		/* probe.h: "unprobed" for an ISP without a probe target, "drained" for one out of service */
		const struct dp_site *s = dp_site_now();
		const struct dp_port *pt = &dp.port[p];
		const char *state = "unprobed";
		if (p - 1 < s->n_isp && s->isp[p - 1].drain)
			state = "drained";
		else if (p - 1 < s->n_isp && s->isp[p - 1].probe.n)
			state = dp_probe_name(__atomic_load_n(&dp.isp_down, __ATOMIC_RELAXED) >> (p - 1) & 1);
		snprintf(key, sizeof(key), "port%u_isp_state", p);
		rte_tel_data_add_dict_string(d, key, state);
		snprintf(key, sizeof(key), "port%u_probes_sent", p);
		rte_tel_data_add_dict_u64(d, key, pt->probe.sent);
		snprintf(key, sizeof(key), "port%u_probes_answered", p);
		rte_tel_data_add_dict_u64(d, key, pt->probe.answered);
		snprintf(key, sizeof(key), "port%u_probe_rtt_us", p);
		rte_tel_data_add_dict_u64(d, key, pt->probe_rtt_us);
	}
	return 0;
}

void dp_telemetry_register(void)
{
	rte_telemetry_register_cmd("/pshim6/counters", tel_counters,
				   "pshim6 counters summed over lcores. No parameters");
	rte_telemetry_register_cmd("/pshim6/lcore", tel_lcore,
				   "pshim6 counters of one forwarding lcore. Parameters: lcore index");
	rte_telemetry_register_cmd("/pshim6/tables", tel_tables,
				   "pshim6 context/host table occupancy and punt queue. No parameters");
	rte_telemetry_register_cmd("/pshim6/ports", tel_ports,
				   "pshim6 ports: next hop state, MTU, and whether each ISP works (probes). No parameters");
}
