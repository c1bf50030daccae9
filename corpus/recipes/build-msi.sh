#!/usr/bin/env bash
# MSI and CAB fixtures for bingate (issue 18): corpus/msi/*, built offline from PEs in corpus/pe/
# with msitools (`wixl`), `gcab` and osslsigncode, signed with the committed TEST PKI
# (corpus/pki/, made by sign.sh).
#
# Tools this was produced with (Debian): wixl/msiinfo 0.101 (msitools), gcab 1.6, osslsigncode 2.9.
#
# Determinism: the CAB files are byte-identical on a rebuild (gcab takes each file's time from
# its mtime, set below, and osslsigncode signs RSA with a fixed -time). wixl is not: it writes a
# fresh package code (a random UUID) and the build time into the summary information stream,
# so a rebuilt MSI differs in those bytes; the committed ones are what the tests check.
#
# The tampered and re-ordered MSIs and the tampered CAB are made by tests/msi_cab.rs from the
# committed files (it finds the bytes to flip by reading the structures).
#
# Usage: bash corpus/recipes/build-msi.sh
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # C locale, UTC, cd corpus/, $TMP, ossl_sign

ME=build-msi.sh
OUT=msi
DESC=(-n "bingate test" -i "https://example.invalid/")
T=1768435200   # 2026-01-15T00:00:00Z, the signing time of every fixture

need wixl gcab osslsigncode msiinfo
mkdir -p "$OUT"

# The payload: a custom-action DLL for the Binary table, and an installed PE plus a text file.
cp pe/x64.dll "$TMP/ca.dll"
cp pe/x64-default.exe "$TMP/app.exe"
printf 'bingate test readme\n' > "$TMP/readme.txt"
touch -d @$T "$TMP/ca.dll" "$TMP/app.exe" "$TMP/readme.txt"

cat > "$TMP/fixture.wxs" <<'WXS'
<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="12345678-1234-1234-1234-123456789012" Name="bingate test" Language="1033"
           Version="1.0.0" Manufacturer="bingate" UpgradeCode="87654321-4321-4321-4321-210987654321">
    <Package InstallerVersion="200" Compressed="yes" Comments="bingate test fixture"/>
    <Media Id="1" Cabinet="cab1.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFilesFolder">
        <Directory Id="INSTALLDIR" Name="bingate-test">
          <Component Id="Main" Guid="11111111-2222-3333-4444-555555555555">
            <File Id="AppExe" Name="app.exe" Source="app.exe" KeyPath="yes"/>
            <File Id="Readme" Name="readme.txt" Source="readme.txt"/>
          </Component>
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Complete" Level="1"><ComponentRef Id="Main"/></Feature>
    <Binary Id="CustomActionDll" SourceFile="ca.dll"/>
    <CustomAction Id="CA1" BinaryKey="CustomActionDll" DllEntry="Entry" Execute="immediate"/>
    <InstallExecuteSequence><Custom Action="CA1" After="InstallFiles"/></InstallExecuteSequence>
  </Product>
</Wix>
WXS

# unsigned.msi: streams Binary.CustomActionDll (x64.dll), cab1.cab (MSZIP: AppExe, Readme), the
# tables and \x05SummaryInformation.
(cd "$TMP" && SOURCE_DATE_EPOCH=$T wixl -o unsigned.msi fixture.wxs)
cp "$TMP/unsigned.msi" "$OUT/unsigned.msi"

# signed.msi: \x05DigitalSignature only. signed-dse.msi: also \x05MsiDigitalSignatureEx (the
# metadata pre-hash).
ossl_sign "$OUT/signed.msi" "$OUT/unsigned.msi" pki/leaf-rsa sha256 $T
ossl_sign "$OUT/signed-dse.msi" "$OUT/unsigned.msi" pki/leaf-rsa sha256 $T -add-msi-dse

# unsigned.cab: gcab, MSZIP, with a PE and a text file. signed.cab: osslsigncode adds the
# reserved header (20 bytes: signature offset and size) and appends the signature.
(cd "$TMP" && gcab -c -z -n unsigned.cab app.exe readme.txt)
cp "$TMP/unsigned.cab" "$OUT/unsigned.cab"
ossl_sign "$OUT/signed.cab" "$OUT/unsigned.cab" pki/leaf-rsa sha256 $T

# What osslsigncode says about each (recorded in corpus/README.md).
for f in "$OUT"/*.msi "$OUT"/*.cab; do
  if osslsigncode verify -CAfile pki/root.pem -in "$f" > "$TMP/v.log" 2>&1; then
    echo "$f: osslsigncode verify: ok"
  else
    echo "$f: osslsigncode verify: failed ($(grep -m1 -E 'No signature|failed|MISMATCH' "$TMP/v.log" || true))"
  fi
done
