//! Prints what the certificate table of each PE file holds (a development aid for the
//! Authenticode layers; `bingate verify` will be the user-facing command).

// An example is a small program: it prints.
#![allow(clippy::disallowed_macros)]
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
                let anomalies: Vec<&str> = i.anomalies.iter().map(|a| a.id().as_str()).collect();
                println!("{path}: {} entries, anomalies {anomalies:?}", i.entries);
                for s in i.signatures {
                    match s {
                        Ok(s) => println!(
                            "  entry {}: {} digest-match={} message-digest={} signature={} key={:?} err={:?}",
                            s.entry,
                            s.digest.algorithm,
                            s.digest.matches,
                            s.cms.message_digest_match,
                            s.cms.signature_valid,
                            s.signer_key
                                .map(|k| format!("{}/{:?}", k.algorithm, k.bits)),
                            s.cms.error
                        ),
                        Err(e) => println!("  error: {e}"),
                    }
                }
            }
            Err(e) => println!("{path}: {e}"),
        }
    }
}
