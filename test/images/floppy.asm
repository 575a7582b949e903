; WebHVM test floppy: a 1.44 MB image whose boot sector prints WEBHVM-FLOPPY-OK on the screen
; (INT 10h teletype) and on COM1 (polling the UART's line status register), then halts.
; The image is also an empty, valid FAT12 file system (BPB, two FATs, root directory).
; Build: nasm -f bin -o floppy.img floppy.asm

bits 16
org 0x7c00

SECTORS       equ 2880          ; 80 cylinders * 2 heads * 18 sectors
FAT_SECTORS   equ 9
ROOT_ENTRIES  equ 224
COM1          equ 0x3f8

boot:
    jmp short start
    nop
    db 'WEBHVM  '               ; OEM name
    dw 512                      ; bytes per sector
    db 1                        ; sectors per cluster
    dw 1                        ; reserved sectors (the boot sector)
    db 2                        ; number of FATs
    dw ROOT_ENTRIES             ; root directory entries
    dw SECTORS                  ; total sectors
    db 0xf0                     ; media descriptor: 3.5" 1.44 MB
    dw FAT_SECTORS              ; sectors per FAT
    dw 18                       ; sectors per track
    dw 2                        ; heads
    dd 0                        ; hidden sectors
    dd 0                        ; total sectors (32-bit field, unused)
    db 0                        ; drive number
    db 0                        ; reserved
    db 0x29                     ; extended boot signature
    dd 0x57484d31               ; volume serial number
    db 'WEBHVM-FLOP'            ; volume label (11 bytes)
    db 'FAT12   '               ; file system type

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    cld
    jmp 0:.flat                 ; CS = 0 whatever CS:IP the BIOS jumped with
.flat:
    mov ax, 0x0003              ; 80x25 colour text mode: a clean screen, marker on row 0
    int 0x10

    ; COM1: no interrupts, 115200 baud (divisor 1), 8N1, FIFOs on, DTR+RTS.
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

    mov si, message
.next:
    lodsb
    test al, al
    jz .done
    mov ah, 0x0e                ; teletype output, page 0
    mov bx, 0x0007
    push ax
    int 0x10
    pop ax
    ; Wait until the transmit holding register is empty (LSR bit 5), but not forever:
    ; a machine without a UART reads 0xFF and passes, a stuck one times out.
    mov bl, al
    mov cx, 0xffff
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jnz .send
    loop .wait
.send:
    mov al, bl
    mov dx, COM1
    out dx, al
    jmp .next

.done:
    cli
.halt:
    hlt
    jmp .halt

message:
    db 'WEBHVM-FLOPPY-OK', 13, 10, 0

    times 510 - ($ - $$) db 0
    dw 0xaa55

; Two copies of the FAT: media byte then the end-of-chain marker for cluster 1.
%rep 2
    db 0xf0, 0xff, 0xff
    times FAT_SECTORS * 512 - 3 db 0
%endrep

; Root directory: just the volume label entry.
    db 'WEBHVM-FLOP'
    db 0x08                     ; attribute: volume label
    times 32 - 12 db 0
    times ROOT_ENTRIES * 32 - 32 db 0

; Data area.
    times SECTORS * 512 - ($ - $$) db 0
