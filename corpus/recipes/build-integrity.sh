#!/usr/bin/env bash
# Authenticode integrity fixtures for bingate: corpus/integrity/*, made from the unsigned PEs in
# corpus/pe/ with osslsigncode, OpenSSL and corpus/recipes/integrity_tool.py (python3 with
# `cryptography` and `asn1crypto`), using a TEST PKI of its own in corpus/pki/integrity/.
# Everything is offline (osslsigncode's built-in TSA makes the RFC 3161 tokens; the legacy
# countersignatures are built by integrity_tool.py). corpus/integrity/README.md says what each
# fixture is for; corpus/integrity/expected.json holds the verdicts.
#
# Tools this was produced with (Debian 12): osslsigncode 2.9, OpenSSL 3.0 CLI, python3 3.11,
# python3-cryptography, python3-asn1crypto.
#
# * corpus/pki/integrity/ is generated ONLY when the directory is absent, so the committed test
#   keys and certificates are reused. A fresh PKI takes long: the RSA-16384 key alone needs
#   minutes to an hour of CPU. INTEGRITY_KEY_SEED=DIR makes a fresh PKI take NAME.key from DIR
#   when that file exists there (used once, to reuse big keys generated in advance).
# * corpus/integrity/ fixtures are always removed and rebuilt; expected.json and README.md there
#   are hand-maintained and kept.
# * Times are fixed (signingTime with -time, RFC 3161 genTime with -TSA-time, the legacy
#   countersignature's signingTime). osslsigncode's built-in TSA still puts a random serial and the
#   real current time (the token's own signingTime attribute) into each RFC 3161 token, so the
#   timestamped fixtures change bytes on every run; everything else is byte-identical.
#
# Usage: bash corpus/recipes/build-integrity.sh            (from anywhere)
#        bash corpus/recipes/build-integrity.sh --verify   (also re-run osslsigncode verify on
#                                     every fixture and compare with integrity/expected.json)
set -euo pipefail
export LC_ALL=C TZ=UTC

CORPUS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$CORPUS"
PKI=pki/integrity
OUT=integrity
TOOL="python3 recipes/integrity_tool.py"

need() { command -v "$1" >/dev/null 2>&1 || { echo "build-integrity.sh: missing tool $1" >&2; exit 1; }; }
for t in osslsigncode openssl python3; do need "$t"; done
python3 -c 'import cryptography, asn1crypto' 2>/dev/null \
  || { echo "build-integrity.sh: python3 needs cryptography and asn1crypto" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

###############################################################################
# Test PKI (only when corpus/pki/integrity/ is absent); table in pki/integrity/README.md
###############################################################################
write_ca_conf() {
  cat > "$TMP/ca.cnf" <<'EOF'
# `openssl ca` configuration for bingate's integrity TEST PKI. CADIR selects the CA state dir.
[ ca ]
default_ca = CA_default

[ CA_default ]
dir              = $ENV::CADIR
database         = $dir/index.txt
new_certs_dir    = $dir/newcerts
serial           = $dir/serial
crlnumber        = $dir/crlnumber
default_md       = sha256
policy           = policy_any
unique_subject   = no
copy_extensions  = none
email_in_dn      = no
name_opt         = ca_default
cert_opt         = ca_default
crl_extensions   = crl_ext

[ policy_any ]
commonName             = supplied
organizationName       = optional

[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]
CN = placeholder

[ ext_root ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[ ext_root_serverauth ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash

[ ext_root_pathlen0 ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[ ext_intermediate ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_codesign ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = codeSigning
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_noeku ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_tsa ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = critical, timeStamping
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_tsa_noncritical ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = timeStamping
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ crl_ext ]
authorityKeyIdentifier = keyid:always
EOF
}

new_ca_dir() { # name first-serial
  mkdir -p "$TMP/$1/newcerts"
  : > "$TMP/$1/index.txt"
  echo "$2" > "$TMP/$1/serial"
  echo 01 > "$TMP/$1/crlnumber"
}

rsa_key() { # NAME BITS
  if [ -n "${INTEGRITY_KEY_SEED:-}" ] && [ -f "$INTEGRITY_KEY_SEED/$1.key" ]; then
    openssl pkey -in "$INTEGRITY_KEY_SEED/$1.key" -out "$PKI/$1.key"
    [ "$(openssl rsa -in "$PKI/$1.key" -noout -text 2>/dev/null | sed -n 's/.*Private-Key: (\([0-9]*\) bit.*/\1/p')" = "$2" ] \
      || { echo "build-integrity.sh: seeded $1.key is not RSA-$2" >&2; exit 1; }
  else
    openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$PKI/$1.key"
  fi
}
csr() { CADIR="$TMP" openssl req -config "$TMP/ca.cnf" -new -key "$PKI/$1.key" -subj "$2" -out "$TMP/$1.csr"; }

# issue NAME ISSUER EXT START END      (ISSUER is a pki/integrity basename and its CA state dir)
issue() {
  CADIR="$TMP/$2" openssl ca -config "$TMP/ca.cnf" -batch -notext -preserveDN \
    -cert "$PKI/$2.pem" -keyfile "$PKI/$2.key" -extensions "$3" \
    -startdate "$4" -enddate "$5" -in "$TMP/$1.csr" -out "$PKI/$1.pem" 2>"$TMP/ca.log" \
    || { cat "$TMP/ca.log" >&2; exit 1; }
}
# selfsign NAME EXT START END
selfsign() {
  CADIR="$TMP/$1" openssl ca -config "$TMP/ca.cnf" -batch -notext -preserveDN -selfsign \
    -keyfile "$PKI/$1.key" -extensions "$2" \
    -startdate "$3" -enddate "$4" -in "$TMP/$1.csr" -out "$PKI/$1.pem" 2>"$TMP/ca.log" \
    || { cat "$TMP/ca.log" >&2; exit 1; }
}

gen_pki() {
  echo "build-integrity.sh: generating a new TEST PKI in corpus/$PKI/ (RSA-16384 takes long)" >&2
  mkdir -p "$PKI"
  write_ca_conf
  local O="/O=Bingate Integrity Test PKI (NOT TRUSTED)"
  local serial=4000 r

  # Class A: four roots, each with one intermediate and one code-signing leaf. The forged copy of
  # each root (same subject, serial and key; signed with a throwaway key) is made by
  # integrity_tool.py forge-root.
  for r in expired serverauth pathlen0 good; do
    new_ca_dir "root-$r" "$serial"; serial=$((serial + 100))
    new_ca_dir "int-$r" "$serial"; serial=$((serial + 100))
  done
  rsa_key root-expired 2048
  csr root-expired "/CN=Bingate Integrity root expired 2020$O"
  selfsign root-expired ext_root 20100101000000Z 20201231235959Z
  rsa_key root-serverauth 2048
  csr root-serverauth "/CN=Bingate Integrity root serverAuth-only EKU$O"
  selfsign root-serverauth ext_root_serverauth 20200101000000Z 20451231235959Z
  rsa_key root-pathlen0 2048
  csr root-pathlen0 "/CN=Bingate Integrity root pathlen 0$O"
  selfsign root-pathlen0 ext_root_pathlen0 20200101000000Z 20451231235959Z
  rsa_key root-good 2048
  csr root-good "/CN=Bingate Integrity root$O"
  selfsign root-good ext_root 20200101000000Z 20451231235959Z

  for r in expired serverauth pathlen0 good; do
    rsa_key "int-$r" 2048
    csr "int-$r" "/CN=Bingate Integrity code signing CA ($r root)$O"
    if [ "$r" = expired ]; then
      issue "int-$r" "root-$r" ext_intermediate 20100101000000Z 20401231235959Z
    else
      issue "int-$r" "root-$r" ext_intermediate 20200101000000Z 20401231235959Z
    fi
    rsa_key "leaf-$r" 2048
    csr "leaf-$r" "/CN=Bingate Integrity signer ($r root)$O"
    issue "leaf-$r" "int-$r" ext_codesign 20250101000000Z 20351231235959Z
    $TOOL forge-root "$PKI/root-$r.pem" "$PKI/forged-root-$r.pem"
  done

  # Class B: signers and timestamp signers under root-good / int-good.
  rsa_key leaf-noeku-2021 2048
  csr leaf-noeku-2021 "/CN=Bingate Integrity signer without EKU 2021$O"
  issue leaf-noeku-2021 int-good ext_noeku 20210101000000Z 20211231235959Z
  rsa_key leaf-noeku-revoked 2048
  csr leaf-noeku-revoked "/CN=Bingate Integrity signer without EKU revoked 2025-06-01$O"
  issue leaf-noeku-revoked int-good ext_noeku 20240101000000Z 20351231235959Z
  rsa_key leaf-cs-2021 2048
  csr leaf-cs-2021 "/CN=Bingate Integrity signer expired 2021$O"
  issue leaf-cs-2021 int-good ext_codesign 20210101000000Z 20211231235959Z
  rsa_key tsa 2048
  csr tsa "/CN=Bingate Integrity TSA$O"
  issue tsa root-good ext_tsa 20200101000000Z 20401231235959Z
  rsa_key tsa-noncritical 2048
  csr tsa-noncritical "/CN=Bingate Integrity TSA non-critical EKU$O"
  issue tsa-noncritical root-good ext_tsa_noncritical 20200101000000Z 20401231235959Z
  rsa_key tsa-codesigning 2048
  csr tsa-codesigning "/CN=Bingate Integrity code-signing cert used as TSA$O"
  issue tsa-codesigning root-good ext_codesign 20200101000000Z 20401231235959Z

  # Class D: big RSA leaves under an RSA-3072 intermediate.
  new_ca_dir int-big "$serial"
  rsa_key int-big 3072
  csr int-big "/CN=Bingate Integrity code signing CA RSA-3072$O"
  issue int-big root-good ext_intermediate 20200101000000Z 20401231235959Z
  rsa_key leaf-rsa8192 8192
  csr leaf-rsa8192 "/CN=Bingate Integrity signer RSA-8192$O"
  issue leaf-rsa8192 int-big ext_codesign 20250101000000Z 20351231235959Z
  rsa_key leaf-rsa16384 16384
  csr leaf-rsa16384 "/CN=Bingate Integrity signer RSA-16384$O"
  issue leaf-rsa16384 int-big ext_codesign 20250101000000Z 20351231235959Z

  # CRL by int-good: leaf-noeku-revoked revoked 2025-06-01 (written into the `openssl ca`
  # database directly: -revoke would stamp the current time).
  local s
  s=$(openssl x509 -in "$PKI/leaf-noeku-revoked.pem" -noout -serial | cut -d= -f2)
  awk -F'\t' -v OFS='\t' -v s="$s" \
    '$4==s { $1="R"; $3="250601000000Z,keyCompromise" } { print }' \
    "$TMP/int-good/index.txt" > "$TMP/index.new"
  mv "$TMP/index.new" "$TMP/int-good/index.txt"
  CADIR="$TMP/int-good" openssl ca -config "$TMP/ca.cnf" -batch -gencrl \
    -cert "$PKI/int-good.pem" -keyfile "$PKI/int-good.key" \
    -crl_lastupdate 20250602000000Z -crl_nextupdate 20351231235959Z \
    -out "$PKI/int-good.crl.pem" 2>"$TMP/ca.log" || { cat "$TMP/ca.log" >&2; exit 1; }

  # Chains handed to osslsigncode -certs / -TSA-certs (the root is never embedded).
  for r in expired serverauth pathlen0 good; do
    cat "$PKI/leaf-$r.pem" "$PKI/int-$r.pem" > "$PKI/leaf-$r-chain.pem"
  done
  for l in leaf-noeku-2021 leaf-noeku-revoked leaf-cs-2021; do
    cat "$PKI/$l.pem" "$PKI/int-good.pem" > "$PKI/$l-chain.pem"
  done
  for l in leaf-rsa8192 leaf-rsa16384; do
    cat "$PKI/$l.pem" "$PKI/int-big.pem" > "$PKI/$l-chain.pem"
  done
  chmod 0644 "$PKI"/*.key
}

write_pki_readme() {
  {
    cat <<'EOF2'
# bingate integrity TEST PKI — NOT FOR ANY REAL USE

Every private key here is a **test key**, committed on purpose so that the fixtures in
`corpus/integrity/` can be rebuilt reproducibly. Nothing here is, or must ever be, trusted outside
bingate's tests. All subjects carry `O=Bingate Integrity Test PKI (NOT TRUSTED)`.

Generated by `corpus/recipes/build-integrity.sh` only when this directory is absent (delete it
for a fresh PKI: new keys, so every fixture's bytes change; `integrity/expected.json` stays
valid except its recorded osslsigncode lines, which name no key). Certificates come from
`openssl ca` with explicit `-startdate`/`-enddate`; the `forged-root-*.pem` copies from
`corpus/recipes/integrity_tool.py forge-root` (python `cryptography`), signed by a throwaway
RSA-2048 key that was not kept.

| file | key | issuer | validity (UTC) | extensions / purpose |
|---|---|---|---|---|
| `root-expired.pem` | RSA 2048 | self | 2010-01-01 .. 2020-12-31 | CA:TRUE, no EKU; **expired** |
| `root-serverauth.pem` | RSA 2048 | self | 2020-01-01 .. 2045-12-31 | CA:TRUE, **EKU serverAuth only** |
| `root-pathlen0.pem` | RSA 2048 | self | 2020-01-01 .. 2045-12-31 | CA:TRUE **pathlen 0** |
| `root-good.pem` | RSA 2048 | self | 2020-01-01 .. 2045-12-31 | CA:TRUE, no EKU |
| `forged-root-{expired,serverauth,pathlen0,good}.pem` | the root's public key | "self" (subject of the root), signature by a throwaway key | 2000-01-01 .. 2099-12-31 | same subject and serial as the root; CA:TRUE without pathlen, keyCertSign+cRLSign, no EKU |
| `int-{expired,serverauth,pathlen0,good}.pem` | RSA 2048 | `root-*` | 2020-01-01 .. 2040-12-31 (`int-expired`: 2010-01-01 .. 2040-12-31) | CA:TRUE pathlen 0, no EKU |
| `leaf-{expired,serverauth,pathlen0,good}.pem` | RSA 2048 | `int-*` | 2025-01-01 .. 2035-12-31 | EKU codeSigning |
| `leaf-noeku-2021.pem` | RSA 2048 | int-good | 2021-01-01 .. 2021-12-31 | **no EKU**, digitalSignature |
| `leaf-noeku-revoked.pem` | RSA 2048 | int-good | 2024-01-01 .. 2035-12-31 | **no EKU**; revoked 2025-06-01 in `int-good.crl.pem` |
| `leaf-cs-2021.pem` | RSA 2048 | int-good | 2021-01-01 .. 2021-12-31 | EKU codeSigning |
| `tsa.pem` | RSA 2048 | root-good | 2020-01-01 .. 2040-12-31 | EKU timeStamping (critical) |
| `tsa-noncritical.pem` | RSA 2048 | root-good | 2020-01-01 .. 2040-12-31 | EKU timeStamping (**not** critical) |
| `tsa-codesigning.pem` | RSA 2048 | root-good | 2020-01-01 .. 2040-12-31 | EKU codeSigning only (used as a "TSA") |
| `int-big.pem` | RSA 3072 | root-good | 2020-01-01 .. 2040-12-31 | CA:TRUE pathlen 0 |
| `leaf-rsa8192.pem` | RSA 8192 | int-big | 2025-01-01 .. 2035-12-31 | EKU codeSigning |
| `leaf-rsa16384.pem` | RSA 16384 | int-big | 2025-01-01 .. 2035-12-31 | EKU codeSigning |

`int-good.crl.pem`: CRL v2 by int-good, CRL number 1, thisUpdate 2025-06-02 00:00:00Z,
nextUpdate 2035-12-31 23:59:59Z, one entry: `leaf-noeku-revoked.pem`, revoked
2025-06-01 00:00:00Z, reason keyCompromise. `*-chain.pem` = leaf + intermediate, as passed to
`osslsigncode -certs` (and `-TSA-certs` where a signer times its own signature).

## Certificates as generated

EOF2
    echo '```'
    local f
    for f in "$PKI"/*.pem; do
      case "$f" in *-chain.pem|*.crl.pem) continue ;; esac
      echo "$(basename "$f")"
      openssl x509 -in "$f" -noout -serial -subject -startdate -enddate -fingerprint -sha256 \
        -nameopt RFC2253 | sed 's/^/  /'
    done
    echo "int-good.crl.pem"
    openssl crl -in "$PKI/int-good.crl.pem" -noout -lastupdate -nextupdate -fingerprint -sha256 | sed 's/^/  /'
    echo '```'
  } > "$PKI/README.md"
}

if [ ! -d "$PKI" ]; then gen_pki; fi
[ -f "$PKI/README.md" ] || write_pki_readme

###############################################################################
# Fixtures (always rebuilt)
###############################################################################
mkdir -p "$OUT"
find "$OUT" -maxdepth 1 -type f ! -name expected.json ! -name README.md -delete

T_2021=1622505600      # 2021-06-01T00:00:00Z  inside the 2021 leaves' validity
T_2025=1735689600      # 2025-01-01T00:00:00Z  before leaf-noeku-revoked's revocation (2025-06-01)
T_2026=1768435200      # 2026-01-15T00:00:00Z  signingTime of the untimestamped current signatures
DESC=(-n "bingate integrity test" -i "https://example.invalid/")
X64=pe/x64-default.exe

# sign OUT BASE LEAF TIME [extra osslsigncode args...]   LEAF-chain.pem + LEAF.key, SHA-256
sign() {
  local out=$1 base=$2 leaf=$3 t=$4; shift 4
  osslsigncode sign -certs "$PKI/$leaf-chain.pem" -key "$PKI/$leaf.key" -h sha256 "${DESC[@]}" \
    -time "$t" "$@" -in "$base" -out "$out" > "$TMP/sign.log" 2>&1 \
    || { cat "$TMP/sign.log" >&2; exit 1; }
}

# --- A. anchors come from the trust store --------------------------------------
for r in expired serverauth pathlen0 good; do
  if [ "$r" != good ]; then
    sign "$OUT/anchor-$r-root.exe" $X64 "leaf-$r" $T_2026
  fi
  sign "$OUT/anchor-$r-root-forged.exe" $X64 "leaf-$r" $T_2026 -ac "$PKI/forged-root-$r.pem"
done
sign "$OUT/anchor-good-root.exe" $X64 leaf-good $T_2026

# --- B. timestamps only from timestamping authorities --------------------------
# osslsigncode's built-in TSA (like `openssl ts -reply`) refuses a signer without a critical
# timeStamping EKU, so every token whose signer is not a proper TSA is made by
# integrity_tool.py rfc3161-timestamp (after an untimestamped osslsigncode signature);
# ts-by-tsa-built.exe is that builder's control with the proper TSA.
# rfc3161 IN OUT CERT CHAIN KEY TIME SERIAL
rfc3161() {
  $TOOL rfc3161-timestamp "$1" "$2" --cert "$3" --chain "$4" --key "$5" --time "$6" --serial "$7"
}
cat "$PKI/tsa-codesigning.pem" "$PKI/root-good.pem" > "$TMP/tsa-codesigning-chain.pem"
cat "$PKI/tsa.pem" "$PKI/root-good.pem" > "$TMP/tsa-chain.pem"
cat "$PKI/tsa-noncritical.pem" "$PKI/root-good.pem" > "$TMP/tsa-noncritical-chain.pem"
sign "$TMP/noeku-2021.exe" $X64 leaf-noeku-2021 $T_2021
sign "$TMP/noeku-revoked.exe" $X64 leaf-noeku-revoked $T_2025
sign "$TMP/cs-2021.exe" $X64 leaf-cs-2021 $T_2021
# The no-EKU leaves time their own signatures (their own chain and key as the "TSA").
rfc3161 "$TMP/noeku-2021.exe" "$OUT/ts-by-noeku-leaf.exe" "$PKI/leaf-noeku-2021.pem" \
  "$PKI/leaf-noeku-2021-chain.pem" "$PKI/leaf-noeku-2021.key" 20210601000000Z 101
rfc3161 "$TMP/noeku-revoked.exe" "$OUT/ts-by-noeku-leaf-revoked.exe" "$PKI/leaf-noeku-revoked.pem" \
  "$PKI/leaf-noeku-revoked-chain.pem" "$PKI/leaf-noeku-revoked.key" 20250101000000Z 102
rfc3161 "$TMP/cs-2021.exe" "$OUT/ts-by-codesigning-cert.exe" "$PKI/tsa-codesigning.pem" \
  "$TMP/tsa-codesigning-chain.pem" "$PKI/tsa-codesigning.key" 20210601000000Z 103
rfc3161 "$TMP/cs-2021.exe" "$OUT/ts-by-tsa-noncritical-eku.exe" "$PKI/tsa-noncritical.pem" \
  "$TMP/tsa-noncritical-chain.pem" "$PKI/tsa-noncritical.key" 20210601000000Z 104
rfc3161 "$TMP/cs-2021.exe" "$OUT/ts-by-tsa-built.exe" "$PKI/tsa.pem" \
  "$TMP/tsa-chain.pem" "$PKI/tsa.key" 20210601000000Z 105
# The proper TSA through osslsigncode's own built-in TSA.
sign "$OUT/ts-by-tsa.exe" $X64 leaf-cs-2021 $T_2021 \
  -TSA-certs "$TMP/tsa-chain.pem" -TSA-key "$PKI/tsa.key" -TSA-time $T_2021
# Legacy (PKCS #9) countersignatures, added after signing: by the no-EKU leaf itself, and by the
# proper TSA (whose certificate osslsigncode -ac puts into the outer signature's bag).
$TOOL legacy-countersign "$TMP/noeku-2021.exe" "$OUT/legacy-cs-by-noeku-leaf.exe" \
  --cert "$PKI/leaf-noeku-2021.pem" --key "$PKI/leaf-noeku-2021.key" --time 20210601000000Z
sign "$TMP/cs-2021-with-tsa.exe" $X64 leaf-cs-2021 $T_2021 -ac "$PKI/tsa.pem"
$TOOL legacy-countersign "$TMP/cs-2021-with-tsa.exe" "$OUT/legacy-cs-by-tsa.exe" \
  --cert "$PKI/tsa.pem" --key "$PKI/tsa.key" --time 20210601000000Z

# --- C. every byte Windows hashes ------------------------------------------------
$TOOL gap-after-headers $X64 "$TMP/gap-after-headers-unsigned.exe" 2>/dev/null
sign "$OUT/gap-after-headers.exe" "$TMP/gap-after-headers-unsigned.exe" leaf-good $T_2026
$TOOL flip-gap "$OUT/gap-after-headers.exe" "$OUT/gap-after-headers-tampered.exe" 2>/dev/null
$TOOL gap-between-sections $X64 "$TMP/gap-between-sections-unsigned.exe" 2>/dev/null
sign "$OUT/gap-between-sections.exe" "$TMP/gap-between-sections-unsigned.exe" leaf-good $T_2026
$TOOL flip-gap "$OUT/gap-between-sections.exe" "$OUT/gap-between-sections-tampered.exe" 2>/dev/null

# --- D. big RSA keys ---------------------------------------------------------------
sign "$OUT/bigkey-rsa8192.exe" $X64 leaf-rsa8192 $T_2026
sign "$OUT/bigkey-rsa16384.exe" $X64 leaf-rsa16384 $T_2026

# --- E. malformed certificate sets (edits of the existing valid-notimestamp fixture) ------
V=signed/valid-notimestamp.exe
$TOOL drop-certificates "$V" "$OUT/no-certificates.exe"
$TOOL add-cert-choice "$V" "$OUT/extra-other-cert-format.exe" --kind other
$TOOL add-cert-choice "$V" "$OUT/extra-v2-attribute-cert.exe" --kind v2attr

echo "build-integrity.sh: $(find "$OUT" -maxdepth 1 -type f ! -name '*.json' ! -name '*.md' | wc -l) fixtures in corpus/$OUT/" >&2

if [ "${1:-}" = "--verify" ]; then
  $TOOL check-expected "$OUT/expected.json"
fi

###############################################################################
###############################################################################
# SHA-1 RULES: corpus/integrity/sha1/ with the extra TEST PKI corpus/pki/integrity/sha1/
#
# Windows' SHA-1 cut-offs, which apply only to chains ending at a Microsoft Trusted Root Program
# root (a verifier is tested twice on each file: sha1-root as a program root, and as a root the
# user trusts, where the cut-offs do not apply):
#   * a code-signing (leaf) certificate signed with SHA-1 is not trusted for signatures whose
#     decisive time (valid timestamp, else verification time) is on or after 2016-01-01;
#   * a timestamp made after 2017-02-14 whose TSA SignerInfo digest is SHA-1, or whose TSA
#     certificate is signed with SHA-1, counts as no timestamp;
#   * a dual-signed file (SHA-1 primary failing on trust grounds only, valid SHA-256 nested
#     signature) is judged by the nested signature.
# corpus/integrity/sha1/expected.json holds the expected verdicts and osslsigncode's results;
# corpus/integrity/README.md ("SHA-1 rules") and corpus/pki/integrity/sha1/README.md describe
# the files. Like the rest: PKI only when corpus/pki/integrity/sha1/ is absent, fixtures always
# rebuilt, every fixture byte-identical on every run (no osslsigncode built-in TSA here).
###############################################################################
###############################################################################
SPKI=$PKI/sha1
SOUT=$OUT/sha1

s1_key() { openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$SPKI/$1.key"; }
s1_csr() { CADIR="$TMP" openssl req -config "$TMP/ca.cnf" -new -key "$SPKI/$1.key" -subj "$2" -out "$TMP/$1.csr"; }
# s1_issue NAME ISSUER|self EXT START END MD   (MD: sha256, or sha1 for a SHA-1-signed certificate)
s1_issue() {
  local name=$1 issuer=$2 ext=$3 start=$4 end=$5 md=$6 signer
  if [ "$issuer" = self ]; then
    signer=(-selfsign -keyfile "$SPKI/$name.key"); issuer=$name
  else
    signer=(-cert "$SPKI/$issuer.pem" -keyfile "$SPKI/$issuer.key")
  fi
  CADIR="$TMP/sha1-$issuer" openssl ca -config "$TMP/ca.cnf" -batch -notext -preserveDN \
    "${signer[@]}" -md "$md" -extensions "$ext" -startdate "$start" -enddate "$end" \
    -in "$TMP/$name.csr" -out "$SPKI/$name.pem" 2>"$TMP/ca.log" \
    || { cat "$TMP/ca.log" >&2; exit 1; }
  # The signature algorithm must be the one asked for (OpenSSL 3 signs with SHA-1 when told to).
  local want=sha256WithRSAEncryption
  [ "$md" = sha1 ] && want=sha1WithRSAEncryption
  [ "$(openssl x509 -in "$SPKI/$name.pem" -noout -text | sed -n 's/^ *Signature Algorithm: //p' | sort -u)" = "$want" ] \
    || { echo "build-integrity.sh: $name.pem is not signed with $want" >&2; exit 1; }
}

gen_sha1_pki() {
  echo "build-integrity.sh: generating the SHA-1 TEST PKI in corpus/$SPKI/" >&2
  mkdir -p "$SPKI"
  write_ca_conf
  local O="/O=Bingate Integrity Test PKI (NOT TRUSTED)"
  new_ca_dir sha1-sha1-root 5000
  new_ca_dir sha1-sha1-int 5100
  s1_key sha1-root
  s1_csr sha1-root "/CN=Bingate SHA-1 rules root$O"
  s1_issue sha1-root self ext_root 20100101000000Z 20451231235959Z sha256
  s1_key sha1-int
  s1_csr sha1-int "/CN=Bingate SHA-1 rules code signing CA$O"
  s1_issue sha1-int sha1-root ext_intermediate 20100101000000Z 20401231235959Z sha256
  # Code-signing leaves (all under sha1-int).
  s1_key leaf-sha1cert
  s1_csr leaf-sha1cert "/CN=Bingate SHA-1 rules signer, certificate signed with SHA-1$O"
  s1_issue leaf-sha1cert sha1-int ext_codesign 20140101000000Z 20351231235959Z sha1
  s1_key leaf-2017
  s1_csr leaf-2017 "/CN=Bingate SHA-1 rules signer 2017-2019$O"
  s1_issue leaf-2017 sha1-int ext_codesign 20170101000000Z 20191231235959Z sha256
  s1_key leaf-2016
  s1_csr leaf-2016 "/CN=Bingate SHA-1 rules signer 2016-2019$O"
  s1_issue leaf-2016 sha1-int ext_codesign 20160101000000Z 20191231235959Z sha256
  s1_key leaf-2025
  s1_csr leaf-2025 "/CN=Bingate SHA-1 rules signer 2025-2035$O"
  s1_issue leaf-2025 sha1-int ext_codesign 20250101000000Z 20351231235959Z sha256
  # TSAs (EKU timeStamping, critical), issued by the root.
  s1_key tsa
  s1_csr tsa "/CN=Bingate SHA-1 rules TSA$O"
  s1_issue tsa sha1-root ext_tsa 20100101000000Z 20401231235959Z sha256
  s1_key tsa-sha1cert
  s1_csr tsa-sha1cert "/CN=Bingate SHA-1 rules TSA, certificate signed with SHA-1$O"
  s1_issue tsa-sha1cert sha1-root ext_tsa 20100101000000Z 20401231235959Z sha1
  local l
  for l in leaf-sha1cert leaf-2017 leaf-2016 leaf-2025; do
    cat "$SPKI/$l.pem" "$SPKI/sha1-int.pem" > "$SPKI/$l-chain.pem"
  done
  chmod 0644 "$SPKI"/*.key
}

write_sha1_pki_readme() {
  {
    cat <<'EOF2'
# bingate SHA-1 rules TEST PKI — NOT FOR ANY REAL USE

Part of the integrity test PKI (`../README.md` applies: every private key here is a **test
key**, committed on purpose; nothing here is or must ever be trusted outside bingate's tests).
Generated by the "SHA-1 RULES" section of `corpus/recipes/build-integrity.sh` only when this
directory is absent; used by the fixtures in `corpus/integrity/sha1/`. All keys RSA 2048, all
certificates from `openssl ca` with explicit `-startdate`/`-enddate` and `-md`. The build checks
each certificate's signatureAlgorithm after issuing it.

| file | issuer | signed with | validity (UTC) | extensions / purpose |
|---|---|---|---|---|
| `sha1-root.pem` | self | sha256WithRSAEncryption | 2010-01-01 .. 2045-12-31 | CA:TRUE, no EKU; the anchor (program root or user root) |
| `sha1-int.pem` | sha1-root | sha256WithRSAEncryption | 2010-01-01 .. 2040-12-31 | CA:TRUE pathlen 0, no EKU |
| `leaf-sha1cert.pem` | sha1-int | **sha1WithRSAEncryption** | 2014-01-01 .. 2035-12-31 | EKU codeSigning |
| `leaf-2017.pem` | sha1-int | sha256WithRSAEncryption | 2017-01-01 .. 2019-12-31 | EKU codeSigning; expired at 2026-11-22 |
| `leaf-2016.pem` | sha1-int | sha256WithRSAEncryption | 2016-01-01 .. 2019-12-31 | EKU codeSigning; expired at 2026-11-22 |
| `leaf-2025.pem` | sha1-int | sha256WithRSAEncryption | 2025-01-01 .. 2035-12-31 | EKU codeSigning |
| `tsa.pem` | sha1-root | sha256WithRSAEncryption | 2010-01-01 .. 2040-12-31 | EKU timeStamping (critical) |
| `tsa-sha1cert.pem` | sha1-root | **sha1WithRSAEncryption** | 2010-01-01 .. 2040-12-31 | EKU timeStamping (critical) |

`leaf-*-chain.pem` = leaf + `sha1-int.pem`, as passed to `osslsigncode -certs`.

## Certificates as generated

EOF2
    echo '```'
    local f
    for f in "$SPKI"/*.pem; do
      case "$f" in *-chain.pem) continue ;; esac
      echo "$(basename "$f")"
      openssl x509 -in "$f" -noout -serial -subject -startdate -enddate -fingerprint -sha256 \
        -nameopt RFC2253 | sed 's/^/  /'
      openssl x509 -in "$f" -noout -text | sed -n 's/^    Signature Algorithm: /  signatureAlgorithm: /p'
    done
    echo '```'
  } > "$SPKI/README.md"
}

if [ ! -d "$SPKI" ]; then gen_sha1_pki; fi
[ -f "$SPKI/README.md" ] || write_sha1_pki_readme

mkdir -p "$SOUT"
find "$SOUT" -maxdepth 1 -type f ! -name expected.json -delete

T_2015_06=1433116800   # 2015-06-01T00:00:00Z  before the SHA-1 code-signing cut-off (2016-01-01)
T_2016_06=1464739200   # 2016-06-01T00:00:00Z  after it, before the SHA-1 timestamp cut-off (2017-02-14)
T_2018_06=1527811200   # 2018-06-01T00:00:00Z  after both

# s1_sign OUT BASE LEAF TIME DIGEST [extra osslsigncode args...]   SPKI/LEAF-chain.pem + LEAF.key
s1_sign() {
  local out=$1 base=$2 leaf=$3 t=$4 md=$5; shift 5
  osslsigncode sign -certs "$SPKI/$leaf-chain.pem" -key "$SPKI/$leaf.key" -h "$md" "${DESC[@]}" \
    -time "$t" "$@" -in "$base" -out "$out" > "$TMP/sign.log" 2>&1 \
    || { cat "$TMP/sign.log" >&2; exit 1; }
}
# s1_ts IN OUT TSA TIME DIGEST SERIAL   RFC 3161 token by SPKI/TSA (only its own certificate embedded)
s1_ts() {
  $TOOL rfc3161-timestamp "$1" "$2" --cert "$SPKI/$3.pem" --chain "$SPKI/$3.pem" \
    --key "$SPKI/$3.key" --time "$4" --digest "$5" --serial "$6"
}

# 1-3: leaf certificate signed with SHA-1; file digest SHA-256; SHA-256 tokens by the TSA. The
# untimestamped one carries signingTime 2015-06-01, which decides nothing.
s1_sign "$TMP/s1-sha1cert-2015.exe" $X64 leaf-sha1cert $T_2015_06 sha256
s1_ts "$TMP/s1-sha1cert-2015.exe" "$SOUT/sha1cert-ts2015.exe" tsa 20150601000000Z sha256 201
s1_sign "$TMP/s1-sha1cert-2016.exe" $X64 leaf-sha1cert $T_2016_06 sha256
s1_ts "$TMP/s1-sha1cert-2016.exe" "$SOUT/sha1cert-ts2016.exe" tsa 20160601000000Z sha256 202
s1_sign "$SOUT/sha1cert-nots.exe" $X64 leaf-sha1cert $T_2015_06 sha256
# 4-5: SHA-1 token (messageImprint, messageDigest and SignerInfo digest SHA-1) by the sha256-signed
# TSA, after and before 2017-02-14.
s1_sign "$TMP/s1-2017.exe" $X64 leaf-2017 $T_2018_06 sha256
s1_ts "$TMP/s1-2017.exe" "$SOUT/sha1ts-2018.exe" tsa 20180601000000Z sha1 204
s1_sign "$TMP/s1-2016.exe" $X64 leaf-2016 $T_2016_06 sha256
s1_ts "$TMP/s1-2016.exe" "$SOUT/sha1ts-2016.exe" tsa 20160601000000Z sha1 205
# 6: SHA-256 token by the TSA whose certificate is signed with SHA-1, after 2017-02-14.
s1_ts "$TMP/s1-2017.exe" "$SOUT/sha1tsacert-2018.exe" tsa-sha1cert 20180601000000Z sha256 206
# 7: dual signing. Primary: file digest SHA-1 by leaf-2017 (tsa.pem added to its bag for the
# countersignature), legacy countersignature by the TSA with SHA-1 at 2018-06-01; then a nested
# SHA-256 signature by leaf-2025 (osslsigncode -nest keeps the primary's unsigned attributes).
s1_sign "$TMP/s1-dual-primary.exe" $X64 leaf-2017 $T_2018_06 sha1 -ac "$SPKI/tsa.pem"
$TOOL legacy-countersign "$TMP/s1-dual-primary.exe" "$TMP/s1-dual-primary-cs.exe" \
  --cert "$SPKI/tsa.pem" --key "$SPKI/tsa.key" --time 20180601000000Z --digest sha1
s1_sign "$SOUT/dual-sha1-primary.exe" "$TMP/s1-dual-primary-cs.exe" leaf-2025 $T_2026 sha256 -nest

echo "build-integrity.sh: $(find "$SOUT" -maxdepth 1 -type f -name '*.exe' | wc -l) fixtures in corpus/$SOUT/" >&2

# --verify: osslsigncode on every sha1/ fixture against the recorded `osslsigncode` summaries.
if [ "${1:-}" = "--verify" ]; then
  python3 - "$SOUT/expected.json" <<'EOF2'
import json, sys
sys.path.insert(0, "recipes")
import integrity_tool as t
bad = 0
for name, exp in json.load(open(sys.argv[1])).items():
    got, _ = t.ossl_summary(name, exp["root"], None, t.unix(exp["verification_time"]))
    if got != exp["osslsigncode"]:
        bad += 1
        print(f"{name}\n  recorded: {exp['osslsigncode']}\n  now:      {got}")
print(f"sha1 check: {bad} difference(s)")
sys.exit(1 if bad else 0)
EOF2
fi
