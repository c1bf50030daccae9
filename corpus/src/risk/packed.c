/* Base program for risk/packed.exe. Only its headers survive: risktool.py keeps the DOS
   header/stub and the optional-header fields of this linked x86_64 console program and
   replaces every section by UPX0/UPX1/UPX2 (see corpus/recipes/build-risk.sh). */
#include <stdio.h>
int main(void) { puts("bingate packed fixture"); return 0; }
