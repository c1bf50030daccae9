@ ARM (AArch32, EABI5) Linux exit(0).
    .text
    .globl _start
_start:
    mov r0, #0
    mov r7, #1
    svc #0
    .section .note.GNU-stack,"",%progbits
