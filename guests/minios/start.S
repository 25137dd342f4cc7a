/* minios start-up and trap entries.
   _start (M): stack, bss, m_init() (M-mode layer set-up), then MRET into the S-mode kernel.
   m_trap (M): saves the caller-saved registers on the M stack and calls m_trap_c().
   s_trap (S): traps from U save the task's registers into its frame (sscratch points at it
   while a task runs, and is 0 while the kernel runs); kernel_trap() returns the frame of the
   task to run next and s_resume restores it and SRETs. */
    .file "start.S"            /* else ld names the temporary object in .symtab */
#include "minios.h"

    .option norvc
    .section .text.init, "ax"
    .globl _start
_start:
    la   sp, mstack_top
    la   t0, __bss_start
    la   t1, __bss_end
1:  bgeu t0, t1, 2f
    sw   zero, 0(t0)
    addi t0, t0, 4
    j    1b
2:  call m_init                     /* returns the kernel's S-mode entry point */
    csrw mepc, a0
    la   sp, kstack_top
    mret

    .text
    .balign 4
    .globl m_trap
m_trap:
    csrrw sp, mscratch, sp
    addi sp, sp, -64
    sw   ra, 0(sp)
    sw   t0, 4(sp)
    sw   t1, 8(sp)
    sw   t2, 12(sp)
    sw   a0, 16(sp)
    sw   a1, 20(sp)
    sw   a2, 24(sp)
    sw   a3, 28(sp)
    sw   a4, 32(sp)
    sw   a5, 36(sp)
    sw   a6, 40(sp)
    sw   a7, 44(sp)
    sw   t3, 48(sp)
    sw   t4, 52(sp)
    sw   t5, 56(sp)
    sw   t6, 60(sp)
    mv   a0, sp
    call m_trap_c
    lw   ra, 0(sp)
    lw   t0, 4(sp)
    lw   t1, 8(sp)
    lw   t2, 12(sp)
    lw   a0, 16(sp)
    lw   a1, 20(sp)
    lw   a2, 24(sp)
    lw   a3, 28(sp)
    lw   a4, 32(sp)
    lw   a5, 36(sp)
    lw   a6, 40(sp)
    lw   a7, 44(sp)
    lw   t3, 48(sp)
    lw   t4, 52(sp)
    lw   t5, 56(sp)
    lw   t6, 60(sp)
    addi sp, sp, 64
    csrrw sp, mscratch, sp
    mret

    .balign 4
    .globl s_trap
s_trap:
    csrrw sp, sscratch, sp
    beqz sp, s_trap_kernel          /* sscratch was 0: the trap came from the kernel itself */
    .irp r, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sw   x\r, (\r*4)(sp)
    .endr
    csrr t0, sscratch
    sw   t0, 8(sp)                  /* the task's sp */
    csrr t0, sepc
    sw   t0, 0(sp)                  /* slot 0 (x0) holds the task's pc */
    csrw sscratch, zero
    la   sp, kstack_top
    call kernel_trap                /* a0 = frame of the task to run next */
    .globl s_resume
s_resume:
    lw   t0, 0(a0)
    csrw sepc, t0
    csrw sscratch, a0
    mv   sp, a0
    .irp r, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    lw   x\r, (\r*4)(sp)
    .endr
    lw   sp, 8(sp)
    sret

s_trap_kernel:
    csrrw sp, sscratch, sp          /* back to the kernel's sp, sscratch = 0 again */
    call kernel_fault
3:  j    3b

    .bss
    .balign 16
    .space 2048
mstack_top:
    .space 1024
    .globl mtrap_stack_top
mtrap_stack_top:
    .space 8192
    .globl kstack_top
kstack_top:
