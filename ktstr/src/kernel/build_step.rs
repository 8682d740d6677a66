//! The build's steps and the exact commands each runs, as pure functions of the build's paths.

use std::fmt;
use std::path::{Path, PathBuf};

use super::fragment::BASE_CONFIG_TARGET;
use super::tools::LLVM_SUFFIX;

/// The schedulers `tools/sched_ext` builds; each lands in the entry's `sched/`.
pub const SCHEDULERS: &[&str] = &["scx_simple", "scx_qmap", "scx_central", "scx_flatcg"];

/// One stage of a kernel build, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildStep {
    Extract,
    Configure,
    Kernel,
    Schedulers,
    Install,
}

impl BuildStep {
    /// Every step of a build from a tarball; a tree skips `Extract`.
    pub const ALL: [BuildStep; 5] = [
        BuildStep::Extract,
        BuildStep::Configure,
        BuildStep::Kernel,
        BuildStep::Schedulers,
        BuildStep::Install,
    ];
}

impl fmt::Display for BuildStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BuildStep::Extract => "extract the source",
            BuildStep::Configure => "configure the kernel",
            BuildStep::Kernel => "build the kernel",
            BuildStep::Schedulers => "build the sched_ext schedulers",
            BuildStep::Install => "install into the cache",
        })
    }
}

/// The directories one build works in.
#[derive(Debug, Clone)]
pub(crate) struct BuildDirs {
    /// The kernel source (the user's tree, or the extracted tarball).
    pub src: PathBuf,
    /// The kernel's `O=` output directory.
    pub kbuild: PathBuf,
    /// The schedulers' `O=` output directory.
    pub sched: PathBuf,
    /// Where the entry is assembled before it is moved into the cache.
    pub entry: PathBuf,
}

impl BuildDirs {
    /// The layout inside a scratch directory; `tree` is the source when not extracting.
    pub(crate) fn in_scratch(scratch: &Path, tree: Option<&Path>) -> BuildDirs {
        BuildDirs {
            src: tree.map_or_else(|| scratch.join("src"), Path::to_path_buf),
            kbuild: scratch.join("kbuild"),
            sched: scratch.join("sched"),
            entry: scratch.join("entry"),
        }
    }
}

/// A program and its arguments.
pub(crate) type Argv = Vec<String>;

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Unpacks a tarball into `dest`, dropping its top-level directory.
pub(crate) fn extract_argv(tarball: &Path, dest: &Path) -> Argv {
    vec![
        "tar".into(),
        "-xf".into(),
        s(tarball),
        "-C".into(),
        s(dest),
        "--strip-components=1".into(),
    ]
}

fn kernel_make(dirs: &BuildDirs) -> Argv {
    vec![
        "make".into(),
        "-C".into(),
        s(&dirs.src),
        format!("O={}", s(&dirs.kbuild)),
    ]
}

/// Writes the base config into the output directory.
pub(crate) fn base_config_argv(dirs: &BuildDirs) -> Argv {
    let mut argv = kernel_make(dirs);
    argv.push(BASE_CONFIG_TARGET.into());
    argv
}

/// Resolves the fragment appended to the base config.
pub(crate) fn olddefconfig_argv(dirs: &BuildDirs) -> Argv {
    let mut argv = kernel_make(dirs);
    argv.push("olddefconfig".into());
    argv
}

/// Builds bzImage (and with it vmlinux).
pub(crate) fn kernel_argv(dirs: &BuildDirs, jobs: usize) -> Argv {
    let mut argv = kernel_make(dirs);
    argv.extend([format!("-j{jobs}"), "bzImage".into()]);
    argv
}

/// Builds the in-tree schedulers with clang against the new kernel's BTF.
pub(crate) fn schedulers_argv(dirs: &BuildDirs, jobs: usize) -> Argv {
    let mut argv = vec![
        "make".into(),
        "-C".into(),
        s(&dirs.src.join("tools/sched_ext")),
        format!("O={}", s(&dirs.sched)),
        format!("LLVM={LLVM_SUFFIX}"),
        format!("VMLINUX_BTF={}", s(&dirs.kbuild.join("vmlinux"))),
        format!("-j{jobs}"),
    ];
    argv.extend(SCHEDULERS.iter().map(|s| s.to_string()));
    argv
}

/// Where the built files are found, paired with their names in the entry.
pub(crate) fn artifacts(dirs: &BuildDirs) -> Vec<(PathBuf, PathBuf)> {
    let mut files = vec![
        (
            dirs.kbuild.join("arch/x86/boot/bzImage"),
            dirs.entry.join(super::entry::BZIMAGE),
        ),
        (
            dirs.kbuild.join("vmlinux"),
            dirs.entry.join(super::entry::VMLINUX),
        ),
        (
            dirs.kbuild.join(".config"),
            dirs.entry.join(super::entry::CONFIG),
        ),
    ];
    let bin = dirs.sched.join("build/bin");
    files.extend(SCHEDULERS.iter().map(|name| {
        (
            bin.join(name),
            dirs.entry.join(super::entry::SCHED_DIR).join(name),
        )
    }));
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs() -> BuildDirs {
        BuildDirs::in_scratch(Path::new("/c/.tmp/k.x"), None)
    }

    #[test]
    fn commands_are_out_of_tree_and_use_clang_19_with_the_new_btf() {
        let d = dirs();
        let tarball = Path::new("/usr/src/l.tar.xz");
        let make = "make -C /c/.tmp/k.x/src O=/c/.tmp/k.x/kbuild";
        let cases = [
            (
                extract_argv(tarball, &d.src),
                "tar -xf /usr/src/l.tar.xz -C /c/.tmp/k.x/src --strip-components=1".to_string(),
            ),
            (base_config_argv(&d), format!("{make} tinyconfig")),
            (olddefconfig_argv(&d), format!("{make} olddefconfig")),
            (kernel_argv(&d, 3), format!("{make} -j3 bzImage")),
            (
                schedulers_argv(&d, 2),
                "make -C /c/.tmp/k.x/src/tools/sched_ext O=/c/.tmp/k.x/sched LLVM=-19 \
                 VMLINUX_BTF=/c/.tmp/k.x/kbuild/vmlinux -j2 scx_simple scx_qmap scx_central scx_flatcg"
                    .to_string(),
            ),
        ];
        for (argv, want) in cases {
            // Joined, the argv says the same as the vector only while no argument holds a space.
            assert!(argv.iter().all(|arg| !arg.contains(' ')), "{argv:?}");
            assert_eq!(argv.join(" "), want);
        }
    }

    #[test]
    fn a_tree_is_built_where_it_is_and_artifacts_land_in_the_entry() {
        let d = BuildDirs::in_scratch(Path::new("/s"), Some(Path::new("/home/u/linux")));
        assert_eq!(d.src, Path::new("/home/u/linux"));
        let arts = artifacts(&d);
        assert_eq!(
            arts[0],
            (
                PathBuf::from("/s/kbuild/arch/x86/boot/bzImage"),
                PathBuf::from("/s/entry/bzImage")
            )
        );
        assert_eq!(
            arts.last().unwrap(),
            &(
                PathBuf::from("/s/sched/build/bin/scx_flatcg"),
                PathBuf::from("/s/entry/sched/scx_flatcg")
            )
        );
        assert_eq!(arts.len(), 3 + SCHEDULERS.len());
    }
}
