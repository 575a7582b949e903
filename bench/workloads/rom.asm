; WebHVM side: a 64 KiB ROM mapped at 0xF0000 and 0xFFFF0000 (the bare machine of
; bench/webhvm.ts). From the reset vector it switches to flat protected mode and jumps to the
; workload, which the harness has already written into RAM at WORKLOAD_BASE.
bits 16
org 0
LINEAR_BASE equ 0xf0000

start:
%include "protected-mode.inc"

times 0xfff0 - ($ - $$) db 0
  jmp 0xf000:start
times 0x10000 - ($ - $$) db 0
