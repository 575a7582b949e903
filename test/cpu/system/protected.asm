; Protected-mode segmentation (SDM vol. 3, chapter 5 and the MOV/POP Sreg, LAR, LSL, VERR
; pages of vol. 2): descriptor-table limits, type and privilege checks on segment loads with
; their error codes, limit checks for expand-up and expand-down segments, null selectors,
; read-only data and execute-only code, the LDT, the accessed bit, conforming code, and
; 16-bit code segments.
%include "sys.inc"
org ROM_BASE
%include "boot32.inc"

SEL_LIM    equ 0x40  ; data, base 0x100000, limit 0xFFF (byte granular)
SEL_RO     equ 0x48  ; read-only data, flat
SEL_DPL3D  equ 0x50  ; data, DPL 3
SEL_NP     equ 0x58  ; not present data
SEL_XO     equ 0x60  ; execute-only code, flat
SEL_LDT    equ 0x68  ; LDT at LDT_BASE, limit 0xFF
SEL_EDOWN  equ 0x70  ; expand-down data, B=1, base 0x200000, limit 0xFFF
SEL_EDOWN16 equ 0x78 ; expand-down data, B=0, base 0x200000, limit 0xFFF
SEL_CONF   equ 0x80  ; conforming code, DPL 0, flat
SEL_STK3   equ 0x88  ; DPL-3 stack, base 0x300000, limit 0xFFF
SEL_ACC    equ 0x90  ; data with the accessed bit clear

bits 32
main:
  SETDESC SEL_LIM, 0x100000, 0xfff, 0x4093
  SETDESC SEL_RO, 0, 0xfffff, 0xc091
  SETDESC SEL_DPL3D, 0, 0xfffff, 0xc0f3
  SETDESC SEL_NP, 0, 0xfffff, 0xc013
  SETDESC SEL_XO, 0, 0xfffff, 0xc099
  SETDESC SEL_LDT, LDT_BASE, 0xff, 0x0082
  SETDESC SEL_EDOWN, 0x200000, 0xfff, 0x4097
  SETDESC SEL_EDOWN16, 0x200000, 0xfff, 0x0097
  SETDESC SEL_CONF, 0, 0xfffff, 0xc09f
  SETDESC SEL_STK3, 0x300000, 0xfff, 0x40f3
  SETDESC SEL_ACC, 0, 0xfffff, 0xc092
  SETDESC 0x04, 0x100000, 0xfffff, 0xc093   ; LDT entry 0: data based at 1 MiB

  ; ---- Segment loads: the error code is the selector (RPL cleared) ----
  mov ax, 0x1003
  FAULT 'gdtl', mov ds, ax                   ; index beyond the GDT limit
  mov ax, SEL_RO
  FAULT 'ssro', mov ss, ax                   ; SS must be writable
  mov ax, SEL_DPL3D
  FAULT 'ssdp', mov ss, ax                   ; SS DPL must equal CPL
  mov ax, SEL_DATA0 | 3
  FAULT 'ssrp', mov ss, ax                   ; SS RPL must equal CPL
  mov ax, SEL_NP
  FAULT 'dsnp', mov ds, ax                   ; #NP for a data segment
  mov ax, SEL_NP
  FAULT 'ssnp', mov ss, ax                   ; #SS for the stack segment
  mov ax, SEL_XO
  FAULT 'dsxo', mov ds, ax                   ; execute-only code is not readable
  mov ax, SEL_LDT
  FAULT 'dsld', mov ds, ax                   ; a system descriptor
  xor eax, eax
  FAULT 'ssnl', mov ss, ax                   ; null SS at CPL 0
  xor eax, eax
  FAULT 'esnl', mov es, ax                   ; null ES: loading is fine...
  FAULT 'esus', mov eax, [es:0]              ; ...using it is #GP(0)
  mov ax, SEL_DATA0
  mov es, ax

  ; ---- Limits ----
  mov ax, SEL_LIM
  mov fs, ax
  FAULT 'lim1', mov eax, [fs:0xffc]          ; last dword inside the limit
  FAULT 'lim2', mov eax, [fs:0xffd]          ; one byte past: #GP(0)
  FAULT 'lim3', mov byte [fs:0x1000], 1
  mov ax, SEL_RO
  mov fs, ax
  FAULT 'rowr', mov byte [fs:0x100000], 1    ; read-only data
  FAULT 'rord', mov eax, [fs:0x100000]
  FAULT 'cswr', mov [cs:0x100000], eax       ; code is never writable
  ; Expand-down, B=1: valid offsets are limit+1 .. 0xFFFFFFFF.
  mov ax, SEL_EDOWN
  mov fs, ax
  FAULT 'ed1', mov eax, [fs:0x1000]
  FAULT 'ed2', mov eax, [fs:0xfff]
  FAULT 'ed3', mov eax, [fs:0xfffffffc]
  FAULT 'ed4', mov eax, [fs:0xfffffffd]
  ; Expand-down, B=0: the upper bound is 0xFFFF.
  mov ax, SEL_EDOWN16
  mov fs, ax
  FAULT 'ed5', mov ax, [fs:0xfffe]
  FAULT 'ed6', mov ax, [fs:0xffff]
  FAULT 'ed7', mov al, [fs:0x10000]
  FAULT 'ed8', mov al, [fs:0xfff]
  mov dword [0x200000 + 0x2000], 0xcafe0001
  mov eax, [fs:0x2000]
  REPORT 'edrd', eax                         ; base + offset
  mov ax, SEL_DATA0
  mov fs, ax

  ; ---- Execute-only code: fetch works, data reads through CS fault ----
  jmp SEL_XO:.xo
.xo:
  FAULT 'xord', mov eax, [cs:0x1000]
  jmp SEL_CODE0:.xo_back
.xo_back:

  ; ---- LDT ----
  mov dword [0x100010], 0xabcd1234
  mov ax, 0x04
  FAULT 'ldt0', mov ds, ax                   ; LDTR is null: #GP(selector)
  mov ax, SEL_LDT
  lldt ax
  mov ax, 0x04
  mov gs, ax
  mov eax, [gs:0x10]
  REPORT 'ldtr', eax
  mov ax, 0x104
  FAULT 'ldt1', mov gs, ax                   ; beyond the LDT limit 0xFF
  sldt eax
  REPORT 'sldt', eax
  mov ax, SEL_DATA0
  mov gs, ax

  ; ---- Accessed bit ----
  movzx eax, byte [GDT_BASE + SEL_ACC + 5]
  REPORT 'acc0', eax
  mov ax, SEL_ACC
  mov gs, ax
  movzx eax, byte [GDT_BASE + SEL_ACC + 5]
  REPORT 'acc1', eax
  mov ax, SEL_DATA0
  mov gs, ax

  ; ---- LAR / LSL / VERR / VERW ----
  mov eax, 0x11111111
  lsl eax, [sel_lim]
  setz bl
  REPORT 'lsl', eax
  movzx ebx, bl
  REPORT 'lslz', ebx
  lar eax, [sel_ro]
  and eax, 0x00f0ff00
  REPORT 'lar', eax
  mov ax, SEL_RO
  verw ax
  setz bl
  movzx ebx, bl
  REPORT 'vrw0', ebx                        ; read-only: not writable
  mov ax, SEL_XO
  verr ax
  setz bl
  movzx ebx, bl
  REPORT 'vrr0', ebx                        ; execute-only: not readable
  mov ax, SEL_LIM
  verr ax
  setz bl
  movzx ebx, bl
  REPORT 'vrr1', ebx

  ; ---- 16-bit code segment: default operand size 16 ----
  jmp SEL_CODE16:SEGOFS(code16)
back32:

  ; ---- Ring 3: conforming code and the stack limit ----
  TO_RING3
  call SEL_CONF:conforming
  REPORT 'ccs', eax                         ; CS inside the conforming segment keeps CPL 3
  FAULT 'jnc', jmp SEL_CODE0:0               ; non-conforming DPL 0 code from CPL 3
  FAULT 'cnc', call SEL_CODE0:0
  mov ax, SEL_DATA0
  FAULT 'ds0', mov ds, ax                   ; DPL 0 data from CPL 3
  ; A push below the stack limit: #SS(0), ESP unchanged. The handler runs on the ring-0 stack.
  mov ax, SEL_STK3 | 3
  mov ss, ax
  mov esp, 0x800
  mov dword [RESUME], .ss_back
  mov ebx, esp
  push eax                                  ; fits
  mov esp, 2
.ss_push:
  push eax                                  ; ESP would become 0xFFFFFFFE: beyond the limit
  mov dword [RESUME], 0
.ss_back:
  mov ecx, esp
  mov dx, SEL_DATA3
  mov ss, dx
  mov esp, STACK3_TOP
  REPORT 'ssvc', [EXC_VEC]
  REPORT 'sser', [EXC_ERR]
  REPORT 'ssep', ecx
  mov eax, [EXC_EIP]
  sub eax, .ss_push
  REPORT 'ssip', eax
  EXIT 0

conforming:
  mov eax, cs
  retf

sel_lim: dw SEL_LIM
sel_ro: dw SEL_RO

bits 16
code16:
  mov ebx, esp
  push 0x1234                                ; 2 bytes with a 16-bit operand size
  sub ebx, esp
  pop ax
  REPORT 'p16', ebx
  mov eax, cs
  REPORT 'cs16', eax
  jmp dword SEL_CODE0:back32

%include "tail.inc"
