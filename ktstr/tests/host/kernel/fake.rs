//! Fake kernel sources and cache entries whose make targets finish in milliseconds.

use std::path::{Path, PathBuf};
use std::process::Command;

use ktstr::kernel::{BuildRequest, Cache, KernelFlavor, KernelSource, Metadata, SourceId};

/// Writes a bzImage-shaped file: the boot flag at 0x1fe and "HdrS" at 0x202 (octal escapes for printf).
const FAKE_BZIMAGE_SH: &str = r"mkdir -p $(O)/arch/x86/boot && head -c 510 /dev/zero > $(O)/arch/x86/boot/bzImage && printf '\125\252\0\0HdrS' >> $(O)/arch/x86/boot/bzImage && echo elf > $(O)/vmlinux";

/// How the fake kernel tree's make targets behave.
pub(crate) struct FakeKernel {
    pub(crate) olddefconfig: &'static str,
    pub(crate) bzimage: &'static str,
}

pub(crate) const WORKING: FakeKernel = FakeKernel {
    olddefconfig: "true",
    bzimage: "",
};

/// Writes a kernel-shaped source tree whose make targets fake each build step in milliseconds.
pub(crate) fn fake_tree(dir: &Path, fake: &FakeKernel) {
    let bz = if fake.bzimage.is_empty() {
        FAKE_BZIMAGE_SH
    } else {
        fake.bzimage
    };
    let makefile = format!(
        "VERSION = 6\nPATCHLEVEL = 99\nSUBLEVEL = 0\nEXTRAVERSION = -fake\n\
         tinyconfig:\n\tmkdir -p $(O) && echo CONFIG_BASE=y > $(O)/.config\n\
         olddefconfig:\n\t{}\n\
         bzImage:\n\t{bz}\n",
        fake.olddefconfig
    );
    let sched = "scx_simple scx_qmap scx_central scx_flatcg:\n\tmkdir -p $(O)/build/bin && cp /bin/true $(O)/build/bin/$@\n";
    for (path, text) in [
        ("Makefile", makefile.as_str()),
        ("Kconfig", "mainmenu \"fake\"\n"),
        ("kernel/sched/ext.c", ""),
        ("arch/x86/Kconfig", ""),
        ("tools/sched_ext/Makefile", sched),
    ] {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// Packs a fake tree as `<dir>/linux.tar.xz` with a `linux/` top directory.
pub(crate) fn fake_tarball(dir: &Path, fake: &FakeKernel) -> PathBuf {
    fake_tree(&dir.join("linux"), fake);
    let tarball = dir.join("linux.tar.xz");
    let ok = Command::new("tar")
        .arg("-cJf")
        .arg(&tarball)
        .arg("-C")
        .arg(dir)
        .arg("linux")
        .status()
        .unwrap()
        .success();
    assert!(ok, "tar -cJf failed");
    tarball
}

pub(crate) fn request(source: KernelSource) -> BuildRequest {
    BuildRequest {
        source,
        flavor: KernelFlavor::Default,
        jobs: None,
        force: false,
    }
}

/// Writes a cache entry by hand, as the build would lay it out.
pub(crate) fn fake_entry(
    cache: &Cache,
    key: &str,
    built_at_unix: u64,
    config_hash: &str,
) -> PathBuf {
    let dir = cache.root().join(key);
    std::fs::create_dir_all(dir.join("sched")).unwrap();
    let meta = Metadata {
        key: key.into(),
        version: "6.12.117".into(),
        config_hash: config_hash.into(),
        flavor: KernelFlavor::Default,
        source: SourceId::Tree {
            path: "/src".into(),
        },
        built_at_unix,
        build_secs: 1.0,
        schedulers: vec![],
    };
    std::fs::write(
        dir.join("metadata.json"),
        serde_json::to_string(&meta).unwrap(),
    )
    .unwrap();
    let mut image = vec![0u8; 1024];
    image[0x1fe..0x200].copy_from_slice(&[0x55, 0xaa]);
    image[0x202..0x206].copy_from_slice(b"HdrS");
    std::fs::write(dir.join("bzImage"), image).unwrap();
    std::fs::write(dir.join("config"), "").unwrap();
    dir
}
