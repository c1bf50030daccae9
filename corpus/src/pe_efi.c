/* Freestanding UEFI image: entry point only, no imports. */
typedef unsigned long long UINTN;
UINTN efi_main(void *image_handle, void *system_table) {
    (void)image_handle; (void)system_table;
    return 0; /* EFI_SUCCESS */
}
