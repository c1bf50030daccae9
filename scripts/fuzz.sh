#!/usr/bin/env bash
# Fuzzes bingate's untrusted-input entry points with cargo-fuzz (libFuzzer), one target at a
# time, and prints one markdown table: target | duration | executions | corpus size | result.
# See docs/robustness.md ("Fuzzing") for the targets and the recorded runs.
#
#   scripts/fuzz.sh [TARGET...]        # default: every target, in the order below
#
# Knobs (environment):
#   FUZZ_SECONDS    seconds per target (default 600)
#   FUZZ_WORK       scratch dir: corpus/<target>, logs/<target>.log, seeds are copied here
#                   (default fuzz/corpus under the crate; fuzz/corpus is git-ignored)
#   FUZZ_TOOLCHAIN  rustup toolchain for `cargo +X fuzz` (default: the active one, stable, with
#                   RUSTC_BOOTSTRAP=1 so it accepts cargo-fuzz's -Z flags)
#   FUZZ_SANITIZER  address (default) or none
#   FUZZ_RSS_MB     libFuzzer -rss_limit_mb (default 2048)
#   FUZZ_TIMEOUT    libFuzzer -timeout, seconds per input (default 10)
#   FUZZ_NICE       nice level for the fuzzing processes (default 10)
#   BINGATE         a bingate binary for signing ELF seeds (default target/{release,debug}/bingate;
#                   no signed ELF seeds when none is there)
#   FUZZ_MAX_SEED   largest seed file copied, bytes (default 2 MiB; libFuzzer's default -max_len
#                   then truncates seeds to 1 MiB when loading them)
#   NO_BUILD=1      skip `cargo fuzz build`
#   FUZZ_NO_RESEED=1  keep the scratch corpus as it is (seeds are added to it otherwise)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`), python3 and openssl (for the CMS seeds).
# Targets run one after another, never in parallel: the machine's other work keeps its cores.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ_SECONDS="${FUZZ_SECONDS:-600}"
FUZZ_WORK="${FUZZ_WORK:-$ROOT/fuzz/corpus}"
FUZZ_SANITIZER="${FUZZ_SANITIZER:-address}"
FUZZ_RSS_MB="${FUZZ_RSS_MB:-2048}"
FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-10}"
FUZZ_NICE="${FUZZ_NICE:-10}"
ALL_TARGETS=(pe_facts authenticode pe_resources elf_facts elf_signature module_signature cms_x509 policy
  container_zip container_tar container_deb container_rpm container_msi container_cab msi_signature installer)
if [ "$#" -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
MAX_SEED="${FUZZ_MAX_SEED:-$((2 * 1024 * 1024))}"

export RUSTC_BOOTSTRAP=1
CARGO=(cargo)
[ -n "${FUZZ_TOOLCHAIN:-}" ] && CARGO=(cargo "+$FUZZ_TOOLCHAIN")
FUZZ_FLAGS=(--release --debug-assertions --sanitizer "$FUZZ_SANITIZER")
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz missing: cargo install cargo-fuzz" >&2; exit 2; }

cd "$ROOT"
if [ "${NO_BUILD:-0}" != 1 ]; then
  echo "building fuzz targets (${CARGO[*]} fuzz build ${FUZZ_FLAGS[*]}, RUSTC_BOOTSTRAP=1)" >&2
  nice -n "$FUZZ_NICE" "${CARGO[@]}" fuzz build "${FUZZ_FLAGS[@]}" >&2
fi

HOST="$(rustc -vV | sed -n 's/^host: //p')"
BIN="$ROOT/fuzz/target/$HOST/release"
for t in "${TARGETS[@]}"; do
  [ -x "$BIN/$t" ] || { echo "no fuzz binary $BIN/$t (build first)" >&2; exit 2; }
done

# ---- seeds -------------------------------------------------------------------------------------
mkdir -p "$FUZZ_WORK/logs"
SEEDS="$FUZZ_WORK/seeds"
rm -rf "$SEEDS"; mkdir -p "$SEEDS"/{pe,elf,cms,policy,module,zip,tar,deb,rpm,msi,cab,msisig,installer}

# seed KIND FILE...: copies each file up to 2 MiB, named after its path (no collisions).
seed() {
  local kind="$1"; shift
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    [ "$(stat -c %s "$f")" -le "$MAX_SEED" ] || continue
    local name="${f#"$ROOT"/}"
    name="${name#"$FUZZ_WORK"/}"
    cp "$f" "$SEEDS/$kind/$(echo "$name" | tr '/' '_')"
  done
}
shopt -s nullglob globstar
seed pe corpus/pe/* corpus/signed/*.exe corpus/signed/*.dll corpus/risk/*.exe \
  corpus/integrity/*.exe corpus/integrity/sha1/*.exe \
  corpus/public/**/*.exe corpus/public/**/*.dll corpus/public/**/*.efi corpus/public/**/*.com \
  corpus/public/**/*.signed tests/data/dist/*.exe tests/data/dist/*.dll
seed elf corpus/elf/* corpus/public/**/*.ko tests/data/dist/libfoo.so tests/data/dist/tool
seed policy policies/*.toml tests/policies/*.toml tests/data/*.toml
# Containers and installers (corpus/recipes/build-containers.sh, build-msi.sh, build-installers.sh).
seed zip corpus/containers/*.zip corpus/containers/*.whl corpus/installers/zipsfx-*.exe
seed deb corpus/containers/*.deb
seed rpm corpus/containers/*.rpm
seed msi corpus/msi/*.msi
seed cab corpus/msi/*.cab
seed msisig corpus/msi/*
# container_tar's first byte picks the codec (0 plain, 1 gzip, 2 xz, 3 zstd, 4 bzip2; fuzz/src/lib.rs).
prefixed() { # DIR BYTE FILE: FILE with BYTE in front, into DIR
  local dir="$1" byte="$2" f="$3"
  [ -f "$f" ] || return 0
  { printf "\\$(printf '%03o' "$byte")"; cat "$f"; } > "$SEEDS/$dir/$byte-$(basename "$f")"
}
for f in corpus/containers/*.tar.gz corpus/containers/*.tgz corpus/containers/*.exe.gz; do prefixed tar 1 "$f"; done
for f in corpus/containers/*.tar.xz; do prefixed tar 2 "$f"; done
for f in corpus/containers/*.tar.zst; do prefixed tar 3 "$f"; done
for f in corpus/containers/*.tar.bz2; do prefixed tar 4 "$f"; done
# installer's input starts with 16 bytes of facts (fuzz/src/lib.rs): each fixture gets its real
# image end, certificate table and .wixburn section offset, read from its PE headers here.
python3 - "$SEEDS/installer" corpus/installers/*.exe <<'PY'
import os, struct, sys
out = sys.argv[1]
for path in sys.argv[2:]:
    d = open(path, "rb").read()
    pe = struct.unpack_from("<I", d, 0x3C)[0]
    nsec, opt_size = struct.unpack_from("<H", d, pe + 6)[0], struct.unpack_from("<H", d, pe + 20)[0]
    magic = struct.unpack_from("<H", d, pe + 24)[0]
    dirs = pe + 24 + (112 if magic == 0x20B else 96)
    table_off, table_size = struct.unpack_from("<II", d, dirs + 4 * 8)
    end, burn = 0, 0
    for i in range(nsec):
        s = pe + 24 + opt_size + 40 * i
        name = d[s:s + 8].rstrip(b"\0")
        size, ptr = struct.unpack_from("<II", d, s + 16)
        end = max(end, ptr + size)
        if name == b".wixburn":
            burn = ptr
    head = struct.pack("<IIII", end, table_off, table_size, burn)
    open(os.path.join(out, os.path.basename(path)), "wb").write(head + d)
PY

# Signed ELF seeds: a few small fixtures signed with the test PKI in both formats.
BINGATE="${BINGATE:-}"
if [ -z "$BINGATE" ]; then
  for b in target/release/bingate target/debug/bingate; do [ -x "$b" ] && { BINGATE="$b"; break; }; done
fi
if [ -n "$BINGATE" ]; then
  P=corpus/pki
  SIGNED="$FUZZ_WORK/signed-elf"; rm -rf "$SIGNED"; mkdir -p "$SIGNED"
  for f in pie-default libshared.so hello.o m32-pie ppc32-be static-pie; do
    for fmt in section module; do
      for k in rsa ecdsa; do
        "$BINGATE" sign elf --key "$P/leaf-$k.key" --cert "$P/leaf-$k.pem" \
          --chain "$P/intermediate.pem" --format "$fmt" \
          --output "$SIGNED/$f.$fmt.$k" "corpus/elf/$f" >/dev/null 2>&1 || true
      done
    done
  done
  seed elf "$SIGNED"/*
else
  echo "no bingate binary: no signed ELF seeds (set BINGATE or build it)" >&2
fi

# CMS seeds: the WIN_CERTIFICATE payloads of the signed PE fixtures, the CMS of every module
# signature, and the test certificates as DER. Module seeds: [mode 0][sig_len LE][body].
python3 - "$SEEDS/pe" "$SEEDS/elf" "$SEEDS/cms" "$SEEDS/module" <<'PY'
import os, struct, sys
pe_dir, elf_dir, cms_dir, mod_dir = sys.argv[1:]
MAGIC = b"~Module signature appended~\n"

def win_certificates(d):
    if d[:2] != b"MZ" or len(d) < 0x40:
        return
    pe = struct.unpack_from("<I", d, 0x3C)[0]
    if d[pe:pe + 4] != b"PE\0\0":
        return
    opt = pe + 24
    magic = struct.unpack_from("<H", d, opt)[0]
    dirs = opt + (96 if magic == 0x10B else 112)
    off, size = struct.unpack_from("<II", d, dirs + 4 * 8)
    end = min(off + size, len(d))
    while off + 8 <= end:
        length, _rev, ctype = struct.unpack_from("<IHH", d, off)
        if length < 8:
            return
        if ctype == 2:
            yield d[off + 8:off + length]
        off += (length + 7) & ~7

for name in sorted(os.listdir(pe_dir)):
    data = open(os.path.join(pe_dir, name), "rb").read()
    for i, blob in enumerate(win_certificates(data)):
        open(os.path.join(cms_dir, f"{name}.cert{i}.der"), "wb").write(blob)

n_mod = 0
for name in sorted(os.listdir(elf_dir)):
    data = open(os.path.join(elf_dir, name), "rb").read()
    if data.endswith(MAGIC) and len(data) >= 40:
        sig_len = struct.unpack_from(">I", data, len(data) - 40 + 8)[0]
        body = data[:-40]
        if sig_len <= len(body):
            open(os.path.join(cms_dir, f"{name}.module.der"), "wb").write(body[len(body) - sig_len:])
        open(os.path.join(mod_dir, f"{name}.module"), "wb").write(b"\0" + struct.pack("<I", sig_len) + body)
        n_mod += 1
    elif data[:4] == b"\x7fELF":
        open(os.path.join(mod_dir, f"{name}.unsigned"), "wb").write(b"\0" + struct.pack("<I", 0) + data)
print(f"module seeds: {n_mod} signed", file=sys.stderr)
PY
for pem in corpus/pki/*.pem; do
  openssl x509 -in "$pem" -outform DER -out "$SEEDS/cms/$(basename "$pem" .pem).der" 2>/dev/null || true
done

seeds_for() {
  case "$1" in
    pe_facts | authenticode | pe_resources) echo "$SEEDS/pe" ;;
    elf_facts | elf_signature) echo "$SEEDS/elf" ;;
    module_signature) echo "$SEEDS/module" ;;
    cms_x509) echo "$SEEDS/cms" ;;
    policy) echo "$SEEDS/policy" ;;
    container_zip) echo "$SEEDS/zip" ;;
    container_tar) echo "$SEEDS/tar" ;;
    container_deb) echo "$SEEDS/deb" ;;
    container_rpm) echo "$SEEDS/rpm" ;;
    container_msi) echo "$SEEDS/msi" ;;
    container_cab) echo "$SEEDS/cab" ;;
    msi_signature) echo "$SEEDS/msisig" ;;
    installer) echo "$SEEDS/installer" ;;
    *) echo "unknown target $1" >&2; exit 2 ;;
  esac
}

# ---- runs --------------------------------------------------------------------------------------
ROWS=()
for t in "${TARGETS[@]}"; do
  corpus="$FUZZ_WORK/$t"
  mkdir -p "$corpus"
  src="$(seeds_for "$t")"
  [ "${FUZZ_NO_RESEED:-0}" = 1 ] || cp -n "$src"/* "$corpus"/ 2>/dev/null || true
  seeded=$(find "$corpus" -type f | wc -l)
  log="$FUZZ_WORK/logs/$t.log"
  echo "fuzzing $t for ${FUZZ_SECONDS}s ($seeded inputs in $corpus; log $log)" >&2
  start=$(date +%s)
  set +e
  # The binary `cargo fuzz build` made, run directly (what `cargo fuzz run` does after
  # rebuilding): the duration is fuzzing time only, and nothing recompiles mid-run.
  mkdir -p "$ROOT/fuzz/artifacts/$t"
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_odr_violation=0" \
    nice -n "$FUZZ_NICE" "$BIN/$t" "$corpus" -artifact_prefix="$ROOT/fuzz/artifacts/$t/" \
    -max_total_time="$FUZZ_SECONDS" -rss_limit_mb="$FUZZ_RSS_MB" -timeout="$FUZZ_TIMEOUT" \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  took=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  [ -n "$execs" ] || execs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | grep -o '[0-9]*' || true)
  [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#' || true)
  size=$(find "$corpus" -type f | wc -l)
  if [ "$rc" = 0 ]; then
    result="no crash"
  else
    kind=$(grep -o 'SUMMARY: [A-Za-z]*: [a-z-]*\|ERROR: libFuzzer: [a-z-]*' "$log" | head -1 || true)
    artifact=$(grep -o 'Test unit written to [^ ]*' "$log" | head -1 | sed 's/Test unit written to //' || true)
    result="FAILED (exit $rc): ${kind:-see log} ${artifact:+→ $artifact}"
  fi
  ROWS+=("| \`$t\` | ${took} s | ${execs:-?} | $seeded → $size | $result |")
  echo "${ROWS[-1]}" >&2
done

echo
echo "| target | duration | executions | corpus (start → end) | result |"
echo "|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
