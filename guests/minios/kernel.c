/* minios S-mode kernel.
 *
 * Sv32 paging: one page table per task. Every root maps the kernel (the first 4 MiB of RAM,
 * 4 KiB pages, S-only), the UART and the PLIC (superpages, S-only), the user region (the
 * page-aligned code and read-only data of the tasks, U|R|X, at its link address) and, at
 * USTACK_VA, the task's own stack pages (U|R|W).
 *
 * Tasks run in U mode; a periodic timer tick preempts them round-robin. The kernel itself runs
 * with sstatus.SIE = 0: interrupts reach it only as traps from U, or by polling sip in the idle
 * loop. There are no kernel threads: every trap from U runs kernel_trap() to completion on the
 * one kernel stack and returns the frame of the task to resume.
 *
 * Output order is fixed by design, not by timing: every task except the first waits for its
 * predecessor (SYS_WAIT) before it writes anything, each line is one SYS_WRITE, and the kernel
 * writes only its boot line, kill reports (which happen after the victim's own line) and the
 * summary after every task has ended.
 */
#include "hv.h"
#include "minios.h"

#define INTR        0x80000000u
#define SIP_STIP    (1u << 5)
#define SIP_SEIP    (1u << 9)
#define ST_SIE      (1u << 1)
#define ST_SPIE     (1u << 5)
#define ST_SPP      (1u << 8)
#define ST_SUM      (1u << 18)

#define PTE_V 0x01u
#define PTE_R 0x02u
#define PTE_W 0x04u
#define PTE_X 0x08u
#define PTE_U 0x10u
#define PTE_A 0x40u
#define PTE_D 0x80u
#define PTE(pa, fl) ((((uint32_t)(pa)) >> 12 << 10) | (fl))
#define SATP_SV32 0x80000000u

#define PLIC_PRIO(s)    (PLIC_BASE + 4u * (s))
#define PLIC_ENABLE(c)  (PLIC_BASE + 0x2000u + 0x80u * (c))
#define PLIC_THRESH(c)  (PLIC_BASE + 0x200000u + 0x1000u * (c))
#define PLIC_CLAIM(c)   (PLIC_BASE + 0x200004u + 0x1000u * (c))
#define PLIC_S_CTX      1               /* hart 0, S mode */
#define UART_IRQ        10
#define UART_RBR        (UART_BASE + 0u)
#define UART_IER        (UART_BASE + 1u)
#define UART_LSR        (UART_BASE + 5u)

#define A(p) ((uint32_t)(uintptr_t)(p))

enum state { READY = 1, SLEEPING, WAIT_LINE, WAIT_TASK, DEAD };

struct task {
    uint32_t frame[32];         /* frame[0] = pc, frame[i] = x_i: must stay first */
    uint32_t pid, state;
    const char *name;
    uint32_t (*entry)(uint32_t);
    uint32_t wake;              /* SLEEPING: wake-up tick; WAIT_LINE: deadline tick */
    uint32_t wait_pid;          /* WAIT_TASK */
    uint32_t line_buf, line_max, line_pending;
    uint32_t killed, code, scause, stval;
    volatile uint32_t *root;
};

extern char __data_start[], kstack_top[];
void s_trap(void);
void s_resume(uint32_t *frame) __attribute__((noreturn));
uint32_t *kernel_trap(void);
void kernel_fault(void) __attribute__((noreturn));

static volatile uint32_t kl0[1024] __attribute__((aligned(4096)));          /* RAM 0..4 MiB */
static volatile uint32_t roots[NTASK + 1][1024] __attribute__((aligned(4096)));
static volatile uint32_t stack_l0[NTASK][1024] __attribute__((aligned(4096)));
static uint8_t stacks[NTASK][USTACK_PAGES][4096] __attribute__((aligned(4096)));

static struct task tasks[NTASK];
static struct task *cur;            /* the task that trapped / will run */
static uint32_t last;               /* index of the task that ran last (round-robin) */
static uint32_t ticks;
static uint32_t preemptions;        /* timer ticks that interrupted a task (not printed) */
#ifdef MINIOS_STATS
static uint32_t idle_instret;
#endif
static char rx[128];                /* console input ring */
static uint32_t rx_head, rx_tail;

static const struct { const char *name; uint32_t (*entry)(uint32_t); } task_list[NTASK] = {
    { "reader", task_reader },
    { "primes", task_primes },
    { "hash", task_hash },
    { "faulty", task_faulty },
    { "rogue", task_rogue },
    { "sleeper", task_sleeper },
};

/* ---- SBI calls to the M-mode layer ---------------------------------------------------- */
static uint32_t sbi(uint32_t fn, uint32_t a0, uint32_t a1)
{
    register uint32_t r0 __asm__("a0") = a0;
    register uint32_t r1 __asm__("a1") = a1;
    register uint32_t r7 __asm__("a7") = fn;
    __asm__ volatile ("ecall" : "+r"(r0) : "r"(r1), "r"(r7) : "memory");
    return r0;
}

static void __attribute__((noreturn)) shutdown(uint32_t code)
{
    sbi(SBI_SHUTDOWN, code, 0);
    for (;;) { }
}

static uint64_t rdtime64(void)
{
    uint32_t hi, lo;
    do {
        hi = csr_read(timeh);
        lo = csr_read(time);
    } while (hi != csr_read(timeh));
    return ((uint64_t)hi << 32) | lo;
}

static void next_tick(void)
{
    uint64_t t = rdtime64() + TICK_PERIOD;
    sbi(SBI_SET_TIMER, (uint32_t)t, (uint32_t)(t >> 32));
}

/* ---- paging ---------------------------------------------------------------------------- */
static void build_page_tables(void)
{
    uint32_t ram = 0x80000000u;
    for (uint32_t i = 0; i < 1024; i++) {
        uint32_t pa = ram + i * 4096u, fl;
        if (pa < A(__user_start)) fl = PTE_R | PTE_X;                        /* kernel text */
        else if (pa < A(__user_end)) fl = PTE_U | PTE_R | PTE_X;             /* user region */
        else fl = PTE_R | PTE_W;                                             /* kernel data */
        kl0[i] = PTE(pa, PTE_V | PTE_A | PTE_D | fl);
    }
    for (uint32_t r = 0; r <= NTASK; r++) {
        roots[r][ram >> 22] = PTE(A(kl0), PTE_V);
        roots[r][UART_BASE >> 22] = PTE(UART_BASE & 0xffc00000u, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
        roots[r][PLIC_BASE >> 22] = PTE(PLIC_BASE, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
        if (r < NTASK) {
            roots[r][USTACK_VA >> 22] = PTE(A(stack_l0[r]), PTE_V);
            for (uint32_t p = 0; p < USTACK_PAGES; p++)
                stack_l0[r][((USTACK_VA >> 12) & 0x3ff) + p] =
                    PTE(A(stacks[r][p]), PTE_V | PTE_U | PTE_R | PTE_W | PTE_A | PTE_D);
        }
    }
}

static void use_root(volatile uint32_t *root)
{
    __asm__ volatile ("" ::: "memory");
    csr_write(satp, SATP_SV32 | (A(root) >> 12));
    __asm__ volatile ("sfence.vma" ::: "memory");
}

/* is [addr, addr+len) inside what a task may hand to the kernel? */
static int user_range(uint32_t addr, uint32_t len, int writable)
{
    if (len > 4096u || addr + len < addr) return 0;
    if (addr >= USTACK_VA && addr + len <= USTACK_TOP) return 1;
    return !writable && addr >= A(__user_start) && addr + len <= A(__user_end);
}

/* ---- console input ----------------------------------------------------------------------- */
static int line_ready(void)
{
    for (uint32_t i = rx_tail; i != rx_head; i = (i + 1) % sizeof rx)
        if (rx[i] == '\n' || rx[i] == '\r') return 1;
    return 0;
}

static void uart_rx(void)
{
    while (REG8(UART_LSR) & 0x01) {
        char c = (char)REG8(UART_RBR);
        uint32_t next = (rx_head + 1) % sizeof rx;
        if (next != rx_tail) { rx[rx_head] = c; rx_head = next; }
    }
    if (line_ready())
        for (int i = 0; i < NTASK; i++)
            if (tasks[i].state == WAIT_LINE) tasks[i].state = READY;
}

/* Runs with the task's page table active: deliver the line, or report the timeout. */
static void finish_readline(struct task *t)
{
    t->line_pending = 0;
    if (!line_ready()) { t->frame[10] = (uint32_t)-1; return; }
    char *dst = (char *)(uintptr_t)t->line_buf;
    uint32_t n = 0;
    for (;;) {
        char c = rx[rx_tail];
        rx_tail = (rx_tail + 1) % sizeof rx;
        if (c == '\n' || c == '\r') break;
        if (n < t->line_max) dst[n++] = c;
    }
    t->frame[10] = n;
}

/* ---- tasks --------------------------------------------------------------------------------- */
static void end_task(struct task *t, uint32_t code, uint32_t killed)
{
    t->state = DEAD;
    t->code = code;
    t->killed = killed;
    for (int i = 0; i < NTASK; i++)
        if (tasks[i].state == WAIT_TASK && tasks[i].wait_pid == t->pid) {
            tasks[i].state = READY;
            tasks[i].frame[10] = killed ? (uint32_t)-1 : code;
        }
}

static void kill_task(struct task *t, uint32_t cause, uint32_t tval)
{
    t->scause = cause;
    t->stval = tval;
    hv_printf("minios: killed task %u (%s): scause=%08x stval=%08x\n", t->pid, t->name, cause, tval);
    end_task(t, 0, 1);
}

static void tick(void)
{
    ticks++;
    next_tick();
    for (int i = 0; i < NTASK; i++) {
        struct task *t = &tasks[i];
        if ((t->state == SLEEPING || t->state == WAIT_LINE) && (int32_t)(ticks - t->wake) >= 0) {
            if (t->state == SLEEPING) t->frame[10] = 0;
            t->state = READY;
        }
    }
}

static void external(void)
{
    uint32_t irq = REG32(PLIC_CLAIM(PLIC_S_CTX));
    if (irq == UART_IRQ) uart_rx();
    if (irq) REG32(PLIC_CLAIM(PLIC_S_CTX)) = irq;
}

static void syscall(struct task *t, int *rotate)
{
    uint32_t *f = t->frame, a0 = f[10], a1 = f[11], a2 = f[12];
    f[0] += 4;                                          /* past the ECALL */
    switch (f[17]) {
    case SYS_WRITE:
        if (!user_range(a0, a1, 0)) { f[10] = (uint32_t)-1; break; }
        for (uint32_t i = 0; i < a1; i++) hv_putc(((const char *)(uintptr_t)a0)[i]);
        f[10] = a1;
        break;
    case SYS_YIELD:
        f[10] = 0;
        *rotate = 1;
        break;
    case SYS_SLEEP:
        t->state = SLEEPING;
        t->wake = ticks + a0;
        break;
    case SYS_EXIT:
        end_task(t, a0, 0);
        break;
    case SYS_GETPID:
        f[10] = t->pid;
        break;
    case SYS_UPTIME:
        f[10] = ticks;
        break;
    case SYS_READLINE:
        if (!user_range(a0, a1, 1)) { f[10] = (uint32_t)-1; break; }
        t->line_buf = a0;
        t->line_max = a1;
        t->line_pending = 1;
        t->wake = ticks + a2;
        t->state = line_ready() ? READY : WAIT_LINE;
        break;
    case SYS_WAIT:
        if (a0 < 1 || a0 > NTASK || a0 == t->pid) { f[10] = (uint32_t)-1; break; }
        if (tasks[a0 - 1].state == DEAD) {
            f[10] = tasks[a0 - 1].killed ? (uint32_t)-1 : tasks[a0 - 1].code;
        } else {
            t->state = WAIT_TASK;
            t->wait_pid = a0;
        }
        break;
    default:
        f[10] = (uint32_t)-1;
        break;
    }
}

/* ---- the end ------------------------------------------------------------------------------- */
static void __attribute__((noreturn)) finish(void)
{
    uint32_t exited = 0, killed = 0, bad = 0;
    use_root(roots[NTASK]);
    for (int i = 0; i < NTASK; i++) {
        struct task *t = &tasks[i];
        if (t->killed) {
            killed++;
            hv_printf("minios: task %u (%s) was killed (scause %u)\n", t->pid, t->name, t->scause);
        } else {
            exited++;
            hv_printf("minios: task %u (%s) exited with %u\n", t->pid, t->name, t->code);
        }
    }
    /* what each task must have done */
    struct task *rd = &tasks[0], *pr = &tasks[1], *hs = &tasks[2], *fl = &tasks[3],
                *rg = &tasks[4], *sl = &tasks[5];
    if (rd->killed) bad = 1;
    else if (pr->killed || pr->code != PRIME_COUNT) bad = 2;
    else if (hs->killed || hs->code != HASH_VALUE) bad = 3;
    else if (!fl->killed || fl->scause != 13 || fl->stval != FAULT_VA) bad = 4;
    else if (!rg->killed || rg->scause != 2 || rg->stval != ROGUE_INSN) bad = 5;
    else if (sl->killed || sl->code != 0) bad = 6;
    if (bad) {
        hv_printf("minios: task %u did not do what it should; failing\n", bad);
        shutdown(bad);
    }
#ifdef MINIOS_STATS   /* timing-dependent numbers: only in a diagnostic build */
    hv_printf("minios-stats: ticks=%u preemptions=%u instret=%u idle=%u busy=%u\n",
              ticks, preemptions, csr_read(instret), idle_instret, csr_read(instret) - idle_instret);
#endif
    hv_printf("minios: %u tasks done: %u exited, %u killed, all as expected; powering off\n",
              (uint32_t)NTASK, exited, killed);
    shutdown(0);
}

/* ---- scheduling ---------------------------------------------------------------------------- */
static uint32_t *switch_to(struct task *t)
{
    cur = t;
    last = t->pid - 1;
    use_root(t->root);
    if (t->line_pending) finish_readline(t);
    csr_clear(sstatus, ST_SPP);                        /* SRET to U ... */
    csr_set(sstatus, ST_SPIE);                         /* ... with interrupts on */
    return t->frame;
}

/* Pick the task to run: the current one if it may go on, else round-robin from the one after
   the last to run; with nothing runnable, wait for interrupts (polled: SIE stays 0). */
static uint32_t *schedule(int rotate)
{
    if (cur && cur->state == READY && !rotate) return switch_to(cur);
    for (;;) {
        int alive = 0;
        for (uint32_t k = 1; k <= NTASK; k++) {
            struct task *t = &tasks[(last + k) % NTASK];
            if (t->state == READY) return switch_to(t);
            if (t->state != DEAD) alive = 1;
        }
        if (!alive) finish();
        cur = 0;
#ifdef MINIOS_STATS
        uint32_t before = csr_read(instret);
        __asm__ volatile ("wfi");
        idle_instret += csr_read(instret) - before;
#else
        __asm__ volatile ("wfi");
#endif
        uint32_t sip = csr_read(sip);
        if (sip & SIP_STIP) tick();
        if (sip & SIP_SEIP) external();
    }
}

uint32_t *kernel_trap(void)
{
    uint32_t cause = csr_read(scause);
    int rotate = 0;
    if (cause & INTR) {
        if ((cause & 31) == 5) { tick(); rotate = 1; preemptions++; }   /* preempt */
        else if ((cause & 31) == 9) external();
        else kernel_fault();
    } else if (cause == 8) {
        syscall(cur, &rotate);
    } else {
        kill_task(cur, cause, csr_read(stval));
    }
    return schedule(rotate);
}

void kernel_fault(void)
{
    hv_printf("minios: kernel trap scause=%08x sepc=%08x stval=%08x\n",
              csr_read(scause), csr_read(sepc), csr_read(stval));
    shutdown(0xee);
}

void kernel_entry(void)
{
    csr_write(stvec, A(s_trap));
    csr_write(sscratch, 0);
    csr_set(sstatus, ST_SUM);                          /* the kernel reads/writes task buffers */
    build_page_tables();
    use_root(roots[NTASK]);

    for (int i = 0; i < NTASK; i++) {
        struct task *t = &tasks[i];
        t->pid = (uint32_t)i + 1;
        t->name = task_list[i].name;
        t->entry = task_list[i].entry;
        t->root = roots[i];
        t->frame[0] = A(t->entry);
        t->frame[1] = A(task_return);                   /* ra: returning from a task exits */
        t->frame[2] = USTACK_TOP;                       /* sp */
        t->frame[10] = t->pid;                          /* a0 */
        t->state = READY;
    }

    /* console input: UART receive interrupt -> PLIC source 10 -> context 1 (S) */
    REG32(PLIC_PRIO(UART_IRQ)) = 1;
    REG32(PLIC_ENABLE(PLIC_S_CTX)) = 1u << UART_IRQ;
    REG32(PLIC_THRESH(PLIC_S_CTX)) = 0;                 /* (after the enable: QEMU 7.2 re-evaluates here) */
    REG8(UART_IER) = 0x01;
    csr_write(sie, SIP_STIP | SIP_SEIP);

    hv_printf("minios: kernel up in S mode: Sv32 paging, %u tasks, tick every %u mtime ticks\n",
              (uint32_t)NTASK, TICK_PERIOD);
    next_tick();
    last = NTASK - 1;
    s_resume(schedule(0));
}
