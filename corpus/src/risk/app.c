/* risk/app.exe: a GUI program (-mwindows) that does nothing. All the facts of interest
   (VERSIONINFO, manifest, icon) come from app.rc. */
#include <windows.h>

int WINAPI WinMain(HINSTANCE inst, HINSTANCE prev, LPSTR cmdline, int show)
{
    (void)inst; (void)prev; (void)cmdline; (void)show;
    return 0;
}
