//! Policy-file diagnostics: every problem with `file:line:column`, a message and a hint.

use std::fmt;

/// One problem in a policy or waiver file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Shown on a terminal: the file name, and the policy text the message quotes, with
        // control characters and bidi overrides escaped (the only line breaks are these).
        use crate::escape::text as esc;
        // Problems that are not about a place in policy text (a file that cannot be read) carry
        // no position: no `bingate:0:0`.
        if self.line == 0 {
            if self.file == "bingate" {
                write!(f, "error: {}", esc(&self.message))?;
            } else {
                write!(f, "{}: error: {}", esc(&self.file), esc(&self.message))?;
            }
        } else {
            write!(
                f,
                "{}:{}:{}: error: {}",
                esc(&self.file),
                self.line,
                self.column,
                esc(&self.message)
            )?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {}", esc(h))?;
        }
        Ok(())
    }
}

/// All the problems found while loading a policy, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrors(pub Vec<Diagnostic>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}

/// Collects diagnostics for one source text, turning byte offsets into 1-based line:column.
pub struct Sink<'a> {
    pub file: &'a str,
    src: &'a str,
    pub diags: Vec<Diagnostic>,
    index: std::cell::OnceCell<Vec<Mark>>,
}

/// A known position: byte offset, 1-based line, 0-based column in characters.
#[derive(Clone, Copy)]
struct Mark {
    offset: usize,
    line: usize,
    column: usize,
}

/// Distance between marks within one line, so a position on a long line costs at most this many
/// bytes of counting.
const MARK_SPACING: usize = 4096;

/// One pass over `src`: a mark at every line start and every [`MARK_SPACING`] bytes of a line.
fn marks(src: &str) -> Vec<Mark> {
    let mut out = vec![Mark {
        offset: 0,
        line: 1,
        column: 0,
    }];
    let (mut line, mut column, mut since) = (1usize, 0usize, 0usize);
    for (i, c) in src.char_indices() {
        let next = i.saturating_add(c.len_utf8());
        if c == '\n' {
            line = line.saturating_add(1);
            column = 0;
            since = 0;
            out.push(Mark {
                offset: next,
                line,
                column,
            });
            continue;
        }
        column = column.saturating_add(1);
        since = since.saturating_add(c.len_utf8());
        if since >= MARK_SPACING {
            since = 0;
            out.push(Mark {
                offset: next,
                line,
                column,
            });
        }
    }
    out
}

impl<'a> Sink<'a> {
    pub fn new(file: &'a str, src: &'a str) -> Self {
        Sink {
            file,
            src,
            diags: Vec::new(),
            index: std::cell::OnceCell::new(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset. The first call indexes the text
    /// in one pass; every call after costs a binary search and at most `MARK_SPACING` bytes,
    /// so 200,000 diagnostics in a 7 MB policy cost what one does.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        let marks = self.index.get_or_init(|| marks(self.src));
        let k = marks
            .partition_point(|m| m.offset <= offset)
            .saturating_sub(1);
        let Some(m) = marks.get(k) else {
            return (1, 1);
        };
        let rest = self
            .src
            .get(m.offset..offset)
            .map_or(0, |t| t.chars().count());
        (m.line, m.column.saturating_add(rest).saturating_add(1))
    }

    pub fn origin(&self, offset: usize) -> String {
        let (l, c) = self.position(offset);
        format!("{}:{l}:{c}", self.file)
    }

    pub fn error(&mut self, offset: usize, message: impl Into<String>, hint: Option<String>) {
        let (line, column) = self.position(offset);
        self.diags.push(Diagnostic {
            file: self.file.to_owned(),
            line,
            column,
            message: message.into(),
            hint,
        });
    }
}

/// The closest candidate to `word` (edit distance at most a third of its length), for hints.
pub fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<String> {
    let best = candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .min_by_key(|(d, _)| *d)?;
    (best.0 <= word.len().div_ceil(3).max(1)).then(|| format!("did you mean `{}`?", best.1))
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i.saturating_add(1)];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev
                .get(j)
                .copied()
                .unwrap_or(0)
                .saturating_add(usize::from(ca != *cb));
            let del = prev
                .get(j.saturating_add(1))
                .copied()
                .unwrap_or(0)
                .saturating_add(1);
            let ins = cur.get(j).copied().unwrap_or(0).saturating_add(1);
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_line_and_column() {
        let s = Sink::new("p.toml", "a = 1\nbb = 2\n");
        assert_eq!(s.position(0), (1, 1));
        assert_eq!(s.position(6), (2, 1));
        assert_eq!(s.position(9), (2, 4));
    }

    #[test]
    fn positions_on_long_lines_and_after_multibyte_characters_match_counting() {
        let mut src = String::new();
        for i in 0..3 {
            src.push_str(&"é".repeat(5000 + i));
            src.push_str(&"x".repeat(9000));
            src.push('\n');
        }
        let s = Sink::new("p.toml", &src);
        for (offset, _) in src.char_indices().step_by(997) {
            let upto = &src[..offset];
            let line = upto.matches('\n').count() + 1;
            let col = upto.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            assert_eq!(s.position(offset), (line, col), "offset {offset}");
        }
        assert_eq!(s.position(src.len()), (4, 1));
    }

    #[test]
    fn hints_suggest_close_names_only() {
        assert_eq!(
            did_you_mean("nx_compt", ["nx_compat", "guard_cf"]).unwrap(),
            "did you mean `nx_compat`?"
        );
        assert!(did_you_mean("zzzzzz", ["nx_compat"]).is_none());
    }
}
