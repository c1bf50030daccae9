# Shell helpers shared by the Authenticode recipes (sign.sh, build-integrity.sh). Sourced, not
# run, right after `set -euo pipefail`: it exports LC_ALL=C TZ=UTC, sets CORPUS and changes into
# it, and makes the scratch directory TMP (removed on exit), where the `openssl ca` state
# directories (one per issuing CA, named after it), CSRs and logs live.
#
# The sourcing script then sets:
#   ME        its name, for messages
#   PKI       the directory of its test PKI: NAME.key, NAME.pem, NAME-chain.pem, CA.crl.pem
#   PKI_ORG   the O= of every subject it issues
#   KEY_SEED  optional: a directory from which rsa_key takes NAME.key instead of generating it
#   DESC      osslsigncode's -n/-i arguments (an array), for ossl_sign
export LC_ALL=C TZ=UTC

CORPUS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$CORPUS"
KEY_SEED=

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# need TOOL...   exit unless every TOOL is on PATH
need() {
  local t
  for t; do
    command -v "$t" >/dev/null 2>&1 || { echo "$ME: missing tool $t" >&2; exit 1; }
  done
}

###############################################################################
# Test PKI
###############################################################################
# write_ca_conf < SECTIONS   $TMP/ca.cnf: the `openssl ca` configuration below (CADIR selects the
# CA state dir), followed by the caller's own extension sections read from stdin.
write_ca_conf() {
  cat > "$TMP/ca.cnf" <<'EOF'
# Minimal `openssl ca` configuration for a bingate TEST PKI. CADIR selects the CA state dir.
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

[ crl_ext ]
authorityKeyIdentifier = keyid:always

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

[ ext_tsa ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = critical, timeStamping
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

EOF
  cat >> "$TMP/ca.cnf"
}

# new_ca_dir NAME FIRST-SERIAL   the `openssl ca` state dir of the CA whose key is PKI/NAME.key
new_ca_dir() {
  mkdir -p "$TMP/$1/newcerts"
  : > "$TMP/$1/index.txt"
  echo "$2" > "$TMP/$1/serial"
  echo 01 > "$TMP/$1/crlnumber"
}

# rsa_key NAME BITS   PKI/NAME.key; taken from KEY_SEED/NAME.key when that exists
rsa_key() {
  if [ -n "$KEY_SEED" ] && [ -f "$KEY_SEED/$1.key" ]; then
    openssl pkey -in "$KEY_SEED/$1.key" -out "$PKI/$1.key"
    [ "$(openssl rsa -in "$PKI/$1.key" -noout -text 2>/dev/null | sed -n 's/.*Private-Key: (\([0-9]*\) bit.*/\1/p')" = "$2" ] \
      || { echo "$ME: seeded $1.key is not RSA-$2" >&2; exit 1; }
  else
    openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$PKI/$1.key"
  fi
}

# new_cert NAME KEY ISSUER|self EXT START END CN [MD]
#   A new key PKI/NAME.key (KEY: RSA bits, or P-256) and PKI/NAME.pem for "/CN=CN/O=PKI_ORG",
#   issued by PKI/ISSUER (from its state dir) or self-signed (state dir NAME), with the extension
#   section EXT, validity START..END (YYYYMMDDHHMMSSZ). MD (sha256, or sha1 for a SHA-1-signed
#   certificate) is passed as -md and the certificate's signature algorithm checked; without it
#   the configuration's default_md (sha256) applies.
new_cert() {
  local name=$1 key=$2 issuer=$3 ext=$4 start=$5 end=$6 cn=$7 md=${8:-}
  if [ "$key" = P-256 ]; then
    openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
      -pkeyopt ec_param_enc:named_curve -out "$PKI/$name.key"
  else
    rsa_key "$name" "$key"
  fi
  CADIR="$TMP" openssl req -config "$TMP/ca.cnf" -new -key "$PKI/$name.key" \
    -subj "/CN=$cn/O=$PKI_ORG" -out "$TMP/$name.csr"
  local signer=(-cert "$PKI/$issuer.pem" -keyfile "$PKI/$issuer.key") mdopt=()
  if [ "$issuer" = self ]; then
    signer=(-selfsign -keyfile "$PKI/$name.key"); issuer=$name
  fi
  if [ -n "$md" ]; then mdopt=(-md "$md"); fi
  CADIR="$TMP/$issuer" openssl ca -config "$TMP/ca.cnf" -batch -notext -preserveDN \
    "${signer[@]}" "${mdopt[@]}" -extensions "$ext" -startdate "$start" -enddate "$end" \
    -in "$TMP/$name.csr" -out "$PKI/$name.pem" 2>"$TMP/ca.log" \
    || { cat "$TMP/ca.log" >&2; exit 1; }
  if [ -n "$md" ]; then
    # The signature algorithm must be the one asked for (OpenSSL 3 signs with SHA-1 when told to).
    local want=sha256WithRSAEncryption
    [ "$md" = sha1 ] && want=sha1WithRSAEncryption
    [ "$(openssl x509 -in "$PKI/$name.pem" -noout -text | sed -n 's/^ *Signature Algorithm: //p' | sort -u)" = "$want" ] \
      || { echo "$ME: $name.pem is not signed with $want" >&2; exit 1; }
  fi
}

# revoke_and_crl CA NAME WHEN REASON THIS-UPDATE NEXT-UPDATE
#   Marks PKI/NAME.pem revoked at WHEN (YYMMDDHHMMSSZ) for REASON in CA's database (edited
#   directly: `openssl ca -revoke` would stamp the current time) and writes PKI/CA.crl.pem.
revoke_and_crl() {
  local ca=$1 serial
  serial=$(openssl x509 -in "$PKI/$2.pem" -noout -serial | cut -d= -f2)
  awk -F'\t' -v OFS='\t' -v s="$serial" -v r="$3,$4" \
    '$4==s { $1="R"; $3=r } { print }' \
    "$TMP/$ca/index.txt" > "$TMP/index.new"
  mv "$TMP/index.new" "$TMP/$ca/index.txt"
  CADIR="$TMP/$ca" openssl ca -config "$TMP/ca.cnf" -batch -gencrl \
    -cert "$PKI/$ca.pem" -keyfile "$PKI/$ca.key" \
    -crl_lastupdate "$5" -crl_nextupdate "$6" \
    -out "$PKI/$ca.crl.pem" 2>"$TMP/ca.log" || { cat "$TMP/ca.log" >&2; exit 1; }
}

# chain ISSUER NAME...   PKI/NAME-chain.pem = PKI/NAME.pem + PKI/ISSUER.pem, for each NAME
chain() {
  local issuer=$1 n; shift
  for n; do
    cat "$PKI/$n.pem" "$PKI/$issuer.pem" > "$PKI/$n-chain.pem"
  done
}

# cert_summary PEM X509-OPTIONS...   for a PKI README: PEM's file name, then, indented, the
#   fields `openssl x509 -noout X509-OPTIONS...` prints and the SHA-256 fingerprint (RFC 2253 names)
cert_summary() {
  local pem=$1; shift
  echo "$(basename "$pem")"
  openssl x509 -in "$pem" -noout "$@" -fingerprint -sha256 -nameopt RFC2253 | sed 's/^/  /'
}

# crl_summary CRL   the same for a CRL: its update times and SHA-256 fingerprint
crl_summary() {
  echo "$(basename "$1")"
  openssl crl -in "$1" -noout -lastupdate -nextupdate -fingerprint -sha256 | sed 's/^/  /'
}

# pki_once DIR GEN WRITE-README   run GEN when DIR is absent, then WRITE-README when
#   DIR/README.md is (a committed PKI is reused as it is)
pki_once() {
  if [ ! -d "$1" ]; then "$2"; fi
  [ -f "$1/README.md" ] || "$3"
}

# fresh_out DIR   create DIR and remove its files but the hand-maintained expected.json and
#   README.md (fixtures are always rebuilt)
fresh_out() {
  mkdir -p "$1"
  find "$1" -maxdepth 1 -type f ! -name expected.json ! -name README.md -delete
}

###############################################################################
# Signing
###############################################################################
# ossl_sign OUT BASE SIGNER DIGEST TIME [extra osslsigncode args...]
#   osslsigncode sign of BASE into OUT with file digest DIGEST and signingTime TIME (unix).
#   SIGNER is a path without extension: SIGNER-chain.pem (signer + intermediate) is embedded
#   when present, else SIGNER.pem; SIGNER.key signs.
ossl_sign() {
  local out=$1 base=$2 signer=$3 md=$4 t=$5; shift 5
  local certs="$signer-chain.pem"
  [ -f "$certs" ] || certs="$signer.pem"
  osslsigncode sign -certs "$certs" -key "$signer.key" -h "$md" "${DESC[@]}" -time "$t" \
    "$@" -in "$base" -out "$out" > "$TMP/sign.log" 2>&1 \
    || { cat "$TMP/sign.log" >&2; exit 1; }
}
