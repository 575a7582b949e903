; Privilege levels (SDM vol. 3, chapters 5.8-5.10, 6.12, 18.5 and the IRET, RET, CALL,
; SYSENTER and SYSEXIT pages of vol. 2), with paging on and the ring-0 stack on
; supervisor-only pages: IRET to ring 3 nulling data segments, faults from ring 3 delivered on
; the TSS stack, a call gate with parameter copy and RETF imm16 back, IOPL, the I/O permission
; bitmap, POPF and CLI rules, privileged instructions, and SYSENTER/SYSEXIT.
%include "sys.inc"
org ROM_BASE
%include "boot32.inc"

SEL_GATE   equ 0x40   ; call gate, DPL 3, 2 dword parameters -> SEL_CODE0:gate_target
GATE_ESP   equ TEST_VARS + 0x00
GATE_P0    equ TEST_VARS + 0x04
GATE_P1    equ TEST_VARS + 0x08
GATE_OESP  equ TEST_VARS + 0x0c
GATE_OSS   equ TEST_VARS + 0x10
GATE_RCS   equ TEST_VARS + 0x14
SE_CS      equ TEST_VARS + 0x18
SE_SS      equ TEST_VARS + 0x1c
SE_ESP     equ TEST_VARS + 0x20
SE_EFL     equ TEST_VARS + 0x24
SYSENTER_STACK equ 0x6f000

bits 32
main:
  ; Paging: identity map with user pages, except the ring-0 stack (0x68000-0x6FFFF).
  call build_identity_paging
  mov edi, PAGING_BASE + 0x1000 + (0x68 * 4)
  mov eax, 0x68000 | 3
.sup:
  stosd
  add eax, 0x1000
  cmp edi, PAGING_BASE + 0x1000 + (0x70 * 4)
  jb .sup
  mov eax, PAGING_BASE
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax

  SETGDTGATE SEL_GATE, SEL_CODE0, gate_target, 0xec | (2 << 8)

  ; ---- IRET to ring 3: DS/ES with DPL 0 are nulled, FS with DPL 3 stays ----
  mov ax, SEL_DATA3
  mov fs, ax
  push dword SEL_DATA3
  push dword STACK3_TOP
  pushfd
  push dword SEL_CODE3
  push dword .ring3
  iretd
.ring3:
  mov eax, ds
  REPORT 'ds3', eax
  mov eax, es
  REPORT 'es3', eax
  mov eax, fs
  REPORT 'fs3', eax
  mov eax, cs
  REPORT 'cs3', eax
  mov ax, SEL_DATA3
  mov ds, ax
  mov es, ax

  ; ---- A fault in ring 3 is delivered on the ring-0 stack from TSS0 ----
  mov ebx, esp
  FAULT 'cli', cli                         ; CPL 3 > IOPL 0
  REPORT 'fcs', [EXC_CS]
  REPORT 'fss', [EXC_OLDSS]
  mov eax, [EXC_OLDESP]
  sub eax, ebx
  REPORT 'fesp', eax                       ; the interrupted ESP
  REPORT 'ffrm', [EXC_FRAME]               ; error code, EIP, CS, EFLAGS, ESP, SS below ESP0
  FAULT 'hlt', hlt
  FAULT 'crw', mov cr3, eax
  FAULT 'crr', mov eax, cr0
  FAULT 'intd', int 0x31                   ; gate DPL 0 < CPL 3: #GP(vector * 8 + 2)
  FAULT 'sx3', sysexit

  ; ---- Call gate: parameters copied to the inner stack; RETF 8 releases them ----
  mov ebx, esp
  push dword 0x1111
  push dword 0x2222
  mov ecx, esp
  call SEL_GATE | 3:0
  mov edx, esp
  mov eax, ds
  REPORT 'gds', eax                        ; DS (DPL 0, loaded by the gate code) nulled by RETF
  mov ax, SEL_DATA3
  mov ds, ax
  sub edx, ebx
  REPORT 'gret', edx                       ; 0: RETF 8 released both parameters
  REPORT 'gesp', [GATE_ESP]
  REPORT 'gp0', [GATE_P0]
  REPORT 'gp1', [GATE_P1]
  mov eax, [GATE_OESP]
  sub eax, ecx
  REPORT 'goes', eax
  REPORT 'goss', [GATE_OSS]
  REPORT 'grcs', [GATE_RCS]

  ; ---- I/O from ring 3 with IOPL 0: the bitmap decides, per byte of the access ----
  FAULT 'io80', in al, 0x80
  mov edx, 0xf0
  FAULT 'iof0', in ax, dx                  ; ports F0-F1 allowed
  mov edx, 0xff
  FAULT 'ioff', in ax, dx                  ; ports FF-100: 0x100 denied
  mov edx, 0xe8
  FAULT 'ioe8', in al, dx                  ; E8 denied, E9 allowed
  mov edx, 0xe9
  FAULT 'ioe9', out dx, al
  ; POPF at CPL 3 > IOPL: IF and IOPL silently keep their values.
  pushfd
  or dword [esp], 0x3200
  popfd
  pushfd
  pop eax
  and eax, 0x3200
  REPORT 'popf', eax

  ; ---- IOPL 3: CLI/STI and every port allowed at CPL 3 ----
  TO_RING0
  pushfd
  or dword [esp], 0x3000
  popfd
  TO_RING3
  FAULT 'cli3', cli
  FAULT 'in3', in al, 0x80
  TO_RING0
  pushfd
  and dword [esp], ~0x3000
  popfd

  ; ---- SYSENTER / SYSEXIT ----
  mov ecx, 0x174
  xor edx, edx
  mov eax, SEL_CODE0
  wrmsr
  inc ecx
  mov eax, SYSENTER_STACK
  wrmsr
  inc ecx
  mov eax, sysenter_entry
  wrmsr
  sti                                      ; IF=1 in ring 3 (nothing asserts INTR)
  ; RETF to ring 3: pops EIP, CS, then ESP, SS; DS and ES (DPL 0) are nulled.
  push dword SEL_DATA3
  push dword STACK3_TOP
  push dword SEL_CODE3
  push dword .retf3
  retf
.retf3:
  mov eax, ds
  REPORT 'rfds', eax
  mov eax, cs
  REPORT 'rfcs', eax
  mov ecx, esp
  REPORT 'rfsp', ecx
  mov ax, SEL_DATA3
  mov ds, ax
  mov es, ax
  mov ebp, esp
  sysenter
sysexit_target:
  mov ebx, esp
  sub ebx, ebp
  REPORT 'xesp', ebx
  mov eax, cs
  REPORT 'xcs', eax
  mov eax, ss
  REPORT 'xss', eax
  REPORT 'ecs', [SE_CS]
  REPORT 'ess', [SE_SS]
  REPORT 'eesp', [SE_ESP]
  mov eax, [SE_EFL]
  and eax, 0x200
  REPORT 'eif', eax                        ; SYSENTER clears IF

  ; ---- The I/O bitmap ends at the TSS limit: both bytes read must lie within it ----
  TO_RING0
  SETDESC SEL_TSS0, TSS0_BASE, 0x68 + 0x1f, 0x0089   ; bitmap bytes for ports 0-0xFF only
  mov ax, SEL_TSS0
  ltr ax
  TO_RING3
  FAULT 'lmf0', in al, 0xf0                ; bytes 0x1E-0x1F: inside
  FAULT 'lmf8', in al, 0xf8                ; bytes 0x1F-0x20: 0x20 is past the limit
  EXIT 0

gate_target:
  mov [ss:GATE_ESP], esp
  mov ax, SEL_DATA0
  mov ds, ax
  mov eax, [esp + 8]
  mov [GATE_P0], eax
  mov eax, [esp + 12]
  mov [GATE_P1], eax
  mov eax, [esp + 16]
  mov [GATE_OESP], eax
  mov eax, [esp + 20]
  mov [GATE_OSS], eax
  mov eax, [esp + 4]
  mov [GATE_RCS], eax
  retf 8

sysenter_entry:
  mov [ss:SE_ESP], esp
  mov eax, cs
  mov [ss:SE_CS], eax
  mov eax, ss
  mov [ss:SE_SS], eax
  pushfd
  pop eax
  mov [ss:SE_EFL], eax
  mov ecx, ebp
  mov edx, sysexit_target
  sysexit

%include "tail.inc"
