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
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # C locale, UTC, cd corpus/, $TMP, PKI and signing helpers

ME=sign.sh
PKI=pki
OUT=signed
TOOL="python3 recipes/pe_cert_tool.py"
PKI_ORG="Bingate Test PKI (NOT TRUSTED)"
DESC=(-n "bingate test" -i "https://example.invalid/")

need osslsigncode openssl python3

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

gen_pki() {
  echo "sign.sh: generating a new TEST PKI in corpus/$PKI/" >&2
  mkdir -p "$PKI"
  # ext_root, ext_intermediate, ext_codesign and ext_tsa come from lib.sh.
  write_ca_conf <<'SECTIONS'
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
SECTIONS
  new_ca_dir root 1000
  new_ca_dir intermediate 2000
  new_ca_dir selfsigned 3000

  #        NAME          KEY   ISSUER       EXT              START           END             CN
  new_cert root          3072  self         ext_root         20200101000000Z 20451231235959Z "Bingate Test root CA"
  new_cert intermediate  3072  root         ext_intermediate 20200101000000Z 20401231235959Z "Bingate Test code signing CA"
  new_cert tsa           2048  root         ext_tsa          20200101000000Z 20401231235959Z "Bingate Test TSA"
  new_cert leaf-rsa      2048  intermediate ext_codesign     20250101000000Z 20351231235959Z "Bingate Test signer RSA"
  new_cert leaf-ecdsa    P-256 intermediate ext_codesign     20250101000000Z 20351231235959Z "Bingate Test signer ECDSA P-256"
  new_cert leaf-expired  2048  intermediate ext_codesign     20210101000000Z 20211231235959Z "Bingate Test signer expired 2021"
  new_cert leaf-lifetime 2048  intermediate ext_lifetime     20210101000000Z 20211231235959Z "Bingate Test signer lifetime-signing 2021"
  new_cert leaf-weak1024 1024  intermediate ext_codesign     20250101000000Z 20351231235959Z "Bingate Test signer RSA-1024"
  new_cert leaf-revoked  2048  intermediate ext_codesign     20240101000000Z 20351231235959Z "Bingate Test signer revoked 2025-06-01"
  new_cert selfsigned    2048  self         ext_selfsigned   20250101000000Z 20351231235959Z "Bingate Test self-signed signer"

  revoke_and_crl intermediate leaf-revoked 250601000000Z cessationOfOperation 20250602000000Z 20351231235959Z

  # Chains as handed to osslsigncode: signer + intermediate (root is the trust anchor and is
  # not embedded); the TSA chain carries the TSA certificate and the root.
  chain intermediate leaf-rsa leaf-ecdsa leaf-expired leaf-lifetime leaf-weak1024 leaf-revoked
  chain root tsa
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
      cert_summary "$PKI/$f.pem" -serial -subject -issuer -startdate -enddate
    done
    crl_summary "$PKI/intermediate.crl.pem"
    echo '```'
  } > "$PKI/README.md"
}

pki_once "$PKI" gen_pki write_pki_readme

###############################################################################
# Signed fixtures (always rebuilt)
###############################################################################
fresh_out "$OUT"

# Times (UTC). Signing time (-time, the signingTime signed attribute, which Windows does not
# trust) is the timestamp time when there is a timestamp, else SIGN_AT (default 2026-01-15).
T_2021=1622505600      # 2021-06-01T00:00:00Z  inside leaf-expired / leaf-lifetime validity
T_2023=1685577600      # 2023-06-01T00:00:00Z  after leaf-expired's notAfter (2021-12-31)
T_2025=1740787200      # 2025-03-01T00:00:00Z  before leaf-revoked's revocation (2025-06-01)
T_2026=1768435200      # 2026-01-15T00:00:00Z  inside the current leaves' validity, after the revocation

# sign OUTPATH BASE LEAF HASH TS_TIME|- [extra osslsigncode args...]  (TS_TIME - = no timestamp)
#   LEAF is a pki/ basename: LEAF-chain.pem (signer + intermediate) when present, else LEAF.pem.
sign() {
  local out=$1 base=$2 leaf=$3 hash=$4 ts=$5; shift 5
  local t=${SIGN_AT:-$T_2026}
  if [ "$ts" != - ]; then
    set -- -TSA-certs "$PKI/tsa-chain.pem" -TSA-key "$PKI/tsa.key" -TSA-time "$ts" "$@"
    t=$ts
  fi
  ossl_sign "$out" "$base" "$PKI/$leaf" "$hash" "$t" "$@"
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
