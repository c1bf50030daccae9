//! Private keys, certificates and the signer abstraction.
