#!/usr/bin/env bash
# Signing-server throughput with a file RSA-3072 key, against `openssl speed rsa3072` on the same
# machine.
#
#   scripts/serve-bench.sh [COUNT] [CLIENTS]      (defaults: 3000 signatures, 16 clients)
#
# Starts the release `bingate serve` on 127.0.0.1 (SQLite audit log in a temporary directory, no
# TSA), drives digest-only requests (`POST /v1/sign/digest`: each one is a signature built,
# signed, recorded in the audit log and answered) from CLIENTS threads of
# examples/serve_load.rs, then runs `openssl speed -seconds 10 rsa3072` on one core and with
# `-multi` on every core. Prints signatures/s and the ratios. Loopback only; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT="${1:-3000}"
CLIENTS="${2:-16}"
CORES="$(nproc)"
WORK="$(mktemp -d /tmp/bingate-serve-bench.XXXXXX)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release --quiet --bin bingate --example serve_load
TARGET="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET/release/bingate"
LOAD="$TARGET/release/examples/serve_load"

openssl req -x509 -newkey rsa:3072 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
    -days 2 -subj "/CN=bingate serve bench" -addext "extendedKeyUsage=codeSigning" 2>/dev/null
"$BIN" serve --new-token bench > "$WORK/token.txt"
sed -n 2p "$WORK/token.txt" > "$WORK/token"
HASH="$(sed -n 's/^token_sha256 = "\(.*\)"/\1/p' "$WORK/token.txt")"
cat > "$WORK/serve.toml" <<EOF
listen = "127.0.0.1:0"
[limits]
workers = $CORES
queue = 256
[keys.bench]
key = "key.pem"
cert = "cert.pem"
roles = ["bench"]
[clients.bench]
token_sha256 = "$HASH"
roles = ["bench"]
EOF

"$BIN" serve --config "$WORK/serve.toml" 2> "$WORK/serve.log" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 100); do
    URL="$(grep -o 'http://[0-9.:]*' "$WORK/serve.log" | head -1 || true)"
    [ -n "$URL" ] && break
    sleep 0.1
done
[ -n "$URL" ] || { cat "$WORK/serve.log"; echo "the server did not start" >&2; exit 1; }

# Warm-up, then the measured run.
"$LOAD" "$URL" "$WORK/token" bench 200 "$CLIENTS" digest >/dev/null
RESULT="$("$LOAD" "$URL" "$WORK/token" bench "$COUNT" "$CLIENTS" digest)"
SERVER_RATE="$(python3 -c 'import json,sys; print("%.1f" % json.loads(sys.argv[1])["per_second"])' "$RESULT")"
OK="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["ok"])' "$RESULT")"

speed() { openssl speed -seconds 10 "$@" rsa3072 2>/dev/null | awk '/^rsa 3072 bits/ { print $(NF-1) }'; }
ONE="$(speed)"
ALL="$(speed -multi "$CORES")"

python3 - "$SERVER_RATE" "$ONE" "$ALL" "$CORES" "$OK" "$CLIENTS" <<'PY'
import sys
rate, one, allc, cores, ok, clients = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
print(f"bingate serve, digest-only, RSA-3072 file key, {ok} signatures from {clients} clients: {rate:.0f} signatures/s")
print(f"openssl speed rsa3072, 1 core:        {one:.0f} sign/s  -> bingate is {rate / one * 100:.0f}% of it")
print(f"openssl speed rsa3072, {cores} cores (-multi): {allc:.0f} sign/s  -> bingate is {rate / allc * 100:.0f}% of it")
PY
