/* hostile-pagetables: absurd Sv32 page tables, and S- and U-mode accesses through them. Every
 * access is one probe (pt.S): a load, a store or an instruction fetch in S or U mode, whose
 * outcome -- success, page fault, access fault -- is compared with what the privileged spec
 * says. The guest prints one line per group of probes and fails (code = group number) on the
 * first group with a wrong outcome.
 *
 * Part 1, hand-made tables: a non-leaf PTE pointing back at its own table (a cycle), a
 * misaligned superpage, the reserved leaf encodings W and W+X, invalid PTEs with every other bit
 * set, a non-leaf PTE at level 0, X-only pages with and without MXR, U pages from S with and
 * without SUM, leaves pointing above 4 GiB (PPN bits beyond a 32-bit physical address, one of
 * them the 4 GiB alias of a RAM canary that must stay untouched), into holes, onto the finisher
 * and PLIC pages, leaves with A/D clear (hardware sets them, as QEMU does), RSW and G bits,
 * superpages above 4 GiB and at physical 0, non-leaf PTEs pointing into nothing or into MMIO,
 * and satp roots above 4 GiB, in a hole, or on an empty table.
 *
 * Part 2, garbage tables: eight pages of pseudo-random PTEs whose PPNs point at one of these
 * pages or above 4 GiB, with random flags; a few thousand random loads and stores from S and U
 * mode with random SUM/MXR, each compared with a reference Sv32 walk done in C first (and the
 * loaded or stored value checked against memory). Stores write more random PTEs, so the tables
 * change as they are probed.
 *
 * Where QEMU 7.2 departs from the spec the check accepts both outcomes, and says so: a page
 * walk that reads a PTE from where nothing is mapped must raise an access fault (the spec, and
 * our hart), QEMU 7.2 raises a page fault; a PTE read from MMIO is allowed on QEMU and a
 * platform choice elsewhere.
 *
 * Physical addresses above 4 GiB: Sv32 makes 34-bit physical addresses, and nothing is mapped
 * above 4 GiB here. QEMU 7.2 computes the address in 32 bits, so a leaf at 0x1_8000_1000 reaches
 * RAM at 0x8000_1000 (and one at 0x1_0000_5000 its boot ROM). So every such PPN used on both
 * platforms is a hole plus 4 or 8 GiB (0x0100_0000, 0x0400_0000..0x0C00_0000, 0xFFFF_F000),
 * which faults on both. The probes through the 4 GiB alias of a RAM canary -- which catch
 * exactly that truncation -- run only where there is no boot ROM at 0x1000, i.e. not on QEMU
 * (there they are counted without running, so the transcript is the same). PPNs stay below
 * 0x3_0000_0000, where QEMU's rv32 virt maps its high PCIe window. Written for this project.
 */
#include "hv.h"

extern char pt_stub_lw[], pt_stub_sw[], pt_stub_jr[], pt_ecall_page[];
extern volatile uint32_t pt_result[4];
void pt_run(uint32_t pc, uint32_t a0, uint32_t a1, uint32_t mstatus);

#define A(p) ((uint32_t)(uintptr_t)(p))

#define PTE_V 0x001u
#define PTE_R 0x002u
#define PTE_W 0x004u
#define PTE_X 0x008u
#define PTE_U 0x010u
#define PTE_G 0x020u
#define PTE_A 0x040u
#define PTE_D 0x080u
#define PTE_RSW 0x300u
#define PPN(pa) ((uint32_t)((pa) >> 12) << 10)          /* pa may be 64-bit (34-bit PA) */
#define LEAF_RWX (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
#define LEAF_RW  (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)

#define MST_MPP_S (1u << 11)
#define MST_MPP_U (0u << 11)
#define MST_SUM   (1u << 18)
#define MST_MXR   (1u << 19)
#define SATP_SV32 0x80000000u

#define PA_4G      0x100000000ull
#define PA_HOLE    0x01000000u      /* nothing here on either platform */
#define PA_HOLE4M  0x04000000u      /* a 4 MiB-aligned hole; 0x0400_0000..0x0C00_0000 is empty on both */
#define PA_FINISH  0x00100000u
#define PA_PLIC    0x0c000000u

enum kind { LOAD, STORE, FETCH };
enum outcome { OK, PAGE_FAULT, ACCESS_FAULT, EITHER_FAULT, OTHER };
static const char *const outcome_name[] = { "ok", "page fault", "access fault", "page or access fault", "other" };
static const char *const kind_name[] = { "load", "store", "fetch" };

static uint32_t tbl[5][1024] __attribute__((aligned(4096)));
#define ROOT   tbl[0]
#define L0X    tbl[1]
#define EMPTY  tbl[2]
#define CANARY tbl[3]
#define DATA   tbl[4]

/* ---- one probe ----------------------------------------------------------------------------- */
static uint32_t loaded;         /* a0 after a successful load */

static enum outcome probe(enum kind k, uint32_t va, uint32_t value, uint32_t mstatus)
{
    static const uint32_t pf[] = { 13, 15, 12 }, af[] = { 5, 7, 1 };
    uint32_t pc = k == LOAD ? A(pt_stub_lw) : k == STORE ? A(pt_stub_sw) : A(pt_stub_jr);
    __asm__ volatile ("sfence.vma" ::: "memory");
    pt_run(pc, va, value, mstatus);
    uint32_t cause = pt_result[0], epc = pt_result[1], tval = pt_result[2];
    loaded = pt_result[3];
    uint32_t at = k == FETCH ? va : pc;                 /* where the access traps */
    if (cause == 8 || cause == 9) return epc == (k == FETCH ? va : pc + 4) ? OK : OTHER;
    if (epc != at || tval != va) return OTHER;
    if (cause == pf[k]) return PAGE_FAULT;
    if (cause == af[k]) return ACCESS_FAULT;
    return OTHER;
}

static uint32_t satp_of(const void *root) { return SATP_SV32 | (A(root) >> 12); }

/* ---- part 1 bookkeeping -------------------------------------------------------------------- */
static uint32_t group, group_probes, failed_group;

static void begin(void) { group++; group_probes = 0; }
static void end(const char *what)
{
    hv_printf("hostile-pagetables: %u. %s: %u probes as expected\n", group, what, group_probes);
}

static void expect(enum kind k, uint32_t va, uint32_t value, uint32_t mstatus, enum outcome want)
{
    enum outcome got = probe(k, va, value, mstatus);
    group_probes++;
    int good = got == want || (want == EITHER_FAULT && (got == PAGE_FAULT || got == ACCESS_FAULT));
    if (!good) {
        hv_printf("hostile-pagetables: group %u probe %u: %s %s at %08x: got %s (mcause %u), expected %s\n",
                  group, group_probes, mstatus & MST_MPP_S ? "S" : "U", kind_name[k], va,
                  outcome_name[got], pt_result[0], outcome_name[want]);
        if (!failed_group) failed_group = group;
    }
}

static void expect_value(uint32_t got, uint32_t want)
{
    group_probes++;
    if (got != want) {
        hv_printf("hostile-pagetables: group %u check %u: got %08x, expected %08x\n", group, group_probes, got, want);
        if (!failed_group) failed_group = group;
    }
}

/* Sets satp and enters S at a probe stub: the fetch of the stub itself is what faults. */
static void expect_satp(uint32_t satp, enum outcome want)
{
    csr_write(satp, satp);
    __asm__ volatile ("sfence.vma" ::: "memory");
    pt_run(A(pt_stub_lw), 0, 0, MST_MPP_S);
    uint32_t cause = pt_result[0], epc = pt_result[1], tval = pt_result[2];
    enum outcome got = epc != A(pt_stub_lw) || tval != A(pt_stub_lw) ? OTHER
                     : cause == 12 ? PAGE_FAULT : cause == 1 ? ACCESS_FAULT : OTHER;
    group_probes++;
    if (!(got == want || (want == EITHER_FAULT && (got == PAGE_FAULT || got == ACCESS_FAULT)))) {
        hv_printf("hostile-pagetables: group %u probe %u: satp %08x: got %s (mcause %u), expected %s\n",
                  group, group_probes, satp, outcome_name[got], cause, outcome_name[want]);
        if (!failed_group) failed_group = group;
    }
}

#define VA(vpn1, vpn0, off) ((uint32_t)(vpn1) << 22 | (uint32_t)(vpn0) << 12 | (uint32_t)(off))
#define S   MST_MPP_S
#define U   MST_MPP_U

static void set_code_user(int user)
{
    ROOT[0x200] = PPN(0x80000000u) | LEAF_RWX | (user ? PTE_U : 0);
}

/* QEMU's virt machine has a boot ROM at 0x1000 (the map here has nothing there); read through
   the superpage at physical 0 that part 1 sets up. */
static int qemu;
static int has_boot_rom(void)
{
    return probe(LOAD, VA(11, 1, 0), 0, MST_MPP_S) == OK;
}

static void part1(void)
{
    uint32_t first_word = *(volatile uint32_t *)0x80000000u;   /* _start's first instruction */

    for (int t = 0; t < 5; t++)
        for (int i = 0; i < 1024; i++) tbl[t][i] = 0;
    for (int i = 0; i < 1024; i++) CANARY[i] = 0xc0de0000u | (uint32_t)i;
    for (int i = 0; i < 1024; i++) DATA[i] = 0xda7a0000u | (uint32_t)i;

    set_code_user(0);
    ROOT[1] = PPN(A(ROOT)) | PTE_V;                         /* cycle */
    ROOT[2] = PPN(0x80001000u) | LEAF_RWX;                  /* misaligned superpage */
    ROOT[3] = PPN(0x80000000u) | PTE_V | PTE_W | PTE_A | PTE_D;           /* W only */
    ROOT[4] = PPN(0x80000000u) | PTE_V | PTE_W | PTE_X | PTE_A | PTE_D;   /* W+X */
    ROOT[5] = PPN(A(L0X)) | PTE_V;
    ROOT[6] = PPN(PA_4G) | PTE_V;                           /* non-leaf above 4 GiB */
    ROOT[7] = PPN(PA_HOLE) | PTE_V;                         /* non-leaf into a hole */
    ROOT[8] = PPN(PA_PLIC) | PTE_V;                         /* non-leaf onto the PLIC */
    ROOT[9] = PPN(PA_FINISH) | PTE_V;                       /* non-leaf onto the finisher */
    ROOT[10] = PPN(PA_4G + PA_HOLE4M) | LEAF_RWX;           /* superpage above 4 GiB */
    ROOT[14] = PPN(PA_4G + 0x80000000u) | LEAF_RW;          /* superpage: 4 GiB alias of RAM */
    ROOT[11] = PPN(0u) | LEAF_RW;                           /* superpage at physical 0 */
    ROOT[12] = PPN(0x80000000u) | LEAF_RWX | PTE_U;         /* user superpage */
    ROOT[13] = PPN(0x80000000u) | PTE_V | PTE_R | PTE_A | PTE_G | PTE_RSW;   /* R only, G, RSW */

    L0X[0] = 0xfffffffeu;                                   /* V = 0, everything else set */
    L0X[1] = PPN(A(pt_ecall_page)) | PTE_V | PTE_X | PTE_A; /* X only */
    L0X[2] = PPN(A(DATA)) | LEAF_RW | PTE_U;                /* user data page */
    L0X[3] = PPN(PA_4G) | LEAF_RWX;
    L0X[4] = PPN(PA_4G + A(CANARY)) | LEAF_RW;              /* the 4 GiB alias of CANARY */
    L0X[5] = PPN(PA_HOLE) | LEAF_RWX;
    L0X[6] = PPN(PA_FINISH) | LEAF_RW;
    L0X[7] = PPN(PA_PLIC) | LEAF_RW;
    L0X[8] = PPN(A(ROOT)) | PTE_V;                          /* non-leaf at level 0 */
    L0X[9] = PPN(A(DATA)) | PTE_V | PTE_R | PTE_W;          /* A = D = 0 */
    L0X[10] = PPN(0x2fffff000ull) | LEAF_RW;                /* highest PPN below QEMU's PCIe window */
    L0X[11] = PPN(A(DATA)) | LEAF_RWX | PTE_G | PTE_RSW;
    L0X[12] = PPN(0x200000000ull + PA_HOLE) | LEAF_RWX;      /* bit 33 set */

    csr_write(satp, satp_of(ROOT));
    qemu = has_boot_rom();

    begin();                                                /* 1 */
    expect(LOAD, VA(1, 1, 0), 0, S, PAGE_FAULT);            /* root[1] again, now at level 0 */
    expect(STORE, VA(1, 1, 8), 0, S, PAGE_FAULT);
    expect(FETCH, VA(1, 1, 0), 0, S, PAGE_FAULT);
    expect(LOAD, VA(1, 0x200, 0), 0, S, OK);                /* root[0x200] used as a 4 KiB leaf */
    expect_value(loaded, first_word);
    expect(LOAD, VA(1, 0, 0), 0, S, PAGE_FAULT);            /* root[0] is invalid */
    end("a non-leaf PTE pointing at its own table");

    begin();                                                /* 2 */
    expect(LOAD, VA(2, 0, 0), 0, S, PAGE_FAULT);
    expect(STORE, VA(2, 3, 4), 0, S, PAGE_FAULT);
    expect(FETCH, VA(2, 0, 0), 0, S, PAGE_FAULT);
    end("a misaligned superpage");

    begin();                                                /* 3 */
    expect(LOAD, VA(3, 0, 0), 0, S, PAGE_FAULT);
    expect(STORE, VA(3, 0, 0), 0, S, PAGE_FAULT);
    expect(FETCH, VA(3, 0, 0), 0, S, PAGE_FAULT);
    expect(LOAD, VA(4, 0, 0), 0, S | MST_MXR, PAGE_FAULT);
    expect(STORE, VA(4, 0, 0), 0, S, PAGE_FAULT);
    expect(FETCH, VA(4, 0, 0), 0, S, PAGE_FAULT);
    set_code_user(1);                                       /* the stubs must be U pages for U */
    expect(STORE, VA(3, 0, 0), 0, U, PAGE_FAULT);
    expect(LOAD, VA(4, 0, 0), 0, U, PAGE_FAULT);
    set_code_user(0);
    end("reserved leaf encodings W and W+X");

    begin();                                                /* 4 */
    expect(LOAD, VA(5, 0, 0), 0, S, PAGE_FAULT);
    expect(STORE, VA(5, 0, 0), 0, S, PAGE_FAULT);
    expect(FETCH, VA(5, 0, 0), 0, S, PAGE_FAULT);
    expect(LOAD, VA(5, 8, 0), 0, S, PAGE_FAULT);
    expect(FETCH, VA(5, 8, 0), 0, S, PAGE_FAULT);
    expect(LOAD, VA(5, 100, 0), 0, S, PAGE_FAULT);          /* zero PTE */
    end("invalid PTEs with every other bit set, a non-leaf PTE at level 0");

    begin();                                                /* 5 */
    expect(FETCH, VA(5, 1, 0x40), 0, S, OK);
    expect(LOAD, VA(5, 1, 0x40), 0, S, PAGE_FAULT);
    expect(LOAD, VA(5, 1, 0x40), 0, S | MST_MXR, OK);
    expect_value(loaded, 0x00000073u);
    expect(STORE, VA(5, 1, 0x40), 0, S | MST_MXR, PAGE_FAULT);
    end("an execute-only page, with and without MXR");

    begin();                                                /* 6 */
    expect(LOAD, VA(5, 2, 0x10), 0, S, PAGE_FAULT);
    expect(LOAD, VA(5, 2, 0x10), 0, S | MST_SUM, OK);
    expect_value(loaded, 0xda7a0004u);
    expect(STORE, VA(5, 2, 0x10), 0x5117, S | MST_SUM, OK);
    expect_value(DATA[4], 0x5117u);
    expect(LOAD, VA(12, 0, 0), 0, S, PAGE_FAULT);
    expect(LOAD, VA(12, 0, 0), 0, S | MST_SUM, OK);
    expect_value(loaded, first_word);
    expect(FETCH, VA(12, 0, A(pt_ecall_page) - 0x80000000u), 0, S | MST_SUM, PAGE_FAULT);
    set_code_user(1);                                       /* the stubs must be U pages for U */
    expect(LOAD, VA(5, 2, 0x14), 0, U, OK);
    expect_value(loaded, 0xda7a0005u);
    expect(STORE, VA(5, 2, 0x14), 0x5118, U, OK);
    expect_value(DATA[5], 0x5118u);
    expect(FETCH, VA(12, 0, A(pt_ecall_page) - 0x80000000u), 0, U, OK);
    expect(LOAD, VA(5, 1, 0x40), 0, U | MST_MXR, PAGE_FAULT); /* not a U page */
    set_code_user(0);
    expect(FETCH, VA(0x200, 0, A(pt_ecall_page) - 0x80000000u), 0, S, OK);
    end("U pages from S (SUM) and from U");

    begin();                                                /* 7 */
    expect(LOAD, VA(5, 3, 0), 0, S, ACCESS_FAULT);
    expect(STORE, VA(5, 3, 0), 0, S, ACCESS_FAULT);
    expect(FETCH, VA(5, 3, 0), 0, S, ACCESS_FAULT);
    if (!qemu) {
        expect(LOAD, VA(5, 4, 0x20), 0, S, ACCESS_FAULT);
        expect(STORE, VA(5, 4, 0x20), 0xbad, S, ACCESS_FAULT);
        expect_value(CANARY[8], 0xc0de0008u);
        expect(LOAD, VA(14, 0, A(&CANARY[9]) - 0x80000000u), 0, S, ACCESS_FAULT);
        expect(STORE, VA(14, 0, A(&CANARY[9]) - 0x80000000u), 0xbad, S, ACCESS_FAULT);
    } else {
        group_probes += 5;                                  /* QEMU 7.2 would alias RAM */
    }
    expect(LOAD, VA(5, 12, 0), 0, S, ACCESS_FAULT);
    expect(STORE, VA(5, 12, 0x7fc), 0, S, ACCESS_FAULT);
    expect(LOAD, VA(5, 5, 0), 0, S, ACCESS_FAULT);
    expect(STORE, VA(5, 5, 0), 0, S, ACCESS_FAULT);
    expect(FETCH, VA(5, 5, 0), 0, S, ACCESS_FAULT);
    expect(LOAD, VA(5, 10, 0xffc), 0, S, ACCESS_FAULT);
    expect(STORE, VA(5, 10, 0xffc), 0, S, ACCESS_FAULT);
    uint32_t intact = 1;
    for (int i = 0; i < 1024; i++) intact &= CANARY[i] == (0xc0de0000u | (uint32_t)i);
    expect_value(intact, 1);
    end("leaves above 4 GiB (one aliasing RAM if truncated) and in a hole");

    begin();                                                /* 8 */
    expect(LOAD, VA(5, 6, 0), 0, S, OK);                    /* finisher: reads 0, 0 is no command */
    expect(STORE, VA(5, 6, 0), 0, S, OK);
    expect(LOAD, VA(5, 7, 0x10), 0, S, OK);                 /* PLIC priority of source 4 */
    expect(STORE, VA(5, 7, 0x10), 0, S, OK);
    end("leaves on the finisher and PLIC pages");

    begin();                                                /* 9 */
    expect(LOAD, VA(5, 9, 0x30), 0, S, OK);
    expect_value(L0X[9] & (PTE_A | PTE_D), PTE_A);
    expect(STORE, VA(5, 9, 0x30), 0x600d, S, OK);
    expect_value(L0X[9] & (PTE_A | PTE_D), PTE_A | PTE_D);
    expect_value(DATA[12], 0x600du);
    end("A and D set by the hardware");

    begin();                                                /* 10 */
    expect(LOAD, VA(5, 11, 0x18), 0, S, OK);
    expect_value(loaded, 0xda7a0006u);
    expect(LOAD, VA(13, 0, 0), 0, S, OK);
    expect_value(loaded, first_word);
    expect(STORE, VA(13, 0, 0), 0, S, PAGE_FAULT);
    end("RSW and G bits");

    /* The spec: a PTE read where nothing is mapped is an access fault; QEMU 7.2 raises a page
       fault. A PTE read from MMIO is a platform choice (QEMU reads the register: 0, invalid). */
    begin();                                                /* 11 */
    expect(LOAD, VA(6, 0, 0), 0, S, EITHER_FAULT);
    expect(STORE, VA(6, 1, 0), 0, S, EITHER_FAULT);
    expect(FETCH, VA(6, 2, 0), 0, S, EITHER_FAULT);
    expect(LOAD, VA(7, 0, 0), 0, S, EITHER_FAULT);
    expect(STORE, VA(7, 3, 0), 0, S, EITHER_FAULT);
    expect(LOAD, VA(8, 3, 0), 0, S, EITHER_FAULT);
    expect(STORE, VA(8, 3, 0), 0, S, EITHER_FAULT);
    expect(LOAD, VA(9, 1, 0), 0, S, EITHER_FAULT);
    end("non-leaf PTEs pointing above 4 GiB, into a hole, onto MMIO (page or access fault)");

    begin();                                                /* 12 */
    expect(LOAD, VA(10, 0, 0), 0, S, ACCESS_FAULT);
    expect(STORE, VA(10, 0x3ff, 0xffc), 0, S, ACCESS_FAULT);
    expect(FETCH, VA(10, 5, 0), 0, S, ACCESS_FAULT);
    expect(LOAD, VA(11, 0, 0), 0, S, ACCESS_FAULT);         /* physical 0 */
    expect(STORE, VA(11, 0x200, 0), 0, S, ACCESS_FAULT);    /* physical 0x0020_0000 */
    end("superpages above 4 GiB and at physical 0");

    /* satp itself: the first fetch in S (the probe stub) goes through it */
    begin();                                                /* 13 */
    expect_satp(satp_of(EMPTY), PAGE_FAULT);
    expect_satp(SATP_SV32 | (uint32_t)(PA_4G >> 12), EITHER_FAULT);
    expect_satp(SATP_SV32 | (PA_HOLE >> 12), EITHER_FAULT);
    expect_satp(SATP_SV32 | 0x2fffffu, EITHER_FAULT);       /* 0x2_FFFF_F000 */
    csr_write(satp, satp_of(ROOT) | (0x1ffu << 22));        /* every ASID bit */
    expect(LOAD, A(&CANARY[3]), 0, S, OK);
    expect_value(loaded, 0xc0de0003u);
    csr_write(satp, satp_of(ROOT));
    end("satp roots on an empty table, above 4 GiB, in a hole; all ASID bits");
    csr_write(satp, 0);
}

/* ---- part 2: garbage tables ------------------------------------------------------------- */
#define GPAGES 8
static uint32_t G[GPAGES][1024] __attribute__((aligned(GPAGES * 4096)));
#define G_BASE A(G)
#define G_END  (G_BASE + sizeof G)

static uint32_t rng = 0x1234567u;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* 4 GiB or 8 GiB above the hole at 0x0400_0000 (128 MiB): see the header on QEMU 7.2. */
static uint64_t far_hole(uint32_t which) { return (which ? 0x200000000ull : PA_4G) + PA_HOLE4M; }

/* A random PTE whose PPN is a garbage page or lies above 4 GiB (below QEMU's PCIe window). */
static uint32_t rand_pte(void)
{
    uint32_t r = next_rand(), f = r & 0x3ff;
    f = ((r >> 10) & 7) == 0 ? f & ~PTE_V : f | PTE_V;
    if (r & (1u << 31)) f &= ~(PTE_R | PTE_W | PTE_X);     /* half of them non-leaf */
    else if (r & (1u << 30)) f |= PTE_R;                    /* a quarter readable leaves */
    uint32_t q = next_rand(), sel = q & 7;
    uint64_t pa;
    if (sel < 5) pa = G_BASE + 4096u * ((q >> 3) & (GPAGES - 1));
    else if (sel < 7) pa = far_hole((q >> 3) & 1) + ((uint64_t)((q >> 4) & 0x7fff) << 12);
    else pa = far_hole((q >> 3) & 1) + ((uint64_t)((q >> 4) & 31) << 22);    /* superpage-aligned */
    if (!(f & (PTE_R | PTE_W | PTE_X))) f &= ~(PTE_A | PTE_D | PTE_U);   /* non-leaf: reserved */
    return PPN(pa) | f;
}

static int in_garbage(uint64_t pa) { return pa >= G_BASE && pa < G_END; }

#define SKIP OTHER              /* ref_walk: do not run this probe */

/* The Sv32 walk of the privileged spec, on the garbage tables. */
static enum outcome ref_walk(uint32_t va, enum kind k, int user, int sum, int mxr, uint32_t *pa_out)
{
    uint64_t table = G_BASE;
    for (int level = 1; ; level--) {
        uint64_t pte_pa = table + ((va >> (12 + 10 * level)) & 0x3ff) * 4;
        if (!in_garbage(pte_pa)) return EITHER_FAULT;       /* a PTE read from nowhere */
        uint32_t pte = *(volatile uint32_t *)(uintptr_t)pte_pa;
        if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W))) return PAGE_FAULT;
        if (pte & (PTE_R | PTE_X)) {
            if (user && !(pte & PTE_U)) return PAGE_FAULT;
            if (!user && (pte & PTE_U) && (k == FETCH || !sum)) return PAGE_FAULT;
            int ok = k == LOAD ? (pte & PTE_R) || (mxr && (pte & PTE_X)) : k == STORE ? (pte & PTE_W) != 0 : (pte & PTE_X) != 0;
            if (!ok) return PAGE_FAULT;
            uint64_t ppn = pte >> 10;
            if (level == 1 && (ppn & 0x3ff)) return PAGE_FAULT;
            uint64_t pa = level == 1 ? (ppn >> 10) << 22 | (va & 0x3fffff) : ppn << 12 | (va & 0xfff);
            if (pa >= PA_4G) return ACCESS_FAULT;
            if (!in_garbage(pa)) return SKIP;   /* the code superpage PTE read as a 4 KiB leaf */
            *pa_out = (uint32_t)pa;
            return OK;
        }
        if (level == 0) return PAGE_FAULT;
        table = (uint64_t)(pte >> 10) << 12;
    }
}

#define GARBAGE_PROBES 3000u

static uint32_t part2(void)
{
    uint32_t n[5] = { 0 }, skipped = 0, bad = 0, ran = 0;
    for (int p = 0; p < GPAGES; p++)
        for (int i = 0; i < 1024; i++) G[p][i] = rand_pte();
    while (ran < GARBAGE_PROBES) {
        uint32_t r = next_rand();
        uint32_t va = next_rand() & ~3u;
        if ((va >> 22) == 0x200) va ^= 1u << 22;            /* never the code superpage */
        enum kind k = (r & 1) ? STORE : LOAD;
        int user = (r & 6) == 0, sum = (r >> 3) & 1, mxr = (r >> 4) & 1;
        uint32_t value = rand_pte();
        G[0][0x200] = PPN(0x80000000u) | LEAF_RWX | (user ? PTE_U : 0);
        uint32_t pa = 0;
        enum outcome want = ref_walk(va, k, user, sum, mxr, &pa);
        if (want == SKIP) { skipped++; continue; }
        uint32_t mst = (user ? MST_MPP_U : MST_MPP_S) | (sum ? MST_SUM : 0) | (mxr ? MST_MXR : 0);
        csr_write(satp, SATP_SV32 | (G_BASE >> 12));
        enum outcome got = probe(k, va, value, mst);
        csr_write(satp, 0);
        ran++;
        int good = got == want || (want == EITHER_FAULT && (got == PAGE_FAULT || got == ACCESS_FAULT));
        if (good && got == OK) {
            uint32_t mem = *(volatile uint32_t *)(uintptr_t)pa;
            good = k == LOAD ? loaded == mem : mem == value;
        }
        if (!good) {
            if (bad < 5)
                hv_printf("hostile-pagetables: garbage probe %u: %s %s at %08x (sum %d mxr %d): got %s (mcause %u), expected %s\n",
                          ran, user ? "U" : "S", kind_name[k], va, sum, mxr, outcome_name[got], pt_result[0], outcome_name[want]);
            bad++;
        }
        n[want]++;
    }
    hv_printf("hostile-pagetables: garbage tables: %u probes (%u rerolled): %u ok, %u page faults, "
              "%u access faults, %u walks into nothing (page or access fault)\n",
              ran, skipped, n[OK], n[PAGE_FAULT], n[ACCESS_FAULT], n[EITHER_FAULT]);
    uint32_t h = 0x811c9dc5u;
    for (int p = 0; p < GPAGES; p++)
        for (int i = 0; i < 1024; i++) h = (h ^ G[p][i]) * 16777619u;
    hv_printf("hostile-pagetables: garbage tables: %s; checksum of the tables after %08x\n",
              bad ? "MISMATCHES" : "every outcome as the reference walk predicted", h);
    return bad;
}

int main(void)
{
    csr_write(mie, 0);
    csr_write(medeleg, 0);
    csr_write(mideleg, 0);
    /* PMP: S and U may access everything, so only the page tables decide */
    csr_write(pmpaddr0, 0xffffffffu);
    csr_write(pmpcfg0, 0x1fu);
    hv_puts("hostile-pagetables: absurd Sv32 page tables\n");
    part1();
    uint32_t bad = part2();
    if (failed_group) return (int)failed_group;
    if (bad) return 20;
    hv_puts("hostile-pagetables: survived\n");
    return 0;
}
