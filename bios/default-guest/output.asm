; Report output. Every line of the report is written into a buffer of 80-column lines, so the
; VGA screen can page through it 23 lines at a time; when the report is complete the same lines
; go to COM1 (trailing spaces trimmed, runs of blank lines collapsed).
;
; Register conventions: every routine here preserves all registers except where it says so.
; GS holds TEXT_SEG while the report is built and shown.

COLS          equ 80
PAGE_LINES    equ 23            ; screen rows 1-23; row 0 is the title bar, row 24 the key help
MAX_LINES     equ 400           ; 400 * 80 bytes = 32000 bytes
SCRATCH_LINE  equ MAX_LINES     ; one more line, used to build the title and help bars
TEXT_SEG      equ 0x2000        ; the line buffer lives at linear 0x20000
COM1          equ 0x3f8

; say "text", 10 ...: append a literal string (stored right after the call).
%macro say 1+
    call puts_inline
    db %1, 0
%endmacro

cur_line      dw 0
cur_col       dw 0
used_lines    dw 0              ; lines 0 .. used_lines-1 hold the report

; Fill the whole buffer, scratch line included, with spaces.
text_clear:
    push es
    push di
    push cx
    push ax
    mov ax, TEXT_SEG
    mov es, ax
    xor di, di
    mov cx, (MAX_LINES + 1) * COLS / 2
    mov ax, 0x2020
    rep stosw
    pop ax
    pop cx
    pop di
    pop es
    ret

; AL = character; 10 starts a new line. Text past column 80 or past the last line is dropped.
putc:
    push ax
    push bx
    cmp al, 10
    je .newline
    mov bx, [cur_col]
    cmp bx, COLS
    jae .done
    cmp word [cur_line], SCRATCH_LINE
    ja .done
    inc word [cur_col]
    push ax
    imul ax, [cur_line], COLS
    add bx, ax
    pop ax
    mov [gs:bx], al
    mov ax, [cur_line]
    cmp ax, MAX_LINES
    jae .done                   ; the scratch line is not part of the report
    inc ax
    cmp ax, [used_lines]
    jbe .done
    mov [used_lines], ax
    jmp .done
.newline:
    inc word [cur_line]
    mov word [cur_col], 0
.done:
    pop bx
    pop ax
    ret

; DS:SI = zero-terminated string. Returns SI just past the terminator.
puts:
    push ax
.next:
    lodsb
    test al, al
    jz .done
    call putc
    jmp .next
.done:
    pop ax
    ret

; Prints the zero-terminated string that follows the call, and returns past it.
puts_inline:
    push bp
    mov bp, sp
    push si
    mov si, [bp + 2]
    call puts
    mov [bp + 2], si
    pop si
    pop bp
    ret

; EAX = value, CL = number of hex digits (1-8).
print_hex:
    pushad
    movzx cx, cl
    mov edx, eax
    push cx
    neg cl
    add cl, 8
    shl cl, 2
    shl edx, cl                 ; first digit to print now in the top nibble
    pop cx
.digit:
    rol edx, 4
    mov al, dl
    and al, 0x0f
    add al, '0'
    cmp al, '9'
    jbe .put
    add al, 'A' - '9' - 1
.put:
    call putc
    loop .digit
    popad
    ret

; EAX = unsigned value, in decimal.
print_dec:
    pushad
    mov ebx, 10
    xor cx, cx
.divide:
    xor edx, edx
    div ebx
    push dx
    inc cx
    test eax, eax
    jnz .divide
.out:
    pop ax
    add al, '0'
    call putc
    loop .out
    popad
    ret

; EDX:EAX = a 64-bit address: 8 hex digits, or more when it lies above 4 GiB.
print_addr64:
    push eax
    push cx
    test edx, edx
    jz .low
    push eax
    mov eax, edx
    mov cl, 8
    call print_hex
    pop eax
    push ax
    mov al, '_'
    call putc
    pop ax
.low:
    mov cl, 8
    call print_hex
    pop cx
    pop eax
    ret

; EDX:EAX = a size in bytes: "N bytes", "N KiB" or "N.n MiB".
print_size:
    pushad
    test edx, edx
    jnz .mib
    cmp eax, 0x100000
    jae .mib
    test eax, 0x3ff
    jz .kib
    call print_dec
    say " bytes"
    jmp .done
.kib:
    shr eax, 10
    call print_dec
    say " KiB"
    jmp .done
.mib:
    shrd eax, edx, 10           ; KiB (fits 32 bits below 4 TiB)
    mov ebx, eax
    shr eax, 10
    call print_dec
    and ebx, 0x3ff
    jz .whole
    imul eax, ebx, 10
    shr eax, 10
    push ax
    mov al, '.'
    call putc
    pop ax
    call print_dec
.whole:
    say " MiB"
.done:
    popad
    ret

; EAX = four characters (a table signature as it lies in memory).
print_sig:
    push eax
    push cx
    mov cx, 4
.next:
    call putc
    shr eax, 8
    loop .next
    pop cx
    pop eax
    ret

; ESI = linear address, CX = field length: a fixed-length ID string (OEM ID, table ID), trailing
; spaces and NULs trimmed, anything unprintable shown as '.'.
print_flat_id:
    pushad
    movzx ecx, cx
.trim:
    jecxz .done
    mov al, [fs:esi + ecx - 1]
    cmp al, ' '
    je .shorter
    test al, al
    jnz .print
.shorter:
    dec ecx
    jmp .trim
.print:
    mov al, [fs:esi]
    inc esi
    cmp al, ' '
    jb .dot
    cmp al, '~'
    jbe .put
.dot:
    mov al, '.'
.put:
    call putc
    dec ecx
    jnz .print
.done:
    popad
    ret

; EAX = flags, SI = table of (bit number, name, 0) ending with 0xFF: the names of the set bits,
; separated by spaces; past column 72 the list goes on below, at column BL.
print_bit_names:
    pushad
    mov edx, eax
.next:
    mov cl, [si]
    cmp cl, 0xff
    je .done
    inc si
    bt edx, ecx                 ; the bit number is taken modulo 32
    jnc .skip
    cmp word [cur_col], 72
    jb .same_line
    push ax
    mov al, 10
    call putc
    mov al, bl
    call tab_to
    pop ax
.same_line:
    call puts
    push ax
    mov al, ' '
    call putc
    pop ax
    jmp .next
.skip:
    lodsb
    test al, al
    jnz .skip
    jmp .next
.done:
    popad
    ret

; AL = column: pad with spaces up to it.
tab_to:
    push ax
    push bx
    movzx bx, al
.pad:
    cmp [cur_col], bx
    jae .done
    mov al, ' '
    call putc
    jmp .pad
.done:
    pop bx
    pop ax
    ret

; Start a new line unless at the start of one.
end_line:
    cmp word [cur_col], 0
    je .done
    push ax
    mov al, 10
    call putc
    pop ax
.done:
    ret

; AX = lines needed: move to the top of the next page unless they fit on this one.
need_lines:
    push ax
    push bx
    push cx
    push dx
    call end_line
    mov bx, ax
    mov ax, [cur_line]
    xor dx, dx
    mov cx, PAGE_LINES
    div cx                      ; DX = line within the page
    add dx, bx
    cmp dx, PAGE_LINES
    jbe .done
    call page_break
.done:
    pop dx
    pop cx
    pop bx
    pop ax
    ret

; Move to the top of the next page unless already at the top of one.
page_break:
    push ax
    push dx
    push cx
    call end_line_in_page
    jz .done
    sub cx, dx
    add [cur_line], cx
.done:
    pop cx
    pop dx
    pop ax
    ret

; Finish the current line; DX = the next line's place within its page (ZF set at the top of a
; page), CX = PAGE_LINES.
end_line_in_page:
    call end_line
    mov ax, [cur_line]
    xor dx, dx
    mov cx, PAGE_LINES
    div cx
    test dx, dx
    ret

; A blank line between two blocks, unless at the top of a page.
block_gap:
    push ax
    push dx
    push cx
    call end_line_in_page
    jz .done
    inc word [cur_line]
.done:
    pop cx
    pop dx
    pop ax
    ret

; ---- COM1 ----

; 115200 baud (divisor 1), 8N1, FIFOs on, no interrupts.
serial_init:
    push ax
    push dx
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al
    mov dx, COM1
    mov al, 1
    out dx, al
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al
    mov dx, COM1 + 2
    mov al, 0xc7
    out dx, al
    mov dx, COM1 + 4
    mov al, 0x03
    out dx, al
    pop dx
    pop ax
    ret

; AL = byte. Waits for the transmitter, but not forever (a missing UART reads 0xFF).
serial_putc:
    push ax
    push cx
    push dx
    mov ah, al
    mov cx, 0xffff
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jnz .send
    loop .wait
.send:
    mov al, ah
    mov dx, COM1
    out dx, al
    pop dx
    pop cx
    pop ax
    ret

; DS:SI = zero-terminated string, straight to COM1 (SI is preserved).
serial_puts:
    push ax
    push si
.next:
    lodsb
    test al, al
    jz .done
    call serial_putc
    jmp .next
.done:
    pop si
    pop ax
    ret

; The whole report to COM1: one line per buffer line, trailing spaces trimmed, no two blank
; lines in a row.
dump_serial:
    pushad
    xor si, si                  ; line number
    mov di, 1                   ; 1: the previous line was blank (so none leads the output)
.line:
    cmp si, [used_lines]
    jae .done
    imul bx, si, COLS
    mov cx, COLS
.trim:                          ; CX = length without trailing spaces
    jcxz .blank
    push bx
    add bx, cx
    cmp byte [gs:bx - 1], ' '
    pop bx
    jne .text
    dec cx
    jmp .trim
.blank:
    test di, di
    jnz .next
    mov di, 1
    jmp .crlf
.text:
    xor di, di
.char:
    mov al, [gs:bx]
    call serial_putc
    inc bx
    loop .char
.crlf:
    mov al, 13
    call serial_putc
    mov al, 10
    call serial_putc
.next:
    inc si
    jmp .line
.done:
    popad
    ret
