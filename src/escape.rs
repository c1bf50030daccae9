//! Strings from files (paths, certificate names, program names, version-info text, error
//! messages that quote them) made safe for a terminal in human output: control characters (C0,
//! DEL, C1: ESC sequences, CR that rewrites a line, LF that forges one), bidirectional overrides
//! and isolates (which reorder what is shown: "Trojan Source") and line/paragraph separators are
//! shown as escapes. JSON and SARIF keep the exact strings (their encoders escape what they must).
//! The HTML report ([`html`]) shows the same escapes, with the characters markup gives a meaning
//! to written as character references.

use std::borrow::Cow;
use std::fmt::Write as _;

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                | '\u{2028}' | '\u{2029}'
        )
}

/// `s` with every character a terminal would act on written as an escape (`\n`, `\r`, `\t`,
/// `\u{1b}`, `\u{202e}`…); `s` itself when there is none.
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().saturating_add(16));
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `s` for HTML text or a quoted attribute value: first as [`text`] shows it (controls and
/// bidirectional overrides as visible escapes), then `&`, `<`, `>`, `"` and `'` as character
/// references, so that no string from a file can open a tag, close an attribute or start an
/// entity.
pub fn html(s: &str) -> Cow<'_, str> {
    let shown = text(s);
    if !shown.contains(['&', '<', '>', '"', '\'']) {
        return shown;
    }
    let mut out = String::with_capacity(shown.len().saturating_add(16));
    for c in shown.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::{html, text};

    #[test]
    fn markup_characters_become_references() {
        assert_eq!(html("plain/path.exe"), "plain/path.exe");
        assert_eq!(
            html("<script>alert(1)</script>.exe"),
            "&lt;script&gt;alert(1)&lt;/script&gt;.exe"
        );
        assert_eq!(
            html("\"><img src=x onerror='a'>&amp;"),
            "&quot;&gt;&lt;img src=x onerror=&#39;a&#39;&gt;&amp;amp;"
        );
        // Controls and bidi overrides are shown as the terminal output shows them.
        assert_eq!(html("a\u{202e}<b\n"), "a\\u{202e}&lt;b\\n");
    }

    #[test]
    fn terminal_controls_are_shown_as_escapes() {
        assert_eq!(text("plain/path.exe"), "plain/path.exe");
        assert_eq!(text("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(text("x\ry\nz\t"), "x\\ry\\nz\\t");
        assert_eq!(text("evil\u{202e}exe.txt"), "evil\\u{202e}exe.txt");
        assert_eq!(text("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(text("\u{7f}"), "\\u{7f}");
        assert_eq!(text("naïve ünïcode"), "naïve ünïcode");
    }
}
