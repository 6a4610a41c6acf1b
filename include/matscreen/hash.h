/*
 * Content hashes for provenance and change detection (not cryptographic).
 *
 * 64-bit FNV-1a over bytes, printed as 16 lowercase hex digits. It identifies a record's bytes so
 * that a nightly run can tell unchanged records from changed ones; collisions are astronomically
 * unlikely at database sizes (2^-64 per pair) and harmless (a record is recomputed, never lost).
 */
#ifndef MATSCREEN_HASH_H
#define MATSCREEN_HASH_H

#include <stddef.h>
#include <stdint.h>

#define MS_HASH_INIT 0xcbf29ce484222325ULL

/* Continues hash h over n bytes of data; start with MS_HASH_INIT. */
uint64_t ms_hash_update(uint64_t h, const void *data, size_t n);

/* Hash of n bytes of data. */
uint64_t ms_hash_bytes(const void *data, size_t n);

/* Writes h as 16 hex digits plus NUL into out (17 bytes). */
void ms_hash_format(uint64_t h, char out[17]);

#endif /* MATSCREEN_HASH_H */
