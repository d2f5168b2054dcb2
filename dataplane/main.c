/* pshim6-dataplane: options, config, EAL, ports, lcores. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "dataplane.h"
#include "mss.h"
#include "reload.h"
#include "pshim6/conf.h"

struct dp_state dp;

static const char usage[] =
"usage: pshim6-dataplane -c FILE [options] [-- EAL options]\n"
"\n"
"The P-SHIM6 fast path: rewrites site CMULAs to locators with the Shim6\n"
"payload header, NATv6 for peers without Shim6, on DPDK ports named in the\n"
"config (inside.port, isps[].port).  Tables are written only through the\n"
"control channel (dataplane.channel), see pshim6-dataplane(8).\n"
"\n"
"  -c, --config FILE     the appliance config (required)\n"
"  -n, --check           check the config, print errors as file:line, exit\n"
"      --channel PATH    override dataplane.channel\n"
"      --max-contexts N  override dataplane.max_contexts\n"
"      --cmula-space P   where remote CMULAs live (default fc00::/7): traffic\n"
"                        to it without a context is punted, other traffic\n"
"                        without a context is NATv6-translated\n"
"      --busy-poll       never sleep when idle (benchmarks)\n"
"      --node-clock      count the TSC cycles spent in packet processing,\n"
"                        drivers excluded (counters node_cycles, node_packets;\n"
"                        bursts the OS interrupted are left out); costs two\n"
"                        TSC reads per burst\n"
"      --no-tap          no kernel exception interfaces\n"
"      --icmp-rate N     ICMPv6 errors per second per lcore (default 100)\n"
"      --rx-desc N       RX/TX descriptors per queue (default 1024)\n"
"      --rx-delay-ms N   start polling ports N ms after the channel is up, so\n"
"                        tests can install contexts before replaying a pcap\n"
"  -h, --help            this text\n"
"\n"
"EAL options from dataplane.eal_args come first, then the ones after --.\n"
"Ports whose devargs start with net_ are created as --vdev.\n"
"\n"
"SIGHUP re-reads the config: ISP weights and MTUs, static next-hop MACs,\n"
"dataplane.pmtu and the ND and idle timers change at once; a file with\n"
"errors, or one changing what is fixed at start (ports, prefixes, table\n"
"sizes, lcores), is refused and the running config stays.\n";

static struct pshim6_conf conf;

static void on_signal(int sig)
{
	(void)sig;
	dp.quit = true;
}

static void on_hup(int sig)
{
	(void)sig;
	dp.reload = 1;
}

static int parse_prefix(const char *s, struct dp_prefix *p)
{
	char buf[64], *slash;
	long len;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = 0;
	len = strtol(slash + 1, NULL, 10);
	if (len < 1 || len > 128 || inet_pton(AF_INET6, buf, p->addr) != 1)
		return -1;
	p->len = (uint8_t)len;
	return 0;
}

/* Port name as DPDK knows it: devargs up to the first comma. */
static void devname(const char *devargs, char *out, size_t n)
{
	size_t l = strcspn(devargs, ",");
	if (l >= n)
		l = n - 1;
	memcpy(out, devargs, l);
	out[l] = 0;
}

static int port_setup(uint16_t id, uint16_t nq_rx, uint16_t nq_tx, uint16_t ndesc, bool rss)
{
	struct rte_eth_conf pc;
	struct rte_eth_dev_info info;
	uint16_t nrx = ndesc, ntx = ndesc;
	int rc;

	memset(&pc, 0, sizeof(pc));
	if ((rc = rte_eth_dev_info_get(id, &info)) != 0)
		return rc;
	if (nq_rx > info.max_rx_queues || nq_tx > info.max_tx_queues) {
		fprintf(stderr, "pshim6-dataplane: port %u has %u/%u queues, %u/%u needed (af_packet: qpairs=N)\n",
			id, info.max_rx_queues, info.max_tx_queues, nq_rx, nq_tx);
		return -EINVAL;
	}
	if (rss && nq_rx > 1 && info.flow_type_rss_offloads) {
		pc.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		pc.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
	}
	if ((rc = rte_eth_dev_configure(id, nq_rx, nq_tx, &pc)) != 0)
		return rc;
	(void)rte_eth_dev_adjust_nb_rx_tx_desc(id, &nrx, &ntx);
	for (uint16_t q = 0; q < nq_rx; q++)
		if ((rc = rte_eth_rx_queue_setup(id, q, nrx, (unsigned)rte_eth_dev_socket_id(id), NULL, dp.pool)) != 0)
			return rc;
	for (uint16_t q = 0; q < nq_tx; q++)
		if ((rc = rte_eth_tx_queue_setup(id, q, ntx, (unsigned)rte_eth_dev_socket_id(id), NULL)) != 0)
			return rc;
	(void)rte_eth_promiscuous_enable(id);
	return rte_eth_dev_start(id);
}


int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' }, { "check", no_argument, NULL, 'n' },
		{ "channel", required_argument, NULL, 1 }, { "max-contexts", required_argument, NULL, 2 },
		{ "cmula-space", required_argument, NULL, 3 }, { "busy-poll", no_argument, NULL, 4 },
		{ "no-tap", no_argument, NULL, 5 }, { "icmp-rate", required_argument, NULL, 6 },
		{ "node-clock", no_argument, NULL, 9 }, { "rx-desc", required_argument, NULL, 7 }, { "rx-delay-ms", required_argument, NULL, 8 }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfile = NULL, *channel = NULL;
	bool check = false, busy = false, tap = true;
	long max_ctx = 0;
	unsigned ndesc = 1024, rx_delay_ms = 0;
	int ours = argc, opt, rc;
	char *eargv[128];
	int eargc = 0;
	char vbuf[DP_MAX_PORTS][PSHIM6_CONF_DEVARGS_MAX + 8];

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			ours = i;
			break;
		}
	dp.site = &dp.sites[0];
	parse_prefix("fc00::/7", &dp.site->cmula_space);
	dp.icmp_rate = 100;
	while ((opt = getopt_long(ours, argv, "c:nh", lo, NULL)) != -1) {
		switch (opt) {
		case 'c': cfile = optarg; break;
		case 'n': check = true; break;
		case 1: channel = optarg; break;
		case 2: max_ctx = strtol(optarg, NULL, 0); break;
		case 3:
			if (parse_prefix(optarg, &dp.site->cmula_space) < 0) {
				fprintf(stderr, "pshim6-dataplane: --cmula-space: not a prefix: %s\n", optarg);
				return 2;
			}
			break;
		case 4: busy = true; break;
		case 5: tap = false; break;
		case 6: dp.icmp_rate = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 7: ndesc = (unsigned)strtoul(optarg, NULL, 0); break;
		case 8: rx_delay_ms = (unsigned)strtoul(optarg, NULL, 0); break;
		case 9: dp.node_clock = true; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!cfile) {
		fputs(usage, stderr);
		return 2;
	}
	if (pshim6_conf_load(cfile, &conf, pshim6_conf_error_print, stderr) != 0)
		return 1;
	if (check)
		return 0;
	if (conf.n_isps > DP_MAX_ISP) {
		fprintf(stderr, "%s: too many ISPs for the dataplane (max %d)\n", cfile, DP_MAX_ISP);
		return 1;
	}

	/* EAL argv: program, config eal_args, vdevs for net_* ports, then ours after -- */
	eargv[eargc++] = argv[0];
	for (unsigned i = 0; i < conf.dataplane.n_eal_args && eargc < 100; i++)
		eargv[eargc++] = conf.dataplane.eal_args[i];
	for (unsigned p = 0; p <= conf.n_isps; p++) {
		const char *da = p == 0 ? conf.inside.port : conf.isps[p - 1].port;
		if (!strncmp(da, "net_", 4)) {
			snprintf(vbuf[p], sizeof(vbuf[p]), "--vdev=%s", da);
			eargv[eargc++] = vbuf[p];
		}
	}
	if (conf.dataplane.n_lcores) {
		static char lopt[] = "-l", lst[200];
		size_t o = 0;
		eargv[eargc++] = lopt;
		for (unsigned i = 0; i < conf.dataplane.n_lcores && o < sizeof(lst) - 8; i++)
			o += (size_t)snprintf(lst + o, sizeof(lst) - o, "%s%u", i ? "," : "", conf.dataplane.lcores[i]);
		eargv[eargc++] = lst;
	}
	for (int i = ours + 1; i < argc && eargc < 126; i++)
		eargv[eargc++] = argv[i];
	eargv[eargc] = NULL;
	if (rte_eal_init(eargc, eargv) < 0) {
		fprintf(stderr, "pshim6-dataplane: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_hup);

	dp_site_from_conf(dp.site, &conf);
	dp_reload_init(cfile, &conf, busy);
	dp.n_ports = 1 + conf.n_isps;
	dp.idle_polls = busy ? 0 : conf.dataplane.idle_polls;
	dp.idle_sleep_us = conf.dataplane.idle_sleep_us;
	dp.nd_reachable_ms = conf.dataplane.nd_reachable_ms;
	snprintf(dp.channel_path, sizeof(dp.channel_path), "%s", channel ? channel : conf.dataplane.channel);
	dp.tsc_hz = rte_get_tsc_hz();
	dp.boot_id = rte_rand();
	dp.probe_id = (uint16_t)rte_rand();

	/* lcores: every EAL lcore forwards; queue i of every port belongs to lcore i */
	{
		unsigned l;
		dp.n_lcores = 0;
		RTE_LCORE_FOREACH(l) {
			dp.lc[dp.n_lcores].lcore_id = l;
			dp.lc[dp.n_lcores].idx = dp.n_lcores;
			dp.lc[dp.n_lcores].qid = (uint16_t)dp.n_lcores;
			dp.n_lcores++;
		}
	}
	unsigned nmbuf = dp.n_ports * 2 * dp.n_lcores * (ndesc * 2 + 512) + conf.dataplane.punt_queue + 4096;
	dp.pool = rte_pktmbuf_pool_create("dp_pool", nmbuf, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	dp.punt = rte_ring_create("dp_punt", conf.dataplane.punt_queue, (int)rte_socket_id(),
				  RING_F_SC_DEQ | RING_F_EXACT_SZ);
	dp.inject = rte_ring_create("dp_inject", 1024, (int)rte_socket_id(), RING_F_SC_DEQ);
	dp.t = dp_tables_create("dp", max_ctx > 0 ? (uint32_t)max_ctx : conf.dataplane.max_contexts,
				conf.dataplane.hba_hosts, dp.n_lcores, (int)rte_socket_id());
	dp.natpin.mask = dp_natpin_buckets(conf.dataplane.natv6_flows) - 1;
	dp.natpin.w = rte_zmalloc_socket("dp_natpin", dp_natpin_words(dp.natpin.mask) * sizeof(uint64_t),
					 RTE_CACHE_LINE_SIZE, (int)rte_socket_id());
	dp.natpin.used = rte_zmalloc_socket("dp_natpin_used", dp_natpin_used_words(dp.natpin.mask) * sizeof(uint64_t),
					    RTE_CACHE_LINE_SIZE, (int)rte_socket_id());
	if (!dp.pool || !dp.punt || !dp.inject || !dp.t || !dp.natpin.w || !dp.natpin.used) {
		fprintf(stderr, "pshim6-dataplane: out of hugepage memory for mbufs/rings/tables: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}

	for (unsigned p = 0; p < dp.n_ports; p++) {
		struct dp_port *pt = &dp.port[p];
		const char *da = p == 0 ? conf.inside.port : conf.isps[p - 1].port;
		const struct pshim6_conf_mac *mac = p == 0 ? &conf.inside.next_hop_mac : &conf.isps[p - 1].next_hop_mac;
		devname(da, pt->name, sizeof(pt->name));
		if (rte_eth_dev_get_port_by_name(pt->name, &pt->id) != 0) {
			fprintf(stderr, "%s: port %s: no such DPDK port\n", cfile, pt->name);
			return 1;
		}
		if ((rc = port_setup(pt->id, (uint16_t)dp.n_lcores, (uint16_t)dp.n_lcores, (uint16_t)ndesc, true)) != 0) {
			fprintf(stderr, "pshim6-dataplane: port %s: setup failed: %s\n", pt->name, rte_strerror(-rc));
			return 1;
		}
		rte_eth_macaddr_get(pt->id, &pt->mac);
		pt->mtu = p == 0 ? conf.inside.mtu : conf.isps[p - 1].mtu;
		if (p == 0) {
			if (conf.inside.has_next_hop)
				memcpy(pt->nh_addr, &conf.inside.next_hop, 16);
			if (conf.inside.has_address)
				memcpy(pt->own_addr, &conf.inside.address.addr, 16);
		} else {
			memcpy(pt->nh_addr, &conf.isps[p - 1].next_hop, 16);
			if (conf.isps[p - 1].has_address)
				memcpy(pt->own_addr, &conf.isps[p - 1].address.addr, 16);
		}
		if (mac->set) {
			dp_nh_store(pt, dp_nh_word(mac->addr));
			pt->nh_static = true;
		}
		pt->tap = DP_NO_PORT;
		if (tap) {
			char vname[32], vargs[192];
			uint16_t tid;
			snprintf(vname, sizeof(vname), "net_tap_pshim6_%u", p);
			snprintf(vargs, sizeof(vargs), "%s,iface=%.15s,mac=" RTE_ETHER_ADDR_PRT_FMT, vname,
				 p == 0 ? conf.inside.name : conf.isps[p - 1].name, RTE_ETHER_ADDR_BYTES(&pt->mac));
			if (rte_dev_probe(vargs) != 0 || rte_eth_dev_get_port_by_name(vname, &tid) != 0 ||
			    /* the TAP PMD wants as many RX as TX queues: one pair per lcore */
			    port_setup(tid, (uint16_t)dp.n_lcores, (uint16_t)dp.n_lcores, 256, false) != 0) {
				fprintf(stderr, "pshim6-dataplane: exception interface for %s not created (%s); "
					"continuing without it\n", pt->name, vargs);
			} else {
				pt->tap = tid;
			}
		}
	}
	for (unsigned l = 0; l < dp.n_lcores; l++) {
		for (unsigned p = 0; p < dp.n_ports; p++) {
			struct rte_eth_dev_tx_buffer *b = rte_zmalloc_socket("dp_txb", RTE_ETH_TX_BUFFER_SIZE(DP_BURST), 0,
									     (int)rte_socket_id());
			if (!b) {
				fprintf(stderr, "pshim6-dataplane: out of memory\n");
				return 1;
			}
			rte_eth_tx_buffer_init(b, DP_BURST);
			rte_eth_tx_buffer_set_err_callback(b, rte_eth_tx_buffer_count_callback,
							   &dp.lc[l].cnt.c[DPMSG_CNT_DROP_TX]);
			dp.lc[l].txb[p] = b;
		}
	}

	/* HBA hosts from the config are installed up front; control adds the rest */
	for (unsigned h = 0; h < conf.n_hosts; h++) {
		struct dpmsg_host mh;
		if (!conf.hosts[h].n_hba)
			continue;
		memset(&mh, 0, sizeof(mh));
		memcpy(mh.cmula, &conf.hosts[h].cmula, 16);
		for (unsigned j = 0; j < conf.hosts[h].n_hba; j++) {
			int isp = dp_site_isp_of(dp.site, (const uint8_t *)&conf.hosts[h].hba[j]);
			if (isp >= 0) {
				memcpy(mh.loc[isp], &conf.hosts[h].hba[j], 16);
				if ((unsigned)isp + 1 > mh.nloc)
					mh.nloc = (uint8_t)(isp + 1);
			}
		}
		if (mh.nloc && dp_host_add(dp.t, &mh) != 0)
			fprintf(stderr, "%s: host %s: HBA set not installed\n", cfile, conf.hosts[h].name);
	}

	dp_telemetry_register();
	if (dp_channel_start(&dp) != 0)
		return 1;
	fprintf(stderr, "pshim6-dataplane: %u port(s), %u lcore(s), %u contexts max, table_bytes %lu, "
		"natv6_flows %lu, tsc_hz %lu, channel %s\n", dp.n_ports, dp.n_lcores, dp.t->cap,
		(unsigned long)dp.t->mem_bytes, (unsigned long)dp_natpin_words(dp.natpin.mask),
		(unsigned long)dp.tsc_hz, dp.channel_path);
	for (unsigned w = 0; w < rx_delay_ms / 10 && !dp.quit; w++)
		rte_delay_us_sleep(10000);
	for (unsigned l = 1; l < dp.n_lcores; l++)
		rte_eal_remote_launch(dp_lcore_main, &dp.lc[l], dp.lc[l].lcore_id);
	dp_lcore_main(&dp.lc[0]);
	rte_eal_mp_wait_lcore();
	dp_channel_stop();
	for (unsigned p = 0; p < dp.n_ports; p++) {
		rte_eth_dev_stop(dp.port[p].id);
		rte_eth_dev_close(dp.port[p].id);
		if (dp.port[p].tap != DP_NO_PORT) {
			rte_eth_dev_stop(dp.port[p].tap);
			rte_eth_dev_close(dp.port[p].tap);
		}
	}
	{
		uint64_t sum[DPMSG_CNT__MAX];
		dp_counters_sum(&dp, sum);
		for (uint16_t i = 1; i < DPMSG_CNT__MAX; i++)
			if (sum[i])
				fprintf(stderr, "pshim6-dataplane: %s %lu\n", dpmsg_counter_name(i), (unsigned long)sum[i]);
	}
	dp_tables_free(dp.t);
	rte_free(dp.natpin.w);
	rte_free(dp.natpin.used);
	rte_eal_cleanup();
	return 0;
}
