/*
 * Deterministic random numbers.
 *
 * xoshiro256** (Blackman and Vigna) seeded through splitmix64. Streams are derived from
 * (seed, key), where key is a stable identifier of the work item (a record key, a tree index),
 * never from the MPI rank, so results do not depend on the number of ranks. rand() is never used.
 */
#ifndef MATSCREEN_RNG_H
#define MATSCREEN_RNG_H

#include <stdint.h>

typedef struct ms_rng {
    uint64_t s[4];
} ms_rng;

/* Seeds rng with the stream for (seed, key). Not collective. */
void ms_rng_seed(ms_rng *rng, uint64_t seed, uint64_t key);

/* Next 64 random bits. */
uint64_t ms_rng_next(ms_rng *rng);

/* Uniform double in [0, 1) with 53 random bits. */
double ms_rng_uniform(ms_rng *rng);

/* Uniform integer in [0, n) without modulo bias; n must be > 0. */
uint64_t ms_rng_below(ms_rng *rng, uint64_t n);

/* Standard normal deviate (Box-Muller, no cached second value so streams stay simple). */
double ms_rng_normal(ms_rng *rng);

#endif /* MATSCREEN_RNG_H */
