#!/usr/bin/env bash
# ELF signing speed: `bingate sign elf` (section and module formats) and `bingate verify` on one
# large ELF, against `sha256sum` and `openssl dgst -sha256` on the same file (one hashing pass:
# the physical limit), and against the kernel's sign-file for the module format when installed.
# Called by scripts/bench.sh (or run alone). Needs hyperfine, objcopy, sha256sum, openssl.
#   SIZE_MB   size of the large ELF (default 100)
#   RUNS      hyperfine runs (default 10)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIZE_MB="${SIZE_MB:-100}"; RUNS="${RUNS:-10}"
BINGATE="${BINGATE:-$ROOT/target/release/bingate}"
SIGN_FILE=/usr/lib/linux-kbuild-6.1/scripts/sign-file
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
for t in hyperfine objcopy sha256sum openssl; do command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }; done
[ -x "$BINGATE" ] || (cd "$ROOT" && cargo build --release --quiet)
P="$ROOT/corpus/pki"

# A large ELF: the static fixture with a SIZE_MB section of random bytes.
head -c "$((SIZE_MB * 1000 * 1000))" /dev/urandom > "$TMP/blob"
objcopy --add-section .blob="$TMP/blob" --set-section-flags .blob=readonly \
  "$ROOT/corpus/elf/static" "$TMP/big.elf"
rm "$TMP/blob"
SIGN="$BINGATE sign elf --key $P/leaf-rsa.key --cert $P/leaf-rsa.pem --chain $P/intermediate.pem"
$SIGN --output "$TMP/big.signed" "$TMP/big.elf" >/dev/null

args=(-n "sha256sum" "sha256sum $TMP/big.elf"
      -n "openssl dgst -sha256" "openssl dgst -sha256 $TMP/big.elf"
      -n "bingate sign elf (section)" "$SIGN --output $TMP/out.section $TMP/big.elf"
      -n "bingate sign elf --format module" "$SIGN --format module --output $TMP/out.module $TMP/big.elf"
      -n "bingate verify (section)" "$BINGATE verify --trust $P/root.pem --format json $TMP/big.signed")
if [ -x "$SIGN_FILE" ]; then
  args+=(-n "sign-file sha256 (module)" "$SIGN_FILE sha256 $P/leaf-rsa.key $P/leaf-rsa.pem $TMP/big.elf $TMP/out.sf")
fi
hyperfine -N -w 2 -r "$RUNS" --export-markdown "$TMP/elf.md" "${args[@]}" >/dev/null
echo "### Signing and verifying one ${SIZE_MB} MB ELF"
cat "$TMP/elf.md"
rss() { /usr/bin/time -f %M "$@" >/dev/null 2>"$TMP/rss" || true; tail -1 "$TMP/rss"; }
echo
echo "Peak RSS (KiB): bingate sign $(rss $SIGN --output "$TMP/out.rss" "$TMP/big.elf"), bingate verify $(rss "$BINGATE" verify --trust "$P/root.pem" "$TMP/big.signed"), sha256sum $(rss sha256sum "$TMP/big.elf")"
