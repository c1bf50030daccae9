//! The PKCS#11 signer (`bingate::sign::pkcs11`) against a SoftHSM2 token built from the test PKI.
//!
//! `softhsm_token` builds the token in a temporary directory with its own `SOFTHSM2_CONF`
//! (`directories.tokendir = <tmp>`): `softhsm2-util --init-token`, the test keys of
//! `corpus/pki` imported with `softhsm2-util --import`, their certificates written with
//! `pkcs11-tool --write-object --type cert`. It then runs this test binary again, as a child
//! process with `SOFTHSM2_CONF` in the child's environment only, to run
//! `softhsm_cases_in_child` (ignored otherwise): PKCS#11 initialisation and login state are
//! per process, so the cases run serially in that one child, in a fixed order.
//!
//! Without SoftHSM2, OpenSC's `pkcs11-tool` or `openssl` the test is skipped, and fails under
//! `BINGATE_REQUIRE_INTEROP=1` (see `common::interop`).
//!
//! The token:
//!
//! | label | id | key | public key object | certificate |
//! |---|---|---|---|---|
//! | `rsa` | 01 | leaf-rsa.key (RSA-2048) | yes | leaf-rsa.pem |
//! | `ec256` | 02 | leaf-ecdsa.key (P-256) | deleted: read from the certificate | leaf-ecdsa.pem |
//! | `ec384` | 03 | leaf-ecdsa384.key (P-384) | yes | leaf-ecdsa384.pem |
//! | `twin` | 10 | leaf-expired.key | yes | leaf-rsa.pem (another key's: an error) |
//! | `twin` | 11 | leaf-revoked.key | yes | none |

mod common;
use common::paths;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bingate::cms::{KeyKind, SignDigestError, Signer};
use bingate::hash::{DigestAlg, digest};
use bingate::pki::keys::verify_prehashed;
use bingate::sign::key::{LocalSigner, load_certificates, load_private_key};
use bingate::sign::pkcs11::{Pkcs11Error, Pkcs11Signer, parse_uri};
use common::interop;
use common::paths::{pki, read, tempdir};
use cryptoki::session::SessionState;
use der::Encode;
use p256::pkcs8::DecodePublicKey;
use x509_cert::Certificate;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "123456";
const SO_PIN: &str = "87654321";
const TOKEN: &str = "release";
/// Where the child finds the token directory and PIN file.
const DIR_VAR: &str = "BINGATE_TEST_PKCS11_DIR";
const MESSAGE: &[u8] = b"bingate PKCS#11 test message";
const ALL: [DigestAlg; 4] = [
    DigestAlg::Sha1,
    DigestAlg::Sha256,
    DigestAlg::Sha384,
    DigestAlg::Sha512,
];

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A command with the token's `SOFTHSM2_CONF`.
fn tool(conf: &Path, program: &str) -> Command {
    let mut c = Command::new(program);
    c.env("SOFTHSM2_CONF", conf);
    c
}

fn pkcs11_tool(conf: &Path) -> Command {
    let mut c = tool(conf, "pkcs11-tool");
    c.args([
        "--module",
        MODULE,
        "--token-label",
        TOKEN,
        "--login",
        "--pin",
        PIN,
    ]);
    c
}

/// `corpus/pki/<key>` as an unencrypted PKCS#8 PEM file in `dir` (what `softhsm2-util
/// --import` reads), named `<label>.pk8`.
fn pkcs8(dir: &Path, key: &str, label: &str) -> PathBuf {
    let out = dir.join(format!("{label}.pk8"));
    run(Command::new("openssl")
        .args(["pkcs8", "-topk8", "-nocrypt", "-in"])
        .arg(pki(key))
        .arg("-out")
        .arg(&out));
    out
}

fn import_key(conf: &Path, dir: &Path, key: &str, label: &str, id: &str) {
    let pk8 = pkcs8(dir, key, label);
    run(tool(conf, "softhsm2-util")
        .arg("--import")
        .arg(&pk8)
        .args(["--token", TOKEN, "--label", label, "--id", id, "--pin", PIN]));
}

fn import_cert(conf: &Path, dir: &Path, cert: &str, label: &str, id: &str) {
    let der = dir.join(format!("{label}.der"));
    run(Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(pki(cert))
        .arg("-out")
        .arg(&der));
    run(pkcs11_tool(conf)
        .arg("--write-object")
        .arg(&der)
        .args(["--type", "cert", "--id", id, "--label", label]));
}

#[test]
fn softhsm_token() {
    if !interop::require("softhsm2-util")
        || !interop::require("pkcs11-tool")
        || !interop::require("openssl")
        || !interop::available(
            Path::new(MODULE).is_file(),
            format_args!("{MODULE} is absent (Debian package softhsm2)"),
        )
    {
        return;
    }
    let dir = tempdir();
    let tokens = dir.path().join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    let conf = dir.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    run(tool(&conf, "softhsm2-util").args([
        "--init-token",
        "--free",
        "--label",
        TOKEN,
        "--so-pin",
        SO_PIN,
        "--pin",
        PIN,
    ]));
    import_key(&conf, dir.path(), "leaf-rsa.key", "rsa", "01");
    import_key(&conf, dir.path(), "leaf-ecdsa.key", "ec256", "02");
    import_key(&conf, dir.path(), "leaf-ecdsa384.key", "ec384", "03");
    import_key(&conf, dir.path(), "leaf-expired.key", "twin", "10");
    import_key(&conf, dir.path(), "leaf-revoked.key", "twin", "11");
    import_cert(&conf, dir.path(), "leaf-rsa.pem", "rsa", "01");
    import_cert(&conf, dir.path(), "leaf-ecdsa.pem", "ec256", "02");
    import_cert(&conf, dir.path(), "leaf-ecdsa384.pem", "ec384", "03");
    import_cert(&conf, dir.path(), "leaf-rsa.pem", "twin", "10");
    // The P-256 key's public key object goes, so that its public key must come from the
    // certificate.
    run(pkcs11_tool(&conf).args(["--delete-object", "--type", "pubkey", "--id", "02"]));
    std::fs::write(dir.path().join("pin"), format!("{PIN}\n")).unwrap();
    std::fs::write(dir.path().join("wrong-pin"), "000000\n").unwrap();

    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "softhsm_cases_in_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .env(DIR_VAR, dir.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the PKCS#11 cases failed:\n{text}");
    // The child ran the cases, not zero tests.
    assert!(text.contains("1 passed"), "{text}");
    sign_commands_with_the_token(&conf, dir.path());
    serve_with_the_token(&conf, dir.path());
}

/// `bingate serve` with a key in the token (a pool of 2 sessions, the certificate read from the
/// token): 16 clients sign 48 PE files at once; every output is byte-identical to the same file
/// signed locally with the same RSA key from a file (Authenticode RSA signatures are
/// deterministic), and the audit log verifies.
fn serve_with_the_token(conf: &Path, dir: &Path) {
    use common::serve::{CI_TOKEN, Server, post};
    let pin = dir.join("pin");
    let key_uri = format!(
        "pkcs11:token={TOKEN};object=rsa?module-path={MODULE}&pin-source=file:{}",
        pin.display()
    );
    let sdir = dir.join("serve");
    std::fs::create_dir(&sdir).unwrap();
    let store = format!("sqlite:{}", sdir.join("audit.db").display());
    let extra = format!(
        "[keys.hsm]\nkey = \"{key_uri}\"\nroles = [\"release\"]\nformats = [\"pe\"]\nsessions = 2\n"
    );
    let cfg = common::serve::config(&sdir, &store, "default", &extra);
    let server = Server::start_with_env(&cfg, &[("SOFTHSM2_CONF", conf)]);
    let input = read(paths::corpus("pe").join("x64-default.exe"));
    let local_out = sdir.join("local.exe");
    let o = common::run::bingate(&[
        "sign",
        "pe",
        "--key",
        &pki("leaf-rsa.key").display().to_string(),
        "--cert",
        &pki("leaf-rsa.pem").display().to_string(),
        "--output",
        &local_out.display().to_string(),
        &paths::corpus("pe")
            .join("x64-default.exe")
            .display()
            .to_string(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let expected = std::fs::read(&local_out).unwrap();
    let url = format!("{}/v1/sign/pe?key=hsm", server.url);
    std::thread::scope(|s| {
        for _ in 0..16 {
            s.spawn(|| {
                for _ in 0..3 {
                    let a = post(&url, Some(CI_TOKEN), &input, "application/octet-stream");
                    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
                    assert!(
                        a.body == expected,
                        "the token's signature differs from the key file's"
                    );
                }
            });
        }
    });
    let m = String::from_utf8(common::serve::get(&format!("{}/metrics", server.url), None).body)
        .unwrap();
    assert!(
        m.contains("bingate_signatures_total{key=\"hsm\",outcome=\"signed\"} 48"),
        "{m}"
    );
    drop(server);
    let o = common::run::bingate(&["audit", "verify", "--store", &store]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}

/// `bingate sign pe` and `sign elf` with a token key (its certificate read from the token)
/// give output byte-identical to the same RSA key from a file; an ECDSA token key signs a PE
/// file that verifies.
fn sign_commands_with_the_token(conf: &Path, dir: &Path) {
    let uri = |object: &str| {
        format!(
            "pkcs11:token={TOKEN};object={object}?module-path={MODULE}&pin-source=file:{}/pin",
            dir.display()
        )
    };
    let bingate = |args: &[&str]| {
        let o = common::run::command()
            .args(args)
            .env("SOFTHSM2_CONF", conf)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "bingate {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let chain = s(&paths::pki("intermediate.pem"));
    let pe_in = s(&paths::corpus("pe").join("x64-default.exe"));
    let elf_in = s(&paths::corpus("elf").join("static"));
    let out = |n: &str| s(&dir.join(n));
    for (kind, input) in [("pe", &pe_in), ("elf", &elf_in)] {
        let token_out = out(&format!("token.{kind}"));
        let file_out = out(&format!("file.{kind}"));
        bingate(&[
            "sign",
            kind,
            "--key",
            &uri("rsa"),
            "--chain",
            &chain,
            "--output",
            &token_out,
            input,
        ]);
        bingate(&[
            "sign",
            kind,
            "--key",
            &s(&paths::pki("leaf-rsa.key")),
            "--cert",
            &s(&paths::pki("leaf-rsa.pem")),
            "--chain",
            &chain,
            "--output",
            &file_out,
            input,
        ]);
        if kind == "pe" {
            assert_eq!(
                std::fs::read(&token_out).unwrap(),
                std::fs::read(&file_out).unwrap(),
                "sign {kind}: token and file key differ"
            );
        }
        let o =
            common::run::bingate(&["verify", "--trust", &s(&paths::pki("root.pem")), &token_out]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    }
    let ec_out = out("token-ec.exe");
    bingate(&[
        "sign",
        "pe",
        "--key",
        &uri("ec384"),
        "--chain",
        &chain,
        "--digest",
        "sha384",
        "--output",
        &ec_out,
        &pe_in,
    ]);
    let o = common::run::bingate(&["verify", "--trust", &s(&paths::pki("root.pem")), &ec_out]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}

fn uri(extra: &str, pin_file: &str) -> String {
    let dir = std::env::var(DIR_VAR).unwrap();
    format!("pkcs11:token={TOKEN};{extra}?module-path={MODULE}&pin-source=file:{dir}/{pin_file}")
}

fn open(extra: &str) -> Result<Pkcs11Signer, Pkcs11Error> {
    Pkcs11Signer::open(&parse_uri(&uri(extra, "pin")).unwrap())
}

fn local(key: &str) -> LocalSigner {
    load_private_key(&read(pki(key)), None, key).unwrap_or_else(|e| panic!("{e}"))
}

fn pem_cert(name: &str) -> Certificate {
    load_certificates(&read(pki(name)), name).unwrap().remove(0)
}

/// `digest` as the curve's ECDSA uses it: truncated to, or zero-padded to, `field` bytes.
fn fit(digest: &[u8], field: usize) -> Vec<u8> {
    if digest.len() >= field {
        digest[..field].to_vec()
    } else {
        let mut v = vec![0u8; field - digest.len()];
        v.extend_from_slice(digest);
        v
    }
}

fn verify_ecdsa(signer: &dyn Signer, alg: DigestAlg, digest: &[u8], sig: &[u8]) {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let spki = signer.public_key().to_der().unwrap();
    match signer.kind() {
        KeyKind::EcdsaP256 => {
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(&spki).unwrap();
            let sig = p256::ecdsa::Signature::from_der(sig).unwrap();
            key.verify_prehash(&fit(digest, 32), &sig)
                .unwrap_or_else(|e| panic!("P-256 {alg:?}: {e}"));
        }
        KeyKind::EcdsaP384 => {
            let key = p384::ecdsa::VerifyingKey::from_public_key_der(&spki).unwrap();
            let sig = p384::ecdsa::Signature::from_der(sig).unwrap();
            key.verify_prehash(&fit(digest, 48), &sig)
                .unwrap_or_else(|e| panic!("P-384 {alg:?}: {e}"));
        }
        other => panic!("not an EC key: {other:?}"),
    }
}

/// Runs only as the child of `softhsm_token`, which builds the token first.
#[test]
#[ignore = "run by softhsm_token, in a child process with the token's SOFTHSM2_CONF"]
fn softhsm_cases_in_child() {
    assert!(
        std::env::var_os(DIR_VAR).is_some(),
        "run through softhsm_token, which builds the token"
    );

    // Wrong PIN first: once a session of this process has logged in, the token answers
    // CKR_USER_ALREADY_LOGGED_IN before it looks at a PIN.
    let e = Pkcs11Signer::open(&parse_uri(&uri("object=rsa", "wrong-pin")).unwrap()).unwrap_err();
    assert_eq!(
        e,
        Pkcs11Error::WrongPin {
            token: TOKEN.into()
        }
    );
    assert_eq!(e.to_string(), "wrong PIN for token release");
    assert!(!e.to_string().contains("000000"));

    // Unknown token: the error lists the token present.
    let e = Pkcs11Signer::open(
        &parse_uri(&uri("object=rsa", "pin").replace("token=release", "token=nope")).unwrap(),
    )
    .unwrap_err();
    assert!(matches!(e, Pkcs11Error::NoToken { .. }), "{e}");
    assert!(e.to_string().contains("release (serial"), "{e}");

    // Missing module.
    let e = Pkcs11Signer::open(
        &parse_uri(&uri("object=rsa", "pin").replace(MODULE, "/nonexistent/module.so")).unwrap(),
    )
    .unwrap_err();
    assert!(matches!(e, Pkcs11Error::Module { .. }), "{e}");
    assert!(e.is_device_error());

    // RSA: byte for byte what the file key signs, for every digest; the public key is the file
    // key's; the certificate is the one imported.
    let rsa = open("object=rsa;id=%01").unwrap_or_else(|e| panic!("{e}"));
    let file = local("leaf-rsa.key");
    assert_eq!(rsa.kind(), KeyKind::Rsa { bits: 2048 });
    assert_eq!(rsa.public_key(), file.public_key());
    for alg in ALL {
        let d = digest(alg, MESSAGE).unwrap();
        let token_sig = rsa.sign_digest(alg, &d).unwrap_or_else(|e| panic!("{e}"));
        let file_sig = file.sign_digest(alg, &d).unwrap();
        assert_eq!(token_sig, file_sig, "RSA {alg:?}");
    }
    assert_eq!(
        rsa.certificate().unwrap(),
        Some(pem_cert("leaf-rsa.pem")),
        "RSA certificate"
    );
    // MD5 and a wrong length are refused before the token sees them.
    assert!(rsa.sign_digest(DigestAlg::Md5, &[0u8; 16]).is_err());
    assert!(rsa.sign_digest(DigestAlg::Sha256, &[0u8; 20]).is_err());
    // Debug names the key, not secrets.
    let debug = format!("{rsa:?}");
    assert!(debug.contains("rsa") && !debug.contains(PIN), "{debug}");

    // The module is finalised under the signer (every session and login gone, as when an HSM
    // drops idle sessions): the signer reconnects, reading the PIN from its file again.
    let dir = PathBuf::from(std::env::var_os(DIR_VAR).unwrap());
    let d = digest(DigestAlg::Sha256, MESSAGE).unwrap();
    let expected = file.sign_digest(DigestAlg::Sha256, &d).unwrap();
    cryptoki::context::Pkcs11::new(MODULE)
        .unwrap()
        .finalize()
        .unwrap();
    std::fs::write(dir.join("pin"), "000000\n").unwrap();
    assert_eq!(
        rsa.sign_digest_typed(DigestAlg::Sha256, &d),
        Err(Pkcs11Error::WrongPin {
            token: TOKEN.into()
        }),
        "the PIN is read again when reconnecting"
    );
    // The lost session counts as a device error (the wrong PIN does not); the session is
    // closed, to be opened again by the next signature.
    assert_eq!((rsa.errors(), rsa.reconnects()), (1, 0));
    assert_eq!((rsa.sessions(), rsa.open_sessions()), (1, 0));
    std::fs::write(dir.join("pin"), format!("{PIN}\n")).unwrap();
    assert_eq!(
        rsa.sign_digest(DigestAlg::Sha256, &d).unwrap(),
        expected,
        "after reconnecting"
    );
    assert_eq!((rsa.errors(), rsa.open_sessions()), (1, 1));

    // The same key by id alone, and by label alone.
    let by_id = open("id=%01").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(by_id.public_key(), file.public_key());
    drop(by_id);
    let by_label = open("object=rsa").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(by_label.public_key(), file.public_key());
    drop(by_label);

    // P-384: public key from the public key object; signatures verify; certificate found.
    let ec384 = open("object=ec384").unwrap_or_else(|e| panic!("{e}"));
    let file384 = local("leaf-ecdsa384.key");
    assert_eq!(ec384.kind(), KeyKind::EcdsaP384);
    assert_eq!(ec384.public_key(), file384.public_key());
    for alg in ALL {
        let d = digest(alg, MESSAGE).unwrap();
        let sig = ec384.sign_digest(alg, &d).unwrap_or_else(|e| panic!("{e}"));
        verify_ecdsa(&ec384, alg, &d, &sig);
        assert!(sig.len() <= KeyKind::EcdsaP384.max_signature_len());
    }
    assert_eq!(
        ec384.certificate().unwrap(),
        Some(pem_cert("leaf-ecdsa384.pem"))
    );

    // P-256 without a public key object: the public key comes from the certificate.
    let ec256 = open("object=ec256;id=%02").unwrap_or_else(|e| panic!("{e}"));
    let file256 = local("leaf-ecdsa.key");
    assert_eq!(ec256.kind(), KeyKind::EcdsaP256);
    assert_eq!(ec256.public_key(), file256.public_key());
    for alg in ALL {
        let d = digest(alg, MESSAGE).unwrap();
        let sig = ec256.sign_digest(alg, &d).unwrap_or_else(|e| panic!("{e}"));
        verify_ecdsa(&ec256, alg, &d, &sig);
        // The file key's signature verifies the same way: both truncate SHA-384/512.
        verify_ecdsa(&ec256, alg, &d, &file256.sign_digest(alg, &d).unwrap());
    }
    assert_eq!(
        ec256.certificate().unwrap(),
        Some(pem_cert("leaf-ecdsa.pem"))
    );

    // Two keys share the label `twin`: ambiguous, and the error lists both ids.
    let e = open("object=twin").unwrap_err();
    assert!(matches!(e, Pkcs11Error::SeveralKeys { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("\"twin\" (id %10)") && text.contains("\"twin\" (id %11)"),
        "{text}"
    );
    // …and an id settles it; that key has no certificate.
    let twin = open("object=twin;id=%11").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        twin.public_key(),
        local("leaf-revoked.key").public_key(),
        "twin id 11"
    );
    assert_eq!(twin.certificate().unwrap(), None);
    drop(twin);
    // The certificate stored with id 10 is another key's: an error, not "no certificate".
    let twin10 = open("object=twin;id=%10").unwrap_or_else(|e| panic!("{e}"));
    let e = twin10.certificate().unwrap_err();
    assert!(matches!(e, Pkcs11Error::Certificate { .. }), "{e}");
    assert!(
        e.to_string().contains("CN=Bingate Test signer RSA")
            && e.to_string().contains("holds another public key"),
        "{e}"
    );

    // No such key: the error lists the token's private keys.
    let e = open("object=nope").unwrap_err();
    assert!(matches!(e, Pkcs11Error::NoKey { .. }), "{e}");
    let text = e.to_string();
    for listed in [
        "\"rsa\" (id %01)",
        "\"ec256\" (id %02)",
        "\"ec384\" (id %03)",
    ] {
        assert!(text.contains(listed), "{listed} not in: {text}");
    }
    // A label and an id that belong to different keys match nothing.
    let e = open("object=rsa;id=%02").unwrap_err();
    assert!(matches!(e, Pkcs11Error::NoKey { .. }), "{e}");

    // The signer serves threads.
    std::thread::scope(|s| {
        for alg in [DigestAlg::Sha256, DigestAlg::Sha512] {
            let rsa = &rsa;
            let file = &file;
            s.spawn(move || {
                let d = digest(alg, MESSAGE).unwrap();
                assert_eq!(
                    rsa.sign_digest(alg, &d).unwrap(),
                    file.sign_digest(alg, &d).unwrap()
                );
            });
        }
    });
    drop(rsa);

    pool_serves_threads();
    pool_logs_in_again_after_logout();
    pool_saturated_is_busy();
}

fn open_pool(extra: &str, sessions: usize, wait: Duration) -> Pkcs11Signer {
    Pkcs11Signer::open_pool(&parse_uri(&uri(extra, "pin")).unwrap(), sessions, wait)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `signer`'s signature over `message`'s SHA-256, checked with bingate's verifier and the
/// token's public key.
fn sign_and_verify(signer: &Pkcs11Signer, message: &[u8]) {
    let d = digest(DigestAlg::Sha256, message).unwrap();
    let sig = signer
        .sign_digest(DigestAlg::Sha256, &d)
        .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(message)));
    verify_prehashed(signer.public_key(), DigestAlg::Sha256, &d, &sig, false)
        .unwrap_or_else(|e| panic!("{}: {e:?}", String::from_utf8_lossy(message)));
}

/// The number of sessions this process has open on the token, as the token counts them
/// (`None` when the module does not say).
fn token_session_count() -> Option<u64> {
    let ctx = cryptoki::context::Pkcs11::new(MODULE).unwrap();
    let slot = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).unwrap().label() == TOKEN)
        .unwrap();
    ctx.get_token_info(slot).unwrap().session_count()
}

/// 8 threads × 25 signatures over 3 sessions: every signature verifies, and no more than 3
/// sessions are ever open, by the signer's count and (when it says) the token's.
fn pool_serves_threads() {
    let before = token_session_count();
    let pool = open_pool("object=rsa;id=%01", 3, Duration::from_secs(60));
    assert_eq!(pool.sessions(), 3);
    assert_eq!(pool.open_sessions(), 3);
    if let (Some(before), Some(now)) = (before, token_session_count()) {
        assert_eq!(now, before + 3, "the token counts the pool's sessions");
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    let most = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                let open = pool.open_sessions();
                assert!(open <= 3, "{open} sessions open");
                if let (Some(before), Some(now)) = (before, token_session_count()) {
                    most.fetch_max(now - before, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let workers: Vec<_> = (0..8)
            .map(|t| {
                let pool = &pool;
                s.spawn(move || {
                    for i in 0..25 {
                        sign_and_verify(pool, format!("thread {t} signature {i}").as_bytes());
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
    });
    assert!(
        most.load(Ordering::Relaxed) <= 3,
        "the token saw more than 3 sessions"
    );
    assert_eq!(pool.open_sessions(), 3);
    assert_eq!(pool.errors(), 0);
    assert_eq!(pool.reconnects(), 0);
}

/// Another session of this application logs the token out (login state is per application
/// and token, so the pool's sessions lose theirs): the pool logs in again, counts it, and every
/// session still signs.
fn pool_logs_in_again_after_logout() {
    let pool = open_pool("object=ec384", 3, Duration::from_secs(60));
    sign_and_verify(&pool, b"before the logout");
    assert_eq!((pool.errors(), pool.reconnects()), (0, 0));

    let ctx = cryptoki::context::Pkcs11::new(MODULE).unwrap();
    let slot = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).unwrap().label() == TOKEN)
        .unwrap();
    let other = ctx.open_ro_session(slot).unwrap();
    let state = || other.get_session_info().unwrap().session_state();
    assert_eq!(
        state(),
        SessionState::RoUser,
        "the pool logged the token in"
    );
    other.logout().unwrap();
    assert_eq!(state(), SessionState::RoPublic, "logged out");

    // Three signatures at once, so that every session of the pool meets the logout.
    std::thread::scope(|s| {
        for t in 0..3 {
            let pool = &pool;
            s.spawn(move || {
                for i in 0..5 {
                    sign_and_verify(pool, format!("after the logout {t} {i}").as_bytes());
                }
            });
        }
    });
    assert!(pool.reconnects() >= 1, "no reconnect counted");
    assert!(
        pool.errors() >= pool.reconnects(),
        "cured errors are counted"
    );
    assert!(pool.open_sessions() <= 3);
    // The session the test opened sees the new login too.
    assert_eq!(
        state(),
        SessionState::RoUser,
        "the pool did not log in again"
    );
}

/// A pool of one whose session is held: a signature waits its 50 ms and is refused as busy,
/// typed and through `Signer`; a signature waiting while the session comes back gets it.
fn pool_saturated_is_busy() {
    let wait = Duration::from_millis(50);
    let pool = open_pool("object=rsa", 1, wait);
    let d = digest(DigestAlg::Sha256, MESSAGE).unwrap();
    let held = pool.hold_session_for_tests().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            let started = Instant::now();
            let e = pool.sign_digest_typed(DigestAlg::Sha256, &d).unwrap_err();
            let took = started.elapsed();
            assert_eq!(
                e,
                Pkcs11Error::Busy {
                    token: TOKEN.into(),
                    sessions: 1,
                    waited: wait
                }
            );
            assert!(!e.is_device_error());
            assert!(took >= wait, "gave up after {took:?}");
            assert!(took < Duration::from_secs(5), "waited {took:?}");
            match pool.sign_digest(DigestAlg::Sha256, &d).unwrap_err() {
                SignDigestError::Busy { what, waited } => {
                    assert_eq!(what, "PKCS#11 token release");
                    assert_eq!(waited, wait);
                }
                other => panic!("not Busy: {other}"),
            }
        });
    });
    assert_eq!(pool.errors(), 0, "busy is not a device error");
    drop(held);
    sign_and_verify(&pool, b"after the session came back");

    // A caller waiting (up to 60 s) gets the session as soon as its holder gives it back.
    let patient = open_pool("object=rsa", 1, Duration::from_secs(60));
    let held = patient.hold_session_for_tests().unwrap();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            let started = Instant::now();
            sign_and_verify(&patient, b"waited for the session");
            started.elapsed()
        });
        std::thread::sleep(Duration::from_millis(100));
        assert!(!waiter.is_finished(), "signed while the session was held");
        drop(held);
        let took = waiter.join().unwrap();
        assert!(took < Duration::from_secs(30), "not woken: {took:?}");
    });
}
