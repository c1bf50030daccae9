// AArch64 Linux exit(0) with a hand-written .note.gnu.property declaring
// GNU_PROPERTY_AARCH64_FEATURE_1_AND (0xc0000000) = BTI|PAC (0x3).
    .text
    .globl _start
    .type _start, %function
_start:
    hint #34            // bti c
    mov x0, #0
    mov x8, #93         // __NR_exit
    svc #0

    .section .note.gnu.property,"a"
    .p2align 3
    .long 4             // n_namesz
    .long 16            // n_descsz
    .long 5             // NT_GNU_PROPERTY_TYPE_0
    .asciz "GNU"
    .long 0xc0000000    // GNU_PROPERTY_AARCH64_FEATURE_1_AND
    .long 4             // pr_datasz
    .long 3             // BTI | PAC
    .long 0             // pad to 8
    .section .note.GNU-stack,"",@progbits
