/*
 * pshim6ctl: ask pshim6-control over its socket.  Human output by default
 * (the daemon renders it), the daemon's JSON line with --json.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "json.h"
#include "pshim6/conf.h"

#define DEFAULT_CONF "/etc/pshim6/pshim6.conf"
#define DEFAULT_SOCK "/run/pshim6/control.sock"

static void usage(FILE *f)
{
	fprintf(f,
"usage: pshim6ctl [-c file] [-s socket] [-j] command [arguments]\n"
"\n"
"Query and steer pshim6-control.\n"
"\n"
"commands:\n"
"  status                          daemon, dataplane, tables and per-ISP summary\n"
"  contexts [state S] [isp NAME] [peer ULID] [host ULID] [limit N]\n"
"                                  list contexts, filtered (S: established, i1-sent, ...)\n"
"  context TAG                     one context by its tag (hex)\n"
"  context LOCAL-ULID REMOTE-ULID  one context by its ULID pair\n"
"  counters                        every counter of the daemon and the dataplane\n"
"  config check [FILE]             have the daemon check FILE (default: its own)\n"
"  reload                          reload the configuration (as SIGHUP); a bad\n"
"                                  file is refused and the running one kept\n"
"  resync                          compare the dataplane's context table with\n"
"                                  control's and bring it back to it (as after\n"
"                                  every reconnect); the counters dpchan.resync_*\n"
"                                  and the log say what differed\n"
"\n"
"options:\n"
"  -c file     configuration to read control.socket from (default " DEFAULT_CONF ")\n"
"  -s socket   control socket path (overrides -c)\n"
"  -j, --json  print the daemon's JSON reply line instead of text\n"
"  -h          this help\n"
"\n"
"Exit status: 0 success, 1 the daemon refused or reported an error, 2 usage,\n"
"3 the daemon could not be reached.  See pshim6ctl(8).\n");
}

static void add_str(char *buf, size_t cap, const char *key, const char *val)
{
	size_t n = strlen(buf);
	snprintf(buf + n, cap - n, ",\"%s\":\"", key);
	for (const char *p = val; *p; p++) {
		n = strlen(buf);
		if (n + 8 >= cap)
			break;
		if (*p == '"' || *p == '\\')
			snprintf(buf + n, cap - n, "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			snprintf(buf + n, cap - n, "\\u%04x", *p);
		else
			snprintf(buf + n, cap - n, "%c", *p);
	}
	n = strlen(buf);
	snprintf(buf + n, cap - n, "\"");
}

int main(int argc, char **argv)
{
	const char *conf = DEFAULT_CONF, *sock = NULL;
	bool json = false;
	static const struct option lo[] = { { "json", no_argument, NULL, 'j' },
					    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	int ch;
	while ((ch = getopt_long(argc, argv, "+c:s:jh", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		case 's': sock = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}

	char req[4096];
	snprintf(req, sizeof req, "{\"cmd\":\"%s\"", "");
	const char *cmd = argv[0];
	if (!strcmp(cmd, "status") || !strcmp(cmd, "counters") || !strcmp(cmd, "reload") ||
	    !strcmp(cmd, "resync")) {
		if (argc != 1) { usage(stderr); return 2; }
		snprintf(req, sizeof req, "{\"cmd\":\"%s\"", cmd);
	} else if (!strcmp(cmd, "contexts")) {
		snprintf(req, sizeof req, "{\"cmd\":\"contexts\"");
		if ((argc - 1) % 2) { usage(stderr); return 2; }
		for (int i = 1; i < argc; i += 2) {
			if (!strcmp(argv[i], "limit")) {
				char *e;
				long v = strtol(argv[i + 1], &e, 10);
				if (*e || v <= 0) { fprintf(stderr, "pshim6ctl: bad limit\n"); return 2; }
				size_t n = strlen(req);
				snprintf(req + n, sizeof req - n, ",\"limit\":%ld", v);
			} else if (!strcmp(argv[i], "state") || !strcmp(argv[i], "isp") ||
				   !strcmp(argv[i], "peer") || !strcmp(argv[i], "host")) {
				add_str(req, sizeof req, argv[i], argv[i + 1]);
			} else {
				fprintf(stderr, "pshim6ctl: unknown filter '%s'\n", argv[i]);
				return 2;
			}
		}
	} else if (!strcmp(cmd, "context")) {
		snprintf(req, sizeof req, "{\"cmd\":\"context\"");
		if (argc == 2)
			add_str(req, sizeof req, "tag", argv[1]);
		else if (argc == 3) {
			add_str(req, sizeof req, "local", argv[1]);
			add_str(req, sizeof req, "remote", argv[2]);
		} else { usage(stderr); return 2; }
	} else if (!strcmp(cmd, "config") && argc >= 2 && !strcmp(argv[1], "check") && argc <= 3) {
		snprintf(req, sizeof req, "{\"cmd\":\"config-check\"");
		if (argc == 3) {
			char *abs = realpath(argv[2], NULL);
			add_str(req, sizeof req, "file", abs ? abs : argv[2]);
			free(abs);
		}
	} else {
		usage(stderr);
		return 2;
	}
	size_t n = strlen(req);
	snprintf(req + n, sizeof req - n, "%s}\n", json ? "" : ",\"text\":true");

	static struct pshim6_conf c;
	if (!sock) {
		sock = DEFAULT_SOCK;
		if (pshim6_conf_load(conf, &c, NULL, NULL) == 0)
			sock = c.control.socket;
	}
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof sun.sun_path) {
		fprintf(stderr, "pshim6ctl: socket path too long\n");
		return 3;
	}
	strcpy(sun.sun_path, sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		fprintf(stderr, "pshim6ctl: cannot reach pshim6-control at %s: %s\n", sock, strerror(errno));
		return 3;
	}
	size_t len = strlen(req), off = 0;
	while (off < len) {
		ssize_t w = write(fd, req + off, len - off);
		if (w < 0) {
			fprintf(stderr, "pshim6ctl: write: %s\n", strerror(errno));
			return 3;
		}
		off += (size_t)w;
	}
	size_t cap = 65536, got = 0;
	char *rep = malloc(cap);
	for (;;) {
		if (!rep)
			return 3;
		if (got + 1 == cap) {
			char *nrep = realloc(rep, cap * 2);
			if (!nrep) { free(rep); return 3; }
			rep = nrep;
			cap *= 2;
		}
		ssize_t r = read(fd, rep + got, cap - got - 1);
		if (r <= 0)
			break;
		got += (size_t)r;
		if (memchr(rep + got - (size_t)r, '\n', (size_t)r))
			break;
	}
	close(fd);
	rep[got] = 0;
	if (!got) {
		fprintf(stderr, "pshim6ctl: no reply from pshim6-control\n");
		return 3;
	}
	bool ok = strncmp(rep, "{\"ok\":true", 10) == 0;
	if (json) {
		fputs(rep, stdout);
		free(rep);
		return ok ? 0 : 1;
	}
	if (ok) {
		const char *t = strstr(rep, ",\"text\":\"");
		char *txt = t ? json_str_dup(t + 9, NULL) : NULL;
		fputs(txt ? txt : rep, stdout);
		free(txt);
	} else {
		const char *e = strstr(rep, "\"error\":\"");
		char *msg = e ? json_str_dup(e + 9, NULL) : NULL;
		fprintf(stderr, "pshim6ctl: %s\n", msg ? msg : rep);
		free(msg);
		const char *p = strstr(rep, "\"errors\":[");
		if (p) {
			p += 10;
			while (*p == '"' || *p == ',') {
				if (*p == ',') { p++; continue; }
				const char *end;
				char *line = json_str_dup(p + 1, &end);
				if (line)
					fprintf(stderr, "%s\n", line);
				free(line);
				p = *end ? end + 1 : end;
			}
		}
	}
	free(rep);
	return ok ? 0 : 1;
}
