#!/usr/bin/env bash
# scripts/bench.sh — bingate's one benchmark. Builds bingate (release), installs or
# builds the peers it can reach, measures everything in the same run and prints
# ONE markdown table (plus a "machine" block) on stdout; progress goes to stderr.
#
# Usage:
#   scripts/bench.sh [DIR]            # DIR for the ELF hardening scan, default /usr/bin
#
# Tasks (rows of the table), each with every tool that can do it:
#   scan ELF   DIR (default /usr/bin): bingate check, checksec.rs 0.0.9, checksec.sh 2.6,
#              hardening-check (devscripts; takes files, not a directory: the ELF files
#              under DIR are passed to it with xargs)
#   scan PE    a scratch copy of corpus/pe, corpus/signed, corpus/risk and the public
#              corpus' msvc-runtime DLLs, electron-winstaller tools and esbuild.exe:
#              bingate check, checksec.rs (checksec.sh and hardening-check read ELF only)
#   verify DLLs    corpus/public/msvc-runtime/*.dll (12 Microsoft-signed DLLs):
#              `bingate verify DIR` vs `osslsigncode verify` file by file in a loop,
#              vs `openssl dgst -sha256` over the same files (the physical limit)
#   verify big PE  corpus/public/node/node.exe (~100 MB, signed): bingate verify vs
#              osslsigncode verify vs openssl dgst (without the public corpus: a
#              synthetic PE of ELF_MB MB signed with corpus/pki)
#   sign ELF   one ELF_MB MB ELF (corpus/elf/static + a section of random bytes):
#              bingate sign elf (section, module) vs sha256sum vs openssl dgst
#              (and the kernel's sign-file when linux-kbuild is installed)
#   verify ELF the signed file: bingate verify vs openssl dgst
#   scale      a synthetic tree of SCALE_SIZES binaries (hard links of the corpus ELF
#              and PE fixtures plus small variants: copies with a few appended bytes,
#              so hashes differ): bingate check, wall time and peak RSS per size
#
# Measurement: hyperfine (`-N`, no intermediate shell; WARMUP warm-up runs, then
# RUNS runs; the median is reported). Peak RSS: GNU `/usr/bin/time -f %M`, the
# maximum over RSS_RUNS separate runs; for peers timed with a single run
# (checksec.sh, hardening-check) GNU time wraps that run. For a process tree
# (shell loops, checksec.sh, xargs) %M is the largest single process of the
# tree, not a sum. Without hyperfine a small median-of-N timer in python3 is used.
#
# Environment knobs (all optional):
#   BENCH_DIR=PATH   where checksec.rs is installed and kept between runs
#                    (default <repo>/target/bench; it goes to
#                    $BENCH_DIR/checksec-rs/bin/checksec so it never shadows
#                    Debian's checksec.sh, /usr/bin/checksec)
#   RUNS=N           timed runs per command (default 5, min 3)
#   WARMUP=N         warm-up runs per command (default 1)
#   SLOW_RUNS=N      runs for checksec.sh and hardening-check (default 1)
#   RSS_RUNS=N       separate runs under GNU time for peak RSS (default 3)
#   ELF_MB=N         size of the ELF to sign (default 100)
#   SCALE_SIZES="1000 10000"  synthetic tree sizes (multiples of 100)
#   QUICK=1          smoke run: RUNS=3, RSS_RUNS=1, DIR = 30 ELF files copied from
#                    DIR, ELF_MB=10, SCALE_SIZES="200 1000"
#   SKIP_INSTALL=1   install nothing; missing peers get "not available" rows
#   NO_BUILD=1       do not run `cargo build --release`
#   BINGATE=PATH     bingate binary (default <repo>/target/release/bingate; it
#                    is copied to the scratch dir first, so a rebuild during the
#                    run cannot change what is measured)
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-/usr/bin}"
DIR="${DIR%/}"; [[ -n "$DIR" ]] || DIR=/
QUICK="${QUICK:-0}"
if [[ "$QUICK" == 1 ]]; then
  RUNS="${RUNS:-3}"; RSS_RUNS="${RSS_RUNS:-1}"; ELF_MB="${ELF_MB:-10}"
  SCALE_SIZES="${SCALE_SIZES:-200 1000}"
fi
RUNS="${RUNS:-5}"; WARMUP="${WARMUP:-1}"; SLOW_RUNS="${SLOW_RUNS:-1}"
RSS_RUNS="${RSS_RUNS:-3}"; ELF_MB="${ELF_MB:-100}"
SCALE_SIZES="${SCALE_SIZES:-1000 10000}"
BENCH_DIR="${BENCH_DIR:-$REPO/target/bench}"
BINGATE_SRC="${BINGATE:-$REPO/target/release/bingate}"
CHECKSEC_RS="$BENCH_DIR/checksec-rs/bin/checksec"
CHECKSEC_SH=/usr/bin/checksec
HARDENING_CHECK=/usr/bin/hardening-check
PKI="$REPO/corpus/pki"
PUB="$REPO/corpus/public"
MS_CS="$REPO/policies/trust/microsoft-codesigning.pem"
MS_TS="$REPO/policies/trust/microsoft-timestamping.pem"

(( RUNS >= 3 )) || { echo "RUNS must be >= 3" >&2; exit 2; }
(( SLOW_RUNS >= 1 && RSS_RUNS >= 1 )) || { echo "SLOW_RUNS and RSS_RUNS must be >= 1" >&2; exit 2; }
for n in $SCALE_SIZES; do
  (( n >= 100 && n % 100 == 0 )) || { echo "SCALE_SIZES: $n is not a multiple of 100" >&2; exit 2; }
done
[[ -d "$DIR" ]] || { echo "not a directory: $DIR" >&2; exit 2; }

T0=$(date +%s)
log() { printf '==> [%4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*" >&2; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/bingate-bench.XXXXXX")"
SAMPLER=""
cleanup() { [[ -z "$SAMPLER" ]] || kill "$SAMPLER" 2>/dev/null; rm -rf -- "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
q() { printf '%q' "$1"; }   # shell-quote a word for hyperfine -N / eval command strings

load_now() { cut -d' ' -f1-3 /proc/loadavg; }
busy_now() {  # other heavy processes: fuzzers, cargo/rustc (never this script's own)
  local f c
  f=$(pgrep -f "cargo fuzz|cargo-fuzz|fuzz_targets|/fuzz/target/" 2>/dev/null | wc -l)
  c=$(pgrep -x 'cargo|rustc' 2>/dev/null | wc -l)
  echo "fuzzer processes: $f, cargo/rustc processes: $c"
}
hogs_now() {  # other processes using >= 50% of a CPU (lifetime average, ps %CPU)
  ps -eo pid=,pcpu=,comm= --sort=-pcpu 2>/dev/null \
    | awk -v me="$$" '$1 != me && $2 >= 50 {printf "%s%s (%.0f%%)", (n++ ? ", " : ""), $3, $2} END {if (!n) printf "none"}'
}
LOAD_START="$(load_now)"; BUSY_START="$(busy_now)"; HOGS_START="$(hogs_now)"; DATE_START="$(date -u +%Y-%m-%dT%H:%MZ)"
# Sample other load every 15 s during the run, so the output can say whether the
# numbers were taken on a quiet machine.
( while sleep 15; do
    printf '%s %s\n' "$(pgrep -f "cargo fuzz|cargo-fuzz|fuzz_targets|/fuzz/target/" 2>/dev/null | wc -l)" \
      "$(pgrep -x 'cargo|rustc' 2>/dev/null | wc -l)" >> "$TMP/busy.log"
  done ) &
SAMPLER=$!

# ---------------------------------------------------------------- installs
SUDO=""; [[ "$(id -u)" -eq 0 ]] || SUDO="sudo"
APT_UPDATED=0
apt_install() {  # never exits: returns non-zero when the packages could not be installed
  [[ "${SKIP_INSTALL:-0}" != 1 ]] || return 1
  command -v apt-get >/dev/null 2>&1 || return 1
  if [[ $APT_UPDATED == 0 ]]; then
    log "apt-get update"
    $SUDO apt-get update -qq >&2 || true
    APT_UPDATED=1
  fi
  log "apt-get install --no-install-recommends $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >&2
}
have() { command -v "$1" >/dev/null 2>&1; }

# Tools the script itself needs (not peers).
for t in jq:jq python3:python3-minimal objcopy:binutils sha256sum:coreutils; do
  have "${t%%:*}" || apt_install "${t#*:}" || true
  have "${t%%:*}" || { echo "bench.sh needs ${t%%:*} (Debian package ${t#*:})" >&2; exit 1; }
done
have hyperfine || apt_install hyperfine || true
[[ -x /usr/bin/time ]] || apt_install time || true

# ---------------------------------------------------------------- build
if [[ "${NO_BUILD:-0}" != 1 ]]; then
  log "cargo build --release"
  (cd "$REPO" && cargo build --release >&2) || { echo "cargo build --release failed" >&2; exit 1; }
fi
[[ -x "$BINGATE_SRC" ]] || { echo "bingate binary not found: $BINGATE_SRC" >&2; exit 1; }
BG="$TMP/bin/bingate"; mkdir -p "$TMP/bin"; cp "$BINGATE_SRC" "$BG"
BG_VERSION="$("$BG" --version 2>/dev/null | head -n1)"
GIT_REV="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$REPO" status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock 2>/dev/null)" ]]; then
  GIT_REV="$GIT_REV + uncommitted changes in src/"
fi

# ---------------------------------------------------------------- peers
declare -A NA   # peer -> why it is not available
# (versions are read into variables first: with pipefail, `cmd | grep -q` fails
# whenever grep's early exit makes cmd die of SIGPIPE)
rs_ok() { local v; v="$("$CHECKSEC_RS" --version 2>/dev/null)"; [[ "$v" == *0.0.9* ]]; }
if ! [[ -x "$CHECKSEC_RS" ]] || ! rs_ok; then
  if [[ "${SKIP_INSTALL:-0}" == 1 ]]; then
    NA[checksec.rs]="not installed at $CHECKSEC_RS and SKIP_INSTALL=1"
  elif ! have cargo; then
    NA[checksec.rs]="cargo not found"
  else
    log "cargo install checksec 0.0.9 into $BENCH_DIR/checksec-rs (takes a few minutes)"
    mkdir -p "$BENCH_DIR"
    cargo install checksec --version 0.0.9 --locked --root "$BENCH_DIR/checksec-rs" >&2 \
      || cargo install checksec --version 0.0.9 --root "$BENCH_DIR/checksec-rs" >&2 \
      || NA[checksec.rs]="cargo install checksec --version 0.0.9 failed"
  fi
fi
cssh_ok() { local v; [[ -x "$CHECKSEC_SH" ]] || return 1; v="$("$CHECKSEC_SH" --version 2>&1)"; [[ "${v%%$'\n'*}" == *v2.* ]]; }
if ! cssh_ok; then apt_install checksec || true; fi
cssh_ok || NA[checksec.sh]="Debian package checksec (2.6) not installed"
# checksec.sh greps readelf output and calls file(1)
if [[ -z "${NA[checksec.sh]:-}" ]]; then
  have readelf || apt_install binutils || true
  have file || apt_install file || true
  { have readelf && have file; } || NA[checksec.sh]="needs readelf and file(1)"
fi
# hardening-check ships in Debian's devscripts (which Replaces: hardening-includes)
[[ -x "$HARDENING_CHECK" ]] || apt_install devscripts || true
[[ -x "$HARDENING_CHECK" ]] || NA[hardening-check]="Debian package devscripts not installed"
have osslsigncode || apt_install osslsigncode || true
have osslsigncode || NA[osslsigncode]="Debian package osslsigncode not installed"
have openssl || apt_install openssl || true
have openssl || NA[openssl]="Debian package openssl not installed"
OSSL_VER="$(osslsigncode --version 2>/dev/null | awk 'NR==1{sub(/,$/, "", $2); print $2}')"
SIGN_FILE="$(ls -1 /usr/lib/linux-kbuild-*/scripts/sign-file 2>/dev/null | sort -V | tail -n1 || true)"

# ---------------------------------------------------------------- timer / RSS helpers
if have hyperfine; then
  TIMER="hyperfine $(hyperfine --version | awk '{print $2}')"
else
  TIMER="python3 median-of-N timer (hyperfine not available)"
  cat > "$TMP/bin/timer.py" <<'PY'
# usage: timer.py WARMUP RUNS JSON_OUT COMMAND  — hyperfine-like JSON with the median
import json, shlex, statistics, subprocess, sys, time
warm, runs, out, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
argv, times, codes = shlex.split(cmd), [], []
for i in range(warm + runs):
    t = time.perf_counter()
    rc = subprocess.call(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if i >= warm:
        times.append(time.perf_counter() - t); codes.append(rc)
json.dump({"results": [{"command": cmd, "median": statistics.median(times),
                        "times": times, "exit_codes": codes}]}, open(out, "w"))
PY
fi
if [[ -x /usr/bin/time ]]; then
  GTIME=/usr/bin/time
  RSS_HOW="GNU time %M"
else
  RSS_HOW="python3 getrusage(RUSAGE_CHILDREN).ru_maxrss (GNU time not available)"
  cat > "$TMP/bin/gtime" <<'PY'
#!/usr/bin/env python3
# gtime -f %M -o FILE CMD...  — the subset of GNU time this script uses
import resource, subprocess, sys
out, argv = sys.argv[4], sys.argv[5:]
rc = subprocess.call(argv)
open(out, "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
PY
  chmod +x "$TMP/bin/gtime"; GTIME="$TMP/bin/gtime"
fi

declare -A MED RSS NRUN
# measure ID RUNS CMD: times CMD (a command line, words shell-quoted, no shell
# operators) and records MED[ID] (seconds), RSS[ID] (KiB), NRUN[ID].
measure() {
  local id="$1" runs="$2" cmd="$3" best=0 m i
  log "measure $id ($runs run(s)): $cmd"
  if (( runs == 1 )); then
    # one timed run; GNU time wraps it so the same run gives the peak RSS
    # (its own ~1 ms is negligible next to these peers' minutes)
    if have hyperfine; then
      hyperfine -N -i --style basic --runs 1 --export-json "$TMP/$id.json" \
        "$GTIME -f %M -o $(q "$TMP/$id.rss") $cmd" >&2
    else
      python3 "$TMP/bin/timer.py" 0 1 "$TMP/$id.json" "$GTIME -f %M -o $(q "$TMP/$id.rss") $cmd"
    fi
    best="$(tail -n1 "$TMP/$id.rss" 2>/dev/null)"; [[ "$best" =~ ^[0-9]+$ ]] || best=0
  else
    if have hyperfine; then
      hyperfine -N -i --style basic --warmup "$WARMUP" --runs "$runs" \
        --export-json "$TMP/$id.json" "$cmd" >&2
    else
      python3 "$TMP/bin/timer.py" "$WARMUP" "$runs" "$TMP/$id.json" "$cmd"
    fi
    for ((i = 0; i < RSS_RUNS; i++)); do
      eval "$GTIME -f %M -o $(q "$TMP/$id.rss") $cmd" >/dev/null 2>&1
      m="$(tail -n1 "$TMP/$id.rss" 2>/dev/null)"
      [[ "$m" =~ ^[0-9]+$ ]] && (( m > best )) && best=$m
    done
  fi
  MED[$id]="$(jq -r '.results[0].median' "$TMP/$id.json")"
  RSS[$id]="$best"
  NRUN[$id]="$runs"
}

fmt_time() { awk -v s="$1" 'BEGIN { if (s < 0.01) printf "%.2f ms", s*1000; else if (s < 1) printf "%.1f ms", s*1000; else printf "%.2f s", s }'; }
fmt_rss() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k/1024 }'; }
ratio() { awk -v p="$1" -v b="$2" 'BEGIN { r = p/b; if (r >= 10) printf "%.0f×", r; else printf "%.2f×", r }'; }

ROWS=()
# row TASK TOOL CMD FILES ID [REF_ID]: a measured row; speed-up = MED[ID] / MED[REF_ID]
row() {
  local task="$1" tool="$2" cmd="$3" files="$4" id="$5" ref="${6:-}" wall sp
  wall="$(fmt_time "${MED[$id]}")"
  (( NRUN[$id] == RUNS )) || wall="$wall (${NRUN[$id]} run$( (( NRUN[$id] > 1 )) && echo s))"
  if [[ -z "$ref" ]]; then sp="—"; else sp="$(ratio "${MED[$id]}" "${MED[$ref]}")"; fi
  ROWS+=("| $task | $tool | \`$cmd\` | $files | $wall | $(fmt_rss "${RSS[$id]}") | $sp |")
}
row_na() {  # row_na TASK TOOL WHY
  ROWS+=("| $1 | $2 | — | — | $3 | — | — |")
}
NOTES=()

# JSON counts
bg_files() { jq -r '.summary.files' "$1" 2>/dev/null || echo "?"; }
bg_sigs() { jq -r '.summary.signatures | "\(.valid) valid"' "$1" 2>/dev/null || echo "?"; }

# ---------------------------------------------------------------- inputs
SCAN_DIR="$DIR"
if [[ "$QUICK" == 1 ]]; then
  SCAN_DIR="$TMP/quick-elf"; mkdir -p "$SCAN_DIR"
  n=0
  while IFS= read -r -d '' f; do
    IFS= read -r -N 4 magic < "$f" 2>/dev/null || continue
    [[ "$magic" == $'\x7fELF' ]] || continue
    cp -- "$f" "$SCAN_DIR/"; n=$((n + 1)); (( n < 30 )) || break
  done < <(find "$DIR" -maxdepth 1 -type f -size -2M -print0 | sort -z)
  log "QUICK: scanning $n ELF files copied from $DIR into $SCAN_DIR"
fi
SCAN_LABEL="$DIR"; [[ "$QUICK" == 1 ]] && SCAN_LABEL="30 ELF from $DIR"

# The ELF files under SCAN_DIR, for hardening-check (which takes files)
log "listing the ELF files under $SCAN_DIR (for hardening-check)"
: > "$TMP/elf-list"
while IFS= read -r -d '' f; do
  IFS= read -r -N 4 magic < "$f" 2>/dev/null || continue
  [[ "$magic" == $'\x7fELF' ]] && printf '%s\0' "$f" >> "$TMP/elf-list"
done < <(find "$SCAN_DIR" -type f -print0 | sort -z)
N_ELF_LIST="$(tr -cd '\0' < "$TMP/elf-list" | wc -c)"

# PE directory: flat scratch copy of the PE corpus
PE_DIR="$TMP/pe"; mkdir -p "$PE_DIR"
for f in "$REPO"/corpus/pe/* "$REPO"/corpus/signed/* "$REPO"/corpus/risk/* \
         "$PUB"/msvc-runtime/*.dll "$PUB"/electron-winstaller/* "$PUB"/esbuild.exe; do
  [[ -f "$f" && "$f" != *.json ]] || continue
  d="$(basename "$(dirname "$f")")"
  cp -- "$f" "$PE_DIR/$d-$(basename "$f")"
done
[[ -d "$PUB/msvc-runtime" ]] || NOTES+=("The public corpus (\`corpus/fetch-public.sh\`) is absent: the PE directory holds only the committed fixtures and the DLL verification is skipped.")
N_PE_COPIED="$(find "$PE_DIR" -type f | wc -l)"; PE_MB="$(du -sm "$PE_DIR" | cut -f1)"

# ---------------------------------------------------------------- 1. hardening scan of SCAN_DIR
log "task: ELF hardening scan of $SCAN_DIR"
T="scan \`$SCAN_LABEL\`"
"$BG" check --no-policy --format json "$SCAN_DIR" > "$TMP/bg-scan.report"   # also warms the page cache
measure bg-scan "$RUNS" "$(q "$BG") check --no-policy --format json $(q "$SCAN_DIR")"
row "$T" "bingate check" "bingate check --no-policy --format json DIR" "$(bg_files "$TMP/bg-scan.report")" bg-scan
if [[ -z "${NA[checksec.rs]:-}" ]]; then
  "$CHECKSEC_RS" --json -d "$SCAN_DIR" > "$TMP/rs-scan.report" 2>/dev/null
  measure rs-scan "$RUNS" "$(q "$CHECKSEC_RS") --json -d $(q "$SCAN_DIR")"
  row "$T" "checksec.rs 0.0.9" "checksec --json -d DIR" "$(jq '.binaries | length' "$TMP/rs-scan.report")" rs-scan bg-scan
else row_na "$T" "checksec.rs 0.0.9" "not available: ${NA[checksec.rs]}"; fi
if [[ -z "${NA[checksec.sh]:-}" ]]; then
  printf 'exec %q --output=json --dir=%q > %q 2>/dev/null\n' "$CHECKSEC_SH" "$SCAN_DIR" "$TMP/sh-scan.report" > "$TMP/sh-scan.sh"
  measure sh-scan "$SLOW_RUNS" "bash $(q "$TMP/sh-scan.sh")"
  # checksec.sh builds JSON by string concatenation: count with jq, else by "filename"
  n="$(jq '[keys[] | select(. != "dir")] | length' "$TMP/sh-scan.report" 2>/dev/null \
       || grep -o '"filename":' "$TMP/sh-scan.report" | wc -l)"
  row "$T" "checksec.sh 2.6" "checksec --output=json --dir=DIR" "$n" sh-scan bg-scan
else row_na "$T" "checksec.sh 2.6" "not available: ${NA[checksec.sh]}"; fi
if [[ -z "${NA[hardening-check]:-}" ]]; then
  # exit status 1 means "some binary lacks a feature", not an error: ignored
  printf 'xargs -0 -a %q %q > %q 2>&1; exit 0\n' "$TMP/elf-list" "$HARDENING_CHECK" "$TMP/hc-scan.out" > "$TMP/hc-scan.sh"
  measure hc-scan "$SLOW_RUNS" "bash $(q "$TMP/hc-scan.sh")"
  n="$(grep -c '^[^ ].*:$' "$TMP/hc-scan.out" || true)"
  row "$T" "hardening-check (devscripts)" "xargs -0 -a ELF_LIST hardening-check" "$n" hc-scan bg-scan
else row_na "$T" "hardening-check" "not available: ${NA[hardening-check]}"; fi

# ---------------------------------------------------------------- 2. hardening scan of PE files
log "task: PE hardening scan of $PE_DIR"
T="scan PE dir ($N_PE_COPIED files, $PE_MB MB)"
"$BG" check --no-policy --format json "$PE_DIR" > "$TMP/bg-pe.report"
measure bg-pe "$RUNS" "$(q "$BG") check --no-policy --format json $(q "$PE_DIR")"
row "$T" "bingate check" "bingate check --no-policy --format json DIR" "$(bg_files "$TMP/bg-pe.report")" bg-pe
if [[ -z "${NA[checksec.rs]:-}" ]]; then
  "$CHECKSEC_RS" --json -d "$PE_DIR" > "$TMP/rs-pe.report" 2>/dev/null
  measure rs-pe "$RUNS" "$(q "$CHECKSEC_RS") --json -d $(q "$PE_DIR")"
  row "$T" "checksec.rs 0.0.9" "checksec --json -d DIR" "$(jq '.binaries | length' "$TMP/rs-pe.report")" rs-pe bg-pe
else row_na "$T" "checksec.rs 0.0.9" "not available: ${NA[checksec.rs]}"; fi
row_na "$T" "checksec.sh 2.6" "n/a (ELF only)"
row_na "$T" "hardening-check" "n/a (ELF only)"

# ---------------------------------------------------------------- 3. Authenticode: signed DLLs
DLL_DIR="$PUB/msvc-runtime"
if compgen -G "$DLL_DIR/*.dll" >/dev/null; then
  log "task: Authenticode verification of $DLL_DIR"
  N_DLL="$(ls "$DLL_DIR"/*.dll | wc -l)"; DLL_MB="$(du -cm "$DLL_DIR"/*.dll | tail -n1 | cut -f1)"
  T="verify $N_DLL signed DLLs ($DLL_MB MB)"
  "$BG" verify --format json "$DLL_DIR" > "$TMP/bg-dll.report"
  measure bg-dll "$RUNS" "$(q "$BG") verify --format json $(q "$DLL_DIR")"
  row "$T" "bingate verify" "bingate verify --format json DIR" "$N_DLL ($(bg_sigs "$TMP/bg-dll.report"))" bg-dll
  if [[ -z "${NA[osslsigncode]:-}" ]]; then
    {
      echo "ok=0"
      printf 'for f in %q/*.dll; do\n' "$DLL_DIR"
      printf '  osslsigncode verify -ignore-crl -CAfile %q -TSA-CAfile %q -in "$f" >/dev/null 2>&1 && ok=$((ok + 1))\n' "$MS_CS" "$MS_TS"
      printf 'done\necho "$ok" > %q\n' "$TMP/ossl-dll.ok"
    } > "$TMP/ossl-dll.sh"
    measure ossl-dll "$RUNS" "bash $(q "$TMP/ossl-dll.sh")"
    row "$T" "osslsigncode $OSSL_VER" "for f in DIR/*.dll; do osslsigncode verify -CAfile MS -TSA-CAfile MS -in \$f; done" "$N_DLL ($(cat "$TMP/ossl-dll.ok") ok)" ossl-dll bg-dll
  else row_na "$T" "osslsigncode" "not available: ${NA[osslsigncode]}"; fi
  if [[ -z "${NA[openssl]:-}" ]]; then
    measure dgst-dll "$RUNS" "openssl dgst -sha256 $(for f in "$DLL_DIR"/*.dll; do printf '%q ' "$f"; done)"
    row "$T" "openssl dgst -sha256 (limit)" "openssl dgst -sha256 DIR/*.dll" "$N_DLL" dgst-dll bg-dll
  else row_na "$T" "openssl dgst" "not available: ${NA[openssl]}"; fi
else
  row_na "verify signed DLLs" "all" "skipped: corpus/public/msvc-runtime absent (run corpus/fetch-public.sh)"
fi

# ---------------------------------------------------------------- 4. Authenticode: one large signed PE
BIG_PE="$PUB/node/node.exe"; BIG_TRUST=(); BIG_OSSL_CA="-CAfile $(q "$MS_CS") -TSA-CAfile $(q "$MS_TS")"
BIG_LABEL="node.exe"; OSSL_CA_SHORT="-CAfile MS -TSA-CAfile MS"
if [[ ! -f "$BIG_PE" ]]; then
  if [[ -z "${NA[osslsigncode]:-}" ]]; then
    log "node.exe absent: making a synthetic ${ELF_MB} MB PE signed with corpus/pki"
    cp "$REPO/corpus/pe/x64-default.exe" "$TMP/big-unsigned.exe"
    head -c "$((ELF_MB * 1000 * 1000))" /dev/urandom >> "$TMP/big-unsigned.exe"
    osslsigncode sign -certs "$PKI/leaf-rsa-chain.pem" -key "$PKI/leaf-rsa.key" -h sha256 \
      -in "$TMP/big-unsigned.exe" -out "$TMP/big.exe" >/dev/null 2>&1 && BIG_PE="$TMP/big.exe"
    rm -f "$TMP/big-unsigned.exe"
    BIG_TRUST=(--trust "$PKI/root.pem"); BIG_OSSL_CA="-CAfile $(q "$PKI/root.pem")"
    BIG_LABEL="synthetic PE"; OSSL_CA_SHORT="-CAfile root.pem"
    NOTES+=("\`corpus/public/node/node.exe\` is absent: the large PE is a ${ELF_MB} MB synthetic PE (an overlay the image hash covers) signed with \`corpus/pki\`.")
  fi
fi
if [[ -f "$BIG_PE" ]]; then
  log "task: Authenticode verification of $BIG_PE"
  BIG_MB="$(( $(stat -c %s "$BIG_PE") / 1000000 ))"
  T="verify one signed PE ($BIG_LABEL, $BIG_MB MB)"
  trust_q=""; for a in "${BIG_TRUST[@]}"; do trust_q+="$(q "$a") "; done
  eval "$(q "$BG") verify $trust_q--format json $(q "$BIG_PE")" > "$TMP/bg-big.report"
  measure bg-big "$RUNS" "$(q "$BG") verify $trust_q--format json $(q "$BIG_PE")"
  row "$T" "bingate verify" "bingate verify ${BIG_TRUST[*]:+--trust root.pem }--format json FILE" "1 ($(bg_sigs "$TMP/bg-big.report"))" bg-big
  if [[ -z "${NA[osslsigncode]:-}" ]]; then
    ok=0; eval "osslsigncode verify -ignore-crl $BIG_OSSL_CA -in $(q "$BIG_PE")" >/dev/null 2>&1 && ok=1
    measure ossl-big "$RUNS" "osslsigncode verify -ignore-crl $BIG_OSSL_CA -in $(q "$BIG_PE")"
    row "$T" "osslsigncode $OSSL_VER" "osslsigncode verify -ignore-crl $OSSL_CA_SHORT -in FILE" "1 ($ok ok)" ossl-big bg-big
  else row_na "$T" "osslsigncode" "not available: ${NA[osslsigncode]}"; fi
  if [[ -z "${NA[openssl]:-}" ]]; then
    measure dgst-big "$RUNS" "openssl dgst -sha256 $(q "$BIG_PE")"
    row "$T" "openssl dgst -sha256 (limit)" "openssl dgst -sha256 FILE" "1" dgst-big bg-big
  fi
else
  row_na "verify one signed PE" "all" "skipped: node.exe absent and osslsigncode unavailable to sign a synthetic one"
fi

# ---------------------------------------------------------------- 5. ELF signing of a large ELF
log "task: ELF signing of a ${ELF_MB} MB ELF"
head -c "$((ELF_MB * 1000 * 1000))" /dev/urandom > "$TMP/blob"
objcopy --add-section .blob="$TMP/blob" --set-section-flags .blob=readonly \
  "$REPO/corpus/elf/static" "$TMP/big.elf"
rm -f "$TMP/blob"
BIG_ELF_MB="$(( $(stat -c %s "$TMP/big.elf") / 1000000 ))"
SIGN="$(q "$BG") sign elf --key $(q "$PKI/leaf-rsa.key") --cert $(q "$PKI/leaf-rsa.pem") --chain $(q "$PKI/intermediate.pem")"
T="sign one ELF ($BIG_ELF_MB MB)"
measure sign-sec "$RUNS" "$SIGN --output $(q "$TMP/out.section") $(q "$TMP/big.elf")"
row "$T" "bingate sign elf" "bingate sign elf --key K --cert C --chain I --output OUT FILE" "1" sign-sec
measure sign-mod "$RUNS" "$SIGN --format module --output $(q "$TMP/out.module") $(q "$TMP/big.elf")"
row "$T" "bingate sign elf --format module" "bingate sign elf --format module … --output OUT FILE" "1" sign-mod
if [[ -n "$SIGN_FILE" ]]; then
  measure signfile "$RUNS" "$(q "$SIGN_FILE") sha256 $(q "$PKI/leaf-rsa.key") $(q "$PKI/leaf-rsa.pem") $(q "$TMP/big.elf") $(q "$TMP/out.sf")"
  row "$T" "kernel sign-file (module)" "sign-file sha256 KEY CERT FILE OUT" "1" signfile sign-sec
fi
measure sha-elf "$RUNS" "sha256sum $(q "$TMP/big.elf")"
row "$T" "sha256sum (coreutils)" "sha256sum FILE" "1" sha-elf sign-sec
if [[ -z "${NA[openssl]:-}" ]]; then
  measure dgst-elf "$RUNS" "openssl dgst -sha256 $(q "$TMP/big.elf")"
  row "$T" "openssl dgst -sha256 (limit)" "openssl dgst -sha256 FILE" "1" dgst-elf sign-sec
fi
rm -f "$TMP/out.module" "$TMP/out.sf"

T="verify the signed ELF ($BIG_ELF_MB MB)"
"$BG" verify --trust "$PKI/root.pem" --format json "$TMP/out.section" > "$TMP/bg-elfv.report"
measure elf-verify "$RUNS" "$(q "$BG") verify --trust $(q "$PKI/root.pem") --format json $(q "$TMP/out.section")"
row "$T" "bingate verify" "bingate verify --trust root.pem --format json FILE" "1 ($(bg_sigs "$TMP/bg-elfv.report"))" elf-verify
if [[ -z "${NA[openssl]:-}" ]]; then
  measure dgst-elfv "$RUNS" "openssl dgst -sha256 $(q "$TMP/out.section")"
  row "$T" "openssl dgst -sha256 (limit)" "openssl dgst -sha256 FILE" "1" dgst-elfv elf-verify
fi
rm -f "$TMP/big.elf" "$TMP/out.section"

# ---------------------------------------------------------------- 6. scale: synthetic trees
MAX_SCALE=0; for n in $SCALE_SIZES; do (( n > MAX_SCALE )) && MAX_SCALE=$n; done
log "task: scale — building a synthetic tree of $MAX_SCALE binaries"
SCALE="$TMP/scale"; mkdir -p "$SCALE/all"
python3 - "$REPO" "$SCALE/all" "$MAX_SCALE" > "$TMP/scale.info" <<'PY'
# Tree of N binaries in subdirectories of 100: hard links of the corpus ELF and PE
# fixtures (and the public corpus when present); every 4th file of <= 256 KiB is a
# copy with a few appended bytes instead, so its hash differs from every other file.
import glob, os, shutil, sys
repo, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
pats = ["corpus/elf/*", "corpus/pe/*", "corpus/signed/*", "corpus/risk/*",
        "corpus/public/msvc-runtime/*.dll", "corpus/public/electron-winstaller/*",
        "corpus/public/esbuild.exe", "corpus/public/esbuild-linux-x64", "corpus/public/kmod/*"]
srcs = sorted(p for pat in pats for p in glob.glob(os.path.join(repo, pat))
              if os.path.isfile(p) and not p.endswith((".json", ".md")))
variants = links = 0
total = 0
for i in range(n):
    src = srcs[i % len(srcs)]
    d = os.path.join(out, "s%03d" % (i // 100))
    os.makedirs(d, exist_ok=True)
    dst = os.path.join(d, "%05d-%s" % (i, os.path.basename(src)))
    size = os.path.getsize(src)
    if i % 4 == 3 and size <= 256 * 1024:
        shutil.copyfile(src, dst)
        with open(dst, "ab") as f:
            f.write(b"bingate-bench-variant-%d" % i)
        variants += 1
    else:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
        links += 1
    total += size
print("%d sources, %d hard links, %d variants, %.0f MB logical" % (len(srcs), links, variants, total / 1e6))
PY
SCALE_INFO="$(cat "$TMP/scale.info")"
for n in $SCALE_SIZES; do
  tree="$SCALE/t$n"; mkdir -p "$tree"
  for ((k = 0; k < n / 100; k++)); do cp -al "$SCALE/all/$(printf 's%03d' "$k")" "$tree/"; done
  "$BG" check --no-policy --format json "$tree" > "$TMP/bg-scale.report"
  measure "scale$n" "$RUNS" "$(q "$BG") check --no-policy --format json $(q "$tree")"
  if (( n % 1000 == 0 )); then label="scale $((n / 1000))k"; else label="scale $n"; fi
  row "$label" "bingate check" "bingate check --no-policy --format json TREE" "$(bg_files "$TMP/bg-scale.report")" "scale$n"
  rm -f "$TMP/bg-scale.report"
done

LOAD_END="$(load_now)"; BUSY_END="$(busy_now)"; HOGS_END="$(hogs_now)"; ELAPSED=$(( $(date +%s) - T0 ))
kill "$SAMPLER" 2>/dev/null; SAMPLER=""
BUSY_SAMPLES="$(awk '{n++; if ($1 > 0) f++; if ($2 > 0) c++} END {printf "%d samples (every 15 s): a fuzzer running in %d, cargo/rustc in %d", n, f, c}' "$TMP/busy.log" 2>/dev/null)"

# ---------------------------------------------------------------- output
cpu_model="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
cpu_fm="$(awk -F: '/^cpu family/{f=$2} /^model[^ ]*\t*:/{m=$2} END{gsub(/ /,"",f); gsub(/ /,"",m); print "family " f ", model " m}' /proc/cpuinfo)"
cpu_sha="no"; grep -qw sha_ni /proc/cpuinfo && cpu_sha="yes"
hyperv="$(lscpu 2>/dev/null | awk -F: '/Hypervisor vendor/{gsub(/^ +/,"",$2); print $2}')"
mem="$(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
os="$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
ver() { "$@" 2>/dev/null | head -n1; }
pkgver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "?"; }

echo "### Machine"
echo
echo "- CPU: $cpu_model ($cpu_fm; SHA extensions: $cpu_sha)${hyperv:+, $hyperv guest}; $(nproc) logical CPUs ($(lscpu 2>/dev/null | awk -F: '/Core\(s\) per socket/{gsub(/ /,"",$2); print $2}') cores × $(lscpu 2>/dev/null | awk -F: '/Thread\(s\) per core/{gsub(/ /,"",$2); print $2}') thread)"
echo "- RAM: $mem; OS: $os; kernel $(uname -r); $(ver rustc --version)"
echo "- bingate: $BG_VERSION (git $GIT_REV), \`cargo build --release\`"
echo "- peers: checksec.rs $("$CHECKSEC_RS" --version 2>/dev/null | awk '{print $2}' || echo n/a); checksec.sh $(ver "$CHECKSEC_SH" --version | awk '{print $2}' | tr -d ,) (Debian $(pkgver checksec)); hardening-check (devscripts $(pkgver devscripts)); $(ver osslsigncode --version | cut -d, -f1); $(ver openssl version | cut -d' ' -f1-2); sha256sum (coreutils $(pkgver coreutils))${SIGN_FILE:+; sign-file ($SIGN_FILE)}"
echo "- measurement: $TIMER, $WARMUP warm-up + $RUNS runs per command, medians (checksec.sh and hardening-check: $SLOW_RUNS run); peak RSS: $RSS_HOW, max of $RSS_RUNS separate runs (single-run peers: that run); warm page cache"
echo "- run: $DATE_START, $ELAPSED s in all; load average at start $LOAD_START, at end $LOAD_END; at start $BUSY_START; at end $BUSY_END; during the run: $BUSY_SAMPLES; other processes using >= 50% of a CPU at start: $HOGS_START, at end: $HOGS_END"
[[ "$QUICK" == 1 ]] && echo "- QUICK=1 smoke run: small inputs, not for publication"
echo
echo "| task | tool | command (short) | files | median wall | peak RSS | bingate speed-up |"
echo "|---|---|---|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Notes:"
echo
echo "- bingate speed-up = the row's median / bingate's median for the same task (for \`sign\`, \`bingate sign elf\` in section format). Below 1× means bingate is slower; the \`openssl dgst -sha256 (limit)\` rows hash the same bytes once and are the physical limit, not a peer."
echo "- files: entries in each tool's report (bingate \`summary.files\`, checksec.rs \`binaries[]\`, checksec.sh JSON keys, hardening-check report headers); none of the tools follows symlinks. bingate also computes every file's SHA-256 (the peers hash nothing)."
echo "- hardening-check takes files, not a directory: it is given ELF_LIST, the $N_ELF_LIST ELF files found under the directory (\`find -type f\`, ELF magic), with \`xargs -0\`; its exit status (1 when a binary lacks a feature) is ignored. checksec.sh and hardening-check read ELF only."
echo "- Authenticode: osslsigncode verifies one file per process, so the DLL row is a shell loop; both tools get Microsoft's roots (bingate embeds them; osslsigncode \`-CAfile policies/trust/microsoft-codesigning.pem -TSA-CAfile policies/trust/microsoft-timestamping.pem -ignore-crl\`)."
echo "- sign: the ELF is \`corpus/elf/static\` plus a ${ELF_MB} MB section of random bytes; RSA-2048 test key (\`corpus/pki\`), SHA-256, output on the same disk."
echo "- scale: $SCALE_INFO (the ${SCALE_SIZES// / and } trees are the first files of it, hard-linked); bingate's RSS includes the mapped pages of the files being read, so it is bounded by the largest inputs in flight, not by the number of files."
echo "- Peak RSS of a shell loop, \`xargs\` or checksec.sh is that of the largest single process in the tree, not a sum."
for n in "${NOTES[@]}"; do echo "- $n"; done
log "done in ${ELAPSED}s"
