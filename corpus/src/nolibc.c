/* Freestanding x86-64 Linux program: exit(0) via raw syscall. Used for the
   static (-static -nostdlib) and static-pie fixtures. */
void _start(void) {
    __asm__ volatile("mov $60, %%eax\n\txor %%edi, %%edi\n\tsyscall" ::: "rax", "rdi", "memory");
    __builtin_unreachable();
}
