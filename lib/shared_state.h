#ifndef MENZZO_SHARED_STATE_H
#define MENZZO_SHARED_STATE_H

/*
 * The shared-state file (SPEC §10): what every process serving one store
 * shares and may lose at a reboot — the rate limit's buckets and the request
 * counters (metrics.h).  One file of
 * fixed size (MENZZO_STATE_FILE, by default beside the cache: config.h), mapped
 * once per process and updated with C11 atomics: no lock, no transaction,
 * no system call on a request once the file is mapped (but one identity
 * check a second).  The pattern of Apache httpd's scoreboard and nginx's
 * limit_req zone.
 *
 * Never trusted: a file that is missing, of another size or version, or
 * with a damaged header is rebuilt empty (written beside it and put in
 * place by link or rename, so that a process that has the old one mapped
 * never sees it cut short); a file of another user, one with group or
 * other permissions, a symbolic link or a directory is never used; every
 * slot index is bounded; a value no process could have written (a bucket
 * beyond its burst: damage, or a boot with a longer uptime) reads as an
 * empty one, and a value of a boot with a shorter uptime as a full one, so
 * that a file kept across a reboot needs no boot id.  Whoever cannot use
 * the file lets the request through and logs why (the rate limit fails
 * open).
 *
 * Layout (native byte order: the file never leaves its host):
 *   header  magic "MZSTATE\0", version, slot count, file size, the
 *           caller's layout id
 *   slots   SHARED_SLOTS of { key (a token id, 0: free), value }, found by
 *           linear probing from key % SHARED_SLOTS; a key is claimed by
 *           compare-and-swap and never given back (until the file is
 *           rebuilt or removed).
 *   extra   the caller's region (the metrics' counters), 64-byte aligned,
 *           zeroed when the file is built; a program whose region has
 *           another size or layout id takes the file as foreign and
 *           rebuilds it.
 */

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SHARED_SLOTS 16384

struct shared_state;

/*
 * Maps the file at path, with a region of extra bytes after the slots whose
 * layout the caller names by layout, creating or rebuilding it as needed.
 * Returns 0 with *out set, or -1 with a sentence in why (the path and the
 * cause).
 */
int shared_state_open(const char *path, size_t extra, uint64_t layout, struct shared_state **out, char *why,
    size_t whylen);
/*
 * Maps the file at path to read it only (a maintainer's look, whoever owns
 * it): never created, rebuilt or written; one of another size, version or
 * layout is refused.  0, or -1 with why.
 */
int shared_state_peek(const char *path, size_t extra, uint64_t layout, struct shared_state **out, char *why,
    size_t whylen);
void shared_state_close(struct shared_state *s);

/*
 * Whether the map should be reopened before use: its header no longer
 * valid (checked each call), or, at most once a second of now_ns, the file
 * deleted, replaced or resized under it.
 */
int shared_state_stale(struct shared_state *s, uint64_t now_ns);

/*
 * Empties the state at path for every process: its header is made invalid
 * in place (every process that maps it sees that at its next request and
 * maps a new, empty file), then the file is removed.  A symbolic link, or
 * a file of another user, is removed itself, never written.  0, or an
 * errno value (ENOENT when there was none).
 */
int shared_state_remove(const char *path);

/* The mapped region (for fault_recover_set: a file cut short under the map faults there). */
void shared_state_region(const struct shared_state *s, const void **lo, size_t *len);

/* The caller's region (64-byte aligned), of the extra bytes given to shared_state_open. */
void *shared_state_extra(const struct shared_state *s);

/* The value of key's slot (key ≥ 1), claimed if need be; NULL when no slot is left for it. */
_Atomic uint64_t *shared_state_slot(struct shared_state *s, uint32_t key);

#endif
