/* hostile-scan: walks the whole 32-bit physical address space from M mode with loads and
 * stores (every 64 KiB), instruction fetches, AMOs and LR (every 1 MiB), counting the traps by
 * cause; the handler (trap.S) skips each faulting access, so the guest only ever sees
 * architectural access faults. It prints per-region counts that are the same on QEMU's virt
 * machine and on this project's simulator, and powers off with success -- or fails (code 1..7)
 * when a count is not what the platform map says it must be.
 *
 * What is probed, and how:
 *   holes (nothing mapped on either platform): lw and sw 0 at every 64 KiB, must both fault
 *     (load/store access fault); at every 1 MiB also a jump (instruction access fault), an
 *     amoadd.w (a store/AMO access fault by the spec, but QEMU 7.2 raises a load access fault,
 *     so either counts and these are left out of the per-cause totals) and an lr.w (load
 *     access fault).
 *   finisher  0x0010_0000: lw and sw 0 (0 is not a command; never 0x5555/0x3333/0x7777).
 *   CLINT     0x0200_0000: lw and sw 0 of msip (no interrupt: mie = 0, mstatus.MIE = 0).
 *   PLIC      0x0C00_0000..0x0C60_0000: lw and sw 0 at every 64 KiB (priorities, thresholds and
 *     unused offsets: nothing gets enabled).
 *   UART      0x1000_0000: one byte load of LSR, no store (that would print).
 *   RAM: our own image and stack (0x8000_0000..0x8040_0000): loads only. Above it: a load at
 *     every 64 KiB, and a store (read back) at every 4 MiB while RAM lasts -- few pages, since
 *     RAM is allocated lazily -- and at every 64 KiB once loads fault. RAM must be a contiguous
 *     prefix followed by faults only; its size is not printed (it is a machine option).
 *
 * Skipped, because QEMU's virt machine maps more than ours (or maps less, for the PLIC and the
 * CLINT), so a count there would differ:
 *   0x0000_1000..0x0001_0000  QEMU boot ROM
 *   0x0010_1000..0x0010_2000  QEMU goldfish RTC
 *   0x0200_C000..0x0201_0000  our CLINT is 64 KiB, QEMU's 48 KiB
 *   0x0300_0000..0x0301_0000  QEMU PCIe PIO window
 *   0x0C60_0000..0x1000_0000  our PLIC spans 64 MiB, QEMU's aperture ends at 0x0C60_0000
 *   0x1000_0100..0x1000_9000  QEMU UART page tail and virtio-mmio slots
 *   0x1010_0000..0x1010_1000  QEMU fw_cfg; our interrupt generator
 *   0x2000_0000..0x2400_0000  QEMU parallel flash
 *   0x3000_0000..0x8000_0000  QEMU PCIe ECAM and MMIO windows
 * Written for this project.
 */
#include "hv.h"

#define CAUSE_NONE 0xffu
#define CAUSE_FETCH_FAULT 1
#define CAUSE_LOAD_FAULT  5
#define CAUSE_STORE_FAULT 7

extern char scan_trap[], hv_default_trap[];
extern uint32_t scan_save[];
extern volatile uint32_t scan_traps[32], scan_last;
uint32_t probe_lw(uint32_t a);
void probe_sw(uint32_t a, uint32_t v);
uint32_t probe_lbu(uint32_t a);
uint32_t probe_amoadd(uint32_t a, uint32_t v);
uint32_t probe_lr(uint32_t a);
uint32_t probe_call(uint32_t a);

#define STEP     0x10000u          /* loads and stores */
#define BIGSTEP  0x100000u         /* fetches, AMOs, LR */
#define IMAGE_END 0x80400000u      /* our image, data and stack (see common/link.ld) */
#define RAM_BASE  0x80000000u

enum region { HOLE, SKIP, FINISHER, CLINT, PLIC, UART, RAM, NREGIONS };
static const char *const region_name[NREGIONS] = {
    "holes", "skipped", "finisher", "clint", "plic", "uart", "ram",
};

struct range { uint32_t lo, hi; enum region r; };   /* [lo, hi) */
static const struct range ranges[] = {
    { 0x00001000u, 0x00010000u, SKIP },
    { 0x00100000u, 0x00101000u, FINISHER },
    { 0x00101000u, 0x00102000u, SKIP },
    { 0x02000000u, 0x0200c000u, CLINT },
    { 0x0200c000u, 0x02010000u, SKIP },
    { 0x03000000u, 0x03010000u, SKIP },
    { 0x0c000000u, 0x0c600000u, PLIC },
    { 0x0c600000u, 0x10000000u, SKIP },
    { 0x10000000u, 0x10000100u, UART },
    { 0x10000100u, 0x10009000u, SKIP },
    { 0x10100000u, 0x10101000u, SKIP },
    { 0x20000000u, 0x24000000u, SKIP },
    { 0x30000000u, 0x80000000u, SKIP },
};

static enum region classify(uint32_t a)
{
    if (a >= RAM_BASE) return RAM;
    for (unsigned i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (a >= ranges[i].lo && a < ranges[i].hi) return ranges[i].r;
    return HOLE;
}

struct counts { uint32_t slots, load_ok, load_fault, store_ok, store_fault, other; };
static struct counts cnt[NREGIONS];

static uint32_t failures;
static void expect(int code, int cond, const char *what, uint32_t a)
{
    if (cond) return;
    if (failures++ < 8) hv_printf("hostile-scan: %s at %08x\n", what, a);
    if (failures == 1) failures |= (uint32_t)code << 24;
}

static uint32_t do_load(uint32_t a)  { scan_last = CAUSE_NONE; probe_lw(a); return scan_last; }
static uint32_t do_store(uint32_t a, uint32_t v) { scan_last = CAUSE_NONE; probe_sw(a, v); return scan_last; }

static void tally(struct counts *c, uint32_t load, uint32_t store)
{
    c->slots++;
    if (load == CAUSE_NONE) c->load_ok++; else if (load == CAUSE_LOAD_FAULT) c->load_fault++; else c->other++;
    if (store == CAUSE_NONE) c->store_ok++; else if (store == CAUSE_STORE_FAULT) c->store_fault++; else c->other++;
}

static void print_counts(enum region r)
{
    struct counts *c = &cnt[r];
    hv_printf("hostile-scan: %s: %u slots; loads %u ok, %u faulted; stores %u ok, %u faulted",
              region_name[r], c->slots, c->load_ok, c->load_fault, c->store_ok, c->store_fault);
    if (c->other) hv_printf("; %u other traps", c->other);
    hv_putc('\n');
}

/* Everything below RAM. */
static void scan_low(void)
{
    for (uint32_t a = 0; a < RAM_BASE; a += STEP) {
        enum region r = classify(a);
        uint32_t l = CAUSE_NONE, s = CAUSE_NONE;
        switch (r) {
        case SKIP:
            cnt[SKIP].slots++;
            continue;
        case UART:                      /* LSR only: a store to THR would print */
            scan_last = CAUSE_NONE;
            probe_lbu(a + 5);
            l = scan_last;
            cnt[UART].slots++;
            if (l == CAUSE_NONE) cnt[UART].load_ok++; else cnt[UART].other++;
            expect(1, l == CAUSE_NONE, "uart LSR load trapped", a);
            continue;
        case FINISHER:
        case CLINT:
        case PLIC:
            l = do_load(a);
            s = do_store(a, 0);
            expect(2, l == CAUSE_NONE && s == CAUSE_NONE, "device access trapped", a);
            break;
        case HOLE:
            l = do_load(a);
            s = do_store(a, 0);
            expect(3, l == CAUSE_LOAD_FAULT && s == CAUSE_STORE_FAULT, "hole did not fault", a);
            break;
        default:
            break;
        }
        tally(&cnt[r], l, s);
    }
}

/* Fetch, AMO and LR probes in the holes, every 1 MiB. */
static uint32_t big_slots, fetch_fault, amo_fault, lr_fault, big_other;
static void scan_holes_big(void)
{
    for (uint32_t a = 0; a < RAM_BASE; a += BIGSTEP) {
        if (classify(a) != HOLE) continue;
        big_slots++;
        scan_last = CAUSE_NONE;
        probe_call(a);
        if (scan_last == CAUSE_FETCH_FAULT) fetch_fault++; else big_other++;
        scan_last = CAUSE_NONE;
        probe_amoadd(a, 0);
        /* store/AMO access fault by the spec; QEMU 7.2 raises a load access fault here */
        if (scan_last == CAUSE_STORE_FAULT || scan_last == CAUSE_LOAD_FAULT) amo_fault++; else big_other++;
        scan_last = CAUSE_NONE;
        probe_lr(a);
        if (scan_last == CAUSE_LOAD_FAULT) lr_fault++; else big_other++;
    }
    hv_printf("hostile-scan: holes every 1 MiB: %u slots; fetch faults %u, amo faults %u, lr faults %u",
              big_slots, fetch_fault, amo_fault, lr_fault);
    if (big_other) hv_printf("; %u other results", big_other);
    hv_putc('\n');
    expect(4, big_other == 0, "fetch/amo/lr probe did not fault as expected", 0);
}

/* RAM: a contiguous accessible prefix, then faults only. */
static void scan_ram(void)
{
    uint32_t own = 0, ok = 0, faulted = 0, order_ok = 1, rw_ok = 1;
    for (uint32_t a = RAM_BASE; a != 0; a += STEP) {
        if (a < IMAGE_END) {
            if (do_load(a) == CAUSE_NONE) own++;
            continue;
        }
        uint32_t l = do_load(a);
        if (l == CAUSE_NONE) {
            if (faulted) order_ok = 0;
            ok++;
            if ((a & 0x3fffffu) == 0) {          /* every 4 MiB: store, read back */
                uint32_t v = a ^ 0x5a5aa5a5u;
                if (do_store(a, v) != CAUSE_NONE || probe_lw(a) != v) rw_ok = 0;
            }
        } else {
            faulted++;
            if (l != CAUSE_LOAD_FAULT || do_store(a, 0) != CAUSE_STORE_FAULT) order_ok = 0;
        }
    }
    hv_printf("hostile-scan: ram: own image %u slots readable; above it %s, %s\n",
              own, order_ok ? "an accessible prefix, then only faults" : "NOT A PREFIX",
              rw_ok ? "stores read back" : "STORES LOST");
    expect(5, own == (IMAGE_END - RAM_BASE) / STEP, "own image not readable", RAM_BASE);
    expect(6, order_ok && rw_ok, "ram is not a readable/writable prefix", RAM_BASE);
}

int main(void)
{
    csr_write(mie, 0);
    csr_clear(mstatus, 0x8);                     /* MIE */
    csr_write(mscratch, (uint32_t)(uintptr_t)scan_save);
    csr_write(mtvec, (uint32_t)(uintptr_t)scan_trap);

    hv_puts("hostile-scan: loads and stores over the 32-bit physical address space\n");
    scan_low();
    for (enum region r = HOLE; r < RAM; r++) {
        if (r == SKIP) hv_printf("hostile-scan: skipped (platform-specific): %u slots\n", cnt[SKIP].slots);
        else print_counts(r);
    }
    uint32_t other = 0;
    for (int c = 0; c < 32; c++) other += scan_traps[c];
    other -= scan_traps[1] + scan_traps[5] + scan_traps[7];
    hv_printf("hostile-scan: traps so far: %u load access faults, %u store access faults, %u other\n",
              scan_traps[5], scan_traps[7], other + scan_traps[1]);
    scan_holes_big();
    scan_ram();

    csr_write(mtvec, (uint32_t)(uintptr_t)hv_default_trap);
    if (failures) {
        hv_printf("hostile-scan: FAILED (%u)\n", failures & 0xffffff);
        return (int)(failures >> 24);
    }
    hv_puts("hostile-scan: survived, every access outside the map faulted\n");
    return 0;
}
