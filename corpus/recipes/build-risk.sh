#!/usr/bin/env bash
# SmartScreen-risk fixtures for bingate: builds corpus/risk/*.exe from corpus/src/risk/.
# Re-runnable; everything is offline and, apart from what osslsigncode randomises (see below),
# deterministic.
#
# Tools (Debian 12 "bookworm"): mingw-w64 gcc 12 / binutils 2.40 (x86_64 + i686 gcc, windres),
# osslsigncode 2.9, OpenSSL 3.0, python3 (>= 3.9, for random.randbytes).
#   apt-get install -y mingw-w64 osslsigncode openssl python3
# `--expected` additionally needs llvm-readobj (LLVM 14) and x86_64-w64-mingw32-objdump, used
# ONLY to check the outputs and record what they show (bingate is never run).
#
# Outputs (details and checked facts: corpus/risk/expected.json):
#   risk/app.exe               x86_64 GUI, VERSIONINFO + RT_MANIFEST(asInvoker) + 1 icon group
#   risk/app-signed.exe        app.exe, leaf-rsa chain, SHA-256, RFC 3161 ts 2026-01-15
#   risk/app-selfsigned.exe    app.exe, self-signed cert, SHA-256, RFC 3161 ts 2026-01-15
#   risk/app-signed-no-ts.exe  app.exe, leaf-rsa chain, SHA-256, no timestamp
#   risk/packed.exe            UPX-looking x86_64 image (UPX0/UPX1/UPX2, "UPX!" in headers)
#   risk/setup.exe             i686 console program named setup.exe, no resources at all
#   risk/overlay.exe           app.exe + 4096 seeded random bytes after the last section
#   risk/rsrc-*.exe            app.exe with a malformed resource tree (5 variants)
#
# Notes
# * mingw manifests: gcc's specs link `default-manifest.o` into every non-shared program *if
#   the file exists* (%{!shared:%:if-exists(default-manifest.o%s)}); Debian 12's mingw-w64
#   10.0.0 packages do not ship it, so nothing is added and app.exe carries only the manifest
#   from app.rc. The recipe checks this (risktool.py manifests/no-rsrc) and fails on a
#   toolchain that would add a second manifest or give setup.exe a resource section.
# * UPX is not installable here, so packed.exe is not really packed: risktool.py rebuilds a
#   linked mingw console program into the section layout of a UPX win64 output (see
#   make_packed in src/risk/risktool.py). It is structurally valid and its entry stub just
#   calls ExitProcess(0); the "compressed data" is seeded random bytes.
# * Determinism: SOURCE_DATE_EPOCH=0, --no-insert-timestamp, -ffile-prefix-map, seeded
#   random.Random; windres writes zero resource timestamps. With the committed PKI,
#   app-signed-no-ts.exe is byte-identical on every run (RSA PKCS#1 v1.5 + fixed -time);
#   app-signed.exe and app-selfsigned.exe are not: osslsigncode's built-in TSA puts a random
#   serial and the real current time (the token's own signingTime) into the timestamp token
#   (see corpus/README.md, "Authenticode fixtures").
# * app.ico is generated (risktool.py ico) only when corpus/src/risk/app.ico is absent; the
#   committed file is what the generator writes.
#
# Usage: bash corpus/recipes/build-risk.sh              (from anywhere)
#        bash corpus/recipes/build-risk.sh --expected   (also re-check every fixture with
#                                                        the tools and rewrite risk/expected.json)
set -euo pipefail

CORPUS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$CORPUS"
export SOURCE_DATE_EPOCH=0
export LC_ALL=C TZ=UTC

S=src/risk
O=risk
PKI=pki
TOOL="python3 $S/risktool.py"

need() { command -v "$1" >/dev/null 2>&1 || { echo "build-risk.sh: missing tool $1" >&2; exit 1; }; }
for t in x86_64-w64-mingw32-gcc x86_64-w64-mingw32-windres i686-w64-mingw32-gcc osslsigncode openssl python3; do
  need "$t"
done
if [ "${1:-}" = "--expected" ]; then
  for t in llvm-readobj x86_64-w64-mingw32-objdump; do need "$t"; done
fi

for f in leaf-rsa.key leaf-rsa-chain.pem selfsigned.key selfsigned.pem tsa.key tsa-chain.pem root.pem; do
  [ -f "$PKI/$f" ] || { echo "build-risk.sh: missing $PKI/$f (the committed test PKI; see sign.sh)" >&2; exit 1; }
done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$O"
find "$O" -maxdepth 1 -type f -name '*.exe' -delete   # outputs only; expected.json is kept

# Every command that makes a fixture goes through run(), which also logs it (fixture name,
# then the argv) so that --expected can record the exact recipe in expected.json.
LOG="$TMP/recipe.log"
run() {
  local name=$1; shift
  { printf '%s\t' "$name"; printf '%q ' "$@"; echo; } >> "$LOG"
  "$@"
}

DET="-ffile-prefix-map=$CORPUS=. -ffile-prefix-map=$TMP=tmp"
MW64="x86_64-w64-mingw32-gcc -Os $DET -s -Wl,--no-insert-timestamp"
MW32="i686-w64-mingw32-gcc -Os $DET -s -Wl,--no-insert-timestamp"

# --- app.exe ------------------------------------------------------------------
# windres resolves "app.ico"/"app.manifest" through -I; LANGUAGE 9,1 -> lang 0x409.
[ -f "$S/app.ico" ] || $TOOL ico "$S/app.ico"
run app.exe x86_64-w64-mingw32-windres -I "$S" -i "$S/app.rc" -o "$TMP/app-res.o"
run app.exe $MW64 -mwindows -Wl,--dynamicbase -Wl,--nxcompat -Wl,--high-entropy-va \
  "$S/app.c" "$TMP/app-res.o" -o "$O/app.exe"
$TOOL manifests "$O/app.exe" --expect 1

# --- signed copies --------------------------------------------------------------
T_2026=1768435200   # 2026-01-15T00:00:00Z, signer signingTime and TSA genTime
TSA=(-TSA-certs "$PKI/tsa-chain.pem" -TSA-key "$PKI/tsa.key" -TSA-time "$T_2026")
sign() {
  local name=$1; shift
  run "$name" osslsigncode sign "$@" -h sha256 -n 'Bingate Risk App' -time "$T_2026" \
    -in "$O/app.exe" -out "$O/$name" > "$TMP/sign.log" 2>&1 || { cat "$TMP/sign.log" >&2; exit 1; }
}
sign app-signed.exe       -certs "$PKI/leaf-rsa-chain.pem" -key "$PKI/leaf-rsa.key" "${TSA[@]}"
sign app-selfsigned.exe   -certs "$PKI/selfsigned.pem"     -key "$PKI/selfsigned.key" "${TSA[@]}"
sign app-signed-no-ts.exe -certs "$PKI/leaf-rsa-chain.pem" -key "$PKI/leaf-rsa.key"

# --- packed.exe -------------------------------------------------------------------
# A normal x86_64 console program, rebuilt by risktool.py into UPX0/UPX1/UPX2 (seed 1).
run packed.exe $MW64 "$S/packed.c" -o "$TMP/packed-base.exe"
run packed.exe $TOOL packed "$TMP/packed-base.exe" "$O/packed.exe" --seed 1

# --- setup.exe --------------------------------------------------------------------
run setup.exe $MW32 "$S/setup.c" -o "$O/setup.exe"
$TOOL no-rsrc "$O/setup.exe"

# --- overlay.exe ------------------------------------------------------------------
run overlay.exe $TOOL overlay "$O/app.exe" "$O/overlay.exe" --bytes 4096 --seed 2

# --- malformed resource trees (copies of app.exe; CheckSum recomputed) ---------------
for m in rsrc-cycle rsrc-huge rsrc-bad-data rsrc-bad-version rsrc-bad-manifest; do
  run "$m.exe" $TOOL "$m" "$O/app.exe" "$O/$m.exe" > /dev/null
done

echo "build-risk.sh: $(find "$O" -maxdepth 1 -type f -name '*.exe' | wc -l) fixtures in corpus/$O/" >&2

if [ "${1:-}" = "--expected" ]; then
  python3 "$S/risk_expected.py" --log "$LOG" --tmp "$TMP" --corpus "$CORPUS" --out "$O/expected.json"
fi
