/* libFuzzer target: a control-socket line through the JSON parser and the
 * peer/lease table handlers, as a local daemon (or anyone with socket
 * access) could send it; and the same bytes as a reply through the reader
 * pshim6ctl uses on what the daemon sends back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "tables.h"

static struct jobj o;
static struct tables t;
static int inited;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	char *text = malloc(size + 1), *s;
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	const char *end = NULL;
	if ((s = json_str_dup(text, &end))) {
		/* never longer than its escaped form, and *end within the text */
		if (end < text || end > text + strlen(text) || strlen(s) > (size_t)(end - text))
			abort();
		free(s);
	}
	free(text);
	if (!inited) {
		tables_init(&t, 64, 64, 7);
		inited = 1;
	}
	if (json_parse((const char *)data, size, &o, &why)) {
		if (!why)
			abort();
		return 0;
	}
	if (o.used > JSON_BUF || o.n > JSON_MAX_MEMBERS)
		abort();
	const char *cmd = json_str(&o, "cmd");
	if (cmd && !strcmp(cmd, "lease"))
		tables_lease(&t, NULL, &o, 0, &why);
	else
		tables_peer_locators(&t, &o, size * 1000000000ULL, &why);
	tables_expire(&t, size * 500000000ULL);
	if (t.peers.n > 64 || t.leases.n > 64)
		abort();
	return 0;
}
