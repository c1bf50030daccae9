/* i686-pc-windows-msvc, no CRT; linked with lld-link /safeseh together with
   safeseh32.s (which registers one SafeSEH handler and the load config). */
int main(void) { return 0; }
