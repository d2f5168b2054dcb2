/* Logging: stderr or syslog, at the configured level.  Lines about a
 * context carry its tag as "ctx=<hex tag>" so `grep ctx=1a2b` follows one
 * context through the log. */
#ifndef PSHIM6_CONTROL_LOG_H
#define PSHIM6_CONTROL_LOG_H
#include <stdbool.h>
#include <stdint.h>
#include "pshim6/conf.h"

void log_setup(const char *ident, bool use_syslog, const char *facility,
	       enum pshim6_conf_log_level level);
void log_set_level(enum pshim6_conf_log_level level);
enum pshim6_conf_log_level log_get_level(void);

void log_msg(enum pshim6_conf_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A line about one context: prefixed "ctx=<tag> ".  Held back beyond 200 a
 * second (bursts of 1,000) below debug level; log_tick() reports how many. */
void log_ctx(enum pshim6_conf_log_level lvl, uint64_t tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...)     log_msg(PSHIM6_LOG_ERR, __VA_ARGS__)
#define log_warn(...)    log_msg(PSHIM6_LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_msg(PSHIM6_LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    log_msg(PSHIM6_LOG_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(PSHIM6_LOG_DEBUG, __VA_ARGS__)

/* A line of the same kind with no tag (the engine's, which name the context
 * in the text): held back with them. */
void log_bulk(enum pshim6_conf_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* From the main loop: report held-back lines once there is room again. */
void log_tick(void);
/* Context lines held back since start (counter log.ctx_held). */
uint64_t log_ctx_held(void);
/* Tests: the clock of the context-line bucket (NULL: CLOCK_MONOTONIC); resets it. */
void log_set_clock(uint64_t (*now_ns)(void));

/* True the 1st, 2nd, 4th, 8th... time: a warning that repeats (a peer or a
 * client doing the same wrong thing) is logged with its count n, not each
 * time. */
static inline bool log_nth(uint64_t n)
{
	return (n & (n - 1)) == 0;
}
/* lines emitted per level since start (for counters) */
uint64_t log_count(enum pshim6_conf_log_level lvl);
#endif
