/* Saving and restoring the C calling convention's callee-saved registers (ra, s0-s11, gp, tp)
   in a 64-byte stack frame, for the assembly entry points that leave C code for another mode or
   stack and come back to their caller later (run_in_s, run_mode, the sandboxes). */

.macro SAVE_CALLEE_SAVED
    addi sp, sp, -64
    sw   ra, 0(sp)
    .irp r, 0,1,2,3,4,5,6,7,8,9,10,11
    sw   s\r, (4+\r*4)(sp)
    .endr
    sw   gp, 52(sp)
    sw   tp, 56(sp)
.endm

/* The frame SAVE_CALLEE_SAVED made is at sp: reload the registers and pop it. */
.macro RESTORE_CALLEE_SAVED
    lw   ra, 0(sp)
    .irp r, 0,1,2,3,4,5,6,7,8,9,10,11
    lw   s\r, (4+\r*4)(sp)
    .endr
    lw   gp, 52(sp)
    lw   tp, 56(sp)
    addi sp, sp, 64
.endm
