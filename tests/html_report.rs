//! `check --format html`: the self-contained audit page. Without a browser: one row per file (as
//! many as the JSON report of the same run counts), nothing to load from anywhere, a
//! Content-Security-Policy that allows exactly the page's script (by its SHA-256, recomputed
//! here), hostile file names escaped. In headless Chromium (driven through chromedriver's
//! WebDriver API): no console errors, one row per file, the filter and the status select leave
//! exactly the expected rows, sorting reorders (numbers in names compared as numbers), a details
//! panel opens with the signature and findings, hostile names raise no alert and show literally;
//! a screenshot is written for review (`target/html-report/report.png`; with `BINGATE_BLESS=1`
//! also `docs/images/html-report.png`, which the README shows).

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::run::bingate_in;
use common::{interop, paths};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const TODAY: &str = "2026-11-22";
const TIME: &str = "2026-11-22T00:00:00Z";
const HOSTILE_SCRIPT: &str = "<script>alert(1)</script>.exe";
const HOSTILE_IMG: &str = "\"><img src=x onerror=alert(1)>.dll";

/// Runs `bingate check DIR` in `cwd` (signatures verified against the test PKI at a fixed time,
/// the default policy with the dist waivers, copied to `cwd`) in `format`; returns the report.
fn check(cwd: &Path, dir: &str, format: &str) -> Vec<u8> {
    std::fs::copy(
        paths::repo("tests/data/dist-waivers.toml"),
        cwd.join("dist-waivers.toml"),
    )
    .unwrap();
    let out_dir = paths::tempdir();
    let out_file = out_dir.path().join(format!("report.{format}"));
    let out = bingate_in(
        cwd,
        &[
            "check".as_ref(),
            "--today".as_ref(),
            TODAY.as_ref(),
            "--time".as_ref(),
            TIME.as_ref(),
            "--trust".as_ref(),
            paths::corpus("pki/root.pem").as_os_str(),
            "--waivers".as_ref(),
            "dist-waivers.toml".as_ref(),
            "--format".as_ref(),
            format.as_ref(),
            "--output".as_ref(),
            out_file.as_os_str(),
            dir.as_ref(),
        ] as &[&std::ffi::OsStr],
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "bingate check --format {format}: {}",
        common::run::text(&out)
    );
    std::fs::read(&out_file).unwrap()
}

/// A release-like directory: the dist fixtures (deny, waived and expired-waiver failures, ELF
/// and PE, a skipped script), signed PE files of every verdict, and two names that differ only
/// in a number (`lib2.so`, `lib10.so`) for the numeric-aware sort. They are in `dist/` of the
/// directory returned, which the reports are made in (paths `dist/...`, as a release tree's).
fn mixed_dir() -> tempfile::TempDir {
    let root = paths::tempdir();
    std::fs::create_dir(root.path().join("dist")).unwrap();
    let dir = root.path().join("dist");
    for name in ["app.exe", "plugin.dll", "tool", "libfoo.so", "run.sh"] {
        std::fs::copy(paths::repo("tests/data/dist").join(name), dir.join(name)).unwrap();
    }
    for (from, to) in [
        ("signed/valid-rsa.exe", "setup.exe"),
        ("signed/valid-dll.dll", "core.dll"),
        ("signed/expired-no-ts.exe", "updater.exe"),
        ("signed/tampered-section.exe", "patched.exe"),
        ("signed/self-signed.exe", "helper.exe"),
        ("elf/libshared.so", "lib2.so"),
        ("elf/full-relro", "daemon"),
    ] {
        std::fs::copy(paths::corpus(from), dir.join(to)).unwrap();
    }
    std::fs::copy(paths::corpus("elf/libshared.so"), dir.join("lib10.so")).unwrap();
    root
}

/// A directory with two PE files whose paths inject markup, and a plain one. A file name
/// cannot hold `/`: the script one is the file `script>.exe` in the directory
/// `<script>alert(1)<`, so that its report path ends in [`HOSTILE_SCRIPT`].
fn hostile_dir() -> tempfile::TempDir {
    let dir = paths::tempdir();
    let (parent, name) = HOSTILE_SCRIPT.split_once('/').unwrap();
    std::fs::create_dir(dir.path().join(parent)).unwrap();
    for path in [
        format!("{parent}/{name}"),
        HOSTILE_IMG.to_owned(),
        "plain.exe".to_owned(),
    ] {
        std::fs::copy(paths::corpus("pe/x64.dll"), dir.path().join(path)).unwrap();
    }
    dir
}

fn json_report(cwd: &Path, dir: &str) -> Value {
    serde_json::from_slice(&check(cwd, dir, "json")).unwrap()
}

/// The text between the page's one `<script>` and `</script>`.
fn script_of(page: &str) -> &str {
    assert_eq!(page.matches("<script").count(), 1, "one script element");
    let start = page.find("<script>").unwrap() + "<script>".len();
    let end = page.find("</script>").unwrap();
    &page[start..end]
}

#[test]
fn page_has_one_row_per_file_and_loads_nothing() {
    let dir = mixed_dir();
    let page = String::from_utf8(check(dir.path(), "dist", "html")).unwrap();
    let report = json_report(dir.path(), "dist");
    let files = report["summary"]["files"].as_u64().unwrap();
    assert_eq!(files, 12, "the fixture's binaries (run.sh is skipped)");
    assert_eq!(
        page.matches("<tr class=\"file\"").count() as u64,
        files,
        "one row per file of the JSON report"
    );
    assert!(page.contains(&format!("{files} of {files} files shown")));
    for path in report["files"].as_array().unwrap() {
        let p = path["path"].as_str().unwrap();
        assert!(
            page.contains(&format!(">{p}</button>")),
            "{p} has a row of its own"
        );
    }
    // Nothing is loaded: the only URL-valued attribute is the empty data: icon (which stops a
    // favicon request); no stylesheet or script by URL, no CSS url().
    let urls: Vec<&str> = page
        .match_indices(" src=")
        .chain(page.match_indices(" href="))
        .map(|(i, _)| &page[i..(i + 15).min(page.len())])
        .collect();
    assert_eq!(urls, [" href=\"data:,\">"], "{urls:?}");
    assert!(!page.contains("url("));
    assert!(!page.contains("@import"));
    // The signers' "more info" URLs (osslsigncode -i https://example.invalid/) are text.
    assert!(page.contains("https://example.invalid/</dd>"));
    assert!(!page.contains("\"https://"));
    // Summary: statuses, failing rules, the policy.
    for needle in [
        "id=\"sum-signature\"",
        "id=\"sum-rules\"",
        "<code>pe-nx-compat</code>",
        "Policy <b>default</b>",
        "Expired waiver for <code>pe-safe-seh</code>",
    ] {
        assert!(page.contains(needle), "{needle}");
    }
}

#[test]
fn csp_allows_exactly_the_pages_script() {
    let dir = mixed_dir();
    let page = String::from_utf8(check(dir.path(), "dist", "html")).unwrap();
    let script = script_of(&page);
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()));
    let csp = format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; script-src &#39;sha256-{hash}&#39;; style-src &#39;unsafe-inline&#39;; img-src data:; base-uri &#39;none&#39;; form-action &#39;none&#39;\">"
    );
    assert!(page.contains(&csp), "CSP with the script's hash: {csp}");
    // The policy comes before anything that could run or load.
    assert!(page.find(&csp).unwrap() < page.find("<style>").unwrap());
}

#[test]
fn hostile_file_names_are_escaped() {
    let dir = hostile_dir();
    let page = String::from_utf8(check(dir.path(), ".", "html")).unwrap();
    assert_eq!(page.matches("<tr class=\"file\"").count(), 3);
    assert!(
        page.contains(">./&lt;script&gt;alert(1)&lt;/script&gt;.exe</button>"),
        "the script name as text"
    );
    assert!(
        page.contains(">./&quot;&gt;&lt;img src=x onerror=alert(1)&gt;.dll</button>"),
        "the img name as text"
    );
    assert!(!page.contains("<img"));
    assert!(!page.contains("<script>alert"));
    script_of(&page);
}

// ---------------------------------------------------------------------------------------------
// Headless Chromium through chromedriver.

/// `tool`'s path in `PATH`.
fn which(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// A chromedriver process and one browser session; the session is deleted and the driver
/// killed on drop (also when an assertion fails).
struct Browser {
    driver: Child,
    base: String,
    agent: ureq::Agent,
    session: String,
    _profile: tempfile::TempDir,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    fn start(chromium: &Path, chromedriver: &Path) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        let profile = paths::tempdir();
        let mut b = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            agent,
            session: String::new(),
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = b
                .agent
                .get(format!("{}/status", b.base))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_vec().ok())
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver not ready after 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--hide-scrollbars", "--window-size=1280,900",
                    format!("--user-data-dir={}", b._profile.path().display()),
                ],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
            "timeouts": {"script": 10_000, "pageLoad": 30_000, "implicit": 0},
        }}});
        let (status, v) = b.call("POST", "/session", Some(caps));
        assert_eq!(status, 200, "new session: {v}");
        b.session = v["value"]["sessionId"].as_str().unwrap().to_owned();
        b
    }

    /// One WebDriver command: status and JSON answer.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let r = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, body) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_else(|| json!({})).to_string().as_bytes()),
        };
        let mut r = r.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = r.status().as_u16();
        let v = r
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        (status, v)
    }

    /// A command in the session that must succeed; its `value`.
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, &format!("/session/{}{path}", self.session), body);
        assert_eq!(status, 200, "{method} {path}: {v}");
        v["value"].clone()
    }

    fn open(&self, file: &Path) {
        let url = format!("file://{}", file.display());
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    fn js(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    fn element(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT].as_str().unwrap().to_owned()
    }

    fn click(&self, css: &str) {
        let e = self.element(css);
        self.cmd("POST", &format!("/element/{e}/click"), None);
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.element(css);
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// The browser log since the last call (console messages, CSP violations, load errors).
    fn log(&self) -> Vec<Value> {
        let v = self.cmd("POST", "/se/log", Some(json!({"type": "browser"})));
        v.as_array().cloned().unwrap_or_default()
    }

    fn assert_no_console_errors(&self, what: &str) {
        let severe: Vec<Value> = self
            .log()
            .into_iter()
            .filter(|e| e["level"] == "SEVERE")
            .collect();
        assert!(severe.is_empty(), "{what}: console errors {severe:#?}");
    }

    /// The error an alert would be: `no such alert` when none is open.
    fn alert_error(&self) -> String {
        let (status, v) = self.call(
            "GET",
            &format!("/session/{}/alert/text", self.session),
            None,
        );
        assert_ne!(status, 200, "an alert is open: {v}");
        v["value"]["error"].as_str().unwrap_or_default().to_owned()
    }

    /// The path cell of each row not hidden, in table order.
    fn visible_paths(&self) -> Vec<String> {
        let v = self.js(
            "return Array.from(document.querySelectorAll('#files > tbody'))\
             .filter(function (b) { return !b.hidden && b.offsetParent !== null; })\
             .map(function (b) { return b.rows[0].cells[0].textContent; });",
        );
        serde_json::from_value(v).unwrap()
    }

    fn shown(&self) -> String {
        self.js("return document.getElementById('shown').textContent;")
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn set_filter(&self, text: &str) {
        self.js(&format!(
            "var f = document.getElementById('filter'); f.value = {}; \
             f.dispatchEvent(new Event('input')); return null;",
            json!(text)
        ));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self
                .agent
                .delete(format!("{}/session/{}", self.base, self.session))
                .call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The paths of the JSON report's files that `keep` selects.
fn paths_where(report: &Value, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut v: Vec<String> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| keep(f))
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn page_works_in_headless_chromium() {
    let (chromium, chromedriver) = (which("chromium"), which("chromedriver"));
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        interop::skip(
            "chromium or chromedriver is not installed (apt-get install chromium chromium-driver)",
        );
        return;
    };
    let dir = mixed_dir();
    let work = paths::tempdir();
    let page = work.path().join("report.html");
    std::fs::write(&page, check(dir.path(), "dist", "html")).unwrap();
    let report = json_report(dir.path(), "dist");
    let all = paths_where(&report, |_| true);

    let browser = Browser::start(&chromium, &chromedriver);
    browser.open(&page);
    assert_eq!(browser.js("return document.title;"), "bingate audit report");
    // One row per file, all shown.
    assert_eq!(sorted(browser.visible_paths()), all);
    assert_eq!(
        browser.shown(),
        format!("{0} of {0} files shown", all.len())
    );

    // The text filter, typed.
    browser.type_into("#filter", "lib");
    let lib = paths_where(&report, |f| f["path"].as_str().unwrap().contains("lib"));
    assert_eq!(lib.len(), 3, "libfoo.so, lib2.so, lib10.so");
    assert_eq!(sorted(browser.visible_paths()), lib);
    assert_eq!(browser.shown(), format!("3 of {} files shown", all.len()));
    browser.set_filter("");
    assert_eq!(browser.visible_paths().len(), all.len());

    // The status select: files failing the policy, then unsigned ones, as the JSON report says.
    browser.click("#status option[value='pol:fail']");
    let failing = paths_where(&report, |f| {
        f["findings"]
            .as_array()
            .is_some_and(|x| x.iter().any(|x| x["status"] == "fail"))
    });
    assert!(!failing.is_empty());
    assert_eq!(sorted(browser.visible_paths()), failing);
    browser.click("#status option[value='sig:unsigned']");
    let unsigned = paths_where(&report, |f| f["signature"]["status"] == "unsigned");
    assert!(!unsigned.is_empty() && unsigned.len() < all.len());
    assert_eq!(sorted(browser.visible_paths()), unsigned);
    browser.click("#status option[value='sig:invalid']");
    let invalid = paths_where(&report, |f| f["signature"]["status"] == "invalid");
    assert!(!invalid.is_empty());
    assert_eq!(sorted(browser.visible_paths()), invalid);
    // Both filters at once.
    browser.click("#status option[value='sig:valid']");
    browser.type_into("#filter", "core");
    let valid_core = paths_where(&report, |f| {
        f["signature"]["status"] == "valid" && f["path"].as_str().unwrap().contains("core")
    });
    assert_eq!(valid_core.len(), 1);
    assert_eq!(browser.visible_paths(), valid_core);
    browser.click("#status option[value='']");
    browser.set_filter("");
    assert_eq!(browser.visible_paths().len(), all.len());

    // Sorting: by path, numbers compared as numbers (lib2 before lib10; the report lists them in
    // byte order, lib10.so first, so the order changes), then reversed.
    let initial = browser.visible_paths();
    browser.click("#files thead th:nth-child(1) button");
    let by_path = browser.visible_paths();
    assert_ne!(by_path, initial, "sorting reorders the rows");
    let pos = |v: &[String], name: &str| v.iter().position(|p| p.ends_with(name)).unwrap();
    assert!(pos(&by_path, "/lib2.so") < pos(&by_path, "/lib10.so"));
    assert!(pos(&by_path, "/app.exe") < pos(&by_path, "/updater.exe"));
    browser.click("#files thead th:nth-child(1) button");
    let reversed = browser.visible_paths();
    assert_eq!(reversed, by_path.iter().rev().cloned().collect::<Vec<_>>());
    // By signature status: worst last, as the sort keys rank them.
    browser.click("#files thead th:nth-child(5) button");
    let keys: Vec<u64> = serde_json::from_value(browser.js(
        "return Array.from(document.querySelectorAll('#files > tbody'))\
         .map(function (b) { return Number(b.rows[0].cells[4].getAttribute('data-k')); });",
    ))
    .unwrap();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{keys:?}");
    assert!(keys.first() < keys.last());

    // Details: closed until the row is clicked; then the signer, chain and timestamp, and the
    // findings with their fixes.
    let panel_text = "return (function (name) { \
        var b = Array.from(document.querySelectorAll('#files > tbody')).find(function (b) { \
          return b.rows[0].cells[0].textContent.endsWith(name); }); \
        var d = b.rows[1]; return d.hidden || d.offsetParent === null ? null : d.innerText; })";
    assert_eq!(
        browser.js(&format!("{panel_text}('/setup.exe');")),
        Value::Null
    );
    let panel_id = browser.js(
        "return Array.from(document.querySelectorAll('button.open')).find(function (b) { \
           return b.textContent.endsWith('/setup.exe'); }).getAttribute('aria-controls');",
    );
    browser.click(&format!(
        "button[aria-controls='{}']",
        panel_id.as_str().unwrap()
    ));
    let open: u64 = serde_json::from_value(
        browser.js("return document.querySelectorAll('#files tr.details:not([hidden])').length;"),
    )
    .unwrap();
    assert_eq!(open, 1, "one click opens one panel");
    let setup = browser.js(&format!("{panel_text}('/setup.exe');"));
    let setup = setup.as_str().expect("the panel is shown");
    for needle in [
        "Signature",
        "valid",
        "signed by",
        "chain",
        "RFC 3161",
        "pe-cfg",
        "fix (",
    ] {
        assert!(
            setup.contains(needle),
            "{needle} in setup.exe's panel:\n{setup}"
        );
    }
    let alert = browser.alert_error();
    assert_eq!(alert, "no such alert");
    browser.assert_no_console_errors("the report page");

    // The screenshot for review: a 1280x900 viewport, worst signatures first (a second click on
    // the header), the panel of patched.exe (a tampered signed file) open instead of setup.exe's.
    browser.cmd(
        "POST",
        "/goog/cdp/execute",
        Some(
            json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
            "width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}}),
        ),
    );
    browser.click("#files thead th:nth-child(5) button");
    browser.click("#files tr.file td button.open[aria-expanded='true']");
    browser.click(&format!(
        "button[aria-controls='{}']",
        browser
            .js(
                "return Array.from(document.querySelectorAll('button.open')).find(function (b) { \
                   return b.textContent === 'dist/patched.exe'; }).getAttribute('aria-controls');"
            )
            .as_str()
            .unwrap()
    ));
    let patched = browser.js(&format!("{panel_text}('/patched.exe');"));
    assert!(
        patched.as_str().is_some_and(|t| t.contains("invalid")),
        "{patched}"
    );
    browser.js("window.scrollTo(0, 0); return null;");
    let png = browser.cmd("GET", "/screenshot", None);
    let png = base64::engine::general_purpose::STANDARD
        .decode(png.as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("html-report");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("report.png"), &png).unwrap();
    if common::golden::blessing() {
        let docs = paths::repo("docs/images");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join("html-report.png"), &png).unwrap();
    }

    // Hostile names: no alert, no element they could have made, the names shown literally.
    let hostile = hostile_dir();
    let hostile_page = work.path().join("hostile.html");
    std::fs::write(&hostile_page, check(hostile.path(), ".", "html")).unwrap();
    browser.open(&hostile_page);
    assert_eq!(browser.alert_error(), "no such alert");
    let names = sorted(
        browser
            .visible_paths()
            .iter()
            .map(|p| p.strip_prefix("./").unwrap_or(p).to_owned())
            .collect(),
    );
    assert_eq!(
        names,
        sorted(vec![
            HOSTILE_SCRIPT.to_owned(),
            HOSTILE_IMG.to_owned(),
            "plain.exe".to_owned()
        ])
    );
    assert_eq!(
        browser.js("return [document.images.length, document.scripts.length];"),
        json!([0, 1])
    );
    browser.assert_no_console_errors("the hostile-names page");

    // The log is read for real: a console error made now is in it.
    browser.js("console.error('bingate-log-probe'); return null;");
    let log = browser.log();
    assert!(
        log.iter().any(|e| e["level"] == "SEVERE"
            && e["message"]
                .as_str()
                .unwrap_or_default()
                .contains("bingate-log-probe")),
        "the browser log does not carry console errors: {log:?}"
    );
}
