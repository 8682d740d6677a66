//! Cgroup name validation: names are relative paths under the managed parent (`"a"`, `"a/b"`).

use super::CgroupError;

/// Prefixes of the kernel's cgroup interface files; a directory named like one would clash with a control file.
const RESERVED_PREFIXES: &[&str] = &[
    "cgroup.", "cpuset.", "cpu.", "io.", "memory.", "pids.", "hugetlb.", "rdma.", "misc.",
];

/// Checks that `name` is a relative cgroup path that stays under the managed parent.
pub fn validate_cgroup_name(name: &str) -> Result<(), CgroupError> {
    let reason = name_problem(name);
    match reason {
        None => Ok(()),
        Some(reason) => Err(CgroupError::InvalidName {
            name: name.to_string(),
            reason,
        }),
    }
}

fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it is empty; name the cgroup, e.g. \"cg_0\"");
    }
    if name.starts_with('/') {
        return Some(
            "it starts with '/'; names are relative to the managed parent, e.g. \"cg_0/inner\"",
        );
    }
    if name.contains('\0') {
        return Some("it contains a NUL byte");
    }
    for component in name.split('/') {
        if component.is_empty() {
            return Some("it has an empty path component ('//' or a trailing '/')");
        }
        if component == "." || component == ".." {
            return Some("'.' and '..' components would leave the managed parent");
        }
        if RESERVED_PREFIXES.iter().any(|p| component.starts_with(p)) {
            return Some("a component starts with a cgroup interface-file prefix (cgroup., cpuset., cpu., ...)");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects() {
        let cases: &[(&str, bool)] = &[
            ("cg_0", true),
            ("a/b/c", true),
            ("cgroup_0", true),
            ("cpuset_wide", true),
            ("my.cgroup.x", true),
            ("...", true),
            ("", false),
            ("/a", false),
            ("a/", false),
            ("a//b", false),
            (".", false),
            ("..", false),
            ("a/../b", false),
            ("a/./b", false),
            ("cgroup.procs", false),
            ("a/cpuset.cpus", false),
            ("cpu.max", false),
            ("memory.high", false),
            ("a\0b", false),
        ];
        for &(name, ok) in cases {
            let result = validate_cgroup_name(name);
            assert_eq!(result.is_ok(), ok, "{name:?}: {result:?}");
            if let Err(err) = result {
                assert!(
                    matches!(err, CgroupError::InvalidName { .. }),
                    "{name:?}: {err:?}"
                );
            }
        }
    }
}
