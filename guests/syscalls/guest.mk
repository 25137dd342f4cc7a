# System-call-heavy U-mode guest: main.c (user program, slow calls), entry.S (M trap fast path).
SRCS_syscalls = syscalls/main.c syscalls/entry.S
