/* minios user tasks. Everything here runs in U mode, so code and constants are placed in the
 * user region (.utext, .urodata) -- the only kernel-image pages a task can see -- and nothing
 * may live in .data/.bss/.rodata: a task's variables are on its own stack. Each line of output
 * is one SYS_WRITE. Every task but the first waits for its predecessor before it writes, so
 * the transcript's order does not depend on where the timer ticks land.
 */
#include "minios.h"

#define USER __attribute__((section(".utext")))
#define URO  __attribute__((section(".urodata")))
#define SYSCALL __attribute__((always_inline)) static inline

SYSCALL uint32_t sys3(uint32_t n, uint32_t a, uint32_t b, uint32_t c)
{
    register uint32_t a0 __asm__("a0") = a;
    register uint32_t a1 __asm__("a1") = b;
    register uint32_t a2 __asm__("a2") = c;
    register uint32_t a7 __asm__("a7") = n;
    __asm__ volatile ("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

SYSCALL uint32_t sys_write(const char *b, uint32_t n) { return sys3(SYS_WRITE, (uint32_t)(uintptr_t)b, n, 0); }
SYSCALL void sys_yield(void) { sys3(SYS_YIELD, 0, 0, 0); }
SYSCALL void sys_sleep(uint32_t t) { sys3(SYS_SLEEP, t, 0, 0); }
SYSCALL uint32_t sys_getpid(void) { return sys3(SYS_GETPID, 0, 0, 0); }
SYSCALL uint32_t sys_uptime(void) { return sys3(SYS_UPTIME, 0, 0, 0); }
SYSCALL int32_t sys_readline(char *b, uint32_t max, uint32_t timeout)
{
    return (int32_t)sys3(SYS_READLINE, (uint32_t)(uintptr_t)b, max, timeout);
}
SYSCALL uint32_t sys_wait(uint32_t pid) { return sys3(SYS_WAIT, pid, 0, 0); }

USER void task_return(uint32_t code)
{
    sys3(SYS_EXIT, code, 0, 0);
    for (;;) { }
}

/* ---- building a line on the stack --------------------------------------------------------- */
struct line { uint32_t n; char b[124]; };

USER static void l_ch(struct line *l, char c) { if (l->n < sizeof l->b) l->b[l->n++] = c; }
USER static void l_str(struct line *l, const char *s) { while (*s) l_ch(l, *s++); }
USER static void l_dec(struct line *l, uint32_t v)
{
    char t[10];
    int k = 0;
    do { t[k++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (k) l_ch(l, t[--k]);
}
USER static void l_hex(struct line *l, uint32_t v)
{
    for (int s = 28; s >= 0; s -= 4) {
        uint32_t d = (v >> s) & 15;
        l_ch(l, (char)(d < 10 ? '0' + d : 'a' + d - 10));
    }
}
static const char s_nl[] URO = "\n";
static const char s_colon[] URO = ": ";
/* "[pid] name: " */
USER static void l_start(struct line *l, const char *name)
{
    l->n = 0;
    l_ch(l, '[');
    l_dec(l, sys_getpid());
    l_ch(l, ']');
    l_ch(l, ' ');
    l_str(l, name);
    l_str(l, s_colon);
}
USER static void l_send(struct line *l) { l_str(l, s_nl); sys_write(l->b, l->n); }

/* ---- 1: reads one line of console input, with a timeout ---------------------------------- */
static const char s_reader[] URO = "reader";
static const char s_wait[] URO = "waiting for a line of input";
static const char s_got1[] URO = "got \"";
static const char s_got2[] URO = "\" (";
static const char s_got3[] URO = " bytes)";
static const char s_none[] URO = "no input, timed out";

USER uint32_t task_reader(uint32_t pid)
{
    struct line l;
    char buf[64];
    (void)pid;
    l_start(&l, s_reader);
    l_str(&l, s_wait);
    l_send(&l);
    int32_t n = sys_readline(buf, sizeof buf, READ_TIMEOUT);
    l_start(&l, s_reader);
    if (n < 0) {
        l_str(&l, s_none);
        l_send(&l);
        return 0;
    }
    l_str(&l, s_got1);
    for (int32_t i = 0; i < n; i++) l_ch(&l, buf[i]);
    l_str(&l, s_got2);
    l_dec(&l, (uint32_t)n);
    l_str(&l, s_got3);
    l_send(&l);
    return (uint32_t)n;
}

/* ---- 2: CPU-bound, counts primes by trial division ---------------------------------------- */
static const char s_primes[] URO = "primes";
static const char s_pr1[] URO = " primes below ";
static const char s_pr2[] URO = ", largest ";

USER uint32_t task_primes(uint32_t pid)
{
    uint32_t count = 1, largest = 2;
    for (uint32_t n = 3; n < PRIME_LIMIT; n += 2) {
        uint32_t prime = 1;
        for (uint32_t d = 3; d * d <= n; d += 2)
            if (n % d == 0) { prime = 0; break; }
        if (prime) { count++; largest = n; }
    }
    sys_wait(pid - 1);
    struct line l;
    l_start(&l, s_primes);
    l_dec(&l, count);
    l_str(&l, s_pr1);
    l_dec(&l, PRIME_LIMIT);
    l_str(&l, s_pr2);
    l_dec(&l, largest);
    l_send(&l);
    return count;
}

/* ---- 3: CPU-bound, FNV-1a over a xorshift stream, yielding now and then ------------------ */
static const char s_hash[] URO = "hash";
static const char s_h1[] URO = "fnv1a-32 of ";
static const char s_h2[] URO = " xorshift bytes = 0x";

USER uint32_t task_hash(uint32_t pid)
{
    uint32_t x = 0x12345678u, h = 0x811c9dc5u;
    for (uint32_t i = 0; i < HASH_BYTES; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        h = (h ^ (x & 0xff)) * 16777619u;
        if ((i & 0xffff) == 0xffff) sys_yield();
    }
    sys_wait(pid - 1);
    struct line l;
    l_start(&l, s_hash);
    l_str(&l, s_h1);
    l_dec(&l, HASH_BYTES);
    l_str(&l, s_h2);
    l_hex(&l, h);
    l_send(&l);
    return h;
}

/* ---- 4: touches an unmapped address: the kernel kills it --------------------------------- */
static const char s_faulty[] URO = "faulty";
static const char s_f1[] URO = "loading from 0x";

USER uint32_t task_faulty(uint32_t pid)
{
    sys_wait(pid - 1);
    struct line l;
    l_start(&l, s_faulty);
    l_str(&l, s_f1);
    l_hex(&l, FAULT_VA);
    l_send(&l);
    return *(volatile uint32_t *)(uintptr_t)FAULT_VA;
}

/* ---- 5: executes a privileged instruction: the kernel kills it --------------------------- */
static const char s_rogue[] URO = "rogue";
static const char s_r1[] URO = "writing satp from user mode";

USER uint32_t task_rogue(uint32_t pid)
{
    sys_wait(pid - 1);
    struct line l;
    l_start(&l, s_rogue);
    l_str(&l, s_r1);
    l_send(&l);
    __asm__ volatile (".word 0x18001073");      /* csrw satp, zero (ROGUE_INSN) */
    return 0;
}

/* ---- 6: sleeps and yields ----------------------------------------------------------------- */
static const char s_sleeper[] URO = "sleeper";
static const char s_s1[] URO = "5 naps of 2 ticks done, at least 10 ticks passed";
static const char s_s2[] URO = "5 naps of 2 ticks done, but fewer than 10 ticks passed";

USER uint32_t task_sleeper(uint32_t pid)
{
    uint32_t t0 = sys_uptime();
    for (int i = 0; i < 5; i++) {
        sys_sleep(2);
        sys_yield();
    }
    uint32_t dt = sys_uptime() - t0;
    sys_wait(pid - 1);
    struct line l;
    l_start(&l, s_sleeper);
    l_str(&l, dt >= 10 ? s_s1 : s_s2);
    l_send(&l);
    return dt >= 10 ? 0 : 1;
}
