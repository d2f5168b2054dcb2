/*
 * The text of one context as the state file and the primary/backup sync
 * carry it:
 *   ctx <own tag, 12+ hex> <local gen> <peer gen> <initiator 0|1> <loc>,<verif>,<flags>,<prio>,<weight>,<verified> ...
 * One writer for both.  Written by hand rather than with snprintf and
 * inet_ntop: at 1,000,000 contexts those took about nine tenths of a
 * save, and a save's length sets how far the file may lag behind the
 * contexts (state_pace.h).  The output is byte for byte what
 * snprintf("%012" PRIx64 ...) and inet_ntop() give; the unit suite and
 * fuzz_state_file compare the two.
 */
#ifndef PSHIM6_CONTROL_STATE_LINE_H
#define PSHIM6_CONTROL_STATE_LINE_H
#include <stddef.h>
#include <stdint.h>

struct ctl_state_ctx;

/* Room for an address's text: at most 39 octets (eight groups of four hex
 * digits; a dotted quad only follows zeros), kept at INET6_ADDRSTRLEN. */
#define STATE_ADDR_TEXT_MAX 46

/* RFC 5952 text of `a` as glibc's inet_ntop() writes it (lower-case hex, the
 * first longest run of two or more zero groups as "::", the IPv4-mapped and
 * IPv4-compatible forms as dotted quads); NUL-terminated, returns its length. */
size_t state_addr_text(const uint8_t a[16], char out[STATE_ADDR_TEXT_MAX]);

/* The line for `s`, without a newline, NUL-terminated: its length, or -1
 * when it needs `cap` octets or more (buf then holds "", and nothing is
 * written past buf[cap-1]). */
int state_line_format(const struct ctl_state_ctx *s, char *buf, size_t cap);
#endif
