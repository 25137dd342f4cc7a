/* hostile-scan: the M-mode trap handler and the probes. The handler counts exceptions by cause
   (scan_traps[cause]), records the last cause (scan_last) and skips the faulting instruction,
   except for instruction fetch faults (cause 0 or 1), where it resumes at ra -- every fetch
   probe is a call. Any interrupt is a failure (they are all disabled). Written for this project. */
    .file "trap.S"             /* else ld names the temporary object in .symtab */
    .option norvc

    .text
    .balign 4
    .globl scan_trap
scan_trap:
    csrrw t0, mscratch, t0          /* t0 = save area (scan_save), mscratch = interrupted t0 */
    sw   t1, 0(t0)
    sw   t2, 4(t0)
    csrr t1, mcause
    bltz t1, 9f                     /* an interrupt: nobody enabled one */
    andi t1, t1, 31
    la   t2, scan_last
    sw   t1, 0(t2)
    slli t2, t1, 2
    add  t2, t2, t0
    lw   t1, 8(t2)                  /* scan_traps[cause] = scan_save + 8 + 4*cause */
    addi t1, t1, 1
    sw   t1, 8(t2)
    csrr t1, mcause
    li   t2, 1
    bleu t1, t2, 1f                 /* fetch fault: return to the caller */
    csrr t1, mepc
    addi t1, t1, 4
    csrw mepc, t1
    j    2f
1:  csrw mepc, ra
2:  lw   t1, 0(t0)
    lw   t2, 4(t0)
    csrrw t0, mscratch, t0
    mret
9:  csrrw t0, mscratch, t0
    j    hv_default_trap

/* Probes: each performs one access. The C side clears scan_last first and reads it after. */
    .balign 4
    .globl probe_lw, probe_sw, probe_lbu, probe_amoadd, probe_lr, probe_call
probe_lw:                           /* uint32_t probe_lw(addr) */
    lw   a0, 0(a0)
    ret
probe_sw:                           /* void probe_sw(addr, value) */
    sw   a1, 0(a0)
    ret
probe_lbu:
    lbu  a0, 0(a0)
    ret
probe_amoadd:                       /* amoadd.w of a1 */
    amoadd.w a0, a1, (a0)
    ret
probe_lr:
    lr.w a0, (a0)
    ret
probe_call:                         /* jump to addr; a fetch fault comes back here at ra */
    addi sp, sp, -16
    sw   ra, 12(sp)
    jalr ra, 0(a0)
    lw   ra, 12(sp)
    addi sp, sp, 16
    ret

    .bss
    .balign 16
    .globl scan_save, scan_last
scan_save:                          /* t1, t2, then scan_traps[32] */
    .space 8
    .globl scan_traps
scan_traps:
    .space 128
scan_last:
    .space 4
