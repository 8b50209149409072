/*
 * A responder is handed its socket by the web server and never resolves a
 * host name; but libfcgi's socket code (FCGX_OpenSocket, unused here) calls
 * gethostbyname, and in a static executable glibc's gethostbyname drags in
 * its resolver, which cannot work there (it loads NSS modules at run time)
 * and makes the linker warn for every program.  The static link (the
 * Makefile's STATIC) redirects that one reference here with
 * -Wl,--wrap=gethostbyname; glibc's own function is left as it is, and no
 * other build refers to this one.  It answers what glibc's would without
 * those modules: no such host.
 */
#include <netdb.h>
#include <stddef.h>

struct hostent *__wrap_gethostbyname(const char *name);

struct hostent *
__wrap_gethostbyname(const char *name)
{
	(void)name;
	h_errno = HOST_NOT_FOUND;
	return NULL;
}
