; Real mode: interrupts through the IVT, 16-bit offset wrap-around, the segment limit check
; of 386+ real mode (interrupt 13 on an access past offset 0xFFFF), and unreal (big real) mode:
; after a round trip through protected mode a segment register keeps its 4 GiB cached limit
; across real-mode loads, which only change the selector and the base (SDM vol. 3, 9.9.2 and
; 20.1.1: "the segment limit ... remains unchanged").
%include "sys.inc"
bits 16
org ROM_BASE

RM_RESUME equ 0x0500    ; word: IP where the INT 13 handler resumes
RM_FAULTIP equ 0x0502   ; word: IP of the faulting instruction

start16:
  cli
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  mov word [0x40 * 4], SEGOFS(int40)
  mov word [0x40 * 4 + 2], 0xf000
  mov word [13 * 4], SEGOFS(int13)
  mov word [13 * 4 + 2], 0xf000

  ; INT n pushes FLAGS, CS, IP (IP of the next instruction) and clears IF and TF.
  sti
  mov bx, sp
  int 0x40
after_int:
  REPORT 'ivsp', ebx         ; SP seen by the handler: 6 bytes below
  REPORT 'ivfl', edx         ; IF and TF inside the handler
  REPORT 'ivip', ecx         ; return IP
  REPORT 'ivcs', esi
  pushf
  pop ax
  and eax, 0x200
  REPORT 'ifbk', eax         ; IRET restored IF
  cli

  ; SP = 2: the interrupt frame wraps around the 64 KiB stack, FLAGS at SS:0, CS at SS:FFFE,
  ; IP at SS:FFFC; no fault since every word is inside the segment.
  mov word [0x41 * 4], SEGOFS(int41)
  mov word [0x41 * 4 + 2], 0xf000
  mov ax, 0x3000
  mov ss, ax
  mov sp, 2
  int 0x41
  mov ax, sp
  xor cx, cx
  mov ss, cx
  mov sp, 0x7000
  REPORT 'wsp', eax                  ; 2 again after IRET
  movzx eax, word [0x0510]
  REPORT 'wsp1', eax                 ; SP in the handler
  movzx eax, word [0x0512]
  REPORT 'wcs', eax                  ; word at SS:FFFE

  ; Effective addresses wrap at 64 KiB with 16-bit addressing: [bx+2] with BX=0xFFFF is offset 1.
  mov ax, 0x2000
  mov es, ax
  mov byte [es:1], 0x5a
  mov bx, 0xffff
  movzx eax, byte [es:bx + 2]
  REPORT 'wrap', eax

  ; A word at offset 0xFFFF runs past the 64 KiB limit: interrupt 13 (no error code in real
  ; mode), a fault with IP at the instruction.
  mov word [RM_RESUME], SEGOFS(.gp_done)
  mov bx, 0xffff
.gp_insn:
  mov ax, [es:bx]
  mov word [RM_FAULTIP], 0xdead
.gp_done:
  movzx eax, word [RM_FAULTIP]
  sub eax, SEGOFS(.gp_insn)
  REPORT 'gpip', eax         ; 0: IP of the faulting MOV

  ; The address 0xFFFF:0x0010 is 1 MiB with the A20 gate on, and wraps to 0 with it off.
  mov ax, 0xffff
  mov es, ax
  mov byte [0], 0x22
  mov byte [es:0x10], 0x11
  movzx eax, byte [0]
  REPORT 'a20a', eax                 ; 0x22: a different byte
  mov al, 0
  out 0xfa, al                       ; A20 off
  movzx eax, byte [es:0x10]
  REPORT 'a20b', eax                 ; 0x22: the same byte as 0:0
  mov byte [es:0x10], 0x33
  movzx eax, byte [0]
  REPORT 'a20c', eax
  mov al, 1
  out 0xfa, al
  movzx eax, byte [es:0x10]
  REPORT 'a20d', eax                 ; 0x11 again
  mov ax, 0x2000
  mov es, ax

  ; Unreal mode: load FS with a flat 4 GiB data segment in protected mode, return to real mode.
  o32 lgdt [cs:SEGOFS(gdt_pointer)]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp 0x08:SEGOFS(.pm16)     ; 16-bit code segment based at 0xF0000
.pm16:
  mov ax, 0x10
  mov fs, ax
  mov eax, cr0
  and al, ~1
  mov cr0, eax
  jmp 0xf000:SEGOFS(.real)
.real:
  xor ax, ax
  mov fs, ax                 ; a real-mode load: base 0, the 4 GiB limit stays
  mov esi, 0x200000
  mov dword [fs:esi], 0x12345678
  mov eax, [fs:esi]
  REPORT 'unrl', eax
  mov eax, fs
  REPORT 'fsel', eax
  ; ES was never loaded in protected mode: its limit is still 64 KiB.
  mov word [RM_RESUME], SEGOFS(.es_done)
  mov word [RM_FAULTIP], 0
.es_insn:
  mov eax, [es:esi]
.es_done:
  movzx eax, word [RM_FAULTIP]
  sub eax, SEGOFS(.es_insn)
  REPORT 'esgp', eax
  EXIT 0

int40:
  mov bp, sp
  mov ebx, 0
  mov bx, sp
  sub bx, 0x7000             ; bx = SP - original SP: -6
  movsx ebx, bx
  pushf
  pop dx
  and edx, 0x300             ; IF | TF
  movzx ecx, word [bp]
  sub ecx, SEGOFS(after_int)
  movzx esi, word [bp + 2]
  iret

int41:
  mov [0x0510], sp
  push bp
  mov bp, sp
  mov bp, [bp + 4]                   ; SS:FFFE (the pushed CS) through BP
  mov [0x0512], bp
  pop bp
  iret

int13:
  push bp
  mov bp, sp
  push ax
  mov ax, [bp + 2]
  mov [RM_FAULTIP], ax
  mov ax, [RM_RESUME]
  mov [bp + 2], ax
  pop ax
  pop bp
  iret

align 8
gdt:
  dq 0
  DESC ROM_BASE, 0xffff, ATTR_CODE16     ; 0x08
  DESC 0, 0xfffff, ATTR_DATA32           ; 0x10
gdt_pointer:
  dw 0x17
  dd ABS(gdt)

%include "tail.inc"
