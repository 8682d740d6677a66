//! `CpuSet`: an ordered set of CPU ids with the kernel's cpu-list text form (`0-3,5,7-9`).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::TopologyError;

/// An ordered set of CPU ids. Displays and parses as a kernel cpu list (`0-3,5,7-9`).
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct CpuSet(BTreeSet<usize>);

impl CpuSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_range(range: std::ops::Range<usize>) -> Self {
        range.collect()
    }

    pub fn insert(&mut self, cpu: usize) -> bool {
        self.0.insert(cpu)
    }

    pub fn remove(&mut self, cpu: usize) -> bool {
        self.0.remove(&cpu)
    }

    pub fn contains(&self, cpu: usize) -> bool {
        self.0.contains(&cpu)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn first(&self) -> Option<usize> {
        self.0.first().copied()
    }

    pub fn last(&self) -> Option<usize> {
        self.0.last().copied()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = usize> + ExactSizeIterator + '_ {
        self.0.iter().copied()
    }

    pub fn to_vec(&self) -> Vec<usize> {
        self.iter().collect()
    }

    pub fn intersection(&self, other: &CpuSet) -> CpuSet {
        self.0.intersection(&other.0).copied().collect()
    }

    pub fn union(&self, other: &CpuSet) -> CpuSet {
        self.0.union(&other.0).copied().collect()
    }

    pub fn difference(&self, other: &CpuSet) -> CpuSet {
        self.0.difference(&other.0).copied().collect()
    }

    pub fn is_subset(&self, other: &CpuSet) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn is_disjoint(&self, other: &CpuSet) -> bool {
        self.0.is_disjoint(&other.0)
    }

    /// Highest CPU id a parsed cpu list may name (the kernel's largest `NR_CPUS` is 8192).
    pub const MAX_CPU: usize = 65_535;

    /// Strict parse of a kernel cpu list; an empty string is the empty set.
    ///
    /// Whitespace around each entry is ignored; signs, empty entries and backwards ranges are errors.
    pub fn parse(text: &str) -> Result<Self, TopologyError> {
        let text = text.trim();
        let mut set = CpuSet::new();
        if text.is_empty() {
            return Ok(set);
        }
        for part in text.split(',') {
            match part.split_once('-') {
                Some((lo, hi)) => {
                    let lo = parse_cpu(text, part, lo)?;
                    let hi = parse_cpu(text, part, hi)?;
                    if lo > hi {
                        return Err(TopologyError::ReversedCpuRange {
                            text: text.to_string(),
                            part: part.trim().to_string(),
                        });
                    }
                    set.0.extend(lo..=hi);
                }
                None => {
                    set.insert(parse_cpu(text, part, part)?);
                }
            }
        }
        Ok(set)
    }
}

/// Parses one CPU id of `part` (an entry of the list `text`): ASCII digits only, at most `MAX_CPU`.
fn parse_cpu(text: &str, part: &str, digits: &str) -> Result<usize, TopologyError> {
    let digits = digits.trim();
    let bad = || TopologyError::BadCpuList {
        text: text.to_string(),
        part: part.trim().to_string(),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match digits.parse::<usize>() {
        Ok(cpu) if cpu <= CpuSet::MAX_CPU => Ok(cpu),
        _ => Err(TopologyError::CpuOutOfRange {
            text: text.to_string(),
            cpu: digits.to_string(),
            max: CpuSet::MAX_CPU,
        }),
    }
}

/// Parses a kernel cpu list such as `0-3,5,7-9` (same as [`CpuSet::parse`]).
pub fn parse_cpu_list(text: &str) -> Result<CpuSet, TopologyError> {
    CpuSet::parse(text)
}

/// Formats a set as a kernel cpu list such as `0-3,5,7-9` (same as `CpuSet`'s `Display`).
pub fn format_cpu_list(set: &CpuSet) -> String {
    set.to_string()
}

impl FromIterator<usize> for CpuSet {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Self {
        CpuSet(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a CpuSet {
    type Item = usize;
    type IntoIter = std::iter::Copied<std::collections::btree_set::Iter<'a, usize>>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().copied()
    }
}

impl Extend<usize> for CpuSet {
    fn extend<I: IntoIterator<Item = usize>>(&mut self, iter: I) {
        self.0.extend(iter)
    }
}

impl fmt::Display for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut iter = self.iter().peekable();
        while let Some(lo) = iter.next() {
            let mut hi = lo;
            while iter.peek() == Some(&(hi + 1)) {
                hi = iter.next().unwrap_or(hi);
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CpuSet({self})")
    }
}

impl FromStr for CpuSet {
    type Err = TopologyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CpuSet::parse(s)
    }
}

impl From<CpuSet> for String {
    fn from(set: CpuSet) -> String {
        set.to_string()
    }
}

impl TryFrom<String> for CpuSet {
    type Error = TopologyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CpuSet::parse(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_accepts_kernel_lists() {
        let cases: &[(&str, &[usize])] = &[
            ("", &[]),
            ("  \n", &[]),
            ("0", &[0]),
            ("0-3", &[0, 1, 2, 3]),
            ("0-3,5,7-9\n", &[0, 1, 2, 3, 5, 7, 8, 9]),
            (" 1 , 2 - 3 ", &[1, 2, 3]),
            ("3,1,1", &[1, 3]),
            ("2-2", &[2]),
            ("65535", &[65_535]),
        ];
        for (text, want) in cases {
            let got = parse_cpu_list(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(got.to_vec(), *want, "{text:?}");
        }
    }

    #[test]
    fn parse_rejects_malformed_lists() {
        let bad = [
            "a", "1,,2", "1,2,", ",1", "1 2", "-1", "1-", "1-2-3", "+1", "1-+3", "0x1", "1.0",
        ];
        for text in bad {
            let err = parse_cpu_list(text).expect_err(text);
            assert!(
                matches!(err, TopologyError::BadCpuList { .. }),
                "{text:?}: {err:?}"
            );
        }
    }

    #[test]
    fn parse_rejects_backwards_range() {
        let err = parse_cpu_list("0,3-1").expect_err("3-1 is backwards");
        assert!(
            matches!(&err, TopologyError::ReversedCpuRange { part, .. } if part == "3-1"),
            "{err:?}"
        );
    }

    #[test]
    fn parse_rejects_cpu_ids_past_the_limit() {
        for text in ["65536", "0-65536", "99999999999999999999999"] {
            let err = parse_cpu_list(text).expect_err(text);
            assert!(
                matches!(err, TopologyError::CpuOutOfRange { .. }),
                "{text:?}: {err:?}"
            );
        }
    }

    #[test]
    fn format_collapses_runs() {
        let cases: &[(&[usize], &str)] = &[
            (&[], ""),
            (&[4], "4"),
            (&[0, 1], "0-1"),
            (&[0, 1, 2, 3, 5, 7, 8, 9], "0-3,5,7-9"),
            (&[0, 2, 4], "0,2,4"),
        ];
        for (cpus, want) in cases {
            let set: CpuSet = cpus.iter().copied().collect();
            assert_eq!(format_cpu_list(&set), *want);
        }
    }

    proptest! {
        #[test]
        fn cpu_list_round_trips(cpus in proptest::collection::btree_set(0usize..600, 0..80)) {
            let set: CpuSet = cpus.into_iter().collect();
            let text = format_cpu_list(&set);
            prop_assert_eq!(parse_cpu_list(&text).expect("own output parses"), set);
        }

        #[test]
        fn cpu_list_parse_is_total(text in "[0-9, \\-a]{0,24}") {
            match parse_cpu_list(&text) {
                Ok(set) => prop_assert_eq!(parse_cpu_list(&format_cpu_list(&set)).ok(), Some(set)),
                Err(err) => {
                    let is_cpu_list_error = matches!(
                        err,
                        TopologyError::BadCpuList { .. }
                            | TopologyError::ReversedCpuRange { .. }
                            | TopologyError::CpuOutOfRange { .. }
                    );
                    prop_assert!(is_cpu_list_error, "{err:?}");
                }
            }
        }

        #[test]
        fn cpu_set_serde_round_trips(cpus in proptest::collection::btree_set(0usize..300, 0..40)) {
            let set: CpuSet = cpus.into_iter().collect();
            let json = serde_json::to_string(&set).expect("serializes");
            prop_assert_eq!(serde_json::from_str::<CpuSet>(&json).expect("deserializes"), set);
        }
    }
}
