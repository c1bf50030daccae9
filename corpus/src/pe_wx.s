# COFF section ".wx" with flags x (code/execute) + w (write) -> the image
# section gets IMAGE_SCN_MEM_EXECUTE | IMAGE_SCN_MEM_WRITE.
    .section .wx,"xw"
    .globl wx_blob
wx_blob:
    ret
    .long 0
