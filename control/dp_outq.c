/* The dataplane channel's output queue (dp_outq.h says why it exists). */
#include <stdlib.h>
#include <string.h>
#include "dp_outq.h"

#define KEEP_CAP (64u << 10)   /* a drained queue keeps this much; more goes back */

void dp_outq_init(struct dp_outq *q, size_t max)
{
	memset(q, 0, sizeof *q);
	q->max = max;
}

size_t dp_outq_bytes(const struct dp_outq *q)
{
	return q->tail - q->head;
}

int dp_outq_push(struct dp_outq *q, const uint8_t *msg, uint16_t len)
{
	size_t need = 2 + (size_t)len;
	if (dp_outq_bytes(q) + need > q->max)
		return -1;
	if (q->tail + need > q->cap) {
		/* slide the live records down first; grow only when that is not enough */
		size_t live = dp_outq_bytes(q);
		if (q->head && live + need <= q->cap) {
			memmove(q->buf, q->buf + q->head, live);
		} else {
			size_t cap = q->cap ? q->cap : KEEP_CAP;
			while (cap < live + need)
				cap *= 2;
			if (cap > q->max + KEEP_CAP)
				cap = q->max + KEEP_CAP;   /* never more than the bound allows */
			uint8_t *b = malloc(cap);
			if (!b)
				return -1;
			if (live)
				memcpy(b, q->buf + q->head, live);
			free(q->buf);
			q->buf = b;
			q->cap = cap;
		}
		q->head = 0;
		q->tail = live;
	}
	q->buf[q->tail] = (uint8_t)(len >> 8);
	q->buf[q->tail + 1] = (uint8_t)len;
	memcpy(q->buf + q->tail + 2, msg, len);
	q->tail += need;
	q->n++;
	q->queued++;
	if (dp_outq_bytes(q) > q->hwm)
		q->hwm = dp_outq_bytes(q);
	return 0;
}

const uint8_t *dp_outq_peek(const struct dp_outq *q, uint16_t *len)
{
	if (!q->n)
		return NULL;
	*len = (uint16_t)(q->buf[q->head] << 8 | q->buf[q->head + 1]);
	return q->buf + q->head + 2;
}

void dp_outq_pop(struct dp_outq *q)
{
	uint16_t len;
	if (!dp_outq_peek(q, &len))
		return;
	q->head += 2 + (size_t)len;
	if (--q->n)
		return;
	q->head = q->tail = 0;
	if (q->cap > KEEP_CAP) {
		/* a burst's memory goes back once it is out */
		free(q->buf);
		q->buf = NULL;
		q->cap = 0;
	}
}

void dp_outq_clear(struct dp_outq *q)
{
	q->head = q->tail = 0;
	q->n = 0;
	if (q->cap > KEEP_CAP) {
		free(q->buf);
		q->buf = NULL;
		q->cap = 0;
	}
}

void dp_outq_free(struct dp_outq *q)
{
	free(q->buf);
	q->buf = NULL;
	q->head = q->tail = q->cap = 0;
	q->n = 0;
}
