/* The smallest guest: one line on the UART, then power off with success. */
#include "hv.h"

int main(void)
{
    hv_puts("Hello from a RISC-V guest!\n");
    return 0;
}
