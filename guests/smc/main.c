/* Self-modifying code: the guest rewrites its own instructions and checks that the new code
 * runs. Each case prints one line; the first failing check prints what it got and powers off
 * with the case number (1..7 for (a)..(g)) as the fail code.
 *
 *   (a) patch an instruction of a function that has run many times (so a translator holds a
 *       block for it), FENCE.I, call again; also retarget a hot jump
 *   (b) a loop that patches an instruction of its own body (see code.S)
 *   (c) copy functions into a page-aligned RAM buffer, FENCE.I, call; overwrite, call again
 *   (d) a code page whose other words are data written all the time
 *   (e) AMOs (amoadd, amoswap, amoxor) and LR/SC rewrite an instruction word
 *   (f) S mode with Sv32: code executed at one virtual page, rewritten through another virtual
 *       page mapping the same physical page (the alias), FENCE.I
 *   (g) S mode: the executable virtual page is remapped to other physical code (SFENCE.VMA)
 *
 * Code patched without FENCE.I is run too (the spec leaves its result unspecified), but its
 * result is never checked nor kept: nothing printed and no final register or memory value
 * depends on it. Written for this project.
 */
#include "hv.h"

/* code.S */
extern char smc_a[], smc_a_insn[], smc_a_jump[], smc_a_jump_insn[], smc_a_jump_alt[];
extern char smc_b_x[], smc_b_z[], smc_b_w[];
extern char smc_c1[], smc_c1_end[], smc_c2[], smc_c2_end[];
extern char smc_d_insn[];
extern volatile uint32_t smc_d_counter, smc_d_data[64];
extern char smc_e_insn[];
uint32_t smc_a_fn(void) __asm__("smc_a");
uint32_t smc_a_jump_fn(void) __asm__("smc_a_jump");
void smc_b_loop(uint32_t n, uint32_t out[2]);
uint32_t smc_c1_fn(uint32_t n) __asm__("smc_c1");
uint32_t smc_c2_fn(uint32_t x) __asm__("smc_c2");
uint32_t smc_d_fn(uint32_t x);
uint32_t smc_e_fn(void);
uint32_t smc_run_s(uint32_t fn, uint32_t arg);

typedef uint32_t (*fn1_t)(uint32_t);
#define A(p) ((uint32_t)(uintptr_t)(p))

/* ---- encodings --------------------------------------------------------------------------- */
#define R_ZERO 0
#define R_A0 10
static uint32_t enc_addi(uint32_t rd, uint32_t rs1, int32_t imm)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | rd << 7 | 0x13;
}
static uint32_t enc_lui(uint32_t rd, uint32_t imm20) { return imm20 << 12 | rd << 7 | 0x37; }
static uint32_t enc_jal(uint32_t rd, int32_t off)
{
    uint32_t o = (uint32_t)off;
    return ((o >> 20) & 1) << 31 | ((o >> 1) & 0x3ff) << 21 | ((o >> 11) & 1) << 20 |
           ((o >> 12) & 0xff) << 12 | rd << 7 | 0x6f;
}

static void fence_i(void) { __asm__ volatile ("fence.i" ::: "memory"); }
static void poke(void *p, uint32_t w) { *(volatile uint32_t *)p = w; }
static uint32_t peek(const void *p) { return *(const volatile uint32_t *)p; }

/* ---- checks ------------------------------------------------------------------------------ */
static uint32_t ncase, nchecks;

static void check(uint32_t got, uint32_t want)
{
    nchecks++;
    if (got != want) {
        hv_printf("smc: case (%c) failed: check %u: got %08x, expected %08x\n",
                  'a' + ncase - 1, nchecks, got, want);
        hv_exit((int)ncase);
    }
}

static void begin(void) { ncase++; nchecks = 0; }
static void done(const char *what) { hv_printf("smc: (%c) %s: ok\n", 'a' + ncase - 1, what); }

/* ---- (a) --------------------------------------------------------------------------------- */
static uint32_t call_a(uint32_t times)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < times; i++) sum += smc_a_fn();
    return sum;
}

static uint32_t call_a_jump(uint32_t times)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < times; i++) sum += smc_a_jump_fn();
    return sum;
}

static void case_a(void)
{
    begin();
    uint32_t orig = peek(smc_a_insn);
    check(orig, enc_addi(R_A0, R_ZERO, 1));
    check(call_a(1000), 1000);
    poke(smc_a_insn, enc_addi(R_A0, R_ZERO, 2));
    fence_i();
    check(smc_a_fn(), 2);
    check(call_a(1000), 2000);
    poke(smc_a_insn, enc_lui(R_A0, 0x12345));
    fence_i();
    check(call_a(10), 10 * 0x12345000u);
    /* without FENCE.I: the call may run either version; its result is dropped */
    poke(smc_a_insn, enc_addi(R_A0, R_ZERO, 3));
    (void)smc_a_fn();
    fence_i();
    check(call_a(100), 300);
    poke(smc_a_insn, orig);
    fence_i();
    check(call_a(100), 100);

    uint32_t jorig = peek(smc_a_jump_insn);
    check(call_a_jump(1000), 10000);
    poke(smc_a_jump_insn, enc_jal(R_ZERO, (int32_t)(A(smc_a_jump_alt) - A(smc_a_jump_insn))));
    fence_i();
    check(call_a_jump(1000), 20000);
    poke(smc_a_jump_insn, enc_jal(R_ZERO, 4));      /* to "li a0, 99" */
    fence_i();
    check(call_a_jump(10), 990);
    poke(smc_a_jump_insn, jorig);
    fence_i();
    check(call_a_jump(100), 1000);
    done("patch a hot function, FENCE.I, call again");
}

/* ---- (b) --------------------------------------------------------------------------------- */
static void case_b(void)
{
    begin();
    uint32_t out[2];
    const uint32_t n = 1000;
    for (int round = 0; round < 3; round++) {
        out[0] = out[1] = 0xdeadbeef;
        smc_b_loop(n, out);
        check(out[0], n * (n - 1) / 2);
        check(out[1], n * (n + 1) / 2);
        check(peek(smc_b_x), 0x00000e13);
        check(peek(smc_b_z), 0x00000e93);
        check(peek(smc_b_w), 0x00000f13);
    }
    done("a loop patches its own body");
}

/* ---- (c) --------------------------------------------------------------------------------- */
static uint32_t codebuf[1024] __attribute__((aligned(4096)));

static void copy_code(uint32_t *dst, const char *start, const char *end)
{
    const uint32_t *src = (const uint32_t *)(const void *)start;
    uint32_t words = (uint32_t)(end - start) / 4;
    for (uint32_t i = 0; i < words; i++) ((volatile uint32_t *)dst)[i] = src[i];
}

static uint32_t ref_c1(uint32_t n) { uint32_t s = 0; for (uint32_t k = 0; k < n; k++) s += 3 * k + 1; return s; }
static uint32_t ref_c2(uint32_t x)
{
    x ^= 0x5a5a5a5au;
    return ((x << 7) | (x >> 25)) + 0x1234u;
}

static void run_c(fn1_t f, uint32_t (*ref)(uint32_t), uint32_t times)
{
    uint32_t got = 0, want = 0;
    for (uint32_t i = 0; i < times; i++) { got += f(i & 63); want += ref(i & 63); }
    check(got, want);
}

static void case_c(void)
{
    begin();
    fn1_t lo = (fn1_t)(uintptr_t)&codebuf[0];
    fn1_t hi = (fn1_t)(uintptr_t)&codebuf[512];
    check(smc_c1_fn(10), ref_c1(10));
    check(smc_c2_fn(10), ref_c2(10));
    for (int round = 0; round < 8; round++) {
        /* even rounds: c1 at the start of the page, c2 in its second half; odd: swapped */
        int even = (round & 1) == 0;
        copy_code(&codebuf[0], even ? smc_c1 : smc_c2, even ? smc_c1_end : smc_c2_end);
        copy_code(&codebuf[512], even ? smc_c2 : smc_c1, even ? smc_c2_end : smc_c1_end);
        fence_i();
        run_c(lo, even ? ref_c1 : ref_c2, 200);
        run_c(hi, even ? ref_c2 : ref_c1, 200);
    }
    /* the same buffer overwritten with one function, then the other, with a call between */
    for (int round = 0; round < 8; round++) {
        copy_code(&codebuf[0], smc_c1, smc_c1_end);
        fence_i();
        run_c(lo, ref_c1, 50);
        copy_code(&codebuf[0], smc_c2, smc_c2_end);
        fence_i();
        run_c(lo, ref_c2, 50);
    }
    done("copy code to a RAM buffer, FENCE.I, call; overwrite, call again");
}

/* ---- (d) --------------------------------------------------------------------------------- */
static void case_d(void)
{
    begin();
    const uint32_t n = 20000;
    uint32_t bad = 0;
    uint32_t start = smc_d_counter;
    for (uint32_t i = 0; i < n; i++) {
        if (smc_d_fn(i) != i + 7) bad++;
        smc_d_data[i & 63] += i;                 /* a store to the code page, every time */
        smc_d_data[(i * 7) & 63] ^= i << 3;
    }
    check(bad, 0);
    check(smc_d_counter - start, n);
    /* recompute the data words in a shadow and compare them all */
    static uint32_t shadow[64];
    for (uint32_t i = 0; i < n; i++) {
        shadow[i & 63] += i;
        shadow[(i * 7) & 63] ^= i << 3;
    }
    for (uint32_t k = 0; k < 64; k++) check(smc_d_data[k], shadow[k]);
    /* the code on that page still patches normally */
    poke(smc_d_insn, enc_addi(R_A0, R_A0, 9));
    fence_i();
    bad = 0;
    for (uint32_t i = 0; i < 100; i++) {
        if (smc_d_fn(i) != i + 9) bad++;
        smc_d_data[i & 63] = i;
    }
    check(bad, 0);
    poke(smc_d_insn, enc_addi(R_A0, R_A0, 7));
    fence_i();
    check(smc_d_fn(1), 8);
    check(smc_d_counter - start, n + 101);
    done("stores to data words of a code page");
}

/* ---- (e) --------------------------------------------------------------------------------- */
static uint32_t call_e(uint32_t times)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < times; i++) sum += smc_e_fn();
    return sum;
}

static void case_e(void)
{
    begin();
    volatile uint32_t *w = (volatile uint32_t *)(void *)smc_e_insn;
    uint32_t orig = *w, old;
    check(orig, enc_addi(R_A0, R_ZERO, 5));
    check(call_e(1000), 5000);

    __asm__ volatile ("amoadd.w %0, %2, (%1)" : "=r"(old) : "r"(w), "r"(1u << 20) : "memory");
    check(old, orig);
    fence_i();
    check(call_e(1000), 6000);

    __asm__ volatile ("amoswap.w %0, %2, (%1)" : "=r"(old) : "r"(w), "r"(enc_lui(R_A0, 0xabcde)) : "memory");
    check(old, enc_addi(R_A0, R_ZERO, 6));
    fence_i();
    check(call_e(10), 10 * 0xabcde000u);

    /* amoxor turns lui a0, 0xabcde into lui a0, 0xabcdf */
    __asm__ volatile ("amoxor.w %0, %2, (%1)" : "=r"(old) : "r"(w), "r"(1u << 12) : "memory");
    check(old, enc_lui(R_A0, 0xabcde));
    fence_i();
    check(call_e(10), 10 * 0xabcdf000u);

    /* LR/SC: replace the word with addi a0, zero, 8 */
    uint32_t fails = 0, r;
    do {
        __asm__ volatile ("lr.w %0, (%1)" : "=r"(old) : "r"(w) : "memory");
        __asm__ volatile ("sc.w %0, %2, (%1)" : "=r"(r) : "r"(w), "r"(enc_addi(R_A0, R_ZERO, 8)) : "memory");
        if (r) fails++;
    } while (r && fails < 100);
    check(old, enc_lui(R_A0, 0xabcdf));
    check(r, 0);
    fence_i();
    check(call_e(1000), 8000);

    __asm__ volatile ("amoswap.w %0, %2, (%1)" : "=r"(old) : "r"(w), "r"(orig) : "memory");
    check(old, enc_addi(R_A0, R_ZERO, 8));
    fence_i();
    check(call_e(100), 500);
    done("AMOs and LR/SC rewrite an instruction");
}

/* ---- (f), (g): S mode with Sv32 ---------------------------------------------------------- */
#define PTE_V 0x01u
#define PTE_R 0x02u
#define PTE_W 0x04u
#define PTE_X 0x08u
#define PTE_A 0x40u
#define PTE_D 0x80u
#define PTE(pa, flags) (((uint32_t)(pa) >> 12) << 10 | (flags))

#define VA_EXEC  0x40000000u     /* pageA, R+X (later pageB) */
#define VA_ALIAS 0x40001000u     /* pageA, R+W */

static uint32_t root[1024] __attribute__((aligned(4096)));
static uint32_t l0[1024] __attribute__((aligned(4096)));
static uint32_t pageA[1024] __attribute__((aligned(4096)));
static uint32_t pageB[1024] __attribute__((aligned(4096)));

static void setup_paging(void)
{
    /* S may access everything PMP-wise: entry 0 = NAPOT over the whole space, RWX */
    csr_write(pmpaddr0, 0xffffffffu);
    csr_write(pmpcfg0, 0x1fu);
    for (int i = 0; i < 1024; i++) root[i] = l0[i] = 0;
    root[0x80000000u >> 22] = PTE(0x80000000u, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
    root[VA_EXEC >> 22] = PTE(A(l0), PTE_V);
    l0[(VA_EXEC >> 12) & 0x3ff] = PTE(A(pageA), PTE_V | PTE_R | PTE_X | PTE_A);
    l0[(VA_ALIAS >> 12) & 0x3ff] = PTE(A(pageA), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    csr_write(satp, 0x80000000u | (A(root) >> 12));
    __asm__ volatile ("sfence.vma" ::: "memory");
}

static void teardown_paging(void)
{
    csr_write(satp, 0);
    __asm__ volatile ("sfence.vma" ::: "memory");
}

/* These run in S mode (identity-mapped through the superpage at 0x80000000). They return 0,
   or the number of the first failing step. */
static uint32_t s_sum(fn1_t f, uint32_t times)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i < times; i++) s += f(i & 63);
    return s;
}

static uint32_t s_ref(uint32_t (*ref)(uint32_t), uint32_t times)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i < times; i++) s += ref(i & 63);
    return s;
}

static uint32_t s_case_f(uint32_t arg)
{
    fn1_t exec = (fn1_t)(uintptr_t)VA_EXEC;
    volatile uint32_t *alias = (volatile uint32_t *)(uintptr_t)VA_ALIAS;
    for (uint32_t round = 0; round < arg; round++) {
        if (s_sum(exec, 200) != s_ref(ref_c1, 200)) return 1 + 10 * round;
        /* rewrite pageA with c2 through the alias */
        const uint32_t *src = (const uint32_t *)(const void *)smc_c2;
        for (uint32_t i = 0; i < (uint32_t)(smc_c2_end - smc_c2) / 4; i++) alias[i] = src[i];
        fence_i();
        if (s_sum(exec, 200) != s_ref(ref_c2, 200)) return 2 + 10 * round;
        /* and back to c1 */
        src = (const uint32_t *)(const void *)smc_c1;
        for (uint32_t i = 0; i < (uint32_t)(smc_c1_end - smc_c1) / 4; i++) alias[i] = src[i];
        fence_i();
        if (s_sum(exec, 200) != s_ref(ref_c1, 200)) return 3 + 10 * round;
    }
    return 0;
}

static uint32_t s_case_g(uint32_t arg)
{
    fn1_t exec = (fn1_t)(uintptr_t)VA_EXEC;
    volatile uint32_t *pte = &l0[(VA_EXEC >> 12) & 0x3ff];
    for (uint32_t round = 0; round < arg; round++) {
        if (s_sum(exec, 200) != s_ref(ref_c1, 200)) return 1 + 10 * round;       /* pageA: c1 */
        *pte = PTE(A(pageB), PTE_V | PTE_R | PTE_X | PTE_A);
        __asm__ volatile ("sfence.vma" ::: "memory");
        if (s_sum(exec, 200) != s_ref(ref_c2, 200)) return 2 + 10 * round;       /* pageB: c2 */
        *pte = PTE(A(pageA), PTE_V | PTE_R | PTE_X | PTE_A);
        __asm__ volatile ("sfence.vma %0, zero" :: "r"(VA_EXEC) : "memory");
        if (s_sum(exec, 200) != s_ref(ref_c1, 200)) return 3 + 10 * round;
    }
    return 0;
}

static void case_f(void)
{
    begin();
    copy_code(pageA, smc_c1, smc_c1_end);
    fence_i();
    setup_paging();
    check(smc_run_s(A(s_case_f), 4), 0);
    teardown_paging();
    check(pageA[0], peek(smc_c1));
    done("S mode: code rewritten through an alias virtual page, FENCE.I");
}

static void case_g(void)
{
    begin();
    copy_code(pageA, smc_c1, smc_c1_end);
    copy_code(pageB, smc_c2, smc_c2_end);
    fence_i();
    setup_paging();
    check(smc_run_s(A(s_case_g), 4), 0);
    teardown_paging();
    done("S mode: executable page remapped to other code, SFENCE.VMA");
}

int main(void)
{
    hv_puts("smc: self-modifying code\n");
    case_a();
    case_b();
    case_c();
    case_d();
    case_e();
    case_f();
    case_g();
    hv_printf("smc: all %u cases passed\n", ncase);
    return 0;
}
