//! Finding a scheduler binary on the host by name, outside the kernel cache and the store: in the cargo
//! target directories of the project being worked on (`$CARGO_TARGET_DIR`, `target/` of each enclosing
//! cargo project, the target directory of the running binary), then on `PATH`.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The cargo target directories worth searching, nearest first, without duplicates.
pub fn cargo_target_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(dir));
    }
    if let Ok(cwd) = std::env::current_dir() {
        dirs.extend(
            cwd.ancestors()
                .filter(|d| d.join("Cargo.toml").is_file())
                .map(|d| d.join("target")),
        );
    }
    if let Ok(exe) = std::env::current_exe() {
        dirs.extend(
            exe.ancestors()
                .find(|d| is_profile_dir(d))
                .and_then(Path::parent)
                .map(Path::to_path_buf),
        );
    }
    let mut unique: Vec<PathBuf> = Vec::new();
    for dir in dirs.into_iter().filter(|d| d.is_dir()) {
        if !unique.contains(&dir) {
            unique.push(dir);
        }
    }
    unique
}

fn is_profile_dir(dir: &Path) -> bool {
    dir.file_name()
        .is_some_and(|n| n == "debug" || n == "release")
        && dir.parent().is_some_and(|p| {
            p.join("CACHEDIR.TAG").is_file() || p.file_name().is_some_and(|n| n == "target")
        })
}

/// The most recently built `<target>/{release,debug}/<name>` among `target_dirs`.
pub fn find_in_target_dirs(name: &str, target_dirs: &[PathBuf]) -> Option<PathBuf> {
    target_dirs
        .iter()
        .flat_map(|t| ["release", "debug"].map(|p| t.join(p).join(name)))
        .filter(|p| is_executable(p))
        .max_by_key(|p| modified(p))
}

/// `name` in a directory of `PATH`.
pub fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn executable(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn the_newest_build_of_any_target_dir_wins_and_plain_files_do_not_count() {
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (root.path().join("a/target"), root.path().join("b/target"));
        executable(&a.join("debug/scx_mine"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        executable(&b.join("release/scx_mine"));
        std::fs::create_dir_all(a.join("release")).unwrap();
        std::fs::write(a.join("release/scx_data"), b"not executable").unwrap();
        let dirs = vec![a.clone(), b.clone()];
        assert_eq!(
            find_in_target_dirs("scx_mine", &dirs),
            Some(b.join("release/scx_mine"))
        );
        assert_eq!(find_in_target_dirs("scx_data", &dirs), None);
        assert_eq!(find_in_target_dirs("scx_none", &dirs), None);
    }

    #[test]
    fn this_test_binary_lies_in_a_found_target_dir() {
        let exe = std::env::current_exe().unwrap();
        let dirs = cargo_target_dirs();
        assert!(
            dirs.iter().any(|d| exe.starts_with(d)),
            "{exe:?} not under {dirs:?}"
        );
    }
}
