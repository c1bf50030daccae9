//! `bingate audit verify|list`: check a signing server's audit log for tampering, and list its
//! records with filters.

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;
use der::{Decode, DecodePem};
use spki::SubjectPublicKeyInfoOwned;

use crate::audit::{Filter, Record, open_store, verify};

const AUDIT_VERIFY_EXIT_CODES: &str =
    "Exit codes: 0 when the log is intact; 1 when problems were found; 2 on errors.";

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the audit log's hash chain, indexed columns and signed checkpoints; every
    /// problem is named with its seq or checkpoint.
    #[command(after_help = AUDIT_VERIFY_EXIT_CODES)]
    Verify(AuditVerifyArgs),
    /// List audit records, oldest first. Exit 0, or 2 on errors.
    List(AuditListArgs),
}

#[derive(clap::Args, Debug)]
pub struct AuditVerifyArgs {
    /// The store: `sqlite:PATH`, a path, or `postgres://USER:PASSWORD@HOST/DB`.
    #[arg(long, value_name = "URL")]
    pub store: String,
    /// The log's checkpoint key (a PEM public key or certificate, or DER): checkpoints must be
    /// signed by it. Without it, signatures are checked against the key stored with them only.
    #[arg(long, value_name = "PEM")]
    pub log_key: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutcomeArg {
    Signed,
    Refused,
}

#[derive(clap::Args, Debug)]
pub struct AuditListArgs {
    /// The store: `sqlite:PATH`, a path, or `postgres://USER:PASSWORD@HOST/DB`.
    #[arg(long, value_name = "URL")]
    pub store: String,
    /// Only records of this key name.
    #[arg(long, value_name = "K")]
    pub key: Option<String>,
    /// Only records of this client (`token:NAME` or `cert:SHA256HEX`).
    #[arg(long, value_name = "C")]
    pub client: Option<String>,
    /// Only records at or after this time (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    pub since: Option<String>,
    /// Only records at or before this time (RFC 3339).
    #[arg(long, value_name = "RFC3339")]
    pub until: Option<String>,
    /// Only records whose file SHA-256, signed digest or signature SHA-256 is HEX.
    #[arg(long, value_name = "HEX")]
    pub digest: Option<String>,
    /// Only signatures or only refusals.
    #[arg(long, value_enum)]
    pub outcome: Option<OutcomeArg>,
    /// JSON lines: `{"seq":N,"record":BODY}` with the stored body as it is.
    #[arg(long)]
    pub json: bool,
    /// At most N records.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
}

/// Runs `cmd`; `Ok` is the exit code, `Err` the message for stderr (exit 2).
pub fn run(cmd: AuditCommand, out: &mut impl Write) -> Result<u8, String> {
    match cmd {
        AuditCommand::Verify(args) => run_verify(&args, out),
        AuditCommand::List(args) => run_list(&args, out),
    }
}

/// The public key in a PEM `PUBLIC KEY` block, a PEM or DER certificate, or a DER SPKI.
fn load_log_key(path: &PathBuf) -> Result<SubjectPublicKeyInfoOwned, String> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("--log-key {origin}: {e}"))?;
    let text = String::from_utf8_lossy(&bytes);
    if text.contains("-----BEGIN PUBLIC KEY-----") {
        let start = text.find("-----BEGIN PUBLIC KEY-----").unwrap_or(0);
        let pem = text.get(start..).unwrap_or_default();
        let end = pem
            .find("-----END PUBLIC KEY-----")
            .map(|e| e.saturating_add("-----END PUBLIC KEY-----".len()))
            .unwrap_or(pem.len());
        return SubjectPublicKeyInfoOwned::from_pem(pem.get(..end).unwrap_or(pem))
            .map_err(|e| format!("--log-key {origin}: not a public key: {e}"));
    }
    if let Ok(spki) = SubjectPublicKeyInfoOwned::from_der(&bytes) {
        return Ok(spki);
    }
    let certs = crate::sign::key::load_certificates(&bytes, &origin)
        .map_err(|e| format!("--log-key {origin}: neither a public key nor a certificate: {e}"))?;
    match certs.as_slice() {
        [cert] => Ok(cert.tbs_certificate.subject_public_key_info.clone()),
        _ => Err(format!(
            "--log-key {origin}: {} certificates; give the log key's only",
            certs.len()
        )),
    }
}

/// Opens an existing store: reading a log must not create an empty one where a path was
/// mistyped (and then call it intact).
fn open_existing(url: &str) -> Result<Box<dyn crate::audit::Store>, String> {
    if !url.contains("://") {
        let path = url.strip_prefix("sqlite:").unwrap_or(url);
        if !path.is_empty() && !std::path::Path::new(path).is_file() {
            return Err(format!("audit store sqlite:{path}: no such file"));
        }
    }
    open_store(url).map_err(|e| e.to_string())
}

fn run_verify(args: &AuditVerifyArgs, out: &mut impl Write) -> Result<u8, String> {
    let key = args.log_key.as_ref().map(load_log_key).transpose()?;
    let store = open_existing(&args.store)?;
    let report = verify(store.as_ref(), key.as_ref()).map_err(|e| e.to_string())?;
    report.render(out).map_err(|e| e.to_string())?;
    Ok(if report.is_ok() { 0 } else { 1 })
}

/// `--since`/`--until` as the `time` column writes it (`YYYY-MM-DDTHH:MM:SSZ`).
fn normalize_time(flag: &str, value: &Option<String>) -> Result<Option<String>, String> {
    value
        .as_ref()
        .map(|v| {
            crate::time::parse_rfc3339(v)
                .map(crate::time::show)
                .ok_or_else(|| format!("{flag} {v:?}: not an RFC 3339 time"))
        })
        .transpose()
}

fn run_list(args: &AuditListArgs, out: &mut impl Write) -> Result<u8, String> {
    let digest = match &args.digest {
        Some(d) if !d.is_empty() && d.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(d.to_ascii_lowercase())
        }
        Some(d) => return Err(format!("--digest {d:?}: not hexadecimal")),
        None => None,
    };
    let filter = Filter {
        key: args.key.clone(),
        client: args.client.clone(),
        since: normalize_time("--since", &args.since)?,
        until: normalize_time("--until", &args.until)?,
        digest,
        outcome: args.outcome.map(|o| match o {
            OutcomeArg::Signed => "signed".to_owned(),
            OutcomeArg::Refused => "refused".to_owned(),
        }),
        after_seq: 0,
    };
    let store = open_existing(&args.store)?;
    let mut shown: u64 = 0;
    let mut io_error = None;
    let limit = args.limit;
    store
        .records(&filter, &mut |r| {
            if limit.is_some_and(|l| shown >= l) {
                return Ok(false);
            }
            let written = if args.json {
                writeln!(out, "{{\"seq\":{},\"record\":{}}}", r.seq, r.body)
            } else {
                line(out, r.seq, &r.body)
            };
            if let Err(e) = written {
                io_error = Some(e);
                return Ok(false);
            }
            shown = shown.saturating_add(1);
            Ok(limit.is_none_or(|l| shown < l))
        })
        .map_err(|e| e.to_string())?;
    match io_error {
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Some(e) => Err(e.to_string()),
        None => Ok(0),
    }
}

/// One record for people: seq, time, outcome, key, client, format, file name, file SHA-256
/// prefix; terminal controls escaped.
fn line(out: &mut impl Write, seq: u64, body: &str) -> std::io::Result<()> {
    let Ok(r) = serde_json::from_str::<Record>(body) else {
        return writeln!(out, "{seq:>8}  (body is not an audit record)");
    };
    let esc = |s: &str| crate::escape::text(s).into_owned();
    let sha = r
        .file_sha256
        .as_deref()
        .map(|s| format!("{}…", s.get(..16).unwrap_or(s)))
        .unwrap_or_else(|| "-".to_owned());
    writeln!(
        out,
        "{seq:>8}  {}  {:<7}  {}  {}  {}  {}  {}",
        esc(&r.time),
        esc(&r.outcome),
        esc(&r.key),
        esc(&r.client),
        esc(&r.format),
        esc(r.file_name.as_deref().unwrap_or("-")),
        esc(&sha)
    )
}
