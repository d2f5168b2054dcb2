/*
 * Datagrams for the dataplane that its socket did not take yet.
 *
 * Why a queue: the dataplane answers every request on the same channel, so
 * a control daemon that blocked in send() while a burst of its own writes
 * (a takeover of thousands of replicas, a mass relocation) left the answers
 * unread would wait for a dataplane blocked in its own send() of those
 * answers: both stall for good.  Sends never block; what the socket refuses
 * waits here, in order, and goes out when poll() says the socket has room,
 * while the answers keep being read.
 *
 * Bounded: a push past `max` octets fails and queues nothing; the caller
 * then resets the channel (a dataplane that takes nothing for that long is
 * not reading).  Memory is taken as the queue grows and given back when it
 * drains.  Sans-I/O: records are opaque octet strings.
 */
#ifndef PSHIM6_CONTROL_DP_OUTQ_H
#define PSHIM6_CONTROL_DP_OUTQ_H
#include <stddef.h>
#include <stdint.h>

struct dp_outq {
	uint8_t *buf;
	size_t head, tail, cap;     /* records in buf[head, tail): u16 length, then the octets */
	size_t max;                 /* most octets queued (records and their length fields) */
	uint32_t n;                 /* records queued */
	uint64_t queued, hwm;       /* records that ever waited; most octets ever queued */
};

void dp_outq_init(struct dp_outq *q, size_t max);
/* 0, or -1: it would pass the bound, or no memory (nothing queued). */
int dp_outq_push(struct dp_outq *q, const uint8_t *msg, uint16_t len);
/* The oldest record, or NULL when empty. */
const uint8_t *dp_outq_peek(const struct dp_outq *q, uint16_t *len);
void dp_outq_pop(struct dp_outq *q);
/* Octets queued now. */
size_t dp_outq_bytes(const struct dp_outq *q);
/* Drop everything; the counters and the bound stay. */
void dp_outq_clear(struct dp_outq *q);
/* The same, and the memory goes back too (the channel closed). */
void dp_outq_free(struct dp_outq *q);
#endif
