//! Authenticode from an image digest (helper B1 fills this in).

use super::{BuildError, Built, KeyMaterial};
use crate::sign::remote::DigestRequest;

pub(super) fn build(
    _req: &DigestRequest,
    _key: &KeyMaterial<'_>,
    _signed_at: u64,
) -> Result<Built, BuildError> {
    Err(BuildError::BadRequest("pe: not built yet".into()))
}
