//! The `bingate` binary: parse arguments, call the library, turn the outcome into an exit code.

fn main() -> std::process::ExitCode {
    bingate::cli::main()
}
