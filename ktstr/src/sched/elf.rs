//! A scheduler binary must be an executable ELF file: anything else fails in the guest, far from its cause.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::SchedulerError;

/// `path` checked to start with the ELF magic and to be executable.
pub(super) fn check_elf(path: &Path) -> Result<(), SchedulerError> {
    let not_elf = |why: &str| SchedulerError::NotExecutable {
        path: path.display().to_string(),
        why: why.to_string(),
    };
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .map_err(|_| not_elf("it is shorter than an ELF header or unreadable"))?;
    if &magic != b"\x7fELF" {
        return Err(not_elf("it is not an ELF executable"));
    }
    let mode = std::fs::metadata(path).map_or(0, |m| m.permissions().mode());
    if mode & 0o111 == 0 {
        return Err(not_elf("it is not executable (chmod +x it)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_executable_elf_file_passes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scx");
        let cases: [(&[u8], u32, Option<&str>); 4] = [
            (b"\x7f", 0o755, Some("shorter than an ELF header")),
            (b"#!/bin/sh\n", 0o755, Some("not an ELF executable")),
            (b"\x7fELF rest", 0o644, Some("chmod +x")),
            (b"\x7fELF rest", 0o755, None),
        ];
        for (content, mode, why) in cases {
            std::fs::write(&path, content).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            match (check_elf(&path), why) {
                (Ok(()), None) => {}
                (Err(e), Some(why)) => assert!(e.to_string().contains(why), "{e}"),
                (got, want) => panic!("{content:?} {mode:o}: {got:?}, want {want:?}"),
            }
        }
    }
}
