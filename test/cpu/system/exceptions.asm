; Exception classes and delivery (SDM vol. 3, 6.5 "Exception Classifications", 6.13 "Error
; Code", 6.15 "Interrupt 8 - Double Fault"): faults restart with the state untouched, traps
; continue after the instruction, error codes with the EXT and IDT bits, benign and
; contributory pairs, #DF from two contributory exceptions, and #DF from a page fault while
; delivering a page fault, taken through a task gate onto a good stack.
%include "sys.inc"
org ROM_BASE
%include "boot32.inc"

SEL_LIM  equ 0x40   ; data, limit 0xFFF
SEL_TSS1 equ 0x48   ; the double-fault task
bounds: dd 10, 20

bits 32
main:
  SETDESC SEL_LIM, 0, 0xfff, 0x4093
  mov ax, SEL_LIM
  mov fs, ax

  ; ---- Faults leave the state as it was ----
  mov ebx, esp
  FAULT 'pop', pop dword [fs:0x1000]   ; ESP is not incremented
  mov eax, esp
  sub eax, ebx
  REPORT 'popp', eax
  FAULT 'push', push dword [fs:0x1000]
  mov eax, esp
  sub eax, ebx
  REPORT 'pshp', eax
  xor eax, eax                         ; ZF, PF
  stc                                  ; CF
  FAULT 'add', add [fs:0xffe], eax     ; crosses the limit: no flag changes
  pushfd
  pop eax
  and eax, 0x8d5
  REPORT 'addf', eax
  mov eax, 0x1234
  mov edx, 0x5678
  xor ecx, ecx
  FAULT 'de', div ecx
  REPORT 'deax', eax
  REPORT 'dedx', edx
  mov eax, 30
  FAULT 'br', bound eax, [bounds]
  mov dword [RESUME], .ud_back
.ud_insn:
  ud2
.ud_back:
  REPORT 'udv', [EXC_VEC]
  mov eax, [EXC_EIP]
  sub eax, .ud_insn
  REPORT 'udip', eax                   ; a fault: EIP of the instruction

  ; ---- Traps: EIP of the next instruction ----
  mov dword [RESUME], .i3_back
  int3
.i3_back:
  REPORT 'i3v', [EXC_VEC]
  mov eax, [EXC_EIP]
  sub eax, .i3_back
  REPORT 'i3ip', eax
  mov al, 0x7f
  add al, 1                            ; OF
  mov dword [RESUME], .into_back
  into
.into_back:
  REPORT 'oev', [EXC_VEC]
  mov eax, [EXC_EIP]
  sub eax, .into_back
  REPORT 'oeip', eax
  mov dword [RESUME], .i1_back
  db 0xf1                              ; INT1 (ICEBP)
.i1_back:
  REPORT 'i1v', [EXC_VEC]
  mov eax, [EXC_EIP]
  sub eax, .i1_back
  REPORT 'i1ip', eax

  ; ---- Error codes: EXT for events the program did not cause with INT n ----
  SETGATE 0x41, SEL_CODE0, exc_stub0, 0x0e       ; not present
  SETGATE 0x42, SEL_CODE0, exc_stub0, 0x0e
  SETGATE 0x43, 0x1000, exc_stub0, 0x8e          ; selector beyond the GDT
  FAULT 'npn', int 0x41                ; #NP(vector * 8 + IDT)
  FAULT 'intx', int 0x43               ; #GP(selector)
  mov dword [EXC_VEC], 0xff
  mov dword [RESUME], .ext_back
  sti
  INTR_AFTER 0, 0x42
  nop
  nop
.ext_back:
  cli
  REPORT 'extv', [EXC_VEC]
  REPORT 'exte', [EXC_ERR]             ; vector * 8 + IDT + EXT
  SETGATE 6, 0x1000, exc_stub6, 0x8e
  FAULT 'udx', ud2                     ; #GP(selector + EXT) while delivering #UD
  SETGATE 6, SEL_CODE0, exc_stub6, 0x0e
  FAULT 'npud', ud2                    ; benign then contributory: #NP, serially
  SETGATE 6, SEL_CODE0, exc_stub6, 0x8e

  ; ---- #DF: a contributory exception while delivering another ----
  SETGATE 13, SEL_CODE0, exc_stub13, 0x0e        ; #GP's gate not present: #NP
  mov ax, 0x1000
  FAULT 'df', mov ds, ax
  SETGATE 13, SEL_CODE0, exc_stub13, 0x8e
  REPORT 'dsok', 1

  ; ---- #PF while delivering #PF: #DF through a task gate ----
  call build_identity_paging
  mov dword [PAGING_BASE + 0x1000 + 0x50 * 4], 0 ; page 0x50000 absent
  mov eax, PAGING_BASE
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  ; TSS1: a flat ring-0 task running df_task on its own stack.
  mov edi, TSS1_BASE
  mov ecx, 0x68 / 4
  xor eax, eax
  rep stosd
  mov dword [TSS1_BASE + 0x1c], PAGING_BASE
  mov dword [TSS1_BASE + 0x20], df_task
  mov dword [TSS1_BASE + 0x24], 2
  mov dword [TSS1_BASE + 0x38], STACK_ALT_TOP
  mov word [TSS1_BASE + 0x48], SEL_DATA0
  mov word [TSS1_BASE + 0x4c], SEL_CODE0
  mov word [TSS1_BASE + 0x50], SEL_DATA0
  mov word [TSS1_BASE + 0x54], SEL_DATA0
  mov word [TSS1_BASE + 0x58], SEL_DATA0
  mov word [TSS1_BASE + 0x5c], SEL_DATA0
  SETDESC SEL_TSS1, TSS1_BASE, 0x67, 0x0089
  SETGATE 8, SEL_TSS1, 0, 0x85
  mov esp, 0x51000                     ; the next push lands on the absent page
.pf_insn:
  mov eax, [0x401000]                  ; absent: #PF, whose frame push faults again
  EXIT 0xe1

df_task:
  pop eax
  REPORT 'dfer', eax                   ; error code 0 on the new task's stack
  mov eax, esp
  REPORT 'dfsp', eax
  mov eax, cr2
  REPORT 'dfc2', eax                   ; the second page fault's address
  str eax
  and eax, 0xffff
  REPORT 'dftr', eax
  movzx eax, word [TSS1_BASE]
  REPORT 'dfbl', eax                   ; back link to the interrupted task
  pushfd
  pop eax
  and eax, 0x4000
  REPORT 'dfnt', eax
  mov eax, cr0
  and eax, 8
  REPORT 'dfts', eax                   ; CR0.TS set by the task switch
  mov eax, [TSS0_BASE + 0x20]
  sub eax, main.pf_insn
  REPORT 'dfip', eax                   ; the interrupted task's saved EIP: the faulting MOV
  REPORT 'dfos', [TSS0_BASE + 0x38]    ; and its ESP
  movzx eax, byte [GDT_BASE + SEL_TSS0 + 5]
  REPORT 'bsy0', eax                   ; both TSSs busy (nested)
  movzx eax, byte [GDT_BASE + SEL_TSS1 + 5]
  REPORT 'bsy1', eax
  EXIT 0

%include "tail.inc"
