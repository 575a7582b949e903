; WebHVM default guest: a 1.44 MB boot floppy that shows what the firmware hands an operating
; system (the E820 memory map, the ACPI tables, the MP table, the processor and its APIC) and
; the HAL Windows Setup would install for it, on the VGA text screen and on COM1.
;
; Layout: the boot sector loads the rest of the program (the reserved sectors of an otherwise
; empty FAT12 file system) to 0000:7E00 and jumps there. The program reads the BIOS-only
; information first (E820, CPUID), then switches to unreal mode with interrupts off to read the
; tables wherever they are below 4 GiB, writes the report into a line buffer (details from
; page 2 on, then the summary on page 1), sends it to COM1 and pages it on the screen.
;
; Build: node bios/default-guest/build.mjs (nasm -f bin).

bits 16
org 0x7c00

SECTORS         equ 2880        ; 80 cylinders * 2 heads * 18 sectors
SECTORS_PER_TRACK equ 18
HEADS           equ 2
FAT_SECTORS     equ 9
ROOT_ENTRIES    equ 224
PROGRAM_SECTORS equ (program_end - $$ + 511) / 512

boot:
    jmp short boot_start
    nop
    db 'WEBHVM  '               ; OEM name
    dw 512                      ; bytes per sector
    db 1                        ; sectors per cluster
    dw PROGRAM_SECTORS          ; reserved sectors: the boot sector and the program
    db 2                        ; number of FATs
    dw ROOT_ENTRIES             ; root directory entries
    dw SECTORS                  ; total sectors
    db 0xf0                     ; media descriptor: 3.5" 1.44 MB
    dw FAT_SECTORS              ; sectors per FAT
    dw SECTORS_PER_TRACK
    dw HEADS
    dd 0                        ; hidden sectors
    dd 0                        ; total sectors (32-bit field, unused)
boot_drive:
    db 0                        ; drive number (the BIOS's DL is stored here)
    db 0                        ; reserved
    db 0x29                     ; extended boot signature
    dd 0x57484d32               ; volume serial number
    db 'WEBHVM-INFO'            ; volume label (11 bytes)
    db 'FAT12   '               ; file system type

boot_start:
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
    mov [boot_drive], dl
    mov si, 1                   ; LBA of the program's first sector
    mov ax, 0x07e0              ; loaded to 07E0:0000 = 0000:7E00, one sector at a time
    mov es, ax
.load:
    cmp si, PROGRAM_SECTORS
    jae program
    call read_sector
    jc boot_failed
    mov ax, es
    add ax, 512 / 16
    mov es, ax
    inc si
    jmp .load

; SI = LBA, ES = destination segment. CF set after three failed tries.
read_sector:
    mov di, 3
.try:
    mov ax, si
    xor dx, dx
    mov bx, SECTORS_PER_TRACK
    div bx                      ; AX = track (cylinder * heads + head), DX = sector - 1
    mov cl, dl
    inc cl
    mov dh, al
    and dh, HEADS - 1
    shr ax, 1
    mov ch, al
    mov dl, [boot_drive]
    xor bx, bx
    mov ax, 0x0201
    int 0x13
    jnc .done
    xor ax, ax                  ; reset the controller and try again
    mov dl, [boot_drive]
    int 0x13
    dec di
    jnz .try
    stc
.done:
    ret

boot_failed:
    mov si, boot_failed_message
.next:
    lodsb
    test al, al
    jz .halt
    mov ah, 0x0e
    mov bx, 0x0007
    int 0x10
    jmp .next
.halt:
    cli
    hlt
    jmp .halt

boot_failed_message:
    db 'WebHVM default guest: disk read error', 13, 10, 0

    times 510 - ($ - $$) db 0
    dw 0xaa55

; ---- The program (0000:7E00) ----

program:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ax, TEXT_SEG
    mov gs, ax
    mov ax, 0x0003              ; 80x25 colour text, cleared
    int 0x10
    call serial_init
    call text_clear
    call enable_a20
    call e820_collect
    call cpu_collect

    ; The tables: unreal mode, interrupts off until the report is complete.
    cli
    call enter_unreal
    call lapic_collect
    mov word [cur_line], PAGE_LINES     ; details from page 2 on
    call cpu_report
    call block_gap
    call e820_report
    call acpi_report
    call mp_report
    mov word [cur_line], 0
    mov word [cur_col], 0
    call summary_report
    sti

    call pager_start
    mov si, serial_banner
    call serial_puts
    call dump_serial
    mov si, serial_end
    call serial_puts
    jmp pager

serial_banner:
    db 13, 10, '=== WebHVM default guest: what the firmware handed the OS ===', 13, 10, 0
serial_end:
    db '=== end of report (keys sent here page the VGA screen) ===', 13, 10
    db 'WEBHVM-DEFAULT-GUEST-DONE', 13, 10, 0

%include "output.asm"
%include "flat-memory.asm"
%include "cpu-info.asm"
%include "e820.asm"
%include "acpi.asm"
%include "mp-table.asm"
%include "summary.asm"
%include "pager.asm"

program_end:
%if program_end - $$ > 0x10000 - 0x7c00 - 0x100
    %error "the program no longer fits below 0000:FF00"
%endif

    times PROGRAM_SECTORS * 512 - ($ - $$) db 0

; The rest is an empty FAT12 file system: two FATs, the root directory with the volume label.
%rep 2
    db 0xf0, 0xff, 0xff
    times FAT_SECTORS * 512 - 3 db 0
%endrep
    db 'WEBHVM-INFO'
    db 0x08                     ; attribute: volume label
    times 32 - 12 db 0
    times ROOT_ENTRIES * 32 - 32 db 0
    times SECTORS * 512 - ($ - $$) db 0
