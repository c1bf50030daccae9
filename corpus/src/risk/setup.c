/* risk/setup.exe: i686 console program with no resources at all (no manifest, no
   VERSIONINFO). Its *name* is what matters: Windows' UAC installer detection applies to
   32-bit executables without a requestedExecutionLevel whose name contains "setup". */
#include <stdio.h>
int main(void) { puts("bingate setup fixture"); return 0; }
