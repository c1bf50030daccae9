#!/usr/bin/env bash
# Container fixtures for bingate: archives and packages holding the corpus's own binaries,
# built with the real tools users' files come from. Re-runnable, offline and deterministic
# (fixed mtimes, sorted names, no owner names, gzip -n).
#
# Tools (Debian 12 "bookworm"): zip 3.0, GNU tar 1.34, gzip, xz-utils, zstd, bzip2,
# dpkg-deb (dpkg 1.21), rpmbuild (rpm 4.18), python3 (zipfile, for names zip(1) refuses).
#   apt-get install -y zip xz-utils zstd bzip2 dpkg-dev rpm python3
#
# Outputs (corpus/containers/; what each must hold: corpus/containers/expected.json):
#   wheel.whl          zip: pkg/_native.pyd (pe/x64.dll), pkg/_speedups.so (elf/canary),
#                      pkg/__init__.py, pkg-1.0.dist-info/{METADATA,RECORD,RECORD.jws}
#   nested.zip         zip: inner.tar.gz (tar.gz: bin/app.exe = signed/valid-rsa.exe,
#                      bin/helper.exe = pe/x64-default.exe), readme.txt
#   addon.tgz          npm pack layout: package/package.json,
#                      package/build/Release/addon.node (elf/fortify)
#   bins.tar.xz        tar.xz: x86.dll (pe/x86.dll), notes.txt
#   bins.tar.zst       tar.zst: same members as bins.tar.xz
#   bins.tar.bz2       tar.bz2: same members as bins.tar.xz
#   text.tar.gz        tar.gz with text only (no binaries)
#   app.exe.gz         gzip -n of pe/x64-gui.exe (one compressed file, no tar)
#   tool.deb           dpkg-deb -Zxz: usr/bin/tool (elf/fortify), DEBIAN/control
#   tool.rpm           rpmbuild -bb: /usr/bin/tool (elf/canary), payload cpio.xz
#   unsafe-names.zip   python3 zipfile: ../escape.dll, /abs/evil.dll, ok/fine.dll (pe/x64.dll
#                      each) and C:/drive.txt
set -euo pipefail
export LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH=1767225600
ME=build-containers.sh
CORPUS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$CORPUS/containers"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
for t in zip tar gzip xz zstd bzip2 dpkg-deb rpmbuild python3; do
  command -v "$t" >/dev/null 2>&1 || { echo "$ME: missing tool $t" >&2; exit 1; }
done
mkdir -p "$OUT"
STAMP=202601010000

# tree DIR: fixed times on everything under DIR.
fix_times() { find "$1" -exec touch -h -t "$STAMP" {} +; }
# tarball OUT DIR COMPRESSOR... : a reproducible tar of DIR's contents piped through COMPRESSOR.
tarball() {
  local out="$1" dir="$2"; shift 2
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@"$SOURCE_DATE_EPOCH" \
    --format=gnu -C "$dir" -cf - . | "$@" > "$out"
}

# wheel.whl
W="$TMP/wheel"; mkdir -p "$W/pkg" "$W/pkg-1.0.dist-info"
cp "$CORPUS/pe/x64.dll" "$W/pkg/_native.pyd"
cp "$CORPUS/elf/canary" "$W/pkg/_speedups.so"
echo '"""A fixture package."""' > "$W/pkg/__init__.py"
printf 'Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n' > "$W/pkg-1.0.dist-info/METADATA"
printf 'pkg/__init__.py,,\npkg/_native.pyd,,\npkg/_speedups.so,,\n' > "$W/pkg-1.0.dist-info/RECORD"
echo 'not-a-real-jws' > "$W/pkg-1.0.dist-info/RECORD.jws"
fix_times "$W"
rm -f "$OUT/wheel.whl"
(cd "$W" && zip -q -X -D -r "$OUT/wheel.whl" pkg pkg-1.0.dist-info)

# nested.zip (a tar.gz inside a zip)
N="$TMP/nested"; mkdir -p "$N/bin" "$TMP/nested-zip"
cp "$CORPUS/signed/valid-rsa.exe" "$N/bin/app.exe"
cp "$CORPUS/pe/x64-default.exe" "$N/bin/helper.exe"
fix_times "$N"
tarball "$TMP/nested-zip/inner.tar.gz" "$N" gzip -n -9
echo 'fixture' > "$TMP/nested-zip/readme.txt"
fix_times "$TMP/nested-zip"
rm -f "$OUT/nested.zip"
(cd "$TMP/nested-zip" && zip -q -X -D "$OUT/nested.zip" inner.tar.gz readme.txt)

# addon.tgz (npm pack's layout: everything under package/)
A="$TMP/addon"; mkdir -p "$A/package/build/Release"
printf '{"name":"addon","version":"1.0.0"}\n' > "$A/package/package.json"
cp "$CORPUS/elf/fortify" "$A/package/build/Release/addon.node"
fix_times "$A"
tarball "$OUT/addon.tgz" "$A" gzip -n -9

# bins.tar.{xz,zst,bz2}
B="$TMP/bins"; mkdir -p "$B"
cp "$CORPUS/pe/x86.dll" "$B/x86.dll"
echo 'notes' > "$B/notes.txt"
fix_times "$B"
tarball "$OUT/bins.tar.xz" "$B" xz -9 -T1
tarball "$OUT/bins.tar.zst" "$B" zstd -q -19 --no-progress
tarball "$OUT/bins.tar.bz2" "$B" bzip2 -9

# text.tar.gz (no binaries)
T="$TMP/text"; mkdir -p "$T/src"
printf 'int main(void) { return 0; }\n' > "$T/src/main.c"
printf 'all:\n\tcc src/main.c\n' > "$T/Makefile"
fix_times "$T"
tarball "$OUT/text.tar.gz" "$T" gzip -n -9

# app.exe.gz
gzip -n -9 -c "$CORPUS/pe/x64-gui.exe" > "$OUT/app.exe.gz"

# tool.deb
D="$TMP/deb"; mkdir -p "$D/DEBIAN" "$D/usr/bin"
cp "$CORPUS/elf/fortify" "$D/usr/bin/tool"
printf 'Package: tool\nVersion: 1.0\nArchitecture: amd64\nMaintainer: bingate fixtures <fixtures@example.invalid>\nDescription: a fixture\n' > "$D/DEBIAN/control"
fix_times "$D"
dpkg-deb --root-owner-group -Zxz --build "$D" "$OUT/tool.deb" >/dev/null

# tool.rpm
R="$TMP/rpm"; mkdir -p "$R/SPECS" "$R/SOURCES"
cp "$CORPUS/elf/canary" "$R/SOURCES/tool"
cat > "$R/SPECS/tool.spec" <<'SPEC'
Name: tool
Version: 1.0
Release: 1
Summary: a fixture
License: MIT
BuildArch: x86_64
%description
A fixture.
%install
mkdir -p %{buildroot}/usr/bin
install -m 0755 %{_sourcedir}/tool %{buildroot}/usr/bin/tool
%files
/usr/bin/tool
SPEC
rpmbuild -bb --quiet --define "_topdir $R" --define '_binary_payload w9.xzdio' \
  --define '__strip /bin/true' --define '__os_install_post %{nil}' \
  --define 'debug_package %{nil}' --define 'use_source_date_epoch_as_buildtime 1' \
  --define 'clamp_mtime_to_source_date_epoch 1' --define '_buildhost fixtures' \
  "$R/SPECS/tool.spec" 2>/dev/null
cp "$R"/RPMS/x86_64/tool-1.0-1.x86_64.rpm "$OUT/tool.rpm"

# unsafe-names.zip
python3 - "$CORPUS/pe/x64.dll" "$OUT/unsafe-names.zip" <<'PY'
import sys, zipfile
dll = open(sys.argv[1], "rb").read()
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    for name in ["../escape.dll", "/abs/evil.dll", "ok/fine.dll"]:
        info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, dll)
    info = zipfile.ZipInfo("C:/drive.txt", date_time=(2026, 1, 1, 0, 0, 0))
    z.writestr(info, b"text")
PY
echo "$ME: wrote $(ls "$OUT" | wc -l) files to $OUT"
