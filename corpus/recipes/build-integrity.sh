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
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # C locale, UTC, cd corpus/, $TMP, PKI and signing helpers

ME=build-integrity.sh
PKI=pki/integrity
OUT=integrity
TOOL="python3 recipes/integrity_tool.py"
PKI_ORG="Bingate Integrity Test PKI (NOT TRUSTED)"
KEY_SEED=${INTEGRITY_KEY_SEED:-}
DESC=(-n "bingate integrity test" -i "https://example.invalid/")

need osslsigncode openssl python3
python3 -c 'import cryptography, asn1crypto' 2>/dev/null \
  || { echo "build-integrity.sh: python3 needs cryptography and asn1crypto" >&2; exit 1; }

###############################################################################
# Test PKI (only when corpus/pki/integrity/ is absent); table in pki/integrity/README.md
###############################################################################
# lib.sh's configuration (ext_root, ext_intermediate, ext_codesign, ext_tsa) plus the odd
# extensions of this PKI.
write_integrity_ca_conf() {
  write_ca_conf <<'SECTIONS'
[ ext_root_serverauth ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash

[ ext_root_pathlen0 ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[ ext_noeku ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ ext_tsa_noncritical ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = timeStamping
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
SECTIONS
}

gen_pki() {
  echo "build-integrity.sh: generating a new TEST PKI in corpus/$PKI/ (RSA-16384 takes long)" >&2
  mkdir -p "$PKI"
  write_integrity_ca_conf
  local serial=4000 r start

  # Class A: four roots, each with one intermediate and one code-signing leaf. The forged copy of
  # each root (same subject, serial and key; signed with a throwaway key) is made by
  # integrity_tool.py forge-root.
  for r in expired serverauth pathlen0 good; do
    new_ca_dir "root-$r" "$serial"; serial=$((serial + 100))
    new_ca_dir "int-$r" "$serial"; serial=$((serial + 100))
  done
  #        NAME               KEY   ISSUER    EXT                 START           END             CN
  new_cert root-expired       2048  self      ext_root            20100101000000Z 20201231235959Z "Bingate Integrity root expired 2020"
  new_cert root-serverauth    2048  self      ext_root_serverauth 20200101000000Z 20451231235959Z "Bingate Integrity root serverAuth-only EKU"
  new_cert root-pathlen0      2048  self      ext_root_pathlen0   20200101000000Z 20451231235959Z "Bingate Integrity root pathlen 0"
  new_cert root-good          2048  self      ext_root            20200101000000Z 20451231235959Z "Bingate Integrity root"

  for r in expired serverauth pathlen0 good; do
    start=20200101000000Z
    if [ "$r" = expired ]; then start=20100101000000Z; fi
    new_cert "int-$r"  2048 "root-$r" ext_intermediate "$start"        20401231235959Z "Bingate Integrity code signing CA ($r root)"
    new_cert "leaf-$r" 2048 "int-$r"  ext_codesign     20250101000000Z 20351231235959Z "Bingate Integrity signer ($r root)"
    $TOOL forge-root "$PKI/root-$r.pem" "$PKI/forged-root-$r.pem"
  done

  # Class B: signers and timestamp signers under root-good / int-good.
  new_cert leaf-noeku-2021    2048  int-good  ext_noeku           20210101000000Z 20211231235959Z "Bingate Integrity signer without EKU 2021"
  new_cert leaf-noeku-revoked 2048  int-good  ext_noeku           20240101000000Z 20351231235959Z "Bingate Integrity signer without EKU revoked 2025-06-01"
  new_cert leaf-cs-2021       2048  int-good  ext_codesign        20210101000000Z 20211231235959Z "Bingate Integrity signer expired 2021"
  new_cert tsa                2048  root-good ext_tsa             20200101000000Z 20401231235959Z "Bingate Integrity TSA"
  new_cert tsa-noncritical    2048  root-good ext_tsa_noncritical 20200101000000Z 20401231235959Z "Bingate Integrity TSA non-critical EKU"
  new_cert tsa-codesigning    2048  root-good ext_codesign        20200101000000Z 20401231235959Z "Bingate Integrity code-signing cert used as TSA"

  # Class D: big RSA leaves under an RSA-3072 intermediate.
  new_ca_dir int-big "$serial"
  new_cert int-big            3072  root-good ext_intermediate    20200101000000Z 20401231235959Z "Bingate Integrity code signing CA RSA-3072"
  new_cert leaf-rsa8192       8192  int-big   ext_codesign        20250101000000Z 20351231235959Z "Bingate Integrity signer RSA-8192"
  new_cert leaf-rsa16384      16384 int-big   ext_codesign        20250101000000Z 20351231235959Z "Bingate Integrity signer RSA-16384"

  # CRL by int-good: leaf-noeku-revoked revoked 2025-06-01.
  revoke_and_crl int-good leaf-noeku-revoked 250601000000Z keyCompromise 20250602000000Z 20351231235959Z

  # Chains handed to osslsigncode -certs / -TSA-certs (the root is never embedded).
  for r in expired serverauth pathlen0 good; do
    chain "int-$r" "leaf-$r"
  done
  chain int-good leaf-noeku-2021 leaf-noeku-revoked leaf-cs-2021
  chain int-big leaf-rsa8192 leaf-rsa16384
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
      cert_summary "$f" -serial -subject -startdate -enddate
    done
    crl_summary "$PKI/int-good.crl.pem"
    echo '```'
  } > "$PKI/README.md"
}

pki_once "$PKI" gen_pki write_pki_readme

###############################################################################
# Fixtures (always rebuilt)
###############################################################################
fresh_out "$OUT"

T_2021=1622505600      # 2021-06-01T00:00:00Z  inside the 2021 leaves' validity
T_2025=1735689600      # 2025-01-01T00:00:00Z  before leaf-noeku-revoked's revocation (2025-06-01)
T_2026=1768435200      # 2026-01-15T00:00:00Z  signingTime of the untimestamped current signatures
X64=pe/x64-default.exe

# sign OUT BASE LEAF TIME [extra osslsigncode args...]   LEAF-chain.pem + LEAF.key, SHA-256
sign() {
  ossl_sign "$1" "$2" "$PKI/$3" sha256 "$4" "${@:5}"
}

# rfc3161 IN OUT SIGNER CHAIN TIME DIGEST SERIAL
#   integrity_tool.py rfc3161-timestamp: a token by SIGNER.pem / SIGNER.key (SIGNER is a path
#   without extension) with CHAIN's certificates embedded
rfc3161() {
  $TOOL rfc3161-timestamp "$1" "$2" --cert "$3.pem" --chain "$4" --key "$3.key" --time "$5" \
    --digest "$6" --serial "$7"
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
for t in tsa-codesigning tsa tsa-noncritical; do
  cat "$PKI/$t.pem" "$PKI/root-good.pem" > "$TMP/$t-chain.pem"
done
sign "$TMP/noeku-2021.exe" $X64 leaf-noeku-2021 $T_2021
sign "$TMP/noeku-revoked.exe" $X64 leaf-noeku-revoked $T_2025
sign "$TMP/cs-2021.exe" $X64 leaf-cs-2021 $T_2021
# The no-EKU leaves time their own signatures (their own chain and key as the "TSA").
rfc3161 "$TMP/noeku-2021.exe" "$OUT/ts-by-noeku-leaf.exe" "$PKI/leaf-noeku-2021" \
  "$PKI/leaf-noeku-2021-chain.pem" 20210601000000Z sha256 101
rfc3161 "$TMP/noeku-revoked.exe" "$OUT/ts-by-noeku-leaf-revoked.exe" "$PKI/leaf-noeku-revoked" \
  "$PKI/leaf-noeku-revoked-chain.pem" 20250101000000Z sha256 102
rfc3161 "$TMP/cs-2021.exe" "$OUT/ts-by-codesigning-cert.exe" "$PKI/tsa-codesigning" \
  "$TMP/tsa-codesigning-chain.pem" 20210601000000Z sha256 103
rfc3161 "$TMP/cs-2021.exe" "$OUT/ts-by-tsa-noncritical-eku.exe" "$PKI/tsa-noncritical" \
  "$TMP/tsa-noncritical-chain.pem" 20210601000000Z sha256 104
rfc3161 "$TMP/cs-2021.exe" "$OUT/ts-by-tsa-built.exe" "$PKI/tsa" \
  "$TMP/tsa-chain.pem" 20210601000000Z sha256 105
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

gen_sha1_pki() {
  echo "build-integrity.sh: generating the SHA-1 TEST PKI in corpus/$SPKI/" >&2
  # lib.sh's helpers work in PKI; here that is SPKI, and no key comes from INTEGRITY_KEY_SEED.
  local PKI=$SPKI KEY_SEED=
  mkdir -p "$PKI"
  write_integrity_ca_conf
  new_ca_dir sha1-root 5000
  new_ca_dir sha1-int 5100
  # Every certificate with an explicit MD (sha256, or sha1 for a SHA-1-signed certificate).
  #        NAME          KEY  ISSUER    EXT              START           END             CN                                                        MD
  new_cert sha1-root     2048 self      ext_root         20100101000000Z 20451231235959Z "Bingate SHA-1 rules root"                                sha256
  new_cert sha1-int      2048 sha1-root ext_intermediate 20100101000000Z 20401231235959Z "Bingate SHA-1 rules code signing CA"                     sha256
  # Code-signing leaves (all under sha1-int).
  new_cert leaf-sha1cert 2048 sha1-int  ext_codesign     20140101000000Z 20351231235959Z "Bingate SHA-1 rules signer, certificate signed with SHA-1" sha1
  new_cert leaf-2017     2048 sha1-int  ext_codesign     20170101000000Z 20191231235959Z "Bingate SHA-1 rules signer 2017-2019"                    sha256
  new_cert leaf-2016     2048 sha1-int  ext_codesign     20160101000000Z 20191231235959Z "Bingate SHA-1 rules signer 2016-2019"                    sha256
  new_cert leaf-2025     2048 sha1-int  ext_codesign     20250101000000Z 20351231235959Z "Bingate SHA-1 rules signer 2025-2035"                    sha256
  # TSAs (EKU timeStamping, critical), issued by the root.
  new_cert tsa           2048 sha1-root ext_tsa          20100101000000Z 20401231235959Z "Bingate SHA-1 rules TSA"                                 sha256
  new_cert tsa-sha1cert  2048 sha1-root ext_tsa          20100101000000Z 20401231235959Z "Bingate SHA-1 rules TSA, certificate signed with SHA-1"  sha1
  chain sha1-int leaf-sha1cert leaf-2017 leaf-2016 leaf-2025
  chmod 0644 "$PKI"/*.key
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
      cert_summary "$f" -serial -subject -startdate -enddate
      openssl x509 -in "$f" -noout -text | sed -n 's/^    Signature Algorithm: /  signatureAlgorithm: /p'
    done
    echo '```'
  } > "$SPKI/README.md"
}

pki_once "$SPKI" gen_sha1_pki write_sha1_pki_readme

mkdir -p "$SOUT"
find "$SOUT" -maxdepth 1 -type f ! -name expected.json -delete

T_2015_06=1433116800   # 2015-06-01T00:00:00Z  before the SHA-1 code-signing cut-off (2016-01-01)
T_2016_06=1464739200   # 2016-06-01T00:00:00Z  after it, before the SHA-1 timestamp cut-off (2017-02-14)
T_2018_06=1527811200   # 2018-06-01T00:00:00Z  after both

# s1_sign OUT BASE LEAF TIME DIGEST [extra osslsigncode args...]   SPKI/LEAF-chain.pem + LEAF.key
s1_sign() {
  ossl_sign "$1" "$2" "$SPKI/$3" "$5" "$4" "${@:6}"
}
# s1_ts IN OUT TSA TIME DIGEST SERIAL   RFC 3161 token by SPKI/TSA (only its own certificate embedded)
s1_ts() {
  rfc3161 "$1" "$2" "$SPKI/$3" "$SPKI/$3.pem" "$4" "$5" "$6"
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
