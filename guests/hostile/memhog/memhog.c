/* hostile-memhog: touches all of its RAM. It finds where RAM ends (loads in 4 KiB steps until
 * one faults; loads allocate nothing), then stores one word into every 4 KiB page from the end
 * of its image to the end of RAM (skipping only its own stack), and reads every page back.
 *
 * Under a hypervisor's memory quota smaller than RAM the stores beyond the quota must come
 * back as store access faults (mcause 7), which the guest counts and survives; the pages it
 * did get must read back what it stored and the refused ones must read zero. It prints the
 * counts (pages touched, refused) only as a line that does not depend on the RAM size when
 * nothing was refused, so its transcript on QEMU's default 128 MiB is the same as here:
 *
 *   hostile-memhog: every page of RAM above the image stored and read back; 0 refused
 *
 * and with a quota, e.g. hv run --memory 16M --memory-quota 1M:
 *
 *   hostile-memhog: 253 pages stored, 3825 refused by store access faults; read back ok
 *
 * It fails (exit code 2..4) only if a page it was granted loses its data, a refused page does
 * not read zero, or a fault of another kind happens. Written for this project. */
#include "hv.h"
#include "probe.h"

extern char __heap_start[], __stack_top[];
#define PAGE 4096u
#define STACK_SIZE 0x10000u
#define MARK(a) ((a) ^ 0x6d656d68u)          /* "memh" */

int main(void)
{
    probe_install();
    hv_puts("hostile-memhog: storing into every page of its RAM\n");
    uint32_t start = ((uint32_t)(uintptr_t)__heap_start + PAGE - 1) & ~(PAGE - 1);
    uint32_t stack_lo = (uint32_t)(uintptr_t)__stack_top - STACK_SIZE;
    uint32_t stack_hi = (uint32_t)(uintptr_t)__stack_top;
    uint32_t end = probe_ram_end(stack_hi);

    uint32_t stored = 0, refused = 0, other = 0;
    for (uint32_t a = start; a < end && a != 0; a += PAGE) {
        if (a >= stack_lo && a < stack_hi) continue;
        uint32_t r = try_sw(a, MARK(a));
        if (r == PROBE_OK) stored++;
        else if (r == CAUSE_STORE_FAULT) refused++;
        else other++;
    }

    uint32_t lost = 0, not_zero = 0;
    for (uint32_t a = start; a < end && a != 0; a += PAGE) {
        if (a >= stack_lo && a < stack_hi) continue;
        uint32_t v = 0;
        if (try_lw(a, &v) != PROBE_OK) { other++; continue; }
        if (v == MARK(a)) continue;
        if (v == 0) lost++;                        /* must be exactly the refused pages */
        else not_zero++;
    }
    if (refused == 0)
        hv_puts("hostile-memhog: every page of RAM above the image stored and read back; 0 refused\n");
    else
        hv_printf("hostile-memhog: %u pages stored, %u refused by store access faults; read back %s\n",
                  stored, refused, lost == refused && not_zero == 0 ? "ok" : "WRONG");
    if (other) {
        hv_printf("hostile-memhog: %u probes ended in other traps\n", other);
        return 4;
    }
    if (not_zero) {
        hv_printf("hostile-memhog: %u pages hold something it never stored\n", not_zero);
        return 3;
    }
    if (lost != refused) {
        hv_printf("hostile-memhog: %u pages read zero but %u were refused\n", lost, refused);
        return 2;
    }
    hv_puts("hostile-memhog: survived\n");
    return 0;
}
