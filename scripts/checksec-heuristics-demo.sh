#!/usr/bin/env bash
# scripts/checksec-heuristics-demo.sh — build one tiny ELF per checksec.sh 2.6
# heuristic that compare-checksec.py knows about, then run compare-checksec.py
# on them, so every documented reason is shown firing on a real file.
#
# Usage: scripts/checksec-heuristics-demo.sh        (needs gcc, readelf, python3,
#        checksec.sh at /usr/bin/checksec, and a built target/release/bingate)
#
# Files built (in a temp dir, removed on exit):
#   dfnow              -z now, then DF_BIND_NOW cleared in DT_FLAGS so only
#                      DF_1_NOW ("Flags: NOW") requests immediate binding
#                      -> CHECKSEC_RELRO_IGNORES_DF_1_NOW
#   interp-dso.so      shared object with a .interp section (PT_INTERP) and no
#                      DT_DEBUG, built the way glibc builds libc.so.6
#                      -> CHECKSEC_PIE_NEEDS_DT_DEBUG
#   libDEBUGdemo.so    plain shared object whose SONAME contains "DEBUG"
#                      -> CHECKSEC_PIE_DEBUG_TEXT_IN_DSO
#   canary-substring   no stack protector, exports my__stack_chk_fail_hook
#                      -> CHECKSEC_CANARY_SUBSTRING_MATCH
#   empty-runpath      DT_RUNPATH present with an empty string
#                      -> CHECKSEC_EMPTY_PATH_STRING (only if bingate lists it)
#   hello.o            relocatable object, .note.GNU-stack without X flag
#                      -> CHECKSEC_NX_OBJECT_GNU_STACK_NOTE
# Exit status is compare-checksec.py's.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
T="$(mktemp -d "${TMPDIR:-/tmp}/checksec-demo.XXXXXX")"
trap 'rm -rf -- "$T"' EXIT
cd "$T"
mkdir src out

cat > src/m.c <<'EOF'
#include <stdio.h>
int main(void) { puts("hi"); return 0; }
EOF
cat > src/lib.c <<'EOF'
int f(int x) { return x + 1; }
EOF
cat > src/interp.c <<'EOF'
const char my_interp[] __attribute__((section(".interp"))) = "/lib64/ld-linux-x86-64.so.2";
int f(int x) { return x + 1; }
EOF
cat > src/sub.c <<'EOF'
#include <stdio.h>
void my__stack_chk_fail_hook(void) {}
int main(void) { puts("hi"); return 0; }
EOF

gcc -O1 -Wl,-z,now -Wl,-z,relro src/m.c -o out/dfnow
python3 - out/dfnow <<'EOF'
import struct, sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
assert b[4] == 2 and b[5] == 1, "expects ELF64 little-endian"
phoff, = struct.unpack_from("<Q", b, 0x20); phentsize, phnum = struct.unpack_from("<HH", b, 0x36)
for i in range(phnum):
    o = phoff + i * phentsize
    if struct.unpack_from("<I", b, o)[0] == 2:  # PT_DYNAMIC
        off, = struct.unpack_from("<Q", b, o + 8); sz, = struct.unpack_from("<Q", b, o + 32)
        for j in range(off, off + sz, 16):
            tag, val = struct.unpack_from("<qQ", b, j)
            if tag == 30:  # DT_FLAGS: clear DF_BIND_NOW, keep DF_1_NOW in DT_FLAGS_1
                struct.pack_into("<Q", b, j + 8, val & ~0x8)
            if tag == 24:  # DT_BIND_NOW -> turn into a second DT_FLAGS 0 (harmless)
                struct.pack_into("<qQ", b, j, 30, 0)
open(p, "wb").write(b)
EOF
gcc -O1 -shared -fPIC src/interp.c -o out/interp-dso.so
gcc -O1 -shared -fPIC -Wl,-soname,libDEBUGdemo.so src/lib.c -o out/libDEBUGdemo.so
gcc -O1 -fno-stack-protector src/sub.c -o out/canary-substring
gcc -O1 src/m.c -o out/empty-runpath -Wl,--enable-new-dtags -Wl,-rpath,''
gcc -O1 -c src/lib.c -o out/hello.o

python3 "$REPO/scripts/compare-checksec.py" "$T/out" "$@"
