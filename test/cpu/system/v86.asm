; Virtual-8086 mode (SDM vol. 3, chapter 20): entering through IRET with VM set, real-mode
; style segment loads, IOPL-sensitive instructions faulting at IOPL < 3 (CLI, STI, PUSHF,
; POPF, INT n, IRET; HLT always), INT3 checked against the gate DPL instead, the exception and
; interrupt frames on the ring-0 stack (GS FS DS ES SS ESP EFLAGS CS EIP) with data segments
; nulled, IRET back to virtual-8086 mode, and I/O through the permission bitmap at any IOPL.
%include "sys.inc"
org ROM_BASE
%include "boot32.inc"

V86_DS   equ VARS >> 4      ; DS base = VARS, so [EXC_VEC - VARS] etc. reach the records
V86_SS   equ 0x5000
V86_SP   equ 0xfff0
FRAME    equ TEST_VARS      ; copy of the ring-0 frame seen by v86_to_ring0 (9 dwords)
R0_DS    equ TEST_VARS + 0x40
R0_EFL   equ TEST_VARS + 0x44
R0_ESP   equ TEST_VARS + 0x48
INT31    equ TEST_VARS + 0x4c

; FAULT for virtual-8086 code: DS addresses the records, resume addresses are IPs in F000.
%macro VFAULT 2+
  mov dword [EXC_VEC - VARS], 0xff
  mov dword [EXC_ERR - VARS], 0xffff
  mov dword [RESUME - VARS], SEGOFS(%%resume)
  %2
  mov dword [RESUME - VARS], 0
%%resume:
  mov eax, [EXC_VEC - VARS]
  shl eax, 16
  mov ax, [EXC_ERR - VARS]
  REPORT %1, eax
%endmacro

bits 32
main:
  SETGATE 3, SEL_CODE0, v86_to_ring0, 0x8e      ; DPL 0 for now: INT3 from v86 -> #GP
  SETGATE 0x31, SEL_CODE0, v86_int31, 0xee
  SETGATE 0x32, SEL_CODE3, v86_int31, 0xee    ; a ring-3 handler cannot serve v86 code
  push dword 0                  ; GS
  push dword 0                  ; FS
  push dword V86_DS             ; DS
  push dword 0                  ; ES
  push dword V86_SS
  push dword V86_SP
  push dword 0x20002            ; VM, IOPL 0, IF 0
  push dword 0xf000
  push dword SEGOFS(v86_code)
  iretd

; ---- Ring 0: INT3 from virtual-8086 mode (after the program made the gate DPL 3) ----
v86_to_ring0:
  mov [ss:R0_ESP], esp
  push eax
  mov eax, ds
  mov [ss:R0_DS], eax
  pushfd
  pop eax
  mov [ss:R0_EFL], eax
  pop eax
  mov ax, SEL_DATA0
  mov ds, ax
  mov es, ax
  mov esi, esp
  mov edi, FRAME
  mov ecx, 9
  rep movsd
  or dword [esp + 8], 0x3000    ; return with IOPL 3
  iretd

v86_int31:
  inc dword [ss:INT31]
  iretd

bits 16
v86_code:
  mov ax, cs
  REPORT 'vcs', eax
  ; Segment loads: base = selector * 16.
  mov ax, 0x1234
  mov es, ax
  mov byte [es:0], 0x5b
  ; IOPL 0: the IOPL-sensitive instructions fault with #GP(0).
  VFAULT 'cli', cli
  REPORT 'fvm', [EXC_EFL - VARS]        ; VM in the saved EFLAGS
  REPORT 'fcs', [EXC_CS - VARS]
  REPORT 'fds', [EXC_DS - VARS]         ; DS nulled on entry to the ring-0 handler
  REPORT 'fvds', [EXC_V86DS - VARS]     ; the v86 DS pushed in the frame
  REPORT 'fss', [EXC_OLDSS - VARS]
  REPORT 'fsp', [EXC_OLDESP - VARS]
  REPORT 'ffrm', [EXC_FRAME - VARS]     ; error code + 9 dwords below ESP0
  VFAULT 'sti', sti
  VFAULT 'pshf', pushf
  VFAULT 'popf', popf
  VFAULT 'intn', int 0x31
  VFAULT 'iret', iret
  VFAULT 'hlt', hlt
  VFAULT 'int3', int3                   ; not IOPL-sensitive: gate DPL 0 < 3
  VFAULT 'io80', in al, 0x80            ; the bitmap denies 0x80
  mov dx, 0xf0
  VFAULT 'iof0', in al, dx
  ; Make gate 3 DPL 3 (the IDT is ordinary memory here) and leave through INT3.
  mov ax, IDT_BASE >> 4
  mov es, ax
  mov byte [es:3 * 8 + 5], 0xee
  mov bx, sp
  int3
after_int3:
  ; Back from ring 0 with IOPL 3.
  mov ax, ds
  REPORT 'rds', eax                     ; IRET reloaded DS from the frame
  mov ax, sp
  sub ax, bx
  movsx eax, ax
  REPORT 'rsp', eax
  VFAULT 'cli3', cli
  VFAULT 'pf3', pushf
  VFAULT 'pp3', popf
  VFAULT 'io3', in al, 0x80             ; I/O in v86 always consults the bitmap
  VFAULT 'i31f', int 0x31               ; IOPL 3: through the DPL-3 gate
  REPORT 'i31', [INT31 - VARS]
  VFAULT 'i32', int 0x32                ; target code DPL 3: #GP(selector)
  mov eax, [FRAME - VARS]               ; EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS
  sub eax, SEGOFS(after_int3)
  REPORT 'f0', eax
  REPORT 'f1', [FRAME - VARS + 4]
  REPORT 'f2', [FRAME - VARS + 8]
  REPORT 'f3', [FRAME - VARS + 12]
  REPORT 'f4', [FRAME - VARS + 16]
  REPORT 'f5', [FRAME - VARS + 20]
  REPORT 'f6', [FRAME - VARS + 24]
  REPORT 'f7', [FRAME - VARS + 28]
  REPORT 'f8', [FRAME - VARS + 32]
  REPORT 'r0ds', [R0_DS - VARS]
  REPORT 'r0fl', [R0_EFL - VARS]
  REPORT 'r0sp', [R0_ESP - VARS]
  mov ax, 0x1234
  mov es, ax
  movzx eax, byte [es:0]
  REPORT 'seg', eax
  mov ax, 0x1000
  mov es, ax
  movzx eax, byte [es:0x2340]           ; the same byte through another segment
  REPORT 'seg2', eax
  EXIT 0

%include "tail.inc"
