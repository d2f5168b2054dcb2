/* Entry points: defaults, load from a file or a string. */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include "schema.h"

void pshim6_conf_defaults(struct pshim6_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->site.mode = PSHIM6_ADDR_CGA;
	c->site.cga_sec = 1;

	snprintf(c->inside.name, sizeof c->inside.name, "pshim6-in");
	c->inside.mtu = 1500;

	snprintf(c->dataplane.channel, sizeof c->dataplane.channel, "/run/pshim6/dataplane.sock");
	c->dataplane.max_contexts = 65536;
	c->dataplane.hba_hosts = 1024;
	c->dataplane.punt_queue = 1024;
	c->dataplane.natv6_flows = 65536;
	c->dataplane.idle_polls = 100;
	c->dataplane.idle_sleep_us = 100;
	c->dataplane.pmtu = PSHIM6_PMTU_BOTH;
	c->dataplane.nd_reachable_ms = 30000;   /* RFC 4861 REACHABLE_TIME */
	c->dataplane.probe_interval_ms = 1000;
	c->dataplane.probe_down_after = 3;
	c->dataplane.probe_up_after = 2;

	/* RFC 5533 section 17 */
	c->shim6.i1_timeout_ms = 4000;
	c->shim6.i1_retries = 4;
	c->shim6.i2_timeout_ms = 4000;
	c->shim6.i2_retries = 2;
	c->shim6.i2bis_timeout_ms = 4000;
	c->shim6.i2bis_retries = 2;
	c->shim6.update_timeout_ms = 4000;
	c->shim6.max_update_timeout_ms = 120000;
	c->shim6.no_r1_holddown_ms = 60000;
	c->shim6.icmp_holddown_ms = 600000;
	c->shim6.validator_lifetime_ms = 30000;

	/* RFC 5534 section 6 */
	c->reap.send_timeout_ms = 10000;
	c->reap.keepalive_interval_ms = 3000;
	c->reap.initial_probe_ms = 500;
	c->reap.initial_probes = 4;
	c->reap.max_probe_backoff_ms = 60000;

	c->engine.max_contexts = 65536;
	c->engine.max_pending = 1024;
	c->engine.recovery_rate = 100;
	c->engine.recovery_burst = 200;

	c->te.ingress = PSHIM6_TE_INGRESS_WEIGHTS;
	c->te.ingress_isp = -1;

	snprintf(c->control.socket, sizeof c->control.socket, "/run/pshim6/control.sock");
	c->control.socket_mode = 0600;
	snprintf(c->control.state_file, sizeof c->control.state_file, "/var/lib/pshim6/control.state");
	c->control.log_level = PSHIM6_LOG_INFO;
	snprintf(c->control.syslog_facility, sizeof c->control.syslog_facility, "daemon");
	c->control.hold_packets = 8;
	c->control.hold_total = 4096;
	c->control.peer_cache = 65536;
	c->control.lease_table = 65536;

	c->dnsalg.n_listen = 1;
	c->dnsalg.listen[0] = in6addr_any;
	c->dnsalg.port = 53;
	c->dnsalg.ulid_rrtype = 65300;
	c->dnsalg.cache_entries = 65536;
	c->dnsalg.max_inflight = 1024;
	c->dnsalg.timeout_ms = 2000;
	c->dnsalg.tcp_clients = 64;
	c->dnsalg.tcp_idle_ms = 10000;
	c->dnsalg.cookie_rotate_s = 3600;
	c->dnsalg.dnssec = PSHIM6_DNSSEC_REWRITE_STRIP;
	snprintf(c->dnsalg.control_socket, sizeof c->dnsalg.control_socket, "/run/pshim6/dnsalg.sock");

	c->peer.role = PSHIM6_PEER_NONE;
	c->peer.port = 7340;
	c->peer.heartbeat_ms = 200;
	c->peer.dead_ms = 1000;
	c->peer.sync_interval_ms = 10000;
	c->peer.replicate = true;
	c->peer.sync_batch = 256;
	c->peer.yield_linger_ms = 30000;
	c->peer.notify_timeout_ms = 10000;
}

static int load_common(config_t *cf, int parsed, const char *name,
		       struct pshim6_conf *c, pshim6_conf_error_fn err, void *arg)
{
	struct ctx x = { .file = name, .err = err, .arg = arg, .c = c };

	pshim6_conf_defaults(c);
	snprintf(c->source, sizeof c->source, "%s", name);
	if (parsed != CONFIG_TRUE) {
		int rc = -EINVAL;
		char msg[512];
		if (config_error_type(cf) == CONFIG_ERR_FILE_IO) {
			rc = errno ? -errno : -EIO;
			snprintf(msg, sizeof msg, "cannot read: %s", strerror(-rc));
		} else {
			snprintf(msg, sizeof msg, "%s", config_error_text(cf));
		}
		if (err)
			err(arg, config_error_file(cf) ? config_error_file(cf) : name,
			    (unsigned)(config_error_line(cf) > 0 ? config_error_line(cf) : 0), msg);
		config_destroy(cf);
		return rc == -EINVAL || rc == 0 ? -EINVAL : rc;
	}
	x.buf = calloc(CONF_MAX_ERRORS, sizeof(*x.buf));
	conf_walk_section(&x, &pshim6_conf_root, config_root_setting(cf), c);
	conf_flush_errors(&x);   /* before destroy: messages point at file names in the tree */
	free(x.buf);
	config_destroy(cf);
	return x.nerr ? -EINVAL : 0;
}

int pshim6_conf_load(const char *path, struct pshim6_conf *c,
		     pshim6_conf_error_fn err, void *arg)
{
	config_t cf;
	char dir[PSHIM6_CONF_PATH_MAX];

	config_init(&cf);
	/* @include paths are relative to the including file, not the cwd */
	snprintf(dir, sizeof dir, "%s", path);
	config_set_include_dir(&cf, dirname(dir));
	errno = 0;
	int ok = config_read_file(&cf, path);
	return load_common(&cf, ok, path, c, err, arg);
}

int pshim6_conf_load_string(const char *text, const char *name,
			    struct pshim6_conf *c,
			    pshim6_conf_error_fn err, void *arg)
{
	config_t cf;
	/* A string has no directory to resolve @include against, and libconfig
	 * 1.5 cannot turn includes off; refuse them so that untrusted text can
	 * never make the loader open a file. */
	const char *inc = strstr(text, "@include");
	if (inc) {
		unsigned line = 1;
		for (const char *p = text; p < inc; p++)
			line += *p == '\n';
		pshim6_conf_defaults(c);
		if (err)
			err(arg, name, line, "@include is not allowed here");
		return -EINVAL;
	}
	config_init(&cf);
	int ok = config_read_string(&cf, text);
	return load_common(&cf, ok, name, c, err, arg);
}
