; Page 1: everything on one screen, and the HAL an OS would choose from it. The decision follows
; what Windows 2000/XP/2003 Setup does (the table in docs/default-guest.md): an RSDP means an
; ACPI HAL, a MADT (with ACPI) or an MP table (without) means an APIC HAL, more than one enabled
; processor in that table a multiprocessor HAL. Linux takes the same tables: ACPI when there is
; an RSDP, the I/O APIC when the MADT (or, without ACPI or MADT, the MP table) lists one.
; The detail pages have been written (and the counts below filled in) before this runs.

table_cpus      dw 0            ; enabled processors in the table the HAL decision used

hal_dll         db "HAL.DLL", 0
hal_dll_name    db "Standard PC", 0
halapic_dll     db "HALAPIC.DLL", 0
halapic_name    db "MPS Uniprocessor PC", 0
halmps_dll      db "HALMPS.DLL", 0
halmps_name     db "MPS Multiprocessor PC", 0
halacpi_dll     db "HALACPI.DLL", 0
halacpi_name    db "Advanced Configuration and Power Interface (ACPI) PC", 0
halaacpi_dll    db "HALAACPI.DLL", 0
halaacpi_name   db "ACPI Uniprocessor PC", 0
halmacpi_dll    db "HALMACPI.DLL", 0
halmacpi_name   db "ACPI Multiprocessor PC", 0

LABEL_COLUMN    equ 10

; AL = column of the text after a label.
%macro summary_label 1
    call end_line
    say %1
    mov al, LABEL_COLUMN
    call tab_to
%endmacro
%macro continued 0
    call end_line
    mov al, LABEL_COLUMN
    call tab_to
%endmacro

summary_report:
    pushad
    call summary_cpu
    call summary_memory
    call summary_acpi
    call summary_mp
    call summary_hal
    call block_gap
    say "  Any key (here or on COM1) pages through the details: the processor and the", 10
    say "  memory map, the ACPI tables with the FADT and MADT, the MP table.", 10
    popad
    ret

summary_cpu:
    summary_label "CPU"
    cmp byte [has_cpuid], 0
    jne .vendor
    say "no CPUID", 10
    ret
.vendor:
    mov si, cpu_vendor
    call puts
    say ", "
    mov eax, [cpu_signature]
    call print_family
    continued
    call print_apic_pae_nx
    cmp byte [has_lapic], 0
    je .no_lapic
    say "; running on local APIC id "
    mov eax, [lapic_id]
    call print_dec
    test dword [apic_base_msr], 1 << 8
    jz .done
    say " (the BSP)"
    jmp .done
.no_lapic:
    say "; no local APIC"
.done:
    say 10
    ret

summary_memory:
    summary_label "Memory"
    call print_ram_total
    say " (E820: "
    movzx eax, word [e820_count]
    call print_dec
    say " entries)", 10
    ret

summary_acpi:
    summary_label "ACPI"
    mov esi, [rsdp_addr]
    test esi, esi
    jnz .rsdp
    say "none: no RSDP found", 10
    ret
.rsdp:
    say "RSDP at "
    mov eax, esi
    mov cl, 8
    call print_hex
    say " (revision "
    movzx eax, byte [rsdp_revision]
    call print_dec
    say ', OEM "'
    add esi, 9
    mov cx, 6
    call print_flat_id
    say '")'
    continued
    mov esi, [root_addr]
    call table_plausible
    jc .fadt
    mov eax, [fs:esi]
    call print_sig
    say " lists:"
    mov cx, [table_count]
    mov si, table_sigs
.sig:
    jcxz .listed
    say " "
    mov eax, [si]
    call print_sig
    add si, 4
    dec cx
    jmp .sig
.listed:
    cmp dword [dsdt_addr], 0
    je .fadt
    say "; FADT -> DSDT"
    cmp dword [facs_addr], 0
    je .fadt
    say ", FACS"
.fadt:
    mov esi, [fadt_addr]
    test esi, esi
    jz .dsdt
    continued
    say "FADT: SCI IRQ "
    movzx eax, word [fs:esi + 46]
    call print_dec
    say ", PM1a event "
    mov eax, [fs:esi + 56]
    mov cl, 4
    call print_hex
    say " control "
    mov eax, [fs:esi + 64]
    call print_hex
    say ", PM timer "
    mov eax, [fs:esi + 76]
    call print_hex
    test dword [fs:esi + 112], 1 << 8
    jnz .timer32
    say " (24-bit)"
    jmp .dsdt
.timer32:
    say " (32-bit)"
.dsdt:
    mov esi, [dsdt_addr]
    call table_plausible
    jc .madt
    continued
    say "DSDT: "
    mov eax, [fs:esi + 4]
    call print_dec
    say ' bytes, revision '
    movzx eax, byte [fs:esi + 8]
    call print_dec
    say ', OEM "'
    push esi
    add esi, 10
    mov cx, 6
    call print_flat_id
    say '" table "'
    add esi, 6
    mov cx, 8
    call print_flat_id
    pop esi
    say '"'
.madt:
    continued
    cmp dword [madt_addr], 0
    jne .madt_found
    say "no MADT: the OS gets no APIC from ACPI"
    jmp .done
.madt_found:
    say "MADT: "
    movzx eax, word [madt_lapics]
    call print_dec
    say " local APIC"
    cmp word [madt_lapics], 1
    je .ioapic
    say "s"
.ioapic:
    cmp word [madt_ioapics], 0
    je .overrides
    say ", I/O APIC "
    mov eax, [madt_ioapic_id]
    call print_dec
    say " at "
    mov eax, [madt_ioapic_base]
    mov cl, 8
    call print_hex
.overrides:
    say ", "
    movzx eax, word [madt_overrides]
    call print_dec
    say " overrides"
.done:
    say 10
    ret

summary_mp:
    summary_label "MP table"
    mov esi, [mp_fp_addr]
    test esi, esi
    jnz .found
    say "none: no _MP_ floating pointer", 10
    ret
.found:
    say "at "
    mov eax, esi
    mov cl, 8
    call print_hex
    say " (spec 1."
    movzx eax, byte [fs:esi + 9]
    call print_dec
    say ")"
    cmp dword [mp_cfg_addr], 0
    je .done
    say ", configuration table at "
    mov eax, [mp_cfg_addr]
    call print_hex
    continued
    movzx eax, word [mp_processors]
    call print_dec
    say " processor"
    cmp word [mp_processors], 1
    je .buses
    say "s"
.buses:
    say ", "
    movzx eax, word [mp_buses]
    call print_dec
    say " buses, "
    cmp word [mp_ioapics], 0
    je .no_ioapic
    say "I/O APIC "
    mov eax, [mp_ioapic_id]
    call print_dec
    jmp .interrupts
.no_ioapic:
    say "no I/O APIC"
.interrupts:
    say ", "
    movzx eax, word [mp_io_ints]
    call print_dec
    say " I/O interrupt entries"
.done:
    say 10
    ret

; Chooses and prints the HAL, and Linux's view of the same tables.
summary_hal:
    call block_gap
    ; Windows.
    cmp dword [rsdp_addr], 0
    je .no_acpi
    cmp dword [madt_addr], 0
    jne .acpi_apic
    mov si, halacpi_dll
    mov di, halacpi_name
    mov word [table_cpus], 1
    jmp .windows
.acpi_apic:
    mov ax, [madt_cpus_enabled]
    mov [table_cpus], ax
    mov si, halaacpi_dll
    mov di, halaacpi_name
    cmp ax, 1
    jbe .windows
    mov si, halmacpi_dll
    mov di, halmacpi_name
    jmp .windows
.no_acpi:
    cmp dword [mp_cfg_addr], 0
    jne .mps
    mov si, hal_dll
    mov di, hal_dll_name
    mov word [table_cpus], 1
    jmp .windows
.mps:
    mov ax, [mp_cpus_enabled]
    mov [table_cpus], ax
    mov si, halapic_dll
    mov di, halapic_name
    cmp ax, 1
    jbe .windows
    mov si, halmps_dll
    mov di, halmps_name
.windows:
    summary_label "Windows"
    call puts
    say ', "'
    mov si, di
    call puts
    say '"'
    continued
    say "why: "
    cmp dword [rsdp_addr], 0
    je .why_no_acpi
    say "RSDP -> ACPI; "
    cmp dword [madt_addr], 0
    jne .why_madt
    say "no MADT -> 8259 PIC"
    jmp .why_done
.why_madt:
    say "MADT -> APIC; "
    jmp .why_cpus
.why_no_acpi:
    say "no RSDP; "
    cmp dword [mp_cfg_addr], 0
    jne .why_mp
    say "no MP table -> 8259 PIC"
    jmp .why_done
.why_mp:
    say "MP table -> APIC; "
.why_cpus:
    movzx eax, word [table_cpus]
    call print_dec
    cmp eax, 1
    ja .why_smp
    say " processor -> uniprocessor"
    jmp .why_done
.why_smp:
    say " processors -> multiprocessor"
.why_done:
    ; Linux.
    summary_label "Linux"
    cmp dword [rsdp_addr], 0
    je .linux_no_acpi
    say "ACPI on"
    jmp .linux_irq
.linux_no_acpi:
    say "no ACPI (as with acpi=off)"
.linux_irq:
    say ", interrupts through the "
    call linux_uses_ioapic
    jc .xt_pic
    say "IO-APIC"
    jmp .linux_cpus
.xt_pic:
    say "8259 pair (XT-PIC)"
.linux_cpus:
    continued
    movzx eax, word [table_cpus]
    call print_dec
    cmp eax, 1
    ja .linux_smp
    say " CPU"
    jmp .running
.linux_smp:
    say " CPUs (SMP)"
.running:
    say " in the tables; only the BSP runs this program", 10
    ret

; CF clear when Linux would route interrupts through an I/O APIC: the CPU has an APIC and the
; MADT lists an I/O APIC (with ACPI and a MADT), else the MP table does.
linux_uses_ioapic:
    test dword [cpu_leaf1_edx], CPUID_APIC
    jz .no
    cmp dword [rsdp_addr], 0
    je .mp
    cmp dword [madt_addr], 0
    je .mp
    cmp word [madt_ioapics], 0
    je .no
    clc
    ret
.mp:
    cmp word [mp_ioapics], 0
    je .no
    clc
    ret
.no:
    stc
    ret
