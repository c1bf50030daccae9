//! `bingate sign elf`: what the user typed, resolved (keys read, the key matched against the
//! certificate) before the input is touched; then the plan from the input's headers, one pass
//! that copies the input to a temporary file next to the destination while hashing it, the
//! signature appended, the file renamed into place.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::ValueEnum;
use x509_cert::Certificate;

use super::key::{self, LocalSigner};
use crate::cms::Signer;
use crate::elfsig::{self, SignOptions};
use crate::hash::DigestAlg;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigestArg {
    Sha256,
    Sha384,
    Sha512,
}

impl DigestArg {
    pub fn alg(self) -> DigestAlg {
        match self {
            DigestArg::Sha256 => DigestAlg::Sha256,
            DigestArg::Sha384 => DigestAlg::Sha384,
            DigestArg::Sha512 => DigestAlg::Sha512,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfFormatArg {
    /// bingate's embedded `.bingate.sig` section (CMS with chain and optional timestamp).
    Section,
    /// The Linux kernel's appended module signature (as scripts/sign-file writes it).
    Module,
}

/// The environment variable an encrypted key's passphrase may come from.
pub const PASSPHRASE_ENV: &str = "BINGATE_KEY_PASSPHRASE";

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("destination").required(true).args(["output", "in_place"])))]
pub struct SignElfArgs {
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Digest algorithm.
    #[arg(long, value_enum, default_value = "sha256")]
    pub digest: DigestArg,
    /// Signature format.
    #[arg(long, value_enum, default_value = "section")]
    pub format: ElfFormatArg,
    /// RFC 3161 time-stamping authority (http://…; section format only).
    #[arg(long, value_name = "URL")]
    pub timestamp_url: Option<String>,
    /// Seconds to wait for the time-stamping authority.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timestamp_timeout: u64,
    /// Replace an existing signature instead of refusing.
    #[arg(long)]
    pub replace: bool,
    /// Write the signed file here (atomically).
    #[arg(long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Replace FILE with the signed file (atomically).
    #[arg(long)]
    pub in_place: bool,
    /// The ELF file to sign.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// A signing run made concrete: key, certificates, destination.
pub struct Resolved {
    pub signer: Box<dyn Signer>,
    pub cert: Certificate,
    pub chain: Vec<Certificate>,
    pub digest: DigestAlg,
    pub format: ElfFormatArg,
    pub timestamp_url: Option<String>,
    pub timestamp_timeout: Duration,
    pub replace: bool,
    pub input: PathBuf,
    pub dest: PathBuf,
}

/// Opens the file to sign (a regular file, at most DEFAULT_MAX_FILE_SIZE) and takes its
/// metadata from the same descriptor.
pub(crate) fn open_input(path: &Path) -> std::io::Result<(fs::File, fs::Metadata)> {
    let file = crate::input::open_regular(path)?;
    let meta = file.metadata()?;
    let max = crate::budget::DEFAULT_MAX_FILE_SIZE;
    if meta.len() > max {
        return Err(std::io::Error::other(format!(
            "{} bytes, larger than the {max}-byte limit",
            meta.len()
        )));
    }
    Ok((file, meta))
}

/// The input's bytes as the plan reads them (headers, tables, trailer): mapped, so only the pages
/// read cost memory, under the SIGBUS guard of `crate::mapped`. Where no guarded map can be had
/// (not Linux, or every guard slot taken) the file is read into memory instead.
pub(crate) enum View {
    Mapped(crate::mapped::Mapped),
    Read(Vec<u8>),
}

impl View {
    pub(crate) fn new(file: &fs::File, meta: &fs::Metadata) -> std::io::Result<View> {
        if meta.len() > 0 {
            if let Some(m) = crate::mapped::Mapped::new(file) {
                return m.map(View::Mapped);
            }
        }
        crate::input::read_snapshot(file, meta).map(View::Read)
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            View::Mapped(m) => m.bytes(),
            View::Read(v) => v,
        }
    }

    /// Whether a mapped page was read past the file's end (it shrank while being planned).
    pub(crate) fn faulted(&self) -> bool {
        matches!(self, View::Mapped(m) if m.faulted())
    }
}

/// Reads a key, certificate or passphrase file (regular files only, bounded).
pub(crate) fn read(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    crate::input::read_limited(path, crate::budget::MAX_SMALL_INPUT_SIZE)
        .map_err(|e| format!("{what} {}: {e}", path.display()))
}

impl SignElfArgs {
    /// Reads the key and certificates and checks that they belong together, before the input
    /// file is opened.
    pub fn resolve(self) -> Result<Resolved, String> {
        let (signer, cert, chain) = self.keys.resolve()?;
        if self.format == ElfFormatArg::Module && self.timestamp_url.is_some() {
            return Err("--timestamp-url: module signatures carry no timestamp (the kernel format has no place for one)".into());
        }
        if let Some(u) = &self.timestamp_url {
            check_timestamp_url(u)?;
        }
        let dest = match (&self.output, self.in_place) {
            (Some(o), _) => o.clone(),
            (None, true) => self.file.clone(),
            (None, false) => return Err("one of --output or --in-place is required".into()),
        };
        Ok(Resolved {
            signer,
            cert,
            chain,
            digest: self.digest.alg(),
            format: self.format,
            timestamp_url: self.timestamp_url,
            timestamp_timeout: Duration::from_secs(self.timestamp_timeout),
            replace: self.replace,
            input: self.file,
            dest,
        })
    }
}

/// Refuses a TSA URL bingate cannot use.
pub(crate) fn check_timestamp_url(u: &str) -> Result<(), String> {
    if u.starts_with("http://") {
        return Ok(());
    }
    Err(format!(
        "--timestamp-url {u}: only http:// is supported (RFC 3161 tokens are signed by the TSA, so its http:// endpoint is as safe)"
    ))
}

/// A signer, its certificate and the chain to embed.
pub type KeyAndCerts = (Box<dyn Signer>, Certificate, Vec<Certificate>);

/// The key and certificates of every `sign` command.
#[derive(clap::Args, Debug)]
pub struct KeyArgs {
    /// The private key: a key file (RSA PKCS#1/PKCS#8 or EC P-256/P-384 SEC1/PKCS#8, PEM or
    /// DER, encrypted PKCS#8 too), a PKCS#12 file (.pfx/.p12), or a PKCS#11 URI (RFC 7512,
    /// e.g. `pkcs11:token=release;object=signer?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin`).
    #[arg(long, value_name = "KEY|PFX|URI")]
    pub key: String,
    /// The signer's certificate (PEM or DER); further certificates in a PEM file are embedded
    /// as the chain. Optional with a PKCS#12 file or a PKCS#11 token that holds it.
    #[arg(long, value_name = "CERT")]
    pub cert: Option<PathBuf>,
    /// Intermediate certificates to embed (PEM).
    #[arg(long, value_name = "PEM")]
    pub chain: Option<PathBuf>,
    /// Where the passphrase of an encrypted key or a PKCS#12 file comes from: `env:VAR` or
    /// `file:PATH` (first line); never the command line. Default: BINGATE_KEY_PASSPHRASE.
    #[arg(long, value_name = "env:VAR|file:PATH")]
    pub pass: Option<String>,
    /// File holding the passphrase (first line); the same as `--pass file:FILE`.
    #[arg(long, value_name = "FILE", conflicts_with = "pass")]
    pub passphrase_file: Option<PathBuf>,
}

/// The first line of a passphrase file, without its line ending.
fn first_line(text: &[u8]) -> Vec<u8> {
    let line = text.split(|b| *b == b'\n').next().unwrap_or_default();
    line.strip_suffix(b"\r").unwrap_or(line).to_vec()
}

impl KeyArgs {
    /// The passphrase, from `--pass`, `--passphrase-file` or BINGATE_KEY_PASSPHRASE.
    fn passphrase(&self) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, String> {
        let from_file = |p: &Path| read(p, "--pass file").map(|t| first_line(&t));
        let pass = match (&self.pass, &self.passphrase_file) {
            (Some(spec), _) => {
                if let Some(var) = spec.strip_prefix("env:") {
                    let v = std::env::var_os(var)
                        .ok_or_else(|| format!("--pass env:{var}: the variable is not set"))?;
                    Some(v.into_encoded_bytes())
                } else if let Some(path) = spec.strip_prefix("file:") {
                    Some(from_file(Path::new(path))?)
                } else {
                    return Err(
                        "--pass: expected env:VAR or file:PATH (a passphrase on the \
                                command line is visible to other users)"
                            .into(),
                    );
                }
            }
            (None, Some(p)) => Some(from_file(p)?),
            (None, None) => std::env::var_os(PASSPHRASE_ENV).map(|v| v.into_encoded_bytes()),
        };
        Ok(pass.map(zeroize::Zeroizing::new))
    }

    /// The signer, its certificate and the chain to embed, checked to belong together before
    /// any input is opened.
    pub fn resolve(&self) -> Result<KeyAndCerts, String> {
        let mut chain = Vec::new();
        // The --cert file: the signer's certificate first, the rest is chain.
        let mut cert = match &self.cert {
            Some(p) => {
                let mut certs =
                    key::load_certificates(&read(p, "--cert")?, &p.display().to_string())
                        .map_err(|e| e.to_string())?;
                if certs.is_empty() {
                    return Err(format!("--cert {}: no certificate", p.display()));
                }
                let c = certs.remove(0);
                chain.extend(certs);
                Some(c)
            }
            None => None,
        };
        let signer: Box<dyn Signer> = if self.key.starts_with("pkcs11:") {
            let uri = super::pkcs11::parse_uri(&self.key).map_err(|e| format!("--key: {e}"))?;
            let token =
                super::pkcs11::Pkcs11Signer::open(&uri).map_err(|e| format!("--key: {e}"))?;
            if cert.is_none() {
                cert = token.certificate().map_err(|e| format!("--key: {e}"))?;
            }
            Box::new(token)
        } else {
            let path = Path::new(&self.key);
            let bytes = zeroize::Zeroizing::new(read(path, "--key")?);
            let origin = path.display().to_string();
            let pass = self.passphrase()?;
            if super::pkcs12::looks_like_pkcs12(&bytes) {
                let password = pass.as_deref().map_or(&b""[..], |p| p.as_slice());
                let contents =
                    super::pkcs12::load(&bytes, password, &origin).map_err(|e| e.to_string())?;
                if cert.is_none() {
                    cert = contents.cert;
                }
                chain.extend(contents.chain);
                Box::new(contents.signer)
            } else {
                let signer: LocalSigner =
                    key::load_private_key(&bytes, pass.as_deref().map(|p| p.as_slice()), &origin)
                        .map_err(|e| e.to_string())?;
                Box::new(signer)
            }
        };
        let cert = cert.ok_or_else(|| {
            format!(
                "no certificate for the key {}: give --cert (the key file, PKCS#12 file or token holds none)",
                self.key_for_messages()
            )
        })?;
        key::check_key_matches(signer.as_ref(), &cert).map_err(|e| e.to_string())?;
        if let Some(c) = &self.chain {
            chain.extend(
                key::load_certificates(&read(c, "--chain")?, &c.display().to_string())
                    .map_err(|e| e.to_string())?,
            );
        }
        // The signer's own certificate is not repeated in the chain.
        chain.retain(|c| c != &cert);
        Ok((signer, cert, chain))
    }

    /// The key as messages name it: a PKCS#11 URI without its query (module path and PIN
    /// source), a path as given.
    fn key_for_messages(&self) -> &str {
        match self.key.split_once('?') {
            Some((path, _)) if self.key.starts_with("pkcs11:") => path,
            _ => &self.key,
        }
    }
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Signs the input and writes the destination; a one-line summary goes to `out`.
///
/// The plan is made from the input's headers (mapped, not read: `View`); then one pass copies
/// the input into a temporary file beside the destination while hashing it
/// (`super::stream`), so the output is exactly the bytes that were hashed and signed; then the
/// tail holding the signature is appended and the file renamed into place. An input that
/// changes meanwhile (size, modification or change time) is refused: the plan was made from its
/// old headers. Memory does not grow with the input.
pub fn run(r: &Resolved, out: &mut dyn Write) -> Result<(), String> {
    let input_name = r.input.display().to_string();
    let in_err = |e: &dyn std::fmt::Display| format!("{input_name}: {e}");
    let dest_err = |e: &dyn std::fmt::Display| format!("{}: {e}", r.dest.display());
    let (file, meta) = open_input(&r.input).map_err(|e| in_err(&e))?;
    let view = View::new(&file, &meta).map_err(|e| in_err(&e))?;
    if matches!(
        crate::detect::sniff_bytes(view.bytes()),
        crate::detect::Sniffed::Binary(crate::facts::Format::Pe)
    ) {
        return Err(format!(
            "{input_name} is a PE file: `sign elf` signs ELF files (use `sign pe` for \
             Authenticode)"
        ));
    }
    let url = r.timestamp_url.clone();
    let timeout = r.timestamp_timeout;
    let digest = r.digest;
    let stamp = move |signature: &[u8]| -> Result<Vec<u8>, String> {
        let Some(url) = &url else {
            return Err("no TSA".into());
        };
        let imprint = crate::hash::digest(digest, signature).ok_or("unsupported digest")?;
        super::tsp::request(&super::tsp::TsaRequest {
            url,
            digest,
            imprint: &imprint,
            timeout,
        })
        .map(|t| t.der)
        .map_err(|e| e.to_string())
    };
    let opts = SignOptions {
        signer: r.signer.as_ref(),
        cert: &r.cert,
        chain: &r.chain,
        digest: r.digest,
        timestamper: r.timestamp_url.as_ref().map(|_| &stamp as _),
        replace: r.replace,
        signed_at: now(),
    };
    let plan = elfsig::Plan::new(view.bytes(), r.format == ElfFormatArg::Module, &opts)
        .map_err(|e| in_err(&e))?;
    let shrank = view.faulted();
    drop(view);
    if shrank {
        return Err(in_err(&"the file shrank while being read"));
    }
    let mut pending = super::output::begin(&r.dest).map_err(|e| dest_err(&e))?;
    let hashed = super::stream::copy_and_hash(
        &file,
        plan.pieces(),
        pending.file(),
        r.digest,
        plan.ranges(),
        super::stream::CHUNK,
    )
    .map_err(|e| match e {
        super::stream::StreamError::Write(e) => dest_err(&e),
        e => in_err(&e),
    })?;
    file.metadata()
        .and_then(|after| crate::input::unchanged(&meta, &after))
        .map_err(|e| in_err(&format!("{e}; nothing was written")))?;
    let finished = plan.finish(hashed, &opts).map_err(|e| in_err(&e))?;
    let streamed = plan
        .pieces()
        .iter()
        .fold(0u64, |a, p| a.saturating_add(p.len()));
    let added = streamed
        .saturating_add(finished.tail.len() as u64)
        .saturating_sub(plan.kept());
    pending
        .finish(
            &finished.tail,
            Some(super::output::without_privileges(meta.permissions())),
        )
        .map_err(|e| dest_err(&e))?;
    let what = match r.format {
        ElfFormatArg::Section => elfsig::SECTION_NAME,
        ElfFormatArg::Module => "appended module signature",
    };
    writeln!(
        out,
        "signed {} -> {} ({what}, {}, {added} bytes, signer {}{})",
        input_name,
        r.dest.display(),
        r.digest.name(),
        r.cert.tbs_certificate.subject,
        if r.timestamp_url.is_some() {
            ", timestamped"
        } else {
            ""
        }
    )
    .map_err(|e| e.to_string())
}
