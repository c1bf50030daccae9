/* Compiled with -U_FORTIFY_SOURCE: plain memcpy/strcpy imports. */
#include <string.h>
char pbuf[32];
char pbuf2[32];
__attribute__((noinline)) int plain_copy(const char *s, size_t n) {
    memcpy(pbuf, s, n);   /* plain memcpy */
    strcpy(pbuf2, s);     /* plain strcpy */
    return pbuf[0] + pbuf2[0];
}
