/* hostile-smcflood: self-modifying-code thrash. Every store below lands on a page that holds
 * code the guest is running, so a binary translator must notice each one (and drop what it
 * translated from that page) while the guest keeps storing as fast as it can:
 *
 *   data:     200,000 stores of a counter into a data word on the code page of the loop;
 *   amo:       50,000 AMOADDs and LR/SC pairs on that word;
 *   patch:     20,000 rounds of rewriting an instruction, FENCE.I, calling it;
 *   rewrite:       40 rounds of storing every word of the code page back, with its own value,
 *                     the running loop's own words included, then FENCE.I.
 *
 * Each phase prints a result that depends on every round, so a translator that ran stale
 * code, lost a store or skipped a round shows a different number; QEMU prints the same.
 * Written for this project. */
#include "hv.h"

uint32_t flood_data(uint32_t n);
uint32_t flood_amo(uint32_t n);
uint32_t flood_patch(uint32_t n);
uint32_t flood_rewrite(uint32_t rounds);
extern uint32_t flood_page_start[], flood_page_end[];

#define DATA_ROUNDS    200000u
#define AMO_ROUNDS      50000u
#define PATCH_ROUNDS    20000u
#define REWRITE_ROUNDS     40u

static int failures;

static void check(const char *phase, uint32_t got, uint32_t want)
{
    hv_printf("hostile-smcflood: %s: %08x %s\n", phase, got, got == want ? "ok" : "WRONG");
    if (got != want) {
        hv_printf("hostile-smcflood: %s: expected %08x\n", phase, want);
        failures++;
    }
}

int main(void)
{
    hv_puts("hostile-smcflood: stores, AMOs and patches into its own code pages\n");

    uint32_t want = 0;
    for (uint32_t i = 1; i <= DATA_ROUNDS; i++) want += i;
    check("data stores into the code page", flood_data(DATA_ROUNDS), want);

    want = 0;
    for (uint32_t i = 1; i <= AMO_ROUNDS; i++) want += i;
    check("amoadd and lr/sc on the code page", flood_amo(AMO_ROUNDS), want);

    want = 0;
    for (uint32_t i = 1; i <= PATCH_ROUNDS; i++) want += i & 0x7ff;
    check("patch, fence.i, call", flood_patch(PATCH_ROUNDS), want);

    /* The rewrite checksum over the page as it is now (the loop stores the same values back). */
    want = 0;
    for (uint32_t r = 0; r < REWRITE_ROUNDS; r++)
        for (uint32_t *p = flood_page_start; p < flood_page_end; p++) want = want * 31 + *p;
    check("rewrite the running page with itself", flood_rewrite(REWRITE_ROUNDS), want);

    if (failures) return 1;
    hv_puts("hostile-smcflood: survived, every round saw the code it had just written\n");
    return 0;
}
