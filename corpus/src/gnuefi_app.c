/* Minimal GNU-EFI application: returns EFI_SUCCESS. Built as an ELF shared object with
 * gnu-efi's crt0 and linker script, then converted to PE by objcopy. */
#include <efi.h>
#include <efilib.h>

EFI_STATUS EFIAPI efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    (void)image;
    (void)systab;
    return EFI_SUCCESS;
}
