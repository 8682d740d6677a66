//! The shared-library closure of a set of binaries, resolved as the dynamic loader resolves it.
//!
//! For a `DT_NEEDED` name without a slash, the loader tries: the loading object's `DT_RPATH` and then the main
//! binary's (only when the object has no `DT_RUNPATH`), the object's `DT_RUNPATH`, the directories of
//! `/etc/ld.so.conf` (what `ld.so.cache` indexes), then the system directories. `$ORIGIN` expands to the
//! object's directory; files that are not x86-64 ELFs are skipped. `LD_LIBRARY_PATH` is ignored on purpose:
//! the guest does not have the host's environment.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

use super::elf::ElfDeps;
use super::VmError;

/// System directories searched after everything else (Debian's multiarch ones first).
pub(crate) const SYSTEM_LIB_DIRS: [&str; 6] = [
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
];

/// Where the loader looks, besides each object's own RPATH/RUNPATH.
#[derive(Debug, Clone)]
pub(crate) struct LibrarySearch {
    dirs: Vec<PathBuf>,
}

/// One library of the closure: the `DT_NEEDED` name and the host file it resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolvedLib {
    pub name: String,
    pub path: PathBuf,
}

/// Everything the roots need at run time: the roots' interpreters (`PT_INTERP` paths) and libraries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Closure {
    pub interpreters: Vec<String>,
    pub libraries: Vec<ResolvedLib>,
}

impl LibrarySearch {
    /// The host's: `/etc/ld.so.conf` (with its includes) then the system directories.
    pub(crate) fn host() -> Result<LibrarySearch, VmError> {
        let mut dirs = Vec::new();
        read_ld_so_conf(Path::new("/etc/ld.so.conf"), &mut dirs, 0)?;
        Ok(LibrarySearch::with_dirs(dirs))
    }

    /// `conf_dirs` followed by the system directories.
    pub(crate) fn with_dirs(conf_dirs: Vec<PathBuf>) -> LibrarySearch {
        let mut dirs = conf_dirs;
        dirs.extend(SYSTEM_LIB_DIRS.iter().map(PathBuf::from));
        LibrarySearch { dirs }
    }

    /// The closure of `roots` (host paths of executables or libraries), breadth first, each library once.
    pub(crate) fn closure(&self, roots: &[PathBuf]) -> Result<Closure, VmError> {
        let mut closure = Closure::default();
        let mut by_name: BTreeMap<String, PathBuf> = BTreeMap::new();
        for root in roots {
            let root_deps = read_deps(root)?;
            if let Some(interp) = root_deps.interpreter.as_ref() {
                if !closure.interpreters.contains(interp) {
                    closure.interpreters.push(interp.clone());
                }
            }
            let main_rpath = root_deps.rpath.clone();
            let mut queue = VecDeque::from([(root.clone(), root_deps)]);
            while let Some((object, deps)) = queue.pop_front() {
                for name in &deps.needed {
                    let path = self.find(name, &object, &deps, &main_rpath)?;
                    if !note_resolution(&mut by_name, name, &path)? {
                        continue;
                    }
                    closure.libraries.push(ResolvedLib {
                        name: name.clone(),
                        path: path.clone(),
                    });
                    let lib_deps = read_deps(&path)?;
                    queue.push_back((path, lib_deps));
                }
            }
        }
        Ok(closure)
    }

    /// The file the loader would map for `name` needed by `object`.
    fn find(
        &self,
        name: &str,
        object: &Path,
        deps: &ElfDeps,
        main_rpath: &[String],
    ) -> Result<PathBuf, VmError> {
        if name.contains('/') {
            return Ok(PathBuf::from(name));
        }
        let origin = object.parent().unwrap_or(Path::new("/"));
        let expand = |dir: &String| PathBuf::from(expand_origin(dir, origin));
        let mut candidates: Vec<PathBuf> = Vec::new();
        if deps.runpath.is_empty() {
            candidates.extend(deps.rpath.iter().chain(main_rpath).map(expand));
        }
        candidates.extend(deps.runpath.iter().map(expand));
        candidates.extend(self.dirs.iter().cloned());
        candidates
            .iter()
            .map(|dir| dir.join(name))
            .find(|path| is_x86_64_file(path))
            .ok_or_else(|| VmError::LibraryNotFound {
                library: name.to_string(),
                needed_by: object.to_path_buf(),
                searched: candidates,
            })
    }
}

fn read_deps(path: &Path) -> Result<ElfDeps, VmError> {
    let bytes = std::fs::read(path).map_err(|e| VmError::io("read", path, e))?;
    ElfDeps::parse(path, &bytes)
}

/// Whether `path` opens and starts with an x86-64 ELF header.
fn is_x86_64_file(path: &Path) -> bool {
    use std::io::Read;
    let mut header = Vec::with_capacity(64);
    std::fs::File::open(path)
        .and_then(|file| file.take(64).read_to_end(&mut header))
        .is_ok_and(|_| ElfDeps::is_x86_64(&header))
}

/// Records that `name` resolved to `path`: true the first time, false when it resolved to the same file
/// before, an error when it resolved to a different one.
fn note_resolution(
    by_name: &mut BTreeMap<String, PathBuf>,
    name: &str,
    path: &Path,
) -> Result<bool, VmError> {
    match by_name.get(name) {
        Some(seen) if same_file(seen, path) => Ok(false),
        Some(seen) => Err(VmError::LibraryConflict {
            library: name.to_string(),
            first: seen.clone(),
            second: path.to_path_buf(),
        }),
        None => {
            by_name.insert(name.to_string(), path.to_path_buf());
            Ok(true)
        }
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Replaces `$ORIGIN` and `${ORIGIN}` with the object's directory.
fn expand_origin(dir: &str, origin: &Path) -> String {
    let origin = origin.to_string_lossy();
    dir.replace("${ORIGIN}", &origin)
        .replace("$ORIGIN", &origin)
}

/// Include depth past which `ld.so.conf` is taken to loop.
const MAX_INCLUDE_DEPTH: usize = 8;

/// Appends the directories `conf` lists, following `include` lines; a missing file adds nothing.
fn read_ld_so_conf(conf: &Path, dirs: &mut Vec<PathBuf>, depth: usize) -> Result<(), VmError> {
    let text = match std::fs::read_to_string(conf) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(VmError::io("read", conf, e)),
    };
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(pattern) = line
            .strip_prefix("include")
            .filter(|_| depth < MAX_INCLUDE_DEPTH)
        {
            for pattern in pattern.split_whitespace() {
                let pattern = conf.parent().unwrap_or(Path::new("/")).join(pattern);
                for included in expand_glob(&pattern)? {
                    read_ld_so_conf(&included, dirs, depth + 1)?;
                }
            }
        } else if line.starts_with('/') && !dirs.iter().any(|d| d == Path::new(line)) {
            dirs.push(PathBuf::from(line));
        }
    }
    Ok(())
}

/// Files matching `pattern`, whose last component may hold `*` wildcards, sorted by name.
fn expand_glob(pattern: &Path) -> Result<Vec<PathBuf>, VmError> {
    let (Some(dir), Some(name)) = (pattern.parent(), pattern.file_name()) else {
        return Ok(Vec::new());
    };
    let name = name.to_string_lossy();
    if !name.contains('*') {
        return Ok(vec![pattern.to_path_buf()]);
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(VmError::io("list", dir, e)),
    };
    let mut matches = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| VmError::io("list", dir, e))?;
        if wildcard_match(&name, &entry.file_name().to_string_lossy()) {
            matches.push(entry.path());
        }
    }
    matches.sort();
    Ok(matches)
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
#[path = "libsearch_tests.rs"]
mod tests;
