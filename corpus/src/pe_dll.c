/* Tiny DLL with one export. */
__declspec(dllexport) int dll_add(int a, int b) { return a + b; }
