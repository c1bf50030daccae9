//! The RFC 3161 client.
