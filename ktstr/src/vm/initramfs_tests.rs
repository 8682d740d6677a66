//! Base archive contents from host binaries, script inits, and trial archives appended to a base.

use super::*;
use crate::vm::archive::tests::read_back;

fn host_search() -> LibrarySearch {
    LibrarySearch::host().expect("host ld.so.conf")
}

fn kind(archive: &Archive, path: &str) -> &'static str {
    match archive.get(path) {
        Some(Entry::Dir) => "dir",
        Some(Entry::File { .. }) => "file",
        Some(Entry::Symlink { .. }) => "symlink",
        Some(Entry::CharDevice { .. }) => "chardev",
        None => "absent",
    }
}

#[test]
fn elf_init_with_a_binary_and_busybox() {
    let spec = InitramfsSpec::new("/bin/true").binary("/bin/ls", "/opt/bin/ls");
    let archive = spec.to_archive(&host_search()).expect("archive");
    let cases = [
        ("/init", "file"),
        ("/opt/bin/ls", "file"),
        ("/bin/busybox", "file"),
        ("/bin/sh", "symlink"),
        ("/bin/poweroff", "symlink"),
        ("/lib64/ld-linux-x86-64.so.2", "file"),
        ("/lib/x86_64-linux-gnu/libc.so.6", "file"),
        ("/lib/x86_64-linux-gnu/libselinux.so.1", "file"),
        ("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "symlink"),
        ("/proc", "dir"),
        ("/sys/fs/cgroup", "dir"),
        ("/tmp", "dir"),
        ("/run", "dir"),
        ("/dev/console", "chardev"),
    ];
    for (path, want) in cases {
        assert_eq!(kind(&archive, path), want, "{path}");
    }
    assert_eq!(
        archive.get("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
        Some(&Entry::Symlink {
            target: "/lib64/ld-linux-x86-64.so.2".into()
        })
    );
    let Some(Entry::File { contents, .. }) = archive.get("/init") else {
        panic!("/init is a file");
    };
    assert_eq!(*contents, std::fs::read("/bin/true").expect("read"));
}

fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write script");
    path
}

#[test]
fn script_init_needs_its_interpreter_in_the_archive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sh = script(dir.path(), "init.sh", "#!/bin/sh\necho hi\n");
    let archive = InitramfsSpec::new(&sh)
        .to_archive(&host_search())
        .expect("sh is busybox");
    assert_eq!(kind(&archive, "/init"), "file");
    assert_eq!(
        kind(&archive, "/lib/x86_64-linux-gnu/libc.so.6"),
        "absent",
        "static busybox only"
    );
    let py = script(dir.path(), "init.py", "#!/usr/bin/python3 -u\nprint()\n");
    let err = InitramfsSpec::new(&py)
        .to_archive(&host_search())
        .expect_err("no python");
    let VmError::ScriptInterpreterMissing { interpreter, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(interpreter, "/usr/bin/python3");
}

#[test]
fn bad_inputs_are_typed_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = script(dir.path(), "notes.txt", "just text\n");
    let err = InitramfsSpec::new(&text)
        .to_archive(&host_search())
        .expect_err("text");
    assert!(matches!(err, VmError::NotElf { .. }), "{err:?}");
    let err = InitramfsSpec::new("/bin/true")
        .busybox(dir.path().join("busybox"))
        .to_archive(&host_search())
        .expect_err("no busybox");
    assert!(matches!(err, VmError::BusyboxMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("scripts/setup.sh"), "{err}");
    let err = InitramfsSpec::new(dir.path().join("absent"))
        .to_archive(&host_search())
        .expect_err("no init");
    assert!(matches!(err, VmError::Io { .. }), "{err:?}");
    let err = InitramfsSpec::new("/bin/true")
        .binary("/bin/ls", "/bin/sh")
        .to_archive(&host_search())
        .expect_err("clashes with the sh applet");
    assert!(
        matches!(err, VmError::DuplicateArchivePath { .. }),
        "{err:?}"
    );
}

#[test]
fn script_interpreters() {
    let cases: [(&[u8], Option<&str>); 5] = [
        (b"#!/bin/sh\n", Some("/bin/sh")),
        (b"#! /bin/sh -e\nx", Some("/bin/sh")),
        (b"#!\n", None),
        (b"\x7fELF", None),
        (b"", None),
    ];
    for (contents, want) in cases {
        assert_eq!(
            script_interpreter(contents).as_deref(),
            want,
            "{contents:?}"
        );
    }
}

#[test]
fn trial_files_follow_the_base_archive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut base = Archive::default();
    base.add(
        "/init",
        Entry::File {
            contents: b"old".to_vec(),
            mode: 0o755,
        },
        "t",
    )
    .expect("add");
    let base_path = dir.path().join("base.cpio");
    let base_bytes = base.write_to(Vec::new()).expect("write");
    std::fs::write(&base_path, &base_bytes).expect("write");
    let extras = [
        TrialFile {
            path: "/init".into(),
            contents: b"new".to_vec(),
            mode: 0o755,
        },
        TrialFile {
            path: "/etc/ktstr/mode".into(),
            contents: b"topology".to_vec(),
            mode: 0o644,
        },
    ];
    let dest = dir.path().join("trial.cpio");
    write_trial_initramfs(&base_path, &extras, &dest).expect("trial archive");
    let bytes = std::fs::read(&dest).expect("read");
    assert_eq!(
        bytes[..base_bytes.len()],
        base_bytes[..],
        "base copied unchanged"
    );
    let names: Vec<(String, Vec<u8>)> = read_back(&bytes[base_bytes.len()..])
        .into_iter()
        .map(|(name, _, _, _, data)| (name, data))
        .collect();
    let want = [
        ("etc", ""),
        ("etc/ktstr", ""),
        ("etc/ktstr/mode", "topology"),
        ("init", "new"),
    ]
    .map(|(n, d)| (n.to_string(), d.as_bytes().to_vec()));
    assert_eq!(names, want);
    let err =
        write_trial_initramfs(&dir.path().join("absent"), &extras, &dest).expect_err("no base");
    assert!(matches!(err, VmError::Io { .. }), "{err:?}");
}

#[test]
fn included_files_keep_bytes_and_mode_and_programs_bring_their_libraries() {
    let dir = tempfile::tempdir().unwrap();
    let note = dir.path().join("note");
    std::fs::write(&note, "carried\n").unwrap();
    std::fs::set_permissions(&note, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    let spec = InitramfsSpec::new("/bin/true")
        .include(&note, "/data/note")
        .include("/bin/ls", "/bin/ls-host");
    let archive = spec.to_archive(&host_search()).expect("archive");
    match archive.get("/data/note") {
        Some(Entry::File { contents, mode }) => {
            assert_eq!((&contents[..], *mode), (&b"carried\n"[..], 0o640))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(kind(&archive, "/bin/ls-host"), "file");
    assert_eq!(
        kind(&archive, "/lib/x86_64-linux-gnu/libselinux.so.1"),
        "file"
    );
}
