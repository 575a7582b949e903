; The VGA text screen (80x25, mode 3): a title bar, 23 lines of the report, and a key help bar.
; Any key (keyboard through INT 16h, or a byte on COM1) shows the next page; b, PgUp or Up the
; previous one; Home the first.

SCREEN_SEG      equ 0xb800
TITLE_ATTR      equ 0x1f            ; white on blue
HELP_ATTR       equ 0x70            ; black on grey
TEXT_ATTR       equ 0x07
LABEL_ATTR      equ 0x0e            ; yellow

page_count      dw 1

; SI = offset of a buffer line in GS, DI = screen row, AH = attribute. With AH = 0 the line's
; label (from its first column up to the first two spaces) is yellow, the rest grey; lines that
; start with a space are all grey.
copy_line_to_row:
    pushad
    push es
    mov bx, SCREEN_SEG
    mov es, bx
    imul di, di, COLS * 2
    mov bl, ah
    test bl, bl
    jnz .copy
    mov bl, TEXT_ATTR
    cmp byte [gs:si], ' '
    je .copy
    mov bl, LABEL_ATTR
.copy:
    mov cx, COLS
.char:
    mov al, [gs:si]
    test ah, ah
    jnz .store
    cmp al, ' '
    jne .store
    cmp cx, 1
    je .store
    cmp byte [gs:si + 1], ' '
    jne .store
    mov bl, TEXT_ATTR
.store:
    mov [es:di], al
    mov [es:di + 1], bl
    add di, 2
    inc si
    loop .char
    pop es
    popad
    ret

; Fill the scratch line with spaces and start writing there.
scratch_begin:
    push ax
    push cx
    push di
    push es
    mov ax, gs
    mov es, ax
    mov di, SCRATCH_LINE * COLS
    mov cx, COLS
    mov al, ' '
    rep stosb
    mov word [cur_line], SCRATCH_LINE
    mov word [cur_col], 0
    pop es
    pop di
    pop cx
    pop ax
    ret

; BP = page number (from 0).
show_page:
    pushad
    push word [cur_line]
    push word [cur_col]
    call scratch_begin
    say " WebHVM default guest: what the firmware handed the OS"
    mov al, 68
    call tab_to
    say "page "
    movzx eax, bp
    inc eax
    call print_dec
    say "/"
    movzx eax, word [page_count]
    call print_dec
    mov si, SCRATCH_LINE * COLS
    xor di, di
    mov ah, TITLE_ATTR
    call copy_line_to_row
    call scratch_begin
    say " any key: next page    b, PgUp: back    Home: first    (keys on COM1 work too)"
    mov si, SCRATCH_LINE * COLS
    mov di, 24
    mov ah, HELP_ATTR
    call copy_line_to_row
    call scratch_begin          ; a blank line for rows past the end of the report
    pop word [cur_col]
    pop word [cur_line]
    imul bx, bp, PAGE_LINES     ; first report line on this page
    mov di, 1
.row:
    mov si, SCRATCH_LINE * COLS
    cmp bx, [used_lines]
    jae .copy
    imul si, bx, COLS
.copy:
    xor ah, ah
    call copy_line_to_row
    inc bx
    inc di
    cmp di, 24
    jb .row
    popad
    ret

; Counts the pages, hides the cursor and shows page 1 (BP = 0 on return).
pager_start:
    mov ax, [used_lines]
    add ax, PAGE_LINES - 1
    xor dx, dx
    mov cx, PAGE_LINES
    div cx
    test ax, ax
    jnz .count
    inc ax
.count:
    mov [page_count], ax
    mov ah, 0x01                ; hide the cursor
    mov cx, 0x2000
    int 0x10
    xor bp, bp
    jmp show_page

; Never returns: pages on key presses, from page BP.
pager:
    sti
    jmp .wait
.show:
    call show_page
.wait:
    mov ah, 0x01                ; a key waiting?
    int 0x16
    jnz .key
    mov dx, COM1 + 5            ; a byte on COM1?
    in al, dx
    test al, 1
    jnz .serial
    hlt                         ; until the next interrupt (the timer ticks 18 times a second)
    jmp .wait
.key:
    xor ah, ah
    int 0x16
    cmp ah, 0x47                ; Home
    je .first
    cmp ah, 0x49                ; PgUp
    je .back
    cmp ah, 0x48                ; Up
    je .back
    jmp .letter
.serial:
    mov dx, COM1
    in al, dx
.letter:
    or al, 0x20                 ; either case
    cmp al, 'b'
    je .back
.next:
    inc bp
    cmp bp, [page_count]
    jb .show
.first:
    xor bp, bp
    jmp .show
.back:
    test bp, bp
    jz .last
    dec bp
    jmp .show
.last:
    mov bp, [page_count]
    dec bp
    jmp .show
