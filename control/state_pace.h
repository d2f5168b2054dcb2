/*
 * When to rewrite control.state_file.  A save formats every established
 * context (0.7-2 us each: 67 ms at 100,000 contexts) on the daemon's
 * only thread, so saving after every batch of engine events would stall
 * REAP, the dataplane channel and the peer heartbeats for as long as a
 * burst of events lasts (an ISP failure moves every context).  Saves are
 * therefore coalesced: after a save that took D, the next one starts no
 * sooner than max(STATE_PACE_MIN_GAP, STATE_PACE_RATIO x D) later, so
 * saving never takes more than 1/(1 + STATE_PACE_RATIO) of the time, and a
 * small table is still saved within STATE_PACE_MIN_GAP of a change.  What a
 * crash can lose is the changes of that one gap; the next save covers them.
 * A save may run in the background (proxy.c forks for large tables): it
 * covers the changes made before it started, changes made while it runs
 * are held for the next one, and two never overlap.
 *
 * Sans-I/O: the caller passes `now` (ns) and the save's start and end.
 */
#ifndef PSHIM6_CONTROL_STATE_PACE_H
#define PSHIM6_CONTROL_STATE_PACE_H
#include <stdbool.h>
#include <stdint.h>

#define STATE_PACE_MIN_GAP 100000000ULL   /* ns between the end of a save and the next */
#define STATE_PACE_RATIO   9              /* idle time per unit of save time, at least */

struct state_pace {
	uint64_t next_ok;       /* earliest start of the next save (ns) */
	bool     pending;       /* a change no save has covered yet */
	bool     running;       /* a save started and not done */
	uint64_t saves, failed, coalesced, last_ns, max_ns;   /* coalesced: changes a later save wrote */
};

/* A context changed at `now`: true when the caller should save now (then
 * call state_pace_done), false when the save is held for state_pace_due(). */
static inline bool state_pace_changed(struct state_pace *p, uint64_t now)
{
	if (!p->running && now >= p->next_ok)
		return true;
	p->coalesced++;
	p->pending = true;
	return false;
}

/* When the held save is due (UINT64_MAX: none held, or one is running). */
static inline uint64_t state_pace_due(const struct state_pace *p)
{
	return p->pending && !p->running ? p->next_ok : UINT64_MAX;
}

/* A save starts: it writes every change made so far. */
static inline void state_pace_started(struct state_pace *p)
{
	p->running = true;
	p->pending = false;
}

/* The save that started at `start` ended at `end`; `ok` false: it failed,
 * so what it covered is held again. */
static inline void state_pace_done(struct state_pace *p, uint64_t start, uint64_t end, bool ok)
{
	uint64_t took = end > start ? end - start : 0;
	uint64_t gap = took * STATE_PACE_RATIO;
	p->next_ok = end + (gap > STATE_PACE_MIN_GAP ? gap : STATE_PACE_MIN_GAP);
	p->running = false;
	p->pending |= !ok;
	p->saves++;
	p->failed += !ok;
	p->last_ns = took;
	if (took > p->max_ns)
		p->max_ns = took;
}
#endif
