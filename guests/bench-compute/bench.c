/*
 * bench-compute: a deterministic integer workload for comparing the engines.
 *
 * Each of ROUNDS rounds runs, on fresh pseudo-random data (xorshift32):
 *   sort    quicksort (median of three, insertion sort below 16) of SORT_N words,
 *           then heapsort of the same data reversed; both checked sorted and equal
 *   crc32   table-driven CRC-32 over CRC_LEN bytes, cross-checked bitwise on a slice
 *   matmul  MAT_N x MAT_N integer matrix product, three times, fed back
 *   sieve   Eratosthenes up to SIEVE_N (checked: 78498 primes below 10^6)
 *   math    gcd, Newton isqrt, Miller-Rabin with 64-bit mulmod (libgcc's
 *           __umoddi3), Collatz; MR cross-checked against the sieve
 * Every phase folds its results into a checksum; the output is the per-phase
 * checksums and the final one.  A failed self-check prints a line and exits 1.
 *
 * Measured instruction count (minstret read at the end of main, BENCH_DEBUG build,
 * qemu-system-riscv32 -icount shift=0; the release build runs the same code):
 *   304,723,093 instructions with ROUNDS = 5
 *   (per phase, BENCH_PROFILE: sort 74.1 M, crc32 22.4 M, matmul 29.1 M,
 *    sieve 79.0 M, math 98.2 M)
 * Debug builds (rebuild normally afterwards: bin/ holds the committed ELF):
 *   make -C guests -B bin/bench-compute.elf CFLAGS_bench-compute=-DBENCH_DEBUG
 *   make -C guests -B bin/bench-compute.elf CFLAGS_bench-compute=-DBENCH_PROFILE
 */
#include "hv.h"

#define ROUNDS   5
#define SORT_N   32000
#define CRC_LEN  (256 * 1024)
#define MAT_N    64
#define SIEVE_N  1000000
#define MR_FROM  0x7fff0000u      /* Miller-Rabin range for the 32-bit test */
#define MR_COUNT 6000

/* Big arrays live in .bss, away from the code pages. */
static uint32_t sort_a[SORT_N];
static uint32_t sort_b[SORT_N];
static uint8_t  crc_buf[CRC_LEN];
static uint32_t crc_table[256];
static uint32_t mat_a[MAT_N][MAT_N];
static uint32_t mat_b[MAT_N][MAT_N];
static uint32_t mat_c[MAT_N][MAT_N];
static uint8_t  composite[SIEVE_N + 1];

static uint32_t rng = 2463534242u;

#ifdef BENCH_PROFILE                 /* per-phase counts as well (perturbs the total) */
#define BENCH_DEBUG
#else
#define TIMED(k, e) (e)
#endif

static uint32_t xorshift32(void)
{
    uint32_t x = rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng = x;
}

static uint32_t mix(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 0x01000193u;
    return h ^ (h >> 15);
}

static void fail(const char *what) __attribute__((noreturn));
static void fail(const char *what)
{
    hv_printf("bench-compute: self-check failed: %s\n", what);
    hv_exit(1);
}

/* ---- sort ---------------------------------------------------------------- */

static void insertion_sort(uint32_t *a, int lo, int hi)
{
    for (int i = lo + 1; i <= hi; i++) {
        uint32_t v = a[i];
        int j = i - 1;
        while (j >= lo && a[j] > v) { a[j + 1] = a[j]; j--; }
        a[j + 1] = v;
    }
}

static void swap32(uint32_t *a, int i, int j) { uint32_t t = a[i]; a[i] = a[j]; a[j] = t; }

static void quicksort(uint32_t *a, int lo, int hi)
{
    while (hi - lo >= 16) {
        int mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) swap32(a, mid, lo);
        if (a[hi] < a[lo]) swap32(a, hi, lo);
        if (a[hi] < a[mid]) swap32(a, hi, mid);
        uint32_t p = a[mid];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < p) i++;
            while (a[j] > p) j--;
            if (i <= j) { swap32(a, i, j); i++; j--; }
        }
        /* recurse into the smaller half, loop on the larger */
        if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
        else { quicksort(a, i, hi); hi = j; }
    }
    insertion_sort(a, lo, hi);
}

static void sift_down(uint32_t *a, int root, int n)
{
    for (;;) {
        int child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && a[child + 1] > a[child]) child++;
        if (a[root] >= a[child]) return;
        swap32(a, root, child);
        root = child;
    }
}

static void heapsort(uint32_t *a, int n)
{
    for (int i = n / 2 - 1; i >= 0; i--) sift_down(a, i, n);
    for (int end = n - 1; end > 0; end--) {
        swap32(a, 0, end);
        sift_down(a, 0, end);
    }
}

static __attribute__((noinline)) uint32_t phase_sort(void)
{
    for (int i = 0; i < SORT_N; i++) {
        sort_a[i] = xorshift32() % 1000003u;   /* plenty of duplicates too */
        sort_b[SORT_N - 1 - i] = sort_a[i];
    }
    quicksort(sort_a, 0, SORT_N - 1);
    heapsort(sort_b, SORT_N);
    uint32_t h = 0;
    for (int i = 0; i < SORT_N; i++) {
        if (i && sort_a[i - 1] > sort_a[i]) fail("quicksort order");
        if (sort_a[i] != sort_b[i]) fail("heapsort differs");
        h = mix(h, sort_a[i] + (uint32_t)i);
    }
    return h;
}

/* ---- CRC-32 ---------------------------------------------------------------- */

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc32_table(const uint8_t *p, uint32_t len)
{
    uint32_t c = 0xffffffffu;
    while (len--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

static uint32_t crc32_bitwise(const uint8_t *p, uint32_t len)
{
    uint32_t c = 0xffffffffu;
    while (len--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static __attribute__((noinline)) uint32_t phase_crc(void)
{
    uint32_t lcg = xorshift32();
    for (uint32_t i = 0; i < CRC_LEN; i++) {
        lcg = lcg * 1664525u + 1013904223u;
        crc_buf[i] = (uint8_t)(lcg >> 24);
    }
    uint32_t whole = crc32_table(crc_buf, CRC_LEN);
    uint32_t off = xorshift32() % (CRC_LEN - 4096);
    if (crc32_table(crc_buf + off, 4096) != crc32_bitwise(crc_buf + off, 4096))
        fail("crc32 table vs bitwise");
    return mix(whole, off);
}

/* ---- matrix multiply ------------------------------------------------------------ */

static void matmul(uint32_t c[MAT_N][MAT_N], uint32_t a[MAT_N][MAT_N], uint32_t b[MAT_N][MAT_N])
{
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            uint32_t s = 0;
            for (int k = 0; k < MAT_N; k++) s += a[i][k] * b[k][j];
            c[i][j] = s;
        }
}

static __attribute__((noinline)) uint32_t phase_matmul(void)
{
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            mat_a[i][j] = (xorshift32() & 0xff) - 128;
            mat_b[i][j] = (xorshift32() & 0xff) - 128;
        }
    uint32_t h = 0;
    for (int rep = 0; rep < 3; rep++) {
        matmul(mat_c, mat_a, mat_b);
        uint32_t trace = 0;
        for (int i = 0; i < MAT_N; i++) {
            trace += mat_c[i][i];
            for (int j = 0; j < MAT_N; j++) {
                h = mix(h, mat_c[i][j]);
                mat_a[i][j] = (mat_c[i][j] >> 7) % 257u;   /* feed back, small again */
            }
        }
        h = mix(h, trace);
    }
    return h;
}

/* ---- sieve -------------------------------------------------------------------- */

static __attribute__((noinline)) uint32_t phase_sieve(uint32_t *count_out)
{
    memset(composite, 0, sizeof composite);
    composite[0] = composite[1] = 1;
    for (uint32_t i = 2; i * i <= SIEVE_N; i++)
        if (!composite[i])
            for (uint32_t j = i * i; j <= SIEVE_N; j += i) composite[j] = 1;
    uint32_t count = 0, sum = 0;
    for (uint32_t i = 2; i <= SIEVE_N; i++)
        if (!composite[i]) { count++; sum += i * count; }
    if (count != 78498) fail("prime count below 10^6");
    *count_out = count;
    return mix(sum, count);
}

/* ---- integer math --------------------------------------------------------------- */

static uint32_t gcd(uint32_t a, uint32_t b)
{
    while (b) { uint32_t t = a % b; a = b; b = t; }
    return a;
}

static uint32_t isqrt(uint32_t n)
{
    if (n < 2) return n;
    uint32_t x = n, y = (x + 1) / 2;
    while (y < x) { x = y; y = (x + n / x) / 2; }
    return x;
}

static uint32_t mulmod(uint32_t a, uint32_t b, uint32_t m)
{
    return (uint32_t)(((uint64_t)a * b) % m);
}

static uint32_t powmod(uint32_t b, uint32_t e, uint32_t m)
{
    uint32_t r = 1;
    b %= m;
    while (e) {
        if (e & 1) r = mulmod(r, b, m);
        b = mulmod(b, b, m);
        e >>= 1;
    }
    return r;
}

/* deterministic for n < 4,759,123,141 with bases 2, 7, 61 */
static int is_prime(uint32_t n)
{
    static const uint32_t bases[3] = { 2, 7, 61 };
    if (n < 2) return 0;
    if (n % 2 == 0) return n == 2;
    uint32_t d = n - 1;
    int s = 0;
    while (!(d & 1)) { d >>= 1; s++; }
    for (int i = 0; i < 3; i++) {
        uint32_t a = bases[i];
        if (a % n == 0) continue;
        uint32_t x = powmod(a, d, n);
        if (x == 1 || x == n - 1) continue;
        int r;
        for (r = 1; r < s; r++) {
            x = mulmod(x, x, n);
            if (x == n - 1) break;
        }
        if (r == s) return 0;
    }
    return 1;
}

static __attribute__((noinline)) uint32_t phase_math(void)
{
    uint32_t h = 0;

    for (int i = 0; i < 20000; i++) {
        uint32_t a = xorshift32(), b = xorshift32() >> (i & 15);
        uint32_t g = gcd(a, b | 1);
        h = mix(h, g);
    }

    for (int i = 0; i < 20000; i++) {
        uint32_t n = xorshift32();
        uint32_t r = isqrt(n);
        if ((uint64_t)r * r > n || ((uint64_t)r + 1) * (r + 1) <= n) fail("isqrt");
        h = mix(h, r);
    }

    /* Miller-Rabin must agree with the sieve on a sampled stretch below 10^6 */
    uint32_t start = xorshift32() % (SIEVE_N - 3000);
    for (uint32_t n = start; n < start + 3000; n++)
        if (is_prime(n) != !composite[n]) fail("miller-rabin vs sieve");

    uint32_t primes = 0;
    uint32_t base = MR_FROM + (xorshift32() & 0xffff);
    for (uint32_t n = base; n < base + MR_COUNT; n++)
        if (is_prime(n)) { primes++; h = mix(h, n); }
    h = mix(h, primes);

    uint32_t steps = 0;
    for (uint32_t n = 1; n < 3000; n++) {
        uint32_t x = n + (rng & 0xff);
        while (x != 1) { x = (x & 1) ? 3 * x + 1 : x / 2; steps++; }
    }
    h = mix(h, steps);

    /* signed division and remainder, truncating toward zero */
    int32_t sacc = 0;
    for (int i = 0; i < 5000; i++) {
        int32_t a = (int32_t)xorshift32(), b = (int32_t)(xorshift32() >> 20) - 2048;
        if (b == 0 || b == -1) b = 7;           /* no INT_MIN / -1 in C */
        int32_t q = a / b, r = a % b;
        if (q * b + r != a) fail("signed divide identity");
        sacc += q ^ r;
    }
    return mix(h, (uint32_t)sacc);
}

#ifdef BENCH_DEBUG
static uint64_t read_minstret(void)
{
    uint32_t hi, lo, hi2;
    do {
        hi = csr_read(minstreth);
        lo = csr_read(minstret);
        hi2 = csr_read(minstreth);
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}

static void print_count(const char *what, uint64_t n)
{
    hv_printf("%s%u%09u\n", what, (uint32_t)(n / 1000000000u), (uint32_t)(n % 1000000000u));
}
#endif

#ifdef BENCH_PROFILE
static uint64_t phase_insns[5];
#define TIMED(k, e) ({ uint64_t t0_ = read_minstret(); uint32_t r_ = (e); \
                       phase_insns[k] += read_minstret() - t0_; r_; })
#endif

int main(void)
{
    uint32_t h_sort = 0, h_crc = 0, h_mat = 0, h_sieve = 0, h_math = 0, primes = 0;

    crc_init();
    if (crc32_table((const uint8_t *)"123456789", 9) != 0xcbf43926u ||
        crc32_bitwise((const uint8_t *)"123456789", 9) != 0xcbf43926u)
        fail("crc32 check value");

    hv_printf("bench-compute: %d rounds\n", ROUNDS);
    for (int round = 0; round < ROUNDS; round++) {
        h_sort  = mix(h_sort, TIMED(0, phase_sort()));
        h_crc   = mix(h_crc, TIMED(1, phase_crc()));
        h_mat   = mix(h_mat, TIMED(2, phase_matmul()));
        h_sieve = mix(h_sieve, TIMED(3, phase_sieve(&primes)));
        h_math  = mix(h_math, TIMED(4, phase_math()));
    }
    hv_printf("sort:   %08x\n", h_sort);
    hv_printf("crc32:  %08x\n", h_crc);
    hv_printf("matmul: %08x\n", h_mat);
    hv_printf("sieve:  %08x (%u primes below %u)\n", h_sieve, primes, SIEVE_N);
    hv_printf("math:   %08x\n", h_math);

    uint32_t sum = mix(mix(mix(mix(mix(0, h_sort), h_crc), h_mat), h_sieve), h_math);
    hv_printf("checksum: %08x\n", sum);
#ifdef BENCH_PROFILE
    static const char *const names[5] = { "  sort   ", "  crc32  ", "  matmul ", "  sieve  ", "  math   " };
    for (int k = 0; k < 5; k++) print_count(names[k], phase_insns[k]);
#endif
#ifdef BENCH_DEBUG
    print_count("minstret: ", read_minstret());
#endif
    return 0;
}
