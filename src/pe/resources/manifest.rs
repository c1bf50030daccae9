//! The application manifest: the requestedExecutionLevel and uiAccess of an RT_MANIFEST resource,
//! its XML read with size, node and DTD budgets.

use serde::Serialize;

use super::{Findings, Leaf, leaf_bytes};
use crate::budget::{MAX_MANIFEST_SIZE, MAX_MANIFEST_XML_NODES};
use crate::read::Bytes;

/// An RT_MANIFEST resource: the application manifest's execution level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// The data entry's Size, in bytes.
    pub size: u32,
    /// The `level` attribute of requestedExecutionLevel (asInvoker, highestAvailable,
    /// requireAdministrator), as written.
    pub requested_execution_level: Option<String>,
    /// The `uiAccess` attribute, as written ("true"/"false").
    pub ui_access: Option<String>,
    /// Why the XML could not be read, when it could not (the fields above are then None).
    pub error: Option<String>,
}

/// Reads the RT_MANIFEST resource `leaf`: its requestedExecutionLevel.
pub(super) fn read_manifest(file: Bytes<'_>, leaf: Leaf, findings: &mut Findings) -> Manifest {
    let mut manifest = Manifest {
        size: leaf.size,
        ..Manifest::default()
    };
    let size = u64::from(leaf.size);
    if size > MAX_MANIFEST_SIZE {
        let why = format!(
            "the manifest is {size} bytes, more than the {MAX_MANIFEST_SIZE} parsed (budget MAX_MANIFEST_SIZE)"
        );
        findings.push(format!(
            "manifest at file offset {:#x}: {why}",
            leaf.data_at
        ));
        manifest.error = Some(why);
        return manifest;
    }
    let (bytes, _) = leaf_bytes(
        file,
        leaf,
        (MAX_MANIFEST_SIZE, "MAX_MANIFEST_SIZE"),
        findings,
    );
    let parsed = decode_xml(bytes).and_then(|text| {
        let options = roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: MAX_MANIFEST_XML_NODES,
            ..roxmltree::ParsingOptions::default()
        };
        let doc = roxmltree::Document::parse_with_options(&text, options).map_err(|e| match e {
            roxmltree::Error::NodesLimitReached => format!(
                "more than {MAX_MANIFEST_XML_NODES} XML nodes (budget MAX_MANIFEST_XML_NODES)"
            ),
            roxmltree::Error::DtdDetected => {
                "it has a DOCTYPE, which manifests never need and which is not read".to_owned()
            }
            other => format!("not well-formed XML: {other}"),
        })?;
        // requestedExecutionLevel in any namespace (asm.v2, asm.v3 or none): Windows reads it
        // under trustInfo/security/requestedPrivileges, and writers disagree on the prefix.
        let level = doc
            .descendants()
            .find(|n| n.is_element() && n.tag_name().name() == "requestedExecutionLevel");
        let attribute = |name: &str| {
            level.and_then(|n| {
                n.attributes()
                    .find(|a| a.name() == name)
                    .map(|a| a.value().to_owned())
            })
        };
        Ok((attribute("level"), attribute("uiAccess")))
    });
    match parsed {
        Ok((level, ui_access)) => {
            manifest.requested_execution_level = level;
            manifest.ui_access = ui_access;
        }
        Err(why) => {
            findings.push(format!(
                "manifest at file offset {:#x}: {why}",
                leaf.data_at
            ));
            manifest.error = Some(why);
        }
    }
    manifest
}

/// The manifest's text: UTF-16 with a BOM (either order), UTF-8 with or without one. Trailing
/// NULs (resource compilers pad with them) are dropped.
fn decode_xml(bytes: &[u8]) -> std::result::Result<String, String> {
    let utf16 = |body: &[u8], le: bool| {
        let units = body.chunks_exact(2).map(|c| {
            let pair = [
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ];
            if le {
                u16::from_le_bytes(pair)
            } else {
                u16::from_be_bytes(pair)
            }
        });
        char::decode_utf16(units)
            .collect::<std::result::Result<String, _>>()
            .map_err(|e| format!("invalid UTF-16: {e}"))
    };
    let text = match bytes {
        [0xFF, 0xFE, body @ ..] => utf16(body, true)?,
        [0xFE, 0xFF, body @ ..] => utf16(body, false)?,
        [0xEF, 0xBB, 0xBF, body @ ..] => std::str::from_utf8(body)
            .map_err(|e| format!("invalid UTF-8: {e}"))?
            .to_owned(),
        body => std::str::from_utf8(body)
            .map_err(|e| format!("invalid UTF-8: {e}"))?
            .to_owned(),
    };
    Ok(text.trim_end_matches('\0').to_owned())
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::super::Resources;
    use super::super::synthetic::*;
    use super::*;

    fn manifest_of(manifest: &[u8]) -> Resources {
        read_ok(&image_with(good_version(), manifest.to_vec()))
    }

    #[test]
    fn manifest_that_is_not_xml() {
        let r = manifest_of(b"this is not XML <<<");
        let m = r.manifest.clone().unwrap();
        assert!(m.error.as_deref().unwrap().contains("not well-formed XML"));
        assert_eq!(m.requested_execution_level, None);
        assert_malformed(&r, "not well-formed XML");

        let r = manifest_of(&[0xC3, 0x28, b'<', b'a', b'/', b'>']);
        assert!(r.manifest.unwrap().error.unwrap().contains("invalid UTF-8"));
    }

    #[test]
    fn manifest_with_an_entity_bomb_is_refused() {
        let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<assembly><trustInfo><requestedExecutionLevel level="&lol4;"/></trustInfo></assembly>"#;
        let r = manifest_of(bomb.as_bytes());
        let m = r.manifest.clone().unwrap();
        assert!(m.error.unwrap().contains("DOCTYPE"));
        assert_eq!(m.requested_execution_level, None);
        assert_malformed(&r, "DOCTYPE");
    }

    #[test]
    fn manifest_larger_than_its_budget_is_not_parsed() {
        let (mut t, entries) =
            tree_with_entries(&items(good_version(), MANIFEST.as_bytes().to_vec()));
        put32(&mut t, entries[6] + 4, 2 << 20);
        let r = read_ok(&rsrc_image(&t));
        let m = r.manifest.clone().unwrap();
        assert_eq!(m.size, 2 << 20);
        assert_eq!(m.requested_execution_level, None);
        assert!(m.error.unwrap().contains("budget MAX_MANIFEST_SIZE"));
        assert_malformed(&r, "budget MAX_MANIFEST_SIZE");
    }

    #[test]
    fn manifest_with_too_many_nodes_is_refused() {
        let mut xml = String::from("<assembly>");
        for _ in 0..MAX_MANIFEST_XML_NODES {
            xml.push_str("<a/>");
        }
        xml.push_str("</assembly>");
        let r = manifest_of(xml.as_bytes());
        assert!(
            r.manifest
                .unwrap()
                .error
                .unwrap()
                .contains("budget MAX_MANIFEST_XML_NODES")
        );
    }

    #[test]
    fn manifest_in_utf16_or_with_a_utf8_bom() {
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(
            MANIFEST
                .replace("UTF-8", "UTF-16")
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        let mut utf8_bom = vec![0xEF, 0xBB, 0xBF];
        utf8_bom.extend_from_slice(MANIFEST.as_bytes());
        // Resource compilers pad with NULs.
        utf8_bom.extend_from_slice(&[0, 0, 0]);
        for bytes in [utf16, utf8_bom] {
            let r = manifest_of(&bytes);
            assert_eq!(r.malformed, Vec::<String>::new());
            let m = r.manifest.unwrap();
            assert_eq!(m.size, bytes.len() as u32);
            assert_eq!(
                m.requested_execution_level.as_deref(),
                Some("requireAdministrator")
            );
            assert_eq!(m.ui_access.as_deref(), Some("false"));
        }
    }

    #[test]
    fn manifest_namespace_prefix_and_missing_level() {
        let prefixed = r#"<asmv1:assembly xmlns:asmv1="urn:schemas-microsoft-com:asm.v1" xmlns:asmv2="urn:schemas-microsoft-com:asm.v2" manifestVersion="1.0">
<asmv2:trustInfo><asmv2:security><asmv2:requestedPrivileges>
<asmv2:requestedExecutionLevel level="asInvoker" uiAccess="false"/>
</asmv2:requestedPrivileges></asmv2:security></asmv2:trustInfo></asmv1:assembly>"#;
        let m = manifest_of(prefixed.as_bytes()).manifest.unwrap();
        assert_eq!(m.requested_execution_level.as_deref(), Some("asInvoker"));

        let none = r#"<assembly xmlns="urn:schemas-microsoft-com:asm.v1" manifestVersion="1.0"/>"#;
        let m = manifest_of(none.as_bytes()).manifest.unwrap();
        assert_eq!(
            m,
            Manifest {
                size: none.len() as u32,
                ..Manifest::default()
            }
        );
    }
}
