//! The checks that read what a file holds: `pe-no-unsigned-inside` (a signed container or
//! installer with unsigned PE files inside, the container summary's `unsigned_pe`) and
//! `pe-installer-payload-examined` (an installer payload the signature does not cover, or whose
//! files were not examined).

use super::super::eval::Subject;
use super::super::model::{NamedCheck, Status};
use crate::cms::verdict::Status as Sig;

/// A contents check against the file's container summary, installer payload and signature.
pub(crate) fn contents(check: NamedCheck, file: &Subject<'_>) -> (Status, String) {
    match check {
        NamedCheck::PeNoUnsignedInside => unsigned_inside(file),
        NamedCheck::PeInstallerPayloadExamined => payload(file),
        _ => (Status::NotApplicable, String::new()),
    }
}

/// Signed (any status but unsigned: a signature that does not verify still claims the file) and
/// unsigned PE files inside fails; an unsigned file is `pe-signed`'s business.
fn unsigned_inside(file: &Subject<'_>) -> (Status, String) {
    let Some(c) = file.container else {
        return (
            Status::NotApplicable,
            "not a container, and no installer payload was examined".into(),
        );
    };
    let Some(n) = c.unsigned_pe else {
        return (
            Status::NotApplicable,
            "the signatures of the files inside were not verified in this run".into(),
        );
    };
    let Some(v) = file.signature else {
        return (
            Status::NotApplicable,
            "the signature was not verified in this run".into(),
        );
    };
    if v.status == Sig::Unsigned {
        return (
            Status::NotApplicable,
            "unsigned: no signature vouches for the contents (see pe-signed)".into(),
        );
    }
    if n == 0 {
        return (
            Status::Pass,
            format!(
                "signed ({}); no unsigned PE file among the {} binaries inside",
                v.status.as_str(),
                c.binaries
            ),
        );
    }
    let mut message = format!(
        "signed ({}), but {n} PE file{} inside {} unsigned",
        v.status.as_str(),
        if n == 1 { "" } else { "s" },
        if n == 1 { "is" } else { "are" }
    );
    if !c.unsigned_pe_shown.is_empty() {
        message.push_str(": ");
        message.push_str(&c.unsigned_pe_shown.join(", "));
        let more = n.saturating_sub(c.unsigned_pe_shown.len() as u64);
        if more > 0 {
            message.push_str(&format!(" and {more} more"));
        }
    }
    (Status::Fail, message)
}

/// A recognised payload fails when it lies after the certificate table or its files were not
/// examined.
fn payload(file: &Subject<'_>) -> (Status, String) {
    let Some(i) = file.installer else {
        return (
            Status::NotApplicable,
            "no installer payload recognised".into(),
        );
    };
    let what = format!(
        "{} payload at offset {:#x} ({} bytes)",
        i.kind.name(),
        i.offset,
        i.size
    );
    let mut problems = Vec::new();
    if i.covered_by_signature == Some(false) {
        problems.push("it lies after the certificate table, so the signature does not cover it");
    }
    if !i.examined {
        problems.push("its files were not examined");
    }
    if problems.is_empty() {
        let covered = match i.covered_by_signature {
            Some(true) => "covered by the signature",
            _ => "the file is unsigned",
        };
        (
            Status::Pass,
            format!("{what}: {covered}; its files were examined"),
        )
    } else {
        (Status::Fail, format!("{what}: {}", problems.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cms::verdict::SignatureVerdict;
    use crate::container::{Installer, InstallerKind, Kind, Summary};

    fn verdict(status: Sig) -> SignatureVerdict {
        SignatureVerdict {
            status,
            format: None,
            signatures: Vec::new(),
            anomalies: Vec::new(),
            error: None,
            decided_by: None,
        }
    }

    fn judge(
        check: NamedCheck,
        signature: &Option<SignatureVerdict>,
        container: &Option<Summary>,
        installer: &Option<Installer>,
    ) -> (Status, String) {
        let none = None;
        let file = Subject {
            path: "setup.exe",
            sha256: &none,
            arch: &None,
            bits: Some(64),
            kind: None,
            toolchain: &None,
            hardening: &None,
            error: &None,
            signature,
            risk: &None,
            container,
            installer,
        };
        contents(check, &file)
    }

    fn summary(unsigned: Option<u64>, shown: &[&str]) -> Option<Summary> {
        let mut s = Summary::new(Kind::Zip);
        s.binaries = 7;
        s.unsigned_pe = unsigned;
        s.unsigned_pe_shown = shown.iter().map(|s| (*s).to_owned()).collect();
        Some(s)
    }

    #[test]
    fn a_signed_container_with_unsigned_executables_fails_naming_them() {
        let (status, message) = judge(
            NamedCheck::PeNoUnsignedInside,
            &Some(verdict(Sig::Valid)),
            &summary(Some(3), &["setup.exe!/a.dll", "setup.exe!/b.dll"]),
            &None,
        );
        assert_eq!(status, Status::Fail);
        assert_eq!(
            message,
            "signed (valid), but 3 PE files inside are unsigned: setup.exe!/a.dll, setup.exe!/b.dll and 1 more"
        );
        // A signature that does not verify still claims the file.
        let (status, _) = judge(
            NamedCheck::PeNoUnsignedInside,
            &Some(verdict(Sig::Invalid)),
            &summary(Some(1), &["x.zip!/a.dll"]),
            &None,
        );
        assert_eq!(status, Status::Fail);
    }

    #[test]
    fn unsigned_or_clean_or_unknown_contents_do_not_fail() {
        let signed = Some(verdict(Sig::Valid));
        let (status, message) = judge(
            NamedCheck::PeNoUnsignedInside,
            &signed,
            &summary(Some(0), &[]),
            &None,
        );
        assert_eq!(
            (status, message.as_str()),
            (
                Status::Pass,
                "signed (valid); no unsigned PE file among the 7 binaries inside"
            )
        );
        for (signature, container) in [
            (Some(verdict(Sig::Unsigned)), summary(Some(2), &["a.dll"])),
            (signed.clone(), summary(None, &[])),
            (None, summary(Some(2), &["a.dll"])),
            (signed.clone(), None),
        ] {
            let (status, _) = judge(
                NamedCheck::PeNoUnsignedInside,
                &signature,
                &container,
                &None,
            );
            assert_eq!(status, Status::NotApplicable, "{signature:?} {container:?}");
        }
    }

    #[test]
    fn installer_payloads_not_covered_or_not_examined_fail() {
        let payload = |covered, examined| {
            Some(Installer {
                kind: InstallerKind::Nsis,
                offset: 0x17a00,
                size: 4967,
                covered_by_signature: covered,
                examined,
            })
        };
        let (status, message) = judge(
            NamedCheck::PeInstallerPayloadExamined,
            &None,
            &None,
            &payload(Some(false), false),
        );
        assert_eq!(status, Status::Fail);
        assert_eq!(
            message,
            "NSIS payload at offset 0x17a00 (4967 bytes): it lies after the certificate table, so the signature does not cover it; its files were not examined"
        );
        let (status, message) = judge(
            NamedCheck::PeInstallerPayloadExamined,
            &None,
            &None,
            &payload(Some(true), false),
        );
        assert_eq!(
            (status, message.as_str()),
            (
                Status::Fail,
                "NSIS payload at offset 0x17a00 (4967 bytes): its files were not examined"
            )
        );
        let (status, _) = judge(
            NamedCheck::PeInstallerPayloadExamined,
            &None,
            &None,
            &payload(Some(true), true),
        );
        assert_eq!(status, Status::Pass);
        let (status, _) = judge(NamedCheck::PeInstallerPayloadExamined, &None, &None, &None);
        assert_eq!(status, Status::NotApplicable);
    }
}
