//! The shipped policies, embedded in the binary and selectable by name.

/// (name, TOML text), in the order `bingate policy list` shows them.
const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../policies/default.toml")),
    (
        "cis-windows-server-2022",
        include_str!("../../policies/cis-windows-server-2022.toml"),
    ),
    (
        "cis-windows-11",
        include_str!("../../policies/cis-windows-11.toml"),
    ),
    (
        "microsoft-sdl",
        include_str!("../../policies/microsoft-sdl.toml"),
    ),
    (
        "cis-debian-12",
        include_str!("../../policies/cis-debian-12.toml"),
    ),
];

pub fn get(name: &str) -> Option<(&'static str, &'static str)> {
    BUILTIN.iter().find(|(n, _)| *n == name).copied()
}

pub fn names() -> impl Iterator<Item = &'static str> + Clone {
    BUILTIN.iter().map(|(n, _)| *n)
}
