//! The kernel version read from a source tree's top-level Makefile, as `make kernelversion` prints it.

use std::fmt;

/// A kernel version such as `6.12.117` or `6.13.0-rc3`, safe to use in a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelVersion(String);

impl KernelVersion {
    /// Reads VERSION, PATCHLEVEL, SUBLEVEL and EXTRAVERSION from Makefile text; `None` if absent or odd.
    pub fn from_makefile(text: &str) -> Option<KernelVersion> {
        let var = |name: &str| {
            text.lines().find_map(|l| {
                let (key, value) = l.split_once('=')?;
                (key.trim() == name).then(|| value.trim().to_string())
            })
        };
        let (version, patchlevel) = (var("VERSION")?, var("PATCHLEVEL")?);
        let (sublevel, extra) = (
            var("SUBLEVEL").unwrap_or_default(),
            var("EXTRAVERSION").unwrap_or_default(),
        );
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !numeric(&version)
            || !numeric(&patchlevel)
            || !(sublevel.is_empty() || numeric(&sublevel))
        {
            return None;
        }
        let extra_ok = extra
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._+".contains(&b));
        if !extra_ok {
            return None;
        }
        let sub = if sublevel.is_empty() {
            String::new()
        } else {
            format!(".{sublevel}")
        };
        Some(KernelVersion(format!("{version}.{patchlevel}{sub}{extra}")))
    }

    /// The version string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn versions_read_like_make_kernelversion() {
        let mk = |v: &str, p: &str, s: &str, e: &str| {
            format!("# SPDX\nVERSION = {v}\nPATCHLEVEL = {p}\nSUBLEVEL = {s}\nEXTRAVERSION = {e}\nNAME = Baby Opossum Posse\n")
        };
        for (text, want) in [
            (mk("6", "12", "117", ""), Some("6.12.117")),
            (mk("6", "13", "0", "-rc3"), Some("6.13.0-rc3")),
            (mk("6", "13", "", ""), Some("6.13")),
            (mk("6", "x", "1", ""), None),
            (mk("6", "12", "1", "/evil"), None),
            ("obj-y += foo.o\n".to_string(), None),
        ] {
            assert_eq!(
                KernelVersion::from_makefile(&text)
                    .as_ref()
                    .map(KernelVersion::as_str),
                want,
                "{text}"
            );
        }
    }

    proptest! {
        #[test]
        fn any_text_parses_or_not_without_panic(text in ".{0,300}") {
            if let Some(v) = KernelVersion::from_makefile(&text) {
                prop_assert!(!v.as_str().contains('/'));
            }
        }
    }
}
