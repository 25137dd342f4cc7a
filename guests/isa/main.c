/* Runs the ISA self-check (isa.S); the exit code is the first failing check's number. */
#include "hv.h"

extern int isa_run(void);
extern const uint32_t isa_num_checks;
extern uint32_t isa_got, isa_exp;

int main(void)
{
    int n = isa_run();
    if (n) {
        hv_printf("isa: check %d failed: got %08x, expected %08x\n", n, isa_got, isa_exp);
        return n;
    }
    hv_printf("isa: all %u checks passed\n", isa_num_checks);
    return 0;
}
