# 32-bit: one registered SafeSEH handler and a 72-byte (0x48)
# IMAGE_LOAD_CONFIG_DIRECTORY32 whose SEHandlerTable/Count point at the
# ___safe_se_handler_table/count symbols lld-link defines for /safeseh.
    .def @feat.00; .scl 3; .type 0; .endef
    .globl @feat.00
    .set @feat.00, 1                # object is SafeSEH-compatible

    .text
    .def _my_handler; .scl 3; .type 32; .endef
_my_handler:
    movl $1, %eax                   # ExceptionContinueSearch
    retl
    .safeseh _my_handler

    .data
    .p2align 2
    .globl ___security_cookie
___security_cookie:
    .long 0xBB40E64E

    .section .rdata,"dr"
    .p2align 2
    .globl __load_config_used
__load_config_used:
    .long 72                        # 0  Size
    .long 0                         # 4  TimeDateStamp
    .short 0, 0                     # 8  Major/MinorVersion
    .long 0, 0, 0                   # 12 GlobalFlagsClear/Set, CriticalSectionDefaultTimeout
    .long 0, 0, 0, 0, 0             # 24 DeCommit*, LockPrefixTable, MaximumAllocationSize, VirtualMemoryThreshold
    .long 0, 0                      # 44 ProcessHeapFlags, ProcessAffinityMask
    .short 0, 0                     # 52 CSDVersion, DependentLoadFlags
    .long 0                         # 56 EditList
    .long ___security_cookie        # 60 SecurityCookie
    .long ___safe_se_handler_table  # 64 SEHandlerTable
    .long ___safe_se_handler_count  # 68 SEHandlerCount
