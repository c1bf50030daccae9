/* With -D_FORTIFY_SOURCE=2 -O2 every call below becomes a __*_chk import:
   memcpy -> __memcpy_chk, strcpy -> __strcpy_chk, printf -> __printf_chk. */
#include <stdio.h>
#include <string.h>
char gbuf[32];
int plain_copy(const char *s, size_t n);  /* from fortify_plain.c (mixed fixture only) */
int main(int argc, char **argv) {
    char buf[16];
    const char *s = argc > 1 ? argv[1] : "x";
    size_t n = (size_t)argc * 4;        /* unknown length at compile time */
    memcpy(gbuf, s, n);                 /* __memcpy_chk */
    strcpy(buf, s);                     /* __strcpy_chk */
    printf("%d %s %s\n", argc, buf, gbuf); /* __printf_chk */
#ifdef WITH_PLAIN
    plain_copy(s, n);
#endif
    return 0;
}
