//! Where things are: the repository root (the working directory of every test and of every
//! `bingate` run), the committed corpus, the test PKI, and temporary directories.

use std::path::{Path, PathBuf};

/// The repository root (`CARGO_MANIFEST_DIR`).
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// [`ROOT`] as a path.
pub fn root() -> &'static Path {
    Path::new(ROOT)
}

/// `rel` below the repository root (an absolute `rel` stays as it is).
pub fn repo(rel: impl AsRef<Path>) -> PathBuf {
    root().join(rel)
}

/// The `corpus/` directory.
pub fn corpus_dir() -> PathBuf {
    repo("corpus")
}

/// `corpus/<rel>`.
pub fn corpus(rel: impl AsRef<Path>) -> PathBuf {
    corpus_dir().join(rel)
}

/// `corpus/pki/<name>`: the test PKI's keys, certificates and CRL.
pub fn pki(name: impl AsRef<Path>) -> PathBuf {
    corpus("pki").join(name)
}

/// The bytes of `path` (relative to the repository root, or absolute); panics naming the file.
pub fn read(path: impl AsRef<Path>) -> Vec<u8> {
    let path = repo(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text of `path` (relative to the repository root, or absolute); panics naming the file.
pub fn read_to_string(path: impl AsRef<Path>) -> String {
    let path = repo(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A new temporary directory, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}

/// The `.rs` files at `path` (the file itself, or every one below the directory), sorted.
pub fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            files.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            files.push(p);
        }
    }
    files.sort();
    files
}
