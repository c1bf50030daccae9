#!/usr/bin/env bash
# Authenticode verification speed: bingate vs osslsigncode, with `openssl dgst -sha256` as the
# physical limit. Called by scripts/bench.sh (or run alone). Needs osslsigncode, openssl,
# hyperfine; uses the test PKI in corpus/pki and, for the DLL directory, the public corpus
# (corpus/fetch-public.sh).
#   SIZE_MB   size of the large signed PE (default 80)
#   COPIES    copies of the 12 msvc-runtime DLLs in the directory case (default 8)
#   RUNS      hyperfine runs (default 10)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE_MB="${SIZE_MB:-80}"; COPIES="${COPIES:-8}"; RUNS="${RUNS:-10}"
BINGATE="${BINGATE:-$ROOT/target/release/bingate}"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
for t in osslsigncode openssl hyperfine; do command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }; done
[ -x "$BINGATE" ] || (cd "$ROOT" && cargo build --release --quiet)

# A large signed PE: a small image with an overlay (the image hash covers it), signed offline.
cp "$ROOT/corpus/pe/x64-default.exe" "$TMP/big-unsigned.exe"
head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom >> "$TMP/big-unsigned.exe"
osslsigncode sign -certs "$ROOT/corpus/pki/leaf-rsa-chain.pem" -key "$ROOT/corpus/pki/leaf-rsa.key" \
  -h sha256 -in "$TMP/big-unsigned.exe" -out "$TMP/big.exe" >/dev/null
ROOTPEM="$ROOT/corpus/pki/root.pem"

hyperfine -N -w 2 -r "$RUNS" --export-markdown "$TMP/big.md" \
  -n "bingate verify" "$BINGATE verify --trust $ROOTPEM --format json $TMP/big.exe" \
  -n "osslsigncode verify" "osslsigncode verify -ignore-crl -CAfile $ROOTPEM -in $TMP/big.exe" \
  -n "openssl dgst -sha256" "openssl dgst -sha256 $TMP/big.exe" >/dev/null
echo "### Verifying one ${SIZE_MB} MB signed PE"
cat "$TMP/big.md"
rss() { /usr/bin/time -f %M "$@" >/dev/null 2>"$TMP/rss" || true; tail -1 "$TMP/rss"; }
echo
echo "peak RSS (KiB): bingate $(rss "$BINGATE" verify --trust "$ROOTPEM" --format json "$TMP/big.exe"), osslsigncode $(rss osslsigncode verify -ignore-crl -CAfile "$ROOTPEM" -in "$TMP/big.exe")"

DLLS="$ROOT/corpus/public/msvc-runtime"
if [ -d "$DLLS" ]; then
  mkdir -p "$TMP/dlls"
  for i in $(seq 1 "$COPIES"); do for f in "$DLLS"/*.dll; do cp "$f" "$TMP/dlls/$i-$(basename "$f")"; done; done
  n=$(ls "$TMP/dlls" | wc -l)
  cat > "$TMP/ossl-loop.sh" <<LOOP
for f in $TMP/dlls/*.dll; do osslsigncode verify -ignore-crl -CAfile $ROOT/policies/trust/microsoft-codesigning.pem -TSA-CAfile $ROOT/policies/trust/microsoft-timestamping.pem -in "\$f" >/dev/null 2>&1; done
LOOP
  hyperfine -w 1 -r "$((RUNS / 2 > 2 ? RUNS / 2 : 3))" --export-markdown "$TMP/dlls.md" \
    -n "bingate verify (directory, default trust)" "$BINGATE verify --format json $TMP/dlls" \
    -n "osslsigncode verify (file by file)" "bash $TMP/ossl-loop.sh" >/dev/null
  echo
  echo "### Verifying $n Microsoft-signed DLLs"
  cat "$TMP/dlls.md"
else
  echo "(public corpus absent: skipped the DLL directory case)"
fi
