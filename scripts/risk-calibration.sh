#!/usr/bin/env bash
# Prints the SmartScreen-risk calibration table of docs/smartscreen.md: bingate risk on the
# public corpus (one run per directory, so unsigned companions count as in a release folder) and
# on the corpus/risk fixtures (one file per run; the test PKI root trusted, so the signed fixtures
# show the valid case). The judgement column of the docs is written by hand from this output.
#
# Usage: bash scripts/risk-calibration.sh   (after bash corpus/fetch-public.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --quiet
B=target/release/bingate
TIME=2026-11-22T00:00:00Z
row() {
  python3 -c '
import json, sys
d = json.load(sys.stdin)
for f in d["files"]:
    r = f.get("risk")
    if not r:
        continue
    top = ", ".join(["%s %d" % (e["id"], e["weight"]) for e in r["evidence"] if e["weight"] > 0][:4])
    print("| `%s` | %d | %s | %s |" % (f["path"], r["score"], r["level"], top or "none"))
'
}
echo "| file | score | level | evidence (weight) |"
echo "|---|---|---|---|"
for d in corpus/public/msvc-runtime corpus/public/electron-winstaller corpus/public/esbuild.exe \
         corpus/public/grub corpus/public/node; do
  [ -e "$d" ] || { echo "missing $d: run corpus/fetch-public.sh" >&2; continue; }
  "$B" risk --format json --time "$TIME" "$d" | row || true
done
for f in corpus/risk/*.exe corpus/pe/x64-gui.exe corpus/pe/x64-default.exe corpus/pe/x86-default.exe; do
  "$B" risk --format json --time "$TIME" --trust corpus/pki/root.pem "$f" | row || true
done
