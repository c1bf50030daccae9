# COFF data section ".shr" with flags d (data) + w (write) + s (shared) ->
# IMAGE_SCN_MEM_SHARED | IMAGE_SCN_MEM_WRITE in the image.
    .section .shr,"dws"
    .globl shr_blob
shr_blob:
    .long 0x11223344
