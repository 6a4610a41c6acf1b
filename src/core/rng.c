/* xoshiro256** with splitmix64 seeding; see rng.h. */
#include "matscreen/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void ms_rng_seed(ms_rng *rng, uint64_t seed, uint64_t key)
{
    /* Mix key through splitmix first so that neighbouring keys give unrelated streams. */
    uint64_t k = key;
    uint64_t x = seed ^ splitmix64(&k);
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

uint64_t ms_rng_next(ms_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double ms_rng_uniform(ms_rng *rng) { return (double)(ms_rng_next(rng) >> 11) * 0x1.0p-53; }

uint64_t ms_rng_below(ms_rng *rng, uint64_t n)
{
    /* Rejection sampling on the top of the range removes modulo bias. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do r = ms_rng_next(rng);
    while (r >= limit);
    return r % n;
}

double ms_rng_normal(ms_rng *rng)
{
    double u1 = 1.0 - ms_rng_uniform(rng); /* (0, 1], so log is finite */
    double u2 = ms_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
