#!/usr/bin/env bash
# Fetches the public corpus of scripts/peer-agreement.py: Windows wheels from PyPI that
# vendor Microsoft-signed (and other vendors') DLLs and EXEs, at pinned versions, each
# wheel checked against the SHA-256 below, and extracts the PE files they contain.
#
#   scripts/fetch-peer-corpus.sh [DIR]        DIR defaults to /tmp/bingate-peer-corpus
#
#   DIR/wheels/<wheel file>                   the downloaded wheels (~370 MB)
#   DIR/pe/<wheel name>/<path in the wheel>   every member that is a PE file (MZ + PE\0\0),
#                                             ~1,000 files, ~850 MB
#
# Downloads go through pip (`pip download --no-deps --only-binary=:all: --platform win_amd64
# --python-version 3.12 --require-hashes`), so pip itself refuses a wheel whose hash differs;
# the hash is checked once more with sha256sum. Idempotent: a wheel already present with the
# right hash is not fetched again, and a wheel already extracted (DIR/pe/<name>/.extracted holds
# its hash) is not extracted again. Exits non-zero on any download or hash failure.
# Needs python3 (zipfile) and pip; nothing from this repository is built.
#
# Why these wheels:
#   PyQt5-Qt5 5.15.2        Qt 5.15.2 plus the VC++ 2019 runtime (vcruntime140, msvcp140*, concrt140)
#                           dual-signed SHA-1 + SHA-256 in 2020, the SHA-1 signature timestamped through
#                           "Microsoft Root Certificate Authority" (2001); the known problem files
#   dotnetcore2 3.1.23      the .NET Core 3.1 runtime: ~220 Microsoft-signed DLLs and EXEs (native and
#                           managed, api-ms-win-* forwarders; 42 of them dual-signed SHA-1 + SHA-256 in 2017-18)
#   msvc-runtime            the current VC++ 2022 runtime, two SHA-256 signatures
#   PySide6-Essentials, shiboken6
#                           Qt 6 DLLs and tools signed by The Qt Company
#   PyQt6-Qt6               the same, plus its vendored VC++ runtime and d3dcompiler_47.dll (Microsoft)
#   onnxruntime, onnxruntime-directml
#                           Microsoft-signed onnxruntime*.dll, DirectML.dll
#   mssql-python            a Microsoft-signed extension module and a vendored msvcp140.dll
#   debugpy                 attach helpers signed "Microsoft 3rd Party Application Component"
#   pywinpty                winpty (unsigned) and Microsoft's conpty.dll / OpenConsole.exe
#   playwright              node.exe signed by the OpenJS Foundation
#   numpy, pyarrow          a vendored msvcp140 copy among unsigned extension modules
#   pywin32, pythonnet, clr-loader, winrt-runtime
#                           unsigned extension modules and .NET assemblies (the "unsigned" side)
set -euo pipefail

DIR="${1:-/tmp/bingate-peer-corpus}"
PY=(--platform win_amd64 --python-version 3.12)

# name==version  wheel file  sha256
WHEELS="
PyQt5-Qt5==5.15.2 PyQt5_Qt5-5.15.2-py3-none-win_amd64.whl 750b78e4dba6bdf1607febedc08738e318ea09e9b10aea9ff0d73073f11f6962
dotnetcore2==3.1.23 dotnetcore2-3.1.23-py3-none-win_amd64.whl e2528813677d7a080522336cb530442408d1e2aea76fa8657018fb532c03c252
msvc-runtime==14.51.36231 msvc_runtime-14.51.36231-cp312-cp312-win_amd64.whl 89f70d1a37bb64164cdb09d02dd82d6b1400e1310be2995b4ed5a9f23efe2222
PySide6-Essentials==6.12.0 pyside6_essentials-6.12.0-cp310-abi3-win_amd64.whl c9a95102aa23c1f86516a30d5a9be37552d324eee7e567eb7508973f1218cb42
shiboken6==6.12.0 shiboken6-6.12.0-cp310-abi3-win_amd64.whl a1906cb8116869178c64b6bab52623bbc8b4ceed7b30bfc3c9aa0f6e67f6438e
PyQt6-Qt6==6.11.2 pyqt6_qt6-6.11.2-py3-none-win_amd64.whl 4b424ed1babbef07133eb2a4174c56c848d518767bca8e759aca2c8c9c313636
onnxruntime==1.31.1 onnxruntime-1.31.1-cp312-cp312-win_amd64.whl ae8a9a351efda685cc59a66226cdefaa37a126c1d66872ca23a2de9425326130
onnxruntime-directml==1.24.4 onnxruntime_directml-1.24.4-cp312-cp312-win_amd64.whl f2ecb68b7b7b259d2ef3112ae760149f9b5a1e7c0fbb73d539da6250a648a614
mssql-python==1.16.0 mssql_python-1.16.0-cp312-cp312-win_amd64.whl cac56009aeea9ca6edfa9b37cacb05e4ce8b44feddba90483387ed46daff14fa
debugpy==1.8.22 debugpy-1.8.22-cp312-cp312-win_amd64.whl 371a4ba4a5975eb958393903f3254cf983da7b1c7c178b3f987ee427f42515e3
pywinpty==3.1.2 pywinpty-3.1.2-cp312-cp312-win_amd64.whl 220e30a8cccd7f0be3356d4e3e56fdcda2ae45edc1de526b440c4031fe9308da
playwright==1.65.2 playwright-1.65.2-py3-none-win_amd64.whl d0aec9e1c97b6f497f3d9f2ad6e1b7f299968e61239d71f100298b0690f3c776
numpy==2.5.5 numpy-2.5.5-cp312-cp312-win_amd64.whl 919eb420662b0b4ba34889df503f3d5329775b0c1d5f7e5f5af4fba8315b1e30
pyarrow==26.0.1 pyarrow-26.0.1-cp312-cp312-win_amd64.whl 9379f0d1056cad6866c4697aec83a15830202ec7e0bd52f8bd508b316260fa61
pywin32==312 pywin32-312-cp312-cp312-win_amd64.whl b457f6d628a47e8a7346ce22acb7e1a46a4a78b52e1d17e1af56871bd19a93bc
pythonnet==3.2.1 pythonnet-3.2.1-cp311.cp312.cp313.cp314.cp315-none-any.whl dd5668b74b0c903d9a24e1ba86f728fc490f8e919d56b3c24bf06739b9ee2b7f
clr-loader==0.3.1 clr_loader-0.3.1-py3-none-any.whl cbad189de20d202a7d621956b0fc38049e13c9bf7ca2923441eff725cd121aa1
winrt-runtime==4.1.0 winrt_runtime-4.1.0-cp312-cp312-win_amd64.whl 01571f68755750d17518009c00ba21c799b4eddac805bf38cb869da08d38a73f
"

mkdir -p "$DIR/wheels" "$DIR/pe"
fetched=0 kept=0
while read -r req file sha; do
  [ -n "$req" ] || continue
  whl="$DIR/wheels/$file"
  if [ -f "$whl" ] && [ "$(sha256sum "$whl" | cut -d' ' -f1)" = "$sha" ]; then
    kept=$((kept + 1))
  else
    rm -f "$whl"
    reqfile="$(mktemp)"
    printf '%s --hash=sha256:%s\n' "$req" "$sha" >"$reqfile"
    echo "fetching $req" >&2
    if ! pip download --quiet --no-deps --only-binary=:all: "${PY[@]}" --require-hashes \
        -r "$reqfile" -d "$DIR/wheels"; then
      rm -f "$reqfile"
      echo "error: pip download $req failed" >&2
      exit 1
    fi
    rm -f "$reqfile"
    if [ ! -f "$whl" ]; then
      echo "error: pip download $req did not produce $file" >&2
      exit 1
    fi
    got="$(sha256sum "$whl" | cut -d' ' -f1)"
    if [ "$got" != "$sha" ]; then
      echo "error: $file has sha256 $got, expected $sha" >&2
      rm -f "$whl"
      exit 1
    fi
    fetched=$((fetched + 1))
  fi

  name="${file%.whl}"
  out="$DIR/pe/$name"
  if [ -f "$out/.extracted" ] && [ "$(cat "$out/.extracted")" = "$sha" ]; then
    continue
  fi
  rm -rf "$out" "$out.tmp"
  python3 - "$whl" "$out.tmp" <<'EOF'
import os, shutil, struct, sys, zipfile

wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if info.is_dir():
            continue
        name = info.filename
        parts = [p for p in name.split("/") if p not in ("", ".", "..")]
        if not parts or name.startswith("/") or ".." in name.split("/"):
            continue
        with z.open(info) as f:
            head = f.read(64)
            if len(head) < 64 or head[:2] != b"MZ":
                continue
            (lfanew,) = struct.unpack_from("<I", head, 0x3C)
        if lfanew + 4 > info.file_size:
            continue
        with z.open(info) as f:
            data = f.read()
        if data[lfanew:lfanew + 4] != b"PE\0\0":
            continue
        path = os.path.join(dest, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            out.write(data)
EOF
  mkdir -p "$out.tmp"
  printf '%s\n' "$sha" >"$out.tmp/.extracted"
  mv "$out.tmp" "$out"
done <<<"$WHEELS"

files=$(find "$DIR/pe" -type f ! -name .extracted | wc -l)
bytes=$(find "$DIR/pe" -type f ! -name .extracted -printf '%s\n' | awk '{s+=$1} END {print s+0}')
echo "wheels: $((fetched + kept)) ($fetched fetched, $kept already present); PE files: $files ($((bytes / 1048576)) MiB) in $DIR/pe" >&2
