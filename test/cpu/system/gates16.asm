; 16-bit gates and stack frames (SDM vol. 3, 5.8.3-5.8.6 call gates, 6.12.1 exception- or
; interrupt-handler procedures): a 16-bit interrupt gate and a 16-bit call gate with word
; parameters, from ring 3 into 32-bit ring-0 code, returning with 16-bit IRET and RETF imm16;
; a JMP through a call gate; and an invalid ring-0 stack in the TSS (#TS, taken through a task
; gate because the faulting delivery has no stack to run on).
%include "sys.inc"
org ROM_BASE
%include "boot32.inc"

SEL_CODEF  equ 0x40   ; 32-bit code, base 0xF0000, limit 0xFFFF, DPL 0 (16-bit gate targets)
SEL_CG16   equ 0x48   ; 16-bit call gate, DPL 3, 2 word parameters
SEL_JGATE  equ 0x50   ; 32-bit call gate, DPL 0 -> SEL_CODE0:jump_target
SEL_TSS1   equ 0x58   ; task handling #TS
SEL_ROD    equ 0x60   ; read-only data: not a stack
SEL_CODE3F equ 0x68   ; 32-bit code, base 0xF0000, limit 0xFFFF, DPL 3: ring-3 EIP < 64 KiB
R3_SP      equ 0xf000
SAVE       equ TEST_VARS

bits 32
main:
  SETDESC SEL_CODEF, ROM_BASE, 0xffff, 0x409b
  SETGATE 0x70, SEL_CODEF, SEGOFS(int16_handler), 0xe6
  SETGDTGATE SEL_CG16, SEL_CODEF, SEGOFS(gate16_handler), 0xe4 | (2 << 8)
  SETGDTGATE SEL_JGATE, SEL_CODE0, jump_target, 0x8c
  SETDESC SEL_ROD, 0, 0xfffff, 0xc091
  SETDESC SEL_CODE3F, ROM_BASE, 0xffff, 0x40fb

  ; ---- JMP through a call gate: same privilege, no stack change ----
  mov ebx, esp
  jmp SEL_JGATE:0
  EXIT 0xe3
jump_target:
  sub ebx, esp
  REPORT 'jgsp', ebx
  mov eax, cs
  REPORT 'jgcs', eax

  mov edi, TSS1_BASE
  mov ecx, 0x68 / 4
  xor eax, eax
  rep stosd
  mov dword [TSS1_BASE + 0x20], ts_task
  mov dword [TSS1_BASE + 0x24], 2
  mov dword [TSS1_BASE + 0x38], STACK_ALT_TOP
  mov word [TSS1_BASE + 0x48], SEL_DATA0
  mov word [TSS1_BASE + 0x4c], SEL_CODE0
  mov word [TSS1_BASE + 0x50], SEL_DATA0
  mov word [TSS1_BASE + 0x54], SEL_DATA0
  SETDESC SEL_TSS1, TSS1_BASE, 0x67, 0x0089
  SETGATE 10, SEL_TSS1, 0, 0x85
  push dword SEL_DATA3
  push dword R3_SP
  pushfd
  push dword SEL_CODE3F | 3
  push dword SEGOFS(ring3)
  iretd
ring3:
  mov ax, SEL_DATA3
  mov ds, ax
  mov es, ax
  ; ---- 16-bit interrupt gate from ring 3 ----
  int 0x70
after_int:
  mov ecx, esp
  REPORT 'iesp', ecx                  ; 16-bit IRET: SP restored (the high half was zero)
  mov eax, cs
  REPORT 'iecs', eax
  REPORT 'ip', [SAVE + 0]             ; IP, CS, FLAGS, SP, SS as words
  REPORT 'cs', [SAVE + 4]
  REPORT 'sp', [SAVE + 12]
  REPORT 'ss', [SAVE + 16]
  REPORT 'hesp', [SAVE + 20]          ; handler ESP: five words below ESP0
  ; ---- 16-bit call gate with two word parameters ----
  push word 0x1111
  push word 0x2222
  call SEL_CG16 | 3:0
after_call:
  mov ecx, esp
  REPORT 'cesp', ecx                  ; RETF 4 released the parameters
  REPORT 'cip', [SAVE + 0x20]         ; IP, CS, P0, P1, SP, SS as words
  REPORT 'ccs', [SAVE + 0x24]
  REPORT 'cp0', [SAVE + 0x28]
  REPORT 'cp1', [SAVE + 0x2c]
  REPORT 'csp', [SAVE + 0x30]
  REPORT 'css', [SAVE + 0x34]
  REPORT 'chsp', [SAVE + 0x38]

  ; ---- A bad SS0 in the TSS: #TS(SS0) (no paging: ring 3 can edit the TSS) ----
  mov dword [TSS0_BASE + 8], SEL_ROD
bad_int:
  int 0x70
  EXIT 0xe4

ts_task:
  pop eax
  REPORT 'tser', eax                  ; SS0 selector, EXT clear (INT n)
  mov eax, [TSS0_BASE + 0x4c]
  and eax, 0xffff
  REPORT 'tscs', eax                  ; the interrupted task was in ring 3
  mov eax, [TSS0_BASE + 0x20]
  sub eax, SEGOFS(bad_int)
  REPORT 'tsip', eax                  ; at the INT: a fault
  EXIT 0

; Ring-0 handlers in SEL_CODEF (base 0xF0000): offsets only, no absolute code addresses.
int16_handler:
  mov [ss:SAVE + 20], esp
  push eax
  movzx eax, word [esp + 4]
  sub eax, SEGOFS(after_int)
  mov [ss:SAVE + 0], eax
  movzx eax, word [esp + 6]
  mov [ss:SAVE + 4], eax
  movzx eax, word [esp + 10]
  mov [ss:SAVE + 12], eax
  movzx eax, word [esp + 12]
  mov [ss:SAVE + 16], eax
  pop eax
  o16 iret

gate16_handler:
  mov [ss:SAVE + 0x38], esp
  push eax
  movzx eax, word [esp + 4]
  sub eax, SEGOFS(after_call)
  mov [ss:SAVE + 0x20], eax
  movzx eax, word [esp + 6]
  mov [ss:SAVE + 0x24], eax
  movzx eax, word [esp + 8]
  mov [ss:SAVE + 0x28], eax
  movzx eax, word [esp + 10]
  mov [ss:SAVE + 0x2c], eax
  movzx eax, word [esp + 12]
  mov [ss:SAVE + 0x30], eax
  movzx eax, word [esp + 14]
  mov [ss:SAVE + 0x34], eax
  pop eax
  o16 retf 4

%include "tail.inc"
