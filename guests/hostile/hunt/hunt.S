/* hostile-hunt: the fast RAM scan. Written for this project. */
    .file "hunt.S"             /* else ld names the temporary object in .symtab */
    .option norvc

    .text
    .balign 4
/* uint32_t scan_zero(uint32_t from, uint32_t to): the first 64-byte block in [from, to) that
   holds a non-zero word, or `to`; from and to are multiples of 64. Plain loads: RAM only. */
    .globl scan_zero
scan_zero:
    bgeu a0, a1, 2f
1:  lw   t0, 0(a0)
    lw   t1, 4(a0)
    lw   t2, 8(a0)
    lw   t3, 12(a0)
    lw   t4, 16(a0)
    lw   t5, 20(a0)
    lw   t6, 24(a0)
    lw   a2, 28(a0)
    lw   a3, 32(a0)
    lw   a4, 36(a0)
    lw   a5, 40(a0)
    lw   a6, 44(a0)
    or   t0, t0, t1
    lw   t1, 48(a0)
    or   t2, t2, t3
    lw   t3, 52(a0)
    or   t4, t4, t5
    lw   t5, 56(a0)
    or   t6, t6, a2
    lw   a2, 60(a0)
    or   a3, a3, a4
    or   a5, a5, a6
    or   t1, t1, t3
    or   t5, t5, a2
    or   t0, t0, t2
    or   t4, t4, t6
    or   a3, a3, a5
    or   t1, t1, t5
    or   t0, t0, t4
    or   a3, a3, t1
    or   t0, t0, a3
    bnez t0, 3f
    addi a0, a0, 64
    bltu a0, a1, 1b
2:  mv   a0, a1
3:  ret
