/* minios: shared definitions of the M-mode layer, the S-mode kernel and the user tasks. */
#ifndef MINIOS_H
#define MINIOS_H

/* SBI-like calls from S to the M-mode layer (ECALL, a7 = function, legacy numbering) */
#define SBI_SET_TIMER   0       /* a0/a1 = next mtimecmp (lo/hi); clears the S timer */
#define SBI_SHUTDOWN    8       /* a0 = exit code: 0 powers off with success */

/* system calls from U to the kernel (ECALL, a7 = number, a0..a2 = arguments, a0 = result) */
#define SYS_WRITE       1       /* (buf, len) -> len; one call = one atomic console write */
#define SYS_YIELD       2       /* () -> 0 */
#define SYS_SLEEP       3       /* (ticks) -> 0 */
#define SYS_EXIT        4       /* (code) -> does not return */
#define SYS_GETPID      5       /* () -> pid */
#define SYS_UPTIME      6       /* () -> timer ticks since boot */
#define SYS_READLINE    7       /* (buf, max, timeout ticks) -> length, or -1 on timeout */
#define SYS_WAIT        8       /* (pid) -> its exit code (-1 if it was killed) */

/* (both overridable with -D for diagnostic builds; the transcript does not depend on them) */
#ifndef TICK_PERIOD
#define TICK_PERIOD     100000u /* mtime ticks per scheduler tick: 10 ms at 10 MHz */
#endif
#ifndef READ_TIMEOUT
#define READ_TIMEOUT    20u     /* scheduler ticks the reader task waits for a line */
#endif

/* user virtual memory: the shared user code/rodata pages are mapped where they are linked
   (identity, U|R|X); each task's private stack pages live at USTACK_VA */
#define USTACK_VA       0x40000000u
#define USTACK_PAGES    4u
#define USTACK_TOP      (USTACK_VA + USTACK_PAGES * 4096u)

#define NTASK           6
/* what the tasks compute (checked by the kernel at the end) */
#define PRIME_LIMIT     30000u
#define PRIME_COUNT     3245u
#define PRIME_LARGEST   29989u
#define HASH_BYTES      262144u
#define HASH_VALUE      0x57cbe36bu
#define FAULT_VA        0xdead0000u
#define ROGUE_INSN      0x18001073u /* csrw satp, zero */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* kernel.c: where the M-mode layer enters S mode */
void kernel_entry(void) __attribute__((noreturn));

/* user.c */
uint32_t task_reader(uint32_t pid);
uint32_t task_primes(uint32_t pid);
uint32_t task_hash(uint32_t pid);
uint32_t task_faulty(uint32_t pid);
uint32_t task_rogue(uint32_t pid);
uint32_t task_sleeper(uint32_t pid);
void task_return(uint32_t code);
extern char __user_start[], __user_end[];
#endif
#endif
