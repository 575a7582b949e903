; String copy loop: REP MOVSD over 64 KiB (aligned) and REP MOVSB over 4093 bytes at odd
; addresses, between two buffers, with paging off.
; Instruction count: each REP iteration counts as one instruction (as WebHVM's counter does);
; body: OUTER * (16384 + 4093 + 8) + 1. Bytes copied per phase: OUTER * (65536 + 4093).
%include "workload.inc"

%ifndef OUTER
%define OUTER 4000
%endif
SOURCE equ 0x200000
DEST equ 0x300000

  mov edi, SOURCE
  mov ecx, 16384 + 1024
  mov eax, 0x01020304
.fill:
  stosd
  add eax, 0x9e3779b9
  dec ecx
  jnz .fill
  mov edi, REPEATS

.repeat:
  push edi
  phase_start
  mov ebp, OUTER
.outer:
  mov esi, SOURCE
  mov edi, DEST
  mov ecx, 16384
  rep movsd
  mov esi, SOURCE + 1
  mov edi, DEST + 65536 + 3
  mov ecx, 4093
  rep movsb
  dec ebp
  jnz .outer
  phase_end
  pop edi
  dec edi
  jnz .repeat

  ; Checksum: sum of the destination dwords.
  mov esi, DEST
  mov ecx, (65536 + 4096) / 4
  xor eax, eax
.sum:
  add eax, [esi]
  add esi, 4
  dec ecx
  jnz .sum
  finish
