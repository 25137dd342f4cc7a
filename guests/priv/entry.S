/* Trap entries (direct and vectored) for M and S mode, and run_mode(): run a function in
   M, S or U mode and come back to the caller when it returns (via an ECALL the M handler
   recognises) -- a setjmp/longjmp across privilege levels. */
    .file "entry.S"            /* else ld names the temporary object in .symtab */
#include "priv.h"
#include "callee_saved.h"

    .option norvc

/* Save x1, x3..x31 into the frame at sp; x2 (the interrupted sp) is in the scratch CSR. */
    .macro SAVE_GPRS
    .irp r, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sw x\r, (\r*4)(sp)
    .endr
    .endm

    .macro LOAD_GPRS
    .irp r, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    lw x\r, (\r*4)(sp)
    .endr
    lw sp, 8(sp)
    .endm

    .text
    .balign 4
    .globl m_trap_entry
m_trap_entry:
    csrrw sp, mscratch, sp          /* sp = frame, mscratch = interrupted sp */
m_trap_swapped:
    SAVE_GPRS
    csrr t0, mscratch
    sw t0, 8(sp)
    csrw mscratch, sp
    mv a0, sp
    la sp, m_stack_top
    call m_trap_c                   /* returns 1 to resume run_mode(), else 0 */
    csrr sp, mscratch
    bnez a0, m_resume
    LOAD_GPRS
    mret

/* The lower-mode function is done: return from run_mode() with its a0. */
m_resume:
    lw a0, 40(sp)
    la t0, run_saved_sp
    lw sp, 0(t0)
    RESTORE_CALLEE_SAVED
    ret

    .balign 4
    .globl s_trap_entry
s_trap_entry:
    csrrw sp, sscratch, sp
s_trap_swapped:
    SAVE_GPRS
    csrr t0, sscratch
    sw t0, 8(sp)
    csrw sscratch, sp
    mv a0, sp
    la sp, s_stack_top
    call s_trap_c
    csrr sp, sscratch
    LOAD_GPRS
    sret

/* Vectored tables: entry n records n in the frame, then joins the common path. */
    .balign 256
    .globl m_vec_table
m_vec_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    j m_vec_\n
    .endr
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
m_vec_\n:
    csrrw sp, mscratch, sp
    sw t0, 20(sp)
    li t0, \n
    sw t0, FRAME_VEC(sp)
    lw t0, 20(sp)
    j m_trap_swapped
    .endr

    .balign 256
    .globl s_vec_table
s_vec_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    j s_vec_\n
    .endr
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
s_vec_\n:
    csrrw sp, sscratch, sp
    sw t0, 20(sp)
    li t0, \n
    sw t0, FRAME_VEC(sp)
    lw t0, 20(sp)
    j s_trap_swapped
    .endr

/* uint32_t run_mode(mode, fn, a0, a1, ra): MRET into `mode` at fn(a0, a1) with return
   address ra (normally mode_return). The lower mode runs on the stack below this frame. */
    .balign 4
    .globl run_mode
run_mode:
    SAVE_CALLEE_SAVED
    la t0, run_saved_sp
    sw sp, 0(t0)
    li t0, 0x1800
    csrc mstatus, t0
    andi t1, a0, 3
    slli t1, t1, 11
    csrs mstatus, t1
    csrw mepc, a1
    mv ra, a4
    mv a0, a2
    mv a1, a3
    mret

    .balign 4
    .globl mode_return
mode_return:
    li a7, MAGIC_RETURN
    ecall
1:  j 1b

    .bss
    .balign 16
run_saved_sp: .space 4
    .balign 16
m_stack: .space 4096
m_stack_top:
s_stack: .space 4096
s_stack_top:
