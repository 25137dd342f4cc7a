    .file "crt0.S"
# Machine-mode start-up shared by the bare-metal guests: stack, bss, default trap
# handler, then main(); main's return value is the exit code (0 = pass).
    .section .text.init, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la   gp, __global_pointer$
    .option pop
    la   sp, __stack_top
    la   t0, hv_default_trap
    csrw mtvec, t0
    la   t0, __bss_start
    la   t1, __bss_end
1:  bgeu t0, t1, 2f
    sw   zero, 0(t0)
    addi t0, t0, 4
    j    1b
2:  call main
    call hv_exit
3:  j    3b

# An unexpected trap prints its cause and fails with code 0x7e.
    .align 2
    .weak hv_default_trap
hv_default_trap:
    la   sp, __stack_top
    csrr a0, mcause
    csrr a1, mepc
    csrr a2, mtval
    call hv_unexpected_trap
4:  j    4b
