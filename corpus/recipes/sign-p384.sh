#!/usr/bin/env bash
# ECDSA P-384 / SHA-384 Authenticode fixture (added after sign.sh; same test PKI):
#   corpus/pki/leaf-ecdsa384.{key,pem}  leaf issued by the test intermediate (codeSigning EKU)
#   corpus/signed/valid-ecdsa-p384.exe  x64-default.exe signed with -h sha384, no timestamp
# The key and certificate are created only when absent (committed ones are reused).
set -euo pipefail
C="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
P="$C/pki"; T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
if [ ! -f "$P/leaf-ecdsa384.pem" ]; then
  openssl ecparam -name secp384r1 -genkey -noout -out "$P/leaf-ecdsa384.key"
  openssl req -new -key "$P/leaf-ecdsa384.key" -subj "/O=Bingate Test PKI (NOT TRUSTED)/CN=Bingate Test signer ECDSA P-384" -out "$T/csr"
  printf "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n" > "$T/ext"
  openssl x509 -req -in "$T/csr" -CA "$P/intermediate.pem" -CAkey "$P/intermediate.key" -set_serial 0x3840 \
    -days 3650 -sha384 -extfile "$T/ext" -out "$P/leaf-ecdsa384.pem"
fi
cat "$P/leaf-ecdsa384.pem" "$P/intermediate.pem" > "$T/chain.pem"
osslsigncode sign -certs "$T/chain.pem" -key "$P/leaf-ecdsa384.key" -h sha384 -n "bingate test" \
  -i https://example.invalid/ -in "$C/pe/x64-default.exe" -out "$C/signed/valid-ecdsa-p384.exe" >/dev/null
echo "sign-p384: ok signed/valid-ecdsa-p384.exe"
