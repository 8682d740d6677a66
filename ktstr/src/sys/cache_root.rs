//! Where ktstr keeps its caches (kernels, installed schedulers, initramfs images).

use std::ffi::OsString;
use std::path::PathBuf;

/// ktstr's cache root: `KTSTR_CACHE_DIR`, else `$XDG_CACHE_HOME/ktstr`, else `~/.cache/ktstr`; `None`
/// when all three are unset or empty.
pub fn cache_root() -> Option<PathBuf> {
    cache_root_from(|name| std::env::var_os(name))
}

/// [`cache_root`] over any variable lookup; empty values count as unset.
pub fn cache_root_from(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let var = |name| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("KTSTR_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("ktstr")))
        .or_else(|| var("HOME").map(|h| h.join(".cache/ktstr")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_set_variable_wins_and_empty_counts_as_unset() {
        let cases = [
            ([Some("/k"), Some("/x"), Some("/h")], Some("/k")),
            ([Some(""), Some("/x"), Some("/h")], Some("/x/ktstr")),
            ([None, Some(""), Some("/h")], Some("/h/.cache/ktstr")),
            ([None, None, Some("")], None),
            ([None, None, None], None),
        ];
        for (values, want) in cases {
            let root = cache_root_from(|name| {
                let index = ["KTSTR_CACHE_DIR", "XDG_CACHE_HOME", "HOME"]
                    .iter()
                    .position(|v| *v == name)?;
                values[index].map(OsString::from)
            });
            assert_eq!(root, want.map(PathBuf::from), "{values:?}");
        }
    }
}
