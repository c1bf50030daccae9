//! `--format html`: one self-contained page (skeleton; filled in by the HTML work).

use std::io::{self, Write};

use super::{FileReport, Renderer, Skipped, Summary};

pub struct HtmlRenderer<W: Write> {
    out: W,
    #[allow(dead_code)]
    policy: Option<(String, String)>,
}

impl<W: Write> HtmlRenderer<W> {
    pub fn new(out: W, policy: Option<(String, String)>) -> Self {
        HtmlRenderer { out, policy }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Renderer for HtmlRenderer<W> {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn file(&mut self, _file: &FileReport) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _skipped: &[Skipped], _summary: &Summary) -> io::Result<()> {
        Err(io::Error::other("--format html is not written yet"))
    }
}
