/*
 * A guest with known structure, for `hv profile`, `hv coverage` and their tests:
 *  - counted() is called exactly CALLS times;
 *  - the loop in triangle() runs exactly TRIPS times;
 *  - check() has a branch that is never taken, on a line of its own, so coverage shows that
 *    line unrun and the line after it run.
 * The tests find these lines by the "@marker" comments, so keep one marker per line.
 */
#include "hv.h"

#define CALLS 37
#define TRIPS 100

volatile uint32_t impossible_hits;

__attribute__((noinline, noclone)) uint32_t counted(uint32_t x)
{
    return x * 3u + 1u; /* @counted-body */
}

__attribute__((noinline, noclone)) uint32_t triangle(uint32_t n)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i < n; i++) {
        s += i; /* @loop-body */
    }
    return s;
}

__attribute__((noinline, noclone)) uint32_t check(uint32_t v)
{
    if (v == 0xdeadbeefu) {
        impossible_hits = impossible_hits + 1; /* @never-taken */
    }
    return v ^ 0x5au; /* @after-never-taken */
}

int main(void)
{
    uint32_t acc = 0;
    for (uint32_t k = 0; k < CALLS; k++) {
        acc += counted(k);
    }
    uint32_t tri = triangle(TRIPS);
    uint32_t c = check(acc);
    hv_printf("profile-demo: counted %u times, sum %u, triangle(%u) = %u, check %x\n", CALLS, acc, TRIPS, tri, c);
    return impossible_hits == 0 && tri == TRIPS * (TRIPS - 1) / 2 ? 0 : 1;
}
