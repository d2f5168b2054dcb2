/*
 * Preloaded after gcc's libasan when kea-dhcp6 runs the sanitized hook
 * (tests/run).  It only defines swift_demangle, and that is the whole fix:
 *
 * A preloaded ASan runtime starts lazily, at the first malloc.  In
 * kea-dhcp6 that is inside p11-kit's constructor, in newlocale(), which holds
 * glibc's locale lock for writing.  While starting, ASan looks up
 * swift_demangle with dlsym(); the failed lookup leaves an error that
 * dlerror() translates, and the translation takes the same lock for reading.
 * glibc refuses the nested read lock (EDEADLK) but the unlock after it still
 * runs, so the lock's reader count ends one below zero, and at exit
 * p11-kit's destructor waits in freelocale() for readers that never leave.
 * With the symbol defined the lookup succeeds, dlerror() has nothing to
 * translate, and kea-dhcp6 exits normally at SIGTERM.
 *
 * ASan calls it only for names that look like Swift's, which C and C++ never
 * produce; NULL means "not demangled" in its interface.
 */
#include <stddef.h>

char *swift_demangle(const char *mangled, size_t len, char *out, size_t *outlen, unsigned flags);

char *swift_demangle(const char *mangled, size_t len, char *out, size_t *outlen, unsigned flags)
{
	(void)mangled; (void)len; (void)out; (void)outlen; (void)flags;
	return NULL;
}
