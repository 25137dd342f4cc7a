/* UART output, a small printf, power-off through the SiFive test finisher. */
#include <stdarg.h>
#include "hv.h"

#define UART_THR 0
#define UART_RBR 0
#define UART_LSR 5
#define LSR_DR   0x01
#define LSR_THRE 0x20

void hv_putc(char c)
{
    while (!(REG8(UART_BASE + UART_LSR) & LSR_THRE)) { }
    REG8(UART_BASE + UART_THR) = (uint8_t)c;
}

void hv_puts(const char *s) { while (*s) hv_putc(*s++); }

int hv_getc(void)
{
    if (!(REG8(UART_BASE + UART_LSR) & LSR_DR)) return -1;
    return REG8(UART_BASE + UART_RBR);
}

void hv_exit(int code)
{
    REG32(FINISHER_BASE) = code == 0 ? 0x5555u : (((uint32_t)code << 16) | 0x3333u);
    for (;;) { __asm__ volatile ("wfi"); }
}

void hv_unexpected_trap(uint32_t cause, uint32_t epc, uint32_t tval)
{
    hv_printf("unexpected trap: mcause=%08x mepc=%08x mtval=%08x\n", cause, epc, tval);
    hv_exit(0x7e);
}

static void put_uint(uint32_t v, unsigned base, int width, char pad, int upper)
{
    char buf[12];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do { buf[n++] = digits[v % base]; v /= base; } while (v);
    while (n < width) buf[n++] = pad;
    while (n) hv_putc(buf[--n]);
}

int hv_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') { hv_putc(*fmt); continue; }
        fmt++;
        char pad = ' ';
        int width = 0;
        if (*fmt == '0') { pad = '0'; fmt++; }
        while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 'd': {
            int v = va_arg(ap, int);
            if (v < 0) { hv_putc('-'); put_uint(0u - (uint32_t)v, 10, width ? width - 1 : 0, pad, 0); }
            else put_uint((uint32_t)v, 10, width, pad, 0);
            break;
        }
        case 'u': put_uint(va_arg(ap, uint32_t), 10, width, pad, 0); break;
        case 'x': put_uint(va_arg(ap, uint32_t), 16, width, pad, 0); break;
        case 'X': put_uint(va_arg(ap, uint32_t), 16, width, pad, 1); break;
        case 'c': hv_putc((char)va_arg(ap, int)); break;
        case 's': { const char *s = va_arg(ap, const char *); hv_puts(s ? s : "(null)"); break; }
        case '%': hv_putc('%'); break;
        default: hv_putc('%'); hv_putc(*fmt); break;
        }
    }
    va_end(ap);
    return 0;
}

void *memset(void *d, int c, size_t n) { uint8_t *p = d; while (n--) *p++ = (uint8_t)c; return d; }
void *memcpy(void *d, const void *s, size_t n) { uint8_t *p = d; const uint8_t *q = s; while (n--) *p++ = *q++; return d; }
int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *p = a, *q = b;
    for (; n; n--, p++, q++) if (*p != *q) return *p - *q;
    return 0;
}
size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
