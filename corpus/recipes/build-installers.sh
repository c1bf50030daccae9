#!/usr/bin/env bash
# Installer fixtures for bingate's installer recognition (src/container/installer.rs):
# corpus/installers/*. Everything is offline; signatures use the committed TEST PKI in
# corpus/pki/ (leaf-rsa, no timestamp, fixed signing time).
#
# Tools this was produced with (Debian 12): makensis 3.08 (Debian `nsis`), Info-ZIP zip 3.0,
# x86_64-w64-mingw32-gcc 12, gcab 1.5, osslsigncode 2.9, python3 3.11.
#
#   nsis-signed.exe        a real NSIS installer (src/nsis-hello.nsi: hello.txt and an unsigned
#                          DLL, solid LZMA), signed: the payload lies before the certificate table
#   zipsfx-signed.exe      pe/x64-default.exe with a zip (an unsigned DLL and a text file)
#                          concatenated, offsets relative to the zip's start, then signed
#   zipsfx-appended.exe    pe/x64-default.exe signed first, the same zip appended after the
#                          certificate table and adjusted with `zip -A` (offsets from the file's
#                          start): the signature does not cover it
#   zipsfx-unsigned.exe    the concatenation of zipsfx-signed.exe, never signed
#   inno-handmade.exe      NOT a real Inno Setup installer (Inno needs Windows or wine): a PE with
#                          an Inno Setup 5.1.5+ loader offset table (CRC-checked) written into the
#                          zero padding at the end of its last section, where the real stub's
#                          resource section keeps it, and an overlay holding a stand-in for the
#                          compressed setup program and "Inno Setup Setup Data (6.2.2)"
#   inno-signature-only.exe  no offset table: only the setup data's signature in the overlay
#   burn-handmade.exe      NOT a real WiX Burn bundle (wix needs .NET on Windows): a mingw PE with a
#                          .wixburn section (src/wixburn_stub.c) whose stub size and container
#                          size are patched in, a cabinet (gcab) attached, then signed
#
# Usage: bash corpus/recipes/build-installers.sh
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # C locale, UTC, cd corpus/, $TMP

ME=build-installers.sh
OUT=installers
DESC=(-n "bingate installer test" -i "https://example.invalid/")
T_SIGN=1768435200 # 2026-01-15T00:00:00Z

need makensis zip gcab x86_64-w64-mingw32-gcc osslsigncode python3

mkdir -p "$OUT"
rm -f "$OUT"/*.exe

sign() { ossl_sign "$1" "$2" pki/leaf-rsa sha256 "$T_SIGN"; }

# The payload every installer carries: an unsigned DLL and a text file.
printf 'hello from a bingate test installer\n' > "$TMP/hello.txt"
cp pe/x64.dll "$TMP/helper.dll"

# ---------------------------------------------------------------- NSIS
cp src/nsis-hello.nsi "$TMP/"
(cd "$TMP" && makensis -V1 -NOCD nsis-hello.nsi >/dev/null)
sign "$OUT/nsis-signed.exe" "$TMP/nsis-hello.exe"

# ---------------------------------------------------------------- zip self-extractors
(cd "$TMP" && touch -d 2026-01-01T00:00:00Z hello.txt helper.dll \
  && zip -X -q payload.zip helper.dll hello.txt)
cat pe/x64-default.exe "$TMP/payload.zip" > "$OUT/zipsfx-unsigned.exe"
sign "$OUT/zipsfx-signed.exe" "$OUT/zipsfx-unsigned.exe"
sign "$TMP/stub-signed.exe" pe/x64-default.exe
cat "$TMP/stub-signed.exe" "$TMP/payload.zip" > "$OUT/zipsfx-appended.exe"
zip -A -q "$OUT/zipsfx-appended.exe"

# ---------------------------------------------------------------- Inno Setup (hand-made)
python3 - "$OUT" <<'PY'
import struct, sys, zlib
out = sys.argv[1]
base = bytearray(open("pe/x64-default.exe", "rb").read())
pe = struct.unpack_from("<I", base, 0x3C)[0]
nsec = struct.unpack_from("<H", base, pe + 6)[0]
opt = struct.unpack_from("<H", base, pe + 20)[0]
sec = pe + 24 + opt
image_end = max(sum(struct.unpack_from("<II", base, sec + 40 * i + 16)) for i in range(nsec))
assert image_end == len(base), "x64-default.exe has no overlay"
exe = b"zlb\x1a" + bytes(range(256)) * 4          # stand-in for the compressed setup program
setup0 = b"Inno Setup Setup Data (6.2.2)".ljust(64, b"\0") + b"\0" * 192
total = image_end + len(exe) + len(setup0)
table = b"rDlPtS\xcd\xe6\xd7\x7b\x0b\x2a" + struct.pack(
    "<IIIIiII", 1, total, image_end, 4096, 0, image_end + len(exe), 0)
table += struct.pack("<I", zlib.crc32(table))
slot = image_end - 64
assert base[slot:slot + len(table)] == b"\0" * len(table), "no zero padding for the table"
with_table = bytearray(base)
with_table[slot:slot + len(table)] = table
open(f"{out}/inno-handmade.exe", "wb").write(bytes(with_table) + exe + setup0)
open(f"{out}/inno-signature-only.exe", "wb").write(bytes(base) + exe + setup0)
PY

# ---------------------------------------------------------------- WiX Burn (hand-made)
x86_64-w64-mingw32-gcc -Os -s -Wl,--no-insert-timestamp src/wixburn_stub.c -o "$TMP/burn.exe"
(cd "$TMP" && gcab -c -n burn.cab hello.txt helper.dll)
python3 - "$TMP/burn.exe" "$TMP/burn.cab" "$TMP/burn-unsigned.exe" <<'PY'
import struct, sys
stub = bytearray(open(sys.argv[1], "rb").read())
cab = open(sys.argv[2], "rb").read()
at = stub.find(struct.pack("<II", 0x00F14300, 2))
assert at > 0 and stub.find(struct.pack("<II", 0x00F14300, 2), at + 1) < 0
struct.pack_into("<I", stub, at + 24, len(stub))      # dwStubSize: containers start here
assert struct.unpack_from("<I", stub, at + 44)[0] == 1  # one container
struct.pack_into("<I", stub, at + 48, len(cab))       # its size
open(sys.argv[3], "wb").write(bytes(stub) + cab)
PY
sign "$OUT/burn-handmade.exe" "$TMP/burn-unsigned.exe"

ls -l "$OUT"
