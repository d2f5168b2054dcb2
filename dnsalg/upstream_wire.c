/*
 * The check an upstream answer passes before ldns parses it.  ldns copes
 * with most malformed input, but not all of it cheaply or without leaks
 * (1.8.3's ldns_wire2pkt leaks every TSIG record of the additional section
 * but the last); and an answer that is not for our query must not cost a
 * parse at all, since an off-path sender may send as many as it likes.
 *
 * The walk must see the records ldns will see.  ldns reads an RR's rdata
 * field by field by its type's descriptor and resumes after the last field
 * it read, not at the end RDLENGTH gives: an A record whose RDLENGTH is 7
 * hides the 3 octets after its address, where ldns starts the next record
 * (a TSIG, say, that this walk stepped over).  So every record is also read
 * by ldns_wire2rr alone, and one whose fields do not end where RDLENGTH says
 * is refused.
 */
#include "dnsalg.h"

#define WIRE_HEADER   12
#define WIRE_NAME_MAX 255   /* RFC 1035 §3.1, expanded, root label included */
#define WIRE_STEPS_MAX 127  /* labels and pointers of one name: as many as 255 octets allow */
#define WIRE_TYPE_TSIG 250

static unsigned rd16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/*
 * Walk the name at *pos; on 0, *pos is just past it in the record.
 * A pointer must point before the run of labels it ends (so every jump
 * goes further back and no chain can loop) and past the header; the
 * expanded name must fit WIRE_NAME_MAX.
 */
static int name_walk(const uint8_t *m, size_t len, size_t *pos)
{
	size_t p = *pos, run = p, end = 0;
	unsigned octets = 1, steps = 0;   /* the root label */
	for (;;) {
		if (p >= len)
			return DNSALG_EWIRE;
		uint8_t c = m[p];
		if (c == 0)
			break;
		if (++steps > WIRE_STEPS_MAX)
			return DNSALG_EWIRE;
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= len)
				return DNSALG_EWIRE;
			size_t t = (size_t)(c & 0x3f) << 8 | m[p + 1];
			if (!end)
				end = p + 2;
			if (t < WIRE_HEADER || t >= run)
				return DNSALG_EWIRE;
			p = run = t;
			continue;
		}
		if (c & 0xc0)   /* 0x40 and 0x80: extended and reserved label types */
			return DNSALG_EWIRE;
		octets += 1u + c;
		if (octets > WIRE_NAME_MAX)
			return DNSALG_EWIRE;
		p += 1u + c;
	}
	*pos = end ? end : p + 1;
	return 0;
}

int dnsalg_upstream_wire_check(const uint8_t *m, size_t len, uint16_t id)
{
	if (len < WIRE_HEADER)
		return DNSALG_EWIRE;
	if (rd16(m) != id || !(m[2] & 0x80))
		return DNSALG_EMISMATCH;
	unsigned qd = rd16(m + 4);
	unsigned long rrs = (unsigned long)rd16(m + 6) + rd16(m + 8) + rd16(m + 10);
	size_t pos = WIRE_HEADER;
	for (unsigned i = 0; i < qd; i++) {
		if (name_walk(m, len, &pos) < 0 || len - pos < 4)
			return DNSALG_EWIRE;
		pos += 4;
	}
	for (unsigned long i = 0; i < rrs; i++) {
		size_t start = pos;
		if (name_walk(m, len, &pos) < 0 || len - pos < 10)
			return DNSALG_EWIRE;
		size_t rdlen = rd16(m + pos + 8);
		if (len - pos - 10 < rdlen)
			return DNSALG_EWIRE;
		/* The ALG signs nothing: a TSIG answer is not meant for it. */
		if (rd16(m + pos) == WIRE_TYPE_TSIG)
			return DNSALG_ETSIG;
		pos += 10 + rdlen;
		ldns_rr *rr = NULL;
		size_t at = start;
		ldns_status st = ldns_wire2rr(&rr, m, len, &at, LDNS_SECTION_ANSWER);
		ldns_rr_free(rr);
		if (st != LDNS_STATUS_OK || at != pos)
			return DNSALG_EWIRE;
	}
	return 0;
}
