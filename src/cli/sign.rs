//! `bingate sign elf`: the arguments resolved (keys read and matched) before the input is
//! touched, then the file signed.

use std::io::Write;

use crate::sign::command::SignElfArgs;

/// Signs as `args` say, with a one-line summary on `out`; an error (nothing is written then) is
/// the message for stderr.
pub fn elf(args: SignElfArgs, out: &mut impl Write) -> Result<(), String> {
    crate::cleanup::install();
    let resolved = args.resolve()?;
    crate::sign::command::run(&resolved, out)
}
