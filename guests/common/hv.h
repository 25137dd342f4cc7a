/* Tiny runtime for bare-metal guests on the QEMU-virt-compatible platform. */
#ifndef HV_H
#define HV_H
#include <stdint.h>
#include <stddef.h>

#define UART_BASE      0x10000000u
#define FINISHER_BASE  0x00100000u
#define CLINT_BASE     0x02000000u
#define PLIC_BASE      0x0c000000u

#define REG32(a) (*(volatile uint32_t *)(uintptr_t)(a))
#define REG8(a)  (*(volatile uint8_t *)(uintptr_t)(a))

#define csr_read(csr) ({ uint32_t __v; __asm__ volatile ("csrr %0, " #csr : "=r"(__v)); __v; })
#define csr_write(csr, v) __asm__ volatile ("csrw " #csr ", %0" :: "rK"(v))
#define csr_set(csr, v) __asm__ volatile ("csrs " #csr ", %0" :: "rK"(v))
#define csr_clear(csr, v) __asm__ volatile ("csrc " #csr ", %0" :: "rK"(v))

void hv_putc(char c);
void hv_puts(const char *s);          /* no newline added */
int  hv_getc(void);                   /* -1 when nothing is waiting */
int  hv_printf(const char *fmt, ...);
void hv_exit(int code) __attribute__((noreturn));   /* 0 = pass */
void hv_unexpected_trap(uint32_t cause, uint32_t epc, uint32_t tval) __attribute__((noreturn));

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int   memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
#endif
