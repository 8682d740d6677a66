//! The gauntlet: a test fanned out over the topology presets × its scheduler's flag profiles, each variant a
//! trial of its own named `gauntlet/<fn>/<preset>/<profile>`. Presets outside the test's or the scheduler's
//! constraints are not variants; variants this host cannot boot stay listed, skipped with the reason.

use std::fmt;

use crate::harness::VmTest;
use crate::kernel::KernelFlavor;
use crate::sched::SchedulerError;
use crate::topology::presets::{Preset, PRESETS};
use crate::vm::Accel;

/// Which tests fan out, from `KTSTR_GAUNTLET`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GauntletMode {
    /// Unset or `0`: tests marked `gauntlet` list their variants as ignored (run them with
    /// `--include-ignored`, or `--ignored`).
    Listed,
    /// `1`: the variants of marked tests run like any other trial.
    Marked,
    /// `all`: every VM test fans out, and its variants run.
    All,
}

/// The environment variable that selects the `GauntletMode`.
pub const GAUNTLET_ENV: &str = "KTSTR_GAUNTLET";

impl GauntletMode {
    pub fn parse(value: Option<&str>) -> Result<GauntletMode, String> {
        match value.map(str::trim) {
            None | Some("") | Some("0") => Ok(GauntletMode::Listed),
            Some("1") => Ok(GauntletMode::Marked),
            Some("all") => Ok(GauntletMode::All),
            Some(other) => Err(format!(
                "{GAUNTLET_ENV}={other:?} is not a gauntlet mode; use 0 (list marked tests' variants as \
                 ignored), 1 (run them) or all (fan out every VM test)"
            )),
        }
    }

    pub fn from_env() -> Result<GauntletMode, String> {
        Self::parse(std::env::var(GAUNTLET_ENV).ok().as_deref())
    }

    /// Whether `test` fans out under this mode.
    pub fn expands(&self, test: &VmTest) -> bool {
        !test.host_only && (test.gauntlet || *self == GauntletMode::All)
    }

    /// Whether its variants run without `--include-ignored`.
    pub fn runs_variants(&self) -> bool {
        *self != GauntletMode::Listed
    }
}

/// The environment variable naming the kernels a gauntlet runs on (`default,debug`): with two or more,
/// each variant runs on each, named with a `/<flavor>` suffix.
pub const KERNELS_ENV: &str = "KTSTR_GAUNTLET_KERNELS";

/// The kernel flavors `KTSTR_GAUNTLET_KERNELS` names, in its order, without repeats; empty when unset.
pub fn kernels_from_env() -> Result<Vec<KernelFlavor>, String> {
    parse_kernels(std::env::var(KERNELS_ENV).ok().as_deref())
}

pub fn parse_kernels(value: Option<&str>) -> Result<Vec<KernelFlavor>, String> {
    let mut out = Vec::new();
    for part in value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let flavor: KernelFlavor = part.parse().map_err(|e| format!("{KERNELS_ENV}: {e}"))?;
        if !out.contains(&flavor) {
            out.push(flavor);
        }
    }
    Ok(out)
}

/// What a host can boot: the accelerator and its CPU count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostCapacity {
    pub accel: Accel,
    pub cpus: u32,
}

impl HostCapacity {
    /// This host; the accelerator as `Accel::detect` chooses it, TCG when it cannot tell (a trial would
    /// then report the cause itself).
    pub fn here() -> HostCapacity {
        HostCapacity {
            accel: Accel::detect().unwrap_or(Accel::Tcg),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        }
    }

    /// Why `preset` cannot run here, or `None` when it can.
    pub fn refuses(&self, preset: &Preset) -> Option<String> {
        crate::vm::check_capacity_on(&preset.topology, self.accel, self.cpus)
            .err()
            .map(|e| e.to_string())
    }
}

/// One variant of a test.
#[derive(Clone)]
pub struct Variant {
    pub test: VmTest,
    pub preset: &'static Preset,
    /// Why it cannot run on this host, when it cannot.
    pub skip: Option<String>,
}

impl fmt::Debug for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Variant")
            .field("name", &self.test.trial_name())
            .field("skip", &self.skip)
            .finish()
    }
}

/// Every variant of `test`: each preset its constraints (and its scheduler's) accept, times each profile
/// with its `required_flags` and without its `excluded_flags`, in preset then profile order — times each
/// of `kernels` when it names two or more (the test's own kernel otherwise).
pub fn expand(
    test: &VmTest,
    host: &HostCapacity,
    kernels: &[KernelFlavor],
) -> Result<Vec<Variant>, SchedulerError> {
    let required: Vec<&str> = test.required_flags.iter().map(String::as_str).collect();
    let excluded: Vec<&str> = test.excluded_flags.iter().map(String::as_str).collect();
    let profiles = test.scheduler.profiles_with(&required, &excluded)?;
    let constraints = test.topology_constraints();
    let mut variants = Vec::new();
    for preset in PRESETS.iter() {
        if constraints.check(&preset.topology).is_err() {
            continue;
        }
        for profile in &profiles {
            let mut variant = test
                .clone()
                .topology(preset.topology)
                .profile(profile.name());
            variant.preset = Some(preset.name);
            let on_kernels: Vec<VmTest> = match kernels {
                [] | [_] => vec![match kernels.first() {
                    Some(flavor) => variant.kernel_flavor(*flavor),
                    None => variant,
                }],
                several => several
                    .iter()
                    .map(|flavor| {
                        let mut v = variant.clone().kernel_flavor(*flavor);
                        v.kernel_in_name = true;
                        v
                    })
                    .collect(),
            };
            for test in on_kernels {
                variants.push(Variant {
                    test,
                    preset,
                    skip: host.refuses(preset),
                });
            }
        }
    }
    Ok(variants)
}

#[cfg(test)]
#[path = "gauntlet_tests.rs"]
mod tests;
