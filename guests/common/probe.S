/* Probed accesses and their M-mode trap handler, for the hostile guests (see probe.h).
   The handler records a fault in a probe (its mcause in probe_last) and resumes after the
   access; an ECALL from S or U returns to M at probe_resume (run_in_s); any
   other trap and every interrupt goes to hv_default_trap, which fails the guest.
   Written for this project. */
#include "callee_saved.h"
    .file "probe.S"            /* else ld names the temporary object in .symtab */
    .option norvc

    .text
    .balign 4
    .globl probe_install
probe_install:
    la   t0, probe_trap
    csrw mtvec, t0
    la   t0, probe_save
    csrw mscratch, t0
    ret

    .balign 4
probe_trap:
    csrrw t0, mscratch, t0          /* t0 = save area, mscratch = interrupted t0 */
    sw   t1, 0(t0)
    sw   t2, 4(t0)
    csrr t1, mcause
    bltz t1, 9f                     /* an interrupt: nobody enabled one */
    addi t2, t1, -8
    sltiu t2, t2, 2
    bnez t2, 5f                     /* ECALL from U (8) or S (9): back to M */
    csrr t2, mepc                   /* only faults in the probes are expected */
    la   t1, probe_begin
    bltu t2, t1, 9f
    la   t1, probe_end
    bgeu t2, t1, 9f
    addi t2, t2, 4
    csrw mepc, t2
    csrr t1, mcause
    la   t2, probe_last
    sw   t1, 0(t2)
    j    8f
5:  la   t1, probe_resume
    lw   t1, 0(t1)
    csrw mepc, t1
    li   t1, 0x1800                 /* mstatus.MPP = M */
    csrs mstatus, t1
8:  lw   t1, 0(t0)
    lw   t2, 4(t0)
    csrrw t0, mscratch, t0
    mret
9:  lw   t1, 0(t0)
    lw   t2, 4(t0)
    csrrw t0, mscratch, t0
    j    hv_default_trap

/* The probes: one access each; a fault resumes at the instruction after it. */
    .balign 4
probe_begin:
    .globl probe_lw, probe_lbu, probe_sw
probe_lw:
    li   t3, 0
    lw   t3, 0(a0)
    mv   a0, t3
    ret
probe_lbu:
    li   t3, 0
    lbu  t3, 0(a0)
    mv   a0, t3
    ret
probe_sw:
    sw   a1, 0(a0)
    ret

/* uint32_t probe_next_readable(from, to, step): the first of from, from + step, ... below `to`
   (0 = 4 GiB) whose word loads without a fault, or `to` when there is none. One trap per
   address that faults. */
    .globl probe_next_readable
probe_next_readable:
    la   t1, probe_last
    li   t2, 0xff
    addi t5, a1, -1                 /* last address allowed: to - 1 (0xffffffff for 4 GiB) */
1:  bgtu a0, t5, 4f
    sw   t2, 0(t1)
    lw   t3, 0(a0)
    lw   t4, 0(t1)
    beq  t4, t2, 3f                 /* no fault: readable */
    add  t3, a0, a2
    bltu t3, a0, 4f                 /* wrapped past 4 GiB */
    mv   a0, t3
    j    1b
4:  mv   a0, a1
3:  ret
probe_end:

/* uint32_t run_in_s(fn, arg): fn(arg) in S mode; its return to s_exit ECALLs back here. */
    .balign 4
    .globl run_in_s
run_in_s:
    SAVE_CALLEE_SAVED
    la   t0, probe_msp
    sw   sp, 0(t0)
    la   t0, 1f
    la   t1, probe_resume
    sw   t0, 0(t1)
    csrw mepc, a0
    li   t0, 0x1800
    csrc mstatus, t0
    li   t0, 0x0800                 /* MPP = S */
    csrs mstatus, t0
    mv   a0, a1
    la   ra, s_exit
    mret
s_exit:
    ecall
1:  la   t0, probe_msp
    lw   sp, 0(t0)
    RESTORE_CALLEE_SAVED
    ret

/* uint32_t probe_ram_end(from): loads in 4 KiB steps from `from` until one faults. */
    .balign 4
    .globl probe_ram_end
probe_ram_end:
    addi sp, sp, -16
    sw   ra, 12(sp)
    sw   s0, 8(sp)
    sw   s1, 4(sp)
    mv   s0, a0
    li   s1, 4096
1:  beqz s0, 2f                     /* wrapped past 4 GiB: RAM reaches the top */
    la   t0, probe_last
    li   t1, 0xff
    sw   t1, 0(t0)
    mv   a0, s0
    call probe_lw
    la   t0, probe_last
    lw   t1, 0(t0)
    li   t2, 0xff
    bne  t1, t2, 2f
    add  s0, s0, s1
    j    1b
2:  mv   a0, s0
    lw   ra, 12(sp)
    lw   s0, 8(sp)
    lw   s1, 4(sp)
    addi sp, sp, 16
    ret

    .bss
    .balign 16
    .globl probe_last
probe_save:                         /* t1, t2 */
    .space 8
probe_last:
    .space 4
probe_resume:
    .space 4
probe_msp:
    .space 4
