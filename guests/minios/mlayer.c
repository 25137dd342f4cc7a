/* minios M-mode layer: the little firmware under the kernel.
 * - PMP entry 0 opens all of memory to S and U (without an entry they can touch nothing);
 * - every exception S may handle and the supervisor interrupts are delegated to S;
 * - the machine timer is forwarded: its interrupt sets mip.STIP and masks MTIE until the
 *   kernel asks for the next tick with SBI_SET_TIMER, which also clears STIP;
 * - SBI_SHUTDOWN powers off through the test finisher.
 */
#include "hv.h"
#include "minios.h"

#define CLINT_CMP_LO (CLINT_BASE + 0x4000u)
#define CLINT_CMP_HI (CLINT_BASE + 0x4004u)
#define MIP_STIP (1u << 5)
#define MIE_MTIE (1u << 7)

struct mregs { uint32_t ra, t0, t1, t2, a0, a1, a2, a3, a4, a5, a6, a7, t3, t4, t5, t6; };

extern char m_trap[], mtrap_stack_top[];
uint32_t m_init(void);
void m_trap_c(struct mregs *r);

static void set_mtimecmp(uint32_t lo, uint32_t hi)
{
    REG32(CLINT_CMP_HI) = 0xffffffffu;
    REG32(CLINT_CMP_LO) = lo;
    REG32(CLINT_CMP_HI) = hi;
}

uint32_t m_init(void)
{
    csr_write(mtvec, (uint32_t)(uintptr_t)m_trap);
    csr_write(mscratch, (uint32_t)(uintptr_t)mtrap_stack_top);
    set_mtimecmp(0xffffffffu, 0xffffffffu);
    csr_write(pmpaddr0, 0xffffffffu);                 /* NAPOT, the whole address space */
    csr_write(pmpcfg0, 0x1fu);                        /* NAPOT | X | W | R */
    /* misaligned, access faults, illegal, breakpoint, ECALL from U, page faults */
    csr_write(medeleg, 0x1ffu | (1u << 12) | (1u << 13) | (1u << 15));
    csr_write(mideleg, (1u << 1) | (1u << 5) | (1u << 9));   /* SSI, STI, SEI */
    csr_write(mie, MIE_MTIE);
    csr_write(mcounteren, 7);                         /* S may read cycle, time, instret */
    csr_write(scounteren, 0);
    csr_write(satp, 0);
    csr_clear(mstatus, 3u << 11);
    csr_set(mstatus, 1u << 11);                       /* MPP = S */
    hv_puts("minios: M-mode layer up: PMP open to S/U, traps delegated, timer forwarded\n");
    return (uint32_t)(uintptr_t)&kernel_entry;
}

void m_trap_c(struct mregs *r)
{
    uint32_t cause = csr_read(mcause);
    if (cause == 0x80000007u) {                       /* machine timer: hand it to S */
        csr_set(mip, MIP_STIP);
        csr_clear(mie, MIE_MTIE);
        return;
    }
    if (cause == 9) {                                 /* ECALL from S */
        if (r->a7 == SBI_SET_TIMER) {
            set_mtimecmp(r->a0, r->a1);
            csr_clear(mip, MIP_STIP);
            csr_set(mie, MIE_MTIE);
            r->a0 = 0;
        } else if (r->a7 == SBI_SHUTDOWN) {
            hv_exit((int)r->a0);
        } else {
            r->a0 = (uint32_t)-1;
        }
        csr_write(mepc, csr_read(mepc) + 4);
        return;
    }
    hv_printf("minios: unexpected M-mode trap mcause=%08x mepc=%08x mtval=%08x\n",
              cause, csr_read(mepc), csr_read(mtval));
    hv_exit(0xef);
}
