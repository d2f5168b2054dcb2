/* dpmsg codec: fixed layouts per type, big-endian, exact body lengths. */
#include "pshim6/dpmsg.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct wbuf { uint8_t *p; size_t cap, len; int err; };
struct rbuf { const uint8_t *p; size_t len, off; int err; };

static void w_bytes(struct wbuf *w, const void *src, size_t n)
{
	if (w->err)
		return;
	if (w->cap - w->len < n) {
		w->err = DPMSG_E_NOSPACE;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}
static void w_u8(struct wbuf *w, uint8_t v) { w_bytes(w, &v, 1); }
static void w_u16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	w_bytes(w, b, 2);
}
static void w_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	w_bytes(w, b, 4);
}
static void w_u64(struct wbuf *w, uint64_t v)
{
	w_u32(w, (uint32_t)(v >> 32));
	w_u32(w, (uint32_t)v);
}

/* After the first short read every read yields zeros: no field is ever
 * left indeterminate, though the caller discards them all on r->err. */
static void r_bytes(struct rbuf *r, void *dst, size_t n)
{
	if (r->err || r->len - r->off < n) {
		if (!r->err)
			r->err = DPMSG_E_LEN;
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, r->p + r->off, n);
	r->off += n;
}
static uint8_t r_u8(struct rbuf *r) { uint8_t v = 0; r_bytes(r, &v, 1); return v; }
static uint16_t r_u16(struct rbuf *r)
{
	uint8_t b[2];
	r_bytes(r, b, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}
static uint32_t r_u32(struct rbuf *r)
{
	uint8_t b[4];
	r_bytes(r, b, 4);
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
static uint64_t r_u64(struct rbuf *r)
{
	uint64_t hi = r_u32(r);
	return hi << 32 | r_u32(r);
}

static void w_ctx(struct wbuf *w, const struct dpmsg_ctx *c)
{
	w_bytes(w, c->local_ulid, 16);
	w_bytes(w, c->remote_ulid, 16);
	w_bytes(w, c->local_loc, 16);
	w_bytes(w, c->remote_loc, 16);
	w_u64(w, c->peer_tag);
	w_u64(w, c->own_tag);
	w_u32(w, c->fii);
	w_u32(w, c->flags);
	w_u8(w, c->isp);
}
static void r_ctx(struct rbuf *r, struct dpmsg_ctx *c)
{
	r_bytes(r, c->local_ulid, 16);
	r_bytes(r, c->remote_ulid, 16);
	r_bytes(r, c->local_loc, 16);
	r_bytes(r, c->remote_loc, 16);
	c->peer_tag = r_u64(r);
	c->own_tag = r_u64(r);
	c->fii = r_u32(r);
	c->flags = r_u32(r);
	c->isp = r_u8(r);
	if (!r->err && ((c->peer_tag & ~DPMSG_TAG_MASK) || (c->own_tag & ~DPMSG_TAG_MASK) ||
			c->isp >= DPMSG_MAX_ISP))
		r->err = DPMSG_E_FIELD;
}
static void w_host(struct wbuf *w, const struct dpmsg_host *h)
{
	w_bytes(w, h->cmula, 16);
	w_u8(w, h->nloc);
	for (int i = 0; i < DPMSG_MAX_ISP; i++)
		w_bytes(w, h->loc[i], 16);
}
static void r_host(struct rbuf *r, struct dpmsg_host *h)
{
	r_bytes(r, h->cmula, 16);
	h->nloc = r_u8(r);
	for (int i = 0; i < DPMSG_MAX_ISP; i++)
		r_bytes(r, h->loc[i], 16);
	if (!r->err && h->nloc > DPMSG_MAX_ISP)
		r->err = DPMSG_E_FIELD;
}

static int check_ctx_out(const struct dpmsg_ctx *c)
{
	if ((c->peer_tag & ~DPMSG_TAG_MASK) || (c->own_tag & ~DPMSG_TAG_MASK) || c->isp >= DPMSG_MAX_ISP)
		return DPMSG_E_FIELD;
	return 0;
}

int dpmsg_encode(const struct dpmsg *m, uint8_t *buf, size_t cap)
{
	struct wbuf w = { buf, cap < DPMSG_MAX_LEN ? cap : DPMSG_MAX_LEN, 0, 0 };
	int rc;

	w_u8(&w, DPMSG_VERSION);
	w_u8(&w, m->type);
	w_u16(&w, 0); /* length, patched below */
	w_u32(&w, m->seq);
	switch (m->type) {
	case DPMSG_HELLO:
		w_u16(&w, m->u.hello.version);
		w_u16(&w, m->u.hello.role);
		w_u32(&w, m->u.hello.ctx_capacity);
		w_u32(&w, m->u.hello.host_capacity);
		w_u16(&w, m->u.hello.n_lcores);
		w_u16(&w, m->u.hello.n_isp);
		w_u64(&w, m->u.hello.boot_id);
		break;
	case DPMSG_ACK:
		break;
	case DPMSG_ERROR: {
		char text[DPMSG_ERRTEXT_MAX] = { 0 };
		size_t n = strnlen(m->u.error.text, DPMSG_ERRTEXT_MAX);
		memcpy(text, m->u.error.text, n);
		w_u32(&w, (uint32_t)m->u.error.code);
		w_bytes(&w, text, sizeof(text));
		break;
	}
	case DPMSG_CTX_ADD:
	case DPMSG_CTX_DEL:
	case DPMSG_DUMP_CTX:
		if ((rc = check_ctx_out(&m->u.ctx)) < 0)
			return rc;
		w_ctx(&w, &m->u.ctx);
		break;
	case DPMSG_CTX_MOD:
		if ((rc = check_ctx_out(&m->u.mod.ctx)) < 0)
			return rc;
		if (m->u.mod.what == 0 || (m->u.mod.what & ~(uint32_t)(DPMSG_MOD_LOCATORS | DPMSG_MOD_PEER_TAG | DPMSG_MOD_FLAGS)))
			return DPMSG_E_FIELD;
		w_u32(&w, m->u.mod.what);
		w_ctx(&w, &m->u.mod.ctx);
		break;
	case DPMSG_HOST_ADD:
	case DPMSG_HOST_DEL:
	case DPMSG_DUMP_HOST:
		if (m->u.host.nloc > DPMSG_MAX_ISP)
			return DPMSG_E_FIELD;
		w_host(&w, &m->u.host);
		break;
	case DPMSG_PUNT:
		if (m->u.punt.len > DPMSG_PKT_MAX)
			return DPMSG_E_TOOBIG;
		w_u16(&w, m->u.punt.reason);
		w_u16(&w, m->u.punt.port);
		w_u32(&w, m->u.punt.orig_len);
		w_bytes(&w, m->u.punt.data, m->u.punt.len);
		break;
	case DPMSG_INJECT:
		if (m->u.inject.len > DPMSG_PKT_MAX)
			return DPMSG_E_TOOBIG;
		if (m->u.inject.len == 0)
			return DPMSG_E_FIELD;
		w_u16(&w, m->u.inject.port);
		w_u16(&w, m->u.inject.flags);
		w_bytes(&w, m->u.inject.data, m->u.inject.len);
		break;
	case DPMSG_DUMP_REQ:
		w_u32(&w, m->u.dump_req.what);
		break;
	case DPMSG_DUMP_END:
		w_u32(&w, m->u.dump_end.count);
		break;
	case DPMSG_ISP_STATE:
		if (m->u.isp_state.n_isp > DPMSG_MAX_ISP ||
		    m->u.isp_state.down >> m->u.isp_state.n_isp)
			return DPMSG_E_FIELD;
		w_u16(&w, m->u.isp_state.n_isp);
		w_u16(&w, 0);
		w_u32(&w, m->u.isp_state.down);
		break;
	case DPMSG_REAP_REQ:
		if (m->u.reap_req.n > DPMSG_REAP_MAX)
			return DPMSG_E_FIELD;
		w_u16(&w, m->u.reap_req.n);
		for (unsigned i = 0; i < m->u.reap_req.n; i++)
			w_u64(&w, m->u.reap_req.own_tag[i]);
		break;
	case DPMSG_REAP:
		if (m->u.reap.n > DPMSG_REAP_MAX)
			return DPMSG_E_FIELD;
		w_u16(&w, m->u.reap.n);
		for (unsigned i = 0; i < m->u.reap.n; i++) {
			w_u64(&w, m->u.reap.e[i].own_tag);
			w_u64(&w, m->u.reap.e[i].last_sent_ns);
			w_u64(&w, m->u.reap.e[i].last_recv_ns);
			w_u8(&w, m->u.reap.e[i].found);
		}
		break;
	case DPMSG_REAP_SCAN_REQ:
		if (m->u.scan_req.max_slots == 0 || m->u.scan_req.max_slots > DPMSG_SCAN_SLOTS_MAX)
			return DPMSG_E_FIELD;
		w_u32(&w, m->u.scan_req.cursor);
		w_u32(&w, m->u.scan_req.max_slots);
		w_u64(&w, m->u.scan_req.since_ns);
		break;
	case DPMSG_REAP_SCAN:
		if (m->u.scan.n > DPMSG_REAP_MAX)
			return DPMSG_E_FIELD;
		w_u32(&w, m->u.scan.next);
		w_u16(&w, m->u.scan.n);
		for (unsigned i = 0; i < m->u.scan.n; i++) {
			if (m->u.scan.e[i].own_tag & ~DPMSG_TAG_MASK)
				return DPMSG_E_FIELD;
			w_u64(&w, m->u.scan.e[i].own_tag);
			w_u64(&w, m->u.scan.e[i].last_sent_ns);
			w_u64(&w, m->u.scan.e[i].last_recv_ns);
		}
		break;
	case DPMSG_COUNTERS_REQ:
		break;
	case DPMSG_COUNTERS:
		if (m->u.counters.n > DPMSG_COUNTERS_MAX)
			return DPMSG_E_FIELD;
		w_u16(&w, m->u.counters.n);
		for (unsigned i = 0; i < m->u.counters.n; i++) {
			w_u16(&w, m->u.counters.c[i].id);
			w_u64(&w, m->u.counters.c[i].value);
		}
		break;
	default:
		return DPMSG_E_TYPE;
	}
	if (w.err)
		return w.err;
	buf[2] = (uint8_t)(w.len >> 8);
	buf[3] = (uint8_t)w.len;
	return (int)w.len;
}

int dpmsg_decode(const uint8_t *buf, size_t len, struct dpmsg *m)
{
	struct rbuf r = { buf, len, 0, 0 };
	size_t body;

	if (len < DPMSG_HDR_LEN)
		return DPMSG_E_SHORT;
	if (buf[0] != DPMSG_VERSION)
		return DPMSG_E_VERSION;
	if (((size_t)buf[2] << 8 | buf[3]) != len || len > DPMSG_MAX_LEN)
		return ((size_t)buf[2] << 8 | buf[3]) > len ? DPMSG_E_SHORT : DPMSG_E_LEN;
	memset(m, 0, offsetof(struct dpmsg, u) + sizeof(m->u.ctx));
	m->type = buf[1];
	r.off = 4;
	m->seq = r_u32(&r);
	body = len - DPMSG_HDR_LEN;

	switch (m->type) {
	case DPMSG_HELLO:
		if (body != 24)
			return DPMSG_E_LEN;
		m->u.hello.version = r_u16(&r);
		m->u.hello.role = r_u16(&r);
		m->u.hello.ctx_capacity = r_u32(&r);
		m->u.hello.host_capacity = r_u32(&r);
		m->u.hello.n_lcores = r_u16(&r);
		m->u.hello.n_isp = r_u16(&r);
		m->u.hello.boot_id = r_u64(&r);
		if (m->u.hello.role < DPMSG_ROLE_CONTROL || m->u.hello.role > DPMSG_ROLE_TOOL)
			return DPMSG_E_FIELD;
		break;
	case DPMSG_ACK:
	case DPMSG_COUNTERS_REQ:
		if (body != 0)
			return DPMSG_E_LEN;
		break;
	case DPMSG_ERROR:
		if (body != 4 + DPMSG_ERRTEXT_MAX)
			return DPMSG_E_LEN;
		m->u.error.code = (int32_t)r_u32(&r);
		r_bytes(&r, m->u.error.text, DPMSG_ERRTEXT_MAX);
		m->u.error.text[DPMSG_ERRTEXT_MAX] = 0;
		break;
	case DPMSG_CTX_ADD:
	case DPMSG_CTX_DEL:
	case DPMSG_DUMP_CTX:
		if (body != DPMSG_CTX_BODY)
			return DPMSG_E_LEN;
		r_ctx(&r, &m->u.ctx);
		break;
	case DPMSG_CTX_MOD:
		if (body != 4 + DPMSG_CTX_BODY)
			return DPMSG_E_LEN;
		m->u.mod.what = r_u32(&r);
		r_ctx(&r, &m->u.mod.ctx);
		if (!r.err && (m->u.mod.what == 0 ||
			       (m->u.mod.what & ~(uint32_t)(DPMSG_MOD_LOCATORS | DPMSG_MOD_PEER_TAG | DPMSG_MOD_FLAGS))))
			return DPMSG_E_FIELD;
		break;
	case DPMSG_HOST_ADD:
	case DPMSG_HOST_DEL:
	case DPMSG_DUMP_HOST:
		if (body != 17 + 16 * DPMSG_MAX_ISP)
			return DPMSG_E_LEN;
		r_host(&r, &m->u.host);
		break;
	case DPMSG_PUNT:
		if (body < 8 || body - 8 > DPMSG_PKT_MAX)
			return body < 8 ? DPMSG_E_LEN : DPMSG_E_TOOBIG;
		m->u.punt.reason = r_u16(&r);
		m->u.punt.port = r_u16(&r);
		m->u.punt.orig_len = r_u32(&r);
		m->u.punt.len = (uint32_t)(body - 8);
		m->u.punt.data = buf + DPMSG_HDR_LEN + 8;
		if (m->u.punt.orig_len < m->u.punt.len)
			return DPMSG_E_FIELD;
		return DPMSG_OK;
	case DPMSG_INJECT:
		if (body <= 4 || body - 4 > DPMSG_PKT_MAX)
			return body <= 4 ? DPMSG_E_LEN : DPMSG_E_TOOBIG;
		m->u.inject.port = r_u16(&r);
		m->u.inject.flags = r_u16(&r);
		m->u.inject.len = (uint32_t)(body - 4);
		m->u.inject.data = buf + DPMSG_HDR_LEN + 4;
		if (m->u.inject.flags & ~(uint16_t)DPMSG_INJECT_AS_RX)
			return DPMSG_E_FIELD;
		return DPMSG_OK;
	case DPMSG_DUMP_REQ:
		if (body != 4)
			return DPMSG_E_LEN;
		m->u.dump_req.what = r_u32(&r);
		if (m->u.dump_req.what == 0 || (m->u.dump_req.what & ~(uint32_t)(DPMSG_DUMP_CONTEXTS | DPMSG_DUMP_HOSTS)))
			return DPMSG_E_FIELD;
		break;
	case DPMSG_DUMP_END:
		if (body != 4)
			return DPMSG_E_LEN;
		m->u.dump_end.count = r_u32(&r);
		break;
	case DPMSG_ISP_STATE:
		if (body != DPMSG_ISP_STATE_BODY)
			return DPMSG_E_LEN;
		m->u.isp_state.n_isp = r_u16(&r);
		if (r_u16(&r) != 0 || m->u.isp_state.n_isp > DPMSG_MAX_ISP)
			return DPMSG_E_FIELD;
		m->u.isp_state.down = r_u32(&r);
		if (m->u.isp_state.down >> m->u.isp_state.n_isp)
			return DPMSG_E_FIELD;
		break;
	case DPMSG_REAP_REQ:
		if (body < 2)
			return DPMSG_E_LEN;
		m->u.reap_req.n = r_u16(&r);
		if (m->u.reap_req.n > DPMSG_REAP_MAX)
			return DPMSG_E_FIELD;
		if (body != 2 + 8u * m->u.reap_req.n)
			return DPMSG_E_LEN;
		for (unsigned i = 0; i < m->u.reap_req.n; i++) {
			m->u.reap_req.own_tag[i] = r_u64(&r);
			if (m->u.reap_req.own_tag[i] & ~DPMSG_TAG_MASK)
				return DPMSG_E_FIELD;
		}
		break;
	case DPMSG_REAP:
		if (body < 2)
			return DPMSG_E_LEN;
		m->u.reap.n = r_u16(&r);
		if (m->u.reap.n > DPMSG_REAP_MAX)
			return DPMSG_E_FIELD;
		if (body != 2 + 25u * m->u.reap.n)
			return DPMSG_E_LEN;
		for (unsigned i = 0; i < m->u.reap.n; i++) {
			m->u.reap.e[i].own_tag = r_u64(&r);
			m->u.reap.e[i].last_sent_ns = r_u64(&r);
			m->u.reap.e[i].last_recv_ns = r_u64(&r);
			m->u.reap.e[i].found = r_u8(&r);
		}
		break;
	case DPMSG_REAP_SCAN_REQ:
		if (body != 16)
			return DPMSG_E_LEN;
		m->u.scan_req.cursor = r_u32(&r);
		m->u.scan_req.max_slots = r_u32(&r);
		m->u.scan_req.since_ns = r_u64(&r);
		if (m->u.scan_req.max_slots == 0 || m->u.scan_req.max_slots > DPMSG_SCAN_SLOTS_MAX)
			return DPMSG_E_FIELD;
		break;
	case DPMSG_REAP_SCAN:
		if (body < 6)
			return DPMSG_E_LEN;
		m->u.scan.next = r_u32(&r);
		m->u.scan.n = r_u16(&r);
		if (m->u.scan.n > DPMSG_REAP_MAX)
			return DPMSG_E_FIELD;
		if (body != 6 + 24u * m->u.scan.n)
			return DPMSG_E_LEN;
		for (unsigned i = 0; i < m->u.scan.n; i++) {
			m->u.scan.e[i].own_tag = r_u64(&r);
			m->u.scan.e[i].last_sent_ns = r_u64(&r);
			m->u.scan.e[i].last_recv_ns = r_u64(&r);
			m->u.scan.e[i].found = 1;
			if (m->u.scan.e[i].own_tag & ~DPMSG_TAG_MASK)
				return DPMSG_E_FIELD;
		}
		break;
	case DPMSG_COUNTERS:
		if (body < 2)
			return DPMSG_E_LEN;
		m->u.counters.n = r_u16(&r);
		if (m->u.counters.n > DPMSG_COUNTERS_MAX)
			return DPMSG_E_FIELD;
		if (body != 2 + 10u * m->u.counters.n)
			return DPMSG_E_LEN;
		for (unsigned i = 0; i < m->u.counters.n; i++) {
			m->u.counters.c[i].id = r_u16(&r);
			m->u.counters.c[i].value = r_u64(&r);
		}
		break;
	default:
		return DPMSG_E_TYPE;
	}
	if (r.err)
		return r.err;
	return r.off == len ? DPMSG_OK : DPMSG_E_LEN;
}

int dpmsg_send(int fd, const struct dpmsg *m)
{
	uint8_t buf[DPMSG_MAX_LEN];
	int n = dpmsg_encode(m, buf, sizeof(buf));
	ssize_t s;

	if (n < 0)
		return n;
	do
		s = send(fd, buf, (size_t)n, MSG_NOSIGNAL);
	while (s < 0 && errno == EINTR);
	if (s != n)
		return DPMSG_E_IO;
	return DPMSG_OK;
}

int dpmsg_recv(int fd, uint8_t *buf, size_t cap, struct dpmsg *m)
{
	ssize_t n;

	do
		n = recv(fd, buf, cap, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return DPMSG_E_IO;
	if (n == 0)
		return DPMSG_E_CLOSED;
	if ((size_t)n > cap)
		return DPMSG_E_LEN; /* datagram longer than any valid message */
	return dpmsg_decode(buf, (size_t)n, m);
}

int dpmsg_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

const char *dpmsg_strerror(int rc)
{
	switch (rc) {
	case DPMSG_OK: return "ok";
	case DPMSG_E_SHORT: return "message truncated";
	case DPMSG_E_LEN: return "bad message length";
	case DPMSG_E_VERSION: return "unsupported message version";
	case DPMSG_E_TYPE: return "unknown message type";
	case DPMSG_E_FIELD: return "field out of range";
	case DPMSG_E_NOSPACE: return "buffer too small";
	case DPMSG_E_TOOBIG: return "packet too big";
	case DPMSG_E_IO: return "socket error";
	case DPMSG_E_CLOSED: return "peer closed the channel";
	}
	return "unknown error";
}

const char *dpmsg_errname(int32_t code)
{
	static const char *const names[] = {
		[0] = "ok", [DPMSG_ERR_INVAL] = "invalid request", [DPMSG_ERR_EXISTS] = "already exists",
		[DPMSG_ERR_NOTFOUND] = "not found", [DPMSG_ERR_FULL] = "table full",
		[DPMSG_ERR_PORT] = "bad port or ISP index", [DPMSG_ERR_VERSION] = "version not supported",
		[DPMSG_ERR_NOHELLO] = "HELLO expected first", [DPMSG_ERR_INTERNAL] = "internal error",
	};
	if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]) || !names[code])
		return "unknown error";
	return names[code];
}

const char *dpmsg_type_name(uint8_t type)
{
	switch (type) {
	case DPMSG_HELLO: return "hello";
	case DPMSG_ACK: return "ack";
	case DPMSG_ERROR: return "error";
	case DPMSG_CTX_ADD: return "ctx-add";
	case DPMSG_CTX_MOD: return "ctx-mod";
	case DPMSG_CTX_DEL: return "ctx-del";
	case DPMSG_HOST_ADD: return "host-add";
	case DPMSG_HOST_DEL: return "host-del";
	case DPMSG_PUNT: return "punt";
	case DPMSG_INJECT: return "inject";
	case DPMSG_DUMP_REQ: return "dump-req";
	case DPMSG_DUMP_CTX: return "dump-ctx";
	case DPMSG_DUMP_HOST: return "dump-host";
	case DPMSG_DUMP_END: return "dump-end";
	case DPMSG_ISP_STATE: return "isp-state";
	case DPMSG_REAP_REQ: return "reap-req";
	case DPMSG_REAP: return "reap";
	case DPMSG_REAP_SCAN_REQ: return "reap-scan-req";
	case DPMSG_REAP_SCAN: return "reap-scan";
	case DPMSG_COUNTERS_REQ: return "counters-req";
	case DPMSG_COUNTERS: return "counters";
	}
	return "unknown";
}

const char *dpmsg_counter_name(uint16_t id)
{
	static const char *const names[DPMSG_CNT__MAX] = {
		[DPMSG_CNT_RX_IN_PKTS] = "rx_inside_packets", [DPMSG_CNT_RX_IN_BYTES] = "rx_inside_bytes",
		[DPMSG_CNT_RX_OUT_PKTS] = "rx_isp_packets", [DPMSG_CNT_RX_OUT_BYTES] = "rx_isp_bytes",
		[DPMSG_CNT_TX_IN_PKTS] = "tx_inside_packets", [DPMSG_CNT_TX_IN_BYTES] = "tx_inside_bytes",
		[DPMSG_CNT_TX_OUT_PKTS] = "tx_isp_packets", [DPMSG_CNT_TX_OUT_BYTES] = "tx_isp_bytes",
		[DPMSG_CNT_EGRESS_SHIM] = "egress_shim6", [DPMSG_CNT_INGRESS_SHIM] = "ingress_shim6",
		[DPMSG_CNT_NAT_OUT] = "natv6_out", [DPMSG_CNT_NAT_IN] = "natv6_in",
		[DPMSG_CNT_PUNT] = "punt", [DPMSG_CNT_PUNT_DROP] = "punt_dropped",
		[DPMSG_CNT_ICMP_GEN] = "icmp_generated", [DPMSG_CNT_ICMP_XLATE] = "icmp_translated",
		[DPMSG_CNT_DROP_MALFORMED] = "drop_malformed", [DPMSG_CNT_DROP_NOT_IPV6] = "drop_not_ipv6",
		[DPMSG_CNT_DROP_NO_ROUTE] = "drop_no_route", [DPMSG_CNT_DROP_TX] = "drop_tx_full",
		[DPMSG_CNT_DROP_HDR_CHAIN] = "drop_header_chain", [DPMSG_CNT_DROP_MTU] = "drop_mtu",
		[DPMSG_CNT_EXCEPTION] = "exception_path",
		[DPMSG_CNT_CTX_ENTRIES] = "context_entries", [DPMSG_CNT_HOST_ENTRIES] = "host_entries",
		[DPMSG_CNT_NODE_CYCLES] = "node_cycles", [DPMSG_CNT_NODE_PKTS] = "node_packets",
		[DPMSG_CNT_MSS_CLAMPED] = "mss_clamped", [DPMSG_CNT_ICMP_XLATE_OUT] = "icmp_translated_out",
		[DPMSG_CNT_MSS_MALFORMED] = "mss_malformed",
		[DPMSG_CNT_ND_MAC_CHANGED] = "nd_mac_changed", [DPMSG_CNT_ND_PROBES] = "nd_probes",
		[DPMSG_CNT_ND_UNREACHABLE] = "nd_unreachable",
		[DPMSG_CNT_CONF_RELOADS] = "config_reloads", [DPMSG_CNT_CONF_RELOAD_REFUSED] = "config_reload_refused",
		[DPMSG_CNT_DROP_SHIM_AFTER_FRAG] = "drop_shim6_after_fragment",
		[DPMSG_CNT_CHAN_CLIENT_STALLED] = "channel_client_stalled",
		[DPMSG_CNT_CHAN_ACCEPT_FAILED] = "channel_accept_failed",
		[DPMSG_CNT_ND_RECEIVED] = "nd_received",
		[DPMSG_CNT_NAT_FLOW_OUT] = "natv6_out_flow", [DPMSG_CNT_NAT_FLOWS_NOTED] = "natv6_flows_noted",
		[DPMSG_CNT_NAT_FLOWS_EVICTED] = "natv6_flows_evicted",
		[DPMSG_CNT_ISP_PROBES] = "isp_probes", [DPMSG_CNT_ISP_PROBE_REPLIES] = "isp_probe_replies",
		[DPMSG_CNT_ISP_DOWN] = "isp_down", [DPMSG_CNT_NAT_ISP_MOVED] = "natv6_isp_moved",
		[DPMSG_CNT_NAT_FLOWS_EXPIRED] = "natv6_flows_expired",
		[DPMSG_CNT_SHIM_GENERAL] = "shim6_general_path",
	};
	if (id >= DPMSG_CNT__MAX || !names[id])
		return "unknown";
	return names[id];
}
