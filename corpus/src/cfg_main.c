/* Built with clang --target=x86_64-pc-windows-msvc -Xclang -cfguard: the
   indirect call below is routed through __guard_dispatch_icall_fptr, and the
   address-taken functions land in the CFG function table (.gfids). No CRT:
   linked with lld-link /nodefaultlib /entry:main together with loadcfg64.s. */
typedef int (*fn_t)(int);
static int twice(int x) { return 2 * x; }
static int thrice(int x) { return 3 * x; }
fn_t volatile table[2] = { twice, thrice };
unsigned long long __security_cookie = 0x00002B992DDFA232ULL;
int main(void) {
    return table[1](table[0](1)) == 6 ? 0 : 1;
}
