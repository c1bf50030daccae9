/* Native-subsystem user-mode program (like smss.exe or autochk.exe): imports only ntdll.dll. */
__declspec(dllimport) long __stdcall NtTerminateProcess(void *process, long status);

void NtProcessStartup(void *peb) {
    (void)peb;
    NtTerminateProcess((void *)-1, 0);
}
