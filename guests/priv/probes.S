/* Probes: tiny functions whose first instruction (or a labelled one) is the one under test.
   A trap handler that expects a probe to trap skips the faulting instruction (mepc + 4), or,
   for fetch faults, resumes at ra -- so every probe returns to its caller either way. */
    .file "probes.S"           /* else ld names the temporary object in .symtab */
#include "priv.h"

    .option norvc
    .text

    .macro PROBE name
    .balign 4
    .globl \name
\name:
    .endm

PROBE probe_lw
    lw a0, 0(a0)
    ret
PROBE probe_sw
    sw a1, 0(a0)
    ret
PROBE probe_lr
    lr.w a0, (a0)
    ret
PROBE probe_sc
    sc.w a0, a1, (a0)
    ret
PROBE probe_amo
    amoadd.w a0, a1, (a0)
    ret
PROBE probe_lrsc                    /* 0 when the SC succeeds */
    lr.w t0, (a0)
    sc.w a0, a1, (a0)
    ret
PROBE probe_nop
    ret

/* Call a0; returns the callee's a0, or -1 when the fetch faulted (handler resumes at ra). */
PROBE probe_call
    addi sp, sp, -16
    sw ra, 12(sp)
    mv t0, a0
    li a0, -1
    jalr ra, 0(t0)
    lw ra, 12(sp)
    addi sp, sp, 16
    ret

PROBE probe_illegal                 /* custom-0 major opcode: reserved, always illegal here */
    .word 0x1234500b
    ret
PROBE probe_zero                    /* the all-zero word is defined to be illegal */
    .word 0x00000000
    ret
PROBE probe_ebreak
    ebreak
    ret
PROBE probe_ecall
    li a7, 0
    .globl probe_ecall_insn
probe_ecall_insn:
    ecall
    ret

/* Jumps to mis_target, which is 2 mod 4. Without the C extension each faults at the jump
   (a0 stays 0); with C (QEMU's default CPU) the 16-bit code there runs and returns 7. */
PROBE probe_jalr_mis
    addi sp, sp, -16
    sw ra, 12(sp)
    la t0, mis_target
    li a0, 0
    .globl probe_jalr_mis_insn
probe_jalr_mis_insn:
    jalr ra, 0(t0)
    lw ra, 12(sp)
    addi sp, sp, 16
    ret
PROBE probe_jal_mis
    addi sp, sp, -16
    sw ra, 12(sp)
    li a0, 0
    .globl probe_jal_mis_insn
probe_jal_mis_insn:
    jal ra, mis_target
    lw ra, 12(sp)
    addi sp, sp, 16
    ret
PROBE probe_br_mis                  /* the branch is the second instruction */
    li a0, 0
    beq zero, zero, mis_target
    ret
PROBE probe_br_nt                   /* not taken: no exception whatever the target */
    li a0, 0
    bne zero, zero, mis_target
    ret
    .balign 4
    .2byte 0x0001                   /* c.nop */
    .globl mis_target
mis_target:
    .2byte 0x451d                   /* c.li a0, 7 */
    .2byte 0x8082                   /* c.jr ra */
    .2byte 0x0001

/* MRET from M to M (the caller sets MPP/MPIE first); returns mstatus after it. */
PROBE probe_mret_m
    la t0, 1f
    csrw mepc, t0
    mret
1:  csrr a0, mstatus
    ret
/* SRET from S to S (caller sets SPP = 1); returns sstatus after it. */
PROBE probe_sret_s
    la t0, 1f
    csrw sepc, t0
    sret
1:  csrr a0, sstatus
    ret
/* SRET from S to U (caller sets SPP = 0); the ECALL after it reports the mode. */
PROBE probe_sret_u
    la t0, 1f
    csrw sepc, t0
    sret
1:  li a7, 0
    .globl probe_sret_u_ecall
probe_sret_u_ecall:
    ecall
    ret

PROBE probe_mret
    mret
    ret
PROBE probe_sret
    sret
    ret
PROBE probe_wfi
    wfi
    ret
PROBE probe_sfence
    sfence.vma
    ret
PROBE probe_sfence_va_lw
    sfence.vma a0, zero
    .globl probe_sfence_va_lw_insn
probe_sfence_va_lw_insn:
    lw a0, 0(a0)
    ret
PROBE probe_sfence_all_lw
    sfence.vma
    lw a0, 0(a0)
    ret

/* M-mode access with mstatus.MPRV set (the caller chooses MPP). */
PROBE probe_mprv_lw
    li t0, 0x20000
    csrs mstatus, t0
    .globl probe_mprv_lw_insn
probe_mprv_lw_insn:
    lw a0, 0(a0)
    csrc mstatus, t0
    ret
PROBE probe_mprv_sw
    li t0, 0x20000
    csrs mstatus, t0
    .globl probe_mprv_sw_insn
probe_mprv_sw_insn:
    sw a1, 0(a0)
    csrc mstatus, t0
    ret

PROBE probe_rd_mstatus
    csrr a0, mstatus
    ret
PROBE probe_rd_mscratch
    csrr a0, mscratch
    ret
PROBE probe_rd_sstatus
    csrr a0, sstatus
    ret
PROBE probe_rd_satp
    csrr a0, satp
    ret
PROBE probe_wr_mvendorid
    .word 0xf1101073                /* csrrw x0, mvendorid, x0 */
    ret
PROBE probe_wr_mhartid
    .word 0xf1401073                /* csrrw x0, mhartid, x0 */
    ret
PROBE probe_wr_mimpid
    .word 0xf1351073                /* csrrw x0, mimpid, a0 */
    ret
PROBE probe_wr_cycle
    .word 0xc0051073                /* csrrw x0, cycle, a0 */
    ret
PROBE probe_rs_mhartid              /* csrrs with rs1 = x0 does not write: legal */
    csrrs a0, mhartid, zero
    ret
PROBE probe_rsi_mhartid             /* csrrsi with uimm = 0 does not write: legal */
    csrrsi a0, mhartid, 0
    ret
PROBE probe_rd_custom               /* a CSR number nothing implements */
    csrr a0, 0x8ff
    ret

PROBE probe_rd_cycle
    csrr a0, cycle
    ret
PROBE probe_rd_time
    csrr a0, time
    ret
PROBE probe_rd_instret
    csrr a0, instret
    ret
PROBE probe_rd_cycleh
    csrr a0, cycleh
    ret
PROBE probe_rd_timeh
    csrr a0, timeh
    ret
PROBE probe_rd_instreth
    csrr a0, instreth
    ret
PROBE probe_instret_delta
    csrr t0, instret
    .rept 8
    nop
    .endr
    csrr a0, instret
    sub a0, a0, t0
    ret
PROBE probe_cycle_delta
    csrr t0, cycle
    .rept 8
    nop
    .endr
    csrr a0, cycle
    sub a0, a0, t0
    ret

/* One page of position-independent code that the paging tests map at several virtual
   addresses (S-only, U, execute-only); nothing else lives on it. */
    .section .text.vmpage, "ax"
    .balign 4096
    .globl vm_page
vm_page:
    .globl vm_ret42
vm_ret42:
    li a0, 42
    ret
    .globl vm_lw
vm_lw:
    lw a0, 0(a0)
    ret
    .globl vm_sw
vm_sw:
    sw a1, 0(a0)
    ret
    .globl vm_mode_return
vm_mode_return:
    li a7, MAGIC_RETURN
    ecall
1:  j 1b
    .balign 4096
