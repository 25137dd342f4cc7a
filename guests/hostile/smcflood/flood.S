/* hostile-smcflood: the code it floods with stores. Everything here sits on code pages; the
   loops store into the very page (and, in flood_rewrite, the very block) they run from.
   Written for this project. */
    .file "flood.S"            /* else ld names the temporary object in .symtab */
    .option norvc
    .option norelax

    .text
    .balign 4096
    .globl flood_page_start
flood_page_start:

/* uint32_t flood_data(uint32_t n): n rounds of: store the round number into flood_word (a
   data word on this code page, 64 bytes from the loop), load it back, add it up. */
    .globl flood_data
flood_data:
    la   t0, flood_word
    li   a1, 0
1:  sw   a0, 0(t0)
    lw   t1, 0(t0)
    add  a1, a1, t1
    addi a0, a0, -1
    bnez a0, 1b
    mv   a0, a1
    ret

    .balign 64
    .globl flood_word
flood_word:
    .word 0

/* uint32_t flood_amo(uint32_t n): n rounds of amoadd.w (the round number) and an LR/SC pair
   on flood_word; returns the word, which ends as the sum of the rounds. */
    .balign 64
    .globl flood_amo
flood_amo:
    la   t0, flood_word
    sw   zero, 0(t0)
1:  amoadd.w t1, a0, (t0)
2:  lr.w t1, (t0)
    sc.w t2, t1, (t0)               /* store back the same value; retry if it failed */
    bnez t2, 2b
    addi a0, a0, -1
    bnez a0, 1b
    lw   a0, 0(t0)
    ret

/* uint32_t flood_patch(uint32_t n): n rounds of: write "addi a2, zero, (round & 0x7ff)" over
   flood_slot, FENCE.I, call it, add a2 up. flood_slot is restored at the end. */
    .balign 64
    .globl flood_patch
flood_patch:
    la   t0, flood_slot
    li   t3, 0
    li   t4, 0x00000613             /* addi a2, zero, 0 */
1:  andi t1, a0, 0x7ff
    slli t1, t1, 20
    or   t1, t1, t4
    sw   t1, 0(t0)
    fence.i
    jalr t5, 0(t0)
    add  t3, t3, a2
    addi a0, a0, -1
    bnez a0, 1b
    sw   t4, 0(t0)
    fence.i
    mv   a0, t3
    ret

    .balign 64
flood_slot:
    addi a2, zero, 0
    jr   t5

/* uint32_t flood_rewrite(uint32_t rounds): each round stores every word of the code page
   range [flood_page_start, flood_page_end) back with the value it holds -- including the
   words of this loop, while it runs -- then FENCE.I; returns a checksum of the words seen. */
    .balign 64
    .globl flood_rewrite
flood_rewrite:
    li   t3, 0
1:  la   t0, flood_page_start
    la   t2, flood_page_end
2:  lw   t1, 0(t0)
    sw   t1, 0(t0)
    slli t4, t3, 5
    sub  t3, t4, t3
    add  t3, t3, t1                 /* t3 = t3 * 31 + word */
    addi t0, t0, 4
    bltu t0, t2, 2b
    fence.i
    addi a0, a0, -1
    bnez a0, 1b
    mv   a0, t3
    ret

    .balign 64
    .globl flood_page_end
flood_page_end:
