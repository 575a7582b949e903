/*
 * Native side of the differential CPU test: runs generated instruction sequences on this
 * machine's real CPU in a 32-bit process (gcc -m32) and records the architectural state they
 * leave behind. Built and driven by test/cpu/differential/native.ts.
 *
 * Memory at fixed linear addresses (the WebAssembly side maps the same addresses, see
 * layout.ts next to this file):
 *   CODE_PAGE  read + execute: the sequence, ended by HLT (which faults with #GP(0) in ring 3)
 *   GUARD_LO   no access
 *   DATA       two read/write pages, filled from a per-case seed
 *   RO_PAGE    read-only, filled from the same seed
 *   GUARD_HI   no access
 * Every case ends in an exception: HLT at the end of the sequence (#GP) or an earlier fault.
 * The signal handler runs on an alternate stack (the sequence may put anything in ESP), copies
 * the registers, the trap number, error code and CR2 from the signal context, and jumps back.
 *
 * Input (stdin or argv[1]): cases, each
 *   u32 magic 'CASE', u32 code length, code bytes, u32 eax..edi, u32 eflags, u32 seed,
 *   u32 fpu control word (0 = leave the FPU as FNINIT leaves it)
 * Output (stdout or argv[2]): per case
 *   u32 eax..edi, eflags, eip, trapno, err, cr2, signo, fpu cw, sw, tag,
 *   8 x 10 bytes ST0-ST7 (FSAVE order), u32 change count, then (u16 offset, u8 value) for each
 *   byte of DATA that differs from its initial contents.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#define CODE_PAGE 0x00200000u
#define GUARD_LO 0x00201000u
#define DATA 0x00202000u
#define DATA_SIZE 0x2000u
#define RO_PAGE 0x00204000u
#define GUARD_HI 0x00205000u
#define MAX_CODE 0x1000u

/* Read by the entry stub below. */
uint32_t case_regs[8];
uint32_t case_eflags;
uint32_t case_entry = CODE_PAGE;
uint16_t case_fpucw;
uint32_t case_usefpu;
uint32_t case_mxcsr = 0x1f80;

static sigjmp_buf back;
static volatile uint32_t out_regs[8], out_eflags, out_eip, out_trapno, out_err, out_cr2, out_signo;
static uint8_t out_fpu[12 + 80];
static uint8_t initial[DATA_SIZE];

void enter_case(void);
/*
 * Zero the eight x87/MMX registers (FNINIT only empties the tags; a case that reads a register it
 * never wrote must see the same bits on both sides) and XMM0-7 with MXCSR at its reset value (FXSAVE
 * stores them), load FPU control, EFLAGS and all eight
 * general registers (ESP last), then jump to the sequence.
 */
__asm__(
    ".text\n"
    ".globl enter_case\n"
    "enter_case:\n"
    "  fninit\n"
    "  fldz\n  fldz\n  fldz\n  fldz\n  fldz\n  fldz\n  fldz\n  fldz\n"
    "  fninit\n"
    "  pxor %xmm0, %xmm0\n  pxor %xmm1, %xmm1\n  pxor %xmm2, %xmm2\n  pxor %xmm3, %xmm3\n"
    "  pxor %xmm4, %xmm4\n  pxor %xmm5, %xmm5\n  pxor %xmm6, %xmm6\n  pxor %xmm7, %xmm7\n"
    "  ldmxcsr case_mxcsr\n"
    "  cmpl $0, case_usefpu\n"
    "  je 1f\n"
    "  fldcw case_fpucw\n"
    "1:\n"
    "  pushl case_eflags\n"
    "  popfl\n"
    "  movl case_regs+0, %eax\n"
    "  movl case_regs+4, %ecx\n"
    "  movl case_regs+8, %edx\n"
    "  movl case_regs+12, %ebx\n"
    "  movl case_regs+20, %ebp\n"
    "  movl case_regs+24, %esi\n"
    "  movl case_regs+28, %edi\n"
    "  movl case_regs+16, %esp\n"
    "  jmp *case_entry\n");

static void on_signal(int sig, siginfo_t *info, void *ctx) {
  (void)info;
  ucontext_t *uc = (ucontext_t *)ctx;
  greg_t *g = uc->uc_mcontext.gregs;
  out_regs[0] = g[REG_EAX];
  out_regs[1] = g[REG_ECX];
  out_regs[2] = g[REG_EDX];
  out_regs[3] = g[REG_EBX];
  out_regs[4] = g[REG_ESP];
  out_regs[5] = g[REG_EBP];
  out_regs[6] = g[REG_ESI];
  out_regs[7] = g[REG_EDI];
  out_eflags = g[REG_EFL];
  out_eip = g[REG_EIP];
  out_trapno = g[REG_TRAPNO];
  out_err = g[REG_ERR];
  out_cr2 = uc->uc_mcontext.cr2;
  out_signo = sig;
  memset(out_fpu, 0, sizeof out_fpu);
  if (uc->uc_mcontext.fpregs) {
    struct _libc_fpstate *f = uc->uc_mcontext.fpregs;
    uint32_t cw = f->cw & 0xffff, sw = f->sw & 0xffff, tag = f->tag & 0xffff;
    memcpy(out_fpu + 0, &cw, 4);
    memcpy(out_fpu + 4, &sw, 4);
    memcpy(out_fpu + 8, &tag, 4);
    for (int i = 0; i < 8; i++) memcpy(out_fpu + 12 + i * 10, &f->_st[i], 10);
  }
  siglongjmp(back, 1);
}

/* The data pattern shared with the WebAssembly side (layout.ts: fillData). */
static void fill(uint8_t *p, uint32_t size, uint32_t seed) {
  uint32_t x = seed ? seed : 0x9e3779b9u;
  for (uint32_t i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    uint32_t v;
    switch (x >> 29) {
      case 0: v = 0; break;
      case 1: v = 0xffffffffu; break;
      case 2: v = x & 0xff; break;
      case 3: v = 0x80000000u ^ (x & 0xffff); break;
      default: v = x * 0x2545f491u; break;
    }
    memcpy(p + i, &v, 4);
  }
}

static void *map_at(uint32_t addr, uint32_t size, int prot) {
  void *p = mmap((void *)(uintptr_t)addr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p != (void *)(uintptr_t)addr) {
    fprintf(stderr, "native-runner: cannot map 0x%08x (got %p)\n", addr, p);
    exit(2);
  }
  return p;
}

static int read_all(FILE *in, void *p, size_t n) {
  return fread(p, 1, n, in) == n;
}

int main(int argc, char **argv) {
  FILE *in = argc > 1 ? fopen(argv[1], "rb") : stdin;
  FILE *out = argc > 2 ? fopen(argv[2], "wb") : stdout;
  if (!in || !out) {
    perror("native-runner");
    return 2;
  }
  map_at(CODE_PAGE, 0x1000, PROT_READ | PROT_WRITE);
  map_at(GUARD_LO, 0x1000, PROT_NONE);
  map_at(DATA, DATA_SIZE, PROT_READ | PROT_WRITE);
  map_at(RO_PAGE, 0x1000, PROT_READ | PROT_WRITE);
  map_at(GUARD_HI, 0x1000, PROT_NONE);

  static uint8_t altstack[65536];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  sigaltstack(&ss, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, 0);

  static uint8_t code[MAX_CODE];
  for (;;) {
    uint32_t magic, len, seed, fpucw;
    if (!read_all(in, &magic, 4)) break;
    if (magic != 0x45534143u || !read_all(in, &len, 4) || len > MAX_CODE || !read_all(in, code, len) ||
        !read_all(in, case_regs, 32) || !read_all(in, &case_eflags, 4) || !read_all(in, &seed, 4) ||
        !read_all(in, &fpucw, 4)) {
      fprintf(stderr, "native-runner: malformed case\n");
      return 2;
    }
    case_fpucw = (uint16_t)fpucw;
    case_usefpu = fpucw != 0;
    mprotect((void *)CODE_PAGE, 0x1000, PROT_READ | PROT_WRITE);
    memset((void *)CODE_PAGE, 0xf4, 0x1000);
    memcpy((void *)CODE_PAGE, code, len);
    mprotect((void *)CODE_PAGE, 0x1000, PROT_READ | PROT_EXEC);
    mprotect((void *)RO_PAGE, 0x1000, PROT_READ | PROT_WRITE);
    fill((uint8_t *)DATA, DATA_SIZE + 0x1000, seed);
    mprotect((void *)RO_PAGE, 0x1000, PROT_READ);
    memcpy(initial, (void *)DATA, DATA_SIZE);
    if (sigsetjmp(back, 1) == 0) enter_case();
    /* The signal handler came back here with the state in out_*. */
    uint32_t rec[14];
    for (int i = 0; i < 8; i++) rec[i] = out_regs[i];
    rec[8] = out_eflags;
    rec[9] = out_eip;
    rec[10] = out_trapno;
    rec[11] = out_err;
    rec[12] = out_cr2;
    rec[13] = out_signo;
    fwrite(rec, 4, 14, out);
    fwrite(out_fpu, 1, sizeof out_fpu, out);
    const uint8_t *now = (const uint8_t *)DATA;
    uint32_t changes = 0;
    for (uint32_t i = 0; i < DATA_SIZE; i++) changes += now[i] != initial[i];
    fwrite(&changes, 4, 1, out);
    for (uint32_t i = 0; i < DATA_SIZE; i++) {
      if (now[i] != initial[i]) {
        uint8_t rec3[3] = {(uint8_t)i, (uint8_t)(i >> 8), now[i]};
        fwrite(rec3, 1, 3, out);
      }
    }
  }
  fflush(out);
  return 0;
}
