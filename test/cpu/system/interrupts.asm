; Hardware interrupts and single-step (SDM vol. 3, 6.8.3 "Masking Exceptions and Interrupts
; When Switching Stacks", 6.7 NMI handling, the STI and HLT pages of vol. 2, 17.3.1.4
; single-step): INTR with the STI and MOV SS interrupt shadows, NMI blocking until IRET,
; HLT woken by an interrupt, and TF traps after each instruction.
%include "sys.inc"
org ROM_BASE
%include "boot32.inc"

IRQ_EBX    equ TEST_VARS + 0x00   ; EBX seen by the INTR handler
IRQ_EIP    equ TEST_VARS + 0x04   ; EIP it interrupted
IRQ_COUNT  equ TEST_VARS + 0x08
NMI_COUNT  equ TEST_VARS + 0x0c
NMI_DEPTH  equ TEST_VARS + 0x10
NMI_MAX    equ TEST_VARS + 0x14
DB_COUNT   equ TEST_VARS + 0x18
DB_EIP     equ TEST_VARS + 0x1c   ; EIP saved by the first single-step trap
DB_DR6     equ TEST_VARS + 0x20
DB_LAST    equ TEST_VARS + 0x24   ; EIP saved by the last one

bits 32
main:
  SETGATE 0x50, SEL_CODE0, irq_handler, 0x8e
  SETGATE 2, SEL_CODE0, nmi_handler, 0x8e
  SETGATE 1, SEL_CODE0, db_handler, 0x8e
  SETGATE 0x51, SEL_CODE0, rep_irq, 0x8e

  ; ---- The delay itself: INTR asserted after one instruction, taken before the next ----
  sti
  nop
  mov ebx, 0x77
  INTR_AFTER 1, 0x50
  nop
  mov ebx, 5                    ; the interrupt comes before this
  REPORT 'nosh', [IRQ_EBX]

  ; ---- STI: the instruction after STI runs before a pending interrupt ----
  cli
  mov ebx, 0
  INTR_AFTER 0, 0x50            ; pending while IF = 0
  mov ebx, 0x10
  sti
  mov ebx, 1
  mov ebx, 2
  REPORT 'stsh', [IRQ_EBX]      ; 1
  REPORT 'stct', [IRQ_COUNT]

  ; ---- MOV SS: the next instruction runs before the interrupt ----
  mov ebx, 0
  mov dx, ss
  INTR_AFTER 1, 0x50            ; asserted right after the MOV SS below
  mov ss, dx
  mov ebx, 3
  mov ebx, 4
  REPORT 'mssh', [IRQ_EBX]      ; 3

  ; ---- HLT: an interrupt resumes after the HLT ----
  INTR_AFTER 20, 0x50
  hlt
after_hlt:
  mov eax, [IRQ_EIP]
  sub eax, after_hlt
  REPORT 'hlte', eax
  REPORT 'hltc', [IRQ_COUNT]

  ; ---- An interrupt in the middle of REP MOVSB: EIP points at the instruction, ECX says
  ; how much is left, and the copy completes after the handler returns ----
  mov dword [0x1ffffc], 0xfeedf00d          ; last dword of the source
  mov esi, 0x100000 + 0x100000 - 100000
  mov edi, 0x300000
  mov ecx, 100000
  cld
  sti
  INTR_AFTER 1, 0x51
rep_insn:
  rep movsb
  cli
  REPORT 'rpip', [TEST_VARS + 0x28]
  REPORT 'rpmd', [TEST_VARS + 0x2c]         ; 1: ECX was strictly between 0 and 100000
  REPORT 'rpcx', ecx
  mov eax, [0x300000 + 100000 - 4]
  REPORT 'rpdt', eax

  ; ---- NMI: taken with IF = 0; a second NMI waits for the handler's IRET ----
  cli
  NMI_AFTER 0
  nop
  nop
  REPORT 'nmic', [NMI_COUNT]
  REPORT 'nmid', [NMI_MAX]

  ; ---- Single-step: a trap after each instruction once TF is set ----
  pushfd
  or dword [esp], 0x100
  popfd                         ; no trap after the POPF that sets TF
step1:
  mov eax, 1
step2:
  mov eax, 2
  mov eax, 3                    ; the handler clears TF on the third trap
step4:
  mov eax, 4
  REPORT 'dbct', [DB_COUNT]
  mov eax, [DB_EIP]
  sub eax, step2
  REPORT 'dbe1', eax            ; first trap: after the first instruction
  mov eax, [DB_LAST]
  sub eax, step4
  REPORT 'dbe3', eax
  mov eax, [DB_DR6]
  and eax, 0x4000
  REPORT 'bs', eax              ; DR6.BS
  EXIT 0

rep_irq:
  push eax
  mov eax, [esp + 4]
  sub eax, rep_insn
  mov [TEST_VARS + 0x28], eax
  xor eax, eax
  cmp ecx, 0
  je .done
  cmp ecx, 100000
  jae .done
  inc eax
.done:
  mov [TEST_VARS + 0x2c], eax
  pop eax
  iretd

irq_handler:
  mov [IRQ_EBX], ebx
  push eax
  mov eax, [esp + 4]
  mov [IRQ_EIP], eax
  pop eax
  inc dword [IRQ_COUNT]
  iretd

nmi_handler:
  inc dword [NMI_COUNT]
  inc dword [NMI_DEPTH]
  push eax
  mov eax, [NMI_DEPTH]
  cmp eax, [NMI_MAX]
  jbe .no_max
  mov [NMI_MAX], eax
.no_max:
  cmp dword [NMI_COUNT], 1
  jne .out
  NMI_AFTER 0                   ; raised while this handler runs: blocked until IRET
  nop
  nop
.out:
  pop eax
  dec dword [NMI_DEPTH]
  iretd

db_handler:
  push eax
  inc dword [DB_COUNT]
  mov eax, [esp + 4]
  cmp dword [DB_COUNT], 1
  jne .not_first
  mov [DB_EIP], eax
  mov eax, dr6
  mov [DB_DR6], eax
  mov eax, [esp + 4]
.not_first:
  mov [DB_LAST], eax
  cmp dword [DB_COUNT], 3
  jne .out
  and dword [esp + 12], ~0x100
.out:
  pop eax
  iretd

%include "tail.inc"
