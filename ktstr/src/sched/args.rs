//! A scheduler's command line: the declaration's arguments, the profile's flags and those a test appends,
//! the diagnostic arguments that make it print libbpf's log, and the `SchedulerSpec` the guest launches.

use super::scheduler::{Kind, Scheduler};
use super::SchedulerError;
use crate::scx::SchedulerSpec;

/// The arguments that turn on libbpf's log in the sched-ext project's schedulers and the kernel tree's
/// examples; a scheduler that fails to load is started once more with them to capture why.
const LIBBPF_VERBOSE_ARGS: [&str; 1] = ["-v"];

impl Scheduler {
    /// The arguments that make this scheduler print libbpf's log (the verifier's among it). When it
    /// fails to load, the guest starts it once more with them and the verdict quotes the cause. In-tree,
    /// installed and named schedulers default to `-v`; a binary given by path has none unless set here.
    pub fn diagnostic_args<I, S>(self, args: I) -> Result<Scheduler, SchedulerError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let args = self.checked_args(Vec::new(), args)?;
        Ok(Scheduler {
            diagnostic_args: Some(args.into()),
            ..self
        })
    }

    /// Appends command-line arguments for the scheduler binary.
    pub fn args<I, S>(self, args: I) -> Result<Scheduler, SchedulerError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let all = self.checked_args(self.extra_args().to_vec(), args)?;
        Ok(Scheduler {
            args: Some(all.into()),
            ..self
        })
    }

    /// `before` followed by `args`, refusing any for EEVDF and any argument with a NUL byte.
    fn checked_args<I, S>(
        &self,
        mut before: Vec<String>,
        args: I,
    ) -> Result<Vec<String>, SchedulerError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if self.is_eevdf() {
            return Err(SchedulerError::ArgsForEevdf);
        }
        for arg in args {
            let arg = arg.into();
            if arg.contains('\0') {
                return Err(SchedulerError::ArgWithNul {
                    name: self.name().to_string(),
                    index: before.len(),
                    arg,
                });
            }
            before.push(arg);
        }
        Ok(before)
    }

    /// The arguments given with `args`, in order.
    pub fn extra_args(&self) -> &[String] {
        self.args.as_deref().unwrap_or(&[])
    }

    /// Every argument a run passes: the declaration's, the profile's flags', then `args`.
    pub fn all_args(&self) -> Vec<String> {
        let profile = self.profile.iter().flat_map(|p| p.args());
        self.sched_args
            .iter()
            .copied()
            .chain(profile)
            .map(String::from)
            .chain(self.extra_args().iter().cloned())
            .collect()
    }

    fn default_diagnostic_args(&self) -> &'static [&'static str] {
        match self.kind {
            Kind::Eevdf | Kind::Binary { .. } | Kind::DeclaredPath(_) => &[],
            _ => &LIBBPF_VERBOSE_ARGS,
        }
    }

    /// The form sent to the guest.
    pub fn spec(&self) -> SchedulerSpec {
        let diagnostic_args = match &self.diagnostic_args {
            Some(args) => args.to_vec(),
            None => self
                .default_diagnostic_args()
                .iter()
                .map(|a| a.to_string())
                .collect(),
        };
        SchedulerSpec {
            name: self.name().to_string(),
            guest_binary: self.guest_path(),
            args: self.all_args(),
            diagnostic_args,
        }
    }
}
