/* hostile-garbage: run one word in a sandbox. sb_enter(pc, mstatus) loads x1..x31 from sb_in,
   sets mstatus (MPP picks U or S), MRETs to pc and comes back when the sandbox traps --
   whatever the cause -- with x1..x31, mcause and mepc in sb_out. Written for this project. */
#include "callee_saved.h"
    .file "sandbox.S"          /* else ld names the temporary object in .symtab */
    .option norvc

    .text
    .balign 4
    .globl sb_enter
sb_enter:
    SAVE_CALLEE_SAVED
    la   t0, sb_msp
    sw   sp, 0(t0)
    la   t0, sb_trap
    csrw mtvec, t0
    la   t0, sb_out
    csrw mscratch, t0
    csrw mepc, a0
    csrw mstatus, a1
    la   x31, sb_in
    .irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    lw   x\r, (\r*4)(x31)
    .endr
    lw   x31, 124(x31)
    mret

    .balign 4
sb_trap:
    csrrw x31, mscratch, x31        /* x31 = sb_out, mscratch = the sandbox's x31 */
    .irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    sw   x\r, (\r*4)(x31)
    .endr
    csrr x1, mscratch
    sw   x1, 124(x31)
    csrr x1, mcause
    sw   x1, 128(x31)
    csrr x1, mepc
    sw   x1, 132(x31)
    la   t0, sb_msp
    lw   sp, 0(t0)
    RESTORE_CALLEE_SAVED
    ret

    .bss
    .balign 16
    .globl sb_in, sb_out
sb_in:                              /* x0..x31 for the sandbox */
    .space 128
sb_out:                             /* x0..x31 after it, then mcause, mepc */
    .space 136
sb_msp:
    .space 4
