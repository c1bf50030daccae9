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
    #[command(flatten)]
    pub remote: super::remote::client::ServerArgs,
}

/// A signing server's key, as `sign elf --server` resolved it.
pub struct RemoteKey {
    pub client: super::remote::client::Client,
    /// The server's URL as given.
    pub url: String,
    /// The key's name on the server.
    pub name: String,
    /// Whether the server timestamps this key's signatures.
    pub timestamped: bool,
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
    /// With `--server`: the server that signs (then `signer` only sizes the signature: a
    /// [`crate::cms::build::CertificateKey`] of the server's certificate).
    pub remote: Option<RemoteKey>,
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
        if self.remote.server.is_some() {
            return self.resolve_remote();
        }
        let (signer, cert, chain) = self.keys.resolve()?;
        if self.format == ElfFormatArg::Module && self.timestamp_url.is_some() {
            return Err("--timestamp-url: module signatures carry no timestamp (the kernel format has no place for one)".into());
        }
        if let Some(u) = &self.timestamp_url {
            check_timestamp_url(u)?;
        }
        let dest = destination(&self.output, self.in_place, &self.file)?;
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
            remote: None,
        })
    }

    /// `--server`: the key's certificate and chain as the server lists them, before the input
    /// is touched.
    fn resolve_remote(self) -> Result<Resolved, String> {
        let refused = [
            ("--cert", self.keys.cert.is_some()),
            ("--chain", self.keys.chain.is_some()),
            ("--pass", self.keys.pass.is_some()),
            ("--passphrase-file", self.keys.passphrase_file.is_some()),
            ("--timestamp-url", self.timestamp_url.is_some()),
        ];
        if let Some((flag, _)) = refused.iter().find(|(_, given)| *given) {
            return Err(format!(
                "{flag} cannot be used with --server: the server holds the key and its \
                 certificates, and timestamps as its configuration says"
            ));
        }
        let dest = destination(&self.output, self.in_place, &self.file)?;
        let (client, url) = self
            .remote
            .client()?
            .ok_or("--server is required for a server key")?;
        let name = self.keys.key.clone();
        let info = client
            .key(&name)
            .map_err(|e| format!("--server {url}: key {name:?}: {e}"))?;
        let format = match self.format {
            ElfFormatArg::Section => super::remote::Format::ElfSection,
            ElfFormatArg::Module => super::remote::Format::ElfModule,
        };
        if !info.formats.contains(&format) {
            return Err(format!(
                "--server {url}: key {name:?} does not sign {} (it signs: {})",
                format.as_str(),
                info.formats
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let der_cert = |what: &str, b64: &str| -> Result<Certificate, String> {
            use der::Decode;
            super::remote::unb64(b64)
                .and_then(|d| Certificate::from_der(&d).ok())
                .ok_or_else(|| {
                    format!("--server {url}: key {name:?}: its {what} is not a DER certificate")
                })
        };
        let cert = der_cert("certificate", &info.certificate)?;
        let chain = info
            .chain
            .iter()
            .map(|c| der_cert("chain", c))
            .collect::<Result<Vec<_>, _>>()?;
        let signer = crate::cms::build::CertificateKey::from_certificate(&cert)
            .map_err(|e| format!("--server {url}: key {name:?}: {e}"))?;
        Ok(Resolved {
            signer: Box::new(signer),
            cert,
            chain,
            digest: self.digest.alg(),
            format: self.format,
            timestamp_url: None,
            timestamp_timeout: Duration::from_secs(self.timestamp_timeout),
            replace: self.replace,
            input: self.file,
            dest,
            remote: Some(RemoteKey {
                client,
                url,
                name,
                timestamped: info.timestamped && self.format == ElfFormatArg::Section,
            }),
        })
    }
}

/// Where the signed file goes: `--output`, or the input itself with `--in-place`.
fn destination(output: &Option<PathBuf>, in_place: bool, file: &Path) -> Result<PathBuf, String> {
    match (output, in_place) {
        (Some(o), _) => Ok(o.clone()),
        (None, true) => Ok(file.to_path_buf()),
        (None, false) => Err("one of --output or --in-place is required".into()),
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

/// Looks at a file's bytes (the input, or the signed output before it is renamed into place).
type BytesHook<'a> = &'a dyn Fn(&[u8]) -> Result<(), String>;

/// What the core of signing needs besides the plan: where the CMS comes from, and what the
/// caller wants to see on the way.
struct Core<'a> {
    input: &'a Path,
    dest: &'a Path,
    module: bool,
    opts: &'a SignOptions<'a>,
    /// `Some`: the CMS is made by this function ([`elfsig::Plan::finish_with`]), with room for a
    /// timestamp when the flag says so; `None`: by `opts.signer`.
    make: Option<(elfsig::MakeCms<'a>, bool)>,
    /// Called with the input's bytes (mapped) once the plan is made, before anything is
    /// streamed.
    on_input: Option<BytesHook<'a>>,
    /// Filled with the SHA-256 of every byte of the input, computed by the streaming pass,
    /// before the CMS is made.
    whole_sha256: Option<&'a std::cell::OnceCell<Vec<u8>>>,
    /// Checks the signed file, written but not yet renamed into place.
    check_output: Option<BytesHook<'a>>,
}

/// The input as `super::stream` reads it, hashing every byte of the input once, in order, on
/// the way (bytes the plan skips, such as a signature being replaced, are read for the digest
/// only; bytes the plan reads twice are hashed once): the whole file's SHA-256 from the same
/// pass.
struct WholeHashing<'a> {
    file: &'a fs::File,
    /// (hashed up to this offset, the digest so far)
    state: std::sync::Mutex<(u64, sha2::Sha256)>,
}

/// Hashes `file` from where `st` is up to `to` (bytes the pieces skipped), in 64 KiB reads.
fn catch_up(file: &fs::File, st: &mut (u64, sha2::Sha256), to: u64) -> std::io::Result<()> {
    use sha2::Digest;
    let mut buf = vec![0u8; 64 << 10];
    while st.0 < to {
        let n = usize::try_from(to.saturating_sub(st.0))
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let chunk = buf.get_mut(..n).unwrap_or_default();
        crate::input::read_exact_at(file, chunk, st.0)?;
        st.1.update(&*chunk);
        st.0 = st.0.saturating_add(n as u64);
    }
    Ok(())
}

impl WholeHashing<'_> {
    /// The SHA-256 of the input's first `len` bytes (all of it).
    fn finish(self, len: u64) -> std::io::Result<Vec<u8>> {
        use sha2::Digest;
        let mut st = self
            .state
            .into_inner()
            .map_err(|_| std::io::Error::other("hashing state poisoned"))?;
        catch_up(self.file, &mut st, len)?;
        Ok(st.1.finalize().to_vec())
    }
}

impl super::stream::Source for WholeHashing<'_> {
    fn read_exact_at(&self, dst: &mut [u8], offset: u64) -> std::io::Result<()> {
        use sha2::Digest;
        let mut st = self
            .state
            .lock()
            .map_err(|_| std::io::Error::other("hashing state poisoned"))?;
        catch_up(self.file, &mut st, offset)?;
        crate::input::read_exact_at(self.file, dst, offset)?;
        let end = offset.saturating_add(dst.len() as u64);
        if end > st.0 {
            let new = usize::try_from(st.0.saturating_sub(offset)).unwrap_or(usize::MAX);
            st.1.update(dst.get(new..).unwrap_or_default());
            st.0 = end;
        }
        Ok(())
    }
}

/// What [`sign_core`] did.
struct Done {
    /// Bytes added to the input.
    added: u64,
}

/// Signs `c.input` into `c.dest`: the plan from the input's headers (mapped, not read: `View`);
/// one pass that copies the input into a temporary file beside the destination while hashing
/// it (`super::stream`), so the output is exactly the bytes that were hashed and signed; the
/// tail holding the signature appended; the file checked and renamed into place. An input that
/// changes meanwhile (size, modification or change time) is refused: the plan was made from
/// its old headers. Memory does not grow with the input.
fn sign_core(c: &Core<'_>) -> Result<Done, String> {
    let input_name = c.input.display().to_string();
    let in_err = |e: &dyn std::fmt::Display| format!("{input_name}: {e}");
    let dest_err = |e: &dyn std::fmt::Display| format!("{}: {e}", c.dest.display());
    let (file, meta) = open_input(c.input).map_err(|e| in_err(&e))?;
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
    let plan = match c.make {
        Some((_, timestamped)) => {
            elfsig::Plan::new_reserving(view.bytes(), c.module, c.opts, timestamped)
        }
        None => elfsig::Plan::new(view.bytes(), c.module, c.opts),
    }
    .map_err(|e| in_err(&e))?;
    if let Some(f) = c.on_input {
        f(view.bytes()).map_err(|e| in_err(&e))?;
    }
    let shrank = view.faulted();
    drop(view);
    if shrank {
        return Err(in_err(&"the file shrank while being read"));
    }
    let mut pending = super::output::begin(c.dest).map_err(|e| dest_err(&e))?;
    let stream_err = |e: super::stream::StreamError| match e {
        super::stream::StreamError::Write(e) => dest_err(&e),
        e => in_err(&e),
    };
    let hashed = match c.whole_sha256 {
        None => super::stream::copy_and_hash(
            &file,
            plan.pieces(),
            pending.file(),
            c.opts.digest,
            plan.ranges(),
            super::stream::CHUNK,
        )
        .map_err(stream_err)?,
        Some(cell) => {
            use sha2::Digest;
            let source = WholeHashing {
                file: &file,
                state: std::sync::Mutex::new((0, sha2::Sha256::new())),
            };
            let hashed = super::stream::copy_and_hash(
                &source,
                plan.pieces(),
                pending.file(),
                c.opts.digest,
                plan.ranges(),
                super::stream::CHUNK,
            )
            .map_err(stream_err)?;
            let whole = source.finish(meta.len()).map_err(|e| in_err(&e))?;
            let _ = cell.set(whole);
            hashed
        }
    };
    file.metadata()
        .and_then(|after| crate::input::unchanged(&meta, &after))
        .map_err(|e| in_err(&format!("{e}; nothing was written")))?;
    let finished = match c.make {
        Some((make, _)) => plan.finish_with(hashed, c.opts, make),
        None => plan.finish(hashed, c.opts),
    }
    .map_err(|e| in_err(&e))?;
    let streamed = plan
        .pieces()
        .iter()
        .fold(0u64, |a, p| a.saturating_add(p.len()));
    let added = streamed
        .saturating_add(finished.tail.len() as u64)
        .saturating_sub(plan.kept());
    {
        let out = pending.file();
        out.write_all(&finished.tail)
            .and_then(|()| out.flush())
            .map_err(|e| dest_err(&e))?;
    }
    if let Some(check) = c.check_output {
        let out = pending.file();
        let out_meta = out.metadata().map_err(|e| dest_err(&e))?;
        let written = View::new(out, &out_meta).map_err(|e| dest_err(&e))?;
        check(written.bytes()).map_err(|e| dest_err(&format!("{e}; nothing was written")))?;
    }
    pending
        .finish(
            &[],
            Some(super::output::without_privileges(meta.permissions())),
        )
        .map_err(|e| dest_err(&e))?;
    Ok(Done { added })
}

/// The stamping closure of a local run: asks `url` for a token over a signature value.
fn tsa_stamper(
    url: Option<String>,
    timeout: Duration,
    digest: DigestAlg,
) -> impl Fn(&[u8]) -> Result<Vec<u8>, String> + Sync {
    move |signature: &[u8]| -> Result<Vec<u8>, String> {
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
    }
}

/// Signs the input and writes the destination; a one-line summary goes to `out`. With
/// [`Resolved::remote`] the server makes the signature ([`run_remote`]).
///
/// The plan is made from the input's headers (mapped, not read); then one pass copies the input
/// into a temporary file beside the destination while hashing it, so the output is exactly the
/// bytes that were hashed and signed; then the tail holding the signature is appended and the
/// file renamed into place. An input that changes meanwhile is refused. Memory does not grow
/// with the input.
pub fn run(r: &Resolved, out: &mut dyn Write) -> Result<(), String> {
    if let Some(remote) = &r.remote {
        return run_remote(r, remote, out);
    }
    let stamp = tsa_stamper(r.timestamp_url.clone(), r.timestamp_timeout, r.digest);
    let opts = SignOptions {
        signer: r.signer.as_ref(),
        cert: &r.cert,
        chain: &r.chain,
        digest: r.digest,
        timestamper: r.timestamp_url.as_ref().map(|_| &stamp as _),
        replace: r.replace,
        signed_at: now(),
    };
    let done = sign_core(&Core {
        input: &r.input,
        dest: &r.dest,
        module: r.format == ElfFormatArg::Module,
        opts: &opts,
        make: None,
        on_input: None,
        whole_sha256: None,
        check_output: None,
    })?;
    summary(r, done.added, out, r.timestamp_url.is_some())?;
    writeln!(out).map_err(|e| e.to_string())
}

/// The one-line summary, without its line end.
fn summary(r: &Resolved, added: u64, out: &mut dyn Write, stamped: bool) -> Result<(), String> {
    let what = match r.format {
        ElfFormatArg::Section => elfsig::SECTION_NAME,
        ElfFormatArg::Module => "appended module signature",
    };
    write!(
        out,
        "signed {} -> {} ({what}, {}, {added} bytes, signer {}{})",
        r.input.display(),
        r.dest.display(),
        r.digest.name(),
        r.cert.tbs_certificate.subject,
        if stamped { ", timestamped" } else { "" }
    )
    .map_err(|e| e.to_string())
}

/// Checks a signature the server returned before it is written: the section format's must
/// carry exactly the manifest sent and verify over it with the key's certificate; the module
/// format's must be detached, without attributes, and verify over the module's digest.
fn check_returned(
    der: &[u8],
    format: super::remote::Format,
    alg: DigestAlg,
    signed: &[u8],
    cert: &Certificate,
) -> Result<(), String> {
    let opened = crate::cms::open::open(der, "the server's SignedData")
        .map_err(|e| format!("the server's signature does not open: {e}"))?;
    let si = opened
        .only_signer()
        .ok_or("the server's signature does not have exactly one SignerInfo")?;
    let encap = &opened.signed_data.encap;
    match format {
        super::remote::Format::ElfSection => {
            let carried = encap
                .econtent
                .as_ref()
                .and_then(|c| c.decode_as::<der::asn1::OctetString>().ok());
            if carried.as_ref().map(|c| c.as_bytes()) != Some(signed) {
                return Err("the server's signature does not carry the manifest sent".into());
            }
            let check = crate::cms::signer::verify_signer_info(si, signed, Some(cert));
            if !check.message_digest_match || !check.signature_valid {
                return Err(format!(
                    "the server's signature does not verify over the manifest with the key's certificate: {}",
                    check.error.unwrap_or_default()
                ));
            }
        }
        _ => {
            if encap.econtent.is_some() || si.signed_attrs.is_some() {
                return Err(
                    "the server's module signature is not detached and without attributes".into(),
                );
            }
            if DigestAlg::from_oid(&si.digest_alg.oid.to_string()) != Some(alg) {
                return Err(format!(
                    "the server's module signature is not over a {} digest",
                    alg.name()
                ));
            }
            crate::pki::keys::verify_prehashed(
                &cert.tbs_certificate.subject_public_key_info,
                alg,
                signed,
                si.signature.as_bytes(),
                false,
            )
            .map_err(|e| {
                format!(
                    "the server's module signature does not verify over the module's digest: {e}"
                )
            })?;
        }
    }
    Ok(())
}

/// Checks a signed file as `bingate verify` would: our signature must read valid or untrusted
/// (no trust anchors are given here; a module signature is checked against the key's
/// certificate), signed by `cert`.
fn check_signed_file(data: &[u8], cert: &Certificate, at: u64) -> Result<(), String> {
    let none = crate::pki::trust::TrustStore::default();
    let env = crate::cms::verdict::VerifyEnv {
        anchors: &none,
        at,
        strict: false,
        require_all: true,
        revoked: &|_, _| None,
    };
    let v = elfsig::verify(data, &env, std::slice::from_ref(cert));
    use crate::cms::verdict::Status;
    let ours = v.signatures.first();
    let status = ours.map_or(v.status, |s| s.status);
    if !matches!(status, Status::Valid | Status::Untrusted) {
        return Err(format!(
            "the signed output does not verify ({}: {})",
            status.as_str(),
            v.why(ours)
        ));
    }
    Ok(())
}

/// `sign elf --server`: the plan sized from the certificate and chain the server lists; one
/// pass over the input computes the digests and the input's SHA-256 (recorded by the server);
/// then the server is asked for the signature (the manifest, or the module's digest), the
/// answer checked (the section signature must carry the manifest sent and verify over it with
/// the key's certificate, the module signature verify over the module's digest), the output
/// written, verified as `bingate verify` would,
/// and renamed into place.
///
/// With a timestamped key a token may outgrow the room reserved for it: the tail is laid out
/// again and the server asked again (at most a few times, as for a local TSA). Each request is
/// a new signature, and a new audited record on the server; the summary names the last.
pub fn run_remote(r: &Resolved, remote: &RemoteKey, out: &mut dyn Write) -> Result<(), String> {
    use std::cell::{OnceCell, RefCell};
    let format = match r.format {
        ElfFormatArg::Section => super::remote::Format::ElfSection,
        ElfFormatArg::Module => super::remote::Format::ElfModule,
    };
    let file_name = r
        .input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| r.input.display().to_string());
    let signed_at = now();
    let opts = SignOptions {
        signer: r.signer.as_ref(),
        cert: &r.cert,
        chain: &r.chain,
        digest: r.digest,
        timestamper: None,
        replace: r.replace,
        signed_at,
    };
    // The client's check report of the file: the facts the key's policy is evaluated on.
    let evidence: OnceCell<serde_json::Value> = OnceCell::new();
    let on_input = |data: &[u8]| -> Result<(), String> {
        let report = crate::scan::examine(data, &r.input, None, None);
        let value = serde_json::to_value(&report).map_err(|e| format!("the check report: {e}"))?;
        let _ = evidence.set(value);
        Ok(())
    };
    let whole: OnceCell<Vec<u8>> = OnceCell::new();
    let answered: RefCell<Option<super::remote::DigestResponse>> = RefCell::new(None);
    let make = |signed: &[u8]| -> Result<Vec<u8>, String> {
        let (digest, manifest) = match format {
            super::remote::Format::ElfSection => {
                let text = std::str::from_utf8(signed)
                    .map_err(|_| "the manifest is not UTF-8".to_owned())?;
                let d = crate::hash::digest(r.digest, signed).ok_or("unsupported digest")?;
                (d, Some(text.to_owned()))
            }
            _ => (signed.to_vec(), None),
        };
        let request = super::remote::DigestRequest {
            key: remote.name.clone(),
            format,
            file_name: file_name.clone(),
            file_sha256: whole
                .get()
                .map(|d| super::remote::hex(d))
                .ok_or("internal error: the input's SHA-256 was not computed")?,
            digest_alg: r.digest.name().to_owned(),
            digest: super::remote::hex(&digest),
            manifest,
            description: None,
            url: None,
            evidence: evidence.get().cloned(),
        };
        let response = remote
            .client
            .sign_digest(&request)
            .map_err(|e| format!("--server {}: {e}", remote.url))?;
        let der = super::remote::unb64(&response.signature).ok_or_else(|| {
            format!(
                "--server {}: the signature is not base64 (request {})",
                remote.url, response.request_id
            )
        })?;
        if super::remote::hex(&crate::hash::sha256(&der)) != response.signature_sha256 {
            return Err(format!(
                "--server {}: the signature's SHA-256 is not the one the server recorded (request {})",
                remote.url, response.request_id
            ));
        }
        check_returned(&der, format, r.digest, signed, &r.cert).map_err(|e| {
            format!(
                "--server {}: {e} (request {}, audit record {})",
                remote.url, response.request_id, response.audit_seq
            )
        })?;
        *answered.borrow_mut() = Some(response);
        Ok(der)
    };
    let check = |data: &[u8]| check_signed_file(data, &r.cert, signed_at);
    let done = sign_core(&Core {
        input: &r.input,
        dest: &r.dest,
        module: r.format == ElfFormatArg::Module,
        opts: &opts,
        make: Some((&make, remote.timestamped)),
        on_input: Some(&on_input),
        whole_sha256: Some(&whole),
        check_output: Some(&check),
    })?;
    let answered = answered.into_inner();
    let stamped = answered
        .as_ref()
        .is_some_and(|a| a.timestamp_time.is_some());
    summary(r, done.added, out, stamped)?;
    writeln!(
        out,
        " (server {}, key {}, audit record {})",
        remote.url,
        remote.name,
        answered.map_or_else(|| "?".to_owned(), |a| a.audit_seq.to_string())
    )
    .map_err(|e| e.to_string())
}

/// A file signed by [`sign_file`].
#[derive(Debug, Clone)]
pub struct ElfSigned {
    pub format: crate::sign::remote::Format,
    pub digest_alg: DigestAlg,
    /// The manifest's digest (section format) or the module's digest (module format).
    pub digest: Vec<u8>,
    /// The CMS SignedData, DER.
    pub signature: Vec<u8>,
    /// The timestamp token's time (Unix seconds), when timestamped.
    pub timestamp_time: Option<u64>,
}

/// Signs `input` into `dest` (atomically; `dest` may be `input`) with resolved key material:
/// the whole-file signing of `bingate serve`, the same plan, pass and signature as `sign elf`
/// (`module`: the appended kernel module format, else the `.bingate.sig` section). The section
/// format is timestamped when `key.timestamper` is given; the module format never is (the
/// kernel's format has no place for a token). Returns what was signed.
pub fn sign_file(
    input: &Path,
    dest: &Path,
    key: &crate::sign::digest::KeyMaterial<'_>,
    module: bool,
    digest: DigestAlg,
    replace: bool,
    signed_at: u64,
) -> Result<ElfSigned, String> {
    use std::cell::RefCell;
    let timestamper = if module { None } else { key.timestamper };
    let opts = SignOptions {
        signer: key.signer,
        cert: key.cert,
        chain: key.chain,
        digest,
        timestamper,
        replace,
        signed_at,
    };
    let made: RefCell<Option<(Vec<u8>, Vec<u8>)>> = RefCell::new(None);
    let make = |signed: &[u8]| -> Result<Vec<u8>, String> {
        let (d, der) = if module {
            let der = crate::cms::build::module_signature(key.signer, key.cert, digest, signed)
                .map_err(|e| e.to_string())?;
            (signed.to_vec(), der)
        } else {
            let der = crate::cms::build::attached_signature(
                key.signer,
                key.cert,
                key.chain,
                digest,
                signed,
                signed_at,
                timestamper,
            )
            .map_err(|e| e.to_string())?;
            let d = crate::hash::digest(digest, signed).ok_or("unsupported digest")?;
            (d, der)
        };
        *made.borrow_mut() = Some((d, der.clone()));
        Ok(der)
    };
    sign_core(&Core {
        input,
        dest,
        module,
        opts: &opts,
        make: Some((&make, timestamper.is_some())),
        on_input: None,
        whole_sha256: None,
        check_output: None,
    })?;
    let (digest_bytes, signature) = made
        .into_inner()
        .ok_or("internal error: no signature was made")?;
    let timestamp_time = if timestamper.is_some() {
        crate::cms::build::token_time(&signature)?
    } else {
        None
    };
    Ok(ElfSigned {
        format: if module {
            crate::sign::remote::Format::ElfModule
        } else {
            crate::sign::remote::Format::ElfSection
        },
        digest_alg: digest,
        digest: digest_bytes,
        signature,
        timestamp_time,
    })
}
