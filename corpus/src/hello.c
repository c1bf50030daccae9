/* Minimal hosted program: no buffers, no fortifiable calls. */
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
