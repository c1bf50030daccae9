#!/usr/bin/env bash
# scripts/bench.sh — bingate's one benchmark. Builds bingate (release), installs or
# builds the peers it can reach, measures everything in the same run and prints
# ONE markdown table (plus a "machine" block) on stdout; progress goes to stderr.
#
# Usage:
#   scripts/bench.sh [DIR]            # DIR for the ELF hardening scan, default /usr/bin
#
# Tasks (rows of the table), each with every tool that can do it; the commands of one task
# are timed alternately (A B C A B C ..., see "Measurement"):
#   scan ELF   DIR (default /usr/bin): bingate check (human output, default policy) and
#              `check --no-policy --format json`, checksec.rs 0.0.9, checksec.sh 2.6,
#              hardening-check (devscripts; takes files, not a directory: the ELF files
#              under DIR are passed to it with xargs), and the two-core SHA-256 limit
#   scan PE    a scratch copy of corpus/pe, corpus/signed, corpus/risk and the public
#              corpus' msvc-runtime DLLs, electron-winstaller tools and esbuild.exe:
#              the same bingate commands, checksec.rs and the two-core limit
#   scan Wine  the ~690 PE DLLs and programs (~640 MB) of Debian's libwine package
#              (usr/lib/x86_64-linux-gnu/wine/x86_64-windows), fetched with
#              `apt-get download libwine` into BENCH_DIR and unpacked with dpkg-deb
#              (no root needed): the same commands
#   archives   a wheel (`zip -6` of the unpacked libwine tree) and the libwine .deb:
#              bingate check on the archive vs unpacking it (`unzip -p`, `dpkg-deb
#              --fsys-tarfile`) plus bingate check on the unpacked tree (issue 18's bar);
#              and a real wheel over 500 MB, NVIDIA's cuDNN for Windows from PyPI (693 MB,
#              ten signed DLLs), downloaded into BENCH_DIR/wheels, against the same bar
#   verify DLLs    corpus/public/msvc-runtime/*.dll (12 Microsoft-signed DLLs):
#              `bingate verify DIR` vs `osslsigncode verify` file by file in a loop,
#              vs `openssl dgst -sha256` over the same files (the physical limit)
#   verify big PE  corpus/public/node/node.exe (~100 MB, signed): bingate verify vs
#              osslsigncode verify vs openssl dgst (without the public corpus: a
#              synthetic PE of ELF_MB MB signed with corpus/pki)
#   sign PE    the same large PE, its signature replaced: bingate sign pe vs
#              osslsigncode sign vs openssl dgst (RSA-2048 test key, no timestamp)
#   sign ELF   one ELF_MB MB ELF (corpus/elf/static + a section of random bytes):
#              bingate sign elf (section, module) vs sha256sum vs openssl dgst
#              (and the kernel's sign-file when linux-kbuild is installed)
#   verify ELF the signed file: bingate verify vs openssl dgst
#   scale      a synthetic tree of SCALE_SIZES binaries (hard links of the corpus ELF
#              and PE fixtures plus small variants: copies with a few appended bytes,
#              so hashes differ): bingate check, wall time, CPU time and peak RSS per size
#
# The limit: one `openssl dgst -sha256` pass over the same bytes (OpenSSL uses the CPU's
# SHA extensions); for a directory, one pass per core (the files split in two lists of
# about equal bytes, two openssl processes side by side), since bingate uses every core.
#
# Measurement: a small python3 timer (alt.py, written below) runs the commands of a
# task alternately, WARMUP untimed rounds then RUNS timed rounds, rotating the order
# every round, so slow drift of the machine's load falls on every command alike. Per
# run it records wall time, CPU time (user + system of the process and the descendants
# it waited for, from wait4's rusage) and peak RSS (ru_maxrss: for a process tree, the
# largest single process, not a sum). The table shows median wall, median CPU and the
# largest peak RSS. The machine's load is sampled during the run and printed.
#
# Output: the "machine" block, the table, notes and the issue's targets with the ratios
# measured in this run. With UPDATE_README=1 the same text also replaces what lies
# between the `<!-- bench.sh:begin -->` and `<!-- bench.sh:end -->` lines of README.md.
#
# Environment knobs (all optional):
#   BENCH_DIR=PATH   where checksec.rs, the libwine package and the wheel are kept between runs
#                    (default <repo>/target/bench; checksec.rs goes to
#                    $BENCH_DIR/checksec-rs/bin/checksec so it never shadows
#                    Debian's checksec.sh, /usr/bin/checksec)
#   RUNS=N           timed runs per command (default 5, min 3)
#   WARMUP=N         warm-up runs per command (default 1)
#   SLOW_RUNS=N      runs for checksec.sh and hardening-check (default 1)
#   ELF_MB=N         size of the ELF to sign (default 100)
#   SCALE_SIZES="1000 10000 50000"  synthetic tree sizes (multiples of 100)
#   QUICK=1          smoke run: RUNS=3, DIR = 30 ELF files copied from DIR, ELF_MB=10,
#                    SCALE_SIZES="200 1000", no Wine DLLs
#   SKIP_INSTALL=1   install and download nothing; missing peers get "not available" rows
#   NO_BUILD=1       do not run `cargo build --release`
#   UPDATE_README=1  write the output into README.md's Performance section
#   BINGATE=PATH     bingate binary (default <repo>/target/release/bingate; it
#                    is copied to the scratch dir first, so a rebuild during the
#                    run cannot change what is measured)
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-/usr/bin}"
DIR="${DIR%/}"; [[ -n "$DIR" ]] || DIR=/
QUICK="${QUICK:-0}"
if [[ "$QUICK" == 1 ]]; then
  RUNS="${RUNS:-3}"; ELF_MB="${ELF_MB:-10}"
  SCALE_SIZES="${SCALE_SIZES:-200 1000}"
fi
RUNS="${RUNS:-5}"; WARMUP="${WARMUP:-1}"; SLOW_RUNS="${SLOW_RUNS:-1}"
ELF_MB="${ELF_MB:-100}"
SCALE_SIZES="${SCALE_SIZES:-1000 10000 50000}"
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
(( SLOW_RUNS >= 1 )) || { echo "SLOW_RUNS must be >= 1" >&2; exit 2; }
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
q() { printf '%q' "$1"; }   # shell-quote a word for the timer's / eval's command strings

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

# heaptrack: the peak heap of the scale runs (what the program holds, without the allocator's
# retained pages or the mapped files); optional, the scale rows still have RssAnon without it.
have heaptrack || apt_install heaptrack || true

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

# ---------------------------------------------------------------- timer
[[ -x /usr/bin/time ]] || apt_install time || true
if [[ -x /usr/bin/time ]]; then RSS_HOW="GNU time %M around each run (its ~1 ms is in the wall time)"; else RSS_HOW="wait4 ru_maxrss (GNU time not available: every value includes python's own pages)"; fi
TIMER="alt.py (python3 $(python3 -c 'import platform; print(platform.python_version())')): alternated runs, wall by perf_counter, CPU (user+system) from wait4; peak RSS: $RSS_HOW"
cat > "$TMP/bin/alt.py" <<'PY'
# alt.py WARMUP RUNS OUT_DIR ID=CMD [ID=CMD ...] [rm:ID=PATH ...]
# Runs the commands alternately (A B C A B C ...): WARMUP untimed rounds, then RUNS timed
# rounds, the order rotated every round so no command always follows the same one. Per run:
# wall time (perf_counter around fork/exec/wait), CPU time (user + system of the process and
# every descendant it waited for, from wait4's rusage), peak RSS (ru_maxrss: the largest single
# process of the tree). Writes OUT_DIR/ID.json: medians of wall and CPU, the max peak RSS, all
# samples and exit codes. `rm:ID=PATH` removes PATH (untimed) before each run of ID, for
# commands that must write a new file each time.
import json, os, shlex, statistics, subprocess, sys, time
warm, runs, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cmds = [a.split("=", 1) for a in sys.argv[4:] if not a.startswith("rm:")]
remove = dict(a[3:].split("=", 1) for a in sys.argv[4:] if a.startswith("rm:"))
samples = {i: [] for i, _ in cmds}
# A child forked from python starts with python's pages, so its own ru_maxrss never reads
# below python's; GNU time (a small C program) execs the command and reports its %M instead.
gtime = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
rss_file = os.path.join(out, "alt.rss")
def run(cmd):
    argv = shlex.split(cmd)
    if gtime:
        argv = [gtime, "-f", "%M", "-o", rss_file] + argv
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    rss = ru.ru_maxrss
    if gtime:
        try:
            rss = int(open(rss_file).read().split()[-1])
        except (OSError, ValueError, IndexError):
            rss = 0
    code = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_utime + ru.ru_stime, rss, code
for r in range(warm + runs):
    k = r % len(cmds)
    for i, cmd in cmds[k:] + cmds[:k]:
        if i in remove:
            try:
                os.unlink(remove[i])
            except FileNotFoundError:
                pass
        s = run(cmd)
        if r >= warm:
            samples[i].append(s)
for i, cmd in cmds:
    s = samples[i]
    json.dump({"command": cmd,
               "median": statistics.median(x[0] for x in s),
               "cpu_median": statistics.median(x[1] for x in s),
               "max_rss_kib": max(x[2] for x in s),
               "walls": [x[0] for x in s], "cpus": [x[1] for x in s],
               "exit_codes": [x[3] for x in s]},
              open(os.path.join(out, i + ".json"), "w"))
PY

declare -A MED CPU RSS NRUN
# measure RUNS ID=CMD [ID=CMD ...]: times the commands (command lines, words
# shell-quoted, no shell operators) alternately; records MED[ID] (median wall, s),
# CPU[ID] (median user+system, s), RSS[ID] (largest peak RSS, KiB) and NRUN[ID].
measure() {
  local runs="$1" warm="$WARMUP" a id; shift
  (( runs > 1 )) || warm=0
  for a in "$@"; do [[ "$a" == rm:* ]] || log "measure ${a%%=*} ($runs run(s)): ${a#*=}"; done
  python3 "$TMP/bin/alt.py" "$warm" "$runs" "$TMP" "$@" >&2
  for a in "$@"; do
    [[ "$a" != rm:* ]] || continue
    id="${a%%=*}"
    MED[$id]="$(jq -r '.median' "$TMP/$id.json")"
    CPU[$id]="$(jq -r '.cpu_median' "$TMP/$id.json")"
    RSS[$id]="$(jq -r '.max_rss_kib' "$TMP/$id.json")"
    NRUN[$id]="$runs"
  done
}

# dgst2 ID LIST_FILE: writes $TMP/ID.sh, one `openssl dgst -sha256` per core over the
# NUL-separated files of LIST_FILE split into two lists of about equal bytes.
dgst2() {
  local id="$1" list="$2"
  python3 - "$list" "$TMP/$id.a" "$TMP/$id.b" <<'PY'
import os, sys
files = [f for f in open(sys.argv[1], "rb").read().split(b"\0") if f]
files.sort(key=lambda f: -os.path.getsize(f))
lists, sizes = ([], []), [0, 0]
for f in files:
    k = 0 if sizes[0] <= sizes[1] else 1
    lists[k].append(f); sizes[k] += os.path.getsize(f)
for path, l in zip(sys.argv[2:], lists):
    open(path, "wb").write(b"".join(f + b"\0" for f in l))
PY
  printf 'xargs -0 -r -a %q openssl dgst -sha256 >/dev/null & xargs -0 -r -a %q openssl dgst -sha256 >/dev/null & wait\n' \
    "$TMP/$id.a" "$TMP/$id.b" > "$TMP/$id.sh"
}

fmt_time() { awk -v s="$1" 'BEGIN { if (s < 0.01) printf "%.2f ms", s*1000; else if (s < 1) printf "%.1f ms", s*1000; else printf "%.2f s", s }'; }
fmt_rss() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k/1024 }'; }
ratio() { awk -v p="$1" -v b="$2" 'BEGIN { r = p/b; if (r >= 10) printf "%.0f×", r; else printf "%.2f×", r }'; }

# Peak anonymous and file-backed resident memory of one run of a command, sampled from
# /proc/PID/status every 5 ms (RssAnon: the heap and stacks; RssFile: pages of mapped files, which
# for bingate are the files being examined). Prints "ANON_KB FILE_KB".
mem_peaks() {
  "$@" > /dev/null 2>&1 & local pid=$! pa=0 pf=0 a f
  while kill -0 "$pid" 2>/dev/null; do
    read -r a f < <(awk '/^RssAnon/{a=$2} /^RssFile/{f=$2} END{print a+0, f+0}' "/proc/$pid/status" 2>/dev/null || echo "0 0")
    (( a > pa )) && pa=$a; (( f > pf )) && pf=$f
    sleep 0.005
  done
  wait "$pid" || true
  echo "$pa $pf"
}
declare -A ANON FILEMEM HEAP

ROWS=()
# row TASK TOOL CMD FILES ID [REF_ID]: a measured row; speed-up = MED[ID] / MED[REF_ID]
row() {
  local task="$1" tool="$2" cmd="$3" files="$4" id="$5" ref="${6:-}" wall sp
  wall="$(fmt_time "${MED[$id]}")"
  (( NRUN[$id] == RUNS )) || wall="$wall (${NRUN[$id]} run$( (( NRUN[$id] > 1 )) && echo s))"
  if [[ -z "$ref" ]]; then sp="—"; else sp="$(ratio "${MED[$id]}" "${MED[$ref]}")"; fi
  ROWS+=("| $task | $tool | \`$cmd\` | $files | $wall | $(fmt_time "${CPU[$id]}") | $(fmt_rss "${RSS[$id]}") | $sp |")
}
row_na() {  # row_na TASK TOOL WHY
  ROWS+=("| $1 | $2 | — | — | $3 | — | — | — |")
}
TARGETS=()
# target WHAT ID REF_ID LIMIT: the ratio MED[ID]/MED[REF_ID] against the issue's target
target() {
  local what="$1" id="$2" ref="$3" limit="$4" r verdict
  if [[ -z "${MED[$id]:-}" || -z "${MED[$ref]:-}" ]]; then
    TARGETS+=("| $what | not measured in this run | ≤ ${limit}× | — |"); return
  fi
  r="$(awk -v a="${MED[$id]}" -v b="${MED[$ref]}" 'BEGIN { printf "%.2f", a/b }')"
  verdict="$(awk -v r="$r" -v l="$limit" 'BEGIN { print (r <= l) ? "met" : "missed" }')"
  TARGETS+=("| $what | ${r}× ($(fmt_time "${MED[$id]}") against $(fmt_time "${MED[$ref]}")) | ≤ ${limit}× | $verdict |")
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
# Wine's PE DLLs and programs: Debian's libwine package, downloaded once into BENCH_DIR
WINE_DIR=""; WINE_WHY=""
if [[ "$QUICK" == 1 ]]; then
  WINE_WHY="QUICK=1"
else
  WINE_CACHE="$BENCH_DIR/libwine"
  if ! compgen -G "$WINE_CACHE/libwine_*.deb" >/dev/null; then
    if [[ "${SKIP_INSTALL:-0}" == 1 ]]; then
      WINE_WHY="libwine not downloaded (SKIP_INSTALL=1)"
    else
      log "apt-get download libwine into $WINE_CACHE"
      mkdir -p "$WINE_CACHE"
      (cd "$WINE_CACHE" && apt-get download libwine >&2) || WINE_WHY="apt-get download libwine failed"
    fi
  fi
  deb="$(ls -1 "$WINE_CACHE"/libwine_*.deb 2>/dev/null | sort -V | tail -n1 || true)"
  if [[ -n "$deb" ]]; then
    dpkg-deb -x "$deb" "$TMP/wine" && WINE_DIR="$TMP/wine/usr/lib/x86_64-linux-gnu/wine/x86_64-windows"
    [[ -d "$WINE_DIR" ]] || { WINE_DIR=""; WINE_WHY="$deb has no x86_64-windows directory"; }
    WINE_PKG="$(basename "$deb")"
  fi
  if [[ -n "$WINE_DIR" ]]; then
    N_WINE="$(find "$WINE_DIR" -type f | wc -l)"; WINE_MB="$(du -sm "$WINE_DIR" | cut -f1)"
  fi
fi

# scan_task TASK DIR ID: bingate check (human output, default policy; and JSON without a
# policy), checksec.rs and the two-core SHA-256 limit over DIR, alternated. The limit hashes
# the files bingate's JSON report lists.
scan_task() {
  local task="$1" dir="$2" id="$3" cmds=()
  "$BG" check --no-policy --format json "$dir" > "$TMP/bg-$id-json.report"   # also warms the page cache
  jq -j '.files[].path + "\u0000"' "$TMP/bg-$id-json.report" > "$TMP/$id.files"
  cmds+=("bg-$id-human=$(q "$BG") check $(q "$dir")" "bg-$id-json=$(q "$BG") check --no-policy --format json $(q "$dir")")
  [[ -n "${NA[checksec.rs]:-}" ]] || cmds+=("rs-$id=$(q "$CHECKSEC_RS") --json -d $(q "$dir")")
  if [[ -z "${NA[openssl]:-}" ]]; then dgst2 "dgst2-$id" "$TMP/$id.files"; cmds+=("dgst2-$id=bash $(q "$TMP/dgst2-$id.sh")"); fi
  measure "$RUNS" "${cmds[@]}"
  row "$task" "bingate check" "bingate check DIR (human, default policy)" "$(bg_files "$TMP/bg-$id-json.report")" "bg-$id-human"
  row "$task" "bingate check --format json" "bingate check --no-policy --format json DIR" "$(bg_files "$TMP/bg-$id-json.report")" "bg-$id-json"
  if [[ -z "${NA[checksec.rs]:-}" ]]; then
    "$CHECKSEC_RS" --json -d "$dir" > "$TMP/rs-$id.report" 2>/dev/null
    row "$task" "checksec.rs 0.0.9" "checksec --json -d DIR" "$(jq '.binaries | length' "$TMP/rs-$id.report")" "rs-$id" "bg-$id-human"
  else row_na "$task" "checksec.rs 0.0.9" "not available: ${NA[checksec.rs]}"; fi
  if [[ -z "${NA[openssl]:-}" ]]; then
    row "$task" "openssl dgst -sha256 ×2 cores (limit)" "two openssl dgst -sha256, each over half the bytes" "$(tr -cd '\0' < "$TMP/$id.files" | wc -c)" "dgst2-$id" "bg-$id-json"
  else row_na "$task" "openssl dgst" "not available: ${NA[openssl]}"; fi
}

# ---------------------------------------------------------------- 1. hardening scan of SCAN_DIR
log "task: ELF hardening scan of $SCAN_DIR"
T="scan \`$SCAN_LABEL\`"
scan_task "$T" "$SCAN_DIR" scan
if [[ -z "${NA[checksec.sh]:-}" ]]; then
  printf 'exec %q --output=json --dir=%q > %q 2>/dev/null\n' "$CHECKSEC_SH" "$SCAN_DIR" "$TMP/sh-scan.report" > "$TMP/sh-scan.sh"
  measure "$SLOW_RUNS" "sh-scan=bash $(q "$TMP/sh-scan.sh")"
  # checksec.sh builds JSON by string concatenation: count with jq, else by "filename"
  n="$(jq '[keys[] | select(. != "dir")] | length' "$TMP/sh-scan.report" 2>/dev/null \
       || grep -o '"filename":' "$TMP/sh-scan.report" | wc -l)"
  row "$T" "checksec.sh 2.6" "checksec --output=json --dir=DIR" "$n" sh-scan bg-scan-human
else row_na "$T" "checksec.sh 2.6" "not available: ${NA[checksec.sh]}"; fi
if [[ -z "${NA[hardening-check]:-}" ]]; then
  # exit status 1 means "some binary lacks a feature", not an error: ignored
  printf 'xargs -0 -a %q %q > %q 2>&1; exit 0\n' "$TMP/elf-list" "$HARDENING_CHECK" "$TMP/hc-scan.out" > "$TMP/hc-scan.sh"
  measure "$SLOW_RUNS" "hc-scan=bash $(q "$TMP/hc-scan.sh")"
  n="$(grep -c '^[^ ].*:$' "$TMP/hc-scan.out" || true)"
  row "$T" "hardening-check (devscripts)" "xargs -0 -a ELF_LIST hardening-check" "$n" hc-scan bg-scan-human
else row_na "$T" "hardening-check" "not available: ${NA[hardening-check]}"; fi

# ---------------------------------------------------------------- 2. hardening scan of PE files
log "task: PE hardening scan of $PE_DIR"
T="scan PE dir ($N_PE_COPIED files, $PE_MB MB)"
scan_task "$T" "$PE_DIR" pe

if [[ -n "$WINE_DIR" ]]; then
  log "task: PE hardening scan of $WINE_DIR"
  T="scan Wine DLLs ($N_WINE files, $WINE_MB MB)"
  scan_task "$T" "$WINE_DIR" wine
else
  row_na "scan Wine DLLs" "all" "skipped: $WINE_WHY"
fi

# ---------------------------------------------------------------- 2b. archives and packages
# The issue's bar: examining an archive in memory must be at least as fast as unpacking it
# (`unzip -p FILE > /dev/null`, `dpkg-deb --fsys-tarfile`) plus bingate on the unpacked files.
# Inputs: the libwine .deb itself (xz-compressed data.tar), and a wheel zipped (`zip -6`, what
# pip's wheel builder uses) from the same unpacked tree, ELF and PE files alike.
if [[ -n "$WINE_DIR" ]]; then
  WINE_ROOT="$TMP/wine"
  log "task: archives: $WINE_PKG and a wheel of its files"
  (cd "$WINE_ROOT" && zip -q -r -6 "$TMP/wine.whl" usr)
  WHL_MB="$(du -m "$TMP/wine.whl" | cut -f1)"; DEB_MB="$(du -m "$deb" | cut -f1)"
  TREE_MB="$(du -sm "$WINE_ROOT" | cut -f1)"
  "$BG" check --no-policy --format json "$TMP/wine.whl" > "$TMP/bg-whl.report"
  "$BG" check --no-policy --format json "$deb" > "$TMP/bg-deb.report"
  "$BG" check --no-policy --format json "$WINE_ROOT" > "$TMP/bg-tree.report"
  printf 'unzip -p %q > /dev/null && %q check --no-policy --format json %q > /dev/null\n' \
    "$TMP/wine.whl" "$BG" "$WINE_ROOT" > "$TMP/unzip-bg.sh"
  printf 'dpkg-deb --fsys-tarfile %q > /dev/null && %q check --no-policy --format json %q > /dev/null\n' \
    "$deb" "$BG" "$WINE_ROOT" > "$TMP/dpkg-bg.sh"
  measure "$RUNS" "bg-whl=$(q "$BG") check --no-policy --format json $(q "$TMP/wine.whl")" \
    "unzip-bg=bash $(q "$TMP/unzip-bg.sh")" \
    "unzip-p=sh -c 'unzip -p $(q "$TMP/wine.whl") > /dev/null'"
  T="wheel ($WHL_MB MB zip of the $TREE_MB MB tree)"
  row "$T" "bingate check" "bingate check --no-policy --format json wine.whl" "$(bg_files "$TMP/bg-whl.report")" bg-whl
  row "$T" "unzip + bingate (the bar)" "unzip -p wine.whl > /dev/null && bingate check … TREE" "$(bg_files "$TMP/bg-tree.report")" unzip-bg bg-whl
  row "$T" "unzip -p alone" "unzip -p wine.whl > /dev/null" "—" unzip-p bg-whl
  measure "$RUNS" "bg-deb=$(q "$BG") check --no-policy --format json $(q "$deb")" \
    "dpkg-bg=bash $(q "$TMP/dpkg-bg.sh")"
  T="deb ($WINE_PKG, $DEB_MB MB, data.tar.xz)"
  row "$T" "bingate check" "bingate check --no-policy --format json PKG.deb" "$(bg_files "$TMP/bg-deb.report")" bg-deb
  row "$T" "dpkg-deb + bingate (the bar)" "dpkg-deb --fsys-tarfile PKG.deb > /dev/null && bingate check … TREE" "$(bg_files "$TMP/bg-tree.report")" dpkg-bg bg-deb
  rm -f "$TMP/wine.whl"
else
  row_na "archives" "all" "skipped: $WINE_WHY"
fi

# A real wheel over 500 MB (the issue's size): NVIDIA's cuDNN for Windows from PyPI, ten
# Authenticode-signed DLLs (one of 522 MB) and headers, downloaded once into BENCH_DIR and
# checked against its pinned SHA-256. Same bar: `unzip -p` plus bingate on the unpacked files.
BIGWHL_NAME="nvidia_cudnn_cu12-9.28.0.42-py3-none-win_amd64.whl"
BIGWHL_SHA="e8eb548c252e95713e81e6fc53c61940d13114d7116908069d018b2d24700620"
BIGWHL="$BENCH_DIR/wheels/$BIGWHL_NAME"; BIGWHL_WHY=""
if [[ "$QUICK" == 1 ]]; then
  BIGWHL_WHY="QUICK=1"
elif [[ ! -f "$BIGWHL" ]]; then
  if [[ "${SKIP_INSTALL:-0}" == 1 ]]; then
    BIGWHL_WHY="$BIGWHL_NAME not downloaded (SKIP_INSTALL=1)"
  else
    log "pip download nvidia-cudnn-cu12==9.28.0.42 (win_amd64, 693 MB) into $BENCH_DIR/wheels"
    mkdir -p "$BENCH_DIR/wheels"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform win_amd64 \
      --python-version 3.12 nvidia-cudnn-cu12==9.28.0.42 -d "$BENCH_DIR/wheels" >&2 \
      || BIGWHL_WHY="pip download nvidia-cudnn-cu12==9.28.0.42 failed"
  fi
fi
if [[ -z "$BIGWHL_WHY" && -f "$BIGWHL" ]] && [[ "$(sha256sum "$BIGWHL" | cut -d' ' -f1)" != "$BIGWHL_SHA" ]]; then
  BIGWHL_WHY="$BIGWHL_NAME does not have the pinned SHA-256"
fi
if [[ -z "$BIGWHL_WHY" ]]; then
  log "task: archives: $BIGWHL_NAME"
  mkdir -p "$TMP/bigwhl" && unzip -q "$BIGWHL" -d "$TMP/bigwhl"
  BIGWHL_MB="$(du -m "$BIGWHL" | cut -f1)"; BIGTREE_MB="$(du -sm "$TMP/bigwhl" | cut -f1)"
  "$BG" check --no-policy --format json "$BIGWHL" > "$TMP/bg-bigwhl.report"
  "$BG" check --no-policy --format json "$TMP/bigwhl" > "$TMP/bg-bigtree.report"
  printf 'unzip -p %q > /dev/null && %q check --no-policy --format json %q > /dev/null\n' \
    "$BIGWHL" "$BG" "$TMP/bigwhl" > "$TMP/unzip-bg-big.sh"
  measure "$RUNS" "bg-bigwhl=$(q "$BG") check --no-policy --format json $(q "$BIGWHL")" \
    "unzip-bg-big=bash $(q "$TMP/unzip-bg-big.sh")" \
    "unzip-p-big=sh -c 'unzip -p $(q "$BIGWHL") > /dev/null'"
  T="wheel over 500 MB ($BIGWHL_NAME, $BIGWHL_MB MB, $BIGTREE_MB MB unpacked, signed DLLs)"
  row "$T" "bingate check" "bingate check --no-policy --format json WHEEL" "$(bg_files "$TMP/bg-bigwhl.report")" bg-bigwhl
  row "$T" "unzip + bingate (the bar)" "unzip -p WHEEL > /dev/null && bingate check … TREE" "$(bg_files "$TMP/bg-bigtree.report")" unzip-bg-big bg-bigwhl
  row "$T" "unzip -p alone" "unzip -p WHEEL > /dev/null" "—" unzip-p-big bg-bigwhl
  rm -rf "$TMP/bigwhl"
else
  row_na "wheel over 500 MB" "all" "skipped: $BIGWHL_WHY"
fi

# ---------------------------------------------------------------- 3. Authenticode: signed DLLs
DLL_DIR="$PUB/msvc-runtime"
if compgen -G "$DLL_DIR/*.dll" >/dev/null; then
  log "task: Authenticode verification of $DLL_DIR"
  N_DLL="$(ls "$DLL_DIR"/*.dll | wc -l)"; DLL_MB="$(du -cm "$DLL_DIR"/*.dll | tail -n1 | cut -f1)"
  T="verify $N_DLL signed DLLs ($DLL_MB MB)"
  "$BG" verify --format json "$DLL_DIR" > "$TMP/bg-dll.report"
  cmds=("bg-dll=$(q "$BG") verify --format json $(q "$DLL_DIR")")
  if [[ -z "${NA[osslsigncode]:-}" ]]; then
    {
      echo "ok=0"
      printf 'for f in %q/*.dll; do\n' "$DLL_DIR"
      printf '  osslsigncode verify -ignore-crl -CAfile %q -TSA-CAfile %q -in "$f" >/dev/null 2>&1 && ok=$((ok + 1))\n' "$MS_CS" "$MS_TS"
      printf 'done\necho "$ok" > %q\n' "$TMP/ossl-dll.ok"
    } > "$TMP/ossl-dll.sh"
    cmds+=("ossl-dll=bash $(q "$TMP/ossl-dll.sh")")
  fi
  [[ -n "${NA[openssl]:-}" ]] || cmds+=("dgst-dll=openssl dgst -sha256 $(for f in "$DLL_DIR"/*.dll; do printf '%q ' "$f"; done)")
  measure "$RUNS" "${cmds[@]}"
  row "$T" "bingate verify" "bingate verify --format json DIR" "$N_DLL ($(bg_sigs "$TMP/bg-dll.report"))" bg-dll
  if [[ -z "${NA[osslsigncode]:-}" ]]; then
    row "$T" "osslsigncode $OSSL_VER" "for f in DIR/*.dll; do osslsigncode verify -CAfile MS -TSA-CAfile MS -in \$f; done" "$N_DLL ($(cat "$TMP/ossl-dll.ok") ok)" ossl-dll bg-dll
  else row_na "$T" "osslsigncode" "not available: ${NA[osslsigncode]}"; fi
  if [[ -z "${NA[openssl]:-}" ]]; then
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
  cmds=("bg-big=$(q "$BG") verify $trust_q--format json $(q "$BIG_PE")")
  [[ -n "${NA[osslsigncode]:-}" ]] || cmds+=("ossl-big=osslsigncode verify -ignore-crl $BIG_OSSL_CA -in $(q "$BIG_PE")")
  [[ -n "${NA[openssl]:-}" ]] || cmds+=("dgst-big=openssl dgst -sha256 $(q "$BIG_PE")")
  measure "$RUNS" "${cmds[@]}"
  row "$T" "bingate verify" "bingate verify ${BIG_TRUST[*]:+--trust root.pem }--format json FILE" "1 ($(bg_sigs "$TMP/bg-big.report"))" bg-big
  if [[ -z "${NA[osslsigncode]:-}" ]]; then
    ok=0; eval "osslsigncode verify -ignore-crl $BIG_OSSL_CA -in $(q "$BIG_PE")" >/dev/null 2>&1 && ok=1
    row "$T" "osslsigncode $OSSL_VER" "osslsigncode verify -ignore-crl $OSSL_CA_SHORT -in FILE" "1 ($ok ok)" ossl-big bg-big
  else row_na "$T" "osslsigncode" "not available: ${NA[osslsigncode]}"; fi
  [[ -n "${NA[openssl]:-}" ]] || row "$T" "openssl dgst -sha256 (limit)" "openssl dgst -sha256 FILE" "1" dgst-big bg-big
else
  row_na "verify one signed PE" "all" "skipped: node.exe absent and osslsigncode unavailable to sign a synthetic one"
fi

# Authenticode signing of the same large PE (its signature replaced), RSA-2048 test key, no TSA:
# bingate sign pe against osslsigncode sign, and one openssl dgst pass as the limit.
if [[ -f "$BIG_PE" ]]; then
  log "task: Authenticode signing of $BIG_PE"
  T="sign one PE ($BIG_LABEL, $BIG_MB MB)"
  PESIGN="$(q "$BG") sign pe --key $(q "$PKI/leaf-rsa.key") --cert $(q "$PKI/leaf-rsa.pem") --chain $(q "$PKI/intermediate.pem")"
  cmds=("sign-pe=$PESIGN --output $(q "$TMP/out-signed.exe") $(q "$BIG_PE")" "rm:sign-pe=$TMP/out-signed.exe")
  [[ -n "${NA[osslsigncode]:-}" ]] || cmds+=("ossl-sign=osslsigncode sign -key $(q "$PKI/leaf-rsa.key") -certs $(q "$PKI/leaf-rsa-chain.pem") -h sha256 -in $(q "$BIG_PE") -out $(q "$TMP/out-ossl.exe")" "rm:ossl-sign=$TMP/out-ossl.exe")
  [[ -n "${NA[openssl]:-}" ]] || cmds+=("dgst-pesign=openssl dgst -sha256 $(q "$BIG_PE")")
  measure "$RUNS" "${cmds[@]}"
  row "$T" "bingate sign pe" "bingate sign pe --key K --cert C --chain I --output OUT FILE" "1" sign-pe
  if [[ -z "${NA[osslsigncode]:-}" ]]; then
    row "$T" "osslsigncode $OSSL_VER" "osslsigncode sign -key K -certs C -h sha256 -in FILE -out OUT" "1" ossl-sign sign-pe
  else row_na "$T" "osslsigncode" "not available: ${NA[osslsigncode]}"; fi
  [[ -n "${NA[openssl]:-}" ]] || row "$T" "openssl dgst -sha256 (limit)" "openssl dgst -sha256 FILE" "1" dgst-pesign sign-pe
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
# Each signer writes a new file every run (the old output is removed, untimed, before it);
# one more row replaces an existing output, which costs more on ext4 (see the notes).
cmds=("sign-sec=$SIGN --output $(q "$TMP/out.section") $(q "$TMP/big.elf")" "rm:sign-sec=$TMP/out.section"
      "sign-rep=$SIGN --output $(q "$TMP/out.replace") $(q "$TMP/big.elf")"
      "sign-mod=$SIGN --format module --output $(q "$TMP/out.module") $(q "$TMP/big.elf")" "rm:sign-mod=$TMP/out.module")
[[ -z "$SIGN_FILE" ]] || cmds+=("signfile=$(q "$SIGN_FILE") sha256 $(q "$PKI/leaf-rsa.key") $(q "$PKI/leaf-rsa.pem") $(q "$TMP/big.elf") $(q "$TMP/out.sf")" "rm:signfile=$TMP/out.sf")
cmds+=("sha-elf=sha256sum $(q "$TMP/big.elf")")
[[ -n "${NA[openssl]:-}" ]] || cmds+=("dgst-elf=openssl dgst -sha256 $(q "$TMP/big.elf")")
measure "$RUNS" "${cmds[@]}"
row "$T" "bingate sign elf" "bingate sign elf --key K --cert C --chain I --output OUT FILE" "1" sign-sec
row "$T" "bingate sign elf, OUT exists" "bingate sign elf … --output OUT FILE (replacing OUT)" "1" sign-rep sign-sec
row "$T" "bingate sign elf --format module" "bingate sign elf --format module … --output OUT FILE" "1" sign-mod
[[ -z "$SIGN_FILE" ]] || row "$T" "kernel sign-file (module)" "sign-file sha256 KEY CERT FILE OUT" "1" signfile sign-sec
row "$T" "sha256sum (coreutils)" "sha256sum FILE" "1" sha-elf sign-sec
[[ -n "${NA[openssl]:-}" ]] || row "$T" "openssl dgst -sha256 (limit)" "openssl dgst -sha256 FILE" "1" dgst-elf sign-sec
rm -f "$TMP/out.module" "$TMP/out.sf" "$TMP/out.replace"

T="verify the signed ELF ($BIG_ELF_MB MB)"
"$BG" verify --trust "$PKI/root.pem" --format json "$TMP/out.section" > "$TMP/bg-elfv.report"
cmds=("elf-verify=$(q "$BG") verify --trust $(q "$PKI/root.pem") --format json $(q "$TMP/out.section")")
[[ -n "${NA[openssl]:-}" ]] || cmds+=("dgst-elfv=openssl dgst -sha256 $(q "$TMP/out.section")")
measure "$RUNS" "${cmds[@]}"
row "$T" "bingate verify" "bingate verify --trust root.pem --format json FILE" "1 ($(bg_sigs "$TMP/bg-elfv.report"))" elf-verify
[[ -n "${NA[openssl]:-}" ]] || row "$T" "openssl dgst -sha256 (limit)" "openssl dgst -sha256 FILE" "1" dgst-elfv elf-verify
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
  measure "$RUNS" "scale$n=$(q "$BG") check --no-policy --format json $(q "$tree")"
  if (( n % 1000 == 0 )); then label="scale $((n / 1000))k"; else label="scale $n"; fi
  row "$label" "bingate check" "bingate check --no-policy --format json TREE" "$(bg_files "$TMP/bg-scale.report")" "scale$n"
  read -r ANON[scale$n] FILEMEM[scale$n] < <(mem_peaks "$BG" check --no-policy --format json "$tree")
  if have heaptrack && have heaptrack_print; then
    # One thread, so the figure is the program's heap, not the worker count's; in KiB.
    heaptrack -o "$TMP/heap$n" "$BG" check --no-policy --format json --jobs 1 "$tree" >/dev/null 2>&1 || true
    HEAP[scale$n]="$(heaptrack_print "$TMP/heap$n".* 2>/dev/null | awk '/^peak heap memory consumption:/ {
      v = $5; u = substr(v, length(v)); n = substr(v, 1, length(v) - 1) + 0
      if (u == "K") print n; else if (u == "M") print n * 1024; else if (u == "G") print n * 1048576; else print v / 1024 }')"
    rm -f "$TMP/heap$n".*
  fi
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

# the issue's targets (ratios of medians measured above)
target "\`check --format json\` on the Wine DLLs against the two-core SHA-256 limit" bg-wine-json dgst2-wine 1.5
target "\`check --format json\` on the PE dir against the two-core SHA-256 limit" bg-pe-json dgst2-pe 1.5
target "\`check\` of a wheel against \`unzip -p\` plus \`check\` of the unpacked files (issue 18)" bg-whl unzip-bg 1.0
target "\`check\` of a wheel over 500 MB (cuDNN for Windows, PyPI) against \`unzip -p\` plus \`check\` of the unpacked files (issue 18)" bg-bigwhl unzip-bg-big 1.0
target "\`check\` of a .deb against \`dpkg-deb --fsys-tarfile\` plus \`check\` of the unpacked files (issue 18)" bg-deb dpkg-bg 1.0
target "\`check\` (human, default policy) on the Wine DLLs against checksec.rs" bg-wine-human rs-wine 2
target "\`check\` (human, default policy) on the PE dir against checksec.rs" bg-pe-human rs-pe 2
target "\`check\` (human, default policy) on \`$SCAN_LABEL\` against checksec.rs" bg-scan-human rs-scan 1.0
target "\`verify\` of the big signed PE against one \`openssl dgst -sha256\`" bg-big dgst-big 1.1
target "\`sign elf\` of the ${BIG_ELF_MB} MB ELF against one \`openssl dgst -sha256\`" sign-sec dgst-elf 1.5
target "\`sign pe\` of the big PE against one \`openssl dgst -sha256\` (issue 16)" sign-pe dgst-pesign 1.3
PESIGN_RSS="$(awk -v k="${RSS[sign-pe]:-0}" 'BEGIN { printf "%.1f MiB", k/1024 }')"
PESIGN_RSS_OK="$(awk -v k="${RSS[sign-pe]:-0}" 'BEGIN { print (k > 0 && k < 65536) ? "met" : "missed" }')"
TARGETS+=("| \`sign pe\` peak RSS (issue 16: independent of the file's size) | $PESIGN_RSS | < 64 MiB | $PESIGN_RSS_OK |")
SIGN_RSS="$(awk -v k="${RSS[sign-sec]:-0}" 'BEGIN { printf "%.1f MiB", k/1024 }')"
SIGN_RSS_OK="$(awk -v k="${RSS[sign-sec]:-0}" 'BEGIN { print (k > 0 && k < 65536) ? "met" : "missed" }')"
TARGETS+=("| \`sign elf\` peak RSS | $SIGN_RSS | < 64 MiB | $SIGN_RSS_OK |")
scale_rss=""; for n in $SCALE_SIZES; do
  scale_rss+="${scale_rss:+, }$n files: "
  [[ -z "${HEAP[scale$n]:-}" ]] || scale_rss+="heap $(fmt_rss "${HEAP[scale$n]}"), "
  scale_rss+="$(fmt_rss "${ANON[scale$n]:-0}") anonymous, $(fmt_rss "${RSS[scale$n]}") RSS"
done
# "Flat": the largest tree's peak heap (heaptrack, one thread) within 1 MiB of the smallest's;
# without heaptrack, its peak anonymous memory (sampled) within 1 MiB or 10 %. Peak RSS also
# counts the pages of the files being examined, which depend on which large files happen to be
# in flight together, not on the number of files.
first_n="${SCALE_SIZES%% *}"; last_n="${SCALE_SIZES##* }"
if [[ -n "${HEAP[scale$first_n]:-}" && -n "${HEAP[scale$last_n]:-}" ]]; then
  scale_rule="flat: peak heap (heaptrack, --jobs 1) of the largest tree within 1 MiB of the smallest's"
  scale_ok="$(awk -v a="${HEAP[scale$first_n]}" -v b="${HEAP[scale$last_n]}" \
    'BEGIN { print (a > 0 && b > 0 && b <= a + 1024) ? "met" : "missed" }')"
else
  scale_rule="flat: peak anonymous memory of the largest tree within 1 MiB or 10 % of the smallest's"
  scale_ok="$(awk -v a="${ANON[scale$first_n]:-0}" -v b="${ANON[scale$last_n]:-0}" \
    'BEGIN { print (a > 0 && b > 0 && (b <= a * 1.10 || b <= a + 1024)) ? "met" : "missed" }')"
fi
TARGETS+=("| memory of a large \`check\` stays flat | $scale_rss | $scale_rule | $scale_ok |")

{
echo "### Machine"
echo
echo "- CPU: $cpu_model ($cpu_fm; SHA extensions: $cpu_sha)${hyperv:+, $hyperv guest}; $(nproc) logical CPUs ($(lscpu 2>/dev/null | awk -F: '/Core\(s\) per socket/{gsub(/ /,"",$2); print $2}') cores × $(lscpu 2>/dev/null | awk -F: '/Thread\(s\) per core/{gsub(/ /,"",$2); print $2}') thread)"
echo "- RAM: $mem; OS: $os; kernel $(uname -r); $(ver rustc --version)"
echo "- bingate: $BG_VERSION (git $GIT_REV), \`cargo build --release\`"
echo "- peers: checksec.rs $("$CHECKSEC_RS" --version 2>/dev/null | awk '{print $2}' || echo n/a); checksec.sh $(ver "$CHECKSEC_SH" --version | awk '{print $2}' | tr -d ,) (Debian $(pkgver checksec)); hardening-check (devscripts $(pkgver devscripts)); $(ver osslsigncode --version | cut -d, -f1); $(ver openssl version | cut -d' ' -f1-2); sha256sum (coreutils $(pkgver coreutils))${SIGN_FILE:+; sign-file ($SIGN_FILE)}${WINE_PKG:+; Wine DLLs from $WINE_PKG}"
echo "- measurement: $TIMER; $WARMUP warm-up + $RUNS runs per command, medians (checksec.sh and hardening-check: $SLOW_RUNS run); warm page cache"
echo "- run: $DATE_START, $ELAPSED s in all; load average at start $LOAD_START, at end $LOAD_END; at start $BUSY_START; at end $BUSY_END; during the run: $BUSY_SAMPLES; other processes using >= 50% of a CPU at start: $HOGS_START, at end: $HOGS_END"
[[ "$QUICK" == 1 ]] && echo "- QUICK=1 smoke run: small inputs, not for publication"
echo
echo "| task | tool | command (short) | files | median wall | median CPU | peak RSS | bingate speed-up |"
echo "|---|---|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Targets (issue 15), from the medians above:"
echo
echo "| target | measured | goal | |"
echo "|---|---|---|---|"
printf '%s\n' "${TARGETS[@]}"
echo
echo "Notes:"
echo
echo "- bingate speed-up = the row's median wall time / bingate's for the same task (the human \`check\` for checksec.rs, checksec.sh and hardening-check; the JSON \`check\` for the two-core limit; for \`sign\`, \`bingate sign elf\` in section format). Below 1× means bingate is slower; the \`openssl dgst -sha256 (limit)\` rows hash the same bytes once and are the physical limit, not a peer."
echo "- median CPU = user + system time of the process and its children; above the wall time when a tool uses both cores."
echo "- files: entries in each tool's report (bingate \`summary.files\`, checksec.rs \`binaries[]\`, checksec.sh JSON keys, hardening-check report headers; the limit rows: the files bingate's report lists); none of the tools follows symlinks. With \`--format json\` bingate computes every file's SHA-256, the PE checksum and (PE files) the SmartScreen-risk estimate; the human \`check\` computes what its default policy judges (README, \"What each output costs\"). The peers hash nothing."
echo "- hardening-check takes files, not a directory: it is given ELF_LIST, the $N_ELF_LIST ELF files found under the directory (\`find -type f\`, ELF magic), with \`xargs -0\`; its exit status (1 when a binary lacks a feature) is ignored. checksec.sh and hardening-check read ELF only."
echo "- Authenticode: osslsigncode verifies one file per process, so the DLL row is a shell loop; both tools get Microsoft's roots (bingate embeds them; osslsigncode \`-CAfile policies/trust/microsoft-codesigning.pem -TSA-CAfile policies/trust/microsoft-timestamping.pem -ignore-crl\`)."
echo "- sign: the ELF is \`corpus/elf/static\` plus a ${ELF_MB} MB section of random bytes; RSA-2048 test key (\`corpus/pki\`), SHA-256, output on the same disk ($(df -T "$TMP" 2>/dev/null | awk 'NR==2{print $2}')). Every signer writes a new output file each run (the old one is removed first, untimed), except the \"OUT exists\" row: bingate writes a temporary file and renames it over the old output, and on ext4 (\`auto_da_alloc\`) a rename that replaces a file first allocates the new file's delayed blocks, inside \`rename(2)\`; sign-file truncates with \`O_TRUNC\`, which does the same."
echo "- scale: $SCALE_INFO (the ${SCALE_SIZES// / and } trees are the first files of it, hard-linked); bingate's RSS includes the mapped pages of the files being read; the targets table gives the peak heap (heaptrack, one more run with --jobs 1) and the peak anonymous memory (RssAnon, sampled every 5 ms in one more run) beside it."
echo "- Peak RSS of a shell loop, \`xargs\` or checksec.sh is that of the largest single process in the tree, not a sum."
for n in "${NOTES[@]}"; do echo "- $n"; done
} > "$TMP/output.md"
cat "$TMP/output.md"
if [[ "${UPDATE_README:-0}" == 1 ]]; then
  python3 - "$REPO/README.md" "$TMP/output.md" <<'PY' || { echo "UPDATE_README: README.md has no bench.sh:begin/end markers" >&2; exit 1; }
import sys
readme, out = sys.argv[1], open(sys.argv[2]).read()
text = open(readme).read()
begin, end = "<!-- bench.sh:begin -->\n", "<!-- bench.sh:end -->"
i, j = text.index(begin) + len(begin), text.index(end)
open(readme, "w").write(text[:i] + out + text[j:])
PY
  log "README.md updated"
fi
log "done in ${ELAPSED}s"
