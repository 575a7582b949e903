; A triple fault (SDM vol. 3, 6.15 "Interrupt 8", exception class "abort"): with an empty IDT,
; INT3 raises #GP, delivering it raises #GP again (#DF), and delivering the #DF faults once
; more: the processor shuts down, which the machine turns into a reset.
%include "sys.inc"
org ROM_BASE
%include "boot32.inc"

bits 32
main:
  REPORT 'pre', 1
  lidt [empty_idt]
  int3
  REPORT 'post', 1
  EXIT 0

empty_idt:
  dw 0
  dd 0

%include "tail.inc"
