/* The hold queue (holdq.h). */
#include <stdlib.h>
#include <string.h>
#include "holdq.h"

static uint64_t ctx_id(const void *arg, uint32_t i)
{
	return ((const struct holdq *)arg)->ctx[i].id;
}

int holdq_init(struct holdq *q, uint32_t cap, uint64_t max_age)
{
	memset(q, 0, sizeof *q);
	q->pkt = calloc(cap ? cap : 1, sizeof *q->pkt);
	q->ctx = calloc(cap ? cap : 1, sizeof *q->ctx);
	if (!q->pkt || !q->ctx || tagidx_init(&q->ix, cap, ctx_id, q)) {
		free(q->pkt);
		free(q->ctx);
		memset(q, 0, sizeof *q);
		return -1;
	}
	q->cap = cap;
	q->max_age = max_age;
	q->head = q->tail = HOLDQ_NIL;
	for (uint32_t i = 0; i < cap; i++) {
		q->pkt[i].next = i + 1 < cap ? i + 1 : HOLDQ_NIL;
		q->ctx[i].head = i + 1 < cap ? i + 1 : HOLDQ_NIL;
	}
	q->free_pkt = q->free_ctx = cap ? 0 : HOLDQ_NIL;
	return 0;
}

void holdq_free(struct holdq *q)
{
	for (uint32_t i = q->head; q->pkt && i != HOLDQ_NIL; i = q->pkt[i].next)
		free(q->pkt[i].data);
	free(q->pkt);
	free(q->ctx);
	tagidx_free(&q->ix);
	memset(q, 0, sizeof *q);
}

static uint32_t find(const struct holdq *q, uint64_t id)
{
	uint32_t r = tagidx_find(&q->ix, id);
	return r ? r - 1 : HOLDQ_NIL;
}

uint32_t holdq_count(const struct holdq *q, uint64_t id)
{
	uint32_t r = find(q, id);
	return r == HOLDQ_NIL ? 0 : q->ctx[r].n;
}

int holdq_add(struct holdq *q, uint64_t id, const uint8_t *data, uint32_t len, uint64_t now, uint32_t limit)
{
	if (q->n >= q->cap)
		return HOLDQ_EFULL;
	uint32_t r = find(q, id);
	q->visits++;
	if ((r == HOLDQ_NIL ? 0 : q->ctx[r].n) >= limit)
		return HOLDQ_ELIMIT;
	uint8_t *copy = malloc(len ? len : 1);   /* malloc(0) may say NULL */
	if (!copy)
		return HOLDQ_ENOMEM;
	memcpy(copy, data, len);
	if (r == HOLDQ_NIL) {
		/* fewer than cap packets, so fewer than cap contexts: one is free */
		r = q->free_ctx;
		q->free_ctx = q->ctx[r].head;
		q->ctx[r] = (struct holdq_ctx){ .id = id, .head = HOLDQ_NIL, .tail = HOLDQ_NIL };
		tagidx_set(&q->ix, id, r);
	}
	uint32_t p = q->free_pkt;
	q->free_pkt = q->pkt[p].next;
	q->visits++;
	q->pkt[p] = (struct holdq_pkt){ .at = now, .data = copy, .len = len,
					.prev = q->tail, .next = HOLDQ_NIL, .cnext = HOLDQ_NIL, .ctx = r };
	if (q->tail == HOLDQ_NIL)
		q->head = p;
	else
		q->pkt[q->tail].next = p;
	q->tail = p;
	struct holdq_ctx *c = &q->ctx[r];
	if (c->tail == HOLDQ_NIL)
		c->head = p;
	else
		q->pkt[c->tail].cnext = p;
	c->tail = p;
	c->n++;
	q->n++;
	return 0;
}

/* The caller has taken it off its context's chain. */
static void drop_pkt(struct holdq *q, uint32_t p)
{
	struct holdq_pkt *k = &q->pkt[p];
	if (k->prev == HOLDQ_NIL)
		q->head = k->next;
	else
		q->pkt[k->prev].next = k->next;
	if (k->next == HOLDQ_NIL)
		q->tail = k->prev;
	else
		q->pkt[k->next].prev = k->prev;
	free(k->data);
	k->data = NULL;
	k->next = q->free_pkt;
	q->free_pkt = p;
	q->n--;
	q->visits++;
}

static void drop_ctx(struct holdq *q, uint32_t r)
{
	tagidx_del(&q->ix, q->ctx[r].id);   /* reads the id: before the record goes */
	q->ctx[r].head = q->free_ctx;
	q->free_ctx = r;
}

uint32_t holdq_release(struct holdq *q, uint64_t id,
		       void (*send)(void *arg, const uint8_t *data, uint32_t len), void *arg)
{
	uint32_t r = find(q, id);
	if (r == HOLDQ_NIL)
		return 0;
	uint32_t n = q->ctx[r].n, p = q->ctx[r].head;
	drop_ctx(q, r);
	while (p != HOLDQ_NIL) {
		uint32_t next = q->pkt[p].cnext;
		if (send)
			send(arg, q->pkt[p].data, q->pkt[p].len);
		drop_pkt(q, p);
		p = next;
	}
	return n;
}

/* The FIFO's front is the oldest packet of its context too: the front of
 * that context's chain. */
uint32_t holdq_expire(struct holdq *q, uint64_t now)
{
	uint32_t n = 0;
	while (q->head != HOLDQ_NIL && now - q->pkt[q->head].at >= q->max_age) {
		uint32_t p = q->head, r = q->pkt[p].ctx;
		struct holdq_ctx *c = &q->ctx[r];
		c->head = q->pkt[p].cnext;
		if (c->head == HOLDQ_NIL)
			c->tail = HOLDQ_NIL;
		if (!--c->n)
			drop_ctx(q, r);
		drop_pkt(q, p);
		n++;
	}
	return n;
}

uint64_t holdq_deadline(const struct holdq *q)
{
	return q->head == HOLDQ_NIL ? UINT64_MAX : q->pkt[q->head].at + q->max_age;
}
