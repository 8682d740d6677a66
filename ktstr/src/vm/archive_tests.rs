//! Archive layout, validation and a read-back through the cpio reader.

use super::*;

fn file(contents: &[u8], mode: u32) -> Entry {
    Entry::File {
        contents: contents.to_vec(),
        mode,
    }
}

/// (name, mode, rdev major, rdev minor, data) of every member of a newc archive, in order.
pub(crate) fn read_back(mut bytes: &[u8]) -> Vec<(String, u32, u32, u32, Vec<u8>)> {
    let mut members = Vec::new();
    loop {
        let mut reader = cpio::newc::Reader::new(bytes).expect("member header");
        if reader.entry().is_trailer() {
            return members;
        }
        let e = reader.entry();
        let head = (
            e.name().to_string(),
            e.mode(),
            e.rdev_major(),
            e.rdev_minor(),
        );
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut reader, &mut data).expect("member data");
        members.push((head.0, head.1, head.2, head.3, data));
        bytes = reader.finish().expect("next member");
    }
}

#[test]
fn members_come_out_parents_first_with_modes() {
    let mut archive = Archive::default();
    archive
        .add("/usr/bin/tool", file(b"ELF", 0o755), "t")
        .expect("add");
    archive
        .add(
            "/bin/sh",
            Entry::Symlink {
                target: "busybox".into(),
            },
            "t",
        )
        .expect("add");
    archive
        .add(
            "/dev/console",
            Entry::CharDevice {
                major: 5,
                minor: 1,
                mode: 0o600,
            },
            "t",
        )
        .expect("add");
    archive.add("/proc", Entry::Dir, "t").expect("add");
    let bytes = archive.write_to(Vec::new()).expect("write");
    let got = read_back(&bytes);
    let want: Vec<(String, u32, u32, u32, Vec<u8>)> = vec![
        ("bin".into(), 0o040_755, 0, 0, vec![]),
        ("bin/sh".into(), 0o120_777, 0, 0, b"busybox".to_vec()),
        ("dev".into(), 0o040_755, 0, 0, vec![]),
        ("dev/console".into(), 0o020_600, 5, 1, vec![]),
        ("proc".into(), 0o040_755, 0, 0, vec![]),
        ("usr".into(), 0o040_755, 0, 0, vec![]),
        ("usr/bin".into(), 0o040_755, 0, 0, vec![]),
        ("usr/bin/tool".into(), 0o100_755, 0, 0, b"ELF".to_vec()),
    ];
    assert_eq!(got, want);
    assert_eq!(bytes.len() % 4, 0, "newc keeps 4-byte alignment");
}

#[test]
fn equal_inputs_give_equal_bytes_and_digests() {
    let build = |contents: &[u8], mode: u32| {
        let mut archive = Archive::default();
        archive
            .add("/init", file(contents, mode), "t")
            .expect("add");
        archive
            .add("/lib/libc.so.6", file(b"libc", 0o755), "t")
            .expect("add");
        archive
    };
    let (a, b) = (build(b"init", 0o755), build(b"init", 0o755));
    assert_eq!(
        a.write_to(Vec::new()).expect("a"),
        b.write_to(Vec::new()).expect("b")
    );
    assert_eq!(a.digest(), b.digest());
    assert_ne!(
        a.digest(),
        build(b"init2", 0o755).digest(),
        "content counts"
    );
    assert_ne!(a.digest(), build(b"init", 0o700).digest(), "mode counts");
}

#[test]
fn path_given_twice_is_an_error_except_for_dirs() {
    let mut archive = Archive::default();
    archive
        .add("/bin/busybox", file(b"bb", 0o755), "busybox")
        .expect("add");
    archive
        .add("/bin", Entry::Dir, "dirs")
        .expect("dir again is fine");
    let err = archive
        .add("/bin/busybox", file(b"x", 0o755), "scheduler")
        .expect_err("dup");
    let VmError::DuplicateArchivePath { first, second, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!((first.as_str(), second.as_str()), ("busybox", "scheduler"));
    let err = archive
        .add("/bin/busybox/x", file(b"x", 0o644), "t")
        .expect_err("under a file");
    assert!(matches!(err, VmError::ArchivePath { .. }), "{err:?}");
}

#[test]
fn paths_must_be_absolute_and_normalized() {
    for ok in ["/init", "/a/b.c", "/lib/x86_64-linux-gnu/libc.so.6"] {
        assert!(validate_path(ok).is_ok(), "{ok}");
    }
    for bad in [
        "", "/", "init", "/a//b", "/a/./b", "/a/../b", "/a/", "/a\0b",
    ] {
        let err = validate_path(bad).expect_err(bad);
        assert!(
            matches!(err, VmError::ArchivePath { .. }),
            "{bad:?}: {err:?}"
        );
    }
}
