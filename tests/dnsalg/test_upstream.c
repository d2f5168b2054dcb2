/*
 * The upstream transport (upstream.c) for real, against stand-in upstream
 * servers on loopback (::1, and 127.0.0.1 reached as ::ffff:127.0.0.1),
 * each on an ephemeral port and served by its own thread; and the wire
 * check (upstream_wire.c) on fabricated messages.
 *
 * Every transport case counts the descriptors in /proc/self/fd before the
 * stand-ins open theirs and after they are stopped: the transport must have
 * closed every socket it opened, on every path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "dnsalg.h"
#include "fd_count.h"

#define QID 0x4a7e

/* The transport's clock, as ctlsock.c keeps it, moved on by `skew_ms` so a
 * case can let a kept connection age without waiting. */
static _Atomic uint64_t skew_ms;
uint64_t dnsalg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u + atomic_load(&skew_ms);
}

/* ---- messages ------------------------------------------------------------- */

struct msg {
	uint8_t b[4096];
	size_t n;
};

static void put(struct msg *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof m->b);
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put16(struct msg *m, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	put(m, b, 2);
}

static void set16(struct msg *m, size_t at, unsigned v)
{
	m->b[at] = (uint8_t)(v >> 8);
	m->b[at + 1] = (uint8_t)v;
}

/* Header with QR, RD, RA; counts filled in by the builders. */
static void header(struct msg *m, uint16_t id, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
	m->n = 0;
	put16(m, id);
	put16(m, 0x8180);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

/* www.example. A IN, uncompressed, at offset 12 */
static void question(struct msg *m, unsigned qtype)
{
	put(m, "\3www\7example\0", 13);
	put16(m, qtype);
	put16(m, 1);
}

/* A record owned by the question's name (pointer to offset 12) */
static void rr_a(struct msg *m, uint8_t last)
{
	put(m, "\xc0\x0c", 2);
	put16(m, 1);
	put16(m, 1);
	put(m, "\0\0\0\x3c", 4);
	put16(m, 4);
	uint8_t a[4] = { 192, 0, 2, last };
	put(m, a, 4);
}

/* A TSIG record as ldns parses it: root owner, class ANY, hmac-sha256,
 * empty MAC. */
static void rr_tsig(struct msg *m);

/*
 * Two TSIG records that ldns 1.8.3 really reads: ldns_wire2pkt counts the
 * additional section down by one at each TSIG while it walks it, so only
 * with two more records after them does it reach the second TSIG (and
 * leak the first).  ARCOUNT grows by 4.
 */
static void rr_tsig2(struct msg *m)
{
	rr_tsig(m);
	rr_tsig(m);
	rr_a(m, 3);
	rr_a(m, 4);
	set16(m, 10, (unsigned)(m->b[10] << 8 | m->b[11]) + 4);
}

static void rr_tsig(struct msg *m)
{
	static const uint8_t rdata[] = {
		11, 'h', 'm', 'a', 'c', '-', 's', 'h', 'a', '2', '5', '6', 0,
		0, 0, 0x60, 0, 0, 0,  /* time signed */
		1, 0x2c,              /* fudge */
		0, 0,                 /* MAC size */
		0x4a, 0x7e,           /* original ID */
		0, 0,                 /* error */
		0, 0,                 /* other len */
	};
	put(m, "\0", 1);
	put16(m, 250);
	put16(m, 255);
	put(m, "\0\0\0\0", 4);
	put16(m, sizeof rdata);
	put(m, rdata, sizeof rdata);
}

static void good(struct msg *m, uint16_t id)
{
	header(m, id, 1, 1, 0, 0);
	question(m, 1);
	rr_a(m, 1);
}

/* ---- the wire check on fabricated messages --------------------------------- */

static void wire_good_answer(void **state)
{
	(void)state;
	struct msg m;
	good(&m, QID);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), 0);
	/* bytes past the last record are not read (ldns ignores them too) */
	put(&m, "junk", 4);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), 0);
	/* a question only, no records; an empty message with a header */
	header(&m, QID, 1, 0, 0, 0);
	question(&m, 1);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), 0);
	header(&m, QID, 0, 0, 0, 0);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), 0);
}

static void wire_header_id_qr(void **state)
{
	(void)state;
	struct msg m;
	good(&m, QID);
	for (size_t l = 0; l < 12; l++)
		assert_int_equal(dnsalg_upstream_wire_check(m.b, l, QID), DNSALG_EWIRE);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID ^ 1), DNSALG_EMISMATCH);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID ^ 0x100), DNSALG_EMISMATCH);
	m.b[2] &= 0x7f;   /* QR clear: a query, not an answer */
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EMISMATCH);
}

static void wire_records_past_end(void **state)
{
	(void)state;
	struct msg m;
	good(&m, QID);
	/* every cut inside the question or the record */
	for (size_t l = 12; l < m.n; l++)
		assert_int_equal(dnsalg_upstream_wire_check(m.b, l, QID), DNSALG_EWIRE);
	/* RDLENGTH one more than there is */
	set16(&m, m.n - 6, 5);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
	set16(&m, m.n - 6, 0xffff);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
}

static void wire_counts_larger_than_message(void **state)
{
	(void)state;
	struct msg m;
	for (unsigned at = 4; at <= 10; at += 2) {
		good(&m, QID);
		set16(&m, at, (unsigned)(m.b[at] << 8 | m.b[at + 1]) + 1);
		assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
		good(&m, QID);
		set16(&m, at, 0xffff);
		assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
	}
}

static void wire_compression(void **state)
{
	(void)state;
	struct msg m;
	/* a pointer to itself: the question's name is c0 0c at offset 12 */
	header(&m, QID, 1, 0, 0, 0);
	put(&m, "\xc0\x0c", 2);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
	/* a label, then a pointer back to that label: a loop */
	header(&m, QID, 1, 0, 0, 0);
	put(&m, "\1a\xc0\x0c", 4);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
	/* two names pointing at each other: the first points forward */
	header(&m, QID, 2, 0, 0, 0);
	put(&m, "\1a\xc0\x14", 4);   /* 12: a -> 20 */
	put16(&m, 1);
	put16(&m, 1);
	put(&m, "\1b\xc0\x0c", 4);   /* 20: b -> 12 */
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
	/* forward to a name that ends well: no loop, but not a prior
	 * occurrence (RFC 1035 §4.1.4), which is all a compressor makes */
	header(&m, QID, 2, 0, 0, 0);
	put(&m, "\xc0\x12", 2);     /* 12: -> 18 */
	put16(&m, 1);
	put16(&m, 1);
	put(&m, "\1a\0", 3);        /* 18: a. */
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
	/* into the header */
	header(&m, QID, 1, 0, 0, 0);
	put(&m, "\xc0\x02", 2);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
	/* a chain backwards is fine: c.(ptr) -> b.(ptr) -> www.example. */
	good(&m, QID);
	set16(&m, 6, 3);
	put(&m, "\1b\xc0\x0c", 4);   /* owner b.www.example., at offset 45 */
	put16(&m, 1);
	put16(&m, 1);
	put(&m, "\0\0\0\x3c\0\4\xc0\0\2\2", 10);
	put(&m, "\1c\xc0\x2d", 4);   /* c.b.www.example. */
	put16(&m, 1);
	put16(&m, 1);
	put(&m, "\0\0\0\x3c\0\4\xc0\0\2\3", 10);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), 0);
	/* a pointer cut after its first octet */
	header(&m, QID, 1, 0, 0, 0);
	put(&m, "\3www\xc0", 5);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
	/* label types 0x40 and 0x80 */
	for (unsigned t = 0x40; t <= 0x80; t += 0x40) {
		header(&m, QID, 1, 0, 0, 0);
		uint8_t l = (uint8_t)(t | 1);
		put(&m, &l, 1);
		put(&m, "a\0", 2);
		put16(&m, 1);
		put16(&m, 1);
		assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
	}
}

/* A question name of labels of these lengths. */
static void long_name(struct msg *m, const unsigned *lens, unsigned n)
{
	header(m, QID, 1, 0, 0, 0);
	for (unsigned i = 0; i < n; i++) {
		uint8_t l = (uint8_t)lens[i];
		put(m, &l, 1);
		for (unsigned j = 0; j < lens[i]; j++)
			put(m, "x", 1);
	}
	put(m, "\0", 1);
	put16(m, 1);
	put16(m, 1);
}

static void wire_name_length(void **state)
{
	(void)state;
	struct msg m;
	long_name(&m, (const unsigned[]){ 63, 63, 63, 61 }, 4);   /* 255 octets */
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), 0);
	long_name(&m, (const unsigned[]){ 63, 63, 63, 62 }, 4);   /* 256 */
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
	/* over 255 only through a pointer: the expanded name counts */
	long_name(&m, (const unsigned[]){ 63, 63, 63 }, 3);      /* 193 octets at 12 */
	set16(&m, 4, 2);
	put(&m, "\x3f", 1);
	for (int j = 0; j < 63; j++)
		put(&m, "y", 1);
	put(&m, "\xc0\x0c", 2);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
}

static void wire_tsig(void **state)
{
	(void)state;
	struct msg m;
	/* 0, 1 and 2 TSIG records in the additional section */
	for (unsigned t = 0; t <= 2; t++) {
		header(&m, QID, 1, 1, 0, t);
		question(&m, 1);
		rr_a(&m, 1);
		for (unsigned i = 0; i < t; i++)
			rr_tsig(&m);
		assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), t ? DNSALG_ETSIG : 0);
	}
	/* the layout ldns 1.8.3 leaks on */
	header(&m, QID, 1, 1, 0, 0);
	question(&m, 1);
	rr_a(&m, 1);
	rr_tsig2(&m);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_ETSIG);
	/* in the answer section too */
	header(&m, QID, 1, 1, 0, 0);
	question(&m, 1);
	rr_tsig(&m);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_ETSIG);
	/* a question for type 250 holds no record: fine */
	header(&m, QID, 1, 0, 0, 0);
	question(&m, 250);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), 0);
}

/* Edges of the wire check a question-only answer reaches: with no record
 * after it, nothing later in the walk catches a short header, a question
 * without its last octet, or a name that runs off the end. */
static void wire_question_only_edges(void **state)
{
	(void)state;
	struct msg m;
	memset(m.b, 0, sizeof m.b);
	header(&m, QID, 0, 0, 0, 0);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, 12, QID), 0);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, 11, QID), DNSALG_EWIRE);
	header(&m, QID, 1, 0, 0, 0);
	question(&m, 1);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), 0);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n - 1, QID), DNSALG_EWIRE);
	/* the name's root octet is the first one past the end */
	assert_int_equal(dnsalg_upstream_wire_check(m.b, 12 + 12, QID), DNSALG_EWIRE);
}

/* A pointer into the header is refused even where the header octets read
 * as a name (QDCOUNT's high octet 0: the root); and a label of type 0x40
 * is refused even with the 64 octets its length would cover. */
static void wire_pointer_into_header_and_extended_label(void **state)
{
	(void)state;
	struct msg m;
	header(&m, QID, 1, 0, 0, 0);
	put(&m, "\xc0\x04", 2);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
	header(&m, QID, 1, 0, 0, 0);
	put(&m, "\x40", 1);
	for (int j = 0; j < 64; j++)
		put(&m, "x", 1);
	put(&m, "\0", 1);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
}

/* An owner that is a chain of `k` pointers, each to the one before, the
 * first to a root at offset 12; the pointers sit in the rdata before it
 * (of a private type, opaque to ldns, so that it reads all RDLENGTH). */
static void pointer_chain(struct msg *m, unsigned k)
{
	header(m, QID, 0, 2, 0, 0);
	put(m, "\0", 1);
	put16(m, 0xff00);
	put16(m, 1);
	put(m, "\0\0\0\x3c", 4);
	put16(m, 2 * k);
	for (unsigned i = 0; i < k; i++)
		put16(m, 0xc000 | (i ? 23 + 2 * (i - 1) : 12));
	put16(m, 0xc000 | (23 + 2 * (k - 1)));
	put16(m, 1);
	put16(m, 1);
	put(m, "\0\0\0\x3c\0\0", 6);
}

/* A name takes at most 127 steps, labels and pointers together, however
 * few octets it expands to: the walk of one name stays bounded. */
static void wire_pointer_steps(void **state)
{
	(void)state;
	struct msg m;
	pointer_chain(&m, 126);   /* the owner's pointer and 126 more */
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), 0);
	pointer_chain(&m, 127);
	assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), DNSALG_EWIRE);
}

/* ldns reads an A record's 4 octets and starts the next record right after
 * them, whatever RDLENGTH says: an A record of RDLENGTH 7 hid a TSIG record
 * in its last 3 octets and the next record's first ones (found by
 * fuzz_upstream_wire).  A record whose fields end anywhere but where
 * RDLENGTH says is refused, shorter or longer. */
static void wire_rdata_ldns_would_read_otherwise(void **state)
{
	(void)state;
	static const uint8_t hid[] = {
		0x4a, 0x7e, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 1, 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l',
		'e', 0, 0, 1, 0, 1, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0x3c, 0, 7, 0, 0, 2, 1, 0, 0, 0xfa, 0, 0xff,
		0, 0x28, 0, 0, 0, 0, 0x2c, 0, 0, 0x4a, 0x7e, 0, 0, 0, 0,
	};
	assert_int_equal(dnsalg_upstream_wire_check(hid, sizeof hid, QID), DNSALG_EWIRE);
	/* ldns itself takes it, and finds a TSIG there */
	ldns_pkt *p = NULL;
	assert_int_equal(ldns_wire2pkt(&p, hid, sizeof hid), LDNS_STATUS_OK);
	assert_non_null(ldns_pkt_tsig(p));
	ldns_pkt_free(p);
	/* an A record of RDLENGTH 3 (too short) or 5 (a spare octet) */
	struct msg m;
	for (unsigned rdlen = 3; rdlen <= 5; rdlen++) {
		header(&m, QID, 1, 1, 0, 0);
		question(&m, 1);
		put(&m, "\xc0\x0c", 2);
		put16(&m, 1);
		put16(&m, 1);
		put(&m, "\0\0\0\x3c", 4);
		put16(&m, rdlen);
		put(&m, "\xc0\0\2\1\0", rdlen);
		assert_int_equal(dnsalg_upstream_wire_check(m.b, m.n, QID), rdlen == 4 ? 0 : DNSALG_EWIRE);
	}
}

/* ---- stand-in upstream servers --------------------------------------------- */

enum mode {
	UDP_GOOD,        /* one good answer, A 192.0.2.1 */
	UDP_SILENT,      /* reads, never answers */
	UDP_WRONG_ID,    /* the answer with another ID (192.0.2.9), then the good one */
	UDP_OTHER_PORT,  /* 192.0.2.66 from another port, then the good one */
	UDP_TSIG2,       /* the good answer with two TSIG records */
	UDP_GARBAGE,     /* 5 octets, a cut answer, counts past the end, oversize */
	UDP_BIG_THEN_GOOD, /* oversize (larger than our EDNS size), then good */
	TCP_GOOD,
	TCP_TSIG2,
	TCP_GARBAGE,     /* a length and a cut answer */
	TCP_SILENT,      /* accepts, reads, never answers */
	TCP_KEEP,        /* answers every query of a connection until the client closes it */
	TCP_KEEP_DROP2,  /* answers a connection's first query, closes at its second unanswered */
};

struct standin {
	_Atomic enum mode mode;   /* a case may change it while the stand-in runs */
	int fd, other;
	uint16_t port;
	pthread_t th;
	_Atomic bool stop;
	_Atomic unsigned queries;
	_Atomic unsigned accepts;   /* TCP connections */
};

/* The answer to query q (qn octets) with this ID, A 192.0.2.last. */
static void answer_to(struct msg *m, const uint8_t *q, size_t qn, uint16_t id, uint8_t last)
{
	size_t e = 12;
	while (e < qn && q[e])
		e += 1u + q[e];
	e += 5;
	assert_true(e <= qn);
	header(m, id, 1, 1, 0, 0);
	put(m, q + 12, e - 12);
	rr_a(m, last);
}

static bool wait_in(int fd, struct standin *s)
{
	while (!atomic_load(&s->stop)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 20) > 0)
			return true;
	}
	return false;
}

/* A connection held open without an answer: until the client gives up, or
 * 3 s, so a client that ignores its deadline fails the timing check
 * instead of hanging the suite. */
#define HOLD_MS 3000
static void hold(int fd, struct standin *s)
{
	for (int i = 0; i < HOLD_MS / 20 && !atomic_load(&s->stop); i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 20) > 0)
			return;
	}
}

static void serve_udp(struct standin *s)
{
	uint8_t q[2048];
	struct sockaddr_storage from;
	socklen_t fl = sizeof from;
	while (wait_in(s->fd, s)) {
		fl = sizeof from;
		ssize_t n = recvfrom(s->fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
		if (n < 12)
			continue;
		atomic_fetch_add(&s->queries, 1);
		uint16_t id = (uint16_t)(q[0] << 8 | q[1]);
		struct msg m;
		struct sockaddr *to = (struct sockaddr *)&from;
		switch ((enum mode)atomic_load(&s->mode)) {
		case UDP_SILENT:
			continue;
		case UDP_WRONG_ID:
			answer_to(&m, q, (size_t)n, id ^ 0x5555, 9);
			sendto(s->fd, m.b, m.n, 0, to, fl);
			break;
		case UDP_OTHER_PORT:
			answer_to(&m, q, (size_t)n, id, 66);
			sendto(s->other, m.b, m.n, 0, to, fl);
			usleep(50000);  /* the foreign one first, surely */
			break;
		case UDP_TSIG2:
			answer_to(&m, q, (size_t)n, id, 1);
			rr_tsig2(&m);
			sendto(s->fd, m.b, m.n, 0, to, fl);
			continue;
		case UDP_GARBAGE:
			sendto(s->fd, "\x4a\x7e\x81\x80\0", 5, 0, to, fl);
			answer_to(&m, q, (size_t)n, id, 1);
			sendto(s->fd, m.b, m.n - 3, 0, to, fl);
			set16(&m, 6, 2);
			sendto(s->fd, m.b, m.n, 0, to, fl);
			set16(&m, 6, 1);
			while (m.n <= DNSALG_UPSTREAM_BUFSIZE)
				put(&m, "\0", 1);   /* trailing octets: the check alone passes it */
			sendto(s->fd, m.b, m.n, 0, to, fl);
			continue;
		case UDP_BIG_THEN_GOOD:
			answer_to(&m, q, (size_t)n, id, 7);
			while (m.n <= DNSALG_UPSTREAM_BUFSIZE)
				put(&m, "\0", 1);
			sendto(s->fd, m.b, m.n, 0, to, fl);
			break;
		default:
			break;
		}
		answer_to(&m, q, (size_t)n, id, 1);
		sendto(s->fd, m.b, m.n, 0, to, fl);
	}
}

static bool read_all(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = recv(fd, p, n, 0);
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/* One query of connection c: false when the client closed it (or sent junk). */
static bool tcp_query(int c, uint8_t *q, size_t cap, size_t *qn)
{
	if (!read_all(c, q, 2))
		return false;
	*qn = (size_t)(q[0] << 8 | q[1]);
	return *qn >= 12 && *qn <= cap && read_all(c, q, *qn);
}

static void serve_tcp(struct standin *s)
{
	while (wait_in(s->fd, s)) {
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			continue;
		atomic_fetch_add(&s->accepts, 1);
		uint8_t q[2048];
		size_t qn;
		for (unsigned nth = 1; tcp_query(c, q, sizeof q, &qn); nth++) {
			enum mode mode = atomic_load(&s->mode);
			atomic_fetch_add(&s->queries, 1);
			if (mode == TCP_KEEP_DROP2 && nth == 2)
				break;
			uint16_t id = (uint16_t)(q[0] << 8 | q[1]);
			struct msg m;
			answer_to(&m, q, qn, id, 1);
			if (mode == TCP_TSIG2)
				rr_tsig2(&m);
			size_t n = mode == TCP_GARBAGE ? m.n - 3 : m.n;
			uint8_t len[2] = { (uint8_t)(m.n >> 8), (uint8_t)m.n };
			if (mode == TCP_SILENT) {
				hold(c, s);
				break;
			}
			send(c, len, 2, MSG_NOSIGNAL);
			send(c, m.b, n, MSG_NOSIGNAL);
			if (mode == TCP_GARBAGE)   /* the rest never comes */
				hold(c, s);
			if (mode != TCP_KEEP && mode != TCP_KEEP_DROP2)
				break;
		}
		close(c);
	}
}

static void *standin_main(void *arg)
{
	struct standin *s = arg;
	if (s->mode >= TCP_GOOD)
		serve_tcp(s);
	else
		serve_udp(s);
	return NULL;
}

/* Bound to an ephemeral port of ::1, or of 127.0.0.1 with v4. */
static int bound(bool v4, int type, uint16_t *port)
{
	int fd = socket(v4 ? AF_INET : AF_INET6, type | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	socklen_t sl;
	if (v4) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof *a;
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		sl = sizeof *a;
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, sl), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 8), 0);
	sl = sizeof ss;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	*port = ntohs(v4 ? ((struct sockaddr_in *)&ss)->sin_port : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static void standin_start(struct standin *s, enum mode mode, bool v4)
{
	memset(s, 0, sizeof *s);
	s->mode = mode;
	s->other = -1;
	s->fd = bound(v4, mode >= TCP_GOOD ? SOCK_STREAM : SOCK_DGRAM, &s->port);
	if (mode == UDP_OTHER_PORT) {
		uint16_t p;
		s->other = bound(v4, SOCK_DGRAM, &p);
		assert_int_not_equal(p, s->port);
	}
	assert_int_equal(pthread_create(&s->th, NULL, standin_main, s), 0);
}

static void standin_stop(struct standin *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->th, NULL);
	close(s->fd);
	if (s->other >= 0)
		close(s->other);
}

/* ---- the transport against them -------------------------------------------- */

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct run {
	int r;
	uint64_t ms;        /* how long the query took */
	uint64_t refused;
	int last;           /* last octet of the A record, -1 none */
	unsigned queries[4];
};

/* Ask `www.example. A` of the stand-ins (in this order, each its own port;
 * v4 ones as ::ffff:127.0.0.1) with this timeout, as the callers do. */
/* The endpoints of stand-ins s[0..n): loopback, IPv4-mapped where v4[i] (v4 may be NULL). */
static void endpoints_of(const struct standin *s, unsigned n, const bool *v4, struct dnsalg_endpoint *ep)
{
	for (unsigned i = 0; i < n; i++) {
		inet_pton(AF_INET6, v4 && v4[i] ? "::ffff:127.0.0.1" : "::1", &ep[i].addr);
		ep[i].port = s[i].port;
	}
}

static struct dnsalg_upstream *transport_of(struct standin *s, unsigned n, const bool *v4, uint32_t timeout_ms,
					    struct dnsalg_counters *cnt)
{
	struct dnsalg_opts o;
	dnsalg_opts_defaults(&o);
	o.timeout_ms = timeout_ms;
	o.n_upstreams = n;
	endpoints_of(s, n, v4, o.upstreams);
	struct dnsalg_upstream *u = dnsalg_upstream_new(&o, cnt);
	assert_non_null(u);
	return u;
}

/* The same, with the counters zeroed first. */
static struct dnsalg_upstream *upstream_of(struct standin *s, unsigned n, const bool *v4, uint32_t timeout_ms,
					   struct dnsalg_counters *cnt)
{
	memset(cnt, 0, sizeof *cnt);
	return transport_of(s, n, v4, timeout_ms, cnt);
}

/* One query on transport u, as the callers ask it. */
static struct run ask_u(struct dnsalg_upstream *u, struct dnsalg_counters *cnt, bool tcp)
{
	struct run out = { .last = -1 };
	struct dnsalg_upstream_ops ops = dnsalg_upstream_ops(u);
	ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str("www.example."), LDNS_RR_TYPE_A,
					 LDNS_RR_CLASS_IN, LDNS_RD);
	assert_non_null(q);
	ldns_pkt_set_id(q, QID);
	ldns_pkt_set_edns_udp_size(q, DNSALG_UPSTREAM_BUFSIZE);
	ldns_pkt *ans = NULL;
	uint64_t t0 = mono_ms();
	out.r = ops.query(ops.arg, q, tcp, &ans);
	out.ms = mono_ms() - t0;
	out.refused = atomic_load(&cnt->upstream_refused);
	if (out.r == 0) {
		assert_non_null(ans);
		assert_int_equal(ldns_pkt_id(ans), QID);
		assert_true(ldns_pkt_qr(ans));
		ldns_rr_list *an = ldns_pkt_answer(ans);
		assert_int_equal(ldns_rr_list_rr_count(an), 1);
		const ldns_rdf *a = ldns_rr_rdf(ldns_rr_list_rr(an, 0), 0);
		out.last = ldns_rdf_data(a)[3];
		ldns_pkt_free(ans);
	} else {
		assert_null(ans);
	}
	ldns_pkt_free(q);
	return out;
}

static struct run ask(struct standin *s, unsigned n, const bool *v4, uint32_t timeout_ms, bool tcp)
{
	struct dnsalg_counters cnt;
	struct dnsalg_upstream *u = upstream_of(s, n, v4, timeout_ms, &cnt);
	struct run out = ask_u(u, &cnt, tcp);
	dnsalg_upstream_free(u);
	for (unsigned i = 0; i < n; i++)
		out.queries[i] = atomic_load(&s[i].queries);
	return out;
}

/* One case: stand-ins of these modes, a query, every descriptor closed. */
static struct run one(const enum mode *modes, const bool *v4, unsigned n, uint32_t timeout_ms,
		      bool tcp)
{
	int fds = fd_count();
	struct standin s[4];
	for (unsigned i = 0; i < n; i++)
		standin_start(&s[i], modes[i], v4[i]);
	struct run r = ask(s, n, v4, timeout_ms, tcp);
	for (unsigned i = 0; i < n; i++)
		standin_stop(&s[i]);
	assert_int_equal(fd_count(), fds);
	return r;
}

#define ONE(tcp, timeout, ...) \
	one((const enum mode[]){ __VA_ARGS__ }, v4s, sizeof((const enum mode[]){ __VA_ARGS__ }) / sizeof(enum mode), timeout, tcp)

static void udp_good_answer(void **state)
{
	(void)state;
	const bool v4s[] = { false };
	struct run r = ONE(false, 1000, UDP_GOOD);
	assert_int_equal(r.r, 0);
	assert_int_equal(r.last, 1);
	assert_int_equal(r.refused, 0);
	assert_int_equal(r.queries[0], 1);
	assert_true(r.ms < 500);
}

static void udp_v4_mapped(void **state)
{
	(void)state;
	const bool v4s[] = { true };
	struct run r = ONE(false, 1000, UDP_GOOD);
	assert_int_equal(r.r, 0);
	assert_int_equal(r.last, 1);
}

/* The first upstream silent: the second, on another port, answers within
 * its share of the timeout.  A transport that used the first one's port
 * for both would time out. */
static void udp_per_upstream_ports(void **state)
{
	(void)state;
	{
		const bool v4s[] = { false, false };
		struct run r = ONE(false, 1000, UDP_SILENT, UDP_GOOD);
		assert_int_equal(r.r, 0);
		assert_int_equal(r.last, 1);
		assert_int_equal(r.queries[0], 1);
		assert_int_equal(r.queries[1], 1);
		assert_true(r.ms >= 480);      /* the first waited its share, 500 ms */
		assert_true(r.ms < 1000);
	}
	{
		/* the same across families: ::1 silent, then 127.0.0.1 */
		const bool v4s[] = { false, true };
		struct run r = ONE(false, 600, UDP_SILENT, UDP_GOOD);
		assert_int_equal(r.r, 0);
		assert_int_equal(r.last, 1);
		assert_true(r.ms >= 280 && r.ms < 600);
	}
	{
		/* all silent: the whole timeout, not more */
		const bool v4s[] = { false, true, false };
		struct run r = ONE(false, 600, UDP_SILENT, UDP_SILENT, UDP_SILENT);
		assert_int_equal(r.r, DNSALG_ETIMEOUT);
		assert_int_equal(r.queries[0] + r.queries[1] + r.queries[2], 3);
		assert_true(r.ms >= 580 && r.ms < 900);
	}
}

/* Within a share of the timeout, well under it: a query that waited for
 * nothing. */
#define QUICK_MS 150

/* The first upstream silent: the first DNSALG_HEALTH_FAILS queries wait out
 * its share, then it is DOWN and asked last; when the second falls silent
 * and the first answers again, one query waits out the second's share and
 * finds the first (an answer from a DOWN upstream makes it UP at once),
 * which is asked first from then on. */
static void udp_down_upstream_asked_last(void **state)
{
	(void)state;
	int fds = fd_count();
	struct standin s[2];
	standin_start(&s[0], UDP_SILENT, false);
	standin_start(&s[1], UDP_GOOD, false);
	const bool v4s[] = { false, false };
	struct dnsalg_counters cnt;
	struct dnsalg_upstream *u = upstream_of(s, 2, v4s, 400, &cnt);
	struct run r;
	for (unsigned k = 0; k < DNSALG_HEALTH_FAILS; k++) {
		assert_int_equal(atomic_load(&cnt.upstream_down), 0);
		r = ask_u(u, &cnt, false);
		assert_int_equal(r.r, 0);
		assert_true(r.ms >= 180);            /* the first one's share */
	}
	assert_int_equal(atomic_load(&cnt.upstream_down), 1);
	for (int k = 0; k < 3; k++) {
		r = ask_u(u, &cnt, false);
		assert_int_equal(r.r, 0);
		assert_int_equal(r.last, 1);
		assert_true(r.ms < QUICK_MS);
	}
	assert_int_equal(atomic_load(&s[0].queries), DNSALG_HEALTH_FAILS);
	assert_int_equal(atomic_load(&s[1].queries), DNSALG_HEALTH_FAILS + 3);
	assert_int_equal(atomic_load(&cnt.upstream_skipped), 3);
	/* the second one falls silent and the first answers again */
	s[1].mode = UDP_SILENT;
	s[0].mode = UDP_GOOD;
	r = ask_u(u, &cnt, false);
	assert_int_equal(r.r, 0);
	assert_true(r.ms >= 180);
	assert_int_equal(atomic_load(&cnt.upstream_up), 1);
	r = ask_u(u, &cnt, false);
	assert_int_equal(r.r, 0);
	assert_true(r.ms < QUICK_MS);
	assert_int_equal(atomic_load(&s[0].queries), DNSALG_HEALTH_FAILS + 2);
	assert_int_equal(atomic_load(&s[1].queries), DNSALG_HEALTH_FAILS + 4);
	assert_int_equal(atomic_load(&cnt.upstream_down), 1);
	dnsalg_upstream_free(u);
	standin_stop(&s[0]);
	standin_stop(&s[1]);
	assert_int_equal(fd_count(), fds);
}

/* The health state's key for stand-in s: [::1]:port. */
static struct dnsalg_upstream_addr standin_addr(const struct standin *s)
{
	struct dnsalg_upstream_addr a;
	memset(&a, 0, sizeof a);
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a.sa;
	v6->sin6_family = AF_INET6;
	v6->sin6_addr = in6addr_loopback;
	v6->sin6_port = htons(s->port);
	a.salen = sizeof *v6;
	return a;
}

/* Two transports, as two threads of the daemon, on one health state: a
 * dead first upstream costs a share only until it is DOWN, whichever
 * transport paid; then queries on either go straight to the live one.
 * After the hold one query's trial finds it still dead (the hold
 * doubles, no second DOWN); once it answers again the trial after the
 * next hold finds it, and both transports ask it first again. */
static void udp_health_shared_by_transports(void **state)
{
	(void)state;
	int fds = fd_count();
	struct standin s[2];
	standin_start(&s[0], UDP_SILENT, false);
	standin_start(&s[1], UDP_GOOD, false);
	const bool v4s[] = { false, false };
	struct dnsalg_counters cnt;
	struct dnsalg_upstream *u[2];
	u[0] = upstream_of(s, 2, v4s, 400, &cnt);
	u[1] = transport_of(s, 2, v4s, 400, &cnt);   /* a second thread: the same counters */
	struct dnsalg_health *h = dnsalg_health_new();
	assert_non_null(h);
	dnsalg_upstream_share_health(u[0], h);
	dnsalg_upstream_share_health(u[1], h);
	struct dnsalg_upstream_addr dead = standin_addr(&s[0]);
	struct dnsalg_health_info hi;
	struct run r;
	for (unsigned k = 0; k < DNSALG_HEALTH_FAILS; k++) {
		r = ask_u(u[k % 2], &cnt, false);
		assert_int_equal(r.r, 0);
		assert_int_equal(r.last, 1);
		assert_true(r.ms >= 180);
	}
	assert_int_equal(atomic_load(&cnt.upstream_down), 1);
	assert_int_equal(dnsalg_health_get(h, &dead, &hi), 0);
	assert_true(hi.down);
	for (unsigned k = 0; k < 4; k++) {
		r = ask_u(u[k % 2], &cnt, false);
		assert_int_equal(r.r, 0);
		assert_true(r.ms < QUICK_MS);
	}
	assert_int_equal(atomic_load(&s[0].queries), DNSALG_HEALTH_FAILS);
	assert_int_equal(atomic_load(&cnt.upstream_skipped), 4);
	/* the hold runs out: one trial, still dead */
	atomic_fetch_add(&skew_ms, DNSALG_HEALTH_HOLD_MS);
	r = ask_u(u[1], &cnt, false);
	assert_int_equal(r.r, 0);
	assert_true(r.ms >= 180);
	r = ask_u(u[0], &cnt, false);
	assert_true(r.ms < QUICK_MS);
	assert_int_equal(atomic_load(&s[0].queries), DNSALG_HEALTH_FAILS + 1);
	assert_int_equal(atomic_load(&cnt.upstream_down), 1);
	assert_int_equal(dnsalg_health_get(h, &dead, &hi), 0);
	assert_true(hi.down);
	assert_int_equal(hi.hold_ms, 2 * DNSALG_HEALTH_HOLD_MS);
	/* back: not asked while held, then the trial finds it */
	s[0].mode = UDP_GOOD;
	r = ask_u(u[0], &cnt, false);
	assert_true(r.ms < QUICK_MS);
	assert_int_equal(atomic_load(&s[0].queries), DNSALG_HEALTH_FAILS + 1);
	atomic_fetch_add(&skew_ms, 2 * DNSALG_HEALTH_HOLD_MS);
	unsigned q1 = atomic_load(&s[1].queries);
	r = ask_u(u[0], &cnt, false);
	assert_int_equal(r.r, 0);
	assert_true(r.ms < QUICK_MS);
	assert_int_equal(atomic_load(&s[0].queries), DNSALG_HEALTH_FAILS + 2);
	assert_int_equal(atomic_load(&cnt.upstream_up), 1);
	assert_int_equal(dnsalg_health_get(h, &dead, &hi), 0);
	assert_false(hi.down);
	/* and the other transport asks it first too */
	r = ask_u(u[1], &cnt, false);
	assert_int_equal(r.r, 0);
	assert_true(r.ms < QUICK_MS);
	assert_int_equal(atomic_load(&s[0].queries), DNSALG_HEALTH_FAILS + 3);
	assert_int_equal(atomic_load(&s[1].queries), q1);
	dnsalg_upstream_free(u[0]);
	dnsalg_upstream_free(u[1]);
	dnsalg_health_free(h);
	standin_stop(&s[0]);
	standin_stop(&s[1]);
	atomic_store(&skew_ms, 0);
	assert_int_equal(fd_count(), fds);
}

/* A closed port (ICMP port unreachable): on to the next at once. */
static void udp_closed_port_next(void **state)
{
	(void)state;
	int fds = fd_count();
	struct standin s[2];
	standin_start(&s[0], UDP_SILENT, false);
	standin_start(&s[1], UDP_GOOD, false);
	standin_stop(&s[0]);   /* its port is closed now */
	const bool v4s[] = { false, false };
	struct run r = ask(s, 2, v4s, 2000, false);
	standin_stop(&s[1]);
	assert_int_equal(fd_count(), fds);
	assert_int_equal(r.r, 0);
	assert_true(r.ms < 500);
}

static void udp_wrong_id_then_right(void **state)
{
	(void)state;
	const bool v4s[] = { false };
	struct run r = ONE(false, 1000, UDP_WRONG_ID);
	assert_int_equal(r.r, 0);
	assert_int_equal(r.last, 1);
	assert_int_equal(r.refused, 1);
}

/* A datagram from the upstream's address but another port never reaches
 * the transport (not even as a refused one): the connected socket's
 * kernel filter drops it. */
static void udp_other_source_port(void **state)
{
	(void)state;
	const bool v4s[] = { false };
	struct run r = ONE(false, 1000, UDP_OTHER_PORT);
	assert_int_equal(r.r, 0);
	assert_int_equal(r.last, 1);
	assert_int_equal(r.refused, 0);
	const bool v4m[] = { true };
	r = one((const enum mode[]){ UDP_OTHER_PORT }, v4m, 1, 1000, false);
	assert_int_equal(r.r, 0);
	assert_int_equal(r.last, 1);
}

/* Two TSIG records: ldns 1.8.3 would leak one; refused before it parses. */
static void udp_two_tsig_refused(void **state)
{
	(void)state;
	const bool v4s[] = { false };
	struct run r = ONE(false, 400, UDP_TSIG2);
	assert_int_equal(r.r, DNSALG_ETIMEOUT);
	assert_int_equal(r.refused, 1);
	assert_true(r.ms >= 380);      /* waited on for a good one */
}

static void udp_garbage_refused(void **state)
{
	(void)state;
	const bool v4s[] = { false };
	struct run r = ONE(false, 400, UDP_GARBAGE);
	assert_int_equal(r.r, DNSALG_ETIMEOUT);
	assert_int_equal(r.refused, 4);
	/* and the good answer after an oversize one is still taken */
	r = ONE(false, 1000, UDP_BIG_THEN_GOOD);
	assert_int_equal(r.r, 0);
	assert_int_equal(r.last, 1);
	assert_int_equal(r.refused, 1);
}

static void tcp_good_answer(void **state)
{
	(void)state;
	const bool v4s[] = { false };
	struct run r = ONE(true, 1000, TCP_GOOD);
	assert_int_equal(r.r, 0);
	assert_int_equal(r.last, 1);
	assert_int_equal(r.queries[0], 1);
	const bool v4m[] = { true };
	r = one((const enum mode[]){ TCP_GOOD }, v4m, 1, 1000, true);
	assert_int_equal(r.r, 0);
	assert_int_equal(r.last, 1);
}

static void tcp_refused(void **state)
{
	(void)state;
	const bool v4s[] = { false };
	struct run r = ONE(true, 600, TCP_TSIG2);
	assert_int_equal(r.r, DNSALG_ETIMEOUT);
	assert_int_equal(r.refused, 1);
	assert_true(r.ms < 400);   /* a bad answer ends a TCP try at once */
	/* an answer cut short: the deadline, then nothing */
	r = ONE(true, 400, TCP_GARBAGE);
	assert_int_equal(r.r, DNSALG_ETIMEOUT);
	assert_true(r.ms >= 380 && r.ms < 800);
	/* a bad first upstream, then a good one on its own port */
	const bool v4two[] = { false, true };
	r = one((const enum mode[]){ TCP_TSIG2, TCP_GOOD }, v4two, 2, 1000, true);
	assert_int_equal(r.r, 0);
	assert_int_equal(r.last, 1);
	assert_int_equal(r.refused, 1);
}

/* Accepts, never answers: back within the deadline. */
static void tcp_silent_deadline(void **state)
{
	(void)state;
	const bool v4s[] = { false };
	struct run r = ONE(true, 500, TCP_SILENT);
	assert_int_equal(r.r, DNSALG_ETIMEOUT);
	assert_int_equal(r.queries[0], 1);
	assert_true(r.ms >= 480 && r.ms < 900);
	/* silent first, good second: the second within its share */
	const bool v4two[] = { false, false };
	r = one((const enum mode[]){ TCP_SILENT, TCP_GOOD }, v4two, 2, 800, true);
	assert_int_equal(r.r, 0);
	assert_true(r.ms >= 380 && r.ms < 800);
}

/* A closed TCP port: refused at once, nothing left open. */
static void tcp_closed_port(void **state)
{
	(void)state;
	int fds = fd_count();
	struct standin s[1];
	standin_start(&s[0], TCP_GOOD, false);
	standin_stop(&s[0]);
	const bool v4s[] = { false };
	struct run r = ask(s, 1, v4s, 1000, true);
	assert_int_equal(fd_count(), fds);
	assert_int_equal(r.r, DNSALG_ETIMEOUT);
	assert_true(r.ms < 500);
}

/* A refused TCP connection is a failed try: costs nothing in time, but
 * after DNSALG_HEALTH_FAILS of them the upstream is DOWN and asked last. */
static void tcp_refused_upstream_down(void **state)
{
	(void)state;
	int fds = fd_count();
	struct standin s[2];
	standin_start(&s[0], TCP_GOOD, false);
	standin_start(&s[1], TCP_KEEP, false);
	standin_stop(&s[0]);   /* its port is closed now */
	const bool v4s[] = { false, false };
	struct dnsalg_counters cnt;
	struct dnsalg_upstream *u = upstream_of(s, 2, v4s, 1000, &cnt);
	for (unsigned k = 0; k < DNSALG_HEALTH_FAILS + 2; k++) {
		struct run r = ask_u(u, &cnt, true);
		assert_int_equal(r.r, 0);
		assert_true(r.ms < QUICK_MS);
		assert_int_equal(atomic_load(&cnt.upstream_down), 1u * (k + 1 >= DNSALG_HEALTH_FAILS));
	}
	assert_int_equal(atomic_load(&cnt.upstream_skipped), 2);
	dnsalg_upstream_free(u);
	standin_stop(&s[1]);
	assert_int_equal(fd_count(), fds);
}

/* Queries over TCP share one connection while the upstream keeps it,
 * whichever thread asks (two transports on one keep, as the daemon's
 * threads); one idle longer than the keep holds them is closed and a new
 * one opened; a bad answer closes the connection it came on. */
static void tcp_connection_kept(void **state)
{
	(void)state;
	int fds = fd_count();
	struct standin s[1];
	const bool v4s[] = { false };
	standin_start(&s[0], TCP_KEEP, false);
	struct dnsalg_counters cnt;
	struct dnsalg_upstream *u[2];
	struct dnsalg_upstream_keep *k = dnsalg_upstream_keep_new();
	assert_non_null(k);
	u[0] = upstream_of(s, 1, v4s, 1000, &cnt);
	struct dnsalg_opts o;
	dnsalg_opts_defaults(&o);
	o.n_upstreams = 1;
	inet_pton(AF_INET6, "::1", &o.upstreams[0].addr);
	o.upstreams[0].port = s[0].port;
	u[1] = dnsalg_upstream_new(&o, &cnt);
	assert_non_null(u[1]);
	dnsalg_upstream_share(u[0], k);
	dnsalg_upstream_share(u[1], k);
	for (int i = 0; i < 3; i++) {
		struct run r = ask_u(u[i % 2], &cnt, true);
		assert_int_equal(r.r, 0);
		assert_int_equal(r.last, 1);
	}
	assert_int_equal(atomic_load(&s[0].accepts), 1);
	assert_int_equal(atomic_load(&cnt.upstream_tcp_opened), 1);
	assert_int_equal(atomic_load(&cnt.upstream_tcp_reused), 2);
	assert_int_equal(dnsalg_upstream_keep_count(k), 1);
	assert_int_equal(fd_count(), fds + 3);   /* the listener, and the kept connection's two ends */
	atomic_fetch_add(&skew_ms, 9000);        /* not yet too old */
	assert_int_equal(ask_u(u[1], &cnt, true).r, 0);
	assert_int_equal(atomic_load(&s[0].accepts), 1);
	atomic_fetch_add(&skew_ms, 10000);       /* idle 10 s: not used again */
	assert_int_equal(ask_u(u[0], &cnt, true).r, 0);
	assert_int_equal(atomic_load(&s[0].accepts), 2);
	assert_int_equal(atomic_load(&cnt.upstream_tcp_opened), 2);
	assert_int_equal(dnsalg_upstream_keep_count(k), 1);
	atomic_store(&s[0].mode, TCP_TSIG2);
	struct run r = ask_u(u[0], &cnt, true);
	assert_int_equal(r.r, DNSALG_ETIMEOUT);
	assert_int_equal(r.refused, 1);
	assert_int_equal(dnsalg_upstream_keep_count(k), 0);
	atomic_store(&s[0].mode, TCP_KEEP);
	assert_int_equal(ask_u(u[1], &cnt, true).r, 0);
	assert_int_equal(atomic_load(&s[0].accepts), 3);
	assert_int_equal(atomic_load(&cnt.upstream_tcp_reconnects), 0);
	/* idle: closed on time by whoever watches the keep */
	uint64_t now = dnsalg_now_ms(), due = dnsalg_upstream_keep_idle(k, now);
	assert_true(due > now + 9000 && due <= now + DNSALG_UPSTREAM_KEEP_MS);
	int open_fds = fd_count();
	assert_true(dnsalg_upstream_keep_idle(k, due - 1) == due);
	assert_int_equal(fd_count(), open_fds);
	assert_true(dnsalg_upstream_keep_idle(k, due) == UINT64_MAX);
	assert_true(fd_count() <= open_fds - 1);   /* ours at once, the stand-in's end as it sees the close */
	dnsalg_upstream_free(u[0]);
	dnsalg_upstream_free(u[1]);
	dnsalg_upstream_keep_free(k);
	standin_stop(&s[0]);
	atomic_store(&skew_ms, 0);
	assert_int_equal(fd_count(), fds);
}

static void sa_of(struct sockaddr_storage *ss, socklen_t *sl, uint16_t port)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
	a->sin6_family = AF_INET6;
	a->sin6_addr = in6addr_loopback;
	a->sin6_port = htons(port);
	*sl = sizeof *a;
}

/* A transport that follows the daemon's upstream list takes a new list at
 * its next query: the servers it asks, and each one's share of the time. */
static void transport_follows_the_list(void **state)
{
	(void)state;
	int fds = fd_count();
	struct standin s[3];
	standin_start(&s[0], UDP_GOOD, false);
	standin_start(&s[1], UDP_SILENT, false);
	standin_start(&s[2], UDP_GOOD, false);
	const bool v4s[] = { false };
	struct dnsalg_counters cnt;
	struct dnsalg_upstream *u = upstream_of(s, 1, v4s, 600, &cnt);
	struct dnsalg_endpoint ep[3];
	endpoints_of(s, 3, NULL, ep);
	struct dnsalg_upstream_list l;
	assert_int_equal(dnsalg_upstream_list_init(&l, ep, 1, 600), 0);
	dnsalg_upstream_follow(u, &l);
	struct run r = ask_u(u, &cnt, false);
	assert_int_equal(r.r, 0);
	assert_int_equal(atomic_load(&s[0].queries), 1);
	/* the same list again: no new generation */
	uint32_t gen = atomic_load(&l.gen);
	assert_int_equal(dnsalg_upstream_list_set(&l, ep, 1, 600), 0);
	assert_int_equal(atomic_load(&l.gen), gen);
	/* replaced by a silent one and a good one: s[0] is asked no more, the
	 * silent one gets half of the 600 ms, not all of it */
	assert_int_equal(dnsalg_upstream_list_set(&l, ep + 1, 2, 600), 1);
	r = ask_u(u, &cnt, false);
	assert_int_equal(r.r, 0);
	assert_int_equal(atomic_load(&s[0].queries), 1);
	assert_int_equal(atomic_load(&s[1].queries), 1);
	assert_int_equal(atomic_load(&s[2].queries), 1);
	assert_true(r.ms >= 280 && r.ms < 600);
	/* bad lists are refused and change nothing */
	assert_int_equal(dnsalg_upstream_list_set(&l, ep, 0, 600), DNSALG_EINVAL);
	assert_int_equal(dnsalg_upstream_list_set(&l, ep, DNSALG_MAX_UPSTREAMS + 1, 600), DNSALG_EINVAL);
	assert_int_equal(dnsalg_upstream_list_set(&l, ep, 1, 0), DNSALG_EINVAL);
	assert_int_equal(l.n, 2);
	char line[128];
	assert_true(dnsalg_upstream_list_format(l.ep, l.n, line, sizeof line) > 0);
	char want[128];
	snprintf(want, sizeof want, "[::1]:%u, [::1]:%u", s[1].port, s[2].port);
	assert_string_equal(line, want);
	assert_int_equal(dnsalg_upstream_list_format(l.ep, l.n, line, 8), DNSALG_EFULL);
	dnsalg_upstream_free(u);
	dnsalg_upstream_list_fini(&l);
	for (unsigned i = 0; i < 3; i++)
		standin_stop(&s[i]);
	assert_int_equal(fd_count(), fds);
}

/* Changes the list's timeout (servers as they are) once the query under
 * way has reached a stand-in: a reload landing mid-query. */
struct mid_query {
	struct dnsalg_upstream_list *l;
	struct standin *s;          /* the first one asked */
	const struct dnsalg_endpoint *ep;
	unsigned n;
	uint32_t timeout_ms;
	int set;                    /* what dnsalg_upstream_list_set() said; -100 never called */
};

static void *set_mid_query(void *arg)
{
	struct mid_query *m = arg;
	for (int i = 0; i < 5000 && atomic_load(&m->s->queries) == 0; i++)
		usleep(1000);
	if (atomic_load(&m->s->queries) > 0)
		m->set = dnsalg_upstream_list_set(m->l, m->ep, m->n, m->timeout_ms);
	return NULL;
}

/* A reload that changes only timeout_ms moves the list's generation; a
 * transport that follows the list takes the new timeout, shared out again,
 * at its next query, while the one under way keeps the shares it started
 * with.  Two silent stand-ins: a failed query takes the whole timeout, one
 * share each. */
static void transport_follows_the_timeout(void **state)
{
	(void)state;
	int fds = fd_count();
	struct standin s[2];
	standin_start(&s[0], UDP_SILENT, false);
	standin_start(&s[1], UDP_SILENT, false);
	const bool v4s[] = { false, false };
	struct dnsalg_counters cnt;
	struct dnsalg_upstream *u = upstream_of(s, 2, v4s, 1600, &cnt);
	struct dnsalg_endpoint ep[2];
	endpoints_of(s, 2, NULL, ep);
	struct dnsalg_upstream_list l;
	assert_int_equal(dnsalg_upstream_list_init(&l, ep, 2, 1600), 0);
	dnsalg_upstream_follow(u, &l);
	uint32_t gen = atomic_load(&l.gen), ms = 0, g = 0;
	struct dnsalg_endpoint got[DNSALG_MAX_UPSTREAMS];
	assert_int_equal(dnsalg_upstream_list_set(&l, ep, 2, 1600), 0);
	assert_int_equal(atomic_load(&l.gen), gen);
	/* 1600 ms, 800 a server; cut to 200 once the first try is out: the
	 * second try still gets its 800 */
	struct mid_query m = { &l, &s[0], ep, 2, 200, -100 };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, set_mid_query, &m), 0);
	struct run r = ask_u(u, &cnt, false);
	pthread_join(th, NULL);
	assert_int_equal(m.set, 1);
	assert_int_equal(atomic_load(&l.gen), gen + 1);
	assert_int_equal(dnsalg_upstream_list_get(&l, got, &ms, &g), 2);
	assert_int_equal(ms, 200);
	assert_int_equal(g, gen + 1);
	assert_int_equal(r.r, DNSALG_ETIMEOUT);
	assert_int_equal(atomic_load(&s[0].queries), 1);
	assert_int_equal(atomic_load(&s[1].queries), 1);
	if (r.ms < 1550)
		fail_msg("the query under way took %llu ms, not its 1600: the new timeout reached it",
			 (unsigned long long)r.ms);
	/* the next query: 200 ms, 100 a server (the old 1600 or 800 a server
	 * would show as 1600) */
	r = ask_u(u, &cnt, false);
	assert_int_equal(r.r, DNSALG_ETIMEOUT);
	assert_int_equal(atomic_load(&s[0].queries), 2);
	assert_int_equal(atomic_load(&s[1].queries), 2);
	if (r.ms < 190 || r.ms >= 1000)
		fail_msg("the next query took %llu ms, not 200 (100 a server)", (unsigned long long)r.ms);
	dnsalg_upstream_free(u);
	dnsalg_upstream_list_fini(&l);
	for (unsigned i = 0; i < 2; i++)
		standin_stop(&s[i]);
	assert_int_equal(fd_count(), fds);
}

/* A connection put back by another thread after the caller read its clock
 * carries a time past the caller's `now`: it is fresh, not idle. */
static void keep_put_later_than_the_caller_s_clock(void **state)
{
	(void)state;
	int fds = fd_count();
	struct dnsalg_upstream_keep *k = dnsalg_upstream_keep_new();
	struct sockaddr_storage sa;
	socklen_t sl;
	int p[2];
	sa_of(&sa, &sl, 5300);
	assert_int_equal(pipe(p), 0);
	dnsalg_upstream_keep_put(k, p[1], &sa, sl, 5000);
	assert_true(dnsalg_upstream_keep_idle(k, 4990) == 5000 + DNSALG_UPSTREAM_KEEP_MS);
	assert_int_equal(dnsalg_upstream_keep_count(k), 1);
	int fd = dnsalg_upstream_keep_take(k, &sa, sl, 4990);
	assert_int_equal(fd, p[1]);
	close(fd);
	close(p[0]);
	dnsalg_upstream_keep_free(k);
	assert_int_equal(fd_count(), fds);
}

static unsigned wakes;
static void count_wake(void *arg)
{
	assert_ptr_equal(arg, &wakes);
	wakes++;
}

/* The main thread closes idle connections on a deadline from
 * dnsalg_upstream_keep_idle(); one asleep with none known must be woken by
 * the first put back, and only by the first. */
static void keep_wakes_an_unaware_waiter_once(void **state)
{
	(void)state;
	int fds = fd_count();
	struct dnsalg_upstream_keep *k = dnsalg_upstream_keep_new();
	struct sockaddr_storage sa;
	socklen_t sl;
	int p[2];
	sa_of(&sa, &sl, 5300);
	wakes = 0;
	dnsalg_upstream_keep_waker(k, count_wake, &wakes);
	assert_true(dnsalg_upstream_keep_idle(k, 50) == UINT64_MAX);   /* the waiter knows none */
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(pipe(p), 0);
		close(p[0]);
		dnsalg_upstream_keep_put(k, p[1], &sa, sl, 100 + i);
	}
	assert_int_equal(wakes, 1);
	/* it looked and knows a deadline: puts need not wake it */
	assert_true(dnsalg_upstream_keep_idle(k, 200) == 100 + DNSALG_UPSTREAM_KEEP_MS);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	dnsalg_upstream_keep_put(k, p[1], &sa, sl, 300);
	assert_int_equal(wakes, 1);
	/* all taken, it looks again and knows none: the next put wakes it */
	for (int fd; (fd = dnsalg_upstream_keep_take(k, &sa, sl, 400)) >= 0;)
		close(fd);
	assert_true(dnsalg_upstream_keep_idle(k, 400) == UINT64_MAX);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	dnsalg_upstream_keep_put(k, p[1], &sa, sl, 500);
	assert_int_equal(wakes, 2);
	/* all expired at its next look: the same */
	assert_true(dnsalg_upstream_keep_idle(k, 500 + DNSALG_UPSTREAM_KEEP_MS) == UINT64_MAX);
	assert_int_equal(dnsalg_upstream_keep_count(k), 0);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	dnsalg_upstream_keep_put(k, p[1], &sa, sl, 600 + DNSALG_UPSTREAM_KEEP_MS);
	assert_int_equal(wakes, 3);
	dnsalg_upstream_keep_free(k);
	assert_int_equal(fd_count(), fds);
}

/* The keep's bounds: 4 an address, 16 in all, the one idle longest closed
 * beyond either; the one put back last taken first; only for its address;
 * expiry at exactly DNSALG_UPSTREAM_KEEP_MS.  Pipes stand for connections. */
static void keep_bounds_and_order(void **state)
{
	(void)state;
	int fds = fd_count();
	struct dnsalg_upstream_keep *k = dnsalg_upstream_keep_new();
	struct sockaddr_storage sa[5];
	socklen_t sl[5];
	for (unsigned i = 0; i < 5; i++)
		sa_of(&sa[i], &sl[i], (uint16_t)(5300 + i));
	int p[2], rd[6];
	for (unsigned i = 0; i < 6; i++) {   /* six to address 0 at t = 100 + i */
		assert_int_equal(pipe(p), 0);
		rd[i] = p[0];
		dnsalg_upstream_keep_put(k, p[1], &sa[0], sl[0], 100 + i);
	}
	assert_int_equal(dnsalg_upstream_keep_count(k), DNSALG_UPSTREAM_KEEP_PER);
	/* the two oldest were closed: their pipes read an end of file */
	char c;
	for (unsigned i = 0; i < 6; i++) {
		int fl = fcntl(rd[i], F_GETFL);
		fcntl(rd[i], F_SETFL, fl | O_NONBLOCK);
		ssize_t n = read(rd[i], &c, 1);
		if (i < 2)
			assert_int_equal(n, 0);
		else
			assert_true(n < 0 && errno == EAGAIN);
	}
	assert_int_equal(dnsalg_upstream_keep_take(k, &sa[1], sl[1], 110), -1);   /* another address */
	int w = dnsalg_upstream_keep_take(k, &sa[0], sl[0], 110);
	assert_true(w >= 0);
	assert_int_equal(write(w, "x", 1), 1);                     /* the last put back: pipe 5 */
	assert_int_equal(read(rd[5], &c, 1), 1);
	dnsalg_upstream_keep_put(k, w, &sa[0], sl[0], 110);
	/* fill to the total bound with the other addresses, then one more */
	for (unsigned a = 1; a < 5; a++)
		for (unsigned i = 0; i < DNSALG_UPSTREAM_KEEP_PER && dnsalg_upstream_keep_count(k) < DNSALG_UPSTREAM_KEEP_MAX; i++) {
			assert_int_equal(pipe(p), 0);
			close(p[0]);
			dnsalg_upstream_keep_put(k, p[1], &sa[a], sl[a], 200);
		}
	assert_int_equal(dnsalg_upstream_keep_count(k), DNSALG_UPSTREAM_KEEP_MAX);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	dnsalg_upstream_keep_put(k, p[1], &sa[4], sl[4], 300);
	assert_int_equal(dnsalg_upstream_keep_count(k), DNSALG_UPSTREAM_KEEP_MAX);
	assert_int_equal(read(rd[2], &c, 1), 0);                   /* the longest idle of all went */
	/* expiry: at 100 + 10 s those put back at 102..104 are not yet due */
	assert_true(dnsalg_upstream_keep_idle(k, 101 + DNSALG_UPSTREAM_KEEP_MS) == 103 + DNSALG_UPSTREAM_KEEP_MS);
	assert_int_equal(dnsalg_upstream_keep_count(k), DNSALG_UPSTREAM_KEEP_MAX);
	assert_true(dnsalg_upstream_keep_idle(k, 103 + DNSALG_UPSTREAM_KEEP_MS) == 104 + DNSALG_UPSTREAM_KEEP_MS);
	assert_int_equal(dnsalg_upstream_keep_count(k), DNSALG_UPSTREAM_KEEP_MAX - 1);
	/* too old to be taken even before anyone expired it, and closed then */
	assert_int_equal(dnsalg_upstream_keep_take(k, &sa[0], sl[0], 110 + DNSALG_UPSTREAM_KEEP_MS), -1);
	assert_int_equal(dnsalg_upstream_keep_count(k), DNSALG_UPSTREAM_KEEP_MAX - 3);
	assert_int_equal(read(rd[5], &c, 1), 0);
	dnsalg_upstream_keep_free(k);
	for (unsigned i = 0; i < 6; i++)
		close(rd[i]);
	assert_int_equal(fd_count(), fds);
}

/* An upstream that closes after each answer: the closed connection is seen
 * before the next query goes, which takes a new one at once. */
static void tcp_kept_closed_by_upstream(void **state)
{
	(void)state;
	int fds = fd_count();
	struct standin s[1];
	const bool v4s[] = { false };
	standin_start(&s[0], TCP_GOOD, false);
	struct dnsalg_counters cnt;
	struct dnsalg_upstream *u = upstream_of(s, 1, v4s, 1000, &cnt);
	assert_int_equal(ask_u(u, &cnt, true).r, 0);
	usleep(20000);   /* its close has arrived */
	struct run r = ask_u(u, &cnt, true);
	assert_int_equal(r.r, 0);
	assert_int_equal(r.last, 1);
	assert_int_equal(atomic_load(&s[0].accepts), 2);
	assert_int_equal(atomic_load(&cnt.upstream_tcp_opened), 2);
	assert_int_equal(atomic_load(&cnt.upstream_tcp_reused), 0);
	assert_int_equal(atomic_load(&cnt.upstream_tcp_reconnects), 0);
	dnsalg_upstream_free(u);
	standin_stop(&s[0]);
	assert_int_equal(fd_count(), fds);
}

/* An upstream that closes a kept connection when the query is already on
 * it: the query goes again on a new connection, without waiting. */
static void tcp_kept_closed_under_the_query(void **state)
{
	(void)state;
	int fds = fd_count();
	struct standin s[1];
	const bool v4s[] = { false };
	standin_start(&s[0], TCP_KEEP_DROP2, false);
	struct dnsalg_counters cnt;
	struct dnsalg_upstream *u = upstream_of(s, 1, v4s, 1000, &cnt);
	assert_int_equal(ask_u(u, &cnt, true).r, 0);
	struct run r = ask_u(u, &cnt, true);
	assert_int_equal(r.r, 0);
	assert_int_equal(r.last, 1);
	assert_true(r.ms < 400);
	assert_int_equal(atomic_load(&s[0].accepts), 2);
	assert_int_equal(atomic_load(&s[0].queries), 3);
	assert_int_equal(atomic_load(&cnt.upstream_tcp_reconnects), 1);
	assert_int_equal(atomic_load(&cnt.upstream_tcp_opened), 2);
	dnsalg_upstream_free(u);
	standin_stop(&s[0]);
	assert_int_equal(fd_count(), fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wire_good_answer), cmocka_unit_test(wire_header_id_qr),
		cmocka_unit_test(wire_records_past_end), cmocka_unit_test(wire_counts_larger_than_message),
		cmocka_unit_test(wire_compression), cmocka_unit_test(wire_name_length),
		cmocka_unit_test(wire_tsig),
		cmocka_unit_test(wire_question_only_edges),
		cmocka_unit_test(wire_pointer_into_header_and_extended_label),
		cmocka_unit_test(wire_pointer_steps),
		cmocka_unit_test(wire_rdata_ldns_would_read_otherwise),
		cmocka_unit_test(udp_good_answer), cmocka_unit_test(udp_v4_mapped),
		cmocka_unit_test(udp_per_upstream_ports), cmocka_unit_test(udp_down_upstream_asked_last),
		cmocka_unit_test(udp_health_shared_by_transports), cmocka_unit_test(tcp_refused_upstream_down),
		cmocka_unit_test(udp_closed_port_next),
		cmocka_unit_test(udp_wrong_id_then_right), cmocka_unit_test(udp_other_source_port),
		cmocka_unit_test(udp_two_tsig_refused), cmocka_unit_test(udp_garbage_refused),
		cmocka_unit_test(tcp_good_answer), cmocka_unit_test(tcp_refused),
		cmocka_unit_test(tcp_silent_deadline), cmocka_unit_test(tcp_closed_port),
		cmocka_unit_test(tcp_connection_kept), cmocka_unit_test(tcp_kept_closed_by_upstream),
		cmocka_unit_test(tcp_kept_closed_under_the_query), cmocka_unit_test(keep_bounds_and_order),
		cmocka_unit_test(keep_wakes_an_unaware_waiter_once),
		cmocka_unit_test(transport_follows_the_list),
		cmocka_unit_test(transport_follows_the_timeout),
		cmocka_unit_test(keep_put_later_than_the_caller_s_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
