; The MP table (Intel MultiProcessor Specification 1.4, chapter 4): the 16-byte floating pointer
; "_MP_" in the first KiB of the EBDA, the last KiB of base memory or F0000-FFFFF, and the
; configuration table "PCMP" it points at, with one entry per processor, bus, I/O APIC and
; interrupt assignment. A non-ACPI OS (and Windows' MPS HALs) learns the APICs from here.

MAX_MP_BUSES    equ 32

mp_fp_addr      dd 0            ; 0: no MP table
mp_cfg_addr     dd 0
mp_processors   dw 0
mp_cpus_enabled dw 0
mp_buses        dw 0
mp_ioapics      dw 0
mp_ioapic_id    dd 0            ; the first I/O APIC
mp_ioapic_base  dd 0
mp_io_ints      dw 0
mp_local_ints   dw 0
mp_column       db 0            ; I/O interrupt entries are printed four to a line
mp_bus_types    times MAX_MP_BUSES * 6 db 0   ; bus type strings by bus id ("PCI   ", "ISA   ")

; Sets mp_fp_addr and mp_cfg_addr.
mp_find:
    pushad
    mov eax, '_MP_'
    xor edi, edi
    mov edx, 16
    call ebda_address
    test esi, esi
    jz .base_memory
    mov ecx, 1024
    call flat_find_signature
    jnc .found
.base_memory:
    movzx esi, word [fs:0x413]  ; base memory size in KiB
    shl esi, 10
    sub esi, 1024
    mov ecx, 1024
    call flat_find_signature
    jnc .found
    mov esi, 0xf0000
    mov ecx, 0x10000
    call flat_find_signature
    jc .done
.found:
    mov [mp_fp_addr], esi
    mov eax, [fs:esi + 4]
    mov [mp_cfg_addr], eax
.done:
    popad
    ret

; EAX = bus id: CF clear and DI = its 6-character type string, or CF set for an unknown bus.
mp_bus_type:
    cmp eax, MAX_MP_BUSES
    jae .unknown
    imul di, ax, 6
    add di, mp_bus_types
    cmp byte [di], 0
    je .unknown
    clc
    ret
.unknown:
    stc
    ret

; ESI = an interrupt entry (I/O or local): its source, "ISA 4" (bus IRQ 4) or "PCI 01.A".
mp_print_source:
    pushad
    movzx eax, byte [fs:esi + 4]
    call mp_bus_type
    jc .unknown_bus
    cmp dword [di], 'PCI '
    je .pci
    mov cx, 6                   ; the bus type up to its first space: "ISA", "EISA"
.name:
    mov al, [di]
    cmp al, ' '
    je .named
    call putc
    inc di
    loop .name
.named:
    say " "
    movzx eax, byte [fs:esi + 5]
    jmp .irq
.pci:
    ; A PCI source IRQ is (device << 2) | INTx pin.
    say "PCI "
    movzx eax, byte [fs:esi + 5]
    shr eax, 2
    mov cl, 2
    call print_hex
    say "."
    movzx eax, byte [fs:esi + 5]
    and al, 3
    add al, 'A'
    call putc
    jmp .done
.unknown_bus:
    say "bus "
    call print_dec
    say " "
    movzx eax, byte [fs:esi + 5]
.irq:
    call print_dec
.done:
    popad
    ret

; AX = MPS INTI flags as a short suffix: nothing when both trigger and polarity are as the bus
; says, else " t/p" with t = e(dge)/l(evel)/- and p = h(igh)/l(ow)/-.
print_inti_code:
    push ax
    push bx
    test al, 0xf
    jz .done
    push ax
    mov al, ' '
    call putc
    pop ax
    movzx bx, al
    shr bx, 2
    and bx, 3
    push ax
    mov al, [inti_trigger_codes + bx]
    call putc
    mov al, '/'
    call putc
    pop ax
    movzx bx, al
    and bx, 3
    mov al, [inti_polarity_codes + bx]
    call putc
.done:
    pop bx
    pop ax
    ret

inti_trigger_codes  db '-e?l'
inti_polarity_codes db '-h?l'

; ESI = an interrupt entry: its type when it is not a plain vectored interrupt.
mp_print_interrupt_type:
    push ax
    mov al, [fs:esi + 1]
    cmp al, 1
    jne .smi
    say "NMI "
.smi:
    cmp al, 2
    jne .extint
    say "SMI "
.extint:
    cmp al, 3
    jne .done
    say "ExtINT "
.done:
    pop ax
    ret

; ESI = an I/O interrupt entry: one cell of a four-column list, "ISA 5 -> 5 l/h".
mp_print_io_interrupt:
    pushad
    mov al, [mp_column]
    mov ah, 19
    mul ah
    add al, 2
    call tab_to
    inc byte [mp_column]
    and byte [mp_column], 3
    call mp_print_interrupt_type
    call mp_print_source
    say " -> "
    movzx eax, byte [fs:esi + 6]
    cmp eax, [mp_ioapic_id]     ; the I/O APIC id only when there is more than one to name
    je .pin
    call print_dec
    say ":"
.pin:
    movzx eax, byte [fs:esi + 7]
    call print_dec
    mov ax, [fs:esi + 2]
    call print_inti_code
    cmp byte [mp_column], 0
    jne .done
    say 10
.done:
    popad
    ret

; ESI = a local interrupt entry, on a line of its own.
mp_print_local_interrupt:
    pushad
    say "  "
    call mp_print_interrupt_type
    call mp_print_source
    say " -> local APIC "
    cmp byte [fs:esi + 6], 0xff
    jne .one_cpu
    say "all"
    jmp .lint
.one_cpu:
    movzx eax, byte [fs:esi + 6]
    call print_dec
.lint:
    say ", LINT"
    movzx eax, byte [fs:esi + 7]
    call print_dec
    mov ax, [fs:esi + 2]
    call print_inti_code
    say 10
    popad
    ret

mp_report:
    pushad
    call mp_find
    call page_break
    say "MP table (MultiProcessor Specification)", 10
    mov esi, [mp_fp_addr]
    test esi, esi
    jnz .pointer
    say "  No _MP_ floating pointer: the firmware describes no APICs this way.", 10
    say "  Windows Setup then chooses between the ACPI HALs and the standard PC HAL.", 10
    jmp .done
.pointer:
    say "  floating pointer at "
    mov eax, esi
    mov cl, 8
    call print_hex
    say ": spec 1."
    movzx eax, byte [fs:esi + 9]
    call print_dec
    test byte [fs:esi + 12], 0x80
    jz .virtual_wire
    say ", IMCR present (PIC mode)"
    jmp .default
.virtual_wire:
    say ", no IMCR (virtual wire mode)"
.default:
    cmp byte [fs:esi + 11], 0
    je .table
    say 10, "  default configuration "
    movzx eax, byte [fs:esi + 11]
    call print_dec
    say ": no configuration table", 10
    jmp .done
.table:
    say 10
    mov esi, [mp_cfg_addr]
    cmp dword [fs:esi], 'PCMP'
    je .header
    say "  no configuration table at "
    mov eax, esi
    mov cl, 8
    call print_hex
    say 10
    mov dword [mp_cfg_addr], 0
    jmp .done
.header:
    say "  configuration table at "
    mov eax, esi
    mov cl, 8
    call print_hex
    say ', OEM "'
    push esi
    add esi, 8
    mov cx, 8
    call print_flat_id
    add esi, 8
    say '" product "'
    mov cx, 12
    call print_flat_id
    pop esi
    say '"', 10, "  "
    movzx eax, word [fs:esi + 34]
    call print_dec
    say " entries, local APIC at "
    mov eax, [fs:esi + 36]
    mov cl, 8
    call print_hex
    say ", checksum "
    movzx ecx, word [fs:esi + 4]
    call flat_checksum
    jne .bad_sum
    say "ok", 10
    jmp .entries_start
.bad_sum:
    say "BAD", 10
.entries_start:
    ; The entries: processors (20 bytes), then buses, I/O APICs, I/O and local interrupts (8).
    movzx ecx, word [fs:esi + 34]
    movzx ebx, word [fs:esi + 4]
    add ebx, esi                ; end of the base table
    add esi, 44
.entry:
    test ecx, ecx
    jz .entries_done
    cmp esi, ebx
    jae .entries_done
    mov al, [fs:esi]
    cmp al, 0
    je .processor
    cmp al, 1
    je .bus
    cmp al, 2
    je .io_apic
    cmp al, 3
    je .io_int
    cmp al, 4
    je .local_int
    call end_line
    say "  entry type "
    movzx eax, al
    call print_dec
    say ": not in MP 1.4, the rest is skipped", 10
    jmp .entries_done
.processor:
    inc word [mp_processors]
    say "  processor  APIC id "
    movzx eax, byte [fs:esi + 1]
    call print_dec
    say ", version "
    movzx eax, byte [fs:esi + 2]
    push cx
    mov cl, 2
    call print_hex
    say "h, "
    pop cx
    test byte [fs:esi + 3], 1
    jz .cpu_disabled
    inc word [mp_cpus_enabled]
    say "enabled"
    jmp .bsp
.cpu_disabled:
    say "disabled"
.bsp:
    test byte [fs:esi + 3], 2
    jz .cpu_signature
    say ", BSP"
.cpu_signature:
    say ", CPUID "
    mov eax, [fs:esi + 4]
    push cx
    mov cl, 8
    call print_hex
    pop cx
    say 10
    add esi, 20
    dec ecx
    jmp .entry
.bus:
    inc word [mp_buses]
    say "  bus        "
    movzx eax, byte [fs:esi + 1]
    call print_dec
    say " "
    push esi
    add esi, 2
    push cx
    mov cx, 6
    call print_flat_id
    pop cx
    pop esi
    say 10
    movzx eax, byte [fs:esi + 1]
    cmp eax, MAX_MP_BUSES
    jae .next
    imul di, ax, 6
    add di, mp_bus_types
    mov eax, [fs:esi + 2]
    mov [di], eax
    mov ax, [fs:esi + 6]
    mov [di + 4], ax
    jmp .next
.io_apic:
    inc word [mp_ioapics]
    cmp word [mp_ioapics], 1
    jne .io_apic_print
    movzx eax, byte [fs:esi + 1]
    mov [mp_ioapic_id], eax
    mov eax, [fs:esi + 4]
    mov [mp_ioapic_base], eax
.io_apic_print:
    say "  I/O APIC   id "
    movzx eax, byte [fs:esi + 1]
    call print_dec
    say " at "
    mov eax, [fs:esi + 4]
    push cx
    mov cl, 8
    call print_hex
    pop cx
    test byte [fs:esi + 3], 1
    jnz .io_apic_enabled
    say ", disabled"
.io_apic_enabled:
    push esi
    mov esi, [fs:esi + 4]
    call print_ioapic_pins
    pop esi
    say 10
    jmp .next
.io_int:
    cmp word [mp_io_ints], 0
    jne .io_int_cell
    say "  I/O interrupts: source -> I/O APIC pin, then trigger/polarity unless as the", 10
    say "  bus says (e/l: edge/level, h/l: active high/low)", 10
    mov byte [mp_column], 0
.io_int_cell:
    inc word [mp_io_ints]
    call mp_print_io_interrupt
    jmp .next
.local_int:
    cmp word [mp_local_ints], 0
    jne .local_int_cell
    call end_line
    say "  local interrupts:", 10
.local_int_cell:
    inc word [mp_local_ints]
    call mp_print_local_interrupt
.next:
    add esi, 8
    dec ecx
    jmp .entry
.entries_done:
    call end_line
.done:
    popad
    ret
