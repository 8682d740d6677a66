//! The guest's `/init` without its debug sections. A debug test binary is mostly DWARF (tens of MB) that the
//! guest never reads but the kernel unpacks on every boot; the copy keeps the symbol table (panics in the
//! guest still name functions) and the host keeps the original for symbolised backtraces. Copies are
//! cached by the original's path, size and modification time under `<cache>/lean/`, the newest few kept.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::VmError;

/// `KTSTR_LEAN_INIT=0` boots the binary as built, debug sections and all.
pub const LEAN_ENV: &str = "KTSTR_LEAN_INIT";

/// Lean copies kept; older ones are removed when a new one is made.
const KEPT: usize = 8;

/// Whether `/init` is slimmed: on unless `KTSTR_LEAN_INIT=0`.
pub fn lean_init_enabled() -> Result<bool, VmError> {
    match std::env::var(LEAN_ENV).as_deref() {
        Err(_) | Ok("") | Ok("1") => Ok(true),
        Ok("0") => Ok(false),
        Ok(other) => Err(VmError::BadLeanSetting {
            value: other.to_string(),
        }),
    }
}

/// `binary` without debug sections, made with `objcopy --strip-debug` into `dir` unless already there.
pub fn lean_copy(binary: &Path, dir: &Path) -> Result<PathBuf, VmError> {
    let meta = std::fs::metadata(binary).map_err(|e| VmError::io("read", binary, e))?;
    let mut key = Sha256::new();
    key.update(binary.as_os_str().as_encoded_bytes());
    key.update(meta.len().to_le_bytes());
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    key.update(modified.to_le_bytes());
    let name = super::hex(&key.finalize()[..16]);
    let lean = dir.join(&name);
    if lean.is_file() {
        // Touch it, so the newest-kept rule counts its use.
        let _ = std::fs::File::options()
            .append(true)
            .open(&lean)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        return Ok(lean);
    }
    std::fs::create_dir_all(dir).map_err(|e| VmError::io("create", dir, e))?;
    let temp = tempfile::Builder::new()
        .prefix(".lean-")
        .tempfile_in(dir)
        .map_err(|e| VmError::io("create a temp file in", dir, e))?;
    let status = std::process::Command::new("objcopy")
        .arg("--strip-debug")
        .arg(binary)
        .arg(temp.path())
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => {
            return Err(VmError::StripFailed {
                binary: binary.to_path_buf(),
                why: format!("objcopy --strip-debug exited with {s}"),
            })
        }
        Err(e) => {
            return Err(VmError::StripFailed {
                binary: binary.to_path_buf(),
                why: format!(
                    "objcopy could not run ({e}); install binutils (scripts/setup.sh does)"
                ),
            })
        }
    }
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(temp.path(), mode)
        .map_err(|e| VmError::io("chmod", temp.path(), e))?;
    temp.persist(&lean)
        .map_err(|e| VmError::io("store", &lean, e.error))?;
    prune(dir, &lean);
    Ok(lean)
}

/// Removes all but the `KEPT` most recently used copies in `dir`, never `keep`.
fn prune(dir: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut copies: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    copies.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (_, path) in copies.into_iter().skip(KEPT) {
        if path != keep {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_has_no_debug_sections_and_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        let exe = std::env::current_exe().unwrap();
        let lean = lean_copy(&exe, dir.path()).unwrap();
        let (big, small) = (
            std::fs::metadata(&exe).unwrap().len(),
            std::fs::metadata(&lean).unwrap().len(),
        );
        assert!(small < big / 2, "{small} of {big} bytes");
        let bytes = std::fs::read(&lean).unwrap();
        let elf = goblin::elf::Elf::parse(&bytes).unwrap();
        let names: Vec<&str> = elf
            .section_headers
            .iter()
            .filter_map(|s| elf.shdr_strtab.get_at(s.sh_name))
            .collect();
        for gone in [".debug_info", ".debug_line", ".debug_str", ".debug_abbrev"] {
            assert!(!names.contains(&gone), "{gone} left in {names:?}");
        }
        assert!(names.contains(&".symtab"), "symbols are kept");
        // The registry of #[ktstr_test]s is a loaded section: the guest still finds every test.
        assert!(names.contains(&"linkme_KTSTR_TESTS"), "{names:?}");
        assert_eq!(lean_copy(&exe, dir.path()).unwrap(), lean);
    }

    #[test]
    fn a_file_objcopy_cannot_read_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk");
        std::fs::write(&junk, b"not an elf").unwrap();
        let err = lean_copy(&junk, &dir.path().join("lean"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("junk") && err.contains("objcopy"), "{err}");
    }
}
