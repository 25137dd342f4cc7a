/* hostile-garbage: executes pseudo-random instruction words in a sandbox and counts what they
 * do. Each word is written to the first slot of a sandbox code page whose other slots all hold
 * ECALL, the sandbox registers are loaded with fixed values (pointers into the sandbox pages,
 * pointers elsewhere, edge-case integers), and the word runs in a lower privilege mode:
 *
 *   round 1: U mode, no paging, PMP confines it (code page R+X, data page R+W, nothing else)
 *   round 2: S mode, Sv32 confines it (code page R+X at 0x0040_0000, data page R+W at
 *            0x0040_1000, nothing else mapped) and PMP lets S reach only those two pages and
 *            the page tables (read-only)
 *
 * Whatever happens -- an illegal instruction, a fault, a jump anywhere, the ECALL after the word
 * -- traps to M, which records mcause, mepc and all registers, then runs the next word. The
 * guest prints, per round, how many words ran, how they ended, and a checksum of the registers
 * and mepc after every word and of the data page at the end.
 *
 * Half of the words get an RV32IMA major opcode (else nearly all would be illegal). Words are
 * filtered so that every one behaves the same on QEMU 7.2's default rv32 CPU (which
 * also has C, F, D, Zba/Zbb/Zbc/Zbs, Zicbom/Zicboz, ...) and on this project's RV32IMA hart:
 *   - the two low bits are forced to 11 (no compressed encodings);
 *   - rejected: OP/OP-IMM encodings outside RV32IM (Zb* live there), MISC-MEM other than FENCE
 *     and FENCE.I (cbo.*), SC.W (whether a failing SC faults is implementation-defined), AMOs
 *     and LR at a misaligned address, AMOs outside the data page (QEMU 7.2 reports a faulting
 *     AMO as a load page/access fault, the spec and our hart as a store/AMO fault), jumps and branches whose target is the word itself (an
 *     endless loop), and in S mode every CSR instruction (the S-level CSR sets differ);
 *   - adjusted: jump and branch offsets and load/store immediates so that targets and data
 *     addresses are aligned (the C extension and misaligned-access handling differ).
 * FP instructions stay: mstatus.FS = 0 on QEMU makes them illegal, as on our hart. mcounteren
 * is 0, so counter CSRs are illegal in U too. mstatus.TW = 1, so WFI is illegal (never waits).
 * Written for this project.
 */
#include "hv.h"

#define WORDS_PER_ROUND 1000u

/* Half of the words get one of the RV32IMA major opcodes, so that more of them do something. */
static const uint8_t major[] = {
    0x03, 0x23, 0x13, 0x33, 0x37, 0x17, 0x63, 0x6f, 0x67, 0x2f, 0x0f, 0x73,
};

extern uint32_t sb_in[32], sb_out[34];
void sb_enter(uint32_t pc, uint32_t mstatus);
extern char hv_default_trap[];

static uint32_t sb_code[1024] __attribute__((aligned(4096)));
static uint32_t sb_data[1024] __attribute__((aligned(4096)));
static uint32_t pt[2048] __attribute__((aligned(8192)));   /* root, then l0: one 8 KiB NAPOT */
#define pt_root (&pt[0])
#define pt_l0   (&pt[1024])

#define A(p) ((uint32_t)(uintptr_t)(p))
#define CODE_VA 0x00400000u
#define DATA_VA 0x00401000u
#define ECALL   0x00000073u

#define MST_MPP_U  (0u << 11)
#define MST_MPP_S  (1u << 11)
#define MST_TW     (1u << 21)

/* ---- pseudo-random words ----------------------------------------------------------------- */
static uint32_t rng;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static int32_t imm_i(uint32_t w) { return (int32_t)w >> 20; }
static uint32_t set_imm_i(uint32_t w, int32_t imm) { return (w & 0x000fffffu) | ((uint32_t)imm << 20); }
static int32_t imm_s(uint32_t w) { return ((int32_t)w >> 25) * 32 + (int32_t)((w >> 7) & 31); }
static uint32_t set_imm_s(uint32_t w, int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return (w & 0x01fff07fu) | ((u >> 5) & 0x7f) << 25 | (u & 31) << 7;
}
static int32_t imm_b(uint32_t w)
{
    return ((int32_t)w >> 31) * 4096 + (int32_t)(((w >> 7) & 1) << 11 | ((w >> 25) & 0x3f) << 5 | ((w >> 8) & 15) << 1);
}
static int32_t imm_j(uint32_t w)
{
    return ((int32_t)w >> 31) * (1 << 20) + (int32_t)(((w >> 12) & 0xff) << 12 | ((w >> 20) & 1) << 11 | ((w >> 21) & 0x3ff) << 1);
}

static int branch_taken(uint32_t f3, uint32_t a, uint32_t b)
{
    switch (f3) {
    case 0: return a == b;
    case 1: return a != b;
    case 4: return (int32_t)a < (int32_t)b;
    case 5: return (int32_t)a >= (int32_t)b;
    case 6: return a < b;
    case 7: return a >= b;
    default: return 0;
    }
}

/* Moves a load/store immediate so that regs[rs1] + imm is aligned for the access size. */
static int32_t align_imm(int32_t imm, uint32_t base, uint32_t size)
{
    uint32_t mis = (base + (uint32_t)imm) & (size - 1);
    if (mis) {
        imm -= (int32_t)mis;
        if (imm < -2048) imm += (int32_t)size;
    }
    return imm;
}

enum verdict { RUN, REJECT };

/* Filters or adjusts one word (see the header); regs are the sandbox registers, pc its address,
   data the address of its data page. */
static enum verdict filter(uint32_t *pw, const uint32_t *regs, uint32_t pc, uint32_t data, int smode)
{
    uint32_t w = *pw | 3u;
    uint32_t op = w & 0x7f, f3 = (w >> 12) & 7, f7 = w >> 25;
    uint32_t rs1 = (w >> 15) & 31, rs2 = (w >> 20) & 31;
    switch (op) {
    case 0x6f:                                          /* JAL */
        w &= ~(1u << 21);                               /* offset bit 1 */
        if (imm_j(w) == 0) return REJECT;
        break;
    case 0x67:                                          /* JALR */
        if (f3 == 0) {
            int32_t imm = imm_i(w);
            if (((regs[rs1] + (uint32_t)imm) & ~1u) & 2u) imm += imm < 2000 ? 2 : -2;
            w = set_imm_i(w, imm);
            if (((regs[rs1] + (uint32_t)imm) & ~1u) == pc) return REJECT;
        }
        break;
    case 0x63:                                          /* branches */
        if (f3 != 2 && f3 != 3) {
            w &= ~(1u << 8);                            /* offset bit 1 */
            if (imm_b(w) == 0 && branch_taken(f3, regs[rs1], regs[rs2])) return REJECT;
        }
        break;
    case 0x03: {                                        /* loads */
        uint32_t size = (f3 == 1 || f3 == 5) ? 2 : f3 == 2 ? 4 : 1;
        w = set_imm_i(w, align_imm(imm_i(w), regs[rs1], size));
        break;
    }
    case 0x23: {                                        /* stores */
        uint32_t size = f3 == 1 ? 2 : f3 == 2 ? 4 : 1;
        w = set_imm_s(w, align_imm(imm_s(w), regs[rs1], size));
        break;
    }
    case 0x13:                                          /* OP-IMM: only RV32I shifts */
        if (f3 == 1 && f7 != 0) return REJECT;
        if (f3 == 5 && f7 != 0 && f7 != 0x20) return REJECT;
        break;
    case 0x33:                                          /* OP: RV32I and M only */
        if (f7 == 0 || f7 == 1) break;
        if (f7 == 0x20 && (f3 == 0 || f3 == 5)) break;
        return REJECT;
    case 0x0f:                                          /* FENCE, FENCE.I only */
        if (f3 > 1) return REJECT;
        break;
    case 0x2f:                                          /* atomics */
        if (f3 == 2) {
            uint32_t f5 = w >> 27;
            if (f5 == 3) return REJECT;                 /* SC.W */
            if (regs[rs1] & 3) return REJECT;
            /* QEMU 7.2 reports a faulting AMO as a load fault: AMOs only on the data page */
            if (f5 != 2 && regs[rs1] - data >= 4096) return REJECT;
        }
        break;
    case 0x73:                                          /* SYSTEM */
        if (smode && f3 != 0 && f3 != 4) return REJECT; /* CSR instructions in S */
        break;
    default:
        break;
    }
    *pw = w;
    return RUN;
}

/* ---- rounds ------------------------------------------------------------------------------ */
struct round {
    const char *name;
    int smode;
    uint32_t code, data;            /* where the sandbox sees its pages */
};

static uint32_t hash;
static void mix(uint32_t v) { hash = (hash ^ v) * 16777619u; }

static void set_regs(const struct round *r)
{
    const uint32_t v[32] = {
        0,           r->code,      r->data + 0x800, r->data,     r->code + 0x800,
        0,           1,            0xffffffffu,     0x7fffffffu, 0x80000000u,
        r->data + 0x40, r->code + 4, 0x10000000u,   0x00100000u, 0x02000000u,
        0x80000000u, 0x0c000000u,  r->data + 0xffc, r->code + 0xffc, 0xfffff000u,
        12345,       0xdeadbeefu,  0x00001000u,     r->data + 0x100, 0x0000ffffu,
        2,           0x80000004u,  0xfffffffcu,     r->code + 0x400, 0x01800000u,
        0x00400000u, 0x00401000u,
    };
    for (int i = 0; i < 32; i++) sb_in[i] = v[i];
}

static void pmp_napot(int i, uint32_t base, uint32_t size, uint32_t perms)
{
    uint32_t addr = (base >> 2) | ((size >> 3) - 1);
    switch (i) {
    case 0: csr_write(pmpaddr0, addr); break;
    case 1: csr_write(pmpaddr1, addr); break;
    case 2: csr_write(pmpaddr2, addr); break;
    }
    uint32_t cfg = csr_read(pmpcfg0) & ~(0xffu << (8 * i));
    csr_write(pmpcfg0, cfg | ((0x18u | perms) << (8 * i)));
}

#define NCAUSE 16
static const char *const cause_name[NCAUSE] = {
    "fetch misaligned", "fetch access", "illegal", "breakpoint", "load misaligned",
    "load access", "store misaligned", "store access", "ecall U", "ecall S", "cause 10",
    "ecall M", "fetch page", "load page", "cause 14", "store page",
};

static void run_round(const struct round *r, uint32_t seed)
{
    uint32_t causes[NCAUSE] = { 0 }, ran = 0, rejected = 0, completed = 0, strange = 0;
    uint32_t regs[32];

    for (int i = 0; i < 1024; i++) sb_code[i] = ECALL;
    for (int i = 0; i < 1024; i++) sb_data[i] = (uint32_t)i * 0x9e3779b9u;
    set_regs(r);
    for (int i = 0; i < 32; i++) regs[i] = sb_in[i];
    rng = seed;
    hash = 0x811c9dc5u;

    uint32_t mstatus = MST_TW | (r->smode ? MST_MPP_S : MST_MPP_U);
    while (ran < WORDS_PER_ROUND) {
        uint32_t w = next_rand();
        uint32_t pick = next_rand();
        if (pick & 1) w = (w & ~0x7fu) | major[(pick >> 1) % sizeof major];
        if (filter(&w, regs, r->code, r->data, r->smode) == REJECT) { rejected++; continue; }
        sb_code[0] = w;
        __asm__ volatile ("fence.i" ::: "memory");
        if (r->smode) {
            csr_write(sepc, CODE_VA + 8);
            __asm__ volatile ("sfence.vma" ::: "memory");
        }
        sb_enter(r->code, mstatus);
        csr_write(mtvec, A(hv_default_trap));
        ran++;
        uint32_t cause = sb_out[32], epc = sb_out[33];
        if (cause >= NCAUSE) strange++; else causes[cause]++;
        if ((cause == 8 || cause == 9) && epc == r->code + 4) completed++;
        for (int i = 1; i < 32; i++) mix(sb_out[i]);
        mix(cause);
        mix(epc);
    }
    for (int i = 0; i < 1024; i++) mix(sb_data[i]);

    hv_printf("hostile-garbage: %s: %u words run, %u rejected; %u ran through to the ECALL after them\n",
              r->name, ran, rejected, completed);
    hv_printf("hostile-garbage: %s: traps:", r->name);
    for (int c = 0; c < NCAUSE; c++)
        if (causes[c]) hv_printf(" %s %u,", cause_name[c], causes[c]);
    hv_printf(" other %u\n", strange);
    hv_printf("hostile-garbage: %s: checksum %08x\n", r->name, hash);
}

int main(void)
{
    csr_write(mie, 0);
    csr_write(mcounteren, 0);
    csr_write(scounteren, 0);
    csr_write(medeleg, 0);
    csr_write(mideleg, 0);
    hv_puts("hostile-garbage: pseudo-random words in a sandbox\n");

    /* round 1: U, bare, PMP */
    pmp_napot(0, A(sb_code), 4096, 0x5);      /* R X */
    pmp_napot(1, A(sb_data), 4096, 0x3);      /* R W */
    const struct round u = { "U/PMP", 0, A(sb_code), A(sb_data) };
    run_round(&u, 0x2545f491u);

    /* round 2: S, Sv32 */
    for (int i = 0; i < 1024; i++) pt_root[i] = pt_l0[i] = 0;
    pt_root[CODE_VA >> 22] = (A(pt_l0) >> 12) << 10 | 0x01;                    /* V */
    pt_l0[(CODE_VA >> 12) & 0x3ff] = (A(sb_code) >> 12) << 10 | 0x4b;          /* V R X A */
    pt_l0[(DATA_VA >> 12) & 0x3ff] = (A(sb_data) >> 12) << 10 | 0xc7;          /* V R W A D */
    pmp_napot(2, A(pt_root), 8192, 0x1);      /* R: the page tables */
    csr_write(satp, 0x80000000u | (A(pt_root) >> 12));
    __asm__ volatile ("sfence.vma" ::: "memory");
    const struct round s = { "S/Sv32", 1, CODE_VA, DATA_VA };
    run_round(&s, 0x9e3779b9u);
    csr_write(satp, 0);
    __asm__ volatile ("sfence.vma" ::: "memory");

    hv_puts("hostile-garbage: survived\n");
    return 0;
}
