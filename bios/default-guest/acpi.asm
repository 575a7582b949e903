; The ACPI tables, found the way an OS finds them (ACPI 6.x, 5.2.5 "Root System Description
; Pointer"): the RSDP in the first KiB of the EBDA or in E0000-FFFFF, then the XSDT (revision 2
; and later) or the RSDT, each table it lists, and the FADT's pointers to the DSDT and FACS.
; The report shows each table's header and the fields an OS's interrupt and power setup reads.

MAX_ROOT_ENTRIES equ 32
MAX_SIGNATURES   equ 16

rsdp_addr       dd 0            ; 0: no ACPI
rsdp_revision   db 0
rsdt_addr       dd 0
xsdt_addr       dd 0
xsdt_addr_high  dd 0
root_addr       dd 0            ; the root table walked: the XSDT if usable, else the RSDT
root_entry_size dd 0
table_count     dw 0
table_sigs      times MAX_SIGNATURES dd 0
fadt_addr       dd 0
facs_addr       dd 0
dsdt_addr       dd 0
madt_addr       dd 0
hpet_addr       dd 0

; Counted while the MADT is reported.
madt_lapics         dw 0
madt_cpus_enabled   dw 0
madt_ioapics        dw 0
madt_ioapic_id      dd 0        ; the first I/O APIC
madt_ioapic_base    dd 0
madt_overrides      dw 0

fadt_flag_names:
    db 0, 'WBINVD', 0
    db 2, 'PROC_C1', 0
    db 3, 'P_LVL2_UP', 0
    db 4, 'PWR_BUTTON', 0
    db 5, 'SLP_BUTTON', 0
    db 6, 'FIX_RTC', 0
    db 7, 'RTC_S4', 0
    db 8, 'TMR_VAL_EXT', 0
    db 9, 'DCK_CAP', 0
    db 10, 'RESET_REG_SUP', 0
    db 11, 'SEALED_CASE', 0
    db 12, 'HEADLESS', 0
    db 0xff

boot_arch_names:
    db 0, 'LEGACY_DEVICES', 0
    db 1, '8042', 0
    db 2, 'VGA_NOT_PRESENT', 0
    db 3, 'MSI_NOT_SUPPORTED', 0
    db 4, 'PCIE_ASPM_CONTROLS', 0
    db 5, 'CMOS_RTC_NOT_PRESENT', 0
    db 0xff

; Sets rsdp_addr (0 when there is none).
acpi_find_rsdp:
    pushad
    mov eax, 'RSD '
    mov edi, 'PTR '
    mov edx, 20                 ; the ACPI 1.0 checksum covers the first 20 bytes
    call ebda_address
    test esi, esi
    jz .bios_area
    mov ecx, 1024
    call flat_find_signature
    jnc .found
.bios_area:
    mov esi, 0xe0000
    mov ecx, 0x20000
    call flat_find_signature
    jc .done
.found:
    mov [rsdp_addr], esi
    mov al, [fs:esi + 15]
    mov [rsdp_revision], al
    mov eax, [fs:esi + 16]
    mov [rsdt_addr], eax
    cmp byte [rsdp_revision], 2
    jb .done
    mov eax, [fs:esi + 24]
    mov [xsdt_addr], eax
    mov eax, [fs:esi + 28]
    mov [xsdt_addr_high], eax
.done:
    popad
    ret

; ESI = address of a table with the standard 36-byte header. CF set when no plausible table
; is there (address 0, or a length below the header or above 16 MiB).
table_plausible:
    test esi, esi
    jz .bad
    cmp dword [fs:esi + 4], 36
    jb .bad
    cmp dword [fs:esi + 4], 0x1000000
    ja .bad
    clc
    ret
.bad:
    stc
    ret

; ESI = table: "  SIG   address   length  rev  OEM     table id  checksum".
print_table_row:
    pushad
    say "  "
    mov eax, [fs:esi]
    call print_sig
    mov al, 8
    call tab_to
    mov ebx, 8
    call print_place_length_revision
    push esi
    add esi, 10
    mov cx, 6
    call print_flat_id
    mov al, 39
    call tab_to
    add esi, 6
    mov cx, 8
    call print_flat_id
    pop esi
    mov al, 49
    call tab_to
    mov ecx, [fs:esi + 4]
    call flat_checksum
    jne .bad
    say "ok"
    jmp .done
.bad:
    say "BAD"
.done:
    say 10
    popad
    ret

; ESI = table, EBX = offset of its revision byte: the address, length and revision columns.
print_place_length_revision:
    mov eax, esi
    mov cl, 8
    call print_hex
    mov al, 18
    call tab_to
    mov eax, [fs:esi + 4]
    call print_dec
    mov al, 26
    call tab_to
    movzx eax, byte [fs:esi + ebx]
    call print_dec
    mov al, 31
    call tab_to
    ret

; ESI = table: remember where the ones the report explains are, and its signature.
note_table:
    push eax
    push bx
    mov eax, [fs:esi]
    mov bx, [table_count]
    cmp bx, MAX_SIGNATURES
    jae .known
    shl bx, 2
    mov [table_sigs + bx], eax
    inc word [table_count]
.known:
    cmp eax, 'FACP'
    jne .apic
    mov [fadt_addr], esi
.apic:
    cmp eax, 'APIC'
    jne .hpet
    mov [madt_addr], esi
.hpet:
    cmp eax, 'HPET'
    jne .done
    mov [hpet_addr], esi
.done:
    pop bx
    pop eax
    ret

acpi_report:
    pushad
    call acpi_find_rsdp
    call page_break
    say "ACPI: Root System Description Pointer", 10
    mov esi, [rsdp_addr]
    test esi, esi
    jnz .rsdp
    say "  No RSDP in the EBDA or at E0000-FFFFF: the firmware offers no ACPI.", 10
    say "  Windows Setup then installs a non-ACPI HAL, and Linux logs", 10
    say '  "ACPI: A valid RSDP was not found" and runs as with acpi=off.', 10
    jmp .done
.rsdp:
    say "  RSDP at "
    mov eax, esi
    mov cl, 8
    call print_hex
    say ", revision "
    movzx eax, byte [rsdp_revision]
    call print_dec
    cmp al, 2
    jb .acpi1
    say " (ACPI 2.0+)"
    jmp .oem
.acpi1:
    say " (ACPI 1.0)"
.oem:
    say ', OEM "'
    push esi
    add esi, 9
    mov cx, 6
    call print_flat_id
    pop esi
    say '"', 10, "  RSDT at "
    mov eax, [rsdt_addr]
    mov cl, 8
    call print_hex
    cmp byte [rsdp_revision], 2
    jb .choose_root
    say ", XSDT at "
    mov eax, [xsdt_addr]
    mov edx, [xsdt_addr_high]
    call print_addr64
    mov ecx, 36                 ; the extended checksum covers the whole 36-byte RSDP
    call flat_checksum
    je .choose_root
    say " (extended checksum BAD)"
.choose_root:
    say 10
    ; Walk the XSDT when there is one below 4 GiB, as ACPI 2.0+ OSes do; else the RSDT.
    mov dword [root_entry_size], 4
    mov eax, [rsdt_addr]
    cmp dword [xsdt_addr_high], 0
    jne .root
    cmp dword [xsdt_addr], 0
    je .root
    mov eax, [xsdt_addr]
    mov dword [root_entry_size], 8
.root:
    mov [root_addr], eax
    call block_gap
    say "ACPI tables", 10
    say "  sig   address   length  rev  OEM     table id  checksum", 10
    mov esi, [root_addr]
    call table_plausible
    jnc .root_ok
    say "  no valid root table at "
    mov eax, esi
    mov cl, 8
    call print_hex
    say 10
    jmp .done
.root_ok:
    call print_table_row
    mov ecx, [fs:esi + 4]
    sub ecx, 36
    xor edx, edx
    mov eax, ecx
    div dword [root_entry_size]
    mov ecx, eax                ; number of entries
    cmp ecx, MAX_ROOT_ENTRIES
    jbe .entries
    mov ecx, MAX_ROOT_ENTRIES
.entries:
    lea ebx, [esi + 36]
.entry:
    test ecx, ecx
    jz .tables_done
    mov esi, [fs:ebx]
    cmp dword [root_entry_size], 8
    jne .entry_addr
    cmp dword [fs:ebx + 4], 0
    je .entry_addr
    say "  (a table above 4 GiB is not shown)", 10
    jmp .entry_next
.entry_addr:
    call table_plausible
    jnc .entry_ok
    say "  (an entry points at "
    mov eax, esi
    push cx
    mov cl, 8
    call print_hex
    pop cx
    say ", where there is no table)", 10
    jmp .entry_next
.entry_ok:
    call print_table_row
    call note_table
.entry_next:
    add ebx, [root_entry_size]
    dec ecx
    jmp .entry
.tables_done:
    call fadt_pointers
    mov esi, [dsdt_addr]
    call table_plausible
    jc .facs
    call print_table_row
.facs:
    mov esi, [facs_addr]
    test esi, esi
    jz .details
    cmp dword [fs:esi], 'FACS'
    jne .details
    say "  FACS  "
    mov ebx, 32
    call print_place_length_revision
    say "(no header: firmware control structure)", 10
.details:
    call fadt_report
    call madt_report
    call hpet_report
.done:
    popad
    ret

; From the FADT: the FACS and DSDT addresses (the 64-bit X_ fields when the 32-bit ones are 0).
fadt_pointers:
    pushad
    mov esi, [fadt_addr]
    test esi, esi
    jz .done
    mov eax, [fs:esi + 36]
    test eax, eax
    jnz .facs
    cmp dword [fs:esi + 4], 140
    jb .facs
    mov eax, [fs:esi + 132]
.facs:
    mov [facs_addr], eax
    mov eax, [fs:esi + 40]
    test eax, eax
    jnz .dsdt
    cmp dword [fs:esi + 4], 148
    jb .dsdt
    mov eax, [fs:esi + 140]
.dsdt:
    mov [dsdt_addr], eax
.done:
    popad
    ret

; An FADT register block: its port (from offset %1, %3 hex digits) and " (N bytes)" from the
; length byte at offset %2. ESI = the FADT.
%macro port_with_length 3
    mov eax, [fs:esi + %1]
    mov cl, %3
    call print_hex
    say " ("
    movzx eax, byte [fs:esi + %2]
    call print_dec
    say " bytes)"
%endmacro

fadt_report:
    pushad
    mov esi, [fadt_addr]
    test esi, esi
    jz .done
    call block_gap
    mov ax, 10
    call need_lines
    say "FADT (FACP): the fixed ACPI hardware, revision "
    movzx eax, byte [fs:esi + 8]
    call print_dec
    say 10, "  SCI interrupt      IRQ "
    movzx eax, word [fs:esi + 46]
    call print_dec
    mov al, 42
    call tab_to
    say "SMI command port   "
    mov eax, [fs:esi + 48]
    mov cl, 4
    call print_hex
    say 10, "  PM1a event block   "
    port_with_length 56, 88, 4
    mov al, 42
    call tab_to
    say "ACPI enable/disable "
    movzx eax, byte [fs:esi + 52]
    mov cl, 2
    call print_hex
    say "/"
    movzx eax, byte [fs:esi + 53]
    call print_hex
    say 10, "  PM1a control block "
    port_with_length 64, 89, 4
    mov al, 42
    call tab_to
    say "GPE0 block         "
    port_with_length 80, 92, 4
    say 10, "  PM timer           "
    mov eax, [fs:esi + 76]
    mov cl, 4
    call print_hex
    test dword [fs:esi + 112], 1 << 8
    jnz .timer32
    say ", 24-bit"
    jmp .century
.timer32:
    say ", 32-bit"
.century:
    mov al, 42
    call tab_to
    say "RTC century index  "
    movzx eax, byte [fs:esi + 108]
    mov cl, 2
    call print_hex
    say "h", 10
    cmp byte [fs:esi + 8], 3    ; IAPC_BOOT_ARCH and the reset register: ACPI 2.0 FADTs
    jb .flags
    say "  boot architecture  "
    movzx eax, word [fs:esi + 109]
    mov cl, 4
    call print_hex
    say ": "
    push esi
    mov si, boot_arch_names
    mov bl, 21
    call print_bit_names
    pop esi
    say 10
    test dword [fs:esi + 112], 1 << 10
    jz .flags
    say "  reset register     "
    mov al, [fs:esi + 116]
    cmp al, 1
    jne .reset_other
    say "I/O port "
    mov eax, [fs:esi + 120]
    mov cl, 4
    call print_hex
    jmp .reset_value
.reset_other:
    cmp al, 0
    jne .reset_pci
    say "memory "
    mov eax, [fs:esi + 120]
    mov cl, 8
    call print_hex
    jmp .reset_value
.reset_pci:
    say "address space "
    movzx eax, al
    call print_dec
.reset_value:
    say ", value "
    movzx eax, byte [fs:esi + 128]
    mov cl, 2
    call print_hex
    say 10
.flags:
    say "  flags              "
    mov eax, [fs:esi + 112]
    mov cl, 8
    call print_hex
    say ": "
    push esi
    mov si, fadt_flag_names
    mov bl, 21
    call print_bit_names
    pop esi
    say 10
.done:
    popad
    ret

; AX = MPS INTI flags (MADT interrupt source overrides and NMI entries use the same bits):
; polarity in bits 0-1, trigger mode in bits 2-3; 0 means "as the bus says".
print_inti_flags:
    push ax
    push bx
    mov bx, ax
    test bx, 0xf
    jnz .trigger
    say "bus default"
    jmp .done
.trigger:
    mov ax, bx
    shr ax, 2
    and ax, 3
    cmp ax, 1
    jne .level
    say "edge"
    jmp .polarity
.level:
    cmp ax, 3
    jne .bus_trigger
    say "level"
    jmp .polarity
.bus_trigger:
    say "bus trigger"
.polarity:
    say ", "
    mov ax, bx
    and ax, 3
    cmp ax, 1
    jne .low
    say "active high"
    jmp .done
.low:
    cmp ax, 3
    jne .bus_polarity
    say "active low"
    jmp .done
.bus_polarity:
    say "bus polarity"
.done:
    pop bx
    pop ax
    ret

; ESI = I/O APIC base: EAX = its version register (index 1): version in bits 0-7, the highest
; redirection entry in bits 16-23.
ioapic_version:
    mov dword [fs:esi], 1
    mov eax, [fs:esi + 0x10]
    ret

; ESI = I/O APIC base: ", N pins, version Vh".
print_ioapic_pins:
    pushad
    call ioapic_version
    mov ebx, eax
    say ", "
    shr eax, 16
    movzx eax, al
    inc eax
    call print_dec
    say " pins, version "
    movzx eax, bl
    mov cl, 2
    call print_hex
    say "h"
    popad
    ret

madt_report:
    pushad
    mov esi, [madt_addr]
    test esi, esi
    jz .done
    call block_gap
    mov ax, 8
    call need_lines
    say "MADT (APIC): interrupt controllers", 10, "  local APIC address "
    mov eax, [fs:esi + 36]
    mov cl, 8
    call print_hex
    say ", flags "
    mov eax, [fs:esi + 40]
    call print_hex
    test al, 1
    jz .no_pcat
    say ": PCAT_COMPAT (8259s too)"
.no_pcat:
    say 10
    mov ebx, esi
    add ebx, [fs:esi + 4]       ; end of the table
    add esi, 44
.entry:
    lea eax, [esi + 2]
    cmp eax, ebx
    ja .done
    movzx edi, byte [fs:esi + 1]
    cmp edi, 2                  ; a zero length would loop forever
    jb .done
    mov al, [fs:esi]
    cmp al, 0
    je .local_apic
    cmp al, 1
    je .io_apic
    cmp al, 2
    je .override
    cmp al, 3
    je .nmi_source
    cmp al, 4
    je .local_nmi
    say "  entry type "
    movzx eax, al
    call print_dec
    say ", "
    mov eax, edi
    call print_dec
    say " bytes", 10
    jmp .next
.local_apic:
    inc word [madt_lapics]
    say "  processor local APIC  ACPI processor "
    movzx eax, byte [fs:esi + 2]
    call print_dec
    say ", APIC id "
    movzx eax, byte [fs:esi + 3]
    call print_dec
    test byte [fs:esi + 4], 1
    jz .disabled
    inc word [madt_cpus_enabled]
    say ", enabled", 10
    jmp .next
.disabled:
    say ", disabled", 10
    jmp .next
.io_apic:
    inc word [madt_ioapics]
    cmp word [madt_ioapics], 1
    jne .io_apic_print
    movzx eax, byte [fs:esi + 2]
    mov [madt_ioapic_id], eax
    mov eax, [fs:esi + 4]
    mov [madt_ioapic_base], eax
.io_apic_print:
    say "  I/O APIC              id "
    movzx eax, byte [fs:esi + 2]
    call print_dec
    say " at "
    mov eax, [fs:esi + 4]
    mov cl, 8
    call print_hex
    say ", GSI base "
    mov eax, [fs:esi + 8]
    call print_dec
    push esi
    mov esi, [fs:esi + 4]
    call print_ioapic_pins
    pop esi
    say 10
    jmp .next
.override:
    inc word [madt_overrides]
    say "  interrupt override    "
    cmp byte [fs:esi + 2], 0
    je .isa
    say "bus "
    movzx eax, byte [fs:esi + 2]
    call print_dec
    say " "
.isa:
    say "IRQ "
    movzx eax, byte [fs:esi + 3]
    call print_dec
    say " -> GSI "
    mov eax, [fs:esi + 4]
    call print_dec
    say ", "
    mov ax, [fs:esi + 8]
    call print_inti_flags
    say 10
    jmp .next
.nmi_source:
    say "  NMI source            GSI "
    mov eax, [fs:esi + 4]
    call print_dec
    say ", "
    mov ax, [fs:esi + 2]
    call print_inti_flags
    say 10
    jmp .next
.local_nmi:
    say "  local APIC NMI        "
    cmp byte [fs:esi + 2], 0xff
    jne .one_cpu
    say "all processors"
    jmp .lint
.one_cpu:
    say "ACPI processor "
    movzx eax, byte [fs:esi + 2]
    call print_dec
.lint:
    say ", LINT"
    movzx eax, byte [fs:esi + 5]
    call print_dec
    say ", "
    mov ax, [fs:esi + 3]
    call print_inti_flags
    say 10
.next:
    add esi, edi
    jmp .entry
.done:
    popad
    ret

hpet_report:
    pushad
    mov esi, [hpet_addr]
    test esi, esi
    jz .done
    call block_gap
    mov ax, 3
    call need_lines
    say "HPET: event timer block "
    mov eax, [fs:esi + 36]
    mov cl, 8
    call print_hex
    say " at "
    mov eax, [fs:esi + 44]
    mov edx, [fs:esi + 48]
    call print_addr64
    say ", minimum tick "
    movzx eax, word [fs:esi + 53]
    call print_dec
    say 10
.done:
    popad
    ret
