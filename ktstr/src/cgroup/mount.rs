//! Finding cgroup2 mounts in `/proc/self/mounts`.

use std::path::{Component, Path, PathBuf};

use super::CgroupError;

const MOUNTS: &str = "/proc/self/mounts";

/// Mount points of every cgroup2 filesystem, in mount-table order.
pub fn cgroup2_mounts() -> Result<Vec<PathBuf>, CgroupError> {
    let text = std::fs::read_to_string(MOUNTS)
        .map_err(|source| CgroupError::io(PathBuf::from(MOUNTS), "read mount table", source))?;
    Ok(parse_cgroup2_mounts(&text))
}

/// The first cgroup2 mount point, e.g. `/sys/fs/cgroup` (pure v2) or `/sys/fs/cgroup/unified` (hybrid).
pub fn find_cgroup2_mount() -> Result<PathBuf, CgroupError> {
    cgroup2_mounts()?
        .into_iter()
        .next()
        .ok_or(CgroupError::NoCgroup2Mount)
}

/// The cgroup2 mount that holds `path`: the longest mount point that is a proper prefix of it.
pub(crate) fn mount_root_for(path: &Path) -> Result<PathBuf, CgroupError> {
    let mounts = cgroup2_mounts()?;
    if mounts.is_empty() {
        return Err(CgroupError::NoCgroup2Mount);
    }
    match longest_proper_prefix(path, &mounts) {
        Some(root) => Ok(root.clone()),
        None => Err(CgroupError::OutsideCgroup2 {
            path: path.to_path_buf(),
            mounts,
        }),
    }
}

fn longest_proper_prefix<'m>(path: &Path, mounts: &'m [PathBuf]) -> Option<&'m PathBuf> {
    let normal = path.is_absolute()
        && path
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    if !normal || mounts.iter().any(|mount| mount == path) {
        return None;
    }
    mounts
        .iter()
        .filter(|mount| path != mount.as_path() && path.starts_with(mount))
        .max_by_key(|mount| mount.components().count())
}

/// Mount points of the cgroup2 lines of a mount table (`/proc/self/mounts` format).
fn parse_cgroup2_mounts(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_source, target, fstype) = (fields.next()?, fields.next()?, fields.next()?);
            (fstype == "cgroup2").then(|| PathBuf::from(unescape_octal(target)))
        })
        .collect()
}

/// Undoes the kernel's `\ooo` escaping of space, tab, newline and backslash in mount points.
fn unescape_octal(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let code = bytes.get(i + 1..i + 4).and_then(|d| {
            let text = std::str::from_utf8(d).ok()?;
            u8::from_str_radix(text, 8).ok()
        });
        match (bytes[i], code) {
            (b'\\', Some(code)) => {
                out.push(code);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
cgroup2 /mnt/my\\040cg cgroup2 rw 0 0
";

    #[test]
    fn parses_only_cgroup2_lines_and_unescapes() {
        let mounts = parse_cgroup2_mounts(HYBRID);
        assert_eq!(
            mounts,
            [
                PathBuf::from("/sys/fs/cgroup/unified"),
                PathBuf::from("/mnt/my cg")
            ]
        );
        assert!(parse_cgroup2_mounts("cgroup /sys/fs/cgroup/cpu cgroup rw 0 0\n").is_empty());
        assert_eq!(unescape_octal(r"a\134b\011"), "a\\b\t");
        assert_eq!(unescape_octal(r"trail\04"), r"trail\04");
    }

    #[test]
    fn picks_the_longest_proper_prefix() {
        let mounts = [
            PathBuf::from("/sys/fs/cgroup"),
            PathBuf::from("/sys/fs/cgroup/unified"),
        ];
        let cases = [
            ("/sys/fs/cgroup/ktstr", Some("/sys/fs/cgroup")),
            (
                "/sys/fs/cgroup/unified/ktstr/a",
                Some("/sys/fs/cgroup/unified"),
            ),
            ("/sys/fs/cgroup/unified", None),
            ("/sys/fs/cgroup/../../etc", None),
            ("/sys/fs/cgroup/./a", Some("/sys/fs/cgroup")),
            ("/sys/fs/cgroup", None),
            ("/sys/fs/cgroupx/a", None),
            ("ktstr", None),
        ];
        for (path, want) in cases {
            let got = longest_proper_prefix(Path::new(path), &mounts);
            assert_eq!(got.map(PathBuf::as_path), want.map(Path::new), "{path}");
        }
    }
}
