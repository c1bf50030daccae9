/* Freestanding "driver": entry point only, no imports. */
long DriverEntry(void *driver_object, void *registry_path) {
    (void)driver_object; (void)registry_path;
    return 0; /* STATUS_SUCCESS */
}
