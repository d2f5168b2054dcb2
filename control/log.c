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

/*
 * Lines about single contexts (log_ctx, and the engine's through log_bulk)
 * come in floods: a takeover, a dump, an ISP
 * failure each touch every context at once, and a million lines would take
 * seconds to write and push everything else out of a rate-limited journal.
 * So they draw on a token bucket (CTX_RATE a second, bursts of CTX_BURST);
 * what it refuses is counted and reported in one line once it refills.
 * At debug level nothing is held back: the operator asked for everything.
 */
#define CTX_RATE  200u
#define CTX_BURST 1000u
#define NS        UINT64_C(1000000000)

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static uint64_t (*clock_ns)(void) = mono_ns;
static uint32_t tokens = CTX_BURST;
static uint64_t refilled_ns;
static uint64_t held, held_total;

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

void log_set_clock(uint64_t (*now)(void)) { clock_ns = now ? now : mono_ns; refilled_ns = 0; tokens = CTX_BURST; held = 0; }
uint64_t log_ctx_held(void) { return held_total; }

static void refill(void)
{
	uint64_t now = clock_ns();
	if (!refilled_ns) {
		refilled_ns = now;
		return;
	}
	uint64_t add = (now - refilled_ns) * CTX_RATE / NS;
	if (!add)
		return;
	tokens = add >= CTX_BURST - tokens ? CTX_BURST : tokens + (uint32_t)add;
	refilled_ns = tokens == CTX_BURST ? now : refilled_ns + add * NS / CTX_RATE;
}

static void report_held(void)
{
	uint64_t n = held;
	held = 0;
	log_msg(PSHIM6_LOG_NOTICE, "log: %llu lines about single contexts held back (more than %u a second, "
		"bursts of %u); counter log.ctx_held", (unsigned long long)n, CTX_RATE, CTX_BURST);
}

/* Whether a line of the flood-prone kind goes out (see CTX_RATE). */
static bool admit(enum pshim6_conf_log_level lvl)
{
	if (lvl > cur)
		return false;
	if (cur >= PSHIM6_LOG_DEBUG)
		return true;
	refill();
	if (!tokens) {
		held++;
		held_total++;
		return false;
	}
	tokens--;
	if (held)
		report_held();
	return true;
}

void log_tick(void)
{
	if (!held)
		return;
	refill();
	if (tokens)
		report_held();
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
	if (!admit(lvl))
		return;
	snprintf(p, sizeof p, "ctx=%012llx ", (unsigned long long)tag);
	va_start(ap, fmt);
	vlog(lvl, p, fmt, ap);
	va_end(ap);
}

void log_bulk(enum pshim6_conf_log_level lvl, const char *fmt, ...)
{
	va_list ap;
	if (!admit(lvl))
		return;
	va_start(ap, fmt);
	vlog(lvl, "", fmt, ap);
	va_end(ap);
}
