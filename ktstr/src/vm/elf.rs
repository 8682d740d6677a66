//! What the dynamic loader needs from one x86-64 ELF file: its interpreter, DT_NEEDED, DT_RPATH and DT_RUNPATH.

use std::path::Path;

use goblin::elf::header::{ELFCLASS64, EM_X86_64};
use goblin::elf::Elf;

use super::VmError;

/// The dynamic-linking facts of one ELF file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ElfDeps {
    /// `PT_INTERP`, for dynamically linked executables.
    pub interpreter: Option<String>,
    /// `DT_NEEDED` names, in file order.
    pub needed: Vec<String>,
    /// `DT_RPATH` directories (ignored by the loader when `runpath` is not empty).
    pub rpath: Vec<String>,
    /// `DT_RUNPATH` directories.
    pub runpath: Vec<String>,
}

impl ElfDeps {
    /// Parses `bytes` (the contents of `path`) as a little-endian x86-64 ELF.
    pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<ElfDeps, VmError> {
        let elf = Elf::parse(bytes).map_err(|e| VmError::NotElf {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        if elf.header.e_machine != EM_X86_64
            || elf.header.e_ident[goblin::elf::header::EI_CLASS] != ELFCLASS64
            || !elf.little_endian
        {
            return Err(VmError::WrongElfMachine {
                path: path.to_path_buf(),
                found: format!(
                    "{}-bit {}",
                    if elf.is_64 { 64 } else { 32 },
                    goblin::elf::header::machine_to_str(elf.header.e_machine)
                ),
            });
        }
        let dirs = |entries: &[&str]| -> Vec<String> {
            entries
                .iter()
                .flat_map(|entry| entry.split(':'))
                .filter(|dir| !dir.is_empty())
                .map(str::to_string)
                .collect()
        };
        Ok(ElfDeps {
            interpreter: elf.interpreter.map(str::to_string),
            needed: elf.libraries.iter().map(|s| s.to_string()).collect(),
            rpath: dirs(&elf.rpaths),
            runpath: dirs(&elf.runpaths),
        })
    }

    /// Whether `bytes` is an x86-64 ELF the loader could use (others are skipped while searching).
    pub(crate) fn is_x86_64(bytes: &[u8]) -> bool {
        Elf::parse_header(bytes).is_ok_and(|header| {
            header.e_machine == EM_X86_64
                && header.e_ident[goblin::elf::header::EI_CLASS] == ELFCLASS64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_elf(path: &str) -> ElfDeps {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        ElfDeps::parse(Path::new(path), &bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn reads_a_dynamic_executable() {
        let deps = host_elf("/bin/sh");
        assert_eq!(
            deps.interpreter.as_deref(),
            Some("/lib64/ld-linux-x86-64.so.2")
        );
        assert!(deps.needed.iter().any(|n| n == "libc.so.6"), "{deps:?}");
        assert!(ElfDeps::is_x86_64(&std::fs::read("/bin/sh").expect("read")));
    }

    #[test]
    fn static_busybox_has_no_deps() {
        assert_eq!(host_elf("/bin/busybox"), ElfDeps::default());
    }

    #[test]
    fn non_elf_is_rejected() {
        let err = ElfDeps::parse(Path::new("script"), b"#!/bin/sh\necho hi\n").expect_err("text");
        assert!(matches!(err, VmError::NotElf { .. }), "{err:?}");
        assert!(!ElfDeps::is_x86_64(b"#!/bin/sh\n"));
    }

    #[test]
    fn other_machines_are_rejected() {
        let mut bytes = std::fs::read("/bin/busybox").expect("read");
        bytes[18] = 0xb7; // e_machine = EM_AARCH64
        let err = ElfDeps::parse(Path::new("arm"), &bytes).expect_err("aarch64");
        assert!(matches!(err, VmError::WrongElfMachine { .. }), "{err:?}");
        assert!(!ElfDeps::is_x86_64(&bytes));
    }
}
