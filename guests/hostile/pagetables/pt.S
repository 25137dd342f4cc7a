/* hostile-pagetables: the M-mode harness. pt_run(pc, a0, a1, mstatus) MRETs to pc in the mode
   mstatus.MPP names (with its SUM/MXR), with a0/a1; the first trap of the lower mode -- the
   ECALL after a successful access, or the access's own fault -- comes back to pt_run's caller
   with mcause, mepc, mtval and a0 in pt_result. The probe stubs sit on their own page.
   Written for this project. */
#include "callee_saved.h"
    .file "pt.S"               /* else ld names the temporary object in .symtab */
    .option norvc

    .text
    .balign 4
    .globl pt_run
pt_run:
    SAVE_CALLEE_SAVED
    la   t0, pt_msp
    sw   sp, 0(t0)
    la   t0, pt_trap
    csrw mtvec, t0
    csrw mstatus, a3
    csrw mepc, a0
    mv   a0, a1
    mv   a1, a2
    mret

    .balign 4
pt_trap:
    la   t0, pt_result
    csrr t1, mcause
    sw   t1, 0(t0)
    csrr t1, mepc
    sw   t1, 4(t0)
    csrr t1, mtval
    sw   t1, 8(t0)
    sw   a0, 12(t0)
    la   t0, pt_msp
    lw   sp, 0(t0)
    la   t0, hv_default_trap
    csrw mtvec, t0
    RESTORE_CALLEE_SAVED
    ret

/* The stubs: one access, then ECALL. */
    .balign 4096
    .globl pt_stub_lw, pt_stub_sw, pt_stub_jr
pt_stub_lw:
    lw   a0, 0(a0)
    ecall
pt_stub_sw:
    sw   a1, 0(a0)
    ecall
pt_stub_jr:                         /* a fetch probe: the target page holds only ECALLs */
    jr   a0

/* A page of ECALLs, the target of fetch probes. */
    .balign 4096
    .globl pt_ecall_page
pt_ecall_page:
    .rept 1024
    ecall
    .endr

    .bss
    .balign 16
    .globl pt_result
pt_result:                          /* mcause, mepc, mtval, a0 */
    .space 16
pt_msp:
    .space 4
