#!/usr/bin/env bash
# Rebuilds every bingate test fixture under corpus/elf and corpus/pe from
# corpus/src. Re-runnable; deterministic as far as the toolchains allow.
#
# Toolchain this corpus was produced with (Debian 12 "bookworm"):
#   gcc 12.2.0 (+ gcc-multilib), GNU binutils 2.40 (+ aarch64/riscv64/powerpc/
#   arm-linux-gnueabihf cross binutils), mingw-w64 gcc 12 / binutils 2.40,
#   clang-14 + lld-link-14, gnu-efi 3.0.15.
#   apt-get install -y gcc gcc-multilib mingw-w64 clang-14 lld-14 gnu-efi \
#     binutils-aarch64-linux-gnu binutils-riscv64-linux-gnu \
#     binutils-powerpc-linux-gnu binutils-arm-linux-gnueabihf
#
# Expected facts for every output live in corpus/expected.json; they were
# derived from the flags below and checked with readelf/objdump/llvm-readobj,
# never with bingate. A different toolchain version may change the bytes (and
# occasionally a fact, e.g. default RELRO or mingw DllCharacteristics):
# re-verify expected.json if you rebuild with other tools.
#
# Usage: bash corpus/recipes/build.sh        (from anywhere)
set -euo pipefail

CORPUS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$CORPUS"
export SOURCE_DATE_EPOCH=0
export LC_ALL=C TZ=UTC

S=src
E=elf
P=pe
mkdir -p "$E" "$P"
rm -f "$E"/* "$P"/*   # start clean: these directories hold build outputs only
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# Map the build directories away so no absolute path leaks into outputs.
# (No -fno-ident: the "GCC: (...)" ident strings are toolchain evidence.)
DET="-ffile-prefix-map=$CORPUS=. -ffile-prefix-map=$TMP=tmp"
GDET="$DET"
GCC="gcc -Os $GDET -U_FORTIFY_SOURCE"

need() { command -v "$1" >/dev/null 2>&1 || { echo "build.sh: missing tool $1" >&2; exit 1; }; }
for t in gcc as ld strip x86_64-w64-mingw32-gcc x86_64-w64-mingw32-objcopy i686-w64-mingw32-gcc clang-14 lld-link-14 \
         aarch64-linux-gnu-as aarch64-linux-gnu-ld riscv64-linux-gnu-as riscv64-linux-gnu-ld \
         powerpc-linux-gnu-as powerpc-linux-gnu-ld arm-linux-gnueabihf-as arm-linux-gnueabihf-ld; do
  need "$t"
done
for f in /usr/lib/crt0-efi-x86_64.o /usr/lib/elf_x86_64_efi.lds /usr/lib/libgnuefi.a /usr/include/efi/efi.h; do
  [ -e "$f" ] || { echo "build.sh: missing $f (apt-get install gnu-efi)" >&2; exit 1; }
done

###############################################################################
# ELF x86-64 (gcc 12, Debian defaults: --enable-default-pie, no default
# -fstack-protector, no default _FORTIFY_SOURCE, ld defaults to -z relro
# (lazy binding) so the default is *partial* RELRO).
###############################################################################

# pie-default: gcc defaults only -> PIE, NX, partial RELRO, no canary.
$GCC $S/hello.c -o $E/pie-default

# pie-stripped: same as pie-default, then `strip` (no .symtab).
cp $E/pie-default $E/pie-stripped
strip $E/pie-stripped

# no-pie: -no-pie -> ET_EXEC.
$GCC -no-pie $S/hello.c -o $E/no-pie

# execstack: -z execstack -> PT_GNU_STACK is RWE (nx false).
$GCC -Wl,-z,execstack $S/hello.c -o $E/execstack

# norelro: -z norelro -> no PT_GNU_RELRO.
$GCC -Wl,-z,norelro $S/hello.c -o $E/norelro

# full-relro: -z now -> PT_GNU_RELRO + DF_BIND_NOW/DF_1_NOW.
$GCC -Wl,-z,now $S/hello.c -o $E/full-relro

# canary: -fstack-protector-strong on a function with char buf[64]
# -> imports __stack_chk_fail.
$GCC -fstack-protector-strong $S/bufcopy.c -o $E/canary

# no-canary: same source, -fno-stack-protector -> no __stack_chk_* symbol;
# plain strcpy/puts imports (unfortified strcpy = 1).
$GCC -fno-stack-protector $S/bufcopy.c -o $E/no-canary

# fortify: -D_FORTIFY_SOURCE=2 -O2 -> imports __memcpy_chk, __strcpy_chk,
# __printf_chk and no plain counterpart.
gcc -O2 $GDET -fno-stack-protector -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2 \
  $S/fortify.c -o $E/fortify

# fortify-mixed: fortify.c fortified + fortify_plain.c with -U_FORTIFY_SOURCE
# -> 3 __*_chk imports plus plain memcpy and strcpy.
gcc -O2 $GDET -fno-stack-protector -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2 -DWITH_PLAIN \
  -c $S/fortify.c -o $TMP/fortify-mixed-a.o
gcc -O2 $GDET -fno-stack-protector -U_FORTIFY_SOURCE \
  -c $S/fortify_plain.c -o $TMP/fortify-mixed-b.o
gcc $TMP/fortify-mixed-a.o $TMP/fortify-mixed-b.o -o $E/fortify-mixed

# cf-protection: -fcf-protection=full. Debian 12's crt1.o/crti.o/crtn.o carry
# no x86 feature note, so the linked binary has NO IBT/SHSTK property (the
# AND of all inputs); readelf -n shows only ISA-needed/x86 property notes.
$GCC -fcf-protection=full $S/hello.c -o $E/cf-protection

# cf-protection-nolibc: -fcf-protection=full, -nostdlib -static: the only
# input object carries IBT|SHSTK, so the output keeps
# GNU_PROPERTY_X86_FEATURE_1_AND = IBT, SHSTK.
gcc -Os $GDET -fcf-protection=full -static -nostdlib $S/nolibc.c -o $E/cf-protection-nolibc

# rpath: --disable-new-dtags -> DT_RPATH "/tmp/lib:$ORIGIN/../lib".
$GCC '-Wl,-rpath,/tmp/lib:$ORIGIN/../lib' -Wl,--disable-new-dtags $S/hello.c -o $E/rpath

# runpath: --enable-new-dtags -> DT_RUNPATH "/tmp/lib:$ORIGIN/../lib".
$GCC '-Wl,-rpath,/tmp/lib:$ORIGIN/../lib' -Wl,--enable-new-dtags $S/hello.c -o $E/runpath

# libshared.so: -shared -fPIC -> ET_DYN without PT_INTERP / DF_1_PIE.
$GCC -fPIC -shared $S/lib.c -o $E/libshared.so

# static: -static -nostdlib (freestanding) -> ET_EXEC, no PT_INTERP, no
# PT_DYNAMIC. (glibc -static would be ~800 KB, too big for the corpus.)
gcc -Os $GDET -fcf-protection=none -static -nostdlib $S/nolibc.c -o $E/static

# static-pie: -static-pie -nostdlib -> ET_DYN with DF_1_PIE and PT_DYNAMIC
# but no PT_INTERP.
gcc -Os $GDET -fcf-protection=none -fPIE -static-pie -nostdlib $S/nolibc.c -o $E/static-pie

# no-gnu-stack: hand-assembled, NO .note.GNU-stack, linked with plain ld.
# binutils 2.40 then emits no PT_GNU_STACK at all (nx false per definition).
as --64 $S/x64-noexecstack-note-missing.s -o $TMP/nognustack.o
ld -m elf_x86_64 --build-id=none $TMP/nognustack.o -o $E/no-gnu-stack

# wx-segment: extra "awx" section -> a PT_LOAD with R|W|X (ld warns about it).
$GCC $S/hello.c $S/wxsec.s -Wl,--no-warn-rwx-segments -o $E/wx-segment

# textrel.so: non-PIC code in a shared object, x86-64, -mcmodel=large so the
# absolute reference is an R_X86_64_64 in .text; -z notext allows it
# -> DT_TEXTREL / DF_TEXTREL.
gcc -Os $GDET -fno-pic -mcmodel=large -c $S/textrel.c -o $TMP/textrel.o
gcc -shared -Wl,-z,notext $TMP/textrel.o -o $E/textrel.so

# textrel32.so: same idea for i386 (-m32 -fno-pic -shared -z notext).
gcc -m32 -Os $GDET -fno-pic -c $S/textrel.c -o $TMP/textrel32.o
gcc -m32 -shared -Wl,-z,notext $TMP/textrel32.o -o $E/textrel32.so

# hello.o: relocatable object (ET_REL).
$GCC -c $S/hello.c -o $E/hello.o

###############################################################################
# ELF 32-bit x86 (gcc -m32, gcc-multilib) and hand-assembled i386.
###############################################################################

# m32-pie: gcc -m32 defaults -> i386 PIE, partial RELRO.
$GCC -m32 $S/hello.c -o $E/m32-pie

# m32-canary-now: -m32 -fstack-protector-strong -z now -> i386 uses
# __stack_chk_fail_local (hidden, in .symtab) + __stack_chk_fail import.
$GCC -m32 -fstack-protector-strong -Wl,-z,now $S/bufcopy.c -o $E/m32-canary-now

# i386-asm: hand-assembled i386 static program (as --32 / ld -m elf_i386).
as --32 $S/i386-nolibc.s -o $TMP/i386.o
ld -m elf_i386 --build-id=none $TMP/i386.o -o $E/i386-asm

###############################################################################
# Cross-arch ELFs, hand-written assembly, binutils only (static ET_EXEC).
###############################################################################

# aarch64-bti-pac: .note.gnu.property AARCH64_FEATURE_1_AND = BTI|PAC.
aarch64-linux-gnu-as $S/aarch64-bti-pac.s -o $TMP/a64bti.o
aarch64-linux-gnu-ld --build-id=none $TMP/a64bti.o -o $E/aarch64-bti-pac

# aarch64-plain: no property note.
aarch64-linux-gnu-as $S/aarch64-plain.s -o $TMP/a64.o
aarch64-linux-gnu-ld --build-id=none $TMP/a64.o -o $E/aarch64-plain

# riscv64: RV64 little-endian.
riscv64-linux-gnu-as $S/riscv64.s -o $TMP/rv64.o
riscv64-linux-gnu-ld --build-id=none $TMP/rv64.o -o $E/riscv64

# ppc32-be: 32-bit big-endian PowerPC.
powerpc-linux-gnu-as -a32 $S/ppc32.s -o $TMP/ppc32.o
powerpc-linux-gnu-ld --build-id=none $TMP/ppc32.o -o $E/ppc32-be

# arm32: ELF32 ARM EABI5 (hard-float toolchain binutils).
arm-linux-gnueabihf-as $S/arm32.s -o $TMP/arm32.o
arm-linux-gnueabihf-ld --build-id=none $TMP/arm32.o -o $E/arm32

###############################################################################
# PE via mingw-w64 (gcc 12 / binutils 2.40). binutils >= 2.36 turns on
# --dynamicbase --nxcompat --high-entropy-va (64-bit) by default and keeps
# a .reloc section. All stripped (-s) except where noted;
# --no-insert-timestamp -> TimeDateStamp 0.
###############################################################################
MW64="x86_64-w64-mingw32-gcc -Os $DET -s -Wl,--no-insert-timestamp"
MW32="i686-w64-mingw32-gcc -Os $DET -s -Wl,--no-insert-timestamp"

# x64-default.exe: binutils defaults -> DYNAMIC_BASE|NX_COMPAT|HIGH_ENTROPY_VA.
$MW64 $S/hello.c -o $P/x64-default.exe

# x64-no-dynamicbase.exe: --disable-dynamicbase. binutils 2.40 then also
# clears HIGH_ENTROPY_VA (DllCharacteristics 0x100), but still emits .reloc and
# does NOT set IMAGE_FILE_RELOCS_STRIPPED.
$MW64 -Wl,--disable-dynamicbase $S/hello.c -o $P/x64-no-dynamicbase.exe

# x64-no-nxcompat.exe: --disable-nxcompat.
$MW64 -Wl,--disable-nxcompat $S/hello.c -o $P/x64-no-nxcompat.exe

# x64-no-heva.exe: --disable-high-entropy-va.
$MW64 -Wl,--disable-high-entropy-va $S/hello.c -o $P/x64-no-heva.exe

# x64-relocs-stripped.exe: --disable-reloc-section -> no .reloc, FileHeader
# IMAGE_FILE_RELOCS_STRIPPED (0x1); binutils then also clears DYNAMIC_BASE and
# HIGH_ENTROPY_VA on its own (DllCharacteristics 0x100).
$MW64 -Wl,--disable-reloc-section $S/hello.c -o $P/x64-relocs-stripped.exe

# x64-exec-idata.exe: x64-default.exe post-processed with objcopy so the
# section holding the import directory (.idata) is CODE|EXECUTE (and stays
# WRITE) -> executable imports + a W+X section (.idata).
x86_64-w64-mingw32-objcopy --set-section-flags .idata=contents,alloc,load,code \
  $P/x64-default.exe $P/x64-exec-idata.exe

# x64-flags.exe: --forceinteg --no-isolation --no-seh --tsaware on top of
# the defaults (FORCE_INTEGRITY 0x80, NO_ISOLATION 0x200, NO_SEH 0x400,
# TERMINAL_SERVER_AWARE 0x8000).
$MW64 -Wl,--forceinteg -Wl,--no-isolation -Wl,--no-seh -Wl,--tsaware $S/hello.c -o $P/x64-flags.exe

# x64-gui.exe: -mwindows -> subsystem 2 (Windows GUI).
$MW64 -mwindows $S/hello.c -o $P/x64-gui.exe

# x64.dll: -shared -> IMAGE_FILE_DLL.
$MW64 -shared $S/pe_dll.c -o $P/x64.dll

# x64-wx.exe: extra COFF section ".wx" flagged code+write -> MEM_EXECUTE|MEM_WRITE.
$MW64 $S/hello.c $S/pe_wx.s -o $P/x64-wx.exe

# x64-shared.exe: extra COFF section ".shr" flagged data+write+shared
# -> MEM_SHARED|MEM_WRITE.
$MW64 $S/hello.c $S/pe_shared.s -o $P/x64-shared.exe

# x64-native.sys: -nostdlib, --subsystem native, entry DriverEntry,
# --image-base 0x10000 (driver-like; not a DLL).
$MW64 -nostdlib -Wl,--subsystem,native -Wl,-e,DriverEntry -Wl,--image-base,0x10000 \
  $S/pe_driver.c -o $P/x64-native.sys

# x64-native-user.exe: --subsystem native, imports only ntdll.dll (NtTerminateProcess):
# a user-mode native program like smss.exe -> kind native-executable, not driver.
$MW64 -nostdlib -Wl,--subsystem,native -Wl,-e,NtProcessStartup $S/pe_native_user.c -lntdll \
  -o $P/x64-native-user.exe

# x64-efi-app.efi: -nostdlib, --subsystem 10 (EFI application), entry efi_main.
$MW64 -nostdlib -Wl,--subsystem,10 -Wl,-e,efi_main $S/pe_efi.c -o $P/x64-efi-app.efi

# x64-efi-bsdriver.efi: -nostdlib, --subsystem 11 (EFI boot service driver).
$MW64 -nostdlib -Wl,--subsystem,11 -Wl,-e,efi_main $S/pe_efi.c -o $P/x64-efi-bsdriver.efi

# x86-default.exe: i686 binutils defaults -> DYNAMIC_BASE|NX_COMPAT (no
# HIGH_ENTROPY_VA for PE32), no LARGE_ADDRESS_AWARE.
$MW32 $S/hello.c -o $P/x86-default.exe

# x86-no-dynamicbase.exe: i686 with --disable-dynamicbase.
$MW32 -Wl,--disable-dynamicbase $S/hello.c -o $P/x86-no-dynamicbase.exe

# x86-laa-noseh.exe: i686 with --large-address-aware --no-seh
# (LARGE_ADDRESS_AWARE 0x20, NO_SEH 0x400).
$MW32 -Wl,--large-address-aware -Wl,--no-seh $S/hello.c -o $P/x86-laa-noseh.exe

# x86.dll: i686 -shared.
$MW32 -shared $S/pe_dll.c -o $P/x86.dll

###############################################################################
# PE via clang-14 + lld-link-14, no CRT (/nodefaultlib /entry:main).
# /Brepro -> deterministic timestamp (hash).
###############################################################################
CL64="clang-14 --target=x86_64-pc-windows-msvc -Os $DET -fno-stack-protector -Xclang -cfguard"
$CL64 -c $S/cfg_main.c -o $TMP/cfg_main.obj
clang-14 --target=x86_64-pc-windows-msvc -c $S/loadcfg64.s -o $TMP/loadcfg64.obj

# clang-cfg.exe: /guard:cf with a hand-written _load_config_used
# -> GUARD_CF (0x4000), GuardFlags CF_INSTRUMENTED|CF_FUNCTION_TABLE_PRESENT,
# SecurityCookie -> __security_cookie.
lld-link-14 /nologo /Brepro /guard:cf /nodefaultlib /entry:main /subsystem:console \
  /out:$P/clang-cfg.exe $TMP/cfg_main.obj $TMP/loadcfg64.obj

# clang-cfg-cet.exe: same + /cetcompat (debug directory entry type 20,
# IMAGE_DLLCHARACTERISTICS_EX_CET_COMPAT) + /guard:ehcont (GuardFlags
# EH_CONTINUATION_TABLE_PRESENT 0x00400000) + /appcontainer (0x1000).
lld-link-14 /nologo /Brepro /guard:cf /guard:ehcont /cetcompat /appcontainer \
  /nodefaultlib /entry:main /subsystem:console \
  /out:$P/clang-cfg-cet.exe $TMP/cfg_main.obj $TMP/loadcfg64.obj

# clang-nocfg.exe: same objects linked WITHOUT /guard:cf (/guard:no): load
# config present but GuardFlags 0 and no GUARD_CF bit; /dynamicbase:no.
lld-link-14 /nologo /Brepro /guard:no /dynamicbase:no /nodefaultlib /entry:main /subsystem:console \
  /out:$P/clang-nocfg.exe $TMP/cfg_main.obj $TMP/loadcfg64.obj

# clang-x86-safeseh.exe: i686, /safeseh with one registered handler and a
# 32-bit load config -> SEHandlerTable/SEHandlerCount=1, SecurityCookie set.
clang-14 --target=i686-pc-windows-msvc -Os $DET -fno-stack-protector -c $S/safeseh32_main.c -o $TMP/safeseh32_main.obj
clang-14 --target=i686-pc-windows-msvc -c $S/safeseh32.s -o $TMP/safeseh32.obj
lld-link-14 /nologo /Brepro /safeseh /nodefaultlib /entry:main /subsystem:console \
  /out:$P/clang-x86-safeseh.exe $TMP/safeseh32_main.obj $TMP/safeseh32.obj

###############################################################################
# GNU-EFI (gnu-efi 3.0.15, gcc 12, binutils 2.40): an ELF shared object linked
# with gnu-efi's crt0 and linker script, converted to PE by objcopy. Not a
# mingw-w64 build although the optional header says linker 2.40 (BFD wrote it):
# the ELF sections .dynamic/.dynsym survive the conversion.
###############################################################################

# gnu-efi-app.efi: subsystem 10, DllCharacteristics 0, image base 0, no imports.
gcc -Os $DET -I/usr/include/efi -I/usr/include/efi/x86_64 -fpic -fshort-wchar -ffreestanding \
  -fno-stack-protector -fno-strict-aliasing -mno-red-zone -maccumulate-outgoing-args \
  -DEFI_FUNCTION_WRAPPER -DGNU_EFI_USE_MS_ABI -c $S/gnuefi_app.c -o $TMP/gnuefi_app.o
ld -nostdlib -znocombreloc -T /usr/lib/elf_x86_64_efi.lds -shared -Bsymbolic --build-id=none \
  /usr/lib/crt0-efi-x86_64.o $TMP/gnuefi_app.o -o $TMP/gnuefi_app.so -L/usr/lib -lgnuefi
objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela -j '.rel.*' \
  -j '.rela.*' -j .reloc --target efi-app-x86_64 --subsystem=10 $TMP/gnuefi_app.so $P/gnu-efi-app.efi

echo "build.sh: built $(ls $E | wc -l) ELF and $(ls $P | wc -l) PE fixtures"
