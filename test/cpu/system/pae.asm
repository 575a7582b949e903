; PAE paging (SDM vol. 3, 4.4 and 4.7) with 2 MiB pages and execute-disable: CPUID gating
; (CPUID.1:EDX.PAE, CPUID.80000001H:EDX.NX), IA32_EFER.NXE, the XD bit as a reserved bit
; while NXE is 0, reserved physical-address bits, and the I/D bit of the error code.
; Without PAE in CPUID, setting CR4.PAE and touching IA32_EFER raise #GP.
%include "sys.inc"
org ROM_BASE
%include "boot32.inc"

PDPT equ 0x110000
PD0  equ 0x111000
PT0  equ 0x112000

bits 32
main:
  mov eax, 1
  cpuid
  and edx, 1 << 6
  REPORT 'cpae', edx
  mov eax, 0x80000000
  cpuid
  REPORT 'cmax', eax
  mov eax, 0x80000001
  cpuid
  and edx, 1 << 20
  REPORT 'cpnx', edx
  test edx, edx
  jnz have_pae
  mov eax, cr4
  or eax, 0x20
  FAULT 'pae', mov cr4, eax
  mov ecx, 0xc0000080
  FAULT 'efer', rdmsr
  EXIT 0

have_pae:
  ; PDPTE 0 -> PD0. PD0[0] -> PT0 (identity 4 KiB pages for 0-2 MiB).
  mov edi, PDPT
  mov ecx, (0x113000 - PDPT) / 4
  xor eax, eax
  rep stosd
  mov dword [PDPT], PD0 | 1
  mov dword [PD0], PT0 | 7
  mov edi, PT0
  mov eax, 7
.pte:
  mov [edi], eax
  mov dword [edi + 4], 0
  add edi, 8
  add eax, 0x1000
  cmp edi, PT0 + 0x1000
  jb .pte
  mov dword [PD0 + 1 * 8], 0x200000 | 0x87      ; 0x200000: 2 MiB page (identity)
  mov dword [PD0 + 2 * 8], 0x000000 | 0x87      ; 0x400000: 2 MiB page at 0, execute-disable
  mov dword [PD0 + 2 * 8 + 4], 0x80000000
  mov dword [PD0 + 3 * 8], 0x000000 | 0x87      ; 0x600000: physical address bit 40 set
  mov dword [PD0 + 3 * 8 + 4], 0x00000100
  mov dword [PD0 + 4 * 8], 0x000000 | 0x87 | 0x2000 ; 0x800000: bit 13 of a 2 MiB PDE
  mov dword [0x500], 0x90c3c3c3                 ; RET, at physical 0x500
  mov dword [0x200100], 'big '
  mov eax, PDPT
  mov cr3, eax
  mov eax, cr4
  or eax, 0x20
  mov cr4, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax

  mov eax, [0x200100]
  REPORT 'big', eax
  mov eax, [PD0 + 8]
  and eax, 0x60
  REPORT 'bigA', eax
  ; NXE = 0: the XD bit is reserved.
  FAULT 'xd0', mov eax, [0x400500]
  FAULT 'rsv', mov eax, [0x600000]      ; bit 40 >= MAXPHYADDR (36)
  FAULT 'r13', mov eax, [0x800000]      ; bits 20:13 of a 2 MiB PDE are reserved
  mov ecx, 0xc0000080
  rdmsr
  REPORT 'efr0', eax
  or eax, 0x800
  wrmsr
  rdmsr
  REPORT 'efr1', eax
  ; NXE = 1: reads are fine, fetches fault with I/D.
  mov eax, [0x400500]
  REPORT 'xrd', eax
  mov dword [RESUME], .xd_back
  call 0x400500
.xd_back:
  add esp, 4
  REPORT 'xvec', [EXC_VEC]
  REPORT 'xerr', [EXC_ERR]                ; P | I/D
  REPORT 'xcr2', [EXC_CR2]
  call 0x500                               ; the same bytes through an executable mapping
  REPORT 'exok', 1
  mov dword [RESUME], .np_back
  call 0xa00000                            ; PDE 5 not present: fetch fault, I/D only
.np_back:
  add esp, 4
  REPORT 'nerr', [EXC_ERR]
  FAULT 'rsv1', mov eax, [0x600000]     ; still reserved: P | RSVD
  EXIT 0

%include "tail.inc"
