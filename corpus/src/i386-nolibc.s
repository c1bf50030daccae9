# i386 Linux exit(0) via int $0x80 (no libc).
    .text
    .globl _start
_start:
    movl $1, %eax
    xorl %ebx, %ebx
    int $0x80
    .section .note.GNU-stack,"",@progbits
