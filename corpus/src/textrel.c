/* Compiled WITHOUT -fpic: the absolute reference to `g` in .text needs a
   dynamic relocation against the code segment -> DT_TEXTREL. */
int g = 42;
int get_g(void) { return g; }
