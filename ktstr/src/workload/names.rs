//! Work type names: `name`, `from_name`, `ALL_NAMES` and a typo hint for unknown names.

use super::WorkType;

/// Names accepted by other spellings in related tools.
const ALIASES: &[(&str, &str)] = &[("CpuSpin", "SpinWait")];

impl WorkType {
    /// Every name `from_name` accepts (`Sequence` and `Custom` need arguments and are not listed).
    pub const ALL_NAMES: &'static [&'static str] = &[
        "SpinWait",
        "YieldHeavy",
        "Mixed",
        "IoSync",
        "Bursty",
        "PipeIo",
        "FutexPingPong",
        "FutexFanOut",
        "CachePressure",
        "CacheYield",
        "CachePipe",
        "ForkExit",
        "NiceSweep",
        "AffinityChurn",
        "PolicyChurn",
        "PageFaultChurn",
        "MutexContention",
    ];

    /// PascalCase name of the variant; `Custom` returns its own name.
    pub fn name(&self) -> &'static str {
        match self {
            WorkType::SpinWait => "SpinWait",
            WorkType::YieldHeavy => "YieldHeavy",
            WorkType::Mixed => "Mixed",
            WorkType::IoSync => "IoSync",
            WorkType::Bursty { .. } => "Bursty",
            WorkType::PipeIo { .. } => "PipeIo",
            WorkType::FutexPingPong { .. } => "FutexPingPong",
            WorkType::FutexFanOut { .. } => "FutexFanOut",
            WorkType::CachePressure { .. } => "CachePressure",
            WorkType::CacheYield { .. } => "CacheYield",
            WorkType::CachePipe { .. } => "CachePipe",
            WorkType::Sequence { .. } => "Sequence",
            WorkType::ForkExit => "ForkExit",
            WorkType::NiceSweep => "NiceSweep",
            WorkType::AffinityChurn { .. } => "AffinityChurn",
            WorkType::PolicyChurn { .. } => "PolicyChurn",
            WorkType::PageFaultChurn { .. } => "PageFaultChurn",
            WorkType::MutexContention { .. } => "MutexContention",
            WorkType::Custom { name, .. } => name,
        }
    }

    /// The variant with default parameters for an exact (case-sensitive) name from `ALL_NAMES`.
    pub fn from_name(name: &str) -> Option<WorkType> {
        let wt = match name {
            "SpinWait" => WorkType::SpinWait,
            "YieldHeavy" => WorkType::YieldHeavy,
            "Mixed" => WorkType::Mixed,
            "IoSync" => WorkType::IoSync,
            "Bursty" => WorkType::bursty(50, 100),
            "PipeIo" => WorkType::pipe_io(1024),
            "FutexPingPong" => WorkType::futex_ping_pong(1024),
            "FutexFanOut" => WorkType::futex_fan_out(4, 1024),
            "CachePressure" => WorkType::cache_pressure(32, 64),
            "CacheYield" => WorkType::cache_yield(32, 64),
            "CachePipe" => WorkType::cache_pipe(32, 1024),
            "ForkExit" => WorkType::ForkExit,
            "NiceSweep" => WorkType::NiceSweep,
            "AffinityChurn" => WorkType::affinity_churn(1024),
            "PolicyChurn" => WorkType::policy_churn(1024),
            "PageFaultChurn" => WorkType::page_fault_churn(4096, 256, 64),
            "MutexContention" => WorkType::mutex_contention(4, 256, 1024),
            _ => return None,
        };
        Some(wt)
    }

    /// The known name closest to a misspelt one, if any is close enough to be a likely typo.
    pub fn suggest(name: &str) -> Option<&'static str> {
        let lower = name.to_ascii_lowercase();
        if let Some(&(_, to)) = ALIASES
            .iter()
            .find(|(from, _)| from.eq_ignore_ascii_case(name))
        {
            return Some(to);
        }
        let (best, distance) = Self::ALL_NAMES
            .iter()
            .map(|known| {
                (
                    *known,
                    strsim::levenshtein(&lower, &known.to_ascii_lowercase()),
                )
            })
            .min_by_key(|&(_, d)| d)?;
        let limit = (name.len() / 3).max(2);
        (distance <= limit).then_some(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_round_trips() {
        for name in WorkType::ALL_NAMES {
            let wt =
                WorkType::from_name(name).unwrap_or_else(|| panic!("{name} not constructible"));
            assert_eq!(wt.name(), *name);
        }
    }

    #[test]
    fn from_name_defaults_and_rejections() {
        let cases = [
            ("Bursty", Some(WorkType::bursty(50, 100))),
            ("FutexFanOut", Some(WorkType::futex_fan_out(4, 1024))),
            (
                "PageFaultChurn",
                Some(WorkType::page_fault_churn(4096, 256, 64)),
            ),
            (
                "MutexContention",
                Some(WorkType::mutex_contention(4, 256, 1024)),
            ),
            ("CachePipe", Some(WorkType::cache_pipe(32, 1024))),
            ("spinwait", None),
            ("Sequence", None),
            ("Custom", None),
            ("", None),
        ];
        for (name, expected) in cases {
            assert_eq!(WorkType::from_name(name), expected, "{name}");
        }
    }

    #[test]
    fn suggestions() {
        let cases = [
            ("spinwait", Some("SpinWait")),
            ("SpinWiat", Some("SpinWait")),
            ("CpuSpin", Some("SpinWait")),
            ("PipIo", Some("PipeIo")),
            ("mutexcontension", Some("MutexContention")),
            ("Quantum", None),
            ("", None),
        ];
        for (name, expected) in cases {
            assert_eq!(WorkType::suggest(name), expected, "{name}");
        }
    }
}
