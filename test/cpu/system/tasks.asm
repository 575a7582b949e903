; Hardware task switching (SDM vol. 3, chapter 7): JMP to a TSS (busy bits move, no link),
; CALL to a TSS (NT, back link, both busy), IRET back through the link, CALL to a busy task
; (#GP), a task gate in the IDT, a 16-bit TSS, and CR0.TS set by every switch.
%include "sys.inc"
org ROM_BASE
%include "boot32.inc"

SEL_TSS1 equ 0x40   ; 32-bit TSS running task1
SEL_TSS2 equ 0x48   ; 16-bit TSS running task16

bits 32
main:
  ; TSS1: flat ring-0 task with its own stack and recognisable registers.
  mov edi, TSS1_BASE
  mov ecx, 0x68 / 4
  xor eax, eax
  rep stosd
  mov dword [TSS1_BASE + 0x20], task1
  mov dword [TSS1_BASE + 0x24], 2
  mov dword [TSS1_BASE + 0x28], 0x1111          ; EAX
  mov dword [TSS1_BASE + 0x34], 0x3333          ; EBX
  mov dword [TSS1_BASE + 0x38], STACK_ALT_TOP   ; ESP
  mov word [TSS1_BASE + 0x48], SEL_DATA0
  mov word [TSS1_BASE + 0x4c], SEL_CODE0
  mov word [TSS1_BASE + 0x50], SEL_DATA0
  mov word [TSS1_BASE + 0x54], SEL_DATA0
  mov word [TSS1_BASE + 0x58], SEL_DATA0
  mov word [TSS1_BASE + 0x5c], SEL_DATA0
  SETDESC SEL_TSS1, TSS1_BASE, 0x67, 0x0089
  ; TSS2: 16-bit TSS, 16-bit code based at the ROM.
  mov edi, TSS2_BASE
  mov ecx, 0x2c / 4
  xor eax, eax
  rep stosd
  mov word [TSS2_BASE + 0x0e], SEGOFS(task16)   ; IP
  mov word [TSS2_BASE + 0x10], 2                ; FLAGS
  mov word [TSS2_BASE + 0x12], 0x1616           ; AX
  mov word [TSS2_BASE + 0x1a], 0x7c00           ; SP
  mov word [TSS2_BASE + 0x22], SEL_DATA16       ; ES
  mov word [TSS2_BASE + 0x24], SEL_CODE16       ; CS
  mov word [TSS2_BASE + 0x26], SEL_DATA16       ; SS
  mov word [TSS2_BASE + 0x28], SEL_DATA16       ; DS
  SETDESC SEL_TSS2, TSS2_BASE, 0x2b, 0x0081
  SETGATE 0x60, SEL_TSS1, 0, 0x85

  ; ---- JMP: the old task is saved and no longer busy ----
  mov eax, 0xaaaa
  mov ebx, 0xbbbb
  jmp SEL_TSS1:0
after_jmp:
  REPORT 'jeax', eax                   ; restored from TSS0 when task1 jumped back
  mov eax, [TSS0_BASE + 0x20]
  sub eax, after_jmp
  REPORT 'jeip', eax                   ; EIP saved by the JMP: the next instruction
  str eax
  and eax, 0xffff
  REPORT 'jtr', eax

  ; ---- CALL: nested task ----
  clts
  call SEL_TSS1:0
after_call:
  movzx eax, byte [GDT_BASE + SEL_TSS0 + 5]
  REPORT 'rb0', eax                    ; still busy: it was never left by JMP or IRET
  movzx eax, byte [GDT_BASE + SEL_TSS1 + 5]
  REPORT 'rb1', eax                    ; IRET freed the nested task
  pushfd
  pop eax
  and eax, 0x4000
  REPORT 'rnt', eax
  mov eax, cr0
  and eax, 8
  REPORT 'ts', eax

  ; ---- INT n through a task gate ----
  mov ecx, 0
  int 0x60
  REPORT 'ient', [TEST_VARS]           ; task1 saw NT and the back link
  movzx eax, byte [GDT_BASE + SEL_TSS1 + 5]
  REPORT 'ib1', eax

  ; ---- 16-bit TSS ----
  call SEL_TSS2:0
  movzx eax, word [TSS2_BASE + 0x0e]
  sub eax, SEGOFS(task16.after_iret)
  REPORT 'i16', eax                    ; IP saved in the 16-bit TSS by its IRET
  movzx eax, byte [GDT_BASE + SEL_TSS2 + 5]
  REPORT 'b16', eax
  EXIT 0

task1:
  ; Entered by JMP.
  REPORT 'teax', eax
  REPORT 'tebx', ebx
  str eax
  and eax, 0xffff
  REPORT 'ttr', eax
  movzx eax, byte [GDT_BASE + SEL_TSS0 + 5]
  REPORT 'jb0', eax                    ; available (0x89)
  movzx eax, byte [GDT_BASE + SEL_TSS1 + 5]
  REPORT 'jb1', eax                    ; busy (0x8B)
  pushfd
  pop eax
  and eax, 0x4000
  REPORT 'jnt', eax
  jmp SEL_TSS0:0
  ; Entered by CALL.
  pushfd
  pop eax
  and eax, 0x4000
  REPORT 'cnt', eax
  movzx eax, word [TSS1_BASE]
  REPORT 'clnk', eax
  movzx eax, byte [GDT_BASE + SEL_TSS0 + 5]
  REPORT 'cb0', eax
  movzx eax, byte [GDT_BASE + SEL_TSS1 + 5]
  REPORT 'cb1', eax
  FAULT 'cbsy', call SEL_TSS0:0        ; the caller is busy
  iretd
  ; Entered through the task gate.
  pushfd
  pop eax
  and eax, 0x4000
  movzx ebx, word [TSS1_BASE]
  or eax, ebx
  mov [TEST_VARS], eax                 ; NT | back link
  iretd

bits 16
task16:
  mov bx, ax
  REPORT 'ax16', ebx
  str ax
  REPORT 'tr16', eax
  mov ax, SEL_DATA0
  mov es, ax
  mov ax, [es:dword TSS2_BASE]
  REPORT 'l16', eax
  iret
.after_iret:
  EXIT 0xe2

%include "tail.inc"
