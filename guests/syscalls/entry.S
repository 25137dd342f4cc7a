/* The M-mode side of the syscalls guest: the trap entry with a fast path for the hot system
   calls (no C, few registers), the slow path into sys_slow() in C, and the jump to U mode.
   System call ABI (as Linux on RISC-V): number in a7, arguments a0..a5, result in a0; every
   other register is preserved. Written for this project. */
    .file "entry.S"            /* else ld names the temporary object in .symtab */
    .option norvc

#define SYS_GETPID  1
#define SYS_ADD     2
#define SYS_MIX     3
#define SYS_TICK    4
#define SYS_SUM6    5

    .text
    .balign 4
    .globl sys_trap
sys_trap:
    csrrw sp, mscratch, sp          /* sp = M stack, mscratch = user sp */
    addi sp, sp, -16
    sw   t0, 0(sp)
    sw   t1, 4(sp)
    csrr t0, mcause
    li   t1, 8                      /* ECALL from U */
    bne  t0, t1, slow
    li   t1, SYS_GETPID
    beq  a7, t1, do_getpid
    li   t1, SYS_ADD
    beq  a7, t1, do_add
    li   t1, SYS_MIX
    beq  a7, t1, do_mix
    li   t1, SYS_TICK
    beq  a7, t1, do_tick
    li   t1, SYS_SUM6
    beq  a7, t1, do_sum6
    j    slow

do_getpid:
    li   a0, 42
    j    fast_done
do_add:
    add  a0, a0, a1
    j    fast_done
do_mix:                             /* a0 = (a0 ^ a0 >> 15) * 0x2c1b3c6d ^ a0 >> 12 */
    srli t0, a0, 15
    xor  a0, a0, t0
    li   t0, 0x2c1b3c6d
    mul  a0, a0, t0
    srli t0, a0, 12
    xor  a0, a0, t0
    j    fast_done
do_tick:                            /* the number of system calls handled before this one */
    la   t0, sys_count
    lw   a0, 0(t0)
    j    fast_done
do_sum6:
    add  a0, a0, a1
    add  a0, a0, a2
    add  a0, a0, a3
    add  a0, a0, a4
    add  a0, a0, a5
fast_done:
    la   t0, sys_count
    lw   t1, 0(t0)
    addi t1, t1, 1
    sw   t1, 0(t0)
    csrr t0, mepc
    addi t0, t0, 4
    csrw mepc, t0
    lw   t0, 0(sp)
    lw   t1, 4(sp)
    addi sp, sp, 16
    csrrw sp, mscratch, sp
    mret

/* Everything else: save the caller-saved registers and call sys_slow(frame) in C, which
   handles the remaining system calls (and fails on any other trap). The frame holds x0..x31
   at 4*i; sys_slow may change a0 (the result) and sets mepc. */
slow:
    lw   t0, 0(sp)
    lw   t1, 4(sp)
    addi sp, sp, 16
    addi sp, sp, -128
    .irp r, 1,3,4,5,6,7,10,11,12,13,14,15,16,17,28,29,30,31
    sw   x\r, (\r*4)(sp)
    .endr
    csrr t0, mscratch
    sw   t0, 8(sp)
    mv   a0, sp
    call sys_slow
    .irp r, 1,3,4,5,6,7,10,11,12,13,14,15,16,17,28,29,30,31
    lw   x\r, (\r*4)(sp)
    .endr
    addi sp, sp, 128
    csrrw sp, mscratch, sp
    mret

/* void enter_user(fn, user_sp, m_sp): MRET into U mode at fn with sp = user_sp; traps come
   back on the M stack m_sp. fn must end with the exit system call. */
    .balign 4
    .globl enter_user
enter_user:
    csrw mscratch, a2
    la   t0, sys_trap
    csrw mtvec, t0
    li   t0, 0x1800                 /* MPP = U */
    csrc mstatus, t0
    csrw mepc, a0
    mv   sp, a1
    li   ra, 0
    mret

    .bss
    .balign 4
    .globl sys_count
sys_count:
    .space 4
