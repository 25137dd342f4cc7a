/* Probed accesses for the hostile guests (probe.S): a load or store that may fault, and an
 * M-mode trap handler that records the fault's cause and skips the access -- but only when the
 * faulting instruction is one of the probes; any other trap (or any interrupt) is unexpected and
 * fails the guest through hv_default_trap. Also: run a function in S mode and come back. */
#ifndef PROBE_H
#define PROBE_H
#include <stdint.h>

#define PROBE_OK          0xffu     /* probe_last when the probe did not trap */
#define CAUSE_LOAD_FAULT  5u
#define CAUSE_STORE_FAULT 7u

extern volatile uint32_t probe_last;         /* mcause of the last probe's fault, or PROBE_OK */

void probe_install(void);                    /* mtvec = probe_trap, mscratch = its save area */
uint32_t probe_lw(uint32_t addr);            /* a faulting load returns 0 */
uint32_t probe_lbu(uint32_t addr);
void probe_sw(uint32_t addr, uint32_t value);

/* The first of from, from + step, ... below `to` (0 = 4 GiB) whose word loads without a
 * fault, or `to` (0 when the loop wrapped past 4 GiB). */
uint32_t probe_next_readable(uint32_t from, uint32_t to, uint32_t step);

/* Loads and stores that report PROBE_OK or the fault's mcause. */
static inline uint32_t try_lw(uint32_t addr, uint32_t *value)
{
    probe_last = PROBE_OK;
    *value = probe_lw(addr);
    return probe_last;
}

static inline uint32_t try_sw(uint32_t addr, uint32_t value)
{
    probe_last = PROBE_OK;
    probe_sw(addr, value);
    return probe_last;
}

/* Runs fn(arg) in S mode (with whatever satp and PMP the caller set up) and returns its result;
 * the S-mode code's faults in probes are counted as above. */
uint32_t run_in_s(uint32_t (*fn)(uint32_t), uint32_t arg);

/* First address of RAM (0x8000_0000) above `from` whose load faults: the end of RAM, found in
 * 4 KiB steps without touching (allocating) anything. */
uint32_t probe_ram_end(uint32_t from);
#endif
