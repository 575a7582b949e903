; Reading memory anywhere below 4 GiB from real mode ("unreal mode"): FS gets a flat 4 GiB data
; descriptor in protected mode, and keeps its cached limit after the switch back to real mode,
; so [fs:esi] addresses any physical byte. The ACPI tables sit at the top of RAM, the local APIC
; at FEE00000 and the I/O APIC at FEC00000, all out of reach of plain real mode.
;
; The report is built with interrupts off: a BIOS interrupt handler that saved and reloaded FS
; would be harmless on hardware (real-mode loads keep the limit) but there is no need to risk it.

flat_gdt:
    dq 0
    ; Selector 8: base 0, limit 4 GiB (granularity 4 KiB), data, writable, present.
    dw 0xffff, 0x0000
    db 0x00, 0x92, 0xcf, 0x00
flat_gdt_end:

flat_gdt_descriptor:
    dw flat_gdt_end - flat_gdt - 1
    dd flat_gdt

; Call with interrupts disabled. Leaves FS = 0 with a 4 GiB limit.
enter_unreal:
    push eax
    push bx
    lgdt [flat_gdt_descriptor]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    mov bx, 8
    mov fs, bx
    and al, 0xfe
    mov cr0, eax
    xor bx, bx
    mov fs, bx                  ; base 0 again; the 4 GiB limit stays
    pop bx
    pop eax
    ret

; Gate A20 open, so odd megabytes are not aliased onto even ones: ask the BIOS, then make sure
; with the PS/2 system control port A (0x92, bit 1; bit 0 would reset the machine).
enable_a20:
    push ax
    mov ax, 0x2401
    int 0x15
    in al, 0x92
    test al, 2
    jnz .done
    or al, 2
    and al, 0xfe
    out 0x92, al
.done:
    pop ax
    ret

; ESI = linear address, ECX = length. Returns ZF set when the bytes sum to 0 (mod 256).
flat_checksum:
    push eax
    push ecx
    push esi
    xor al, al
    jecxz .done
.add:
    add al, [fs:esi]
    inc esi
    dec ecx
    jnz .add
.done:
    test al, al
    pop esi
    pop ecx
    pop eax
    ret

; Scans 16-byte boundaries of [ESI, ESI+ECX) for a structure that starts with the signature
; EAX (and EDI in its second dword, unless EDI is 0) and whose first EDX bytes sum to 0.
; Returns CF clear and ESI = its address, or CF set.
flat_find_signature:
    push ecx
    push ebx
    mov ebx, esi
    add ebx, ecx                ; end of the area
.try:
    cmp esi, ebx
    jae .none
    cmp [fs:esi], eax
    jne .next
    test edi, edi
    jz .checksum
    cmp [fs:esi + 4], edi
    jne .next
.checksum:
    push ecx
    mov ecx, edx
    call flat_checksum
    pop ecx
    je .found
.next:
    add esi, 16
    jmp .try
.none:
    stc
    jmp .done
.found:
    clc
.done:
    pop ebx
    pop ecx
    ret

; The search areas the ACPI and MP specifications give: the first KiB of the extended BIOS data
; area (its segment is the word at 40:0E), then (callers decide) the BIOS area E0000-FFFFF or
; F0000-FFFFF, and for the MP table the last KiB of base memory.
; Returns ESI = linear address of the EBDA, or 0 when the pointer is unset.
ebda_address:
    movzx esi, word [fs:0x40e]
    shl esi, 4
    ret
