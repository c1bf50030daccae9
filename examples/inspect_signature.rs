//! Prints what the certificate table of each PE file holds (a development aid for the
//! Authenticode layers; `bingate verify` will be the user-facing command).
#![allow(clippy::print_stdout)]

fn main() {
    for path in std::env::args().skip(1) {
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) => {
                println!("{path}: {e}");
                continue;
            }
        };
        match bingate::authenticode::inspect(&data) {
            Ok(None) => println!("{path}: no certificate table"),
            Ok(Some(i)) => {
                println!(
                    "{path}: table at {:#x} ({} bytes), {} entries, anomalies {:?}",
                    i.table_offset, i.table_size, i.entries, i.anomalies
                );
                for s in i.signatures {
                    match s {
                        Ok(s) => println!(
                            "  entry {}: {} signed {} computed {:?} match {} signer {:?}",
                            s.entry,
                            s.digest.algorithm,
                            s.digest.signed,
                            s.digest.computed,
                            s.digest.matches,
                            s.signer.as_ref().map(|x| &x.subject)
                        ),
                        Err(e) => println!("  error: {e}"),
                    }
                }
            }
            Err(e) => println!("{path}: {e}"),
        }
    }
}
