; Paging-heavy loop: 2-level paging with 4 KiB pages identity-mapping 24 MiB; each round
; reloads CR3 (flushing every TLB entry: no global pages), touches 4096 pages (16 MiB) once
; each, so every touch is a TLB miss and a page walk, then touches them again with an INVLPG
; of each page just before its access (a miss per page again).
; Body: OUTER * (4096 * 9 + 8) + 1 instructions; 8192 page walks per round.
%include "workload.inc"

%ifndef OUTER
%define OUTER 1000
%endif
PAGE_DIRECTORY equ 0x100000
PAGE_TABLES equ 0x101000      ; 6 tables: 0-24 MiB
REGION equ 0x800000           ; 8-24 MiB
PAGES equ 4096

  ; Setup (not measured): page directory and tables, then paging on.
  mov edi, PAGE_DIRECTORY
  mov ecx, 1024
  xor eax, eax
  rep stosd
  mov edi, PAGE_DIRECTORY
  mov eax, PAGE_TABLES | 3
  mov ecx, 6
.pde:
  stosd
  add eax, 0x1000
  dec ecx
  jnz .pde
  mov edi, PAGE_TABLES
  mov eax, 3                  ; present, writable, supervisor
  mov ecx, 6 * 1024
.pte:
  stosd
  add eax, 0x1000
  dec ecx
  jnz .pte
  mov eax, PAGE_DIRECTORY
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  mov edi, REPEATS

.repeat:
  push edi
  phase_start
  mov ebp, OUTER
.round:
  mov eax, PAGE_DIRECTORY
  mov cr3, eax
  mov esi, REGION
  mov ecx, PAGES
.touch:
  add [esi], ecx
  add esi, 4096
  dec ecx
  jnz .touch
  mov esi, REGION
  mov ecx, PAGES
.invalidate:
  invlpg [esi]
  add [esi], ecx
  add esi, 4096
  dec ecx
  jnz .invalidate
  dec ebp
  jnz .round
  phase_end
  pop edi
  dec edi
  jnz .repeat

  ; Checksum: sum of the first dword of every touched page.
  mov esi, REGION
  mov ecx, PAGES
  xor eax, eax
.sum:
  add eax, [esi]
  add esi, 4096
  dec ecx
  jnz .sum
  finish
