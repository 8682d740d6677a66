//! Recognising an x86 bzImage by its boot-protocol header, so a wrong file fails before QEMU runs.

use std::io::Read;
use std::path::Path;

use super::error::KernelError;

/// The boot sector signature at 0x1fe and the "HdrS" setup-header magic at 0x202.
const BOOT_FLAG: (usize, [u8; 2]) = (0x1fe, [0x55, 0xaa]);
const HEADER_MAGIC: (usize, [u8; 4]) = (0x202, *b"HdrS");

/// Checks that `path` is an x86 bzImage.
pub fn check_bzimage(path: &Path) -> Result<(), KernelError> {
    let not_image = |detail: &str| KernelError::NotAKernelImage {
        path: path.to_path_buf(),
        detail: detail.into(),
    };
    let mut head = [0u8; 0x206];
    let mut file = std::fs::File::open(path).map_err(|e| KernelError::io("open", path, e))?;
    if file.read_exact(&mut head).is_err() {
        return Err(not_image("too short to hold a boot header"));
    }
    if head[BOOT_FLAG.0..BOOT_FLAG.0 + 2] != BOOT_FLAG.1
        || head[HEADER_MAGIC.0..HEADER_MAGIC.0 + 4] != HEADER_MAGIC.1
    {
        return Err(not_image("no x86 boot header (0x55aa and HdrS)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(len: usize, magic: bool) -> Vec<u8> {
        let mut bytes = vec![0u8; len];
        if magic {
            bytes[0x1fe..0x200].copy_from_slice(&[0x55, 0xaa]);
            bytes[0x202..0x206].copy_from_slice(b"HdrS");
        }
        bytes
    }

    #[test]
    fn only_files_with_the_boot_header_pass() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes, ok) in [
            ("good", image(4096, true), true),
            ("no-magic", image(4096, false), false),
            ("short", b"#!/bin/sh\n".to_vec(), false),
            ("truncated", image(4096, true)[..0x204].to_vec(), false),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let got = check_bzimage(&path);
            assert_eq!(got.is_ok(), ok, "{name}: {got:?}");
            if !ok {
                assert!(
                    matches!(got, Err(KernelError::NotAKernelImage { .. })),
                    "{name}"
                );
            }
        }
    }
}
