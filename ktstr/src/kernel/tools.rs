//! The host tools and headers a kernel plus scheduler build needs, checked before any step runs.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::error::KernelError;

/// A program the build runs and the Debian package that provides it.
struct Tool {
    program: &'static str,
    package: &'static str,
}

const TOOLS: &[Tool] = &[
    Tool {
        program: "make",
        package: "build-essential",
    },
    Tool {
        program: "gcc",
        package: "build-essential",
    },
    Tool {
        program: "tar",
        package: "tar",
    },
    Tool {
        program: "xz",
        package: "xz-utils",
    },
    Tool {
        program: "flex",
        package: "flex",
    },
    Tool {
        program: "bison",
        package: "bison",
    },
    Tool {
        program: "bc",
        package: "bc",
    },
    Tool {
        program: "pahole",
        package: "dwarves",
    },
    Tool {
        program: "clang-19",
        package: "clang-19",
    },
    Tool {
        program: "llvm-strip-19",
        package: "llvm-19",
    },
    Tool {
        program: "ld.lld-19",
        package: "lld-19",
    },
];

/// Headers objtool, resolve_btfids and the schedulers compile against.
const HEADERS: &[(&str, &str)] = &[
    ("/usr/include/gelf.h", "libelf-dev"),
    ("/usr/include/zlib.h", "zlib1g-dev"),
];

/// The LLVM suffix handed to `tools/sched_ext` (`clang-19`, `llvm-strip-19`, `ld.lld-19`).
pub(crate) const LLVM_SUFFIX: &str = "-19";

/// Fails with the first missing tool (searched in `path`, a PATH value) or header.
pub fn check_prerequisites(path: Option<&OsStr>) -> Result<(), KernelError> {
    let path = path.unwrap_or_default();
    if let Some(tool) = TOOLS.iter().find(|t| !in_path(t.program, path)) {
        return Err(KernelError::ToolMissing {
            tool: tool.program,
            package: tool.package,
        });
    }
    if let Some((header, package)) = HEADERS.iter().find(|(h, _)| !Path::new(h).is_file()) {
        return Err(KernelError::HeaderMissing {
            path: header.into(),
            package,
        });
    }
    Ok(())
}

/// Whether `program` is an executable file in one of `path`'s directories.
fn in_path(program: &str, path: &OsStr) -> bool {
    std::env::split_paths(path).any(|dir| {
        let candidate = dir.join(program);
        candidate
            .metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_without_clang_names_clang_and_its_package() {
        let dir = tempfile::tempdir().unwrap();
        for tool in TOOLS.iter().filter(|t| t.program != "clang-19") {
            let p = dir.path().join(tool.program);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        match check_prerequisites(Some(dir.path().as_os_str())) {
            Err(KernelError::ToolMissing { tool, package }) => {
                assert_eq!((tool, package), ("clang-19", "clang-19"))
            }
            other => panic!("expected clang-19 missing, got {other:?}"),
        }
    }

    #[test]
    fn non_executable_files_do_not_count() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("make"), "").unwrap();
        assert!(!in_path("make", dir.path().as_os_str()));
        assert!(in_path("sh", OsStr::new("/bin:/usr/bin")));
    }
}
