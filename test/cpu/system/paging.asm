; 32-bit paging (SDM vol. 3, chapter 4): 4 KiB pages through a page table and 4 MiB pages with
; CR4.PSE, accessed and dirty bits, #PF error codes (P, W/R, U/S, RSVD) and CR2, CR0.WP,
; global pages surviving a CR3 load until INVLPG, instruction fetches from absent pages, a
; page-crossing write faulting on the second page without writing the first, and implicit
; supervisor accesses (descriptor tables) from ring 3.
%include "sys.inc"
org ROM_BASE
%include "boot32.inc"

PD   equ PAGING_BASE
PT0  equ PAGING_BASE + 0x1000
PT1  equ PAGING_BASE + 0x2000      ; linear 0x400000-0x7FFFFF
SEL_LDT equ 0x40

%macro PTE1 2 ; page index in PT1, entry
  mov dword [PT1 + (%1) * 4], %2
%endmacro

bits 32
main:
  call build_identity_paging
  mov dword [PD + 1 * 4], PT1 | 7
  PTE1 0, 0x300000 | 7                ; 0x400000: user read/write
  PTE1 1, 0                           ; 0x401000: not present
  PTE1 2, 0x302000 | 5                ; 0x402000: user read-only
  PTE1 3, 0x303000 | 3                ; 0x403000: supervisor read/write
  PTE1 4, 0x304000 | 1                ; 0x404000: supervisor read-only
  PTE1 5, 0x305000 | 0x107            ; 0x405000: user read/write, global
  mov dword [PD + 2 * 4], 0x00000087  ; 0x800000: 4 MiB page at physical 0
  mov dword [PD + 3 * 4], 0x00200087  ; 0xC00000: 4 MiB page with reserved bit 21 set
  mov dword [0x300000], 'map1'
  mov word [0x300ffe], 0xaaaa
  mov dword [0x305000], 'G1  '
  mov dword [0x306000], 'G2  '
  mov eax, PD
  mov cr3, eax
  mov eax, cr4
  or eax, 0x10                        ; PSE
  mov cr4, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax

  ; ---- Translation, accessed and dirty bits ----
  mov eax, [0x400000]
  REPORT 'map1', eax
  mov eax, [PT1]
  and eax, 0x60
  REPORT 'ad1', eax                   ; read: A set, D clear
  mov eax, [PD + 4]
  and eax, 0x60
  REPORT 'pda', eax                   ; the PDE's A bit too
  mov dword [0x400004], 1
  mov eax, [PT1]
  and eax, 0x60
  REPORT 'ad2', eax                   ; write: D set
  mov eax, [0x800000 + 0x300000]
  REPORT 'pse', eax                   ; 4 MiB page
  mov eax, [PD + 8]
  and eax, 0x60
  REPORT 'psa', eax
  mov dword [0x800000 + 0x300008], 2
  mov eax, [PD + 8]
  and eax, 0x60
  REPORT 'psd', eax

  ; ---- #PF error codes at CPL 0 ----
  FAULT 'pfr', mov eax, [0x401234]     ; not present, read
  REPORT 'cr2r', [EXC_CR2]
  FAULT 'pfw', mov dword [0x401234], 0 ; not present, write
  FAULT 'wp0', mov dword [0x402000], 0 ; CR0.WP=0: the supervisor may write read-only pages
  FAULT 'rsv', mov eax, [0xc00000]     ; reserved bit in a 4 MiB PDE
  REPORT 'cr2v', [EXC_CR2]
  ; Fetch from an absent page: the CALL completes, the fetch at its target faults.
  mov dword [RESUME], .fetch_back
  call 0x401000
.fetch_back:
  add esp, 4
  REPORT 'fvec', [EXC_VEC]
  REPORT 'ferr', [EXC_ERR]             ; no I/D bit without PAE + NXE
  REPORT 'feip', [EXC_EIP]
  REPORT 'fcr2', [EXC_CR2]
  ; A dword write across 0x401000: the second page faults and the first is left unwritten.
  FAULT 'xpg', mov dword [0x400ffe], 0x11223344
  REPORT 'xcr2', [EXC_CR2]
  movzx eax, word [0x300ffe]
  REPORT 'xmem', eax
  ; The same for a read-modify-write: the destination is probed for writing before the read.
  mov eax, 0x01010101
  FAULT 'xrmw', add dword [0x400ffe], eax
  movzx eax, word [0x300ffe]
  REPORT 'xrmm', eax
  ; REP MOVSB runs into the absent page: the iterations done so far stay done, and the
  ; registers say where to restart (ECX, ESI, EDI of the faulting iteration).
  mov dword [0x400100], 0x04030201
  mov dword [0x400104], 0x08070605
  mov esi, 0x400100
  mov edi, 0x400ffc
  mov ecx, 8
  cld
  FAULT 'xrep', rep movsb
  REPORT 'xrcx', ecx
  REPORT 'xrdi', edi
  sub esi, 0x400100
  REPORT 'xrsi', esi
  REPORT 'xrm', [0x300ffc]
  mov word [0x300ffe], 0xaaaa
  ; CR0.WP=1: supervisor writes honour read-only pages.
  mov eax, cr0
  or eax, 0x10000
  mov cr0, eax
  FAULT 'wp1', mov dword [0x402000], 0
  FAULT 'wp2', mov dword [0x404000], 0

  ; ---- CPL 3 ----
  SETDESC SEL_LDT, LDT_BASE, 0xff, 0x0082
  SETDESC 0x04, 0, 0xfffff, 0xc0f3
  mov ax, SEL_LDT
  lldt ax
  mov dword [PT0 + 3 * 4], 0          ; the LDT page becomes absent
  mov eax, cr3
  mov cr3, eax
  TO_RING3
  FAULT 'u1', mov eax, [0x403000]      ; supervisor page: P | U
  FAULT 'u2', mov dword [0x402000], 0  ; read-only user page: P | W | U
  FAULT 'u3', mov dword [0x404000], 0
  FAULT 'u4', mov eax, [0x401000]      ; absent: U
  FAULT 'u5', mov eax, [0x402000]      ; user read-only: reading is fine
  ; A PUSH whose dword crosses into the absent page: #PF, ESP and memory unchanged.
  mov ebx, esp
  mov esp, 0x401002
  mov dword [RESUME], .push_back
  push dword 0x55667788
  mov dword [RESUME], 0
.push_back:
  mov ecx, esp
  mov esp, ebx
  REPORT 'xpsv', [EXC_VEC]
  REPORT 'xpse', [EXC_ERR]
  REPORT 'xpsp', ecx
  REPORT 'xpc2', [EXC_CR2]
  movzx eax, word [0x400ffe]
  REPORT 'xpsm', eax
  ; The LDT read for a segment load is a supervisor access, whatever the CPL.
  mov ax, 0x07
  FAULT 'ldt', mov ds, ax
  REPORT 'lcr2', [EXC_CR2]
  FAULT 'u6', mov eax, [0x403000]      ; still P | U after that fault
  TO_RING0
  mov dword [PT0 + 3 * 4], 0x3000 | 7

  ; ---- Global pages: CR3 loads keep them, INVLPG drops them ----
  mov eax, cr3
  mov cr3, eax
  mov eax, cr4
  or eax, 0x80                        ; PGE
  mov cr4, eax
  mov eax, [0x405000]                 ; fills the TLB: global
  mov eax, [0x400000]                 ; not global
  PTE1 5, 0x306000 | 0x107
  PTE1 0, 0x306000 | 7
  mov eax, cr3
  mov cr3, eax
  mov eax, [0x405000]
  REPORT 'glb1', eax                  ; stale: the global translation survived
  mov eax, [0x400000]
  REPORT 'ngl1', eax                  ; reloaded
  invlpg [0x405000]
  mov eax, [0x405000]
  REPORT 'glb2', eax
  EXIT 0

%include "tail.inc"
