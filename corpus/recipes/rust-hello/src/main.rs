fn main() {
    println!("hello from a Rust-built Windows executable, to be signed by bingate");
}
