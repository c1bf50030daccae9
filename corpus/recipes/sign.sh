#!/usr/bin/env bash
# Authenticode test fixtures for bingate: builds corpus/signed/* from the unsigned PEs in
# corpus/pe/ with osslsigncode and a TEST PKI kept in corpus/pki/. Everything is offline
# (osslsigncode's built-in TSA places RFC 3161 timestamps at chosen times).
#
# Tools this was produced with (Debian 12): osslsigncode 2.9, OpenSSL 3.0 CLI, python3 3.11.
#
# * corpus/pki/ is generated ONLY when the directory is absent, so the committed test keys and
#   certificates are reused (RSA/ECDSA key generation is random: a fresh PKI means new keys,
#   new certificates and therefore different fixture bytes).
# * corpus/signed/ fixtures are always removed and re-signed. expected.json and README.md in
#   corpus/signed/ are hand-maintained and kept.
# * Determinism: with the committed PKI, re-signing gives byte-identical RSA fixtures except
#   for what osslsigncode randomises (see corpus/README.md, "Authenticode fixtures"): ECDSA
#   signatures use a random nonce, and the built-in TSA puts a random serial into every
#   TSTInfo. Signing and timestamp *times* are fixed below (-time / -TSA-time).
#
# Usage: bash corpus/recipes/sign.sh            (from anywhere)
#        bash corpus/recipes/sign.sh --verify   (also run osslsigncode verify on every fixture
#                                                and compare with expected.json)
set -euo pipefail
export LC_ALL=C TZ=UTC

CORPUS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$CORPUS"
PKI=pki
OUT=signed
TOOL="python3 recipes/pe_cert_tool.py"

need() { command -v "$1" >/dev/null 2>&1 || { echo "sign.sh: missing tool $1" >&2; exit 1; }; }
for t in osslsigncode openssl python3; do need "$t"; done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

###############################################################################
# Test PKI (only when corpus/pki/ is absent)
###############################################################################
# Validity windows (also listed in corpus/pki/README.md):
#   root.pem            RSA 3072, self-signed CA    2020-01-01 .. 2045-12-31
#   intermediate.pem    RSA 3072, CA, by root       2020-01-01 .. 2040-12-31
#   tsa.pem             RSA 2048, by root, EKU timeStamping (critical)       2020-01-01 .. 2040-12-31
#   leaf-rsa.pem        RSA 2048, by intermediate, EKU codeSigning           2025-01-01 .. 2035-12-31
#   leaf-ecdsa.pem      P-256,    by intermediate, EKU codeSigning           2025-01-01 .. 2035-12-31
#   leaf-expired.pem    RSA 2048, by intermediate, EKU codeSigning           2021-01-01 .. 2021-12-31
#   leaf-lifetime.pem   RSA 2048, by intermediate, EKU codeSigning + lifetime signing
#                                                                            2021-01-01 .. 2021-12-31
#   leaf-weak1024.pem   RSA 1024, by intermediate, EKU codeSigning           2025-01-01 .. 2035-12-31
#   leaf-revoked.pem    RSA 2048, by intermediate, EKU codeSigning           2024-01-01 .. 2035-12-31
#                       revoked 2025-06-01T00:00:00Z (cessationOfOperation) in intermediate.crl.pem
#   selfsigned.pem      RSA 2048, self-signed, CA:FALSE, EKU codeSigning     2025-01-01 .. 2035-12-31
#   intermediate.crl.pem  CRL by intermediate, thisUpdate 2025-06-02, nextUpdate 2035-12-31

write_ca_conf() {
  cat > "$TMP/ca.cnf" <<'EOF'
# Minimal `openssl ca` configuration for the bingate TEST PKI. CADIR selects the CA state dir.
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
organizationalUnitName = optional
countryName            = optional

[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]
CN = placeholder

[ ext_root ]
basicConstraints       = critical, CA:TRUE
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

[ ext_lifetime ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
# 1.3.6.1.4.1.311.10.3.13 = Microsoft lifetime signing
extendedKeyUsage       = codeSigning, 1.3.6.1.4.1.311.10.3.13
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_selfsigned ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = codeSigning
subjectKeyIdentifier   = hash

[ ext_tsa ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = critical, timeStamping
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

rsa_key() { openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$PKI/$1.key"; }
ec_key()  { openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
              -pkeyopt ec_param_enc:named_curve -out "$PKI/$1.key"; }
csr()     { CADIR="$TMP" openssl req -config "$TMP/ca.cnf" -new -key "$PKI/$1.key" -subj "$2" -out "$TMP/$1.csr"; }

# issue NAME CA(root|intermediate) EXT START END
issue() {
  CADIR="$TMP/$2" openssl ca -config "$TMP/ca.cnf" -batch -notext -preserveDN \
    -cert "$PKI/$2.pem" -keyfile "$PKI/$2.key" -extensions "$3" \
    -startdate "$4" -enddate "$5" -in "$TMP/$1.csr" -out "$PKI/$1.pem" 2>"$TMP/ca.log" \
    || { cat "$TMP/ca.log" >&2; exit 1; }
}
# selfsign NAME CADIR EXT START END
selfsign() {
  CADIR="$TMP/$2" openssl ca -config "$TMP/ca.cnf" -batch -notext -preserveDN -selfsign \
    -keyfile "$PKI/$1.key" -extensions "$3" \
    -startdate "$4" -enddate "$5" -in "$TMP/$1.csr" -out "$PKI/$1.pem" 2>"$TMP/ca.log" \
    || { cat "$TMP/ca.log" >&2; exit 1; }
}

gen_pki() {
  echo "sign.sh: generating a new TEST PKI in corpus/$PKI/" >&2
  mkdir -p "$PKI"
  write_ca_conf
  new_ca_dir root 1000
  new_ca_dir intermediate 2000
  new_ca_dir self 3000
  local O="/O=Bingate Test PKI (NOT TRUSTED)"

  rsa_key root 3072
  csr root "/CN=Bingate Test root CA$O"
  selfsign root root ext_root 20200101000000Z 20451231235959Z

  rsa_key intermediate 3072
  csr intermediate "/CN=Bingate Test code signing CA$O"
  issue intermediate root ext_intermediate 20200101000000Z 20401231235959Z

  rsa_key tsa 2048
  csr tsa "/CN=Bingate Test TSA$O"
  issue tsa root ext_tsa 20200101000000Z 20401231235959Z

  rsa_key leaf-rsa 2048
  csr leaf-rsa "/CN=Bingate Test signer RSA$O"
  issue leaf-rsa intermediate ext_codesign 20250101000000Z 20351231235959Z

  ec_key leaf-ecdsa
  csr leaf-ecdsa "/CN=Bingate Test signer ECDSA P-256$O"
  issue leaf-ecdsa intermediate ext_codesign 20250101000000Z 20351231235959Z

  rsa_key leaf-expired 2048
  csr leaf-expired "/CN=Bingate Test signer expired 2021$O"
  issue leaf-expired intermediate ext_codesign 20210101000000Z 20211231235959Z

  rsa_key leaf-lifetime 2048
  csr leaf-lifetime "/CN=Bingate Test signer lifetime-signing 2021$O"
  issue leaf-lifetime intermediate ext_lifetime 20210101000000Z 20211231235959Z

  rsa_key leaf-weak1024 1024
  csr leaf-weak1024 "/CN=Bingate Test signer RSA-1024$O"
  issue leaf-weak1024 intermediate ext_codesign 20250101000000Z 20351231235959Z

  rsa_key leaf-revoked 2048
  csr leaf-revoked "/CN=Bingate Test signer revoked 2025-06-01$O"
  issue leaf-revoked intermediate ext_codesign 20240101000000Z 20351231235959Z

  rsa_key selfsigned 2048
  csr selfsigned "/CN=Bingate Test self-signed signer$O"
  selfsign selfsigned self ext_selfsigned 20250101000000Z 20351231235959Z

  # Revoke leaf-revoked with a chosen date: `openssl ca -revoke` would stamp "now", so edit the
  # database line (V -> R, revocation field "YYMMDDHHMMSSZ,reason") and generate the CRL.
  local serial
  serial=$(openssl x509 -in "$PKI/leaf-revoked.pem" -noout -serial | cut -d= -f2)
  awk -F'\t' -v OFS='\t' -v s="$serial" \
    '$4==s { $1="R"; $3="250601000000Z,cessationOfOperation" } { print }' \
    "$TMP/intermediate/index.txt" > "$TMP/index.new"
  mv "$TMP/index.new" "$TMP/intermediate/index.txt"
  CADIR="$TMP/intermediate" openssl ca -config "$TMP/ca.cnf" -batch -gencrl \
    -cert "$PKI/intermediate.pem" -keyfile "$PKI/intermediate.key" \
    -crl_lastupdate 20250602000000Z -crl_nextupdate 20351231235959Z \
    -out "$PKI/intermediate.crl.pem" 2>"$TMP/ca.log" || { cat "$TMP/ca.log" >&2; exit 1; }

  # Chains as handed to osslsigncode: signer + intermediate (root is the trust anchor and is
  # not embedded); the TSA chain carries the TSA certificate and the root.
  for l in leaf-rsa leaf-ecdsa leaf-expired leaf-lifetime leaf-weak1024 leaf-revoked; do
    cat "$PKI/$l.pem" "$PKI/intermediate.pem" > "$PKI/$l-chain.pem"
  done
  cat "$PKI/tsa.pem" "$PKI/root.pem" > "$PKI/tsa-chain.pem"
  chmod 0644 "$PKI"/*.key
}

# pki/README.md: written when missing (i.e. with every new PKI); the table is read back from the
# certificates themselves.
write_pki_readme() {
  {
    cat <<'EOF2'
# bingate TEST PKI — NOT FOR ANY REAL USE

Every private key in this directory is a **test key**, committed on purpose so that the
Authenticode fixtures in `corpus/signed/` can be re-signed reproducibly. Nothing here is, or
must ever be, trusted outside bingate's tests. All subjects carry
`O=Bingate Test PKI (NOT TRUSTED)`.

Generated by `corpus/recipes/sign.sh` (only when this directory is absent; delete it to get a
fresh PKI — new keys, so every fixture's bytes change, while `signed/expected.json` stays valid).
Certificates come from `openssl ca` with explicit `-startdate`/`-enddate` (OpenSSL 3.0's
`req -x509` cannot backdate), serials from fixed counters (root CA 1000+, intermediate 2000+,
self-signed 3000).

Trust anchor for all fixtures: `root.pem`. Signer chain files (`*-chain.pem` = leaf +
intermediate) are what was passed to `osslsigncode sign -certs`; `tsa-chain.pem` (TSA + root)
and `tsa.key` drive osslsigncode's built-in RFC 3161 TSA (`-TSA-certs/-TSA-key/-TSA-time`).

| file | key | issuer | validity (UTC) | extensions / purpose |
|---|---|---|---|---|
| `root.pem` | RSA 3072 | self | 2020-01-01 00:00:00 .. 2045-12-31 23:59:59 | CA:TRUE, keyCertSign+cRLSign, no EKU |
| `intermediate.pem` | RSA 3072 | root | 2020-01-01 00:00:00 .. 2040-12-31 23:59:59 | CA:TRUE pathlen 0, keyCertSign+cRLSign, no EKU |
| `tsa.pem` | RSA 2048 | root | 2020-01-01 00:00:00 .. 2040-12-31 23:59:59 | EKU timeStamping (critical), digitalSignature |
| `leaf-rsa.pem` | RSA 2048 | intermediate | 2025-01-01 00:00:00 .. 2035-12-31 23:59:59 | EKU codeSigning, digitalSignature |
| `leaf-ecdsa.pem` | EC P-256 | intermediate | 2025-01-01 00:00:00 .. 2035-12-31 23:59:59 | EKU codeSigning, digitalSignature |
| `leaf-expired.pem` | RSA 2048 | intermediate | 2021-01-01 00:00:00 .. 2021-12-31 23:59:59 (entirely past) | EKU codeSigning, digitalSignature |
| `leaf-lifetime.pem` | RSA 2048 | intermediate | 2021-01-01 00:00:00 .. 2021-12-31 23:59:59 (entirely past) | EKU codeSigning + lifetime signing 1.3.6.1.4.1.311.10.3.13 |
| `leaf-weak1024.pem` | RSA 1024 (weak) | intermediate | 2025-01-01 00:00:00 .. 2035-12-31 23:59:59 | EKU codeSigning, digitalSignature |
| `leaf-revoked.pem` | RSA 2048 | intermediate | 2024-01-01 00:00:00 .. 2035-12-31 23:59:59 | EKU codeSigning; **revoked 2025-06-01 00:00:00Z**, reason cessationOfOperation |
| `selfsigned.pem` | RSA 2048 | self | 2025-01-01 00:00:00 .. 2035-12-31 23:59:59 | CA:FALSE, EKU codeSigning, digitalSignature |

`intermediate.crl.pem`: CRL v2 issued by the intermediate, CRL number 1, thisUpdate
2025-06-02 00:00:00Z, nextUpdate 2035-12-31 23:59:59Z, one entry: `leaf-revoked.pem`'s serial,
revocation date 2025-06-01 00:00:00Z, reason cessationOfOperation. (The revocation date was
written into the `openssl ca` database directly; `-revoke` would stamp the current time.)

## Certificates as generated

EOF2
    echo '```'
    local f
    for f in root intermediate tsa leaf-rsa leaf-ecdsa leaf-expired leaf-lifetime leaf-weak1024 leaf-revoked selfsigned; do
      echo "$f.pem"
      openssl x509 -in "$PKI/$f.pem" -noout -serial -subject -issuer -startdate -enddate -fingerprint -sha256 \
        -nameopt RFC2253 | sed 's/^/  /'
    done
    echo "intermediate.crl.pem"
    openssl crl -in "$PKI/intermediate.crl.pem" -noout -lastupdate -nextupdate -fingerprint -sha256 | sed 's/^/  /'
    echo '```'
  } > "$PKI/README.md"
}

if [ ! -d "$PKI" ]; then gen_pki; fi
[ -f "$PKI/README.md" ] || write_pki_readme

###############################################################################
# Signed fixtures (always rebuilt)
###############################################################################
mkdir -p "$OUT"
find "$OUT" -maxdepth 1 -type f ! -name expected.json ! -name README.md -delete

# Times (UTC). Signing time (-time, the signingTime signed attribute, which Windows does not
# trust) is the timestamp time when there is a timestamp, else SIGN_AT (default 2026-01-15).
T_2021=1622505600      # 2021-06-01T00:00:00Z  inside leaf-expired / leaf-lifetime validity
T_2023=1685577600      # 2023-06-01T00:00:00Z  after leaf-expired's notAfter (2021-12-31)
T_2025=1740787200      # 2025-03-01T00:00:00Z  before leaf-revoked's revocation (2025-06-01)
T_2026=1768435200      # 2026-01-15T00:00:00Z  inside the current leaves' validity, after the revocation

DESC=(-n "bingate test" -i "https://example.invalid/")

# sign OUTPATH BASE LEAF HASH TS_TIME|- [extra osslsigncode args...]  (TS_TIME - = no timestamp)
#   LEAF is a pki/ basename: LEAF-chain.pem (signer + intermediate) when present, else LEAF.pem.
sign() {
  local out=$1 base=$2 leaf=$3 hash=$4 ts=$5; shift 5
  local certs="$PKI/$leaf-chain.pem"
  [ -f "$certs" ] || certs="$PKI/$leaf.pem"
  local tsargs=() t=${SIGN_AT:-$T_2026}
  if [ "$ts" != - ]; then
    tsargs=(-TSA-certs "$PKI/tsa-chain.pem" -TSA-key "$PKI/tsa.key" -TSA-time "$ts")
    t=$ts
  fi
  osslsigncode sign -certs "$certs" -key "$PKI/$leaf.key" -h "$hash" "${DESC[@]}" -time "$t" \
    "${tsargs[@]}" "$@" -in "$base" -out "$out" > "$TMP/sign.log" 2>&1 \
    || { cat "$TMP/sign.log" >&2; exit 1; }
}

X64=pe/x64-default.exe
X86=pe/x86-default.exe
DLL=pe/x64.dll
CLANG=pe/clang-cfg.exe

# --- valid signatures --------------------------------------------------------
sign "$OUT/valid-rsa.exe"          $X64   leaf-rsa      sha256 $T_2026
sign "$OUT/valid-ecdsa.exe"        $X86   leaf-ecdsa    sha256 $T_2026 -comm
sign "$OUT/valid-notimestamp.exe"  $X64   leaf-rsa      sha256 -
sign "$OUT/valid-dll.dll"          $DLL   leaf-rsa      sha256 $T_2026
sign "$OUT/pagehash.exe"           $X64   leaf-rsa      sha256 $T_2026 -ph
# nested: SHA-1 primary (with its own timestamp), then `-nest` adds a SHA-256 signature as the
# 1.3.6.1.4.1.311.2.4.1 unsigned attribute of the primary SignerInfo (primary left untouched).
sign "$TMP/nested-primary.exe" $X64 leaf-rsa sha1 $T_2026
sign "$OUT/nested.exe" "$TMP/nested-primary.exe" leaf-rsa sha256 $T_2026 -nest

# --- time / certificate cases --------------------------------------------------
SIGN_AT=$T_2021 \
sign "$OUT/expired-no-ts.exe"      $X64   leaf-expired  sha256 -
sign "$OUT/expired-ts-inside.exe"  $X64   leaf-expired  sha256 $T_2021
sign "$OUT/ts-after-expiry.exe"    $X64   leaf-expired  sha256 $T_2023
sign "$OUT/lifetime-expired.exe"   $X64   leaf-lifetime sha256 $T_2021
sign "$OUT/self-signed.exe"        $CLANG selfsigned    sha256 $T_2026
sign "$OUT/sha1-only.exe"          $X86   leaf-rsa      sha1   -
sign "$OUT/weak-rsa1024.exe"       $CLANG leaf-weak1024 sha256 $T_2026
sign "$OUT/revoked-no-ts.exe"      $X64   leaf-revoked  sha256 -
sign "$OUT/revoked-ts-before.exe"  $X64   leaf-revoked  sha256 $T_2025
sign "$OUT/revoked-ts-after.exe"   $X64   leaf-revoked  sha256 $T_2026
# An unsigned attribute osslsigncode's -addUnauthenticatedBlob adds (not covered by the signature).
sign "$OUT/unauth-blob.exe"        $X64   leaf-rsa      sha256 $T_2026 -addUnauthenticatedBlob

# --- byte-level edits of valid-rsa.exe (no re-signing) ------------------------
V="$OUT/valid-rsa.exe"
$TOOL flip-text    "$V" "$OUT/tampered-section.exe" 2>/dev/null
$TOOL pad-entry    "$V" "$OUT/padding-payload.exe" --bytes 16
$TOOL append       "$V" "$OUT/appended-data.exe" --bytes 100
$TOOL truncate     "$V" "$OUT/truncated-table.exe"
$TOOL dir-past-end "$V" "$OUT/dir-past-end.exe" --bytes 4096
$TOOL dup-entry    "$V" "$OUT/two-entries.exe"

cp $X64 "$OUT/unsigned.exe"

echo "sign.sh: $(find "$OUT" -maxdepth 1 -type f ! -name '*.json' ! -name '*.md' | wc -l) fixtures in corpus/$OUT/" >&2

if [ "${1:-}" = "--verify" ]; then
  # Re-run osslsigncode verify on every fixture and compare with what expected.json recorded.
  $TOOL check-expected "$OUT/expected.json"
fi
