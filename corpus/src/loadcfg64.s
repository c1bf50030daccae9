# Hand-written 64-bit IMAGE_LOAD_CONFIG_DIRECTORY (Size 0x118 = 280, through
# GuardEHContinuationCount). The CFG fields reference the __guard_* symbols
# that lld-link synthesises for /guard:cf; SecurityCookie -> __security_cookie.
    .text
    .p2align 4
    .globl guard_dispatch_nop
guard_dispatch_nop:           # CFG dispatch stub: target is in %rax
    jmpq *%rax
    .globl guard_check_nop
guard_check_nop:              # CFG check stub: target is in %rcx
    retq

    .data
    .p2align 3
    .globl __guard_dispatch_icall_fptr
__guard_dispatch_icall_fptr:
    .quad guard_dispatch_nop
    .globl __guard_check_icall_fptr
__guard_check_icall_fptr:
    .quad guard_check_nop

    .section .rdata,"dr"
    .p2align 3
    .globl _load_config_used
_load_config_used:
    .long 280                       # 0   Size
    .long 0                         # 4   TimeDateStamp
    .short 0, 0                     # 8   Major/MinorVersion
    .long 0, 0, 0                   # 12  GlobalFlagsClear/Set, CriticalSectionDefaultTimeout
    .quad 0, 0, 0, 0, 0, 0          # 24  DeCommit*, LockPrefixTable, MaximumAllocationSize, VirtualMemoryThreshold, ProcessAffinityMask
    .long 0                         # 72  ProcessHeapFlags
    .short 0, 0                     # 76  CSDVersion, DependentLoadFlags
    .quad 0                         # 80  EditList
    .quad __security_cookie         # 88  SecurityCookie
    .quad 0, 0                      # 96  SEHandlerTable, SEHandlerCount (x86 only)
    .quad __guard_check_icall_fptr  # 112 GuardCFCheckFunctionPointer
    .quad __guard_dispatch_icall_fptr # 120 GuardCFDispatchFunctionPointer
    .quad __guard_fids_table        # 128 GuardCFFunctionTable
    .quad __guard_fids_count        # 136 GuardCFFunctionCount
    .long __guard_flags             # 144 GuardFlags
    .short 0, 0                     # 148 CodeIntegrity.Flags/Catalog
    .long 0, 0                      # 152 CodeIntegrity.CatalogOffset/Reserved
    .quad __guard_iat_table         # 160 GuardAddressTakenIatEntryTable
    .quad __guard_iat_count         # 168 GuardAddressTakenIatEntryCount
    .quad __guard_longjmp_table     # 176 GuardLongJumpTargetTable
    .quad __guard_longjmp_count     # 184 GuardLongJumpTargetCount
    .quad 0, 0, 0, 0                # 192 DynamicValueRelocTable, CHPEMetadataPointer, GuardRFFailureRoutine, GuardRFFailureRoutineFunctionPointer
    .long 0                         # 224 DynamicValueRelocTableOffset
    .short 0, 0                     # 228 DynamicValueRelocTableSection, Reserved2
    .quad 0                         # 232 GuardRFVerifyStackPointerFunctionPointer
    .long 0, 0                      # 240 HotPatchTableOffset, Reserved3
    .quad 0, 0                      # 248 EnclaveConfigurationPointer, VolatileMetadataPointer
    .quad __guard_eh_cont_table     # 264 GuardEHContinuationTable
    .quad __guard_eh_cont_count     # 272 GuardEHContinuationCount
