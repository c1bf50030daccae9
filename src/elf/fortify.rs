//! bingate's own list of glibc's fortified (`__*_chk`) functions.
//!
//! Taken from glibc's `debug/` directory and `<bits/*2.h>` headers (glibc 2.36–2.40). FORTIFY
//! is counted against this list, never against the scanning machine's libc, so the same binary
//! gets the same counts everywhere (checksec.sh reads the host's libc and does not).

/// Every glibc `__*_chk` entry point. Sorted, for binary search.
pub const CHK_FUNCTIONS: &[&str] = &[
    "__asprintf_chk",
    "__confstr_chk",
    "__dprintf_chk",
    "__explicit_bzero_chk",
    "__fdelt_chk",
    "__fgets_chk",
    "__fgets_unlocked_chk",
    "__fgetws_chk",
    "__fgetws_unlocked_chk",
    "__fprintf_chk",
    "__fread_chk",
    "__fread_unlocked_chk",
    "__fwprintf_chk",
    "__getcwd_chk",
    "__getdomainname_chk",
    "__getgroups_chk",
    "__gethostname_chk",
    "__getlogin_r_chk",
    "__gets_chk",
    "__getwd_chk",
    "__longjmp_chk",
    "__mbsnrtowcs_chk",
    "__mbsrtowcs_chk",
    "__mbstowcs_chk",
    "__memcpy_chk",
    "__memmove_chk",
    "__mempcpy_chk",
    "__memset_chk",
    "__obstack_printf_chk",
    "__obstack_vprintf_chk",
    "__poll_chk",
    "__ppoll_chk",
    "__pread64_chk",
    "__pread_chk",
    "__printf_chk",
    "__ptsname_r_chk",
    "__read_chk",
    "__readlink_chk",
    "__readlinkat_chk",
    "__realpath_chk",
    "__recv_chk",
    "__recvfrom_chk",
    "__snprintf_chk",
    "__sprintf_chk",
    "__stpcpy_chk",
    "__stpncpy_chk",
    "__strcat_chk",
    "__strcpy_chk",
    "__strlcat_chk",
    "__strlcpy_chk",
    "__strncat_chk",
    "__strncpy_chk",
    "__swprintf_chk",
    "__syslog_chk",
    "__ttyname_r_chk",
    "__vasprintf_chk",
    "__vdprintf_chk",
    "__vfprintf_chk",
    "__vfwprintf_chk",
    "__vprintf_chk",
    "__vsnprintf_chk",
    "__vsprintf_chk",
    "__vswprintf_chk",
    "__vsyslog_chk",
    "__vwprintf_chk",
    "__wcpcpy_chk",
    "__wcpncpy_chk",
    "__wcrtomb_chk",
    "__wcscat_chk",
    "__wcscpy_chk",
    "__wcslcat_chk",
    "__wcslcpy_chk",
    "__wcsncat_chk",
    "__wcsncpy_chk",
    "__wcsnrtombs_chk",
    "__wcsrtombs_chk",
    "__wcstombs_chk",
    "__wctomb_chk",
    "__wmemcpy_chk",
    "__wmemmove_chk",
    "__wmempcpy_chk",
    "__wmemset_chk",
    "__wprintf_chk",
];

/// `__fdelt_chk` guards the FD_SET macros; there is no plain function it replaces.
const NO_PLAIN_COUNTERPART: &[&str] = &["__fdelt_chk"];

/// Is `name` a glibc `__*_chk` function?
pub fn is_chk(name: &[u8]) -> bool {
    name.starts_with(b"__")
        && name.ends_with(b"_chk")
        && CHK_FUNCTIONS
            .binary_search_by(|c| c.as_bytes().cmp(name))
            .is_ok()
}

/// Is `name` a plain function that has a `__*_chk` counterpart (e.g. `memcpy`)?
pub fn is_fortifiable(name: &[u8]) -> bool {
    if name.is_empty() || name.len() > 64 || name.starts_with(b"__") {
        return false;
    }
    let mut chk = Vec::with_capacity(name.len().saturating_add(6));
    chk.extend_from_slice(b"__");
    chk.extend_from_slice(name);
    chk.extend_from_slice(b"_chk");
    let chk = chk.as_slice();
    CHK_FUNCTIONS
        .binary_search_by(|c| c.as_bytes().cmp(chk))
        .is_ok()
        && !NO_PLAIN_COUNTERPART.iter().any(|n| n.as_bytes() == chk)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_and_unique() {
        assert!(CHK_FUNCTIONS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn classifies_names() {
        assert!(is_chk(b"__memcpy_chk"));
        assert!(!is_chk(b"__memcpy"));
        assert!(is_fortifiable(b"memcpy"));
        assert!(is_fortifiable(b"printf"));
        assert!(!is_fortifiable(b"fdelt"));
        assert!(!is_fortifiable(b"puts"));
    }
}
