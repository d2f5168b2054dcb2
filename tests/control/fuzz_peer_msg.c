/* libFuzzer target: a datagram on the primary/backup sync port.  Two ways
 * in: the input as received (almost always stopped by the MAC, which must
 * never crash either), and the input with its length field and MAC made
 * right, so the fuzzer reaches the type, length and field checks and the
 * state-file line parser behind them (CTX and a full sync's SYNC_CTX).  Whatever decodes must encode back
 * and decode to the same message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "log.h"
#include "peer_msg.h"

static const uint8_t KEY[32] = "fuzz-key-fuzz-key-fuzz-key-fuzz!";
static uint8_t buf[PEER_MSG_MAX + 64], out[PEER_MSG_MAX];

static void same(const struct peer_msg *a, const struct peer_msg *b)
{
	if (a->type != b->type || a->role != b->role || a->state != b->state || a->session != b->session ||
	    a->echo != b->echo || a->seq != b->seq)
		abort();
	if (a->type == PEER_LEASE) {
		if (a->u.lease.len != b->u.lease.len || memcmp(a->u.lease.text, b->u.lease.text, a->u.lease.len))
			abort();
		return;
	}
	if (a->type == PEER_SYNC_CTX && a->sync_epoch != b->sync_epoch)
		abort();
	if (a->type != PEER_CTX && a->type != PEER_SYNC_CTX) {
		if (memcmp(&a->u, &b->u, sizeof a->u.hb) && a->u.del_tag != b->u.del_tag)
			abort();
		return;
	}
	const struct peer_ctx *x = &a->u.ctx, *y = &b->u.ctx;
	if (memcmp(x->local_ulid, y->local_ulid, 64) || x->own_tag != y->own_tag || x->peer_tag != y->peer_tag ||
	    x->forkid != y->forkid || x->isp != y->isp || x->flags != y->flags || x->st.own_tag != y->st.own_tag ||
	    x->st.local_gen != y->st.local_gen || x->st.peer_gen != y->st.peer_gen ||
	    x->st.initiator != y->st.initiator || x->st.npeer != y->st.npeer)
		abort();
	for (size_t i = 0; i < x->st.npeer; i++)
		if (memcmp(&x->st.peer_locs[i], &y->st.peer_locs[i], sizeof x->st.peer_locs[i]) ||
		    x->st.verified[i] != y->st.verified[i])
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	static struct peer_msg m, m2;
	if (!init) {
		log_set_level(PSHIM6_LOG_ERR);
		init = 1;
	}
	peer_msg_decode(data, size, KEY, sizeof KEY, &m);
	if (size > sizeof buf - PEER_MAC_LEN)
		return 0;
	/* the input is header + body; add a right length and MAC */
	size_t len = size + PEER_MAC_LEN;
	memcpy(buf, data, size);
	if (size >= 4) {
		buf[2] = (uint8_t)(len >> 8);
		buf[3] = (uint8_t)len;
	}
	unsigned int ol = 0;
	HMAC(EVP_sha256(), KEY, sizeof KEY, buf, size, buf + size, &ol);
	if (peer_msg_decode(buf, len, KEY, sizeof KEY, &m) != 0)
		return 0;
	int n = peer_msg_encode(&m, KEY, sizeof KEY, out, sizeof out);
	if (n < 0 || peer_msg_decode(out, (size_t)n, KEY, sizeof KEY, &m2) != 0)
		abort();
	same(&m, &m2);
	return 0;
}
