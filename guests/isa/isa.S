/*
 * Self-checking test of every RV32I, M and A instruction, the Zicsr
 * instructions (on mscratch, plus read-only mhartid with no-write forms) and
 * Zifencei FENCE.I.  Written for this project.
 *
 * Every check gets a number, assigned by the assembler in source order (NCHK;
 * multiples of 256 are skipped, see NEXTCHK).
 * isa_run() returns 0 when all checks pass, else the number of the first
 * failing check; isa_got/isa_exp then hold the observed and expected values
 * (both 0 for control-flow checks).  isa_num_checks holds the total.
 *
 * Register use: t6 holds expected values, a0..a2 are the failure report,
 * everything else is free (callee-saved registers, sp, gp and tp are restored
 * on the way out).  ECALL/EBREAK and misaligned accesses are not tested here.
 */
    .file "isa.S"            /* else ld names the temporary object in .symtab */
    .option norelax          /* exact encodings; gp is clobbered in places */

    .set NCHK, 0             /* number of the current check */
    .set NCOUNT, 0           /* how many checks there are */

/* Next check number.  Multiples of 256 are skipped: QEMU's exit status keeps
   only the low 8 bits of the finisher's fail code, and 0 would read as a pass. */
.macro NEXTCHK
    .set NCHK, NCHK + 1
    .if (NCHK & 0xff) == 0
    .set NCHK, NCHK + 1
    .endif
    .set NCOUNT, NCOUNT + 1
.endm

/* ---- check macros ------------------------------------------------------ */

/* fail the current check (control flow went the wrong way) */
.macro FAILNOW
    li   a0, NCHK
    li   a1, 0
    li   a2, 0
    j    isa_fail
.endm

/* new check: \reg must equal the constant \val */
.macro CHECK reg, val
    NEXTCHK
    li   t6, \val
    beq  \reg, t6, .Lok\@
    mv   a1, \reg
    mv   a2, t6
    li   a0, NCHK
    j    isa_fail
.Lok\@:
.endm

/* new check: \reg must equal register \ereg (\reg must not be t6) */
.macro CHECKR reg, ereg
    NEXTCHK
    mv   t6, \ereg
    beq  \reg, t6, .Lok\@
    mv   a1, \reg
    mv   a2, t6
    li   a0, NCHK
    j    isa_fail
.Lok\@:
.endm

/* new check: \reg must NOT equal the constant \val */
.macro CHECKNE reg, val
    NEXTCHK
    li   t6, \val
    bne  \reg, t6, .Lok\@
    mv   a1, \reg
    mv   a2, t6
    li   a0, NCHK
    j    isa_fail
.Lok\@:
.endm

/* ---- instruction-shape macros ----------------------------------------- */

/* register-register: rd, rs1, rs2 all distinct */
.macro RR op, a, b, res
    li   a3, \a
    li   a4, \b
    \op  a5, a3, a4
    CHECK a5, \res
.endm

/* register-register with rd == rs1 */
.macro RR_D1 op, a, b, res
    li   a5, \a
    li   a4, \b
    \op  a5, a5, a4
    CHECK a5, \res
.endm

/* register-register with rd == rs2 */
.macro RR_D2 op, a, b, res
    li   a3, \a
    li   a5, \b
    \op  a5, a3, a5
    CHECK a5, \res
.endm

/* register-register with rd == rs1 == rs2 */
.macro RR_SAME op, a, res
    li   a5, \a
    \op  a5, a5, a5
    CHECK a5, \res
.endm

/* register-register with rs1 = x0 */
.macro RR_Z1 op, b, res
    li   a4, \b
    \op  a5, x0, a4
    CHECK a5, \res
.endm

/* register-register with rs2 = x0 */
.macro RR_Z2 op, a, res
    li   a3, \a
    \op  a5, a3, x0
    CHECK a5, \res
.endm

/* register-register and the sources are left untouched */
.macro RR_SRC op, a, b, res
    li   a3, \a
    li   a4, \b
    \op  a5, a3, a4
    CHECK a5, \res
    CHECK a3, \a
    CHECK a4, \b
.endm

/* register-immediate */
.macro RI op, a, imm, res
    li   a3, \a
    \op  a5, a3, \imm
    CHECK a5, \res
.endm

/* register-immediate with rd == rs1 */
.macro RI_D op, a, imm, res
    li   a5, \a
    \op  a5, a5, \imm
    CHECK a5, \res
.endm

/* load \op from \sym + \base_off with immediate offset \off */
.macro LD op, sym, base_off, off, res
    la   a3, \sym + \base_off
    \op  a5, \off(a3)
    CHECK a5, \res
.endm

/* branch taken, forward then backward: two checks */
.macro BR_T op, a, b
    li   a3, \a
    li   a4, \b
    NEXTCHK
    \op  a3, a4, .Lf\@
    FAILNOW
.Lb\@:
    j    .Lok\@
.Lf\@:
    NEXTCHK
    \op  a3, a4, .Lb\@
    FAILNOW
.Lok\@:
.endm

/* branch not taken, backward then forward: two checks */
.macro BR_NT op, a, b
    li   a3, \a
    li   a4, \b
    NEXTCHK
    j    .Ls\@
.Lbad\@:
    FAILNOW
.Ls\@:
    \op  a3, a4, .Lbad\@
    NEXTCHK
    \op  a3, a4, .Lbad2\@
    j    .Lok\@
.Lbad2\@:
    FAILNOW
.Lok\@:
.endm

/* branch with rs1 == rs2, \taken = 1 or 0: one check */
.macro BR_SAME op, a, taken
    li   a3, \a
    NEXTCHK
    \op  a3, a3, .Lt\@
    .if \taken
    FAILNOW
    .else
    j    .Lok\@
    .endif
.Lt\@:
    .if \taken
    .else
    FAILNOW
    .endif
.Lok\@:
.endm

/* JALR to a label: rs = target - imm + addend; checks target reached and link */
.macro JALR_T rd, rs, imm, addend
    la   \rs, .Lt\@ - (\imm) + (\addend)
    NEXTCHK
    jalr \rd, \imm(\rs)
.Lr\@:
    FAILNOW
.Lt\@:
    la   a4, .Lr\@
    CHECKR \rd, a4
.endm

/* AMO: mem = \old, rs2 = \src -> rd must be \old, mem must become \new */
.macro AMO op, old, src, new
    la   a3, amobuf
    li   a4, \old
    sw   a4, 0(a3)
    li   a4, \src
    li   a5, 0x5a5a5a5a
    \op  a5, a4, (a3)
    CHECK a5, \old
    lw   a6, 0(a3)
    CHECK a6, \new
.endm

/* ======================================================================= */

    .text
    .globl isa_run
    .type isa_run, @function
isa_run:
    addi sp, sp, -64
    sw   ra, 60(sp)
    sw   s0, 56(sp)
    sw   s1, 52(sp)
    sw   s2, 48(sp)
    sw   s3, 44(sp)
    sw   s4, 40(sp)
    sw   s5, 36(sp)
    sw   s6, 32(sp)
    sw   s7, 28(sp)
    sw   s8, 24(sp)
    sw   s9, 20(sp)
    sw   s10, 16(sp)
    sw   s11, 12(sp)
    la   t0, isa_save
    sw   sp, 0(t0)
    sw   gp, 4(t0)
    sw   tp, 8(t0)

/* ---- LUI --------------------------------------------------------------- */
    lui  a5, 0
    CHECK a5, 0
    lui  a5, 0x12345
    CHECK a5, 0x12345000
    lui  a5, 0x80000
    CHECK a5, 0x80000000
    lui  a5, 0xfffff
    CHECK a5, 0xfffff000
    li   a5, -1
    lui  a5, 0x00001           /* low 12 bits are cleared */
    CHECK a5, 0x00001000
    lui  x0, 0x12345
    CHECK x0, 0

/* ---- AUIPC (the reference pc comes from a JAL link) -------------------- */
    jal  a4, .Lauipc1
.Lauipc1:
    auipc a5, 0
    CHECKR a5, a4
    jal  a4, .Lauipc2
.Lauipc2:
    auipc a5, 1
    li   a3, 0x1000
    add  a4, a4, a3
    CHECKR a5, a4
    jal  a4, .Lauipc3
.Lauipc3:
    auipc a5, 0xfffff
    li   a3, -0x1000
    add  a4, a4, a3
    CHECKR a5, a4
    jal  a4, .Lauipc4
.Lauipc4:
    auipc a5, 0x80000
    li   a3, 0x80000000
    add  a4, a4, a3
    CHECKR a5, a4
    la   a4, .Lauipc5          /* la is auipc+addi: a second opinion */
.Lauipc5:
    auipc a5, 0
    CHECKR a5, a4
    auipc x0, 0x12345
    CHECK x0, 0

/* ---- JAL ----------------------------------------------------------------- */
    NEXTCHK
    jal  a5, .Ljal1t            /* forward */
.Ljal1r:
    FAILNOW
.Ljal1t:
    la   a4, .Ljal1r
    CHECKR a5, a4

    j    .Ljal2s
.Ljal2t:
    la   a4, .Ljal2r
    CHECKR a5, a4
    j    .Ljal2done
.Ljal2s:
    NEXTCHK
    jal  a5, .Ljal2t            /* backward */
.Ljal2r:
    FAILNOW
.Ljal2done:

    NEXTCHK
    jal  ra, .Ljal3t            /* the usual link register */
.Ljal3r:
    FAILNOW
.Ljal3t:
    la   a4, .Ljal3r
    CHECKR ra, a4

    NEXTCHK
    jal  x0, .Ljal4t            /* j: rd = x0 */
    FAILNOW
.Ljal4t:
    CHECK x0, 0

    /* far forward: offset > 8 KiB uses imm bits 11..13 */
    NEXTCHK
    jal  a5, .Ljal5t
.Ljal5r:
    FAILNOW
    .rept 2100
    nop
    .endr
.Ljal5t:
    la   a4, .Ljal5r
    CHECKR a5, a4

    /* far backward */
    j    .Ljal6s
.Ljal6t:
    la   a4, .Ljal6r
    CHECKR a5, a4
    j    .Ljal6done
    .rept 2100
    nop
    .endr
.Ljal6s:
    NEXTCHK
    jal  a5, .Ljal6t
.Ljal6r:
    FAILNOW
.Ljal6done:

/* ---- JALR ---------------------------------------------------------------- */
    JALR_T a5, a3, 0, 0
    JALR_T a5, a3, 8, 0          /* positive offset */
    JALR_T a5, a3, -12, 0        /* negative offset */
    JALR_T a5, a3, 2047, 0
    JALR_T a5, a3, -2048, 0
    JALR_T a5, a3, 0, 1          /* bit 0 of rs1 is cleared */
    JALR_T a5, a3, 1, 0          /* bit 0 of the sum is cleared */
    JALR_T a5, a3, -7, 0         /* odd rs1 + odd imm: even sum */
    JALR_T a5, a5, 0, 0          /* rd == rs1: target uses the old value */
    JALR_T a5, a5, 5, 0          /* rd == rs1 with an odd offset */
    JALR_T ra, ra, 0, 0
    /* rd = x0 */
    la   a3, .Ljalr0t
    NEXTCHK
    jalr x0, 0(a3)
    FAILNOW
.Ljalr0t:
    CHECK x0, 0
    /* call and return through ra */
    li   a5, 0
    jal  ra, .Lsub_inc
    CHECK a5, 1
    jal  ra, .Lsub_inc
    CHECK a5, 2
    j    .Ljalr_done
.Lsub_inc:
    addi a5, a5, 1
    jalr x0, 0(ra)
.Ljalr_done:

/* ---- branches ------------------------------------------------------------ */
    BR_T  beq, 0, 0
    BR_T  beq, 0x80000000, 0x80000000
    BR_T  beq, -1, -1
    BR_NT beq, 0, 1
    BR_NT beq, 0x80000000, 0
    BR_NT beq, 0x7fffffff, 0xffffffff

    BR_T  bne, 0, 1
    BR_T  bne, 0x80000000, 0
    BR_T  bne, 1, 0x80000001
    BR_NT bne, 0, 0
    BR_NT bne, -1, -1

    BR_T  blt, 0, 1
    BR_T  blt, -1, 0
    BR_T  blt, -2, -1
    BR_T  blt, 0x80000000, 0x7fffffff
    BR_T  blt, 0x80000000, -1
    BR_NT blt, 1, 0
    BR_NT blt, 0, -1
    BR_NT blt, 0x7fffffff, 0x80000000
    BR_NT blt, 5, 5
    BR_NT blt, -1, -2

    BR_T  bge, 1, 0
    BR_T  bge, 0, -1
    BR_T  bge, 5, 5
    BR_T  bge, 0x80000000, 0x80000000
    BR_T  bge, 0x7fffffff, 0x80000000
    BR_T  bge, -1, -2
    BR_NT bge, 0, 1
    BR_NT bge, -1, 0
    BR_NT bge, 0x80000000, 0x7fffffff

    BR_T  bltu, 0, 1
    BR_T  bltu, 0, -1
    BR_T  bltu, 0x7fffffff, 0x80000000
    BR_T  bltu, 0xfffffffe, 0xffffffff
    BR_NT bltu, 1, 0
    BR_NT bltu, -1, 0
    BR_NT bltu, 0x80000000, 0x7fffffff
    BR_NT bltu, 7, 7

    BR_T  bgeu, 1, 0
    BR_T  bgeu, -1, 0
    BR_T  bgeu, 0x80000000, 0x7fffffff
    BR_T  bgeu, 0xffffffff, 0xffffffff
    BR_T  bgeu, 0, 0
    BR_NT bgeu, 0, 1
    BR_NT bgeu, 0, -1
    BR_NT bgeu, 0x7fffffff, 0x80000000

    BR_SAME beq, 0x1234, 1
    BR_SAME bne, 0x1234, 0
    BR_SAME blt, -5, 0
    BR_SAME bge, -5, 1
    BR_SAME bltu, 0x80000000, 0
    BR_SAME bgeu, 0x80000000, 1

    /* x0 operands */
    li   a3, -1
    NEXTCHK
    blt  a3, x0, .Lbz1
    FAILNOW
.Lbz1:
    NEXTCHK
    bltu x0, a3, .Lbz2
    FAILNOW
.Lbz2:
    NEXTCHK
    bge  x0, x0, .Lbz3
    FAILNOW
.Lbz3:

    /* far branches: offsets near the +-4 KiB limit */
    li   a3, 1
    li   a4, 2
    NEXTCHK
    blt  a3, a4, .Lbfar1
    FAILNOW
    .rept 1010
    nop
    .endr
.Lbfar1:
    NEXTCHK
    j    .Lbfar2s
.Lbfar2t:
    j    .Lbfar2done
    .rept 1010
    nop
    .endr
.Lbfar2s:
    bltu a3, a4, .Lbfar2t
    FAILNOW
.Lbfar2done:

/* ---- loads ---------------------------------------------------------------- */
    LD lb,  ldata, 0, 0, 0
    LD lb,  ldata, 0, 1, 0x7f
    LD lb,  ldata, 0, 2, 0xffffff80
    LD lb,  ldata, 0, 3, 0xffffffff
    LD lb,  ldata, 0, 12, 0xffffffef
    LD lb,  ldata, 0, 13, 0xffffffcd
    LD lb,  ldata, 0, 15, 0xffffff89
    LD lb,  ldata, 0, 28, 0x67
    LD lb,  ldata, 16, -1, 0xffffff89
    LD lb,  ldata, 32, -1, 0x01

    LD lbu, ldata, 0, 0, 0
    LD lbu, ldata, 0, 1, 0x7f
    LD lbu, ldata, 0, 2, 0x80
    LD lbu, ldata, 0, 3, 0xff
    LD lbu, ldata, 0, 13, 0xcd
    LD lbu, ldata, 16, -1, 0x89
    LD lbu, ldata, 16, -2, 0xab

    LD lh,  ldata, 0, 4, 0x7fff
    LD lh,  ldata, 0, 6, 0xffff8000
    LD lh,  ldata, 0, 8, 0xffffffff
    LD lh,  ldata, 0, 10, 0x0001
    LD lh,  ldata, 0, 12, 0xffffcdef
    LD lh,  ldata, 0, 14, 0xffff89ab
    LD lh,  ldata, 0, 2, 0xffffff80
    LD lh,  ldata, 16, -2, 0xffff89ab

    LD lhu, ldata, 0, 4, 0x7fff
    LD lhu, ldata, 0, 6, 0x8000
    LD lhu, ldata, 0, 8, 0xffff
    LD lhu, ldata, 0, 12, 0xcdef
    LD lhu, ldata, 0, 2, 0xff80
    LD lhu, ldata, 16, -2, 0x89ab

    LD lw,  ldata, 0, 0, 0xff807f00
    LD lw,  ldata, 0, 4, 0x80007fff
    LD lw,  ldata, 0, 8, 0x0001ffff
    LD lw,  ldata, 0, 12, 0x89abcdef
    LD lw,  ldata, 0, 16, 0x7fffffff
    LD lw,  ldata, 0, 20, 0x80000000
    LD lw,  ldata, 0, 24, 0xfedcba98
    LD lw,  ldata, 32, -4, 0x01234567
    LD lw,  ldata, 16, -16, 0xff807f00

    /* rd == rs1 */
    la   a5, ldata
    lw   a5, 12(a5)
    CHECK a5, 0x89abcdef
    la   a5, ldata
    lb   a5, 2(a5)
    CHECK a5, 0xffffff80
    /* rd = x0 */
    la   a3, ldata
    lw   x0, 12(a3)
    CHECK x0, 0
    lb   x0, 2(a3)
    CHECK x0, 0
    lhu  x0, 6(a3)
    CHECK x0, 0
    /* the base register is left untouched */
    la   a4, ldata
    mv   a3, a4
    lw   a5, 4(a3)
    CHECKR a3, a4

/* ---- stores ---------------------------------------------------------------- */
    /* SB */
    la   a3, sbuf
    li   a4, 0x55555555
    sw   a4, 0(a3)
    sw   a4, 4(a3)
    sw   a4, -4+32(a3)
    li   a4, 0x123456ab          /* only the low byte is stored */
    sb   a4, 1(a3)
    lw   a5, 0(a3)
    CHECK a5, 0x5555ab55
    lw   a5, 4(a3)
    CHECK a5, 0x55555555
    li   a4, 0x80
    sb   a4, 0(a3)
    lw   a5, 0(a3)
    CHECK a5, 0x5555ab80
    sb   a4, 3(a3)
    lw   a5, 0(a3)
    CHECK a5, 0x8055ab80
    sb   x0, 2(a3)
    lw   a5, 0(a3)
    CHECK a5, 0x8000ab80
    addi a6, a3, 8
    li   a4, 0x3c
    sb   a4, -5(a6)              /* byte 3 */
    lw   a5, 0(a3)
    CHECK a5, 0x3c00ab80
    lb   a5, 0(a3)
    CHECK a5, 0xffffff80
    lbu  a5, 1(a3)
    CHECK a5, 0xab
    lw   a5, 4(a3)
    CHECK a5, 0x55555555
    /* SH */
    li   a4, 0x55555555
    sw   a4, 8(a3)
    sw   a4, 12(a3)
    li   a4, 0xdeadbeef          /* only the low half is stored */
    sh   a4, 8(a3)
    lw   a5, 8(a3)
    CHECK a5, 0x5555beef
    sh   a4, 10(a3)
    lw   a5, 8(a3)
    CHECK a5, 0xbeefbeef
    lw   a5, 12(a3)
    CHECK a5, 0x55555555
    lw   a5, 4(a3)
    CHECK a5, 0x55555555
    sh   x0, 14(a3)
    lw   a5, 12(a3)
    CHECK a5, 0x00005555
    lh   a5, 8(a3)
    CHECK a5, 0xffffbeef
    lhu  a5, 8(a3)
    CHECK a5, 0xbeef
    addi a6, a3, 16
    li   a4, 0x7f01
    sh   a4, -6(a6)              /* bytes 10..11 */
    lw   a5, 8(a3)
    CHECK a5, 0x7f01beef
    lbu  a5, 11(a3)
    CHECK a5, 0x7f
    /* SW */
    li   a4, 0x13579bdf
    sw   a4, 16(a3)
    lw   a5, 16(a3)
    CHECK a5, 0x13579bdf
    lw   a5, 12(a3)
    CHECK a5, 0x00005555
    lbu  a5, 16(a3)
    CHECK a5, 0xdf
    lbu  a5, 17(a3)
    CHECK a5, 0x9b
    lbu  a5, 18(a3)
    CHECK a5, 0x57
    lbu  a5, 19(a3)
    CHECK a5, 0x13
    lhu  a5, 18(a3)
    CHECK a5, 0x1357
    li   a4, 0x2468ace0
    addi a6, a3, 24
    sw   a4, -4(a6)              /* word 20 */
    lw   a5, 20(a3)
    CHECK a5, 0x2468ace0
    lw   a5, 16(a3)
    CHECK a5, 0x13579bdf
    lw   a5, 28(a3)
    CHECK a5, 0x55555555
    /* store rs2 == rs1 (the address itself is stored) */
    addi a6, a3, 24
    sw   a6, 0(a6)
    lw   a5, 24(a3)
    CHECKR a5, a6
    /* 12-bit offsets at both extremes */
    la   a3, bigbuf + 2048
    li   a4, 0xa1b2c3d4
    sw   a4, -2048(a3)           /* bigbuf + 0 */
    li   a4, 0x5e6f7081
    addi a6, a3, -3              /* bigbuf + 2045 */
    sw   a4, 2047(a6)            /* bigbuf + 4092 */
    la   a6, bigbuf
    lw   a5, 0(a6)
    CHECK a5, 0xa1b2c3d4
    la   a6, bigbuf + 4092
    lw   a5, 0(a6)
    CHECK a5, 0x5e6f7081
    addi a6, a3, 1               /* bigbuf + 2049 */
    lw   a5, -2049+4(a6)         /* bigbuf + 4 */
    CHECK a5, 0
    lw   a5, -2048+7(a6)         /* bigbuf + 8 */
    CHECK a5, 0
    addi a6, a3, -3
    lw   a5, 2047(a6)
    CHECK a5, 0x5e6f7081
    lb   a5, 2047(a6)
    CHECK a5, 0xffffff81
    lh   a5, -2048(a3)
    CHECK a5, 0xffffc3d4
    lbu  a5, -2045(a3)
    CHECK a5, 0xa1

/* ---- register-immediate ALU ---------------------------------------------- */
    RI addi, 0, 0, 0
    RI addi, 1, 1, 2
    RI addi, 0, -1, 0xffffffff
    RI addi, 0, 2047, 2047
    RI addi, 0, -2048, 0xfffff800
    RI addi, 0x7fffffff, 1, 0x80000000
    RI addi, 0x80000000, -1, 0x7fffffff
    RI addi, 0x7ffff800, 2047, 0x7fffffff
    RI addi, 0xffffffff, 1, 0
    RI_D addi, 100, -101, 0xffffffff

    RI slti, 0, 0, 0
    RI slti, -1, 0, 1
    RI slti, 0, -1, 0
    RI slti, 0x80000000, -2048, 1
    RI slti, 0xfffff7ff, -2048, 1
    RI slti, -2048, -2048, 0
    RI slti, 2047, 2047, 0
    RI slti, 2046, 2047, 1
    RI slti, 0x7fffffff, 2047, 0
    RI slti, 0x80000000, 0, 1
    RI_D slti, -3, -2, 1

    RI sltiu, 0, 0, 0
    RI sltiu, 0, 1, 1
    RI sltiu, 1, 1, 0
    RI sltiu, 0, -1, 1             /* imm -1 is 0xffffffff unsigned */
    RI sltiu, 0xfffffffe, -1, 1
    RI sltiu, 0xffffffff, -1, 0
    RI sltiu, 0x7fffffff, -2048, 1 /* imm is 0xfffff800 unsigned */
    RI sltiu, 0xfffff800, -2048, 0
    RI sltiu, 0xfffff7ff, -2048, 1
    RI sltiu, 2047, 2047, 0
    RI sltiu, 0x80000000, 2047, 0
    RI_D sltiu, 5, 6, 1

    RI xori, 0x00ff0f00, 0x0f0, 0x00ff0ff0
    RI xori, 0x12345678, -1, 0xedcba987
    RI xori, 0x00ff00ff, -2048, 0xff00f8ff
    RI xori, 0xffffffff, 0x7ff, 0xfffff800
    RI_D xori, 0xf00ff00f, 0x70f, 0xf00ff700

    RI ori, 0x12345678, 0, 0x12345678
    RI ori, 0, -1, 0xffffffff
    RI ori, 1, -2048, 0xfffff801
    RI ori, 0x12340000, 0x7ff, 0x123407ff
    RI_D ori, 0xff00ff00, 0x0f0, 0xff00fff0

    RI andi, 0xffffffff, 0x7ff, 0x7ff
    RI andi, 0x12345678, -1, 0x12345678
    RI andi, 0x12345678, -2048, 0x12345000
    RI andi, 0xff00ff00, 0x0f0, 0
    RI andi, 0x80000fff, -16, 0x80000ff0
    RI_D andi, 0xff00ff00, 0x70f, 0x00000700

    RI slli, 1, 0, 1
    RI slli, 1, 1, 2
    RI slli, 1, 31, 0x80000000
    RI slli, 0xffffffff, 31, 0x80000000
    RI slli, 0x12345678, 4, 0x23456780
    RI slli, 0x80000001, 1, 2
    RI_D slli, 0x21, 20, 0x02100000

    RI srli, 0x80000000, 0, 0x80000000
    RI srli, 0x80000000, 1, 0x40000000
    RI srli, 0x80000000, 31, 1
    RI srli, 0xffffffff, 31, 1
    RI srli, 0x12345678, 4, 0x01234567
    RI srli, 0xffffffff, 1, 0x7fffffff
    RI_D srli, 0x80000021, 5, 0x04000001

    RI srai, 0x80000000, 0, 0x80000000
    RI srai, 0x80000000, 1, 0xc0000000
    RI srai, 0x80000000, 31, 0xffffffff
    RI srai, 0x7fffffff, 31, 0
    RI srai, 0x81234567, 4, 0xf8123456
    RI srai, 0x7fffffff, 1, 0x3fffffff
    RI srai, 0xffffffff, 31, 0xffffffff
    RI srai, -100, 2, -25
    RI_D srai, 0xc0000000, 30, 0xffffffff

    /* rs1 = x0 forms */
    addi a5, x0, -5
    CHECK a5, 0xfffffffb
    sltiu a5, x0, 1
    CHECK a5, 1
    ori  a5, x0, 0x555
    CHECK a5, 0x555

/* ---- register-register ALU -------------------------------------------------- */
    RR_SRC add, 1, 1, 2
    RR add, 0x7fffffff, 1, 0x80000000
    RR add, 0xffffffff, 1, 0
    RR add, 0x80000000, 0x80000000, 0
    RR add, 0x12345678, 0x87654321, 0x99999999
    RR add, -5, 3, -2
    RR_D1 add, 0x1000, -1, 0xfff
    RR_D2 add, 0x1000, -1, 0xfff
    RR_SAME add, 0x40000001, 0x80000002
    RR_Z1 add, 0x1234, 0x1234
    RR_Z2 add, 0x1234, 0x1234

    RR_SRC sub, 3, 1, 2
    RR sub, 0, 1, 0xffffffff
    RR sub, 0x80000000, 1, 0x7fffffff
    RR sub, 0x7fffffff, 0xffffffff, 0x80000000
    RR sub, 5, 5, 0
    RR sub, 1, 3, -2
    RR_D1 sub, 10, 3, 7
    RR_D2 sub, 10, 3, 7
    RR_SAME sub, 0x12345678, 0
    RR_Z1 sub, 1, 0xffffffff
    RR_Z2 sub, 0x1234, 0x1234

    RR_SRC sll, 1, 31, 0x80000000
    RR sll, 1, 0, 1
    RR sll, 1, 1, 2
    RR sll, 0xffffffff, 31, 0x80000000
    RR sll, 1, 32, 1                    /* only rs2[4:0] counts */
    RR sll, 1, 33, 2
    RR sll, 0x12345678, 0xffffffe4, 0x23456780
    RR sll, 0x12345678, -1, 0
    RR sll, 0x12345679, -1, 0x80000000
    RR_D1 sll, 3, 4, 0x30
    RR_D2 sll, 3, 4, 0x30
    RR_SAME sll, 2, 8
    RR_Z2 sll, 0x1234, 0x1234

    RR_SRC srl, 0x80000000, 31, 1
    RR srl, 0x80000000, 0, 0x80000000
    RR srl, 0x80000000, 1, 0x40000000
    RR srl, 0xffffffff, 31, 1
    RR srl, 0xffffffff, 33, 0x7fffffff
    RR srl, 0x12345678, 36, 0x01234567
    RR srl, 0xffffffff, 32, 0xffffffff
    RR srl, 0xffffffff, 0xffffffff, 1
    RR_D1 srl, 0x300, 4, 0x30
    RR_D2 srl, 0x300, 4, 0x30
    RR_SAME srl, 0x80000004, 0x08000000
    RR_Z1 srl, 3, 0

    RR_SRC sra, 0x80000000, 31, 0xffffffff
    RR sra, 0x80000000, 0, 0x80000000
    RR sra, 0x80000000, 1, 0xc0000000
    RR sra, 0x7fffffff, 31, 0
    RR sra, 0xfffffff0, 2, 0xfffffffc
    RR sra, -1, 17, -1
    RR sra, 0x81234567, 36, 0xf8123456
    RR sra, 0x7fffffff, 33, 0x3fffffff
    RR sra, -100, 2, -25
    RR sra, 0x80000000, 32, 0x80000000
    RR sra, 0x80000000, -1, 0xffffffff
    RR_D1 sra, 0x80000300, 8, 0xff800003
    RR_D2 sra, 0x80000300, 8, 0xff800003
    RR_SAME sra, 0x80000004, 0xf8000000

    RR_SRC slt, -1, 0, 1
    RR slt, 0, 0, 0
    RR slt, 0, -1, 0
    RR slt, 0x80000000, 0x7fffffff, 1
    RR slt, 0x7fffffff, 0x80000000, 0
    RR slt, 1, 2, 1
    RR slt, 2, 1, 0
    RR slt, -2, -1, 1
    RR slt, -1, -2, 0
    RR slt, 0x80000000, 0x80000000, 0
    RR_D1 slt, -5, 5, 1
    RR_D2 slt, -5, 5, 1
    RR_SAME slt, -5, 0
    RR_Z1 slt, 1, 1
    RR_Z2 slt, -1, 1

    RR_SRC sltu, 0, -1, 1
    RR sltu, 0, 0, 0
    RR sltu, -1, 0, 0
    RR sltu, 0x7fffffff, 0x80000000, 1
    RR sltu, 0x80000000, 0x7fffffff, 0
    RR sltu, 0xfffffffe, 0xffffffff, 1
    RR sltu, 0xffffffff, 0xfffffffe, 0
    RR sltu, 1, 1, 0
    RR_D1 sltu, 5, -5, 1
    RR_D2 sltu, 5, -5, 1
    RR_SAME sltu, -5, 0
    RR_Z1 sltu, 1, 1                   /* snez */
    RR_Z1 sltu, 0, 0
    RR_Z2 sltu, 1, 0

    RR_SRC xor, 0xff00ff00, 0x0ff00ff0, 0xf0f0f0f0
    RR xor, 0xffffffff, 0x12345678, 0xedcba987
    RR xor, 0x80000000, 0x80000001, 1
    RR_D1 xor, 0xff00ff00, 0x0ff00ff0, 0xf0f0f0f0
    RR_D2 xor, 0xff00ff00, 0x0ff00ff0, 0xf0f0f0f0
    RR_SAME xor, 0x12345678, 0
    RR_Z1 xor, 0x55, 0x55

    RR_SRC or, 0xff00ff00, 0x0ff00ff0, 0xfff0fff0
    RR or, 0, 0, 0
    RR or, 0x80000000, 1, 0x80000001
    RR_D1 or, 0xf000000f, 0x0f0000f0, 0xff0000ff
    RR_D2 or, 0xf000000f, 0x0f0000f0, 0xff0000ff
    RR_SAME or, 0x12345678, 0x12345678
    RR_Z2 or, 0x55, 0x55

    RR_SRC and, 0xff00ff00, 0x0ff00ff0, 0x0f000f00
    RR and, 0xffffffff, 0x12345678, 0x12345678
    RR and, 0xaaaaaaaa, 0x55555555, 0
    RR_D1 and, 0xf00000ff, 0xff0000f0, 0xf00000f0
    RR_D2 and, 0xf00000ff, 0xff0000f0, 0xf00000f0
    RR_SAME and, 0x12345678, 0x12345678
    RR_Z1 and, 0x55, 0

/* ---- M extension ------------------------------------------------------------- */
    RR_SRC mul, 3, 7, 21
    RR mul, -3, 7, 0xffffffeb
    RR mul, -3, -7, 21
    RR mul, 0x80000000, -1, 0x80000000
    RR mul, 0xffff, 0xffff, 0xfffe0001
    RR mul, 0x12345678, 0x9abcdef0, 0x242d2080
    RR mul, 0x7fffffff, 0x7fffffff, 1
    RR mul, 0, -1, 0
    RR_D1 mul, 6, -7, -42
    RR_D2 mul, 6, -7, -42
    RR_SAME mul, 0x10001, 0x00020001

    RR_SRC mulh, 0x80000000, 0x7fffffff, 0xc0000000
    RR mulh, 3, 7, 0
    RR mulh, -3, 7, 0xffffffff
    RR mulh, -1, -1, 0
    RR mulh, 0x80000000, 0x80000000, 0x40000000
    RR mulh, 0x7fffffff, 0x7fffffff, 0x3fffffff
    RR mulh, 0x80000000, -1, 0
    RR mulh, 0x12345678, 0x9abcdef0, 0xf8cc93d6
    RR mulh, -1, 1, 0xffffffff
    RR mulh, 0xffff0000, 0x10000, 0xffffffff
    RR_D1 mulh, 0x80000000, 2, 0xffffffff
    RR_D2 mulh, 0x80000000, 2, 0xffffffff
    RR_SAME mulh, 0x80000000, 0x40000000

    RR_SRC mulhu, 0xffffffff, 0xffffffff, 0xfffffffe
    RR mulhu, 3, 7, 0
    RR mulhu, 0x80000000, 0x80000000, 0x40000000
    RR mulhu, 0xffffffff, 2, 1
    RR mulhu, 0x12345678, 0x9abcdef0, 0x0b00ea4e
    RR mulhu, 0x80000000, 0xffffffff, 0x7fffffff
    RR mulhu, -3, 7, 6
    RR_D1 mulhu, 0x80000000, 2, 1
    RR_D2 mulhu, 0x80000000, 2, 1
    RR_SAME mulhu, 0xffffffff, 0xfffffffe

    RR_SRC mulhsu, 0x80000000, 0xffffffff, 0x80000000
    RR mulhsu, 3, 7, 0
    RR mulhsu, -1, 0xffffffff, 0xffffffff
    RR mulhsu, 0x7fffffff, 0xffffffff, 0x7ffffffe
    RR mulhsu, -1, 1, 0xffffffff
    RR mulhsu, 1, 0xffffffff, 0
    RR mulhsu, -2, 0x80000000, 0xffffffff
    RR mulhsu, 0x80000000, 0x80000000, 0xc0000000
    RR mulhsu, 0x12345678, 0x9abcdef0, 0x0b00ea4e
    RR mulhsu, 0x9abcdef0, 0x12345678, 0xf8cc93d6
    RR_D1 mulhsu, -1, 0x80000000, 0xffffffff
    RR_D2 mulhsu, -1, 0x80000000, 0xffffffff
    RR_SAME mulhsu, 0xffffffff, 0xffffffff

    RR_SRC div, 20, 6, 3
    RR div, -20, 6, -3
    RR div, 20, -6, -3
    RR div, -20, -6, 3
    RR div, 0x80000000, -1, 0x80000000  /* overflow */
    RR div, 0x80000000, 1, 0x80000000
    RR div, 0x80000000, 2, 0xc0000000
    RR div, 5, 0, -1                    /* by zero */
    RR div, -5, 0, -1
    RR div, 0, 0, -1
    RR div, 0x80000000, 0, -1
    RR div, 7, 7, 1
    RR div, -1, 2, 0
    RR div, 0x7fffffff, -1, 0x80000001
    RR_D1 div, -100, 7, -14
    RR_D2 div, -100, 7, -14
    RR_SAME div, -9, 1
    RR_Z2 div, 1234, -1
    RR_Z1 div, 5, 0

    RR_SRC divu, 20, 6, 3
    RR divu, -20, 6, 0x2aaaaaa7
    RR divu, 0x80000000, -1, 0
    RR divu, 5, 0, 0xffffffff           /* by zero */
    RR divu, 0, 0, 0xffffffff
    RR divu, 0xffffffff, 1, 0xffffffff
    RR divu, 0xffffffff, 0xffffffff, 1
    RR divu, 0x80000000, 2, 0x40000000
    RR divu, 0x80000000, 0xffffffff, 0
    RR_D1 divu, 100, 7, 14
    RR_D2 divu, 100, 7, 14
    RR_SAME divu, 0x80000000, 1
    RR_Z2 divu, 1234, 0xffffffff

    RR_SRC rem, 20, 6, 2
    RR rem, -20, 6, -2                  /* sign of the dividend */
    RR rem, 20, -6, 2
    RR rem, -20, -6, -2
    RR rem, 0x80000000, -1, 0           /* overflow */
    RR rem, 5, 0, 5                     /* by zero */
    RR rem, -5, 0, -5
    RR rem, 0, 0, 0
    RR rem, 0x80000000, 0, 0x80000000
    RR rem, 0x80000001, 2, -1
    RR rem, 0x7fffffff, -1, 0
    RR_D1 rem, -100, 7, -2
    RR_D2 rem, -100, 7, -2
    RR_SAME rem, -9, 0
    RR_Z2 rem, -1234, -1234

    RR_SRC remu, 20, 6, 2
    RR remu, -20, 6, 2
    RR remu, 5, 0, 5                    /* by zero */
    RR remu, 0xffffffff, 0, 0xffffffff
    RR remu, 0x80000000, -1, 0x80000000
    RR remu, 0xffffffff, 0x10, 0xf
    RR remu, 0xffffffff, 0xffffffff, 0
    RR_D1 remu, 100, 7, 2
    RR_D2 remu, 100, 7, 2
    RR_SAME remu, 0x80000000, 0
    RR_Z2 remu, 0x87654321, 0x87654321

/* ---- A extension: LR/SC ------------------------------------------------------ */
    /* No LR has run since reset: SC without a reservation fails, stores nothing */
    la   a3, lrsc
    li   a4, 0x11111111
    sw   a4, 0(a3)
    li   a4, 0x22222222
    li   a5, 0
    sc.w a5, a4, (a3)
    CHECKNE a5, 0
    lw   a6, 0(a3)
    CHECK a6, 0x11111111

    /* LR then SC to the same address succeeds */
    li   a5, 0
    lr.w a5, (a3)
    CHECK a5, 0x11111111
    li   a4, 0x33333333
    li   a6, 0x55
    sc.w a6, a4, (a3)
    CHECK a6, 0
    lw   a5, 0(a3)
    CHECK a5, 0x33333333

    /* SC after a successful SC fails */
    li   a4, 0x44444444
    li   a6, 0
    sc.w a6, a4, (a3)
    CHECKNE a6, 0
    lw   a5, 0(a3)
    CHECK a5, 0x33333333

    /* SC after a failed SC fails */
    li   a6, 0
    sc.w a6, a4, (a3)
    CHECKNE a6, 0
    lw   a5, 0(a3)
    CHECK a5, 0x33333333

    /* LR, LR again (same address), SC succeeds; the value loaded is current */
    lr.w a5, (a3)
    lr.w a5, (a3)
    CHECK a5, 0x33333333
    li   a4, 0x80000000
    li   a6, 0x55
    sc.w a6, a4, (a3)
    CHECK a6, 0
    lw   a5, 0(a3)
    CHECK a5, 0x80000000

    /* aq/rl variants */
    lr.w.aq a5, (a3)
    CHECK a5, 0x80000000
    li   a4, 0x7fffffff
    li   a6, 0x55
    sc.w.rl a6, a4, (a3)
    CHECK a6, 0
    lr.w.aqrl a5, (a3)
    CHECK a5, 0x7fffffff
    li   a4, -1
    li   a6, 0x55
    sc.w.aqrl a6, a4, (a3)
    CHECK a6, 0
    lw   a5, 0(a3)
    CHECK a5, 0xffffffff
    li   a6, 0
    sc.w.aq a6, a4, (a3)        /* reservation gone again */
    CHECKNE a6, 0

    /* LR/SC increment loop, as compilers emit it */
    la   a3, lrsc + 4
    sw   x0, 0(a3)
    li   a7, 10
.Llrsc_loop:
    lr.w a5, (a3)
    addi a5, a5, 3
    sc.w a6, a5, (a3)
    bnez a6, .Llrsc_loop
    addi a7, a7, -1
    bnez a7, .Llrsc_loop
    lw   a5, 0(a3)
    CHECK a5, 30

    /* the neighbour word was not touched by any of the above */
    la   a3, lrsc
    lw   a5, 8(a3)
    CHECK a5, 0

/* ---- A extension: AMOs ------------------------------------------------------- */
    AMO amoswap.w, 0x12345678, 0x9abcdef0, 0x9abcdef0
    AMO amoswap.w, 0xffffffff, 0, 0
    AMO amoswap.w.aqrl, 0, 0x80000000, 0x80000000

    AMO amoadd.w, 1, 2, 3
    AMO amoadd.w, 0x7fffffff, 1, 0x80000000
    AMO amoadd.w, 0xffffffff, 1, 0
    AMO amoadd.w, 0x80000000, 0x80000000, 0
    AMO amoadd.w.aq, 10, -20, -10

    AMO amoxor.w, 0xff00ff00, 0x0ff00ff0, 0xf0f0f0f0
    AMO amoxor.w, 0xffffffff, 0x80000001, 0x7ffffffe
    AMO amoxor.w.rl, 0x12345678, 0x12345678, 0

    AMO amoand.w, 0xff00ff00, 0x0ff00ff0, 0x0f000f00
    AMO amoand.w, 0xffffffff, 0x80000001, 0x80000001
    AMO amoand.w.aqrl, 0x12345678, 0, 0

    AMO amoor.w, 0xff00ff00, 0x0ff00ff0, 0xfff0fff0
    AMO amoor.w, 0, 0x80000001, 0x80000001
    AMO amoor.w.aq, 0x12340000, 0x5678, 0x12345678

    AMO amomin.w, 1, 2, 1
    AMO amomin.w, 2, 1, 1
    AMO amomin.w, -1, 1, -1
    AMO amomin.w, 1, -1, -1
    AMO amomin.w, 0x80000000, 0x7fffffff, 0x80000000
    AMO amomin.w, 0x7fffffff, 0x80000000, 0x80000000
    AMO amomin.w, 5, 5, 5
    AMO amomin.w.rl, -2, -3, -3

    AMO amomax.w, 1, 2, 2
    AMO amomax.w, 2, 1, 2
    AMO amomax.w, -1, 1, 1
    AMO amomax.w, 1, -1, 1
    AMO amomax.w, 0x80000000, 0x7fffffff, 0x7fffffff
    AMO amomax.w, 0x7fffffff, 0x80000000, 0x7fffffff
    AMO amomax.w, -5, -5, -5
    AMO amomax.w.aq, -2, -3, -2

    AMO amominu.w, 1, 2, 1
    AMO amominu.w, 2, 1, 1
    AMO amominu.w, 0xffffffff, 1, 1
    AMO amominu.w, 1, 0xffffffff, 1
    AMO amominu.w, 0x80000000, 0x7fffffff, 0x7fffffff
    AMO amominu.w, 0x7fffffff, 0x80000000, 0x7fffffff
    AMO amominu.w, 0, 0xffffffff, 0
    AMO amominu.w.aqrl, 0xfffffffe, 0xffffffff, 0xfffffffe

    AMO amomaxu.w, 1, 2, 2
    AMO amomaxu.w, 2, 1, 2
    AMO amomaxu.w, 0xffffffff, 1, 0xffffffff
    AMO amomaxu.w, 1, 0xffffffff, 0xffffffff
    AMO amomaxu.w, 0x80000000, 0x7fffffff, 0x80000000
    AMO amomaxu.w, 0x7fffffff, 0x80000000, 0x80000000
    AMO amomaxu.w, 0, 0, 0
    AMO amomaxu.w.rl, 0xfffffffe, 0xffffffff, 0xffffffff

    /* rd == rs2: rd gets the old value, memory gets the old rs2 */
    la   a3, amobuf
    li   a4, 100
    sw   a4, 0(a3)
    li   a5, 23
    amoadd.w a5, a5, (a3)
    CHECK a5, 100
    lw   a6, 0(a3)
    CHECK a6, 123
    /* rd == rs1: the address register is overwritten with the old value */
    la   a5, amobuf
    li   a4, 0x77
    amoswap.w a5, a4, (a5)
    CHECK a5, 123
    lw   a6, 0(a3)
    CHECK a6, 0x77
    /* rd = x0: memory is still updated */
    li   a4, 0x100
    amoadd.w x0, a4, (a3)
    CHECK x0, 0
    lw   a6, 0(a3)
    CHECK a6, 0x177
    /* rs2 = x0 */
    li   a5, 0x5a
    amoor.w a5, x0, (a3)
    CHECK a5, 0x177
    lw   a6, 0(a3)
    CHECK a6, 0x177
    /* neighbours untouched */
    lw   a6, -4(a3)
    CHECK a6, 0
    lw   a6, 4(a3)
    CHECK a6, 0
    /* AMOs do not create a reservation: SC still fails */
    li   a6, 0
    sc.w a6, a4, (a3)
    CHECKNE a6, 0
    lw   a5, 0(a3)
    CHECK a5, 0x177

/* ---- Zicsr on mscratch --------------------------------------------------------- */
    li   a3, 0x12345678
    csrw mscratch, a3                 /* csrrw x0 */
    csrr a5, mscratch                 /* csrrs rd, csr, x0 */
    CHECK a5, 0x12345678
    li   a4, 0xf0f0f0f0
    csrrw a5, mscratch, a4
    CHECK a5, 0x12345678
    csrr a5, mscratch
    CHECK a5, 0xf0f0f0f0
    li   a4, 0x0000ffff
    csrrs a5, mscratch, a4
    CHECK a5, 0xf0f0f0f0
    csrr a5, mscratch
    CHECK a5, 0xf0f0ffff
    li   a4, 0xff00ff00
    csrrc a5, mscratch, a4
    CHECK a5, 0xf0f0ffff
    csrr a5, mscratch
    CHECK a5, 0x00f000ff
    csrrc a5, mscratch, x0            /* no write */
    CHECK a5, 0x00f000ff
    csrrs a5, mscratch, x0
    CHECK a5, 0x00f000ff
    csrrwi a5, mscratch, 31
    CHECK a5, 0x00f000ff
    csrr a5, mscratch
    CHECK a5, 31
    csrrsi a5, mscratch, 0            /* no write */
    CHECK a5, 31
    csrrci a5, mscratch, 0            /* no write */
    CHECK a5, 31
    csrrwi a5, mscratch, 0x10
    CHECK a5, 31
    csrrsi a5, mscratch, 0x05
    CHECK a5, 0x10
    csrr a5, mscratch
    CHECK a5, 0x15
    li   a3, -1
    csrw mscratch, a3
    csrrci a5, mscratch, 0x1f         /* uimm is zero-extended */
    CHECK a5, 0xffffffff
    csrr a5, mscratch
    CHECK a5, 0xffffffe0
    csrrwi a5, mscratch, 0
    CHECK a5, 0xffffffe0
    csrr a5, mscratch
    CHECK a5, 0
    /* rd == rs1 */
    li   a5, 0x13579bdf
    csrrw a5, mscratch, a5
    CHECK a5, 0
    csrr a5, mscratch
    CHECK a5, 0x13579bdf
    li   a5, 0x20
    csrrs a5, mscratch, a5
    CHECK a5, 0x13579bdf
    li   a5, 0x13000000
    csrrc a5, mscratch, a5
    CHECK a5, 0x13579bff
    csrr a5, mscratch
    CHECK a5, 0x00579bff
    /* rd = x0 forms: csrs/csrc/csrwi/csrsi/csrci, and reads into x0 */
    li   a4, 0x80000000
    csrs mscratch, a4
    csrr a5, mscratch
    CHECK a5, 0x80579bff
    li   a4, 0x00500000
    csrc mscratch, a4
    csrr a5, mscratch
    CHECK a5, 0x80079bff
    csrwi mscratch, 0x1e
    csrr a5, mscratch
    CHECK a5, 0x1e
    csrsi mscratch, 0x01
    csrr a5, mscratch
    CHECK a5, 0x1f
    csrci mscratch, 0x0a
    csrr a5, mscratch
    CHECK a5, 0x15
    csrrs x0, mscratch, x0
    CHECK x0, 0
    li   a4, 0x7777
    csrrw x0, mscratch, a4
    CHECK x0, 0
    csrrs x0, mscratch, a4
    CHECK x0, 0
    csrrwi x0, mscratch, 3
    CHECK x0, 0
    csrr a5, mscratch
    CHECK a5, 3
    /* read-only mhartid: forms that do not write must not trap */
    li   a5, -1
    csrr a5, mhartid
    CHECK a5, 0
    li   a5, -1
    csrrc a5, mhartid, x0
    CHECK a5, 0
    li   a5, -1
    csrrsi a5, mhartid, 0
    CHECK a5, 0
    li   a5, -1
    csrrci a5, mhartid, 0
    CHECK a5, 0

/* ---- FENCE ----------------------------------------------------------------------- */
    li   a5, 0
    la   a3, sbuf
    li   a4, 0x600d
    sw   a4, 0(a3)
    fence
    fence rw, rw
    fence iorw, iorw
    fence r, r
    fence w, w
    fence r, w
    fence i, o
    fence o, i
    fence.tso
    addi a5, a5, 1
    lw   a6, 0(a3)
    CHECK a5, 1
    CHECK a6, 0x600d

/* ---- FENCE.I and self-modifying code ------------------------------------------- */
    la   a3, smcbuf
    la   a4, smc_t1
    lw   a5, 0(a4)
    sw   a5, 0(a3)
    lw   a5, 4(a4)
    sw   a5, 4(a3)
    fence.i
    li   a0, 0
    jalr ra, 0(a3)
    CHECK a0, 1
    la   a4, smc_t2                   /* rewrite the first instruction */
    lw   a5, 0(a4)
    sw   a5, 0(a3)
    fence.i
    li   a0, 0
    jalr ra, 0(a3)
    CHECK a0, 2
    la   a4, smc_t3
    lw   a5, 0(a4)
    sw   a5, 0(a3)
    fence.i
    jalr ra, 0(a3)
    CHECK a0, 0x12345000
    /* the same code reached a second time without changes */
    li   a0, 0
    jalr ra, 0(a3)
    CHECK a0, 0x12345000

/* ---- writes to x0 are ignored --------------------------------------------------- */
    addi x0, x0, 5
    CHECK x0, 0
    li   a3, 7
    add  x0, a3, a3
    CHECK x0, 0
    sub  x0, x0, a3
    CHECK x0, 0
    slli x0, a3, 3
    CHECK x0, 0
    sltiu x0, x0, 1
    CHECK x0, 0
    mul  x0, a3, a3
    CHECK x0, 0
    div  x0, a3, x0
    CHECK x0, 0
    addi a5, x0, 0
    CHECK a5, 0
    add  a5, x0, x0
    CHECK a5, 0

/* ---- register file: every register holds its own value ---------------------------- */
    /* pass 1: x1..x30 checked against x31 */
    .irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    li   x\r, (\r * 0x08040201) ^ 0xa5a5a5a5
    .endr
    .irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    NEXTCHK
    li   x31, (\r * 0x08040201) ^ 0xa5a5a5a5
    beq  x\r, x31, .Lreg_ok\r
    mv   a1, x\r
    mv   a2, x31
    li   a0, NCHK
    j    isa_fail
.Lreg_ok\r:
    .endr
    /* pass 2: x31 set first, checked against x1 */
    .irp r, 31,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    li   x\r, ((\r * 0x08040201) ^ 0x5a5a5a5a) + 1
    .endr
    NEXTCHK
    li   x1, ((31 * 0x08040201) ^ 0x5a5a5a5a) + 1
    beq  x31, x1, .Lreg_ok_31
    mv   a1, x31
    mv   a2, x1
    li   a0, NCHK
    j    isa_fail
.Lreg_ok_31:

/* ---- done ------------------------------------------------------------------------ */
    li   a0, 0
    j    isa_ret

/* a0 = check number, a1 = observed, a2 = expected */
isa_fail:
    la   t0, isa_got
    sw   a1, 0(t0)
    la   t0, isa_exp
    sw   a2, 0(t0)
isa_ret:
    la   t0, isa_save
    lw   sp, 0(t0)
    lw   gp, 4(t0)
    lw   tp, 8(t0)
    lw   ra, 60(sp)
    lw   s0, 56(sp)
    lw   s1, 52(sp)
    lw   s2, 48(sp)
    lw   s3, 44(sp)
    lw   s4, 40(sp)
    lw   s5, 36(sp)
    lw   s6, 32(sp)
    lw   s7, 28(sp)
    lw   s8, 24(sp)
    lw   s9, 20(sp)
    lw   s10, 16(sp)
    lw   s11, 12(sp)
    addi sp, sp, 64
    ret
    .size isa_run, . - isa_run

/* ---- code templates copied into smcbuf (data, never executed in place) ------ */
    .section .rodata
    .balign 4
smc_t1:
    addi a0, x0, 1
    jalr x0, 0(ra)
smc_t2:
    addi a0, x0, 2
smc_t3:
    lui  a0, 0x12345

/* ---- data -------------------------------------------------------------------------- */
    .data
    .balign 16
ldata:
    .byte 0x00, 0x7f, 0x80, 0xff        /* +0 */
    .half 0x7fff, 0x8000                /* +4 */
    .half 0xffff, 0x0001                /* +8 */
    .word 0x89abcdef                    /* +12 */
    .word 0x7fffffff                    /* +16 */
    .word 0x80000000                    /* +20 */
    .word 0xfedcba98                    /* +24 */
    .word 0x01234567                    /* +28 */

    .globl isa_num_checks
    .balign 4
isa_num_checks:
    .word NCOUNT

    .bss
    .balign 16
    .globl isa_got, isa_exp
isa_got: .space 4
isa_exp: .space 4
isa_save: .space 16
sbuf:   .space 32
lrsc:   .space 16
    .space 16
amobuf: .space 4
    .space 12
    .balign 4096
smcbuf: .space 64
    .balign 16
bigbuf: .space 4096
