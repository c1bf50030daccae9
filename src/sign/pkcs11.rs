//! A private key in a PKCS#11 token (a hardware security module, a smart card, SoftHSM2) as a
//! [`Signer`], so that a release key never has to leave the device.
//!
//! The key is named by an RFC 7512 URI ([`parse_uri`]):
//!
//! ```text
//! pkcs11:token=release;object=signer;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin
//! ```
//!
//! - path attributes `token`, `manufacturer`, `serial`, `model` choose the token; `object`
//!   (CKA_LABEL) and `id` (CKA_ID, percent-encoded bytes) choose the key; `type` may say
//!   `private`, `public` or `cert` (all name the same key pair);
//! - query attributes: `module-path` (required: bingate does not search for modules by
//!   `module-name`) and `pin-source`: `file:PATH` (RFC 7512 §2.4) or, as a bingate extension,
//!   `env:VAR`. The PIN read is used once, to log in, and then wiped.
//! - `pin-value` is refused: a PIN written on a command line is visible to every user of the
//!   machine (`ps`, `/proc/PID/cmdline`) and lands in shell histories.
//!
//! Signing is done by the token with the raw mechanisms (CKM_RSA_PKCS over a DER DigestInfo,
//! CKM_ECDSA over the digest), so every digest bingate computes can be signed, and an RSA
//! signature is byte for byte the one [`crate::sign::key::LocalSigner`] makes with the same key.
//!
//! Every failure is a typed [`Pkcs11Error`]; the ones the device reports carry the `CKR_*` code
//! ([`Pkcs11Error::ckr`]) so that a signing service can count them apart from user mistakes
//! ([`Pkcs11Error::is_device_error`]). PINs never appear in errors or `Debug` output.
//!
//! A signing service opens the key with [`Pkcs11Signer::open_pool`]: a few sessions signing
//! at once, a bounded wait for a free one ([`Pkcs11Error::Busy`], [`SignDigestError::Busy`]
//! through [`Signer`]), sessions that lost their login or key replaced one at a time, and
//! counters of device errors and reconnects for metrics. The command line's
//! [`Pkcs11Signer::open`] is the same with one session and no bound on the wait.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::RawAuthPin;
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use rsa::pkcs8::EncodePublicKey;
use rsa::traits::PublicKeyParts;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use zeroize::Zeroizing;

use crate::budget::MAX_RSA_BITS;
use crate::cms::signing::check_digest;
use crate::cms::{KeyKind, SignDigestError, Signer};
use crate::hash::DigestAlg;

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

use crate::budget::{MAX_PKCS11_LISTED as MAX_LISTED, MAX_PKCS11_PIN_FILE as MAX_PIN_FILE};

// ---------------------------------------------------------------------------------------------
// The URI
// ---------------------------------------------------------------------------------------------

/// Where the PIN comes from (`pin-source`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinSource {
    /// `file:PATH` or `file:///PATH` (RFC 7512 §2.4): the file's content, one trailing newline
    /// removed.
    File(PathBuf),
    /// `env:VAR` (a bingate extension, not in RFC 7512): the environment variable's value.
    Env(String),
}

impl fmt::Display for PinSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinSource::File(p) => write!(f, "file {}", p.display()),
            PinSource::Env(v) => write!(f, "environment variable {v}"),
        }
    }
}

/// A PKCS#11 URI (RFC 7512) as bingate uses it: which module, which token, which key, where the
/// PIN is. Holds no secret (a PIN in the URI is refused), so `Debug` is safe.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pkcs11Uri {
    /// `token`: the token label (CK_TOKEN_INFO `label`).
    pub token: Option<String>,
    /// `manufacturer`: CK_TOKEN_INFO `manufacturerID`.
    pub manufacturer: Option<String>,
    /// `serial`: CK_TOKEN_INFO `serialNumber`.
    pub serial: Option<String>,
    /// `model`: CK_TOKEN_INFO `model`.
    pub model: Option<String>,
    /// `object`: the key's CKA_LABEL.
    pub object: Option<String>,
    /// `id`: the key's CKA_ID, decoded bytes.
    pub id: Option<Vec<u8>>,
    /// `type`: `private`, `public` or `cert`, as written (all name the same key pair).
    pub object_type: Option<String>,
    /// `module-path`: the PKCS#11 library to load.
    pub module_path: PathBuf,
    /// `pin-source`; `None` for a token that needs no login or has a PIN pad.
    pub pin_source: Option<PinSource>,
}

impl Pkcs11Uri {
    /// `token=release;object=signer;id=%01`: the token and key part, for messages.
    pub fn describe_key(&self) -> String {
        let mut parts = Vec::new();
        for (name, value) in [
            ("token", &self.token),
            ("manufacturer", &self.manufacturer),
            ("serial", &self.serial),
            ("model", &self.model),
            ("object", &self.object),
        ] {
            if let Some(v) = value {
                parts.push(format!("{name}={v}"));
            }
        }
        if let Some(id) = &self.id {
            parts.push(format!("id={}", pct_hex(id)));
        }
        if parts.is_empty() {
            "(any key)".to_owned()
        } else {
            parts.join(";")
        }
    }

    /// The token part alone, for messages: `release`, or the other attributes when no label.
    fn describe_token(&self) -> String {
        match &self.token {
            Some(t) => t.clone(),
            None => {
                let mut parts = Vec::new();
                for (name, value) in [
                    ("manufacturer", &self.manufacturer),
                    ("serial", &self.serial),
                    ("model", &self.model),
                ] {
                    if let Some(v) = value {
                        parts.push(format!("{name}={v}"));
                    }
                }
                if parts.is_empty() {
                    "(any token)".to_owned()
                } else {
                    parts.join(";")
                }
            }
        }
    }
}

/// `%01%ab`: bytes as RFC 7512 writes an `id`.
fn pct_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02x}")).collect()
}

/// The value of one hex digit.
fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => c.checked_sub(b'0'),
        b'a'..=b'f' => c.checked_sub(b'a').and_then(|v| v.checked_add(10)),
        b'A'..=b'F' => c.checked_sub(b'A').and_then(|v| v.checked_add(10)),
        _ => None,
    }
}

/// RFC 3986 §2.1 percent-decoding of one attribute value (RFC 7512 §2.3: every attribute value
/// is percent-decoded, `id` into arbitrary bytes).
fn pct_decode(value: &str, attribute: &str) -> Result<Vec<u8>, Pkcs11Error> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0usize;
    while let Some(&c) = bytes.get(i) {
        if c == b'%' {
            let hi = bytes.get(i.saturating_add(1)).copied().and_then(hex_val);
            let lo = bytes.get(i.saturating_add(2)).copied().and_then(hex_val);
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(Pkcs11Error::Uri {
                    detail: format!(
                        "attribute {attribute}: '%' must be followed by two hexadecimal digits"
                    ),
                });
            };
            out.push(hi.wrapping_mul(16) | lo);
            i = i.saturating_add(3);
        } else {
            out.push(c);
            i = i.saturating_add(1);
        }
    }
    Ok(out)
}

fn pct_decode_text(value: &str, attribute: &str) -> Result<String, Pkcs11Error> {
    String::from_utf8(pct_decode(value, attribute)?).map_err(|_| Pkcs11Error::Uri {
        detail: format!("attribute {attribute}: the decoded value is not UTF-8"),
    })
}

/// Parses `pin-source`: `file:PATH`, `file:///PATH` (RFC 8089 with an empty host) or `env:VAR`.
fn parse_pin_source(value: &str) -> Result<PinSource, Pkcs11Error> {
    if let Some(rest) = value.strip_prefix("file:") {
        // `file:///run/pin` and `file://localhost/run/pin` have a host part; `file:/run/pin`
        // and `file:pin` do not.
        let path = match rest.strip_prefix("//") {
            Some(after) => {
                let slash = after.find('/').ok_or_else(|| Pkcs11Error::Uri {
                    detail: "pin-source: a file:// URI needs an absolute path".to_owned(),
                })?;
                let (host, path) = after.split_at(slash);
                if !host.is_empty() && host != "localhost" {
                    return Err(Pkcs11Error::Uri {
                        detail: format!(
                            "pin-source: file URI on host {host}: only local files are read"
                        ),
                    });
                }
                path
            }
            None => rest,
        };
        if path.is_empty() {
            return Err(Pkcs11Error::Uri {
                detail: "pin-source: file: without a path".to_owned(),
            });
        }
        return Ok(PinSource::File(PathBuf::from(path)));
    }
    if let Some(var) = value.strip_prefix("env:") {
        if var.is_empty() || var.contains('=') || var.contains('\0') {
            return Err(Pkcs11Error::Uri {
                detail: "pin-source: env: needs an environment variable name".to_owned(),
            });
        }
        return Ok(PinSource::Env(var.to_owned()));
    }
    Err(Pkcs11Error::Uri {
        detail: format!(
            "pin-source {value}: bingate reads the PIN from file:PATH (RFC 7512) or env:VAR \
             (a bingate extension)"
        ),
    })
}

/// Parses an RFC 7512 PKCS#11 URI. Values are percent-decoded; an attribute given twice, an
/// attribute bingate does not know (or does not use, such as `slot-id` or `module-name`) and
/// `pin-value` are errors, so that a URI never silently means less than it says.
pub fn parse_uri(s: &str) -> Result<Pkcs11Uri, Pkcs11Error> {
    let scheme_len = "pkcs11:".len();
    let rest = match (s.get(..scheme_len), s.get(scheme_len..)) {
        (Some(scheme), Some(rest)) if scheme.eq_ignore_ascii_case("pkcs11:") => rest,
        _ => {
            return Err(Pkcs11Error::Uri {
                detail: "a PKCS#11 URI starts with pkcs11:".to_owned(),
            });
        }
    };
    // RFC 7512 §2.3: no fragment.
    if rest.contains('#') {
        return Err(Pkcs11Error::Uri {
            detail: "a PKCS#11 URI has no fragment ('#' must be written %23)".to_owned(),
        });
    }
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let mut uri = Pkcs11Uri::default();
    let mut module_path = None;
    let mut seen: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut pin_value = false;
    let mut module_name = false;

    let path_attrs = path.split(';').filter(|a| !a.is_empty());
    let query_attrs = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|a| !a.is_empty());
    for (attr, in_query) in path_attrs
        .map(|a| (a, false))
        .chain(query_attrs.map(|a| (a, true)))
    {
        let (name, value) = attr.split_once('=').ok_or_else(|| Pkcs11Error::Uri {
            detail: format!(
                "{} is not name=value",
                name_for_message(attr.split('=').next().unwrap_or(attr))
            ),
        })?;
        let name = name.to_ascii_lowercase();
        if seen.contains(&name) {
            return Err(Pkcs11Error::Uri {
                detail: format!("attribute {name} is given twice"),
            });
        }
        seen.push(name.clone());
        match (name.as_str(), in_query) {
            ("token", false) => uri.token = Some(pct_decode_text(value, &name)?),
            ("manufacturer", false) => uri.manufacturer = Some(pct_decode_text(value, &name)?),
            ("serial", false) => uri.serial = Some(pct_decode_text(value, &name)?),
            ("model", false) => uri.model = Some(pct_decode_text(value, &name)?),
            ("object", false) => uri.object = Some(pct_decode_text(value, &name)?),
            ("id", false) => uri.id = Some(pct_decode(value, &name)?),
            ("type", false) => {
                let t = pct_decode_text(value, &name)?;
                if !matches!(t.as_str(), "private" | "public" | "cert") {
                    return Err(Pkcs11Error::Uri {
                        detail: format!(
                            "type={t}: bingate signs with a key pair (type private, public or \
                             cert)"
                        ),
                    });
                }
                uri.object_type = Some(t);
            }
            ("module-path", true) => {
                module_path = Some(PathBuf::from(pct_decode_text(value, &name)?));
            }
            ("pin-source", true) => {
                uri.pin_source = Some(parse_pin_source(&pct_decode_text(value, &name)?)?);
            }
            // The value is never decoded or kept: it is a secret.
            ("pin-value", true) => pin_value = true,
            ("module-name", true) => module_name = true,
            _ => unknown.push(name_for_message(&name)),
        }
    }
    if pin_value {
        return Err(Pkcs11Error::PinInUri);
    }
    if !unknown.is_empty() {
        return Err(Pkcs11Error::UnknownAttributes { names: unknown });
    }
    match module_path {
        Some(p) if !p.as_os_str().is_empty() => uri.module_path = p,
        _ => {
            return Err(Pkcs11Error::Uri {
                detail: if module_name {
                    "module-name is not searched for: give the library with \
                     module-path=/path/to/module.so"
                        .to_owned()
                } else {
                    "module-path=/path/to/module.so is required".to_owned()
                },
            });
        }
    }
    Ok(uri)
}

/// An attribute name as it may appear in a message: printable ASCII only, bounded.
fn name_for_message(name: &str) -> String {
    name.chars()
        .take(64)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a PKCS#11 key cannot be used. `token` is the token as the URI names it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pkcs11Error {
    /// The URI is malformed or incomplete.
    Uri { detail: String },
    /// The URI carries `pin-value`.
    PinInUri,
    /// Attributes bingate does not know or use.
    UnknownAttributes { names: Vec<String> },
    /// The PIN cannot be read from its `pin-source`.
    PinSource { source: String, detail: String },
    /// The token wants a PIN and the URI gives no `pin-source`.
    PinRequired { token: String },
    /// The module cannot be loaded or initialised.
    Module { path: PathBuf, detail: String },
    /// No token matches the URI; `found` lists the tokens present.
    NoToken { wanted: String, found: Vec<String> },
    /// Several tokens match the URI.
    SeveralTokens { wanted: String, found: Vec<String> },
    /// C_Login: CKR_PIN_INCORRECT.
    WrongPin { token: String },
    /// C_Login: CKR_PIN_LOCKED (too many wrong PINs).
    PinLocked { token: String },
    /// No private key matches; `found` lists the token's private keys (labels and ids).
    NoKey {
        token: String,
        wanted: String,
        found: Vec<String>,
    },
    /// Several private keys match; `found` lists them.
    SeveralKeys {
        token: String,
        wanted: String,
        found: Vec<String>,
    },
    /// A key of a type or curve bingate does not sign with.
    UnsupportedKey { token: String, key: String },
    /// The public key cannot be read or decoded.
    PublicKey { token: String, detail: String },
    /// The token's certificate for the key does not decode or holds another key.
    Certificate { token: String, detail: String },
    /// The token or module answered an operation with an error (`ckr` is the `CKR_*` name).
    Device {
        token: String,
        operation: &'static str,
        ckr: String,
        text: &'static str,
    },
    /// The token returned a signature of the wrong shape.
    BadSignature { token: String, detail: String },
    /// All `sessions` sessions of the signer stayed in use for `waited` (the signer's bound on
    /// waiting): nothing was signed; a signing service answers 503 and the client retries.
    Busy {
        token: String,
        sessions: usize,
        waited: Duration,
    },
    /// [`Pkcs11Signer::open_pool`] was asked for a pool of no sessions.
    PoolSize { sessions: usize },
}

impl Pkcs11Error {
    /// The `CKR_*` code the device returned, when the error is the device's.
    pub fn ckr(&self) -> Option<&str> {
        match self {
            Pkcs11Error::Device { ckr, .. } => Some(ckr),
            Pkcs11Error::WrongPin { .. } => Some("CKR_PIN_INCORRECT"),
            Pkcs11Error::PinLocked { .. } => Some("CKR_PIN_LOCKED"),
            _ => None,
        }
    }

    /// Whether the token or module failed (as opposed to a wrong URI, PIN or key choice): what
    /// a signing service counts as an HSM error.
    pub fn is_device_error(&self) -> bool {
        matches!(
            self,
            Pkcs11Error::Device { .. }
                | Pkcs11Error::Module { .. }
                | Pkcs11Error::BadSignature { .. }
        )
    }
}

fn list(found: &[String]) -> String {
    if found.is_empty() {
        "none".to_owned()
    } else {
        found.join(", ")
    }
}

impl fmt::Display for Pkcs11Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pkcs11Error::Uri { detail } => write!(f, "PKCS#11 URI: {detail}"),
            Pkcs11Error::PinInUri => f.write_str(
                "PKCS#11 URI: pin-value is refused: a PIN on the command line is visible to \
                 other users of this machine (ps, /proc) and stays in shell history; put it in \
                 a file readable only by you and use pin-source=file:PATH (or pin-source=env:VAR)",
            ),
            Pkcs11Error::UnknownAttributes { names } => write!(
                f,
                "PKCS#11 URI: unknown or unsupported attribute{} {}; bingate reads token, \
                 manufacturer, serial, model, object, id, type, module-path and pin-source",
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            ),
            Pkcs11Error::PinSource { source, detail } => {
                write!(f, "cannot read the PKCS#11 PIN from {source}: {detail}")
            }
            Pkcs11Error::PinRequired { token } => write!(
                f,
                "token {token} needs a PIN: add pin-source=file:PATH to the PKCS#11 URI"
            ),
            Pkcs11Error::Module { path, detail } => {
                write!(f, "PKCS#11 module {}: {detail}", path.display())
            }
            Pkcs11Error::NoToken { wanted, found } => write!(
                f,
                "no PKCS#11 token matches {wanted}; tokens present: {}",
                list(found)
            ),
            Pkcs11Error::SeveralTokens { wanted, found } => write!(
                f,
                "several PKCS#11 tokens match {wanted}: {}; name one with token= or serial=",
                list(found)
            ),
            Pkcs11Error::WrongPin { token } => write!(f, "wrong PIN for token {token}"),
            Pkcs11Error::PinLocked { token } => write!(
                f,
                "the PIN of token {token} is locked after too many wrong attempts"
            ),
            Pkcs11Error::NoKey {
                token,
                wanted,
                found,
            } => write!(
                f,
                "token {token}: no private key matches {wanted}; private keys on the token: {}",
                list(found)
            ),
            Pkcs11Error::SeveralKeys {
                token,
                wanted,
                found,
            } => write!(
                f,
                "token {token}: several private keys match {wanted}: {}; name one with object= \
                 and id=",
                list(found)
            ),
            Pkcs11Error::UnsupportedKey { token, key } => write!(
                f,
                "token {token}: the key is {key}; bingate signs with RSA, ECDSA P-256 or ECDSA \
                 P-384 keys"
            ),
            Pkcs11Error::PublicKey { token, detail } => {
                write!(f, "token {token}: cannot read the public key: {detail}")
            }
            Pkcs11Error::Certificate { token, detail } => {
                write!(f, "token {token}: bad certificate for the key: {detail}")
            }
            Pkcs11Error::Device {
                token,
                operation,
                ckr,
                text,
            } => write!(f, "token {token}: {operation} failed: {ckr} ({text})"),
            Pkcs11Error::BadSignature { token, detail } => {
                write!(
                    f,
                    "token {token}: the token returned a bad signature: {detail}"
                )
            }
            Pkcs11Error::Busy {
                token,
                sessions,
                waited,
            } => write!(
                f,
                "token {token}: all {sessions} session{} stayed busy for {} ms; try again later",
                if *sessions == 1 { "" } else { "s" },
                waited.as_millis()
            ),
            Pkcs11Error::PoolSize { sessions } => write!(
                f,
                "a PKCS#11 signer needs at least one session, not {sessions}"
            ),
        }
    }
}

impl std::error::Error for Pkcs11Error {}

/// The `CKR_*` name and a short reading of a PKCS#11 return value.
fn ckr_text(rv: RvError) -> (String, &'static str) {
    let (name, text) = match rv {
        RvError::PinIncorrect => ("CKR_PIN_INCORRECT", "wrong PIN"),
        RvError::PinLocked => ("CKR_PIN_LOCKED", "the PIN is locked"),
        RvError::PinExpired => ("CKR_PIN_EXPIRED", "the PIN has expired"),
        RvError::PinLenRange => ("CKR_PIN_LEN_RANGE", "the PIN is too long or too short"),
        RvError::UserPinNotInitialized => (
            "CKR_USER_PIN_NOT_INITIALIZED",
            "the token's user PIN is not set",
        ),
        RvError::UserNotLoggedIn => ("CKR_USER_NOT_LOGGED_IN", "not logged in"),
        RvError::ObjectHandleInvalid => ("CKR_OBJECT_HANDLE_INVALID", "the key is no longer there"),
        RvError::KeyHandleInvalid => ("CKR_KEY_HANDLE_INVALID", "the key is no longer there"),
        RvError::SessionHandleInvalid => ("CKR_SESSION_HANDLE_INVALID", "the session was lost"),
        RvError::SessionClosed => ("CKR_SESSION_CLOSED", "the session was closed"),
        RvError::SessionCount => (
            "CKR_SESSION_COUNT",
            "the token opens no more sessions for this application",
        ),
        RvError::TokenNotPresent => ("CKR_TOKEN_NOT_PRESENT", "the token is not in its slot"),
        RvError::TokenNotRecognized => ("CKR_TOKEN_NOT_RECOGNIZED", "unrecognised token"),
        RvError::DeviceRemoved => ("CKR_DEVICE_REMOVED", "the token was removed"),
        RvError::DeviceError => ("CKR_DEVICE_ERROR", "the device failed"),
        RvError::DeviceMemory => ("CKR_DEVICE_MEMORY", "the device is out of memory"),
        RvError::GeneralError => ("CKR_GENERAL_ERROR", "unrecoverable device error"),
        RvError::FunctionFailed => ("CKR_FUNCTION_FAILED", "the function failed"),
        RvError::HostMemory => ("CKR_HOST_MEMORY", "out of memory"),
        RvError::MechanismInvalid => (
            "CKR_MECHANISM_INVALID",
            "the token does not offer this mechanism for the key",
        ),
        RvError::KeyTypeInconsistent => (
            "CKR_KEY_TYPE_INCONSISTENT",
            "the key does not fit the mechanism",
        ),
        RvError::KeyFunctionNotPermitted => (
            "CKR_KEY_FUNCTION_NOT_PERMITTED",
            "the key is not allowed to sign (CKA_SIGN is false)",
        ),
        RvError::DataLenRange => ("CKR_DATA_LEN_RANGE", "the data to sign has a bad length"),
        RvError::DataInvalid => ("CKR_DATA_INVALID", "the data to sign is invalid"),
        RvError::CryptokiNotInitialized => (
            "CKR_CRYPTOKI_NOT_INITIALIZED",
            "the module is not initialised",
        ),
        RvError::SlotIdInvalid => ("CKR_SLOT_ID_INVALID", "no such slot"),
        RvError::ArgumentsBad => ("CKR_ARGUMENTS_BAD", "bad arguments"),
        RvError::FunctionNotSupported => (
            "CKR_FUNCTION_NOT_SUPPORTED",
            "the module lacks this function",
        ),
        RvError::AttributeSensitive => ("CKR_ATTRIBUTE_SENSITIVE", "the attribute is secret"),
        RvError::AttributeTypeInvalid => (
            "CKR_ATTRIBUTE_TYPE_INVALID",
            "the object has no such attribute",
        ),
        RvError::CurveNotSupported => ("CKR_CURVE_NOT_SUPPORTED", "unsupported curve"),
        other => return (format!("CKR {other:?}"), "see the PKCS#11 specification"),
    };
    (name.to_owned(), text)
}

/// A `cryptoki` error during `operation` on `token`, typed.
fn device(token: &str, operation: &'static str, e: CkError) -> Pkcs11Error {
    match e {
        CkError::Pkcs11(RvError::PinIncorrect, _) => Pkcs11Error::WrongPin {
            token: token.to_owned(),
        },
        CkError::Pkcs11(RvError::PinLocked, _) => Pkcs11Error::PinLocked {
            token: token.to_owned(),
        },
        CkError::Pkcs11(rv, _) => {
            let (ckr, text) = ckr_text(rv);
            Pkcs11Error::Device {
                token: token.to_owned(),
                operation,
                ckr,
                text,
            }
        }
        other => Pkcs11Error::Device {
            token: token.to_owned(),
            operation,
            ckr: "none".to_owned(),
            text: cryptoki_error_text(&other),
        },
    }
}

/// A short reading of a `cryptoki` error that is not a PKCS#11 return value.
fn cryptoki_error_text(e: &CkError) -> &'static str {
    match e {
        CkError::LibraryLoading(_) => "the module cannot be loaded",
        CkError::NotSupported => "not supported by the cryptoki crate",
        CkError::NullFunctionPointer | CkError::MissingSymbol(_) => {
            "the module lacks a PKCS#11 function"
        }
        _ => "the module returned a value the cryptoki crate cannot read",
    }
}

// ---------------------------------------------------------------------------------------------
// The signer
// ---------------------------------------------------------------------------------------------

/// A private key in a PKCS#11 token, logged in, ready to sign, over a small pool of sessions.
///
/// A PKCS#11 session runs one operation at a time (and `cryptoki::Session` is not `Sync`), so
/// each signature takes a free session from the pool and gives it back; with `n` sessions, `n`
/// signatures run at once. A caller that finds none free waits, at most the pool's `wait`
/// ([`Pkcs11Signer::open_pool`]), then gets [`Pkcs11Error::Busy`] (through [`Signer`],
/// [`SignDigestError::Busy`]). The pool holds no queue of its own: the waiting callers are
/// the threads the caller runs, each parked on a condition variable.
///
/// Holds no PIN: when the token forgets the login or the session (another application logged
/// out, CloudHSM after idle time, a module finalised by someone else; autograph #132), the
/// session that met the error is replaced by a new one (the PIN read again from `pin-source`,
/// the key found again and checked to be the same public key) and the operation retried once;
/// the other sessions keep working and cure themselves when they meet the error. A session
/// whose operation fails otherwise is closed and opened again by the next caller, so a flaky
/// token does not shrink the pool for good. [`Pkcs11Signer::errors`] and
/// [`Pkcs11Signer::reconnects`] count what happened, for a service's metrics.
pub struct Pkcs11Signer {
    pool: Pool,
    uri: Pkcs11Uri,
    key_label: Vec<u8>,
    key_id: Vec<u8>,
    kind: KeyKind,
    spki: SubjectPublicKeyInfoOwned,
    token: String,
    /// Device errors seen ([`Pkcs11Error::is_device_error`]), cured ones included.
    errors: AtomicU64,
    /// Sessions replaced after an error that a new session cures.
    reconnects: AtomicU64,
}

/// The session and the key's handle in it (handles are per session on some tokens).
struct Live {
    session: Session,
    key: ObjectHandle,
}

/// The signer's sessions: at most `capacity` open, each lent to one caller at a time.
struct Pool {
    state: Mutex<PoolState>,
    /// Signalled when a lease ends (a session or a slot came free).
    freed: Condvar,
    capacity: usize,
    /// How long a caller waits for a free session; `None`: as long as it takes.
    wait: Option<Duration>,
}

/// Invariant: `idle.len() + leased <= capacity`.
struct PoolState {
    /// Open sessions that nobody uses.
    idle: Vec<Live>,
    /// Leases handed out; each holds a session, or a slot in which to open one.
    leased: usize,
    /// Sessions open: the idle ones and those the leases hold.
    open: usize,
}

impl Pool {
    fn new(capacity: usize, wait: Option<Duration>) -> Pool {
        Pool {
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                leased: 0,
                open: 0,
            }),
            freed: Condvar::new(),
            capacity,
            wait,
        }
    }

    /// The state. Nothing panics while holding the lock (only counters and a `Vec` change
    /// under it), so a poisoned lock still holds a consistent state.
    fn state(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A session that was opened outside a lease (while opening the pool), made idle.
    fn add_idle(&self, live: Live) {
        let mut state = self.state();
        state.idle.push(live);
        state.open = state.open.saturating_add(1);
        drop(state);
        self.freed.notify_one();
    }

    /// An idle session, or a free slot, waiting at most `self.wait` for one.
    fn lease(&self, token: &str) -> Result<Lease<'_>, Pkcs11Error> {
        // `None`: wait as long as it takes (also for a wait too long to add to the clock).
        let bound = self
            .wait
            .and_then(|w| Instant::now().checked_add(w).map(|deadline| (w, deadline)));
        let mut state = self.state();
        loop {
            if let Some(live) = state.idle.pop() {
                state.leased = state.leased.saturating_add(1);
                return Ok(Lease {
                    pool: self,
                    live: Some(live),
                });
            }
            if state.leased < self.capacity {
                state.leased = state.leased.saturating_add(1);
                return Ok(Lease {
                    pool: self,
                    live: None,
                });
            }
            state = match bound {
                None => self
                    .freed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some((wait, deadline)) => {
                    let left = deadline
                        .checked_duration_since(Instant::now())
                        .filter(|left| !left.is_zero());
                    let Some(left) = left else {
                        return Err(Pkcs11Error::Busy {
                            token: token.to_owned(),
                            sessions: self.capacity,
                            waited: wait,
                        });
                    };
                    self.freed
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

/// One caller's use of the pool: a session (or a slot to open one in), given back when dropped.
struct Lease<'a> {
    pool: &'a Pool,
    live: Option<Live>,
}

impl Lease<'_> {
    /// Puts a session opened for this lease into it, replacing (and closing) the one it held.
    /// The new session is opened before the old one closes: closing an application's last
    /// session on a token logs it out.
    fn install(&mut self, live: Live) -> &Live {
        if self.live.is_none() {
            let mut state = self.pool.state();
            state.open = state.open.saturating_add(1);
        }
        // The old session, if any, closes here.
        self.live.insert(live)
    }

    /// Closes the lease's session: the next caller opens a new one in its slot.
    fn discard(&mut self) {
        if let Some(live) = self.live.take() {
            {
                let mut state = self.pool.state();
                state.open = state.open.saturating_sub(1);
            }
            // C_CloseSession outside the pool's lock.
            drop(live);
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        // A panic during an operation leaves the session in an unknown state: close it.
        if std::thread::panicking() {
            self.discard();
        }
        let mut state = self.pool.state();
        state.leased = state.leased.saturating_sub(1);
        if let Some(live) = self.live.take() {
            state.idle.push(live);
        }
        drop(state);
        self.pool.freed.notify_one();
    }
}

impl fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("token", &self.token)
            .field("key", &describe_object(&self.key_label, &self.key_id))
            .field("kind", &self.kind)
            .field("sessions", &self.pool.capacity)
            .finish_non_exhaustive()
    }
}

const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Pkcs11Signer>();
};

/// `"signer" (id %01)`: a key as listed in messages; labels are the token owner's names, ids
/// are public handles, neither is secret.
fn describe_object(label: &[u8], id: &[u8]) -> String {
    let label = String::from_utf8_lossy(label);
    let label: String = label
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if id.is_empty() {
        format!("\"{label}\" (no id)")
    } else {
        format!("\"{label}\" (id {})", pct_hex(id))
    }
}

/// Reads the PIN from `source`, one trailing newline (`\n` or `\r\n`) removed. The buffer wipes
/// itself when dropped.
fn read_pin(source: &PinSource) -> Result<Zeroizing<Vec<u8>>, Pkcs11Error> {
    let err = |detail: String| Pkcs11Error::PinSource {
        source: source.to_string(),
        detail,
    };
    let mut pin = match source {
        PinSource::File(path) => read_pin_file(path).map_err(|e| err(e.to_string()))?,
        PinSource::Env(var) => {
            let value = std::env::var_os(var).ok_or_else(|| err("not set".to_owned()))?;
            Zeroizing::new(value.into_encoded_bytes())
        }
    };
    if pin.last() == Some(&b'\n') {
        pin.pop();
        if pin.last() == Some(&b'\r') {
            pin.pop();
        }
    }
    if pin.is_empty() {
        return Err(err("the PIN is empty".to_owned()));
    }
    Ok(pin)
}

fn read_pin_file(path: &Path) -> std::io::Result<Zeroizing<Vec<u8>>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut pin = Zeroizing::new(Vec::with_capacity(64));
    // One byte more than the limit tells "too big" from "exactly the limit".
    file.take(MAX_PIN_FILE.saturating_add(1))
        .read_to_end(&mut pin)?;
    if u64::try_from(pin.len()).unwrap_or(u64::MAX) > MAX_PIN_FILE {
        return Err(std::io::Error::other(format!(
            "over {MAX_PIN_FILE} bytes: not a PIN file"
        )));
    }
    Ok(pin)
}

/// A text field of CK_TOKEN_INFO as matched: the module pads with spaces, `cryptoki` trims them.
fn token_matches(uri: &Pkcs11Uri, info: &cryptoki::slot::TokenInfo) -> bool {
    let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
    eq(&uri.token, info.label())
        && eq(&uri.manufacturer, info.manufacturer_id())
        && eq(&uri.serial, info.serial_number())
        && eq(&uri.model, info.model())
}

fn describe_token_info(info: &cryptoki::slot::TokenInfo) -> String {
    format!(
        "{} (serial {}, {} {})",
        info.label(),
        info.serial_number(),
        info.manufacturer_id(),
        info.model()
    )
}

/// Loads and initialises the module. A second signer in the same process finds it initialised
/// (CKR_CRYPTOKI_ALREADY_INITIALIZED), which is fine: PKCS#11 state is per process.
fn load_module(path: &Path) -> Result<Pkcs11, Pkcs11Error> {
    let module_err = |detail: String| Pkcs11Error::Module {
        path: path.to_owned(),
        detail,
    };
    if !path.is_file() {
        return Err(module_err("no such file".to_owned()));
    }
    let ctx = Pkcs11::new(path).map_err(|e| module_err(format!("cannot be loaded: {e}")))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => Ok(ctx),
        Err(e) => Err(module_err(format!(
            "C_Initialize failed: {}",
            match &e {
                CkError::Pkcs11(rv, _) => ckr_text(*rv).0,
                other => cryptoki_error_text(other).to_owned(),
            }
        ))),
    }
}

/// The one slot whose token matches the URI, and the token's label.
fn find_slot(ctx: &Pkcs11, uri: &Pkcs11Uri) -> Result<(Slot, String), Pkcs11Error> {
    let wanted = uri.describe_token();
    let slots = ctx
        .get_slots_with_token()
        .map_err(|e| device(&wanted, "C_GetSlotList", e))?;
    let mut matching = Vec::new();
    let mut present = Vec::new();
    for slot in slots {
        let info = ctx
            .get_token_info(slot)
            .map_err(|e| device(&wanted, "C_GetTokenInfo", e))?;
        if present.len() < MAX_LISTED {
            present.push(describe_token_info(&info));
        }
        if token_matches(uri, &info) {
            matching.push((slot, info));
        }
    }
    let mut matching = matching.into_iter();
    match (matching.next(), matching.next()) {
        (Some((slot, info)), None) => Ok((slot, info.label().to_owned())),
        (None, _) => Err(Pkcs11Error::NoToken {
            wanted,
            found: present,
        }),
        (Some(a), Some(b)) => Err(Pkcs11Error::SeveralTokens {
            wanted,
            found: [a, b]
                .into_iter()
                .chain(matching)
                .take(MAX_LISTED)
                .map(|(_, i)| describe_token_info(&i))
                .collect(),
        }),
    }
}

/// Logs `session` in as the user, with the PIN from the URI's `pin-source`.
fn login(
    ctx: &Pkcs11,
    slot: Slot,
    session: &Session,
    uri: &Pkcs11Uri,
    token: &str,
) -> Result<(), Pkcs11Error> {
    let info = ctx
        .get_token_info(slot)
        .map_err(|e| device(token, "C_GetTokenInfo", e))?;
    if !info.login_required() {
        return Ok(());
    }
    let result = match &uri.pin_source {
        Some(source) => {
            let pin = read_pin(source)?;
            // `RawAuthPin` (secrecy) wipes its copy when dropped; `pin` wipes itself.
            let raw = RawAuthPin::new(Box::new(pin.to_vec()));
            session.login_with_raw(UserType::User, &raw)
        }
        None if info.protected_authentication_path() => session.login(UserType::User, None),
        None => {
            return Err(Pkcs11Error::PinRequired {
                token: token.to_owned(),
            });
        }
    };
    match result {
        // Another signer of this process logged the token in: PKCS#11 login state is shared
        // by every session of the application.
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(e) => Err(device(token, "C_Login", e)),
    }
}

/// The label and id of `object` (empty when the token has none).
fn label_and_id(
    session: &Session,
    object: ObjectHandle,
    token: &str,
) -> Result<(Vec<u8>, Vec<u8>), Pkcs11Error> {
    let attrs = session
        .get_attributes(object, &[AttributeType::Label, AttributeType::Id])
        .map_err(|e| device(token, "C_GetAttributeValue", e))?;
    let mut label = Vec::new();
    let mut id = Vec::new();
    for a in attrs {
        match a {
            Attribute::Label(l) => label = l,
            Attribute::Id(i) => id = i,
            _ => {}
        }
    }
    Ok((label, id))
}

/// The search template for the URI's key of class `class`.
fn template(class: ObjectClass, label: Option<&[u8]>, id: Option<&[u8]>) -> Vec<Attribute> {
    let mut t = vec![Attribute::Class(class)];
    if let Some(l) = label {
        t.push(Attribute::Label(l.to_vec()));
    }
    if let Some(i) = id {
        t.push(Attribute::Id(i.to_vec()));
    }
    t
}

/// The one private key matching the URI.
fn find_key(session: &Session, uri: &Pkcs11Uri, token: &str) -> Result<ObjectHandle, Pkcs11Error> {
    let found = session
        .find_objects(&template(
            ObjectClass::PRIVATE_KEY,
            uri.object.as_deref().map(str::as_bytes),
            uri.id.as_deref(),
        ))
        .map_err(|e| device(token, "C_FindObjects", e))?;
    let wanted = uri.describe_key();
    let describe_all = |handles: &[ObjectHandle]| -> Result<Vec<String>, Pkcs11Error> {
        handles
            .iter()
            .take(MAX_LISTED)
            .map(|h| label_and_id(session, *h, token).map(|(l, i)| describe_object(&l, &i)))
            .collect()
    };
    match found.as_slice() {
        [one] => Ok(*one),
        [] => {
            let all = session
                .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])
                .map_err(|e| device(token, "C_FindObjects", e))?;
            Err(Pkcs11Error::NoKey {
                token: token.to_owned(),
                wanted,
                found: describe_all(&all)?,
            })
        }
        several => Err(Pkcs11Error::SeveralKeys {
            token: token.to_owned(),
            wanted,
            found: describe_all(several)?,
        }),
    }
}

/// Objects of `class` that belong with the key: the same CKA_ID when the key has one, else the
/// same label.
fn companions(
    session: &Session,
    class: ObjectClass,
    label: &[u8],
    id: &[u8],
    token: &str,
) -> Result<Vec<ObjectHandle>, Pkcs11Error> {
    let t = if !id.is_empty() {
        template(class, None, Some(id))
    } else if !label.is_empty() {
        template(class, Some(label), None)
    } else {
        return Ok(Vec::new());
    };
    session
        .find_objects(&t)
        .map_err(|e| device(token, "C_FindObjects", e))
}

fn spki_from_der_bytes(
    der: Result<der::Document, spki::Error>,
    token: &str,
) -> Result<SubjectPublicKeyInfoOwned, Pkcs11Error> {
    der.map_err(|e| e.to_string())
        .and_then(|d| SubjectPublicKeyInfoOwned::from_der(d.as_bytes()).map_err(|e| e.to_string()))
        .map_err(|detail| Pkcs11Error::PublicKey {
            token: token.to_owned(),
            detail,
        })
}

/// An RSA public key from its modulus and exponent (big-endian, as PKCS#11 stores them).
fn rsa_spki(
    modulus: &[u8],
    exponent: &[u8],
    token: &str,
) -> Result<(KeyKind, SubjectPublicKeyInfoOwned), Pkcs11Error> {
    let key = rsa::RsaPublicKey::new_with_max_size(
        rsa::BigUint::from_bytes_be(modulus),
        rsa::BigUint::from_bytes_be(exponent),
        MAX_RSA_BITS,
    )
    .map_err(|e| Pkcs11Error::PublicKey {
        token: token.to_owned(),
        detail: format!("RSA key: {e}"),
    })?;
    let bits = u32::try_from(key.n().bits()).map_err(|_| Pkcs11Error::PublicKey {
        token: token.to_owned(),
        detail: "RSA modulus size".to_owned(),
    })?;
    let spki = spki_from_der_bytes(key.to_public_key_der(), token)?;
    Ok((KeyKind::Rsa { bits }, spki))
}

const P256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// An EC public key from CKA_EC_PARAMS (DER: the curve's OID) and CKA_EC_POINT (DER OCTET
/// STRING holding the SEC1 point, as PKCS#11 2.40 §2.3.3 says; some tokens give the bare point,
/// which is accepted too).
fn ec_spki(
    params: &[u8],
    point: &[u8],
    token: &str,
) -> Result<(KeyKind, SubjectPublicKeyInfoOwned), Pkcs11Error> {
    let curve = ObjectIdentifier::from_der(params).map_err(|_| Pkcs11Error::UnsupportedKey {
        token: token.to_owned(),
        key: "an EC key whose CKA_EC_PARAMS is not a named curve".to_owned(),
    })?;
    let point = match der::asn1::OctetString::from_der(point) {
        Ok(inner) => inner.into_bytes(),
        Err(_) => point.to_vec(),
    };
    let bad = |e: &dyn fmt::Display| Pkcs11Error::PublicKey {
        token: token.to_owned(),
        detail: format!("EC point: {e}"),
    };
    if curve == P256_OID {
        let key = p256::PublicKey::from_sec1_bytes(&point).map_err(|e| bad(&e))?;
        Ok((
            KeyKind::EcdsaP256,
            spki_from_der_bytes(key.to_public_key_der(), token)?,
        ))
    } else if curve == P384_OID {
        let key = p384::PublicKey::from_sec1_bytes(&point).map_err(|e| bad(&e))?;
        Ok((
            KeyKind::EcdsaP384,
            spki_from_der_bytes(key.to_public_key_der(), token)?,
        ))
    } else {
        Err(Pkcs11Error::UnsupportedKey {
            token: token.to_owned(),
            key: format!("an EC key on curve {curve}"),
        })
    }
}

/// Attributes of `object` as a list of byte values, in the order asked; absent ones empty.
fn byte_attributes(
    session: &Session,
    object: ObjectHandle,
    wanted: &[AttributeType],
    token: &str,
) -> Result<Vec<Vec<u8>>, Pkcs11Error> {
    let attrs = session
        .get_attributes(object, wanted)
        .map_err(|e| device(token, "C_GetAttributeValue", e))?;
    Ok(wanted
        .iter()
        .map(|w| {
            attrs
                .iter()
                .find(|a| a.attribute_type() == *w)
                .map(|a| match a {
                    Attribute::Modulus(v)
                    | Attribute::PublicExponent(v)
                    | Attribute::EcParams(v)
                    | Attribute::EcPoint(v)
                    | Attribute::Value(v) => v.clone(),
                    _ => Vec::new(),
                })
                .unwrap_or_default()
        })
        .collect())
}

impl Pkcs11Signer {
    /// Loads the URI's module, finds its token and key, logs in and reads the public key: a
    /// signer with one session, whose callers wait for it as long as it takes (the command
    /// line's signer).
    pub fn open(uri: &Pkcs11Uri) -> Result<Pkcs11Signer, Pkcs11Error> {
        Pkcs11Signer::open_with(uri, 1, None)
    }

    /// As [`Pkcs11Signer::open`], with a pool of `sessions` sessions, each logged in (PKCS#11
    /// login state belongs to the application and token, so the first login covers them all)
    /// with the key found in each. A signature waits at most `wait` for a free session, then
    /// fails with [`Pkcs11Error::Busy`]. A token that refuses more sessions
    /// (CKR_SESSION_COUNT) leaves the pool as large as the token allows; any other failure to
    /// open a session is the error.
    pub fn open_pool(
        uri: &Pkcs11Uri,
        sessions: usize,
        wait: Duration,
    ) -> Result<Pkcs11Signer, Pkcs11Error> {
        Pkcs11Signer::open_with(uri, sessions, Some(wait))
    }

    fn open_with(
        uri: &Pkcs11Uri,
        sessions: usize,
        wait: Option<Duration>,
    ) -> Result<Pkcs11Signer, Pkcs11Error> {
        if sessions == 0 {
            return Err(Pkcs11Error::PoolSize { sessions });
        }
        let ctx = load_module(&uri.module_path)?;
        let (session, token) = connect(&ctx, uri)?;
        let key = find_key(&session, uri, &token)?;
        let (key_label, key_id) = label_and_id(&session, key, &token)?;
        let (kind, spki) = public_key(&session, key, &key_label, &key_id, &token)?;
        let mut signer = Pkcs11Signer {
            pool: Pool::new(sessions, wait),
            uri: uri.clone(),
            key_label,
            key_id,
            kind,
            spki,
            token,
            errors: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
        };
        signer.pool.add_idle(Live { session, key });
        for opened in 1..sessions {
            match signer.reconnect() {
                Ok(live) => signer.pool.add_idle(live),
                Err(Pkcs11Error::Device { ckr, .. }) if ckr == "CKR_SESSION_COUNT" => {
                    signer.pool.capacity = opened;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(signer)
    }

    /// The token's label.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// How many sessions the pool may hold (what [`Pkcs11Signer::open_pool`] was given, or
    /// fewer if the token refused more).
    pub fn sessions(&self) -> usize {
        self.pool.capacity
    }

    /// How many sessions are open now (at most [`Pkcs11Signer::sessions`]; fewer after a
    /// session was closed on an error and before the next caller opens it again).
    pub fn open_sessions(&self) -> usize {
        self.pool.state().open
    }

    /// Device errors seen since the signer was opened ([`Pkcs11Error::is_device_error`]:
    /// the token or module failed, cured or not), for a service's metrics. Busy pools, wrong
    /// PINs and wrong digests are not counted.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Sessions replaced by a new, logged-in one after an error that a new session cures
    /// (CKR_USER_NOT_LOGGED_IN, CKR_OBJECT_HANDLE_INVALID, CKR_SESSION_HANDLE_INVALID, …);
    /// each such error also counts in [`Pkcs11Signer::errors`].
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }

    /// For tests of a saturated pool: takes a session (or its slot) out of the pool, as a
    /// signature does, until the returned value is dropped; fails with [`Pkcs11Error::Busy`]
    /// as a signature would.
    #[doc(hidden)]
    pub fn hold_session_for_tests(&self) -> Result<impl Sized + '_, Pkcs11Error> {
        self.pool.lease(&self.token)
    }

    /// The token's certificate for the key: a CKO_CERTIFICATE with the key's CKA_ID (or, for a
    /// key without one, its label) whose public key is the key's. `None` when there is none.
    /// Takes a session from the pool as a signature does.
    pub fn certificate(&self) -> Result<Option<Certificate>, Pkcs11Error> {
        let mut lease = self.pool.lease(&self.token)?;
        let result = match self.session(&mut lease) {
            Ok(live) => certificate(
                &live.session,
                &self.key_label,
                &self.key_id,
                &self.token,
                Some(&self.spki),
            ),
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            if e.is_device_error() {
                lease.discard();
            }
        }
        result.inspect_err(|e| self.count(e))
    }

    /// [`Signer::sign_digest`] with the typed error (the digest is checked as there).
    pub fn sign_digest_typed(&self, alg: DigestAlg, digest: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        let (mechanism, input) = match self.kind {
            KeyKind::Rsa { .. } => (
                Mechanism::RsaPkcs,
                digest_info(alg, digest).ok_or_else(|| Pkcs11Error::BadSignature {
                    token: self.token.clone(),
                    detail: format!("no DigestInfo for {}", alg.name()),
                })?,
            ),
            KeyKind::EcdsaP256 => (Mechanism::Ecdsa, ecdsa_input(digest, 32)),
            KeyKind::EcdsaP384 => (Mechanism::Ecdsa, ecdsa_input(digest, 48)),
        };
        let mut lease = self.pool.lease(&self.token)?;
        let raw = self
            .run(&mut lease, "C_Sign", |live| {
                live.session.sign(&mechanism, live.key, &input)
            })
            .inspect_err(|e| self.count(e))?;
        drop(lease);
        self.shape(raw).inspect_err(|e| self.count(e))
    }

    /// The lease's session, opened (logged in, key found and checked) if the lease has none.
    fn session<'l>(&self, lease: &'l mut Lease<'_>) -> Result<&'l Live, Pkcs11Error> {
        match lease.live {
            Some(ref live) => Ok(live),
            None => Ok(lease.install(self.reconnect()?)),
        }
    }

    /// `f` on the lease's session. An error that a new session cures replaces the session and
    /// `f` runs once more; an error that stays closes the session (the next caller opens a new
    /// one). Counts the cured error; the caller counts the error returned.
    fn run<T>(
        &self,
        lease: &mut Lease<'_>,
        operation: &'static str,
        f: impl Fn(&Live) -> Result<T, CkError>,
    ) -> Result<T, Pkcs11Error> {
        let first = match self.session(lease) {
            Ok(live) => f(live),
            Err(e) => {
                lease.discard();
                return Err(e);
            }
        };
        let e = match first {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if !matches!(e, CkError::Pkcs11(rv, _) if reconnect_cures(rv)) {
            lease.discard();
            return Err(device(&self.token, operation, e));
        }
        self.count(&device(&self.token, operation, e));
        let live = match self.reconnect() {
            Ok(live) => live,
            Err(e) => {
                lease.discard();
                return Err(e);
            }
        };
        self.reconnects.fetch_add(1, Ordering::Relaxed);
        let retried = f(lease.install(live));
        retried.map_err(|e| {
            lease.discard();
            device(&self.token, operation, e)
        })
    }

    /// Counts `e` in [`Pkcs11Signer::errors`] if the device failed.
    fn count(&self, e: &Pkcs11Error) {
        if e.is_device_error() {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The token's raw signature as [`Signer::sign_digest`] promises it: an RSA signature as
    /// long as the modulus; ECDSA r||s as a DER `Ecdsa-Sig-Value`.
    fn shape(&self, raw: Vec<u8>) -> Result<Vec<u8>, Pkcs11Error> {
        let bad = |detail: String| Pkcs11Error::BadSignature {
            token: self.token.clone(),
            detail,
        };
        match self.kind {
            KeyKind::Rsa { bits } => {
                let expected = usize::try_from(bits.div_ceil(8)).unwrap_or(usize::MAX);
                if raw.len() != expected {
                    return Err(bad(format!(
                        "RSA signature of {} bytes for a {expected}-byte modulus",
                        raw.len()
                    )));
                }
                Ok(raw)
            }
            KeyKind::EcdsaP256 => p256::ecdsa::Signature::from_slice(&raw)
                .map(|s| s.to_der().as_bytes().to_vec())
                .map_err(|e| bad(format!("ECDSA r||s of {} bytes: {e}", raw.len()))),
            KeyKind::EcdsaP384 => p384::ecdsa::Signature::from_slice(&raw)
                .map(|s| s.to_der().as_bytes().to_vec())
                .map_err(|e| bad(format!("ECDSA r||s of {} bytes: {e}", raw.len()))),
        }
    }

    /// A new session, logged in, with the same key: it must still be the one the signer was
    /// opened with (same public key), or nothing is signed.
    fn reconnect(&self) -> Result<Live, Pkcs11Error> {
        // A finalised module (CKR_CRYPTOKI_NOT_INITIALIZED) is initialised again.
        let ctx = load_module(&self.uri.module_path)?;
        let (session, token) = connect(&ctx, &self.uri)?;
        let key = find_key(&session, &self.uri, &token)?;
        let (label, id) = label_and_id(&session, key, &token)?;
        let (kind, spki) = public_key(&session, key, &label, &id, &token)?;
        if kind != self.kind || spki != self.spki {
            return Err(Pkcs11Error::PublicKey {
                token,
                detail: "after reconnecting, the URI names a different key than before: \
                         refusing to sign"
                    .to_owned(),
            });
        }
        Ok(Live { session, key })
    }
}

/// The return values after which a new session and login may succeed where the old one failed:
/// a forgotten login, a lost session or key handle, a finalised module.
fn reconnect_cures(rv: RvError) -> bool {
    matches!(
        rv,
        RvError::UserNotLoggedIn
            | RvError::ObjectHandleInvalid
            | RvError::KeyHandleInvalid
            | RvError::SessionHandleInvalid
            | RvError::SessionClosed
            | RvError::CryptokiNotInitialized
    )
}

/// Finds the URI's token in `ctx`, opens a read-only session and logs in.
fn connect(ctx: &Pkcs11, uri: &Pkcs11Uri) -> Result<(Session, String), Pkcs11Error> {
    let (slot, token) = find_slot(ctx, uri)?;
    let session = ctx
        .open_ro_session(slot)
        .map_err(|e| device(&token, "C_OpenSession", e))?;
    login(ctx, slot, &session, uri, &token)?;
    Ok((session, token))
}

/// The key's kind and public key: RSA from the public key object or the private key itself
/// (both carry CKA_MODULUS and CKA_PUBLIC_EXPONENT); EC from the public key object (a private
/// EC key has no CKA_EC_POINT) or else the certificate.
fn public_key(
    session: &Session,
    key: ObjectHandle,
    label: &[u8],
    id: &[u8],
    token: &str,
) -> Result<(KeyKind, SubjectPublicKeyInfoOwned), Pkcs11Error> {
    let attrs = session
        .get_attributes(key, &[AttributeType::KeyType])
        .map_err(|e| device(token, "C_GetAttributeValue", e))?;
    let key_type = attrs.iter().find_map(|a| match a {
        Attribute::KeyType(t) => Some(*t),
        _ => None,
    });
    let publics = companions(session, ObjectClass::PUBLIC_KEY, label, id, token)?;
    match key_type {
        Some(t) if t == KeyType::RSA => {
            for object in publics.iter().copied().chain([key]) {
                let v = byte_attributes(
                    session,
                    object,
                    &[AttributeType::Modulus, AttributeType::PublicExponent],
                    token,
                )?;
                if let [n, e] = v.as_slice() {
                    if !n.is_empty() && !e.is_empty() {
                        return rsa_spki(n, e, token);
                    }
                }
            }
            Err(Pkcs11Error::PublicKey {
                token: token.to_owned(),
                detail: "neither the key nor a public key object gives the RSA modulus".to_owned(),
            })
        }
        Some(t) if t == KeyType::EC => {
            for object in publics {
                let v = byte_attributes(
                    session,
                    object,
                    &[AttributeType::EcParams, AttributeType::EcPoint],
                    token,
                )?;
                if let [params, point] = v.as_slice() {
                    if !params.is_empty() && !point.is_empty() {
                        return ec_spki(params, point, token);
                    }
                }
            }
            let cert = certificate(session, label, id, token, None)?;
            let Some(cert) = cert else {
                return Err(Pkcs11Error::PublicKey {
                    token: token.to_owned(),
                    detail: "the EC key has no public key object and no certificate with its id \
                             or label"
                        .to_owned(),
                });
            };
            let spki = cert.tbs_certificate.subject_public_key_info;
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            let kind = match curve {
                Some(c) if c == P256_OID => KeyKind::EcdsaP256,
                Some(c) if c == P384_OID => KeyKind::EcdsaP384,
                other => {
                    return Err(Pkcs11Error::UnsupportedKey {
                        token: token.to_owned(),
                        key: match other {
                            Some(c) => format!("an EC key on curve {c}"),
                            None => "an EC key without a named curve".to_owned(),
                        },
                    });
                }
            };
            Ok((kind, spki))
        }
        Some(t) => Err(Pkcs11Error::UnsupportedKey {
            token: token.to_owned(),
            key: format!("a {t} key"),
        }),
        None => Err(Pkcs11Error::PublicKey {
            token: token.to_owned(),
            detail: "the key has no CKA_KEY_TYPE".to_owned(),
        }),
    }
}

/// The certificate object that goes with the key (see [`Pkcs11Signer::certificate`]). With
/// `spki`, the first one carrying that public key (a token may keep a renewed certificate next
/// to the old one); certificates with the key's id or label but another public key are an
/// error, not a silent "no certificate", since the token's owner meant them for this key.
fn certificate(
    session: &Session,
    label: &[u8],
    id: &[u8],
    token: &str,
    spki: Option<&SubjectPublicKeyInfoOwned>,
) -> Result<Option<Certificate>, Pkcs11Error> {
    let candidates = companions(session, ObjectClass::CERTIFICATE, label, id, token)?;
    let mut other_key = None;
    for object in candidates.into_iter().take(MAX_LISTED) {
        let v = byte_attributes(session, object, &[AttributeType::Value], token)?;
        let Some(value) = v.first().filter(|v| !v.is_empty()) else {
            continue;
        };
        let cert = Certificate::from_der(value).map_err(|e| Pkcs11Error::Certificate {
            token: token.to_owned(),
            detail: e.to_string(),
        })?;
        let matches = spki.is_none_or(|k| {
            // Compared as DER: the same key encodes the same way.
            cert.tbs_certificate.subject_public_key_info.to_der().ok() == k.to_der().ok()
        });
        if matches {
            return Ok(Some(cert));
        }
        other_key.get_or_insert_with(|| cert.tbs_certificate.subject.to_string());
    }
    match other_key {
        None => Ok(None),
        Some(subject) => Err(Pkcs11Error::Certificate {
            token: token.to_owned(),
            detail: format!(
                "the certificate {subject} stored with the key's {} holds another public key",
                if id.is_empty() { "label" } else { "id" }
            ),
        }),
    }
}

/// The DER DigestInfo (RFC 8017 §9.2, note 1: AlgorithmIdentifier with NULL parameters, then the
/// digest as an OCTET STRING) that CKM_RSA_PKCS pads and signs: the same bytes the `rsa` crate
/// builds for [`crate::sign::key::LocalSigner`]. `None` for MD5.
fn digest_info(alg: DigestAlg, digest: &[u8]) -> Option<Vec<u8>> {
    const SHA1: &[u8] = &[
        0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
    ];
    const SHA256: &[u8] = &[
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    const SHA384: &[u8] = &[
        0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
        0x05, 0x00, 0x04, 0x30,
    ];
    const SHA512: &[u8] = &[
        0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
        0x05, 0x00, 0x04, 0x40,
    ];
    let prefix = match alg {
        DigestAlg::Md5 => return None,
        DigestAlg::Sha1 => SHA1,
        DigestAlg::Sha256 => SHA256,
        DigestAlg::Sha384 => SHA384,
        DigestAlg::Sha512 => SHA512,
    };
    let mut info = prefix.to_vec();
    info.extend_from_slice(digest);
    Some(info)
}

/// What CKM_ECDSA signs for a `field`-byte curve: the digest's leftmost `field` bytes when it is
/// longer (FIPS 186-5 §6.4.1 uses the leftmost bits of the hash, as many as the group order
/// has, which for P-256 and P-384 is a whole number of bytes); left-padded with zeros when
/// shorter, which leaves its value unchanged. Both as `LocalSigner` does (the `ecdsa` crate
/// truncates a long prehash the same way), and a token need not accept an input longer than
/// the order.
fn ecdsa_input(digest: &[u8], field: usize) -> Vec<u8> {
    match digest.get(..field) {
        Some(left) => left.to_vec(),
        None => {
            let pad = field.saturating_sub(digest.len());
            let mut z = vec![0u8; pad];
            z.extend_from_slice(digest);
            z
        }
    }
}

impl Signer for Pkcs11Signer {
    fn kind(&self) -> KeyKind {
        self.kind
    }

    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }

    fn sign_digest(&self, alg: DigestAlg, digest: &[u8]) -> Result<Vec<u8>, SignDigestError> {
        check_digest(alg, digest, self.kind)?;
        // A busy pool is `SignDigestError::Busy` (a service answers 503); everything else is
        // `Backend`, text starting with "PKCS#11" and naming the CKR code: callers that count
        // device errors use `sign_digest_typed` or `errors()`.
        self.sign_digest_typed(alg, digest).map_err(|e| match e {
            Pkcs11Error::Busy { token, waited, .. } => SignDigestError::Busy {
                what: format!("PKCS#11 token {token}"),
                waited,
            },
            e => SignDigestError::Backend(format!("PKCS#11: {e}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODULE: &str = "?module-path=/usr/lib/softhsm/libsofthsm2.so";

    #[test]
    fn uri_full() {
        let uri = parse_uri(
            "pkcs11:token=My%20Token;manufacturer=SoftHSM%20project;serial=1234;model=SoftHSM%20v2;\
             object=release%3Bkey;id=%01%AB%ff;type=private\
             ?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin",
        )
        .unwrap();
        assert_eq!(uri.token.as_deref(), Some("My Token"));
        assert_eq!(uri.manufacturer.as_deref(), Some("SoftHSM project"));
        assert_eq!(uri.serial.as_deref(), Some("1234"));
        assert_eq!(uri.model.as_deref(), Some("SoftHSM v2"));
        assert_eq!(uri.object.as_deref(), Some("release;key"));
        assert_eq!(uri.id.as_deref(), Some(&[0x01u8, 0xab, 0xff][..]));
        assert_eq!(uri.object_type.as_deref(), Some("private"));
        assert_eq!(
            uri.module_path,
            PathBuf::from("/usr/lib/softhsm/libsofthsm2.so")
        );
        assert_eq!(
            uri.pin_source,
            Some(PinSource::File(PathBuf::from("/run/pin")))
        );
        assert_eq!(
            uri.describe_key(),
            "token=My Token;manufacturer=SoftHSM project;serial=1234;model=SoftHSM v2;\
             object=release;key;id=%01%ab%ff"
        );
    }

    #[test]
    fn uri_id_is_bytes_not_text() {
        // RFC 7512 §2.3: id is any bytes, not UTF-8.
        let uri = parse_uri(&format!("pkcs11:id=%00%80%fe{MODULE}")).unwrap();
        assert_eq!(uri.id, Some(vec![0x00, 0x80, 0xfe]));
        // The literal characters of an unencoded id are its bytes.
        let uri = parse_uri(&format!("pkcs11:id=ab{MODULE}")).unwrap();
        assert_eq!(uri.id, Some(b"ab".to_vec()));
    }

    #[test]
    fn uri_bad_percent_encoding() {
        for bad in ["pkcs11:object=a%2", "pkcs11:object=a%zz", "pkcs11:id=%"] {
            let e = parse_uri(&format!("{bad}{MODULE}")).unwrap_err();
            assert!(matches!(e, Pkcs11Error::Uri { .. }), "{bad}: {e}");
            assert!(e.to_string().contains("two hexadecimal digits"), "{e}");
        }
        let e = parse_uri(&format!("pkcs11:object=%ff{MODULE}")).unwrap_err();
        assert!(e.to_string().contains("not UTF-8"), "{e}");
    }

    #[test]
    fn uri_pin_value_refused_without_echoing_it() {
        let e = parse_uri(&format!("pkcs11:token=t{MODULE}&pin-value=123456")).unwrap_err();
        assert_eq!(e, Pkcs11Error::PinInUri);
        let text = e.to_string();
        assert!(!text.contains("123456"), "{text}");
        assert!(text.contains("pin-source=file:PATH"), "{text}");
        assert!(text.contains("ps"), "{text}");
        assert!(!format!("{e:?}").contains("123456"));
    }

    #[test]
    fn uri_unknown_attributes_named() {
        let e = parse_uri(&format!(
            "pkcs11:token=t;slot-id=3;x-vendor=1{MODULE}&frob=2"
        ))
        .unwrap_err();
        assert_eq!(
            e,
            Pkcs11Error::UnknownAttributes {
                names: vec!["slot-id".into(), "x-vendor".into(), "frob".into()]
            }
        );
        assert!(e.to_string().contains("slot-id, x-vendor, frob"), "{e}");
        // A path attribute in the query is not that attribute.
        let e = parse_uri(&format!("pkcs11:{MODULE}&token=t")).unwrap_err();
        assert!(matches!(e, Pkcs11Error::UnknownAttributes { .. }), "{e}");
    }

    #[test]
    fn uri_module_path_required() {
        let e = parse_uri("pkcs11:token=t").unwrap_err();
        assert!(e.to_string().contains("module-path"), "{e}");
        let e = parse_uri("pkcs11:token=t?module-name=softhsm2").unwrap_err();
        assert!(e.to_string().contains("module-name is not searched"), "{e}");
    }

    #[test]
    fn uri_scheme_duplicates_and_shape() {
        assert!(parse_uri("pkcs12:token=t?module-path=/m.so").is_err());
        assert!(parse_uri("PKCS11:token=t?module-path=/m.so").is_ok());
        let e = parse_uri("pkcs11:token=a;token=b?module-path=/m.so").unwrap_err();
        assert!(e.to_string().contains("given twice"), "{e}");
        let e = parse_uri("pkcs11:token?module-path=/m.so").unwrap_err();
        assert!(e.to_string().contains("name=value"), "{e}");
        let e = parse_uri("pkcs11:token=t?module-path=/m.so#frag").unwrap_err();
        assert!(e.to_string().contains("fragment"), "{e}");
        let e = parse_uri("pkcs11:type=secret-key?module-path=/m.so").unwrap_err();
        assert!(e.to_string().contains("type=secret-key"), "{e}");
    }

    #[test]
    fn uri_pin_sources() {
        let src =
            |s: &str| parse_uri(&format!("pkcs11:{MODULE}&pin-source={s}")).map(|u| u.pin_source);
        assert_eq!(
            src("file:///run/pin").unwrap(),
            Some(PinSource::File("/run/pin".into()))
        );
        assert_eq!(
            src("file://localhost/run/pin").unwrap(),
            Some(PinSource::File("/run/pin".into()))
        );
        assert_eq!(
            src("file:pin.txt").unwrap(),
            Some(PinSource::File("pin.txt".into()))
        );
        assert_eq!(
            src("file:/a%20b").unwrap(),
            Some(PinSource::File("/a b".into()))
        );
        assert_eq!(
            src("env:HSM_PIN").unwrap(),
            Some(PinSource::Env("HSM_PIN".into()))
        );
        assert!(src("file://host/run/pin").is_err());
        assert!(src("https://example.com/pin").is_err());
        assert!(src("env:").is_err());
    }

    #[test]
    fn pin_file_newline_stripped_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pin");
        std::fs::write(&path, "1234\n\n").unwrap();
        let pin = read_pin(&PinSource::File(path.clone())).unwrap();
        assert_eq!(pin.as_slice(), b"1234\n");
        std::fs::write(&path, "1234\r\n").unwrap();
        assert_eq!(
            read_pin(&PinSource::File(path.clone())).unwrap().as_slice(),
            b"1234"
        );
        std::fs::write(&path, vec![b'1'; 5000]).unwrap();
        let e = read_pin(&PinSource::File(path.clone())).unwrap_err();
        assert!(e.to_string().contains("not a PIN file"), "{e}");
        std::fs::write(&path, "\n").unwrap();
        let e = read_pin(&PinSource::File(path)).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
    }

    #[test]
    fn ecdsa_input_truncates_and_pads() {
        let d: Vec<u8> = (1..=48).collect();
        assert_eq!(ecdsa_input(&d, 32), d.get(..32).unwrap());
        assert_eq!(ecdsa_input(&d, 48), d);
        let short = [7u8; 20];
        let padded = ecdsa_input(&short, 48);
        assert_eq!(padded.len(), 48);
        assert_eq!(padded.get(..28).unwrap(), &[0u8; 28][..]);
        assert_eq!(padded.get(28..).unwrap(), &short[..]);
    }

    #[test]
    fn digest_info_matches_rsa_crate_prefixes() {
        for (alg, pad, len) in [
            (
                DigestAlg::Sha256,
                rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                32,
            ),
            (
                DigestAlg::Sha384,
                rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                48,
            ),
            (
                DigestAlg::Sha512,
                rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                64,
            ),
        ] {
            let info = digest_info(alg, &vec![0u8; len]).unwrap();
            assert_eq!(info.get(..pad.prefix.len()).unwrap(), &pad.prefix[..]);
            assert_eq!(info.len(), pad.prefix.len() + len);
        }
        assert!(digest_info(DigestAlg::Md5, &[0u8; 16]).is_none());
    }

    #[test]
    fn pool_bounds_leases_and_waits() {
        let wait = Duration::from_millis(50);
        let pool = Pool::new(2, Some(wait));
        let a = pool.lease("t").unwrap();
        let b = pool.lease("t").unwrap();
        let started = Instant::now();
        let e = pool.lease("t").err().unwrap();
        assert!(started.elapsed() >= wait, "{:?}", started.elapsed());
        assert_eq!(
            e,
            Pkcs11Error::Busy {
                token: "t".into(),
                sessions: 2,
                waited: wait
            }
        );
        assert_eq!(
            e.to_string(),
            "token t: all 2 sessions stayed busy for 50 ms; try again later"
        );
        assert!(!e.is_device_error());
        drop(a);
        let c = pool.lease("t").unwrap();
        // A waiter is woken when a lease ends, long before its bound.
        let patient = Pool::new(1, Some(Duration::from_secs(60)));
        let held = patient.lease("t").unwrap();
        std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let started = Instant::now();
                drop(patient.lease("t").unwrap());
                started.elapsed()
            });
            std::thread::sleep(Duration::from_millis(20));
            drop(held);
            assert!(waiter.join().unwrap() < Duration::from_secs(30));
        });
        drop((b, c));
        let state = pool.state();
        assert_eq!((state.leased, state.open, state.idle.len()), (0, 0, 0));
    }

    #[test]
    fn pool_of_no_sessions_refused() {
        let uri = parse_uri(&format!("pkcs11:token=t{MODULE}")).unwrap();
        let e = Pkcs11Signer::open_pool(&uri, 0, Duration::from_secs(1)).unwrap_err();
        assert_eq!(e, Pkcs11Error::PoolSize { sessions: 0 });
    }

    #[test]
    fn ckr_codes_named() {
        let e = device(
            "release",
            "C_Sign",
            CkError::Pkcs11(RvError::DeviceError, cryptoki::context::Function::Sign),
        );
        assert_eq!(e.ckr(), Some("CKR_DEVICE_ERROR"));
        assert!(e.is_device_error());
        assert_eq!(
            e.to_string(),
            "token release: C_Sign failed: CKR_DEVICE_ERROR (the device failed)"
        );
        let e = device(
            "release",
            "C_Login",
            CkError::Pkcs11(RvError::PinIncorrect, cryptoki::context::Function::Login),
        );
        assert_eq!(
            e,
            Pkcs11Error::WrongPin {
                token: "release".into()
            }
        );
        assert_eq!(e.to_string(), "wrong PIN for token release");
        assert!(!e.is_device_error());
    }
}
