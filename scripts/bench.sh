#!/usr/bin/env bash
# scripts/bench.sh — benchmark `bingate check` against checksec.rs 0.0.9 and
# checksec.sh 2.6 on one directory, in the same run, and check that bingate's
# peak memory stays flat as the input tree grows.
#
# Usage:
#   scripts/bench.sh [DIR]            # DIR defaults to /usr/bin
#
# Environment knobs (all optional):
#   BENCH_DIR=PATH      where peers are installed and kept between runs
#                       (default: <repo>/target/bench). checksec.rs goes to
#                       $BENCH_DIR/checksec-rs/bin/checksec, so it never
#                       shadows Debian's checksec.sh (/usr/bin/checksec).
#   RUNS=N              measured runs for bingate and checksec.rs (default 10, min 5)
#   WARMUP=N            warm-up runs for bingate and checksec.rs (default 3)
#   FLAT_SIZES="1 4 16" copies of DIR in the memory-flatness check
#                       (hard links via `cp -al`, so disk use stays ~0)
#   SKIP_CHECKSEC_SH=1  do not run checksec.sh (it costs ~0.1-0.2 s per file)
#   SKIP_FLAT=1         skip the memory-flatness check
#   SKIP_INSTALL=1      never install anything; fail if a tool is missing
#   NO_BUILD=1          do not run `cargo build --release` (use existing binary)
#   BINGATE=PATH        bingate binary (default <repo>/target/release/bingate)
#
# What it does:
#   1. cargo build --release
#   2. installs missing peers: checksec.rs 0.0.9 (cargo install --locked, then
#      without --locked on failure), Debian packages checksec (2.6), hyperfine,
#      time (GNU time for peak RSS), jq.
#   3. hyperfine: bingate and checksec.rs with warm-up + >= 5 runs, checksec.sh
#      with --runs 1 (it is ~100x slower); medians are reported.
#   4. peak RSS of each (GNU `/usr/bin/time -f %M`, max over 3 runs for the fast
#      tools, the single run for checksec.sh). For checksec.sh, a bash script
#      that forks readelf/file/grep per file, %M is the largest single process
#      in its tree (getrusage RUSAGE_CHILDREN semantics), not the sum.
#   5. prints ONE markdown table: tool, command, median wall time, peak RSS,
#      files examined, bingate speed-up vs that peer.
#   6. memory flatness: bingate on trees of 1x, 4x, 16x hard-linked copies of
#      DIR; prints files, wall time and peak RSS per size.
#
# Files examined = entries in each tool's JSON report: bingate `files[]`,
# checksec.rs `binaries[]`, checksec.sh top-level keys except "dir".
# Note: bingate may report non-ELF/PE files as skipped; checksec.rs and
# checksec.sh silently ignore them; none of the three follows symlinks in
# directory mode unless bingate's own policy says otherwise (see its report).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-/usr/bin}"
DIR="${DIR%/}"
[[ -n "$DIR" ]] || DIR=/
BENCH_DIR="${BENCH_DIR:-$REPO/target/bench}"
RUNS="${RUNS:-10}"
WARMUP="${WARMUP:-3}"
FLAT_SIZES="${FLAT_SIZES:-1 4 16}"
BINGATE="${BINGATE:-$REPO/target/release/bingate}"
CHECKSEC_RS="$BENCH_DIR/checksec-rs/bin/checksec"
CHECKSEC_SH=/usr/bin/checksec

(( RUNS >= 5 )) || { echo "RUNS must be >= 5" >&2; exit 2; }
[[ -d "$DIR" ]] || { echo "not a directory: $DIR" >&2; exit 2; }

log() { printf '==> %s\n' "$*" >&2; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/bingate-bench.XXXXXX")"
cleanup() { rm -rf -- "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then SUDO="sudo"; fi
APT_UPDATED=0
apt_install() {
  if [[ "${SKIP_INSTALL:-0}" == 1 ]]; then
    echo "missing Debian package(s) $* and SKIP_INSTALL=1" >&2; exit 1
  fi
  if [[ $APT_UPDATED == 0 ]]; then
    log "apt-get update"
    $SUDO apt-get update -qq >&2
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >&2
}

# ---------------------------------------------------------------- 1. build
if [[ "${NO_BUILD:-0}" != 1 ]]; then
  log "cargo build --release"
  (cd "$REPO" && cargo build --release >&2)
fi
[[ -x "$BINGATE" ]] || { echo "bingate binary not found: $BINGATE" >&2; exit 1; }

# ---------------------------------------------------------------- 2. peers
need_pkgs=()
command -v hyperfine >/dev/null 2>&1 || need_pkgs+=(hyperfine)
[[ -x /usr/bin/time ]] || need_pkgs+=(time)
command -v jq >/dev/null 2>&1 || need_pkgs+=(jq)
if [[ "${SKIP_CHECKSEC_SH:-0}" != 1 ]]; then
  if ! [[ -x "$CHECKSEC_SH" ]] || ! head -c 200 "$CHECKSEC_SH" | grep -q bash; then
    need_pkgs+=(checksec)
  fi
  # checksec.sh greps readelf output and calls file(1)
  command -v readelf >/dev/null 2>&1 || need_pkgs+=(binutils)
  command -v file >/dev/null 2>&1 || need_pkgs+=(file)
fi
if ((${#need_pkgs[@]})); then apt_install "${need_pkgs[@]}"; fi

if ! [[ -x "$CHECKSEC_RS" ]] || ! "$CHECKSEC_RS" --version 2>/dev/null | grep -q '0\.0\.9'; then
  [[ "${SKIP_INSTALL:-0}" != 1 ]] || { echo "checksec.rs missing at $CHECKSEC_RS" >&2; exit 1; }
  log "cargo install checksec 0.0.9 into $BENCH_DIR/checksec-rs (takes a few minutes)"
  mkdir -p "$BENCH_DIR"
  cargo install checksec --version 0.0.9 --locked --root "$BENCH_DIR/checksec-rs" >&2 \
    || cargo install checksec --version 0.0.9 --root "$BENCH_DIR/checksec-rs" >&2
fi

CSSH_VERSION="skipped"
if [[ "${SKIP_CHECKSEC_SH:-0}" != 1 ]]; then
  CSSH_VERSION="$("$CHECKSEC_SH" --version 2>&1 | head -n1 || true)"
  case "$CSSH_VERSION" in
    *v2.6*) ;;
    *) log "warning: expected checksec.sh 2.6, got: $CSSH_VERSION" ;;
  esac
fi
BG_VERSION="$("$BINGATE" --version 2>/dev/null | head -n1 | cut -c1-80 || true)"
RS_VERSION="checksec.rs $("$CHECKSEC_RS" --version 2>/dev/null | awk '{print $2}' || true)"

q() { printf '%q' "$1"; }   # shell-quote for hyperfine command strings
BG_CMD="$(q "$BINGATE") check --no-policy --format json $(q "$DIR")"
RS_CMD="$(q "$CHECKSEC_RS") --json -d $(q "$DIR")"
SH_CMD="$CHECKSEC_SH --output=json --dir=$(q "$DIR")"

# ---------------------------------------------------------------- 3. outputs + counts
log "collecting one report from each tool (for file counts)"
eval "$BG_CMD" > "$TMP/bingate.json"
eval "$RS_CMD" > "$TMP/checksec-rs.json"
BG_FILES="$(jq '.files | length' "$TMP/bingate.json")"
BG_ERR="$(jq '[.files[] | select(.error != null)] | length' "$TMP/bingate.json")"
BG_SKIP="$(jq '(.skipped // []) | length' "$TMP/bingate.json")"
RS_FILES="$(jq '.binaries | length' "$TMP/checksec-rs.json")"

# ---------------------------------------------------------------- 4. timing
log "hyperfine: bingate + checksec.rs (warmup $WARMUP, runs $RUNS)"
hyperfine --style basic --warmup "$WARMUP" --runs "$RUNS" \
  --export-json "$TMP/fast.json" \
  -n bingate "$BG_CMD > /dev/null" \
  -n checksec.rs "$RS_CMD > /dev/null" >&2

if [[ "${SKIP_CHECKSEC_SH:-0}" != 1 ]]; then
  log "hyperfine: checksec.sh (1 run; ~0.1-0.2 s per file, be patient)"
  # /usr/bin/time wraps the single run so the same run gives the peak RSS;
  # its own overhead (~1 ms) is negligible next to minutes.
  hyperfine --style basic --runs 1 --export-json "$TMP/slow.json" \
    -n checksec.sh \
    "/usr/bin/time -f %M -o $(q "$TMP/checksec-sh.rss") $SH_CMD > $(q "$TMP/checksec-sh.json")" >&2
  # checksec.sh builds JSON by string concatenation (no escaping); count keys
  # with jq when it parses, else count "filename" entries.
  SH_FILES="$(jq '[keys[] | select(. != "dir")] | length' "$TMP/checksec-sh.json" 2>/dev/null \
              || grep -o '"filename":' "$TMP/checksec-sh.json" | wc -l)"
  SH_RSS="$(tail -n1 "$TMP/checksec-sh.rss")"
fi

median() { jq -r --arg n "$2" '.results[] | select(.command == $n) | .median' "$1"; }
BG_MED="$(median "$TMP/fast.json" bingate)"
RS_MED="$(median "$TMP/fast.json" checksec.rs)"
[[ "${SKIP_CHECKSEC_SH:-0}" == 1 ]] || SH_MED="$(median "$TMP/slow.json" checksec.sh)"

# ---------------------------------------------------------------- peak RSS
peak_rss() {  # max %M (KiB) over $1 runs of the command in $2
  local n="$1" cmd="$2" best=0 m i
  for ((i = 0; i < n; i++)); do
    /usr/bin/time -f %M -o "$TMP/rss" bash -c "$cmd > /dev/null"
    m="$(tail -n1 "$TMP/rss")"
    (( m > best )) && best=$m
  done
  echo "$best"
}
# `bash -c` is itself a child, but bash execs the last simple command, so the
# measured process is the tool itself.
log "peak RSS (max of 3 runs)"
BG_RSS="$(peak_rss 3 "exec $BG_CMD")"
RS_RSS="$(peak_rss 3 "exec $RS_CMD")"

fmt_time() { awk -v s="$1" 'BEGIN { if (s < 1) printf "%.1f ms", s*1000; else printf "%.2f s", s }'; }
fmt_rss() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k/1024 }'; }
speedup() { awk -v p="$1" -v b="$2" 'BEGIN { r = p/b; if (r < 10) printf "%.2f×", r; else printf "%.0f×", r }'; }

echo
echo "Benchmark on \`$DIR\` — $(nproc) cores; $BG_VERSION; $RS_VERSION; checksec.sh: $CSSH_VERSION"
echo "bingate: $BG_FILES files in report ($BG_ERR with error), $BG_SKIP skipped; runs: bingate/checksec.rs warmup $WARMUP + $RUNS, checksec.sh 1"
echo
echo "| tool | command | median wall time | peak RSS | files examined | bingate speed-up |"
echo "|---|---|---:|---:|---:|---:|"
echo "| bingate | \`bingate check --no-policy --format json $DIR > /dev/null\` | $(fmt_time "$BG_MED") | $(fmt_rss "$BG_RSS") | $BG_FILES | — |"
echo "| checksec.rs 0.0.9 | \`checksec --json -d $DIR\` | $(fmt_time "$RS_MED") | $(fmt_rss "$RS_RSS") | $RS_FILES | $(speedup "$RS_MED" "$BG_MED") |"
if [[ "${SKIP_CHECKSEC_SH:-0}" != 1 ]]; then
  echo "| checksec.sh 2.6 | \`checksec --output=json --dir=$DIR\` | $(fmt_time "$SH_MED") | $(fmt_rss "$SH_RSS")¹ | $SH_FILES | $(speedup "$SH_MED" "$BG_MED") |"
  echo
  echo "¹ largest single process in checksec.sh's process tree (GNU time %M), not a sum."
fi

# ---------------------------------------------------------------- 6. memory flatness
if [[ "${SKIP_FLAT:-0}" != 1 ]]; then
  log "memory flatness: trees of ${FLAT_SIZES// /, } hard-linked copies of $DIR"
  echo
  echo "Memory flatness (bingate on N hard-linked copies of \`$DIR\`):"
  echo
  echo "| copies | files in report | wall time | peak RSS |"
  echo "|---:|---:|---:|---:|"
  for n in $FLAT_SIZES; do
    tree="$TMP/flat/$n"
    mkdir -p "$tree"
    ok=1
    for ((i = 1; i <= n; i++)); do
      if ! cp -al "$DIR" "$tree/c$i" 2>"$TMP/cp.err"; then ok=0; break; fi
    done
    if [[ $ok == 0 ]]; then
      echo "| $n | (cp -al failed: $(head -n1 "$TMP/cp.err"); $DIR and ${TMPDIR:-/tmp} must share a filesystem) | | |"
      rm -rf -- "$tree"
      break
    fi
    start=$(date +%s.%N)
    /usr/bin/time -f %M -o "$TMP/rss" "$BINGATE" check --no-policy --format json "$tree" > "$TMP/flat.json"
    end=$(date +%s.%N)
    files="$(jq '.files | length' "$TMP/flat.json")"
    wall="$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
    echo "| ${n}× | $files | $(fmt_time "$wall") | $(fmt_rss "$(tail -n1 "$TMP/rss")") |"
    rm -rf -- "$tree" "$TMP/flat.json"
  done
fi

# ---------------------------------------------------------------- Authenticode verification
if [[ "${SKIP_AUTHENTICODE:-0}" != 1 ]]; then
  echo
  BINGATE="$BINGATE" bash "$(dirname "${BASH_SOURCE[0]}")/bench-authenticode.sh"
fi

echo
if command -v hyperfine >/dev/null && command -v objcopy >/dev/null; then
  BINGATE="$BINGATE" bash "$(dirname "${BASH_SOURCE[0]}")/bench-elfsign.sh"
fi
