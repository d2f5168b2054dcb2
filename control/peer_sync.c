/* Paced full syncs and their completeness (peer_sync.h). */
#include "peer_sync.h"
#include <stdlib.h>
#include <string.h>

#define MS UINT64_C(1000000)

void peer_sync_tx_start(struct peer_sync_tx *t, uint32_t epoch, uint32_t n, uint32_t nctx, uint64_t owner,
			uint64_t now)
{
	peer_sync_tx_abort(t);
	t->on = true;
	t->begun = false;
	t->epoch = epoch;
	t->n = n;
	t->nctx = nctx <= n ? nctx : n;
	t->pos = 0;
	t->sent = 0;
	t->batches = 0;
	t->owner = owner;
	t->started_ns = now;
	t->next_ns = now;
	t->st.started++;
}

void peer_sync_tx_abort(struct peer_sync_tx *t)
{
	if (t->on)
		t->st.aborted++;
	t->on = false;
}

int peer_sync_tx_step(struct peer_sync_tx *t, uint64_t now, uint32_t batch, const struct peer_sync_io *io)
{
	if (!t->on || now < t->next_ns)
		return 0;
	if (!batch)
		batch = 1;
	uint32_t budget = batch;
	/* gone items cost no message but are bounded too, so a table that
	 * emptied meanwhile is not walked in one go */
	uint64_t looks = (uint64_t)batch * PEER_SYNC_LOOK_MAX;
	t->batches++;
	t->st.batches++;
	if (!t->begun) {
		io->begin(io->arg, t->epoch, t->nctx);
		t->begun = true;
		budget--;
	}
	while (t->pos < t->n && budget && looks) {
		looks--;
		switch (io->item(io->arg, t->epoch, t->pos++)) {
		case PEER_SYNC_SENT_CTX:
			t->sent++;
			/* fall through */
		case PEER_SYNC_SENT_OTHER:
			t->st.items_sent++;
			budget--;
			break;
		case PEER_SYNC_GONE:
			t->st.items_gone++;
			break;
		case PEER_SYNC_FAILED:
			t->st.items_failed++;
			budget--;
			break;
		}
	}
	if (t->pos < t->n || !budget) {
		/* more to send, or END does not fit this batch */
		t->next_ns = now + PEER_SYNC_TICK_NS;
		return 0;
	}
	io->end(io->arg, t->epoch, t->sent);
	t->on = false;
	t->st.completed++;
	t->st.last_ms = (now - t->started_ns) / MS;
	t->st.last_batches = t->batches;
	return 1;
}

uint64_t peer_sync_tx_deadline(const struct peer_sync_tx *t)
{
	return t->on ? t->next_ns : UINT64_MAX;
}

/* ---- receiver ------------------------------------------------------------- */

void peer_sync_rx_begin(struct peer_sync_rx *r, uint32_t epoch, uint32_t contexts, uint64_t now)
{
	peer_sync_rx_cut(r);
	r->in_sync = true;
	r->gap = false;
	r->epoch = epoch;
	r->expect = contexts;
	r->count = 0;
	r->began_ns = now;
	r->st.begun++;
	r->gen = r->gen % (UINT32_MAX - 1) + 1;   /* 1 .. UINT32_MAX - 1: gen + 1 is never 0 */
}

bool peer_sync_rx_ctx(struct peer_sync_rx *r, uint32_t epoch)
{
	if (!r->in_sync || epoch != r->epoch) {
		r->st.ctx_stray++;
		return false;
	}
	r->count++;
	return true;
}

int peer_sync_rx_end(struct peer_sync_rx *r, uint32_t epoch, uint32_t sent)
{
	bool whole = r->in_sync && epoch == r->epoch && sent == r->count && !r->gap && sent <= r->expect;
	r->in_sync = false;
	if (!whole) {
		r->st.incomplete++;
		return 0;
	}
	r->done = epoch;
	r->lost_since_done = false;
	r->st.whole++;
	return 1;
}

void peer_sync_rx_lost(struct peer_sync_rx *r, uint64_t n)
{
	if (!n)
		return;
	r->st.lost += n;
	r->gap = true;
	r->lost_since_done = true;
}

void peer_sync_rx_cut(struct peer_sync_rx *r)
{
	if (r->in_sync)
		r->st.incomplete++;
	r->in_sync = false;
}

void peer_sync_rx_reset(struct peer_sync_rx *r)
{
	peer_sync_rx_cut(r);
	r->done = 0;
	r->lost_since_done = false;
}

bool peer_sync_rx_complete(const struct peer_sync_rx *r)
{
	return r->done && !r->lost_since_done;
}

int peer_sync_rx_apply(struct peer_sync_rx *r, struct peer_table *t, const struct peer_msg *m, bool keep,
		       uint64_t now, uint32_t *pruned)
{
	*pruned = 0;
	switch (m->type) {
	case PEER_SYNC_CTX:
		peer_sync_rx_ctx(r, m->sync_epoch);
		/* fall through */
	case PEER_CTX:
		if (keep)
			peer_table_put(t, &m->u.ctx, r->gen, now);
		return 0;
	case PEER_CTX_DEL:
		peer_table_del(t, m->u.del_tag);
		return 0;
	case PEER_SYNC_BEGIN:
		peer_sync_rx_begin(r, m->u.sync.epoch, m->u.sync.count, now);
		return 0;
	case PEER_SYNC_END:
		if (!peer_sync_rx_end(r, m->u.sync.epoch, m->u.sync.count))
			return 0;   /* something was lost: keep everything, the next sync prunes */
		*pruned = peer_table_prune(t, r->gen);   /* END whole: r->gen is its BEGIN's */
		return 1;
	default:
		return 0;
	}
}

/* ---- updates queued for pacing -------------------------------------------- */

int peer_updq_init(struct peer_updq *q, uint32_t cap)
{
	memset(q, 0, sizeof *q);
	q->tags = calloc(cap ? cap : 1, sizeof *q->tags);
	if (!q->tags)
		return -1;
	q->cap = cap ? cap : 1;
	return 0;
}

void peer_updq_free(struct peer_updq *q)
{
	free(q->tags);
	memset(q, 0, sizeof *q);
}

int peer_updq_push(struct peer_updq *q, uint64_t tag)
{
	if (q->n == q->cap) {
		q->st.full++;
		return -1;
	}
	q->tags[(q->head + q->n++) % q->cap] = tag;
	q->st.queued++;
	return 0;
}

void peer_updq_clear(struct peer_updq *q)
{
	q->st.dropped += q->n;
	q->head = q->n = 0;
}

uint32_t peer_updq_step(struct peer_updq *q, uint64_t now, uint32_t batch,
			enum peer_sync_item (*send)(void *arg, uint64_t tag), void *arg)
{
	if (!q->n || now < q->next_ns)
		return 0;
	if (!batch)
		batch = 1;
	uint32_t budget = batch;
	uint64_t looks = (uint64_t)batch * PEER_SYNC_LOOK_MAX;
	q->st.batches++;
	while (q->n && budget && looks) {
		looks--;
		uint64_t tag = q->tags[q->head];
		q->head = (q->head + 1) % q->cap;
		q->n--;
		switch (send(arg, tag)) {
		case PEER_SYNC_SENT_CTX:
		case PEER_SYNC_SENT_OTHER:
			q->st.sent++;
			budget--;
			break;
		case PEER_SYNC_GONE:
			q->st.gone++;
			break;
		case PEER_SYNC_FAILED:
			q->st.failed++;
			budget--;
			break;
		}
	}
	if (!q->n)
		q->head = 0;
	q->next_ns = now + PEER_SYNC_TICK_NS;
	return batch - budget;
}

uint64_t peer_updq_deadline(const struct peer_updq *q)
{
	return q->n ? q->next_ns : UINT64_MAX;
}

uint32_t peer_sync_batch_step(uint32_t conf)
{
	return conf / 16 ? conf / 16 : 1;
}

uint32_t peer_sync_batch_adapt(uint32_t cur, uint32_t conf, bool received)
{
	if (!conf)
		conf = 1;
	if (!cur || cur > conf)
		cur = conf;
	/* the floor is the step: random loss on the link (which no batch size
	 * cures) slows syncs down sixteenfold at most */
	uint32_t step = peer_sync_batch_step(conf);
	if (!received)
		return cur / 2 > step ? cur / 2 : step;
	return conf - cur > step ? cur + step : conf;
}

bool peer_sync_batch_fits(uint32_t batch, int rcvbuf)
{
	return rcvbuf > 0 && (uint64_t)batch * PEER_SYNC_TRUESIZE <= (uint64_t)rcvbuf;
}
