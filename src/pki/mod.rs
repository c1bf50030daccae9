//! Public-key cryptography: the one place that knows `rsa`, `p256` and `p384`. The rest of
//! bingate asks "does this key sign this digest?" and gets a typed answer.

pub mod chain;
pub mod crl;
mod embedded;
pub mod ext;
pub mod keys;
pub mod trust;
mod trust_error;
