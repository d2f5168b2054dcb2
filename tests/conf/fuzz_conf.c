/*
 * libFuzzer target for the config loader.  Oracle beyond "no crash": any
 * input that loads must print a normal form that loads again and prints the
 * same text (the -nv round trip).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pshim6/conf.h"

static struct pshim6_conf conf;

/* libconfig 1.5 (Debian 12) leaks the partial string buffer when a syntax
 * error interrupts a string literal (strbuf_append in its scanner).  That
 * leak is in the library, bounded per parse, and not ours to fix here. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig.so\n";
}

static void count(void *arg, const char *file, unsigned line, const char *msg)
{
	(*(unsigned *)arg)++;
	if (!msg[0])
		abort(); /* every error has a message */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = 0;
	unsigned n = 0;
	int rc = pshim6_conf_load_string(text, "fuzz.conf", &conf, count, &n);
	free(text);
	if ((rc == 0) != (n == 0))
		abort(); /* failure iff an error was reported */
	if (rc)
		return 0;
	char *a = NULL, *b = NULL;
	size_t al, bl;
	FILE *f = open_memstream(&a, &al);
	pshim6_conf_print(f, &conf);
	fclose(f);
	if (pshim6_conf_load_string(a, "fuzz.conf", &conf, NULL, NULL))
		abort(); /* normal form must load */
	f = open_memstream(&b, &bl);
	pshim6_conf_print(f, &conf);
	fclose(f);
	if (al != bl || memcmp(a, b, al))
		abort(); /* normal form must be a fixed point */
	free(a);
	free(b);
	return 0;
}
