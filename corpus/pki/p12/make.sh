#!/bin/sh
# Regenerates the PKCS#12 fixtures of bingate's tests (tests/pkcs12.rs, src/sign/pkcs12.rs) from
# the test PKI one directory up. TEST KEYS ONLY (see ../README.md). Needs OpenSSL 3 (its legacy
# provider for the -legacy, 3DES and RC2 files). Salts and IVs are random: every run writes
# different bytes with the same contents. Passwords are fixed here: "test" unless said otherwise.
set -eu
cd "$(dirname "$0")"
PKI=..
P=pass:test

# OpenSSL 3 default: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for key and certificates, SHA-256 MAC.
openssl pkcs12 -export -inkey $PKI/leaf-rsa.key -in $PKI/leaf-rsa.pem -passout $P \
    -out rsa-aes256.p12
# `-legacy`: certificates RC2-40, key 3DES (PKCS#12 KDF), SHA-1 MAC.
openssl pkcs12 -export -legacy -inkey $PKI/leaf-rsa.key -in $PKI/leaf-rsa.pem -passout $P \
    -out rsa-legacy.p12
# What Windows' certificate export writes: 3DES everywhere, SHA-1 MAC.
openssl pkcs12 -export -legacy -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1 \
    -inkey $PKI/leaf-rsa.key -in $PKI/leaf-rsa.pem -passout $P -out rsa-windows.p12
# RC2-128 certificates (older Windows/Java exports).
openssl pkcs12 -export -legacy -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-RC2-128 -macalg sha1 \
    -inkey $PKI/leaf-rsa.key -in $PKI/leaf-rsa.pem -passout $P -out rsa-rc2-128.p12
# EC keys, default encryption.
openssl pkcs12 -export -inkey $PKI/leaf-ecdsa.key -in $PKI/leaf-ecdsa.pem -passout $P \
    -out ecdsa-p256.p12
openssl pkcs12 -export -legacy -inkey $PKI/leaf-ecdsa384.key -in $PKI/leaf-ecdsa384.pem \
    -passout $P -out ecdsa-p384-legacy.p12
# With the chain, root first in the file (so that file order is not issuer order).
cat $PKI/root.pem $PKI/intermediate.pem > chain.tmp
openssl pkcs12 -export -inkey $PKI/leaf-rsa.key -in $PKI/leaf-rsa.pem -certfile chain.tmp \
    -passout $P -out rsa-chain.p12
rm -f chain.tmp
# No MAC: OpenSSL then also leaves the certificates unencrypted (a plain `data` ContentInfo).
openssl pkcs12 -export -nomac -inkey $PKI/leaf-rsa.key -in $PKI/leaf-rsa.pem -passout $P \
    -out rsa-nomac.p12
# Empty password.
openssl pkcs12 -export -inkey $PKI/leaf-rsa.key -in $PKI/leaf-rsa.pem -passout pass: \
    -out rsa-empty-password.p12
# Certificates only, no key.
openssl pkcs12 -export -nokeys -in $PKI/leaf-rsa.pem -passout $P -out cert-only.p12
# 10,000,001 iterations (MAC and PBKDF2): one over bingate's budget (MAX_PKCS12_ITERATIONS).
# Takes OpenSSL several seconds.
openssl pkcs12 -export -iter 10000001 -inkey $PKI/leaf-rsa.key -in $PKI/leaf-rsa.pem \
    -passout $P -out rsa-over-budget.p12
# PBES2 with PBKDF2-HMAC-SHA1 (what OpenSSL 1.1 wrote with `-keypbe AES-256-CBC`): OpenSSL 3's
# pkcs12 cannot choose the PRF, so this is the key alone, as a PKCS#8 EncryptedPrivateKeyInfo,
# for the module's unit test of the PBES2 path.
openssl pkcs8 -topk8 -v2 aes-128-cbc -v2prf hmacWithSHA1 -in $PKI/leaf-rsa.key -passout $P \
    -outform DER -out rsa-pbes2-sha1.p8
