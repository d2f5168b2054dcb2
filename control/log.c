#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include "log.h"

static bool to_syslog;
static enum pshim6_conf_log_level cur = PSHIM6_LOG_INFO;
static const char *ident_s = "pshim6-control";
static uint64_t counts[8];

static int facility_of(const char *f)
{
	static const struct { const char *n; int v; } t[] = {
		{ "daemon", LOG_DAEMON }, { "user", LOG_USER }, { "local0", LOG_LOCAL0 },
		{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
		{ "local7", LOG_LOCAL7 } };
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (f && !strcmp(f, t[i].n))
			return t[i].v;
	return LOG_DAEMON;
}

void log_setup(const char *ident, bool use_syslog, const char *facility,
	       enum pshim6_conf_log_level level)
{
	if (to_syslog && !use_syslog)
		closelog();
	ident_s = ident;
	to_syslog = use_syslog;
	cur = level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, facility_of(facility));
}

void log_set_level(enum pshim6_conf_log_level level) { cur = level; }
enum pshim6_conf_log_level log_get_level(void) { return cur; }
uint64_t log_count(enum pshim6_conf_log_level l) { return counts[l & 7]; }

static void vlog(enum pshim6_conf_log_level lvl, const char *prefix, const char *fmt, va_list ap)
{
	if (lvl > cur)
		return;
	counts[lvl & 7]++;
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (to_syslog) {
		syslog((int)lvl, "%s%s", prefix, msg);
		return;
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld %s %s: %s%s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
		ts.tv_nsec / 1000000, ident_s, pshim6_conf_log_level_name(lvl), prefix, msg);
}

void log_msg(enum pshim6_conf_log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(lvl, "", fmt, ap);
	va_end(ap);
}

void log_ctx(enum pshim6_conf_log_level lvl, uint64_t tag, const char *fmt, ...)
{
	char p[32];
	va_list ap;
	snprintf(p, sizeof p, "ctx=%012llx ", (unsigned long long)tag);
	va_start(ap, fmt);
	vlog(lvl, p, fmt, ap);
	va_end(ap);
}
