/* Code that guests/smc/main.c patches, copies and calls. Every label named *_insn marks an
   instruction word that main.c rewrites; the functions are short and position-independent
   where they get copied. Written for this project. */
#include "callee_saved.h"
    .file "code.S"             /* else ld names the temporary object in .symtab */
    .option norvc
    .option norelax

    .text

/* ---- (a) a hot function patched in place -------------------------------------------- */
    .balign 64
    .globl smc_a, smc_a_insn
smc_a:
smc_a_insn:
    addi a0, zero, 1            /* rewritten: addi a0, zero, 2 / lui a0, .. / addi a0, zero, 3 */
    ret

/* A hot function whose first instruction is a jump: main.c retargets it. */
    .balign 64
    .globl smc_a_jump, smc_a_jump_insn, smc_a_jump_alt
smc_a_jump:
smc_a_jump_insn:
    j    1f                     /* rewritten: j smc_a_jump_alt, then back */
    li   a0, 99
    ret
1:  li   a0, 10
    ret
smc_a_jump_alt:
    li   a0, 20
    ret

/* ---- (b) a loop that patches its own body ------------------------------------------- */
/* void smc_b_loop(uint32_t n, uint32_t out[2])
   Iteration i (1..n): X (top of the body) runs with the immediate the previous iteration
   stored there and fenced, so it yields i-1; the body then stores imm = i into X, into Z
   (later in the same block, run with no FENCE.I in between: old or new value, unspecified,
   so its result is discarded) and into W, executes FENCE.I, and W (after the fence, same
   straight-line code) must yield i. out[0] = sum of X = n(n-1)/2, out[1] = sum of W = n(n+1)/2.
   X, Z and W are restored (and fenced) before returning, so the loop can run again. */
    .balign 64
    .globl smc_b_loop, smc_b_x, smc_b_z, smc_b_w
smc_b_loop:
    addi sp, sp, -16
    sw   s0, 0(sp)
    sw   s1, 4(sp)
    sw   s2, 8(sp)
    sw   s3, 12(sp)
    la   s0, smc_b_x
    la   s1, smc_b_z
    la   s2, smc_b_w
    li   a6, 0x00000e13         /* addi t3, zero, 0 */
    li   a7, 0x00000e93         /* addi t4, zero, 0 */
    li   s3, 0x00000f13         /* addi t5, zero, 0 */
    li   a2, 0                  /* sum of X */
    li   a3, 0                  /* sum of W */
    li   a5, 1                  /* i */
2:
smc_b_x:
    addi t3, zero, 0            /* X */
    add  a2, a2, t3
    slli t0, a5, 20             /* imm = i */
    or   t1, t0, a6
    sw   t1, 0(s0)              /* X <- addi t3, zero, i (takes effect next iteration) */
    or   t1, t0, a7
    sw   t1, 0(s1)              /* Z <- addi t4, zero, i (no fence before Z runs) */
smc_b_z:
    addi t4, zero, 0            /* Z: unspecified, result dropped below */
    li   t4, 0
    or   t1, t0, s3
    sw   t1, 0(s2)              /* W <- addi t5, zero, i */
    fence.i
smc_b_w:
    addi t5, zero, 0            /* W: must be i */
    add  a3, a3, t5
    addi a5, a5, 1
    bleu a5, a0, 2b
    sw   a2, 0(a1)
    sw   a3, 4(a1)
    sw   a6, 0(s0)              /* restore X, Z, W */
    sw   a7, 0(s1)
    sw   s3, 0(s2)
    fence.i
    li   t3, 0
    li   t5, 0
    lw   s0, 0(sp)
    lw   s1, 4(sp)
    lw   s2, 8(sp)
    lw   s3, 12(sp)
    addi sp, sp, 16
    ret

/* ---- (c) functions copied to a RAM buffer (position-independent) --------------------- */
/* uint32_t c1(uint32_t n): sum of 3k+1 for k < n (a loop, so several blocks). */
    .balign 64
    .globl smc_c1, smc_c1_end
smc_c1:
    li   t0, 0
    li   t1, 0
1:  bgeu t1, a0, 2f
    slli t2, t1, 1
    add  t2, t2, t1
    addi t2, t2, 1
    add  t0, t0, t2
    addi t1, t1, 1
    j    1b
2:  mv   a0, t0
    ret
smc_c1_end:

/* uint32_t c2(uint32_t x): rotl(x ^ 0x5a5a5a5a, 7) + 0x1234 (straight line, other length). */
    .balign 64
    .globl smc_c2, smc_c2_end
smc_c2:
    li   t0, 0x5a5a5a5a
    xor  a0, a0, t0
    slli t1, a0, 7
    srli a0, a0, 25
    or   a0, a0, t1
    li   t0, 0x1234
    add  a0, a0, t0
    ret
smc_c2_end:

/* ---- (d) a code page that also holds hot data ---------------------------------------- */
/* uint32_t smc_d_fn(uint32_t x): counts its calls in smc_d_counter (same page), returns x + 7.
   The store to the counter lands on the page of the running block; the instructions after
   it must still run. */
    .balign 4096
    .globl smc_d_fn, smc_d_insn, smc_d_counter, smc_d_data
smc_d_fn:
    la   t0, smc_d_counter
    lw   t1, 0(t0)
    addi t1, t1, 1
    sw   t1, 0(t0)
smc_d_insn:
    addi a0, a0, 7              /* rewritten at the end: addi a0, a0, 9 */
    ret
    .balign 64
smc_d_counter:
    .word 0
    .balign 64
smc_d_data:                     /* 64 words main.c writes to all the time */
    .space 256
    .balign 4096

/* ---- (e) a function patched by AMOs and LR/SC ---------------------------------------- */
    .balign 64
    .globl smc_e_fn, smc_e_insn
smc_e_fn:
smc_e_insn:
    addi a0, zero, 5
    ret

/* ---- S-mode harness for (f) and (g) -------------------------------------------------- */
/* uint32_t smc_run_s(uint32_t fn, uint32_t arg): runs fn(arg) in S mode (with whatever satp
   M set) and returns its a0; fn returns to smc_s_return, whose ECALL brings us back. Any
   other trap reaches hv_default_trap (fails with 0x7e). */
    .balign 4
    .globl smc_run_s, smc_s_return
smc_run_s:
    SAVE_CALLEE_SAVED
    la   t0, smc_saved_sp
    sw   sp, 0(t0)
    la   t0, smc_m_trap
    csrw mtvec, t0
    li   t0, 0x1800             /* MPP = S */
    csrc mstatus, t0
    li   t0, 0x0800
    csrs mstatus, t0
    csrw mepc, a0
    mv   a0, a1
    la   ra, smc_s_return
    mret
smc_s_return:
    ecall

    .balign 4
smc_m_trap:
    csrr t0, mcause
    li   t1, 9                  /* ECALL from S: the function is done */
    bne  t0, t1, 1f
    la   t0, smc_saved_sp
    lw   sp, 0(t0)
    la   t0, hv_default_trap
    csrw mtvec, t0
    RESTORE_CALLEE_SAVED
    ret
1:  j    hv_default_trap

    .bss
    .balign 4
smc_saved_sp:
    .space 4
