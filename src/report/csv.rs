//! `--format csv`: one row per file (skeleton; filled in by the CSV work).

use std::io::{self, Write};

use super::{FileReport, Renderer, Skipped, Summary};
use crate::config::View;

pub struct CsvRenderer<W: Write> {
    out: W,
    #[allow(dead_code)]
    view: View,
}

impl<W: Write> CsvRenderer<W> {
    pub fn new(out: W, view: View) -> Self {
        CsvRenderer { out, view }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Renderer for CsvRenderer<W> {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn file(&mut self, _file: &FileReport) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _skipped: &[Skipped], _summary: &Summary) -> io::Result<()> {
        Err(io::Error::other("--format csv is not written yet"))
    }
}
