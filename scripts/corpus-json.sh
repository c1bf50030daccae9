#!/bin/sh
# The JSON report of every committed fixture, at fixed dates, for checking that a change of
# structure changes no behaviour (issue 14, item 8): facts, signatures, risk and findings.
#
#   scripts/corpus-json.sh [BINGATE] > after.json
#   scripts/corpus-json.sh --compare BEFORE_BINGATE AFTER_BINGATE   # exit 1 and a diff if they differ
#
# Dates are fixed (--today for waivers, --time for signature validity) so two runs on different
# days agree; the corpus is what git tracks under corpus/ and tests/data (corpus/public, fetched
# by corpus/fetch-public.sh, is included when present). Paths are as given, relative to the
# repository root.
set -eu
cd "$(dirname "$0")/.."
report() {
    paths="corpus tests/data"
    "$1" check --format json --jobs 1 --today 2026-11-22 --time 2026-11-22T00:00:00Z $paths || true
}
if [ "${1:-}" = "--compare" ]; then
    a=$(mktemp) b=$(mktemp)
    trap 'rm -f "$a" "$b"' EXIT
    report "$2" > "$a"
    report "$3" > "$b"
    if cmp -s "$a" "$b"; then
        echo "identical: $(wc -c < "$a") bytes of JSON"
        exit 0
    fi
    echo "differ: $(diff "$a" "$b" | grep -c "^<") report lines (one per file) changed; first ones:"
    diff "$a" "$b" | cut -c1-240 | head -12
    exit 1
fi
report "${1:-target/release/bingate}"
