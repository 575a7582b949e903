; The processor this program runs on, as CPUID describes it (Intel SDM vol. 2, CPUID), and its
; local APIC (IA32_APIC_BASE MSR 1Bh; the APIC ID register at +20h, version at +30h).

has_cpuid       db 0
cpu_vendor      times 12 db 0
                db 0
cpu_brand       times 48 db 0
                db 0
cpu_max_leaf    dd 0
cpu_max_ext     dd 0
cpu_signature   dd 0
cpu_leaf1_ebx   dd 0
cpu_leaf1_edx   dd 0
cpu_ext_edx     dd 0
apic_base_msr   dd 0
lapic_id        dd 0            ; from the APIC ID register
lapic_version   dd 0
has_lapic       db 0            ; CPUID says APIC and the MSR says enabled

CPUID_PAE       equ 1 << 6
CPUID_APIC      equ 1 << 9
CPUID_HTT       equ 1 << 28
EXT_NX          equ 1 << 20

; Runs CPUID and reads the APIC base MSR (real mode, before the report).
cpu_collect:
    pushad
    ; CPUID exists when EFLAGS.ID (bit 21) can be flipped.
    pushfd
    pop eax
    mov ecx, eax
    xor eax, 1 << 21
    push eax
    popfd
    pushfd
    pop eax
    push ecx
    popfd
    xor eax, ecx
    test eax, 1 << 21
    jz .done
    mov byte [has_cpuid], 1
    xor eax, eax
    cpuid
    mov [cpu_max_leaf], eax
    mov [cpu_vendor], ebx
    mov [cpu_vendor + 4], edx
    mov [cpu_vendor + 8], ecx
    cmp dword [cpu_max_leaf], 1
    jb .extended
    mov eax, 1
    cpuid
    mov [cpu_signature], eax
    mov [cpu_leaf1_ebx], ebx
    mov [cpu_leaf1_edx], edx
.extended:
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000000
    jbe .apic
    cmp eax, 0x8000ffff
    ja .apic
    mov [cpu_max_ext], eax
    mov eax, 0x80000001
    cpuid
    mov [cpu_ext_edx], edx
    cmp dword [cpu_max_ext], 0x80000004
    jb .apic
    mov di, cpu_brand
    mov esi, 0x80000002
.brand:
    mov eax, esi
    cpuid
    mov [di], eax
    mov [di + 4], ebx
    mov [di + 8], ecx
    mov [di + 12], edx
    add di, 16
    inc esi
    cmp esi, 0x80000004
    jbe .brand
.apic:
    test dword [cpu_leaf1_edx], CPUID_APIC
    jz .done
    mov ecx, 0x1b
    rdmsr
    mov [apic_base_msr], eax
.done:
    popad
    ret

; Reads the local APIC's registers (needs unreal mode).
lapic_collect:
    pushad
    test dword [apic_base_msr], 1 << 11     ; APIC global enable
    jz .done
    mov esi, [apic_base_msr]
    and esi, 0xfffff000
    mov eax, [fs:esi + 0x20]
    shr eax, 24
    mov [lapic_id], eax
    mov eax, [fs:esi + 0x30]
    mov [lapic_version], eax
    mov byte [has_lapic], 1
.done:
    popad
    ret

; One name per EDX feature bit of CPUID leaf 1 worth showing; 0 ends the list.
feature_names:
    db 0, 'FPU', 0
    db 1, 'VME', 0
    db 3, 'PSE', 0
    db 4, 'TSC', 0
    db 5, 'MSR', 0
    db 6, 'PAE', 0
    db 8, 'CX8', 0
    db 9, 'APIC', 0
    db 11, 'SEP', 0
    db 12, 'MTRR', 0
    db 13, 'PGE', 0
    db 15, 'CMOV', 0
    db 16, 'PAT', 0
    db 17, 'PSE36', 0
    db 23, 'MMX', 0
    db 24, 'FXSR', 0
    db 25, 'SSE', 0
    db 26, 'SSE2', 0
    db 28, 'HTT', 0
    db 0xff

; Prints "yes" when ZF is clear, "no" when it is set.
print_yes_no:
    jz .no
    say "yes"
    ret
.no:
    say "no"
    ret

; "APIC yes, PAE yes, NX no": the three CPUID bits the HAL choice and the kernel depend on.
print_apic_pae_nx:
    say "APIC "
    test dword [cpu_leaf1_edx], CPUID_APIC
    call print_yes_no
    say ", PAE "
    test dword [cpu_leaf1_edx], CPUID_PAE
    call print_yes_no
    say ", NX "
    test dword [cpu_ext_edx], EXT_NX
    jmp print_yes_no

; EAX = CPUID signature: "family F model M stepping S" (with the extended fields where they apply).
print_family:
    pushad
    mov ebx, eax
    say "family "
    mov eax, ebx
    shr eax, 8
    and eax, 0xf
    mov ecx, eax                ; base family
    cmp eax, 0xf
    jne .family
    mov edx, ebx
    shr edx, 20
    and edx, 0xff
    add eax, edx
.family:
    call print_dec
    say " model "
    mov eax, ebx
    shr eax, 4
    and eax, 0xf
    cmp ecx, 6
    je .extended_model
    cmp ecx, 0xf
    jne .model
.extended_model:
    mov edx, ebx
    shr edx, 12
    and edx, 0xf0
    add eax, edx
.model:
    call print_dec
    say " stepping "
    mov eax, ebx
    and eax, 0xf
    call print_dec
    popad
    ret

cpu_report:
    pushad
    mov ax, 12
    call need_lines
    say "Processor (CPUID)", 10
    cmp byte [has_cpuid], 0
    jne .vendor
    say "  no CPUID instruction: a 486 or older; no APIC, no PAE", 10
    jmp .done
.vendor:
    say "  vendor     "
    mov si, cpu_vendor
    call puts
    say "   max leaf "
    mov eax, [cpu_max_leaf]
    mov cl, 2
    call print_hex
    say "h"
    cmp dword [cpu_max_ext], 0
    je .no_ext
    say ", extended "
    mov eax, [cpu_max_ext]
    mov cl, 8
    call print_hex
    say "h"
.no_ext:
    say 10
    cmp byte [cpu_brand], 0
    je .signature
    say "  brand      "
    mov si, cpu_brand
.skip_blank:                    ; Intel pads the brand string on the left
    cmp byte [si], ' '
    jne .brand
    inc si
    jmp .skip_blank
.brand:
    call puts
    say 10
.signature:
    say "  signature  "
    mov eax, [cpu_signature]
    mov cl, 8
    call print_hex
    say ": "
    call print_family
    say 10, "  features   "
    mov eax, [cpu_leaf1_edx]
    mov si, feature_names
    mov bl, 13
    call print_bit_names
    say 10, "  "
    call print_apic_pae_nx
    say "; initial APIC id "
    mov eax, [cpu_leaf1_ebx]
    shr eax, 24
    call print_dec
    test dword [cpu_leaf1_edx], CPUID_HTT
    jz .one_logical
    say ", "
    movzx eax, byte [cpu_leaf1_ebx + 2]
    call print_dec
    say " logical processors per package"
.one_logical:
    say 10
    call block_gap
    say "Local APIC"
    test dword [cpu_leaf1_edx], CPUID_APIC
    jnz .msr
    say 10, "  none: CPUID clears the APIC bit, so interrupts come from the 8259 PICs only", 10
    jmp .done
.msr:
    say " (IA32_APIC_BASE MSR 1Bh = "
    mov eax, [apic_base_msr]
    mov cl, 8
    call print_hex
    say ")", 10, "  base "
    and eax, 0xfffff000
    call print_hex
    test dword [apic_base_msr], 1 << 11
    jnz .enabled
    say ", globally disabled", 10
    jmp .done
.enabled:
    say ", enabled"
    test dword [apic_base_msr], 1 << 8
    jz .not_bsp
    say ", this processor is the bootstrap processor (BSP)"
.not_bsp:
    say 10, "  APIC ID register "
    mov eax, [lapic_id]
    call print_dec
    say ", version "
    movzx eax, byte [lapic_version]
    mov cl, 2
    call print_hex
    say "h, "
    movzx eax, byte [lapic_version + 2]
    inc eax
    call print_dec
    say " LVT entries", 10
.done:
    popad
    ret
