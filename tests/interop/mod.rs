//! Interop tests run an outside tool (osslsigncode, openssl, sign-file…) when it is installed, and
//! fail instead of skipping when `BINGATE_REQUIRE_INTEROP=1` (what `.ci/run` sets).

use std::process::Command;

/// `BINGATE_REQUIRE_INTEROP=1`: a missing tool or public corpus is a failure, not a skip.
pub fn require_interop() -> bool {
    std::env::var("BINGATE_REQUIRE_INTEROP").as_deref() == Ok("1")
}

/// Whether osslsigncode can be run; panics when it cannot and interop is required.
#[allow(dead_code)] // not every test binary that includes this module runs osslsigncode
pub fn osslsigncode_present() -> bool {
    let present = Command::new("osslsigncode")
        .arg("--version")
        .output()
        .is_ok();
    assert!(
        present || !require_interop(),
        "BINGATE_REQUIRE_INTEROP=1 but osslsigncode is not installed"
    );
    present
}
