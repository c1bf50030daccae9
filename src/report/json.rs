//! `--format json`: one document, written as the files are checked (never held whole in memory).

use std::io::{self, Write};

use super::{FileReport, Renderer, SCHEMA, Skipped, Summary};

pub struct JsonRenderer<W: Write> {
    out: W,
    first: bool,
    /// `(name, source)` of the applied policy.
    policy: Option<(String, String)>,
}

impl<W: Write> JsonRenderer<W> {
    pub fn new(out: W, policy: Option<(String, String)>) -> Self {
        JsonRenderer {
            out,
            first: true,
            policy,
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

fn to_io(e: serde_json::Error) -> io::Error {
    io::Error::other(e)
}

impl<W: Write> Renderer for JsonRenderer<W> {
    fn begin(&mut self) -> io::Result<()> {
        write!(
            self.out,
            "{{\n  \"schema\": {},\n  \"bingate_version\": {},\n",
            serde_json::to_string(SCHEMA).map_err(to_io)?,
            serde_json::to_string(env!("CARGO_PKG_VERSION")).map_err(to_io)?
        )?;
        if let Some((name, source)) = &self.policy {
            writeln!(
                self.out,
                "  \"policy\": {{\"name\": {}, \"source\": {}}},",
                serde_json::to_string(name).map_err(to_io)?,
                serde_json::to_string(source).map_err(to_io)?
            )?;
        }
        self.out.write_all(b"  \"files\": [")
    }

    fn file(&mut self, file: &FileReport) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"\n    " } else { b",\n    " })?;
        self.first = false;
        serde_json::to_writer(&mut self.out, file).map_err(to_io)
    }

    fn finish(&mut self, skipped: &[Skipped], summary: &Summary) -> io::Result<()> {
        self.out
            .write_all(if self.first { b"],\n" } else { b"\n  ],\n" })?;
        self.out.write_all(b"  \"skipped\": [")?;
        for (i, s) in skipped.iter().enumerate() {
            self.out
                .write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
            serde_json::to_writer(&mut self.out, s).map_err(to_io)?;
        }
        self.out.write_all(if skipped.is_empty() {
            b"],\n"
        } else {
            b"\n  ],\n"
        })?;
        self.out.write_all(b"  \"summary\": ")?;
        serde_json::to_writer(&mut self.out, summary).map_err(to_io)?;
        self.out.write_all(b"\n}\n")?;
        self.out.flush()
    }
}
