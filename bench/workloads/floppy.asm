; v86 side: the boot sector of a 1.44 MB floppy. SeaBIOS loads it at 0x7C00; it loads the
; workload (the sectors after it) to WORKLOAD_BASE with INT 13h, sets COM1 to 8N1 so its data
; register is the transmit holding register, switches to flat protected mode and jumps to the
; workload. WORKLOAD_SECTORS (1-17, all on cylinder 0 head 0) is passed by bench/v86.ts.
bits 16
org 0x7c00
LINEAR_BASE equ 0

boot:
  jmp 0:.start                ; normalise CS (some BIOSes enter at 07C0:0000)
.start:
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7c00
  mov ax, WORKLOAD_BASE >> 4
  mov es, ax
  xor bx, bx
  mov ax, 0x0200 | WORKLOAD_SECTORS
  mov cx, 0x0002              ; cylinder 0, sector 2
  mov dh, 0                   ; head 0, DL = boot drive from the BIOS
  int 0x13
  jc .failed
  mov dx, 0x3fb               ; line control: 8 data bits, no parity, 1 stop bit, DLAB off
  mov al, 3
  out dx, al
  jmp enter_protected_mode
.failed:
  mov dx, 0x3f8
  mov al, '!'
  out dx, al
  cli
  hlt

%include "protected-mode.inc"

times 510 - ($ - $$) db 0
  dw 0xaa55
