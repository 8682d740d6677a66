//! Library search order, `ld.so.conf` parsing and closures of host binaries.

use super::*;

const LIBC: &str = "/lib/x86_64-linux-gnu/libc.so.6";

fn deps(rpath: &[&str], runpath: &[&str]) -> ElfDeps {
    let owned = |dirs: &[&str]| dirs.iter().map(|d| d.to_string()).collect();
    ElfDeps {
        interpreter: None,
        needed: vec!["libfoo.so.1".into()],
        rpath: owned(rpath),
        runpath: owned(runpath),
    }
}

/// A temp dir with `libfoo.so.1` (a copy of libc) in each of `elf_dirs` and a text file of that name in
/// each of `text_dirs`.
fn lib_tree(elf_dirs: &[&str], text_dirs: &[&str]) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("tempdir");
    for dir in elf_dirs.iter().chain(text_dirs) {
        std::fs::create_dir_all(root.path().join(dir)).expect("mkdir");
    }
    for dir in elf_dirs {
        std::fs::copy(LIBC, root.path().join(dir).join("libfoo.so.1")).expect("copy libc");
    }
    for dir in text_dirs {
        std::fs::write(root.path().join(dir).join("libfoo.so.1"), "not ELF").expect("write");
    }
    root
}

#[test]
fn search_order_follows_the_loader() {
    // (dirs holding an ELF libfoo, dirs holding a text libfoo, rpath, runpath, conf dirs, expected dir)
    type Case = (
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
        &'static str,
    );
    let cases: &[Case] = &[
        (&["r", "c"], &[], &["r"], &[], &["c"], "r"),
        (&["r", "u"], &[], &["r"], &["u"], &[], "u"),
        (&["u", "c"], &[], &[], &["u"], &["c"], "u"),
        (&["c"], &["u"], &[], &["u"], &["c"], "c"),
        (&["bin/lib"], &[], &[], &["$ORIGIN/lib"], &[], "bin/lib"),
        (&["bin/lib"], &[], &["${ORIGIN}/lib"], &[], &[], "bin/lib"),
    ];
    for (elf_dirs, text_dirs, rpath, runpath, conf, want) in cases {
        let tree = lib_tree(elf_dirs, text_dirs);
        let at = |d: &str| tree.path().join(d).to_string_lossy().into_owned();
        let abs = |dirs: &[&str]| -> Vec<String> {
            dirs.iter()
                .map(|d| {
                    if d.starts_with('$') {
                        d.to_string()
                    } else {
                        at(d)
                    }
                })
                .collect()
        };
        let search = LibrarySearch::with_dirs(conf.iter().map(|d| PathBuf::from(at(d))).collect());
        let object = tree.path().join("bin/app");
        let mut deps = deps(&[], &[]);
        deps.rpath = abs(rpath);
        deps.runpath = abs(runpath);
        let found = search
            .find("libfoo.so.1", &object, &deps, &[])
            .expect("found");
        assert_eq!(
            found,
            tree.path().join(want).join("libfoo.so.1"),
            "case {want}"
        );
    }
}

#[test]
fn main_rpath_applies_without_runpath() {
    let tree = lib_tree(&["main"], &[]);
    let main_rpath = [tree.path().join("main").to_string_lossy().into_owned()];
    let search = LibrarySearch::with_dirs(Vec::new());
    let object = tree.path().join("lib/libbar.so");
    let found = search.find("libfoo.so.1", &object, &deps(&[], &[]), &main_rpath);
    assert_eq!(found.expect("found"), tree.path().join("main/libfoo.so.1"));
    let with_runpath = deps(&[], &["/nonexistent"]);
    let err = search
        .find("libfoo.so.1", &object, &with_runpath, &main_rpath)
        .expect_err("RUNPATH hides the main RPATH");
    assert!(matches!(err, VmError::LibraryNotFound { .. }), "{err:?}");
}

#[test]
fn missing_library_lists_where_it_looked() {
    let search = LibrarySearch::with_dirs(vec!["/conf/dir".into()]);
    let err = search
        .find(
            "libnope.so.9",
            Path::new("/x/app"),
            &deps(&["/r"], &[]),
            &[],
        )
        .expect_err("absent");
    let VmError::LibraryNotFound {
        library,
        needed_by,
        searched,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(
        (library.as_str(), needed_by.as_path()),
        ("libnope.so.9", Path::new("/x/app"))
    );
    assert_eq!(
        searched[..2],
        [PathBuf::from("/r"), PathBuf::from("/conf/dir")]
    );
    assert_eq!(searched.len(), 2 + SYSTEM_LIB_DIRS.len());
}

#[test]
fn closure_of_a_host_binary() {
    let search = LibrarySearch::host().expect("ld.so.conf readable");
    let closure = search
        .closure(&[PathBuf::from("/bin/ls")])
        .expect("closure");
    assert_eq!(closure.interpreters, ["/lib64/ld-linux-x86-64.so.2"]);
    let names: Vec<&str> = closure.libraries.iter().map(|l| l.name.as_str()).collect();
    assert!(names.contains(&"libc.so.6"), "{names:?}");
    assert!(names.contains(&"libselinux.so.1"), "{names:?}");
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "each library once: {names:?}");
    let static_closure = search
        .closure(&[PathBuf::from("/bin/busybox")])
        .expect("closure");
    assert_eq!(static_closure, Closure::default());
}

#[test]
fn unresolvable_needed_entry_fails_the_closure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = std::fs::read("/bin/true").expect("read /bin/true");
    let at = bytes
        .windows(10)
        .position(|w| w == b"libc.so.6\0")
        .expect("/bin/true needs libc.so.6");
    bytes[at..at + 4].copy_from_slice(b"libq");
    let patched = dir.path().join("true");
    std::fs::write(&patched, &bytes).expect("write");
    let err = LibrarySearch::host()
        .expect("host search")
        .closure(std::slice::from_ref(&patched))
        .expect_err("libq.so.6 does not exist");
    let VmError::LibraryNotFound {
        library, needed_by, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!((library.as_str(), needed_by), ("libq.so.6", &patched));
}

#[test]
fn one_name_two_files_is_a_conflict() {
    let tree = lib_tree(&["a", "b"], &[]);
    let a = tree.path().join("a/libfoo.so.1");
    let b = tree.path().join("b/libfoo.so.1");
    let link = tree.path().join("link.so");
    std::os::unix::fs::symlink(&a, &link).expect("symlink");
    let mut seen = BTreeMap::new();
    assert!(note_resolution(&mut seen, "libfoo.so.1", &a).expect("first"));
    assert!(!note_resolution(&mut seen, "libfoo.so.1", &link).expect("same file"));
    let err = note_resolution(&mut seen, "libfoo.so.1", &b).expect_err("different file");
    assert!(matches!(err, VmError::LibraryConflict { .. }), "{err:?}");
}

#[test]
fn ld_so_conf_with_includes_and_comments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    std::fs::create_dir(p.join("conf.d")).expect("mkdir");
    std::fs::write(
        p.join("ld.so.conf"),
        "# top\n/top/lib # trailing\ninclude conf.d/*.conf\n\nhwcap 0 nosegneg\ninclude missing.conf\n",
    )
    .expect("write");
    std::fs::write(p.join("conf.d/b.conf"), "/b/lib\n/top/lib\n").expect("write");
    std::fs::write(p.join("conf.d/a.conf"), "/a/lib\ninclude ../ld.so.conf\n").expect("write");
    std::fs::write(p.join("conf.d/c.txt"), "/not/included\n").expect("write");
    let mut dirs = Vec::new();
    read_ld_so_conf(&p.join("ld.so.conf"), &mut dirs, 0).expect("parses");
    let want: Vec<PathBuf> = ["/top/lib", "/a/lib", "/b/lib"]
        .iter()
        .map(PathBuf::from)
        .collect();
    assert_eq!(dirs, want);
}

#[test]
fn wildcards() {
    let cases = [
        ("*.conf", "libc.conf", true),
        ("*.conf", "libc.conf.bak", false),
        ("*", "", true),
        ("a*b*c", "aXXbYYc", true),
        ("a*b*c", "acb", false),
        ("x86_64*", "x86_64-linux-gnu.conf", true),
        ("exact", "exact", true),
        ("exact", "exactly", false),
        ("*ab", "ab", true),
        ("a*a", "a", false),
    ];
    for (pattern, text, want) in cases {
        assert_eq!(wildcard_match(pattern, text), want, "{pattern} vs {text}");
    }
}

#[test]
fn origin_expands_in_both_spellings() {
    let origin = Path::new("/opt/app/bin");
    assert_eq!(
        expand_origin("$ORIGIN/../lib", origin),
        "/opt/app/bin/../lib"
    );
    assert_eq!(
        expand_origin("${ORIGIN}/lib:/x", origin),
        "/opt/app/bin/lib:/x"
    );
    assert_eq!(expand_origin("/usr/lib", origin), "/usr/lib");
}
