/* hostile-sleep: a VM that can never wake. It disables every interrupt source it has (mie = 0,
 * mstatus.MIE = SIE = 0, msip = 0, mtimecmp = all ones, no PLIC source enabled), says so, and
 * sleeps in WFI forever. Nothing can make mip & mie non-zero again, so a hypervisor must report
 * it halted-idle (hv run: exit code 126; a fleet: HaltedIdle) instead of polling it. On QEMU it
 * sleeps until killed: guests/check-qemu.sh reads expected.end ("halted-idle") and checks that
 * it is still asleep, with this transcript, after a few seconds. Written for this project. */
#include "hv.h"

int main(void)
{
    csr_write(mie, 0);
    csr_clear(mstatus, 0xa);                       /* MIE, SIE */
    REG32(CLINT_BASE) = 0;                         /* msip */
    REG32(CLINT_BASE + 0x4004) = 0xffffffffu;      /* mtimecmp: never */
    REG32(CLINT_BASE + 0x4000) = 0xffffffffu;
    REG32(PLIC_BASE + 0x2000) = 0;                 /* no source enabled, M and S contexts */
    REG32(PLIC_BASE + 0x2004) = 0;
    REG32(PLIC_BASE + 0x2080) = 0;
    REG32(PLIC_BASE + 0x2084) = 0;
    hv_puts("hostile-sleep: every interrupt disabled; sleeping in WFI forever\n");
    for (;;) {
        __asm__ volatile ("wfi");
    }
}
