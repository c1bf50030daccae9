//! Mark of the Web: the `Zone.Identifier` alternate data stream Windows writes on downloads. On
//! Linux it arrives as a sidecar file named `FILE:Zone.Identifier` (what Samba and WSL turn the
//! stream into when a file is copied), an INI text:
//!
//! ```text
//! [ZoneTransfer]
//! ZoneId=3
//! ReferrerUrl=https://example.com/downloads
//! HostUrl=https://example.com/app.exe
//! ```

use std::io::Read;
use std::path::Path;

use serde::Serialize;

use crate::budget::MAX_ZONE_IDENTIFIER_LEN;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MarkOfTheWeb {
    /// The sidecar file it was read from.
    pub source: String,
    pub zone_id: Option<u32>,
    /// The URL zone's name: `local-machine`, `intranet`, `trusted`, `internet`, `restricted`.
    pub zone: Option<&'static str>,
    pub host_url: Option<String>,
    pub referrer_url: Option<String>,
    /// Why the sidecar could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub fn zone_name(id: u32) -> Option<&'static str> {
    Some(match id {
        0 => "local-machine",
        1 => "intranet",
        2 => "trusted",
        3 => "internet",
        4 => "restricted",
        _ => return None,
    })
}

/// The sidecar path for `file`: `file:Zone.Identifier`.
pub fn sidecar(file: &Path) -> std::path::PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(":Zone.Identifier");
    s.into()
}

/// Reads the Mark of the Web beside `file`, if there is one.
pub fn read(file: &Path) -> Option<MarkOfTheWeb> {
    let path = sidecar(file);
    // A FIFO or device named like a sidecar is never opened (it could block or never end);
    // a missing sidecar is the common case and says nothing.
    let f = match crate::input::open_regular(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(unreadable(path.display().to_string(), e.to_string())),
    };
    let source = path.display().to_string();
    let mut bytes = Vec::new();
    if let Err(e) = f
        .take(MAX_ZONE_IDENTIFIER_LEN.saturating_add(1))
        .read_to_end(&mut bytes)
    {
        return Some(unreadable(source, format!("cannot read it: {e}")));
    }
    if bytes.len() as u64 > MAX_ZONE_IDENTIFIER_LEN {
        return Some(unreadable(
            source,
            format!("larger than {MAX_ZONE_IDENTIFIER_LEN} bytes: not a Zone.Identifier"),
        ));
    }
    Some(parse(source, &bytes))
}

fn unreadable(source: String, error: String) -> MarkOfTheWeb {
    MarkOfTheWeb {
        source,
        zone_id: None,
        zone: None,
        host_url: None,
        referrer_url: None,
        error: Some(error),
    }
}

/// Decodes UTF-8 (with or without BOM) or UTF-16LE with BOM, as Windows tools write either.
fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xff, 0xfe]) {
        return crate::read::utf16_lossy(rest, true);
    }
    let rest = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    String::from_utf8_lossy(rest).into_owned()
}

pub fn parse(source: String, bytes: &[u8]) -> MarkOfTheWeb {
    let text = decode(bytes);
    let mut in_section = false;
    let mut saw_section = false;
    let mut m = MarkOfTheWeb {
        source,
        zone_id: None,
        zone: None,
        host_url: None,
        referrer_url: None,
        error: None,
    };
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line.eq_ignore_ascii_case("[ZoneTransfer]");
            saw_section |= in_section;
            continue;
        }
        if !in_section {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "zoneid" => m.zone_id = value.parse().ok(),
            "hosturl" => m.host_url = Some(value.chars().take(2048).collect()),
            "referrerurl" => m.referrer_url = Some(value.chars().take(2048).collect()),
            _ => {}
        }
    }
    m.zone = m.zone_id.and_then(zone_name);
    if !saw_section {
        m.error = Some("no [ZoneTransfer] section".into());
    } else if m.zone_id.is_none() {
        m.error = Some("no readable ZoneId".into());
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_download_mark() {
        let text = b"[ZoneTransfer]\r\nZoneId=3\r\nReferrerUrl=https://example.com/dl\r\nHostUrl=https://example.com/app.exe\r\n";
        let m = parse("x".into(), text);
        assert_eq!(m.zone_id, Some(3));
        assert_eq!(m.zone, Some("internet"));
        assert_eq!(m.host_url.as_deref(), Some("https://example.com/app.exe"));
        assert_eq!(m.referrer_url.as_deref(), Some("https://example.com/dl"));
        assert_eq!(m.error, None);
    }

    #[test]
    fn reads_utf16_and_reports_garbage() {
        let mut bytes = vec![0xff, 0xfe];
        for u in "[ZoneTransfer]\nZoneId=2\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(parse("x".into(), &bytes).zone, Some("trusted"));
        let bad = parse("x".into(), b"\x00\x01garbage");
        assert!(bad.error.is_some());
        let no_zone = parse("x".into(), b"[ZoneTransfer]\nZoneId=three\n");
        assert_eq!(no_zone.error.as_deref(), Some("no readable ZoneId"));
    }
}
