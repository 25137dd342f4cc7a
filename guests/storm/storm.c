/* storm: takes every interrupt of the hypervisor's interrupt generator (0x1010_0000, PLIC
   sources 32..63), claims it through the PLIC, reads and acknowledges the source's event
   counter, keeps its own totals, and at the end checks them against the device's own counts:
   any event that went missing (or was counted twice) fails the run with a code naming it.

   Traffic: the sources the hypervisor drives (HOST_MAP, from a scenario's devices); when it
   drives none (the guest run alone, `hv run guests/bin/storm.elf`), the device's default burst
   pattern on source 32 (armed by enabling the source) and a fast stream the guest requests on
   source 33 through the pattern registers. The guest ends when every source it enabled is DONE
   (its traffic is over) with nothing pending. Needs the hypervisor's device: not for QEMU. */
#include "hv.h"

#define IGEN               0x10100000u
#define IGEN_ID            (IGEN + 0x000u)
#define IGEN_VERSION       (IGEN + 0x004u)
#define IGEN_CONFIG        (IGEN + 0x008u)
#define IGEN_PENDING_MAP   (IGEN + 0x010u)
#define IGEN_ENABLE_MAP    (IGEN + 0x014u)
#define IGEN_HOST_MAP      (IGEN + 0x018u)
#define IGEN_DONE_MAP      (IGEN + 0x01Cu)
#define SRC(i, reg)        (IGEN + 0x100u + 0x40u * (i) + (reg))
#define S_PENDING          0x04u
#define S_ACK              0x08u
#define S_STATUS           0x0Cu
#define S_RAISED           0x10u
#define S_ACKED            0x14u
#define S_DELIVERED        0x18u
#define S_COALESCED        0x1Cu
#define S_CLAIMS           0x20u
#define S_DEFERRED         0x24u
#define S_QUEUED           0x28u
#define S_LOST             0x2Cu
#define S_PATTERN_BURST    0x30u
#define S_PATTERN_PERIOD   0x34u
#define S_PATTERN_COUNT    0x38u
#define S_PATTERN_START    0x3Cu
#define IGEN_MAGIC         0x4E454749u  /* "IGEN" */
#define FIRST_SOURCE       32u

#define PLIC_PRIO(s)       (PLIC_BASE + 4u * (s))
#define PLIC_ENABLE_HI(c)  (PLIC_BASE + 0x2004u + 0x80u * (c))   /* sources 32..63 */
#define PLIC_THRESH(c)     (PLIC_BASE + 0x200000u + 0x1000u * (c))
#define PLIC_CLAIM(c)      (PLIC_BASE + 0x200004u + 0x1000u * (c))

#define CLINT_MTIMECMP     (CLINT_BASE + 0x4000u)
#define CLINT_MTIME        (CLINT_BASE + 0xBFF8u)
#define POLL_TICKS         10000u        /* 1 ms: the timer wakes the idle loop to look at DONE_MAP */

#define MIE_MTIE           (1u << 7)
#define MIE_MEIE           (1u << 11)
#define MSTATUS_MIE        (1u << 3)
#define CAUSE_MTI          0x80000007u
#define CAUSE_MEI          0x8000000Bu

void storm_trap_entry(void);

static volatile uint32_t handled[32];      /* events acknowledged, by source */
static volatile uint32_t claims[32];       /* PLIC claims, by source */
static volatile uint32_t foreign_claims;   /* claims of sources that are not the generator's */
static volatile uint32_t polls;

static uint64_t mtime(void)
{
    uint32_t hi, lo;
    do {
        hi = REG32(CLINT_MTIME + 4);
        lo = REG32(CLINT_MTIME);
    } while (hi != REG32(CLINT_MTIME + 4));
    return ((uint64_t)hi << 32) | lo;
}

static void arm_timer(uint64_t at)
{
    REG32(CLINT_MTIMECMP + 4) = 0xFFFFFFFFu;
    REG32(CLINT_MTIMECMP) = (uint32_t)at;
    REG32(CLINT_MTIMECMP + 4) = (uint32_t)(at >> 32);
}

/* Called from storm_trap_entry with mcause. */
void storm_trap(uint32_t mcause)
{
    if (mcause == CAUSE_MEI) {
        for (;;) {
            uint32_t s = REG32(PLIC_CLAIM(0));
            if (s == 0) {
                break;
            }
            if (s >= FIRST_SOURCE && s < FIRST_SOURCE + 32) {
                uint32_t i = s - FIRST_SOURCE;
                uint32_t n = REG32(SRC(i, S_PENDING));
                REG32(SRC(i, S_ACK)) = n;
                handled[i] += n;
                claims[i]++;
            } else {
                foreign_claims++;
            }
            REG32(PLIC_CLAIM(0)) = s;   /* complete */
        }
    } else if (mcause == CAUSE_MTI) {
        polls++;
        arm_timer(mtime() + POLL_TICKS);
    } else {
        uint32_t epc, tval;
        __asm__ volatile ("csrr %0, mepc" : "=r"(epc));
        __asm__ volatile ("csrr %0, mtval" : "=r"(tval));
        hv_unexpected_trap(mcause, epc, tval);
    }
}

static void print_sources(const char *what, uint32_t mask)
{
    hv_printf("storm: %s:", what);
    for (uint32_t i = 0; i < 32; i++) {
        if (mask & (1u << i)) {
            hv_printf(" %u", FIRST_SOURCE + i);
        }
    }
    hv_printf("\n");
}

int main(void)
{
    if (REG32(IGEN_ID) != IGEN_MAGIC) {
        hv_printf("storm: no interrupt generator at 0x10100000 (id %08x)\n", REG32(IGEN_ID));
        return 0x50;
    }
    uint32_t config = REG32(IGEN_CONFIG);
    hv_printf("storm: interrupt generator v%u, %u sources from PLIC source %u\n",
              REG32(IGEN_VERSION), config & 0xFFu, (config >> 8) & 0xFFu);

    uint32_t want = REG32(IGEN_HOST_MAP);
    if (want != 0) {
        print_sources("host traffic on sources", want);
    } else {
        /* Run alone: source 32 gets the device's default burst pattern as it is; source 33 asks
           for a fast stream of single events (one every 5 ticks, faster than the handler) so
           that events coalesce. */
        want = 3u;
        REG32(SRC(1, S_PATTERN_BURST)) = 1;
        REG32(SRC(1, S_PATTERN_PERIOD)) = 5;
        REG32(SRC(1, S_PATTERN_COUNT)) = 400;
        REG32(SRC(1, S_PATTERN_START)) = 50;
        hv_printf("storm: no host traffic: default pattern on source 32 (%u bursts of %u every %u ticks), "
                  "requested on source 33 (%u bursts of %u every %u ticks)\n",
                  REG32(SRC(0, S_PATTERN_COUNT)), REG32(SRC(0, S_PATTERN_BURST)), REG32(SRC(0, S_PATTERN_PERIOD)),
                  REG32(SRC(1, S_PATTERN_COUNT)), REG32(SRC(1, S_PATTERN_BURST)), REG32(SRC(1, S_PATTERN_PERIOD)));
    }

    for (uint32_t i = 0; i < 32; i++) {
        REG32(PLIC_PRIO(FIRST_SOURCE + i)) = (want & (1u << i)) ? 1 : 0;
    }
    REG32(PLIC_THRESH(0)) = 0;
    REG32(PLIC_ENABLE_HI(0)) = want;
    csr_write(mtvec, (uint32_t)(uintptr_t)storm_trap_entry);
    arm_timer(mtime() + POLL_TICKS);
    csr_write(mie, MIE_MEIE | MIE_MTIE);
    REG32(IGEN_ENABLE_MAP) = want;             /* sources the host does not drive start their local pattern */
    csr_set(mstatus, MSTATUS_MIE);

    for (;;) {
        uint32_t done = REG32(IGEN_DONE_MAP);
        uint32_t pending = REG32(IGEN_PENDING_MAP);
        if ((done & want) == want && (pending & want) == 0) {
            break;
        }
        __asm__ volatile ("wfi");
    }
    csr_clear(mstatus, MSTATUS_MIE);
    csr_write(mie, 0);

    int fail = 0;
    uint32_t total = 0, interrupts = 0;
    for (uint32_t i = 0; i < 32; i++) {
        if (!(want & (1u << i))) {
            continue;
        }
        uint32_t raised = REG32(SRC(i, S_RAISED)), acked = REG32(SRC(i, S_ACKED));
        uint32_t delivered = REG32(SRC(i, S_DELIVERED)), coalesced = REG32(SRC(i, S_COALESCED));
        uint32_t dev_claims = REG32(SRC(i, S_CLAIMS)), deferred = REG32(SRC(i, S_DEFERRED));
        uint32_t queued = REG32(SRC(i, S_QUEUED)), lost = REG32(SRC(i, S_LOST)), pending = REG32(SRC(i, S_PENDING));
        hv_printf("storm: source %u: raised %u, handled %u in %u interrupts, coalesced %u, deferred %u, lost %u\n",
                  FIRST_SOURCE + i, raised, handled[i], claims[i], coalesced, deferred, lost);
        if (handled[i] != raised || acked != raised || pending != 0 || queued != 0) {
            hv_printf("storm: source %u: events missing: raised %u, device acked %u, guest handled %u, pending %u, queued %u\n",
                      FIRST_SOURCE + i, raised, acked, handled[i], pending, queued);
            fail = fail ? fail : 0x10 + (int)i;
        }
        if (delivered + coalesced != raised) {
            hv_printf("storm: source %u: raised %u != delivered %u + coalesced %u\n", FIRST_SOURCE + i, raised, delivered, coalesced);
            fail = fail ? fail : 0x30 + (int)i;
        }
        if (dev_claims != claims[i] || delivered > dev_claims) {
            hv_printf("storm: source %u: the device counted %u claims (%u delivering), the guest %u\n",
                      FIRST_SOURCE + i, dev_claims, delivered, claims[i]);
            fail = fail ? fail : 0x50 + (int)i;
        }
        if (lost != 0) {
            fail = fail ? fail : 0x70 + (int)i;
        }
        total += handled[i];
        interrupts += claims[i];
    }
    if (foreign_claims != 0) {
        hv_printf("storm: %u claims of sources outside the generator\n", foreign_claims);
        fail = fail ? fail : 0x7f;
    }
    if (fail == 0) {
        hv_printf("storm: all %u events handled in %u interrupts: raised = delivered + coalesced on every source, none lost\n",
                  total, interrupts);
    }
    return fail;
}
