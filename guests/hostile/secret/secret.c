/* hostile-secret: the holder of a secret, for the cross-VM secrecy tests. It writes a 32-byte
 * secret (random-looking, no zero byte; hostile-hunt knows it only masked) into
 *   - every 4 KiB page of its RAM above its image (all of it at the page start, its first
 *     12 bytes again at +0x801, misaligned), up to the end of RAM;
 *   - device registers: the UART scratch register, the PLIC priorities of sources 1..63 (3 bits
 *     each), the enable words of both PLIC contexts and their thresholds (no line is ever
 *     raised, so nothing fires), and mtimecmp (while mie = 0);
 *   - CPU state: mscratch and sscratch;
 * reads every copy back, then keeps it: 20 rounds of a busy loop that checks the device copies,
 * then 20 sleeps of 50 ms of timer time in WFI (mie.MTIE with mstatus.MIE clear: WFI wakes, no
 * trap is taken), checking the registers after each and every RAM copy at the end -- about a
 * second of guest time in all, on QEMU too. A hunter VM running beside it must never read a byte of it, and it must find every
 * copy intact at the end (nobody could write into it either). Nothing here depends on the RAM
 * size, so the transcript is the same for any memory size. Written for this project. */
#include "hv.h"
#include "probe.h"

extern char __heap_start[], __stack_top[], hv_default_trap[];

static const uint8_t secret[32] = {
    0x05, 0x08, 0xeb, 0x9e, 0x81, 0xbf, 0xaa, 0x60, 0x83, 0xaf, 0xca, 0x64, 0x6e, 0x60, 0x79, 0xac,
    0xc5, 0xb3, 0x5e, 0x6e, 0x40, 0xe9, 0xc7, 0xa2, 0xf0, 0xac, 0xce, 0x41, 0xc9, 0x56, 0x58, 0x26,
};

#define PAGE 4096u
#define MISALIGNED_COPY 12u
#define STACK_SIZE 0x10000u
#define PLIC_PRIORITY(s) (PLIC_BASE + 4u * (s))
#define PLIC_ENABLE(ctx, w) (PLIC_BASE + 0x2000u + 0x80u * (ctx) + 4u * (w))
#define PLIC_THRESHOLD(ctx) (PLIC_BASE + 0x200000u + 0x1000u * (ctx))
#define MTIMECMP_LO (CLINT_BASE + 0x4000u)
#define MTIMECMP_HI (CLINT_BASE + 0x4004u)
#define MTIME_LO (CLINT_BASE + 0xbff8u)
#define MTIME_HI (CLINT_BASE + 0xbffcu)
#define MIP_MTIP 0x80u

static uint32_t word(int i)
{
    return secret[4 * i] | secret[4 * i + 1] << 8 | secret[4 * i + 2] << 16 | (uint32_t)secret[4 * i + 3] << 24;
}

/* Three bits of the secret for PLIC source s (1..63). */
static uint32_t priority_bits(uint32_t s)
{
    uint32_t bit = 3 * (s - 1);
    uint32_t v = secret[bit / 8] | secret[(bit / 8 + 1) % 32] << 8;
    return (v >> (bit % 8)) & 7u;
}

static uint32_t ram_start, ram_end, stack_lo, stack_hi;

static int in_stack(uint32_t a) { return a >= stack_lo && a < stack_hi; }

static void write_ram(void)
{
    for (uint32_t a = ram_start; a < ram_end && a != 0; a += PAGE) {
        if (in_stack(a)) continue;
        memcpy((void *)(uintptr_t)a, secret, sizeof secret);
        memcpy((void *)(uintptr_t)(a + 0x801), secret, MISALIGNED_COPY);
    }
}

static uint32_t bad_ram(void)
{
    uint32_t bad = 0;
    for (uint32_t a = ram_start; a < ram_end && a != 0; a += PAGE) {
        if (in_stack(a)) continue;
        const volatile uint32_t *w = (const volatile uint32_t *)(uintptr_t)a;
        for (int i = 0; i < 8; i++) bad += w[i] != word(i);
        if (memcmp((void *)(uintptr_t)(a + 0x801), secret, MISALIGNED_COPY) != 0) bad++;
    }
    return bad;
}

static void write_devices(void)
{
    REG8(UART_BASE + 7) = secret[0];
    for (uint32_t s = 1; s < 64; s++) REG32(PLIC_PRIORITY(s)) = priority_bits(s);
    REG32(PLIC_ENABLE(0, 0)) = word(2) & ~1u;         /* source 0 does not exist */
    REG32(PLIC_ENABLE(0, 1)) = word(3);
    REG32(PLIC_ENABLE(1, 0)) = word(4) & ~1u;
    REG32(PLIC_ENABLE(1, 1)) = word(5);
    REG32(PLIC_THRESHOLD(0)) = secret[24] & 7u;
    REG32(PLIC_THRESHOLD(1)) = secret[25] & 7u;
    REG32(MTIMECMP_HI) = word(6);
    REG32(MTIMECMP_LO) = word(7);
}

static uint32_t bad_devices(int with_mtimecmp)
{
    uint32_t bad = 0;
    bad += REG8(UART_BASE + 7) != secret[0];
    for (uint32_t s = 1; s < 64; s++) bad += REG32(PLIC_PRIORITY(s)) != priority_bits(s);
    bad += REG32(PLIC_ENABLE(0, 0)) != (word(2) & ~1u);
    bad += REG32(PLIC_ENABLE(0, 1)) != word(3);
    bad += REG32(PLIC_ENABLE(1, 0)) != (word(4) & ~1u);
    bad += REG32(PLIC_ENABLE(1, 1)) != word(5);
    bad += REG32(PLIC_THRESHOLD(0)) != (secret[24] & 7u);
    bad += REG32(PLIC_THRESHOLD(1)) != (secret[25] & 7u);
    if (with_mtimecmp) {
        bad += REG32(MTIMECMP_HI) != word(6);
        bad += REG32(MTIMECMP_LO) != word(7);
    }
    bad += csr_read(mscratch) != word(0);
    bad += csr_read(sscratch) != word(1);
    return bad;
}

static void sleep_ticks(uint32_t ticks)
{
    uint32_t hi, lo;
    do {
        hi = REG32(MTIME_HI);
        lo = REG32(MTIME_LO);
    } while (hi != REG32(MTIME_HI));
    uint32_t nlo = lo + ticks, nhi = hi + (nlo < lo);
    REG32(MTIMECMP_LO) = 0xffffffffu;
    REG32(MTIMECMP_HI) = nhi;
    REG32(MTIMECMP_LO) = nlo;
    while (!(csr_read(mip) & MIP_MTIP)) {
        __asm__ volatile ("wfi");
    }
}

int main(void)
{
    csr_write(mie, 0);
    csr_clear(mstatus, 0xa);                       /* MIE, SIE: nothing is ever taken */
    probe_install();                               /* for finding the end of RAM */
    hv_puts("hostile-secret: holding a secret\n");
    stack_hi = (uint32_t)(uintptr_t)__stack_top;
    stack_lo = stack_hi - STACK_SIZE;
    ram_start = ((uint32_t)(uintptr_t)__heap_start + PAGE - 1) & ~(PAGE - 1);
    ram_end = probe_ram_end(stack_hi);
    csr_write(mtvec, (uint32_t)(uintptr_t)hv_default_trap);

    csr_write(mscratch, word(0));
    csr_write(sscratch, word(1));
    write_devices();
    write_ram();
    uint32_t bad = bad_devices(1) + bad_ram();
    hv_printf("hostile-secret: written into every page of RAM above its image, the UART scratch register, "
              "the PLIC priorities, enables and thresholds, mtimecmp, mscratch and sscratch: %s\n", bad ? "MISMATCH" : "read back ok");

    for (int round = 0; round < 20; round++) {
        for (volatile uint32_t i = 0; i < 20000; i++) { }
        bad += bad_devices(1);
    }
    csr_write(mie, MIP_MTIP);                       /* WFI wakes on the timer; MIE stays clear */
    for (int round = 0; round < 20; round++) {
        sleep_ticks(500000);                        /* 50 ms */
        bad += bad_devices(0);
    }
    bad += bad_ram();
    csr_write(mie, 0);
    REG32(MTIMECMP_LO) = 0xffffffffu;
    REG32(MTIMECMP_HI) = 0xffffffffu;
    if (bad) {
        hv_printf("hostile-secret: %u copies changed while it waited\n", bad);
        return 1;
    }
    hv_puts("hostile-secret: kept it for 20 busy rounds and 20 sleeps of 50 ms: every copy intact\n");
    return 0;
}
