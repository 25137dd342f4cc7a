/* hostile-spin: a CPU hog that never lets an interrupt in. It clears mstatus.MIE, makes a timer
 * interrupt (mtimecmp = 0) and a software interrupt (msip = 1) pending and enabled in mie -- so
 * they stay pending and are never taken -- and then runs a two-instruction loop SPIN_ROUNDS
 * times (200,000,000 instructions) without a WFI, a trap or any other exit to the monitor. A
 * hypervisor can only take the CPU back from it by preemption: the tests run it in fleets and
 * check that it gets no more than its weight's share, and that its neighbours finish normally.
 * It then clears msip and powers off with success, so it also runs to its end alone, on every
 * engine and on QEMU. Written for this project. */
#include "hv.h"

#define SPIN_ROUNDS 100000000u
#define MIP_MSIP 0x8u
#define MIP_MTIP 0x80u

static uint32_t spin(uint32_t rounds)
{
    /* Exactly two instructions a round; a0 counts down to 0. */
    __asm__ volatile ("1: addi %0, %0, -1\n\tbnez %0, 1b" : "+r"(rounds));
    return rounds;
}

int main(void)
{
    csr_clear(mstatus, 0x8);                       /* MIE: nothing is ever taken in M mode */
    REG32(CLINT_BASE + 0x4004) = 0;                /* mtimecmp = 0: the timer is due at once */
    REG32(CLINT_BASE + 0x4000) = 0;
    REG32(CLINT_BASE) = 1;                         /* msip */
    csr_write(mie, MIP_MSIP | MIP_MTIP);
    hv_puts("hostile-spin: interrupts masked, timer and software interrupts pending; spinning\n");

    uint32_t left = spin(SPIN_ROUNDS);
    uint32_t mip = csr_read(mip);

    hv_printf("hostile-spin: %u rounds spun, %u left; mip.MTIP %u, mip.MSIP %u: pending all along, never taken\n",
              SPIN_ROUNDS, left, (mip & MIP_MTIP) ? 1u : 0u, (mip & MIP_MSIP) ? 1u : 0u);
    csr_write(mie, 0);
    REG32(CLINT_BASE) = 0;
    return (mip & (MIP_MTIP | MIP_MSIP)) == (MIP_MTIP | MIP_MSIP) && left == 0 ? 0 : 1;
}
