/*
 * pshim6 appliance configuration: one libconfig file read by every daemon
 * (pshim6-dataplane, pshim6-control, pshim6-dnsalg) with `-c FILE`.
 *
 * This header is plain C (no libconfig, no DPDK) so every component can hold
 * a struct pshim6_conf.  The loader (libpshim6conf, meson `conf_dep`) walks a
 * schema table, validates every key and reports EVERY error as
 * "file:line: message" through the caller's sink.
 *
 * Stability: fields are only ever added.  All lists are fixed-size arrays
 * with a documented maximum (PSHIM6_CONF_MAX_*) and a count; the loader
 * rejects a file that exceeds a maximum, so consumers may index freely below
 * the count.  Strings are NUL-terminated and always fit their buffer.
 * Times are integers in milliseconds unless the name says otherwise.
 *
 * The struct is large (a few hundred KiB); allocate it statically or with
 * calloc(), not on a small stack.
 */
#ifndef PSHIM6_CONF_H
#define PSHIM6_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- bounds ------------------------------------------------------------ */
#define PSHIM6_CONF_NAME_MAX        64   /* names incl. NUL */
#define PSHIM6_CONF_PATH_MAX        256  /* file/socket paths incl. NUL */
#define PSHIM6_CONF_DEVARGS_MAX     256  /* DPDK devargs incl. NUL */
#define PSHIM6_CONF_FQDN_MAX        256  /* DNS names incl. NUL */
#define PSHIM6_CONF_MAX_CMULA_PREFIXES 4
#define PSHIM6_CONF_MAX_ISPS        8
#define PSHIM6_CONF_MAX_PROBES      4   /* echo targets an ISP */
#define PSHIM6_CONF_MAX_LCORES      16
#define PSHIM6_CONF_MAX_EAL_ARGS    16
#define PSHIM6_CONF_MAX_TE_GROUPS   16
#define PSHIM6_CONF_MAX_GROUP_PREFIXES 16
#define PSHIM6_CONF_MAX_TE_RULES    64
#define PSHIM6_CONF_MAX_DNS_LISTEN  4
#define PSHIM6_CONF_MAX_DNS_UPSTREAMS 4
#define PSHIM6_CONF_MAX_HOSTS       256
#define PSHIM6_CONF_MAX_HBA_SET     (1 + PSHIM6_CONF_MAX_ISPS) /* CMULA + one per ISP */
#define PSHIM6_CONF_MAX_PEERS       256
#define PSHIM6_CONF_MAX_PEER_LOCATORS 8
#define PSHIM6_CONF_MAX_PEER_PATHS 4     /* peer.address + peer.alt_addresses */
#define PSHIM6_CONF_PDS_MAX         1024 /* CGA Parameter Data Structure octets */

/* ---- common types ------------------------------------------------------ */
struct pshim6_conf_prefix {
	struct in6_addr addr;   /* host bits beyond len are zero (validated) */
	uint8_t len;            /* 0..128 */
};

struct pshim6_conf_mac {
	bool set;               /* false: resolve by Neighbor Discovery */
	uint8_t addr[6];
};

/* An IPv6 address with a port (DNS listen/upstream, peer sync). */
struct pshim6_conf_endpoint {
	struct in6_addr addr;
	uint16_t port;
};

enum pshim6_conf_addr_mode {
	PSHIM6_ADDR_CGA = 0,    /* CMULAs are CGAs; own-site mapping is a prefix swap */
	PSHIM6_ADDR_HBA = 1,    /* CMULAs are HBA sets over CMULA + all PA prefixes */
};

enum pshim6_conf_pmtu_mode {
	PSHIM6_PMTU_ICMP = 0,   /* send ICMPv6 Packet Too Big with MTU-8 */
	PSHIM6_PMTU_MSS  = 1,   /* clamp TCP MSS only */
	PSHIM6_PMTU_BOTH = 2,
};

enum pshim6_conf_log_level {   /* same numbers as syslog(3) priorities */
	PSHIM6_LOG_ERR = 3,
	PSHIM6_LOG_WARNING = 4,
	PSHIM6_LOG_NOTICE = 5,
	PSHIM6_LOG_INFO = 6,
	PSHIM6_LOG_DEBUG = 7,
};

enum pshim6_conf_dnssec_policy {
	PSHIM6_DNSSEC_REWRITE_STRIP = 0, /* rewrite, strip RRSIGs, add EDE 4 */
	PSHIM6_DNSSEC_PASSTHROUGH = 1,   /* DO + signed answer: pass unchanged */
};

enum pshim6_conf_te_ingress {
	PSHIM6_TE_INGRESS_WEIGHTS = 0, /* Locator Preferences carry ISP weights */
	PSHIM6_TE_INGRESS_PREFER  = 1, /* te.ingress_isp gets the best priority */
};

enum pshim6_conf_peer_role {
	PSHIM6_PEER_NONE = 0,   /* no `peer` section: single proxy */
	PSHIM6_PEER_PRIMARY = 1,
	PSHIM6_PEER_BACKUP = 2,
};

/* ---- sections ---------------------------------------------------------- */

/* site { name; cmula_prefixes; key_file; public_key_file; mode; cga_sec; } */
struct pshim6_conf_site {
	char name[PSHIM6_CONF_NAME_MAX];
	unsigned n_cmula_prefixes;          /* >= 1 */
	struct pshim6_conf_prefix cmula_prefixes[PSHIM6_CONF_MAX_CMULA_PREFIXES]; /* len <= 64 */
	char key_file[PSHIM6_CONF_PATH_MAX];        /* PEM private key (control) */
	char public_key_file[PSHIM6_CONF_PATH_MAX]; /* PEM public key; "" = derive from key_file */
	enum pshim6_conf_addr_mode mode;    /* default cga */
	uint8_t cga_sec;                    /* 0..7, default 1 */
};

/* inside { port; name; mtu; address; next_hop; next_hop_mac; } */
struct pshim6_conf_inside {
	char port[PSHIM6_CONF_DEVARGS_MAX]; /* DPDK devargs ("net_af_packet0,iface=x") or port name */
	char name[PSHIM6_CONF_NAME_MAX];    /* exception-path interface name, default "pshim6-in" */
	uint32_t mtu;                       /* 1280..9216, default 1500 */
	bool has_address;
	struct pshim6_conf_prefix address;  /* appliance's own address on the link (addr/len) */
	bool has_next_hop;
	struct in6_addr next_hop;           /* site router, for CMULAs not on-link */
	struct pshim6_conf_mac next_hop_mac;
};

/* isps = ( { name; pa_prefix; port; address; next_hop; next_hop_mac; mtu; weight; cost; probe (one or [..]); drain; } ) */
struct pshim6_conf_isp {
	char name[PSHIM6_CONF_NAME_MAX];    /* unique */
	struct pshim6_conf_prefix pa_prefix;/* len <= 64, unique, no overlap */
	char port[PSHIM6_CONF_DEVARGS_MAX];
	bool has_address;
	struct pshim6_conf_prefix address;  /* own address on the ISP link */
	struct in6_addr next_hop;           /* required */
	struct pshim6_conf_mac next_hop_mac;
	uint32_t mtu;                       /* 1280..9216, default 1500 */
	uint32_t weight;                    /* 0..1000, default 1; 0 = never chosen first */
	uint32_t cost;                      /* 0..1000000, default 0; lower preferred */
	unsigned n_probes;                  /* 0: no probe, the ISP always counts as working */
	struct in6_addr probes[PSHIM6_CONF_MAX_PROBES]; /* echo targets: any answering says the ISP works (needs address) */
	bool drain;                         /* default false; taken out as if its probes failed (maintenance) */
};

/* dataplane { channel; max_contexts; hba_hosts; punt_queue; natv6_flows; lcores;
 *             idle_polls; idle_sleep_us; pmtu; nd_reachable_ms; probe_interval_ms;
 *             probe_down_after; probe_up_after; eal_args; } */
struct pshim6_conf_dataplane {
	char channel[PSHIM6_CONF_PATH_MAX]; /* SOCK_SEQPACKET path, default /run/pshim6/dataplane.sock */
	uint32_t max_contexts;              /* 1..16777216, default 65536 */
	uint32_t hba_hosts;                 /* 1..1048576, default 1024 */
	uint32_t punt_queue;                /* packets, 16..65536, default 1024 */
	uint32_t natv6_flows;               /* NATv6 return paths kept, 64..16777216, default 65536 */
	unsigned n_lcores;                  /* 0 = DPDK default (main lcore only) */
	uint16_t lcores[PSHIM6_CONF_MAX_LCORES];
	uint32_t idle_polls;                /* empty polls before sleeping; 0 = busy poll; default 100 */
	uint32_t idle_sleep_us;             /* 1..100000, default 100 */
	enum pshim6_conf_pmtu_mode pmtu;    /* default both */
	uint32_t nd_reachable_ms;           /* learned next-hop MACs re-confirmed this often; 1000..3600000, default 30000 */
	uint32_t probe_interval_ms;         /* an ISP's probe every so often; 100..60000, default 1000 */
	uint32_t probe_down_after;          /* unanswered probes in a row that fail an ISP; 1..100, default 3 */
	uint32_t probe_up_after;            /* answered probes in a row that bring it back; 1..100, default 2 */
	unsigned n_eal_args;
	char eal_args[PSHIM6_CONF_MAX_EAL_ARGS][PSHIM6_CONF_NAME_MAX * 2];
};

/* shim6 { i1_timeout_ms; ... } -- RFC 5533 section 17 defaults */
struct pshim6_conf_shim6_timers {
	uint32_t i1_timeout_ms;             /* 4000 */
	uint32_t i1_retries;                /* 4 */
	uint32_t i2_timeout_ms;             /* 4000 */
	uint32_t i2_retries;                /* 2 */
	uint32_t i2bis_timeout_ms;          /* 4000 */
	uint32_t i2bis_retries;             /* 2 */
	uint32_t update_timeout_ms;         /* 4000 */
	uint32_t max_update_timeout_ms;     /* 120000, >= update_timeout_ms */
	uint32_t no_r1_holddown_ms;         /* 60000: NATv6 hold-down after failed handshake */
	uint32_t icmp_holddown_ms;          /* 600000 */
	uint32_t validator_lifetime_ms;     /* 30000 (VALIDATOR_MIN_LIFETIME) */
};

/* reap { send_timeout_ms; ... } -- RFC 5534 section 6 defaults */
struct pshim6_conf_reap_timers {
	uint32_t send_timeout_ms;           /* 10000 */
	uint32_t keepalive_interval_ms;     /* 3000 (about a third of send timeout), < send_timeout */
	uint32_t initial_probe_ms;          /* 500 */
	uint32_t initial_probes;            /* 4 */
	uint32_t max_probe_backoff_ms;      /* 60000, >= initial_probe_ms */
};

/* engine { max_contexts; max_pending; recovery_rate; recovery_burst; } */
struct pshim6_conf_engine {
	uint32_t max_contexts;              /* default 65536; <= dataplane.max_contexts */
	uint32_t max_pending;               /* handshakes in progress, default 1024 */
	uint32_t recovery_rate;             /* R1bis per second, default 100 */
	uint32_t recovery_burst;            /* default 200 */
};

/* te { ingress = "weights" | "prefer"; ingress_isp; groups; rules; } */
struct pshim6_conf_te_group {               /* groups = ( { name; prefixes = [..]; } ) */
	char name[PSHIM6_CONF_NAME_MAX];
	unsigned n_prefixes;
	struct pshim6_conf_prefix prefixes[PSHIM6_CONF_MAX_GROUP_PREFIXES]; /* inside sources */
};

/*
 * rules = ( { destination = "p/l"; group = "name"; isp = "name"; } or
 *           { destination = "p/l"; weights = { ispA = 3; ispB = 1; }; } )
 * First matching rule wins; a rule matches when every given match field
 * matches.  Without a match the ISP weights/costs apply.
 */
struct pshim6_conf_te_rule {
	bool has_destination;
	struct pshim6_conf_prefix destination;
	int group;                          /* index into te.groups, -1 = any */
	int isp;                            /* index into isps, -1 = use weights[] */
	uint32_t weights[PSHIM6_CONF_MAX_ISPS]; /* per ISP index, when isp == -1 */
	unsigned line;                      /* source line, for logs */
};

struct pshim6_conf_te {
	enum pshim6_conf_te_ingress ingress;
	int ingress_isp;                    /* ISP index for "prefer", else -1 */
	unsigned n_groups;
	struct pshim6_conf_te_group groups[PSHIM6_CONF_MAX_TE_GROUPS];
	unsigned n_rules;
	struct pshim6_conf_te_rule rules[PSHIM6_CONF_MAX_TE_RULES];
};

/* control { socket; socket_mode; socket_group; state_file; log_level; syslog; syslog_facility;
 *           hold_packets; hold_total; peer_cache; lease_table; isp_notify; } */
struct pshim6_conf_control {
	char socket[PSHIM6_CONF_PATH_MAX];  /* default /run/pshim6/control.sock */
	uint32_t socket_mode;               /* octal string "0600" (default); bits for "other" are rejected */
	char socket_group[32];              /* group owning the socket, "" (default) = the daemon's; needs mode 0660 */
	char state_file[PSHIM6_CONF_PATH_MAX]; /* default /var/lib/pshim6/control.state; "" = none */
	enum pshim6_conf_log_level log_level; /* "err".."debug", default info */
	bool syslog;                        /* false: stderr */
	char syslog_facility[16];           /* "daemon" (default), "local0".."local7" */
	uint32_t hold_packets;              /* first packets held per context, 1..256, default 8 */
	uint32_t hold_total;                /* held packets across all contexts, default 4096 */
	uint32_t peer_cache;                /* DNS ALG pushed peer-locator entries, default 65536 */
	uint32_t lease_table;               /* DHCP lease entries, default 65536 */
	char isp_notify[PSHIM6_CONF_PATH_MAX]; /* run on each ISP probe verdict change; "" (default) = none; absolute */
};

/* dnsalg { listen; port; upstreams; ulid_rrtype; cache_entries; max_inflight;
 *          timeout_ms; dnssec; control_socket; user; zone; tcp_clients;
 *          tcp_idle_ms; cookie_rotate_s; } */
struct pshim6_conf_dnsalg {
	bool enabled;                       /* section present */
	unsigned n_listen;
	struct in6_addr listen[PSHIM6_CONF_MAX_DNS_LISTEN]; /* default [::] */
	uint16_t port;                      /* default 53 */
	unsigned n_upstreams;               /* >= 1 when enabled */
	struct pshim6_conf_endpoint upstreams[PSHIM6_CONF_MAX_DNS_UPSTREAMS]; /* "addr" or "[addr]:port" */
	uint16_t ulid_rrtype;               /* 65280..65533, default 65300 */
	uint32_t cache_entries;             /* default 65536 */
	uint32_t max_inflight;              /* default 1024 */
	uint32_t timeout_ms;                /* upstream timeout, default 2000 */
	uint32_t tcp_clients;               /* concurrent TCP clients, default 64 */
	uint32_t tcp_idle_ms;               /* a TCP client's next query, whole, within this; default 10000 */
	uint32_t cookie_rotate_s;           /* cookie secret rollover, 0 (never) or 60..604800, default 3600 */
	enum pshim6_conf_dnssec_policy dnssec;
	char control_socket[PSHIM6_CONF_PATH_MAX]; /* default /run/pshim6/dnsalg.sock */
	char user[PSHIM6_CONF_NAME_MAX];    /* drop privileges to; "" = stay */
	char zone[PSHIM6_CONF_FQDN_MAX];    /* inside zone, e.g. "site1.example." (absolute) */
};

/* hosts = ( { name; cmula; hba = [ ... ]; pds = "<hex>"; } ) */
struct pshim6_conf_host {
	char name[PSHIM6_CONF_NAME_MAX];    /* label (relative to dnsalg.zone) or FQDN */
	struct in6_addr cmula;              /* inside a site CMULA prefix */
	unsigned n_hba;                     /* 0 = CGA host (prefix swap) */
	struct in6_addr hba[PSHIM6_CONF_MAX_HBA_SET]; /* one per PA prefix, each under an ISP prefix */
	/* CGA Parameter Data Structure of the cmula (pshim6-cga output, hex);
	 * needed for the proxy to sign for a static host.  0 = none: the host's
	 * PDS must then come from a DHCP lease. */
	unsigned pds_len;
	uint8_t pds[PSHIM6_CONF_PDS_MAX];
};

/* peers = ( { ulid; locators = [ ... ]; name; } )  static remote peers */
struct pshim6_conf_peer {
	struct in6_addr ulid;
	char name[PSHIM6_CONF_FQDN_MAX];    /* optional */
	unsigned n_locators;                /* >= 1 */
	struct in6_addr locators[PSHIM6_CONF_MAX_PEER_LOCATORS];
};

/* peer { role = "primary" | "backup"; address; alt_addresses; sources; port; key_file;
 *        heartbeat_ms; dead_ms; sync_interval_ms; replicate;
 *        sync_batch; yield_linger_ms; notify; notify_timeout_ms; } */
struct pshim6_conf_peer_proxy {
	enum pshim6_conf_peer_role role;    /* NONE when the section is absent */
	struct in6_addr address;            /* the other proxy (path 0, preferred for sync) */
	unsigned n_alt_addresses;           /* 0..PSHIM6_CONF_MAX_PEER_PATHS - 1 */
	struct in6_addr alt_addresses[PSHIM6_CONF_MAX_PEER_PATHS - 1]; /* its addresses on other paths */
	unsigned n_sources;                 /* 0 = the kernel picks, else 1 + n_alt_addresses */
	struct in6_addr sources[PSHIM6_CONF_MAX_PEER_PATHS]; /* ours on each path, in path order */
	uint16_t port;                      /* sync port (UDP), default 7340 */
	char key_file[PSHIM6_CONF_PATH_MAX];/* HMAC-SHA256 key shared by both proxies */
	uint32_t heartbeat_ms;              /* 200 */
	uint32_t dead_ms;                   /* 1000: silence before the backup takes over */
	uint32_t sync_interval_ms;          /* 10000: full sync period */
	bool replicate;                     /* true; false = heartbeats only */
	uint32_t sync_batch;                /* 256: full-sync messages sent per 10 ms tick */
	uint32_t yield_linger_ms;           /* 30000: a yielding backup forwards what it gave back */
	char notify[PSHIM6_CONF_PATH_MAX];  /* "" = none: run as NOTIFY <new> <old> <role> on role changes */
	uint32_t notify_timeout_ms;         /* 10000: a run still going then is killed; bounds the stop too */
};

/* dhcp { lease_file; } */
struct pshim6_conf_dhcp {
	char lease_file[PSHIM6_CONF_PATH_MAX]; /* Kea memfile CSV, "" = none */
};

struct pshim6_conf {
	char source[PSHIM6_CONF_PATH_MAX];  /* file it was loaded from */
	struct pshim6_conf_site site;
	struct pshim6_conf_inside inside;
	unsigned n_isps;                    /* 1..PSHIM6_CONF_MAX_ISPS; ISP index = order in file */
	struct pshim6_conf_isp isps[PSHIM6_CONF_MAX_ISPS];
	struct pshim6_conf_dataplane dataplane;
	struct pshim6_conf_shim6_timers shim6;
	struct pshim6_conf_reap_timers reap;
	struct pshim6_conf_engine engine;
	struct pshim6_conf_te te;
	struct pshim6_conf_control control;
	struct pshim6_conf_dnsalg dnsalg;
	unsigned n_hosts;
	struct pshim6_conf_host hosts[PSHIM6_CONF_MAX_HOSTS];
	unsigned n_peers;
	struct pshim6_conf_peer peers[PSHIM6_CONF_MAX_PEERS];
	struct pshim6_conf_peer_proxy peer;
	struct pshim6_conf_dhcp dhcp;
};

/* ---- API --------------------------------------------------------------- */

/*
 * Error sink: called once per error, with the file name and line of the
 * offending setting (line 0 when the error concerns the file as a whole).
 * `msg` has no trailing newline.
 */
typedef void (*pshim6_conf_error_fn)(void *arg, const char *file, unsigned line,
				     const char *msg);

/* A ready sink: prints "file:line: message\n" to the FILE* passed as arg
 * (stderr when arg is NULL). */
void pshim6_conf_error_print(void *arg, const char *file, unsigned line,
			     const char *msg);

/* Fill *c with every default (an otherwise empty, NOT valid config). */
void pshim6_conf_defaults(struct pshim6_conf *c);

/*
 * Load and validate `path` into *c.  Every error is reported through
 * `err(arg, ...)` (may be NULL); loading goes on past errors so that one run
 * shows them all.  Returns 0 when valid, -EINVAL when the file had errors
 * (syntax or schema), -ENOENT/-EACCES/-EIO when it could not be read.
 * *c holds defaults plus whatever parsed; use it only when 0 was returned.
 */
int pshim6_conf_load(const char *path, struct pshim6_conf *c,
		     pshim6_conf_error_fn err, void *arg);

/* Same, from a string in memory; `name` is used as the file in messages. */
int pshim6_conf_load_string(const char *text, const char *name,
			    struct pshim6_conf *c,
			    pshim6_conf_error_fn err, void *arg);

/* Print *c in normal form: a complete libconfig file that loads back to an
 * equal struct, every key explicit, sections in a fixed order. */
void pshim6_conf_print(FILE *f, const struct pshim6_conf *c);

/* ---- helpers ----------------------------------------------------------- */

/* Parse "addr/len" strictly (host bits must be zero).  0 or -EINVAL. */
int pshim6_conf_prefix_parse(const char *s, struct pshim6_conf_prefix *p);
/* Format "addr/len" into buf (>= INET6_ADDRSTRLEN + 4). */
const char *pshim6_conf_prefix_str(const struct pshim6_conf_prefix *p,
				   char *buf, size_t len);
bool pshim6_conf_prefix_contains(const struct pshim6_conf_prefix *p,
				 const struct in6_addr *a);
/* Same length and address. */
bool pshim6_conf_prefix_eq(const struct pshim6_conf_prefix *a, const struct pshim6_conf_prefix *b);
/* Whether `n` keeps the site's addressing of the running `o`, which the
 * dataplane takes only at its start, and so neither daemon at a reload:
 * site.cmula_prefixes, site.mode, the number of ISPs, each ISP's name and
 * pa_prefix.  0, or -1 with the first key that differs in `why`
 * ("site.mode", "isps[1].pa_prefix (y)"). */
int pshim6_conf_addressing_differs(const struct pshim6_conf *o, const struct pshim6_conf *n,
				   char *why, size_t len);
/* Index of the ISP named `name`, or -1. */
int pshim6_conf_isp_index(const struct pshim6_conf *c, const char *name);
/* Index of the ISP whose PA prefix contains `a`, or -1. */
int pshim6_conf_isp_of(const struct pshim6_conf *c, const struct in6_addr *a);
/* Index of the CMULA prefix containing `a`, or -1. */
int pshim6_conf_cmula_index(const struct pshim6_conf *c, const struct in6_addr *a);

const char *pshim6_conf_log_level_name(enum pshim6_conf_log_level l);

#ifdef __cplusplus
}
#endif
#endif /* PSHIM6_CONF_H */
