/*
 * Reads its own code and prints a checksum of it: the binary-patching profiler rewrites the
 * control-flow instructions of every page the guest runs code from, so this shows that a
 * patched guest still reads its original bytes (the tests compare the checksum with patching
 * on and off, and with the ELF's .text). Built without debug info on purpose: it is also the
 * guest whose coverage is function-level only.
 */
#include "hv.h"

extern const uint32_t _start[];   /* first word of .text (common/crt0.S) */
extern const uint32_t __text_end[];

static uint32_t fnv1a(const uint32_t *from, const uint32_t *to)
{
    uint32_t h = 2166136261u;
    for (const volatile uint32_t *p = from; p < to; p++) {
        uint32_t w = *p;
        for (int b = 0; b < 4; b++) {
            h = (h ^ ((w >> (8 * b)) & 0xffu)) * 16777619u;
        }
    }
    return h;
}

int main(void)
{
    uint32_t words = (uint32_t)(__text_end - _start);
    uint32_t first = fnv1a(_start, __text_end);
    uint32_t again = fnv1a(_start, __text_end); /* the code has run (and been patched) by now */
    hv_printf("selfsum: %u words of .text, checksum %08x\n", words, first);
    return first == again ? 0 : 1;
}
