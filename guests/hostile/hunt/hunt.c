/* hostile-hunt: the secret hunter, for the cross-VM secrecy tests. Run beside hostile-secret
 * (which fills its RAM and device registers with a 32-byte secret), it reads everything it can
 * address and reports whether any 4-byte piece of that secret turned up -- which, for a 32-byte
 * secret, catches any copy and any fragment of 7 bytes or more at any alignment. It knows the
 * secret only masked (XOR 0x5a), so its own image never holds it. What it reads:
 *
 *   csrs     mscratch, sscratch, satp, stvec, sepc, scause, stval, medeleg, mideleg, mie must
 *            be 0 at entry (their reset values: another VM's hart state must not show here);
 *   devices  the UART scratch register, PLIC priorities 1..63, both contexts' enables and
 *            thresholds must be at reset (0); mtimecmp must hold no piece of the secret;
 *   M mode   every 4 KiB page below RAM: the holes (nothing mapped on QEMU's virt or here)
 *            must fault; device and platform-specific pages
 *            that read are read (4 words) and must hold no piece of the secret; RAM is read
 *            word by word to its end and must hold no piece of the secret, and be all zeros
 *            outside its own image, stack and the device tree QEMU puts in RAM (a1 at entry:
 *            QEMU copies its 1 MiB device-tree buffer there, leftovers after the packed tree);
 *            above RAM a load every 64 KiB must fault;
 *   Sv32     again from S mode through its own page table (1024 identity 4 MiB superpages,
 *            PMP open): every 64 KiB below and above RAM, the first 32 bytes of every RAM page;
 *            then superpages that map physical addresses above 4 GiB must fault.
 *
 * It prints only what is the same on QEMU and here, whatever the RAM size, and fails with
 * exit code 1..9 naming the first check that did not hold. Written for this project. */
#include "hv.h"
#include "probe.h"

extern char __heap_start[], __stack_top[];
uint32_t scan_zero(uint32_t from, uint32_t to);

/* hostile-secret's secret, each byte XOR 0x5a. */
static const volatile uint8_t masked[32] = {
    0x5f, 0x52, 0xb1, 0xc4, 0xdb, 0xe5, 0xf0, 0x3a, 0xd9, 0xf5, 0x90, 0x3e, 0x34, 0x3a, 0x23, 0xf6,
    0x9f, 0xe9, 0x04, 0x34, 0x1a, 0xb3, 0x9d, 0xf8, 0xaa, 0xf6, 0x94, 0x1b, 0x93, 0x0c, 0x02, 0x7c,
};
#define MASK 0x5a5a5a5au
#define WINDOWS 29
static uint32_t windows[WINDOWS];              /* every 4-byte window of the secret, masked */

#define PAGE 4096u
#define BIG 0x10000u
#define RAM_BASE 0x80000000u
#define STACK_SIZE 0x10000u
#define FDT_MAGIC 0xedfe0dd0u                  /* 0xd00dfeed, big-endian in memory */
#define FDT_SLOT 0x100000u

/* Below RAM: what is mapped on QEMU's virt or here (sorted); everything else is a hole on both. */
struct range { uint32_t lo, hi; };            /* [lo, hi) */
static const struct range mapped[] = {
    { 0x00001000u, 0x00010000u },                 /* QEMU boot ROM */
    { 0x00100000u, 0x00101000u },                 /* test finisher */
    { 0x00101000u, 0x00102000u },                 /* QEMU goldfish RTC */
    { 0x02000000u, 0x02010000u },                 /* CLINT (ours 64 KiB, QEMU's 48 KiB) */
    { 0x03000000u, 0x03010000u },                 /* QEMU PCIe PIO */
    { 0x0c000000u, 0x10000000u },                 /* PLIC (ours 64 MiB, QEMU's 6 MiB) */
    { 0x10000000u, 0x10001000u },                 /* UART */
    { 0x10001000u, 0x10009000u },                 /* QEMU virtio-mmio */
    { 0x10100000u, 0x10101000u },                 /* QEMU fw_cfg; our interrupt generator */
    { 0x20000000u, 0x24000000u },                 /* QEMU flash */
    { 0x30000000u, 0x80000000u },                 /* QEMU PCIe ECAM and MMIO */
};

static uint32_t ram_end, own_lo, own_hi, stack_lo, stack_hi, fdt_lo, fdt_hi;
static uint32_t found, found_at, nonzero, nonzero_at;
static uint32_t holes, hole_reads, high_reads;    /* probes of holes, and how many did not fault */

static int is_secret(uint32_t w)
{
    uint32_t m = w ^ MASK;
    for (int i = 0; i < WINDOWS; i++)
        if (m == windows[i]) return 1;
    return 0;
}

static int own(uint32_t a)
{
    return (a >= own_lo && a < own_hi) || (a >= stack_lo && a < stack_hi) || (a >= fdt_lo && a < fdt_hi);
}

/* One word read from RAM. */
static void look_ram(uint32_t a, uint32_t w)
{
    if (w == 0) return;
    if (is_secret(w) && found++ == 0) found_at = a;
    if (!own(a) && nonzero++ == 0) nonzero_at = a;
}

/* Addresses lo, lo + step, ... below hi (0 = 4 GiB) that load without a fault; the first
 * `words` words at each are read and must hold no piece of the secret. */
static uint32_t sweep(uint32_t lo, uint32_t hi, uint32_t step, int words)
{
    uint32_t readable = 0;
    for (uint32_t a = lo;;) {
        a = probe_next_readable(a, hi, step);
        if (a == hi) break;
        readable++;
        for (int i = 0; i < words; i++) {
            uint32_t w;
            if (try_lw(a + 4u * i, &w) == PROBE_OK && is_secret(w) && found++ == 0) found_at = a + 4u * i;
        }
        if (a + step < a || (hi != 0 && a + step >= hi)) break;
        a += step;
    }
    return readable;
}

/* Everything below RAM, every `step` bytes: holes must fault; mapped pages are read. */
static void below_ram(uint32_t step)
{
    uint32_t at = 0;
    for (unsigned i = 0; i <= sizeof mapped / sizeof mapped[0]; i++) {
        uint32_t lo = i < sizeof mapped / sizeof mapped[0] ? mapped[i].lo : RAM_BASE;
        if (lo > at) {
            holes += (lo - at + step - 1) / step;
            hole_reads += sweep(at, lo, step, 1);
        }
        if (i == sizeof mapped / sizeof mapped[0]) break;
        sweep(lo, mapped[i].hi, step, 4);
        at = mapped[i].hi;
    }
}

static void above_ram(uint32_t step)
{
    high_reads += sweep(ram_end, 0, step, 1);
}

/* RAM word by word, with the fast all-zero scan. */
static void ram_words(void)
{
    for (uint32_t a = RAM_BASE; a < ram_end && a != 0;) {
        a = scan_zero(a, ram_end);
        if (a >= ram_end) break;
        const volatile uint32_t *p = (const volatile uint32_t *)(uintptr_t)a;
        for (int i = 0; i < 16; i++) look_ram(a + 4u * i, p[i]);
        a += 64;
    }
}

/* RAM, the first 32 bytes of every page. */
static void ram_pages(void)
{
    for (uint32_t a = RAM_BASE; a < ram_end && a != 0; a += PAGE) {
        const volatile uint32_t *p = (const volatile uint32_t *)(uintptr_t)a;
        for (int i = 0; i < 8; i++) look_ram(a + 4u * i, p[i]);
    }
}

static uint32_t s_scan(uint32_t unused)
{
    (void)unused;
    below_ram(BIG);
    ram_pages();
    above_ram(BIG);
    return 0;
}

static uint32_t s_probe(uint32_t va)
{
    uint32_t w;
    return try_lw(va, &w);
}

static uint32_t root[1024] __attribute__((aligned(4096)));
#define PTE_V 0x01u
#define PTE_R 0x02u
#define PTE_W 0x04u
#define PTE_X 0x08u
#define PTE_A 0x40u
#define PTE_D 0x80u
#define PTE_LEAF (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
#define SATP_SV32 0x80000000u

static int failures;
static void verdict(int code, int ok, const char *what)
{
    if (ok) return;
    hv_printf("hostile-hunt: FAILED: %s\n", what);
    if (!failures) failures = code;
}

int main(uint32_t hartid, uint32_t fdt)
{
    (void)hartid;
    uint32_t csrs = csr_read(mscratch) | csr_read(sscratch) | csr_read(satp) | csr_read(stvec) | csr_read(sepc) |
                    csr_read(scause) | csr_read(stval) | csr_read(medeleg) | csr_read(mideleg) | csr_read(mie);
    probe_install();
    for (int i = 0; i < WINDOWS; i++)
        windows[i] = masked[i] | masked[i + 1] << 8 | masked[i + 2] << 16 | (uint32_t)masked[i + 3] << 24;

    hv_puts("hostile-hunt: looking for another VM's secret in everything it can read\n");
    verdict(1, csrs == 0, "a CSR is not at its reset value");
    hv_printf("hostile-hunt: csrs: scratch, trap and translation registers %s\n", csrs ? "NOT AT RESET" : "at reset (0)");

    uint32_t dev = REG8(UART_BASE + 7);
    for (uint32_t s = 1; s < 64; s++) dev |= REG32(PLIC_BASE + 4u * s);
    dev |= REG32(PLIC_BASE + 0x2000) | REG32(PLIC_BASE + 0x2004) | REG32(PLIC_BASE + 0x2080) | REG32(PLIC_BASE + 0x2084);
    dev |= REG32(PLIC_BASE + 0x200000) | REG32(PLIC_BASE + 0x201000);
    uint32_t cmp_lo = REG32(CLINT_BASE + 0x4000), cmp_hi = REG32(CLINT_BASE + 0x4004);
    int cmp_secret = is_secret(cmp_lo) || is_secret(cmp_hi) || is_secret(cmp_lo >> 16 | cmp_hi << 16) ||
                     is_secret(cmp_lo >> 8 | cmp_hi << 24) || is_secret(cmp_lo >> 24 | cmp_hi << 8);
    verdict(2, dev == 0, "a device register is not at its reset value");
    verdict(3, !cmp_secret, "mtimecmp holds a piece of the secret");
    hv_printf("hostile-hunt: devices: uart scratch, plic priorities, enables and thresholds %s; mtimecmp %s\n",
              dev ? "NOT AT RESET" : "at reset (0)", cmp_secret ? "HOLDS THE SECRET" : "holds no piece of it");

    stack_hi = (uint32_t)(uintptr_t)__stack_top;
    stack_lo = stack_hi - STACK_SIZE;
    own_lo = RAM_BASE;
    own_hi = ((uint32_t)(uintptr_t)__heap_start + PAGE - 1) & ~(PAGE - 1);
    ram_end = probe_ram_end(stack_hi);
    if (fdt >= RAM_BASE && fdt < ram_end && (fdt & 3) == 0 && REG32(fdt) == FDT_MAGIC) {
        /* QEMU copies its whole 1 MiB device-tree buffer (packed tree first, leftovers after). */
        fdt_lo = fdt;
        fdt_hi = ram_end - fdt > FDT_SLOT ? fdt + FDT_SLOT : ram_end;
    }

    /* M mode, physical addresses. */
    below_ram(PAGE);
    hv_printf("hostile-hunt: M mode: %u pages of holes below RAM, %u read; devices and platform pages read\n", holes, hole_reads);
    verdict(4, hole_reads == 0, "a hole below RAM was readable");
    ram_words();
    verdict(5, nonzero == 0, "RAM outside its own image is not all zeros");
    if (nonzero) hv_printf("hostile-hunt: %u non-zero words, the first at %08x\n", nonzero, nonzero_at);
    above_ram(BIG);
    verdict(6, high_reads == 0, "a page above RAM was readable");
    hv_printf("hostile-hunt: M mode: RAM read word by word: %s outside its own image; above RAM %s\n",
              nonzero ? "NOT ZERO" : "all zeros", high_reads ? "SOMETHING READ" : "every 64 KiB faulted");
    uint32_t m_found = found;

    /* S mode through Sv32: identity superpages over the whole 32-bit space. */
    csr_write(pmpaddr0, 0xffffffffu);
    csr_write(pmpcfg0, 0x1f);                     /* NAPOT, R W X */
    for (uint32_t i = 0; i < 1024; i++) root[i] = i << 20 | PTE_LEAF;
    csr_write(satp, SATP_SV32 | ((uint32_t)(uintptr_t)root >> 12));
    __asm__ volatile ("sfence.vma" ::: "memory");
    holes = hole_reads = high_reads = nonzero = 0;
    run_in_s(s_scan, 0);
    hv_printf("hostile-hunt: Sv32: %u holes below RAM every 64 KiB, %u read; RAM page starts %s; above RAM %s\n",
              holes, hole_reads, nonzero ? "NOT ZERO" : "all zeros outside its image",
              high_reads ? "SOMETHING READ" : "every probe faulted");
    verdict(7, hole_reads == 0 && high_reads == 0 && nonzero == 0, "Sv32 reached something M mode could not");

    /* Superpages mapping physical addresses above 4 GiB (PPN bits 20 and 21). */
    uint32_t high_faults = 0;
    for (uint32_t k = 1; k < 4; k++) {
        root[0] = (k << 30) | PTE_LEAF;           /* PPN = k << 20: physical 4 GiB * k */
        root[1] = (k << 30) | (1u << 20) | PTE_LEAF;
        __asm__ volatile ("sfence.vma" ::: "memory");
        high_faults += run_in_s(s_probe, 0x10) == CAUSE_LOAD_FAULT;
        high_faults += run_in_s(s_probe, 0x400000 + 0x3ffc) == CAUSE_LOAD_FAULT;
    }
    root[0] = PTE_LEAF;
    root[1] = 1u << 20 | PTE_LEAF;
    csr_write(satp, 0);
    __asm__ volatile ("sfence.vma" ::: "memory");
    hv_printf("hostile-hunt: Sv32: %u of 6 loads from physical addresses above 4 GiB faulted\n", high_faults);
    verdict(8, high_faults == 6, "a physical address above 4 GiB was readable");

    verdict(9, found == 0, "the secret was found");
    if (found)
        hv_printf("hostile-hunt: SECRET FOUND: %u words (%u in M mode), the first at %08x\n", found, m_found, found_at);
    else
        hv_puts("hostile-hunt: secret found: no\n");
    return failures;
}
