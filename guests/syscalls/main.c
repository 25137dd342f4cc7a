/* A system-call-heavy user-mode guest, for comparing engines on the trap path: M mode sets a
 * PMP entry over all memory and drops to U mode, which runs a loop of 200,000 ECALLs
 * (getpid, add, mix, tick, sum6; handled by the M-mode fast path in entry.S) interleaved with
 * some computation whose checksum depends on every result. Output goes through a write system
 * call (handled in C) and the program ends with exit(0). The M side counts every call it
 * handles and checks the user's own count at exit. Written for this project.
 */
#include "hv.h"

#define SYS_GETPID  1
#define SYS_ADD     2
#define SYS_MIX     3
#define SYS_TICK    4
#define SYS_SUM6    5
#define SYS_WRITE   64
#define SYS_EXIT    93
#define ENOSYS      38

#define ITERATIONS  40000u           /* 5 calls each: 200,000 ECALLs */

extern volatile uint32_t sys_count;
void enter_user(uint32_t fn, uint32_t user_sp, uint32_t m_sp) __attribute__((noreturn));

/* ---- user side --------------------------------------------------------------------------- */
static uint32_t u_calls;             /* system calls the user made */

static inline uint32_t sys6(uint32_t n, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint32_t f)
{
    register uint32_t a0 __asm__("a0") = a;
    register uint32_t a1 __asm__("a1") = b;
    register uint32_t a2 __asm__("a2") = c;
    register uint32_t a3 __asm__("a3") = d;
    register uint32_t a4 __asm__("a4") = e;
    register uint32_t a5 __asm__("a5") = f;
    register uint32_t a7 __asm__("a7") = n;
    u_calls++;
    __asm__ volatile ("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a7) : "memory");
    return a0;
}
#define sys0(n) sys6((n), 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6((n), (a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6((n), (a), (b), 0, 0, 0, 0)

static void u_write(const char *s, uint32_t len) { sys2(SYS_WRITE, (uint32_t)(uintptr_t)s, len); }

static void u_puts(const char *s)
{
    uint32_t n = 0;
    while (s[n]) n++;
    u_write(s, n);
}

static void u_puthex(uint32_t v)
{
    char b[8];
    for (int i = 7; i >= 0; i--, v >>= 4) b[i] = "0123456789abcdef"[v & 15];
    u_write(b, 8);
}

static void u_putdec(uint32_t v)
{
    char b[10];
    int n = 10;
    do { b[--n] = (char)('0' + v % 10); v /= 10; } while (v);
    u_write(b + n, (uint32_t)(10 - n));
}

/* What the M side computes for SYS_MIX, done in U to check it. */
static uint32_t mix_ref(uint32_t x)
{
    x ^= x >> 15;
    x *= 0x2c1b3c6du;
    return x ^ (x >> 12);
}

static void __attribute__((noreturn)) u_main(void)
{
    uint32_t h = 0x811c9dc5u, x = 12345u, bad = 0;
    uint32_t t0 = sys0(SYS_TICK);         /* the M side's count so far (0) */
    for (uint32_t i = 0; i < ITERATIONS; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;              /* xorshift32 */
        uint32_t pid = sys0(SYS_GETPID);
        uint32_t sum = sys2(SYS_ADD, x, i);
        uint32_t m = sys1(SYS_MIX, h);
        uint32_t s6 = sys6(SYS_SUM6, i, x, h, 1, 2, 3);
        uint32_t tick = sys0(SYS_TICK);
        if (pid != 42 || sum != x + i || m != mix_ref(h) || s6 != i + x + h + 6 || tick != t0 + u_calls - 1)
            bad++;
        h = (h ^ pid) * 16777619u;
        h += sum;
        h ^= m;
        h = (h << 5 | h >> 27) + s6 + tick;
    }
    /* an unknown system call returns -ENOSYS */
    if (sys1(12345, 7) != (uint32_t)-ENOSYS) bad++;
    uint32_t calls = u_calls;
    u_puts("user: ");
    u_putdec(calls);
    u_puts(" system calls, checksum ");
    u_puthex(h);
    u_puts(bad ? ", MISMATCHES\n" : ", all results as expected\n");
    sys2(SYS_EXIT, bad ? 1u : 0u, u_calls + 1);              /* + this exit call */
    for (;;) { }
}

/* ---- M side ------------------------------------------------------------------------------ */
struct frame { uint32_t x[32]; };

/* Called from entry.S for everything the fast path does not handle. */
void sys_slow(struct frame *f)
{
    uint32_t cause = csr_read(mcause), epc = csr_read(mepc);
    if (cause != 8) hv_unexpected_trap(cause, epc, csr_read(mtval));
    uint32_t *a = &f->x[10];
    switch (f->x[17]) {
    case SYS_WRITE: {
        const char *s = (const char *)(uintptr_t)a[0];
        for (uint32_t i = 0; i < a[1]; i++) hv_putc(s[i]);
        break;
    }
    case SYS_EXIT: {
        uint32_t handled = sys_count + 1;
        hv_printf("syscalls: %u ECALLs handled in M mode, user counted %u\n", handled, a[1]);
        hv_exit(a[0] == 0 && handled == a[1] ? 0 : 2);
    }
    default:
        a[0] = (uint32_t)-ENOSYS;
        break;
    }
    sys_count++;
    csr_write(mepc, epc + 4);
}

static uint32_t user_stack[2048] __attribute__((aligned(16)));
static uint32_t m_stack[1024] __attribute__((aligned(16)));

int main(void)
{
    hv_puts("syscalls: entering U mode\n");
    /* PMP entry 0: NAPOT over the whole address space, RWX, so U may use all memory */
    csr_write(pmpaddr0, 0xffffffffu);
    csr_write(pmpcfg0, 0x1fu);
    enter_user((uint32_t)(uintptr_t)u_main, (uint32_t)(uintptr_t)&user_stack[2048],
               (uint32_t)(uintptr_t)&m_stack[1024]);
}
