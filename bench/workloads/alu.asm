; ALU/memory loop: loads, stores, add/xor/rotate/lea on registers, a counted inner loop over a
; 16 KiB buffer (so data stays in the host's cache and the TLB always hits).
; Body: OUTER * (4096 * 9 + 4) + 1 instructions.
%include "workload.inc"

%ifndef OUTER
%define OUTER 2000
%endif
BUFFER equ 0x200000

  ; Setup (not measured): fill the buffer with a pattern.
  mov edi, BUFFER
  mov ecx, 4096
  mov eax, 0x12345678
.fill:
  stosd
  add eax, 0x9e3779b9
  dec ecx
  jnz .fill
  xor ebx, ebx
  xor edx, edx                ; the phases start with EDX = 0x3F8 (the marker port)
  mov edi, REPEATS

.repeat:
  push edi
  phase_start
  mov ebp, OUTER
.outer:
  mov esi, BUFFER
  mov ecx, 4096
.inner:
  mov eax, [esi]
  add ebx, eax
  xor edx, ebx
  rol edx, 3
  lea edi, [eax + edx * 2]
  mov [esi], edi
  add esi, 4
  dec ecx
  jnz .inner
  dec ebp
  jnz .outer
  phase_end
  pop edi
  dec edi
  jnz .repeat

  mov eax, ebx
  finish
