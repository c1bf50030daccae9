//! ELF signatures from a manifest or a module digest (helper B2 fills this in).

use super::{BuildError, Built, KeyMaterial};
use crate::sign::remote::DigestRequest;

pub(super) fn build_section(
    _req: &DigestRequest,
    _key: &KeyMaterial<'_>,
    _signed_at: u64,
) -> Result<Built, BuildError> {
    Err(BuildError::BadRequest("elf-section: not built yet".into()))
}

pub(super) fn build_module(
    _req: &DigestRequest,
    _key: &KeyMaterial<'_>,
    _signed_at: u64,
) -> Result<Built, BuildError> {
    Err(BuildError::BadRequest("elf-module: not built yet".into()))
}
