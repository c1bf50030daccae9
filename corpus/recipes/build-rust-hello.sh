#!/usr/bin/env bash
# Rebuilds corpus/sign/rust-hello.exe: a Rust program built for Windows with the GNU toolchain,
# the kind of input `bingate sign pe` is tested on (tests/sign_pe.rs). Needs rustup's
# x86_64-pc-windows-gnu target and Debian's gcc-mingw-w64-x86-64 (the linker). Not
# byte-reproducible across toolchains: rustc 1.95.0 and mingw-w64 gcc 12 made the committed file.
#   rustup target add x86_64-pc-windows-gnu
#   apt-get install gcc-mingw-w64-x86-64
set -euo pipefail
cd "$(dirname "$0")/rust-hello"
target="$(mktemp -d)"
trap 'rm -rf "$target"' EXIT
CARGO_TARGET_DIR="$target" cargo build --release --target x86_64-pc-windows-gnu
cp "$target/x86_64-pc-windows-gnu/release/rust-hello.exe" ../../sign/rust-hello.exe
