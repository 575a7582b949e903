; The memory map the BIOS reports with INT 15h, EAX=E820h ("SMAP"), as an OS loader reads it.
; Each 24-byte entry: base (8 bytes), length (8), type (4), ACPI 3.0 extended attributes (4).

E820_BUFFER     equ 0x1000      ; up to E820_MAX entries at 0000:1000
E820_ENTRY      equ 24
E820_MAX        equ 64
SMAP            equ 0x534d4150

e820_count      dw 0
e820_ram_kib    dd 0            ; sum of the usable (type 1) ranges
e820_ram_ranges dw 0

; Collect the map (real mode, interrupts on: the BIOS call may need them).
e820_collect:
    pushad
    push es
    xor ax, ax
    mov es, ax
    xor ebx, ebx
    mov di, E820_BUFFER
.next:
    mov dword [es:di + 20], 1   ; extended attributes "valid" unless the BIOS says otherwise
    mov eax, 0xe820
    mov edx, SMAP
    mov ecx, E820_ENTRY
    int 0x15
    jc .done                    ; carry: end of the list (or no E820 at all)
    cmp eax, SMAP
    jne .done
    cmp ecx, 20
    jb .skip
    cmp dword [es:di + 8], 0    ; empty ranges carry no information
    jne .keep
    cmp dword [es:di + 12], 0
    je .skip
.keep:
    inc word [e820_count]
    add di, E820_ENTRY
    cmp word [e820_count], E820_MAX
    jae .done
.skip:
    test ebx, ebx
    jnz .next
.done:
    pop es
    popad
    ret

; EAX = E820 type: its name.
print_e820_type:
    cmp eax, 1
    jne .t2
    say "usable RAM"
    ret
.t2:
    cmp eax, 2
    jne .t3
    say "reserved"
    ret
.t3:
    cmp eax, 3
    jne .t4
    say "ACPI tables (reclaimable)"
    ret
.t4:
    cmp eax, 4
    jne .t5
    say "ACPI NVS"
    ret
.t5:
    cmp eax, 5
    jne .other
    say "bad memory"
    ret
.other:
    say "type "
    call print_dec
    ret

e820_report:
    pushad
    movzx ax, byte [e820_count]
    add ax, 4
    call need_lines
    say "Memory map (INT 15h, EAX=E820h)"
    cmp word [e820_count], 0
    jne .table
    say 10, "  the BIOS returned no E820 map", 10
    jmp .done
.table:
    say 10, "  start              end                size         type", 10
    mov si, E820_BUFFER
    mov cx, [e820_count]
.entry:
    say "  "
    mov eax, [si]
    mov edx, [si + 4]
    call print_addr64
    mov al, 21
    call tab_to
    mov eax, [si]               ; end = base + length - 1
    mov edx, [si + 4]
    add eax, [si + 8]
    adc edx, [si + 12]
    sub eax, 1
    sbb edx, 0
    call print_addr64
    mov al, 40
    call tab_to
    mov eax, [si + 8]
    mov edx, [si + 12]
    call print_size
    mov al, 53
    call tab_to
    mov eax, [si + 16]
    call print_e820_type
    cmp eax, 1
    jne .next
    inc word [e820_ram_ranges]
    mov eax, [si + 8]           ; KiB of RAM, rounded down
    mov edx, [si + 12]
    shrd eax, edx, 10
    add [e820_ram_kib], eax
.next:
    say 10
    add si, E820_ENTRY
    loop .entry
    say "  total: "
    call print_ram_total
    say 10
.done:
    popad
    ret

; "N MiB in R ranges" from the totals e820_report computed.
print_ram_total:
    pushad
    mov eax, [e820_ram_kib]
    xor edx, edx
    shld edx, eax, 10
    shl eax, 10
    call print_size
    say " usable RAM in "
    movzx eax, word [e820_ram_ranges]
    call print_dec
    say " range"
    cmp word [e820_ram_ranges], 1
    je .done
    say "s"
.done:
    popad
    ret
