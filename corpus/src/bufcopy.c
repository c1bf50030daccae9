/* Has a local char array so -fstack-protector-strong really emits a canary.
   Built with -U_FORTIFY_SOURCE so strcpy stays plain. */
#include <stdio.h>
#include <string.h>
__attribute__((noinline)) int echo(const char *s) {
    char buf[64];
    strcpy(buf, s);
    return puts(buf);
}
int main(int argc, char **argv) { return echo(argc > 1 ? argv[1] : "x"); }
