/* Tiny shared library. */
int lib_counter;
int lib_add(int a, int b) { lib_counter++; return a + b; }
