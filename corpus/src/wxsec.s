# Adds a section that is allocated, writable AND executable ("awx"), so ld
# has to emit a PT_LOAD segment with PF_R|PF_W|PF_X.
    .section .wxsec,"awx",@progbits
    .globl wx_blob
wx_blob:
    ret
    .long 0
    .section .note.GNU-stack,"",@progbits
