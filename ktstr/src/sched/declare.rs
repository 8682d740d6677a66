//! What a scheduler declaration carries besides its binary: flags and the profiles they combine into,
//! the sysctls and kernel arguments it needs, and the topologies it can run on. Everything here is
//! `const`-constructible, so a scheduler is declared once as a `const` and shared by every test.

use std::fmt;

use crate::topology::Topology;

/// One command-line switch of a scheduler, as a test profile turns it on.
///
/// `name` is kebab-case (`local-pcpu`); `args` are what it adds to the command line; `requires` and
/// `excludes` name other flags of the same scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagDecl {
    pub name: &'static str,
    pub args: &'static [&'static str],
    pub requires: &'static [&'static str],
    pub excludes: &'static [&'static str],
}

impl FlagDecl {
    /// A flag that adds nothing until `args` says what.
    pub const fn new(name: &'static str) -> FlagDecl {
        FlagDecl {
            name,
            args: &[],
            requires: &[],
            excludes: &[],
        }
    }

    pub const fn args(self, args: &'static [&'static str]) -> FlagDecl {
        FlagDecl { args, ..self }
    }

    /// Flags that must be on whenever this one is.
    pub const fn requires(self, requires: &'static [&'static str]) -> FlagDecl {
        FlagDecl { requires, ..self }
    }

    /// Flags that may not be on together with this one (the relation is symmetric).
    pub const fn excludes(self, excludes: &'static [&'static str]) -> FlagDecl {
        FlagDecl { excludes, ..self }
    }
}

/// A `/proc/sys` write the guest makes before the scheduler starts. The key is a path below
/// `/proc/sys` (`kernel/sched_rt_runtime_us`) or its dotted form (`kernel.sched_rt_runtime_us`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sysctl {
    pub key: &'static str,
    pub value: &'static str,
}

impl Sysctl {
    pub const fn new(key: &'static str, value: &'static str) -> Sysctl {
        Sysctl { key, value }
    }

    /// The key as a path below `/proc/sys`.
    pub fn path(&self) -> String {
        match self.key.contains('/') {
            true => self.key.to_string(),
            false => self.key.replace('.', "/"),
        }
    }
}

/// The topologies a scheduler or a test can run on; `None` bounds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TopologyConstraints {
    pub min_cpus: Option<u32>,
    pub max_cpus: Option<u32>,
    pub min_llcs: Option<u32>,
    pub max_llcs: Option<u32>,
    pub min_numa_nodes: Option<u32>,
    pub max_numa_nodes: Option<u32>,
    pub requires_smt: bool,
}

impl TopologyConstraints {
    pub const NONE: TopologyConstraints = TopologyConstraints {
        min_cpus: None,
        max_cpus: None,
        min_llcs: None,
        max_llcs: None,
        min_numa_nodes: None,
        max_numa_nodes: None,
        requires_smt: false,
    };

    /// Why `topology` falls outside these bounds, or `Ok` when it does not.
    pub fn check(&self, topology: &Topology) -> Result<(), String> {
        let dims = [
            ("CPUs", topology.total_cpus(), self.min_cpus, self.max_cpus),
            ("LLCs", topology.llcs(), self.min_llcs, self.max_llcs),
            (
                "NUMA nodes",
                topology.numa_nodes(),
                self.min_numa_nodes,
                self.max_numa_nodes,
            ),
        ];
        for (what, have, min, max) in dims {
            if let Some(min) = min.filter(|min| have < *min) {
                return Err(format!(
                    "{topology} has {have} {what}; at least {min} needed"
                ));
            }
            if let Some(max) = max.filter(|max| have > *max) {
                return Err(format!(
                    "{topology} has {have} {what}; at most {max} allowed"
                ));
            }
        }
        if self.requires_smt && topology.threads_per_core() < 2 {
            return Err(format!(
                "{topology} has one thread per core; SMT (2 or more threads) is required"
            ));
        }
        Ok(())
    }

    /// Both sets of bounds at once: the tighter of each.
    pub fn and(&self, other: &TopologyConstraints) -> TopologyConstraints {
        let tighter = |a: Option<u32>, b: Option<u32>, pick: fn(u32, u32) -> u32| match (a, b) {
            (Some(a), Some(b)) => Some(pick(a, b)),
            (a, b) => a.or(b),
        };
        TopologyConstraints {
            min_cpus: tighter(self.min_cpus, other.min_cpus, u32::max),
            max_cpus: tighter(self.max_cpus, other.max_cpus, u32::min),
            min_llcs: tighter(self.min_llcs, other.min_llcs, u32::max),
            max_llcs: tighter(self.max_llcs, other.max_llcs, u32::min),
            min_numa_nodes: tighter(self.min_numa_nodes, other.min_numa_nodes, u32::max),
            max_numa_nodes: tighter(self.max_numa_nodes, other.max_numa_nodes, u32::min),
            requires_smt: self.requires_smt || other.requires_smt,
        }
    }
}

/// A set of a scheduler's flags that satisfies every flag's `requires` and `excludes`, in declaration
/// order. Named by its flags joined with `+`, or `default` when empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    flags: Vec<FlagDecl>,
}

impl Profile {
    /// The profile with no flag on.
    pub const DEFAULT_NAME: &'static str = "default";

    pub fn flags(&self) -> &[FlagDecl] {
        &self.flags
    }

    pub fn is_default(&self) -> bool {
        self.flags.is_empty()
    }

    /// The scheduler arguments the profile's flags add, in declaration order.
    pub fn args(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.flags.iter().flat_map(|f| f.args.iter().copied())
    }

    pub fn name(&self) -> String {
        match self.is_default() {
            true => Self::DEFAULT_NAME.to_string(),
            false => self
                .flags
                .iter()
                .map(|f| f.name)
                .collect::<Vec<_>>()
                .join("+"),
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A scheduler can declare at most this many flags: its profiles are every valid subset.
pub const MAX_FLAGS: usize = 16;

/// Why a flag set is not a valid profile.
fn violation(flags: &[FlagDecl], on: &[bool]) -> Option<String> {
    let is_on = |name: &str| flags.iter().zip(on).any(|(f, on)| *on && f.name == name);
    for (flag, _) in flags.iter().zip(on).filter(|(_, on)| **on) {
        if let Some(missing) = flag.requires.iter().find(|r| !is_on(r)) {
            return Some(format!("flag {} requires {missing}", flag.name));
        }
        if let Some(clash) = flag.excludes.iter().find(|x| is_on(x)) {
            return Some(format!(
                "flags {} and {clash} exclude each other",
                flag.name
            ));
        }
    }
    None
}

/// Every valid subset of `flags` that contains all of `required` and none of `excluded`, ordered by
/// size, then by declaration order.
pub(crate) fn profiles(flags: &[FlagDecl], required: &[&str], excluded: &[&str]) -> Vec<Profile> {
    let n = flags.len().min(MAX_FLAGS);
    let mut out: Vec<(u32, Vec<usize>, Profile)> = Vec::new();
    for mask in 0u32..(1 << n) {
        let on: Vec<bool> = (0..n).map(|i| mask & (1 << i) != 0).collect();
        let chosen = |name: &str| {
            flags[..n]
                .iter()
                .zip(&on)
                .any(|(f, on)| *on && f.name == name)
        };
        if required.iter().any(|r| !chosen(r)) || excluded.iter().any(|x| chosen(x)) {
            continue;
        }
        if violation(&flags[..n], &on).is_some() {
            continue;
        }
        let indices: Vec<usize> = (0..n).filter(|i| on[*i]).collect();
        let profile = Profile {
            flags: indices.iter().map(|i| flags[*i]).collect(),
        };
        out.push((mask.count_ones(), indices, profile));
    }
    out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    out.into_iter().map(|(_, _, p)| p).collect()
}

/// The profile `name` names (`a+b` in any order, or `default`), checked against `flags`.
pub(crate) fn parse_profile(flags: &[FlagDecl], name: &str) -> Result<Profile, String> {
    let known = || match flags.is_empty() {
        true => "it declares no flags, so only `default` exists".to_string(),
        false => format!(
            "its flags are {}",
            flags.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
        ),
    };
    let name = name.trim();
    if name == Profile::DEFAULT_NAME {
        return Ok(Profile::default());
    }
    let mut on = vec![false; flags.len()];
    for part in name.split('+').map(str::trim) {
        let index =
            flags
                .iter()
                .position(|f| f.name == part)
                .ok_or_else(|| match part.is_empty() {
                    true => "a flag name is empty; join flags with '+'".to_string(),
                    false => format!("no flag named {part:?}; {}", known()),
                })?;
        if std::mem::replace(&mut on[index], true) {
            return Err(format!("{part} is named twice"));
        }
    }
    if let Some(why) = violation(flags, &on) {
        return Err(why);
    }
    Ok(Profile {
        flags: flags
            .iter()
            .zip(&on)
            .filter(|(_, on)| **on)
            .map(|(f, _)| *f)
            .collect(),
    })
}

/// `a == b`, usable in `const` checks of a declaration.
pub(crate) const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn declared(flags: &[FlagDecl], name: &str) -> bool {
    let mut i = 0;
    while i < flags.len() {
        if str_eq(flags[i].name, name) {
            return true;
        }
        i += 1;
    }
    false
}

/// Panics (a compile error in a `const` declaration) when `flags` are not a valid flag list: a name
/// that is empty or not kebab-case, declared twice, or a `requires`/`excludes` naming no declared flag.
pub(crate) const fn check_flags(flags: &[FlagDecl]) {
    if flags.len() > MAX_FLAGS {
        panic!("a scheduler declares at most 16 flags; its profiles are every valid subset");
    }
    let mut i = 0;
    while i < flags.len() {
        let name = flags[i].name.as_bytes();
        if name.is_empty() {
            panic!("a flag name is empty");
        }
        let mut b = 0;
        while b < name.len() {
            let c = name[b];
            if !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-') {
                panic!("flag names are kebab-case: lowercase letters, digits and '-'");
            }
            b += 1;
        }
        let mut j = i + 1;
        while j < flags.len() {
            if str_eq(flags[i].name, flags[j].name) {
                panic!("two flags share a name");
            }
            j += 1;
        }
        let mut r = 0;
        while r < flags[i].requires.len() {
            if !declared(flags, flags[i].requires[r]) {
                panic!("a flag requires a flag the scheduler does not declare");
            }
            r += 1;
        }
        let mut x = 0;
        while x < flags[i].excludes.len() {
            if !declared(flags, flags[i].excludes[x]) {
                panic!("a flag excludes a flag the scheduler does not declare");
            }
            x += 1;
        }
        i += 1;
    }
}

#[cfg(test)]
#[path = "declare_tests.rs"]
mod tests;
