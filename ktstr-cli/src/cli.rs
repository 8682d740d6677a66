//! The command line, as clap types.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Test harness for Linux process schedulers (sched_ext first).
///
/// Exit codes: 0 success, 1 a build step failed, 2 bad usage or input, 3 a prerequisite is
/// missing, 4 no kernel is cached, 5 a file-system or cache problem, 6 a scenario of `ktstr run` failed,
/// 7 `ktstr stats compare` found a regression.
#[derive(Debug, Parser)]
#[command(name = "ktstr", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build, list and clean the cached guest kernels.
    #[command(subcommand)]
    Kernel(KernelCommand),
    /// Install published scheduler crates into the cache, and list the schedulers ktstr can find.
    #[command(subcommand)]
    Scheduler(SchedulerCommand),
    /// Run canned scenarios directly on this host and print their verdicts.
    Run(RunArgs),
    /// List the canned scenarios.
    List {
        /// Only scenarios whose name, category or description contains this text.
        #[arg(long, value_name = "TEXT")]
        filter: Option<String>,
        /// One JSON array of {name, category, description}.
        #[arg(long)]
        json: bool,
    },
    /// What ktstr's caches hold (kernels, initramfs images, slim /init copies, schedulers), and trimming.
    Cache {
        #[command(subcommand)]
        command: Option<CacheCommand>,
    },
    /// Remove what dead runs left: trial directories whose owner is gone, and QEMU processes of this user
    /// still running from one. Touches nothing of a live run.
    Cleanup,
    /// This host's CPU topology (XnYlZcWt and a tree) and the gauntlet presets it can boot.
    Topo {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Boot the cached kernel with a topology (and a scheduler) and get a busybox shell in the guest on this
    /// terminal; `exit` powers it off. Ctrl-C goes to the guest.
    Shell(ShellArgs),
    /// Read run records back: list runs, show one, compare two.
    #[command(subcommand)]
    Stats(StatsCommand),
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Evict the least recently used initramfs images down to a size (images a run is using stay).
    /// Kernels are removed with `ktstr kernel clean`.
    Trim {
        /// The size to trim to, in MiB (default: $KTSTR_INITRAMFS_CACHE_MB, else 1024).
        #[arg(long, value_name = "MIB")]
        max_mb: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// List the runs under the runs directory with their stamps.
    List(StatsDir),
    /// One run's trials: outcome, wall time, repeat.
    Show {
        /// A run id, `latest`, `latest~N`, or a run directory's path.
        run: String,
        #[command(flatten)]
        dir: StatsDir,
    },
    /// Compare NEW against BASE: outcome changes, then every metric with a significance test over the
    /// repeats and a minimum effect. Exits 7 when a regression passes both gates.
    Compare(CompareArgs),
}

#[derive(Debug, Args)]
pub struct StatsDir {
    /// The runs directory (default: $KTSTR_RUNS_DIR, else target/ktstr-runs of this checkout).
    #[arg(long, value_name = "DIR")]
    pub runs_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The run to compare against: a run id, `latest~N`, or a path.
    pub base: String,
    /// The run under test.
    pub new: String,
    #[command(flatten)]
    pub dir: StatsDir,
    /// The false discovery rate across all rows (Benjamini–Hochberg).
    #[arg(long, default_value_t = 0.05, value_parser = unit_fraction)]
    pub alpha: f64,
    /// The smallest relative change of a median that counts, as a fraction (0.10 = 10 %).
    #[arg(long, default_value_t = 0.10, value_parser = unit_fraction)]
    pub min_effect: f64,
    /// Compare runs whose stamps make them incomparable (such as TCG against KVM), with a warning.
    #[arg(long)]
    pub force: bool,
    /// Print the comparison as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// List every metric row, the ones within noise too.
    #[arg(long)]
    pub all: bool,
    /// Also write a self-contained HTML report with a plot of each changed metric.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// A number in (0, 1).
fn unit_fraction(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|x| *x > 0.0 && *x < 1.0)
        .ok_or_else(|| format!("{text:?} is not a fraction between 0 and 1, like 0.05"))
}

#[derive(Debug, Subcommand)]
pub enum KernelCommand {
    /// Build a sched_ext kernel and the in-tree schedulers into the cache (no-op on a cache hit).
    Build(BuildArgs),
    /// List cached kernels: key, version, size, age, schedulers.
    List {
        /// One JSON array of the cache entries' metadata instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove cached kernels, keeping the newest N.
    Clean {
        /// How many of the newest kernels to keep.
        #[arg(long, value_name = "N", default_value_t = 0)]
        keep: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum SchedulerCommand {
    /// Build scheduler crates (`scx_bpfland`, `scx_rusty@1.1.4`, ...) with `cargo install --locked`
    /// into the cache (no-op when installed).
    Install {
        /// NAME or NAME@VERSION of a published crate; the newest release when no version is given.
        #[arg(required = true, value_name = "NAME[@VERSION]")]
        specs: Vec<ktstr::sched::InstallSpec>,
        /// Rebuild even when installed.
        #[arg(long)]
        force: bool,
    },
    /// List in-tree, installed and cargo-target-dir schedulers with their paths.
    List,
    /// Show a declared scheduler's flags (args, requires, excludes) and every profile they make.
    Flags {
        /// A scheduler ktstr declares (`ktstr::schedulers`): scx_simple, scx_qmap, scx_central,
        /// scx_flatcg, scx_bpfland, scx_rusty, scx_lavd.
        #[arg(value_name = "NAME")]
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Build from this clean kernel source tree.
    #[arg(long, value_name = "DIR", conflicts_with = "tarball")]
    pub source: Option<PathBuf>,
    /// Build from this source tarball (default: Debian's linux-source-6.12, installed when missing).
    #[arg(long, value_name = "FILE")]
    pub tarball: Option<PathBuf>,
    /// Parallel make jobs (default: CPUs + 1).
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,
    /// Rebuild even when the cache holds a kernel from this source.
    #[arg(long)]
    pub force: bool,
    /// Configuration flavor: `default`, or `debug` (lockdep and sleep-in-atomic checks; slower).
    #[arg(long, value_name = "FLAVOR", default_value = "default")]
    pub flavor: ktstr::kernel::KernelFlavor,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn worker_counts_over_the_limit_are_usage_errors() {
        for bad in ["0", "100000", "many"] {
            let err = Cli::try_parse_from(["ktstr", "run", "--vm", "--workers", bad]).unwrap_err();
            assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation, "{bad}");
        }
        assert!(Cli::try_parse_from(["ktstr", "run", "--workers", "512"]).is_ok());
    }

    #[test]
    fn source_and_tarball_exclude_each_other() {
        let err = Cli::try_parse_from([
            "ktstr",
            "kernel",
            "build",
            "--source",
            "a",
            "--tarball",
            "b",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        let ok = Cli::try_parse_from(["ktstr", "kernel", "clean", "--keep", "2"]).unwrap();
        assert!(matches!(
            ok.command,
            Command::Kernel(KernelCommand::Clean { keep: 2 })
        ));
    }
}

/// Arguments passed to the scheduler.
#[derive(Debug, Args)]
pub struct SchedArgs {
    /// An argument for the scheduler (repeatable).
    #[arg(
        long = "sched-arg",
        value_name = "ARG",
        allow_hyphen_values = true,
        requires = "scheduler"
    )]
    pub args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ShellArgs {
    /// VM topology, as NUMA nodes, LLCs, cores per LLC and threads per core.
    #[arg(long, value_name = "XnYlZcWt", default_value = "1n2l2c1t")]
    pub topology: ktstr::topology::Topology,
    /// Scheduler to start before the shell (a name or path, as for `run --scheduler`); none keeps the
    /// kernel's own.
    #[arg(long, value_name = "NAME|PATH")]
    pub scheduler: Option<String>,
    #[command(flatten)]
    pub sched_args: SchedArgs,
    /// Run this one command with `sh -c` instead of an interactive shell; its exit status is ktstr's.
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,
    /// A host file to carry into the guest at the same absolute path, programs with their shared
    /// libraries (repeatable).
    #[arg(long, value_name = "PATH")]
    pub include: Vec<std::path::PathBuf>,
    /// Guest memory in MB (default: sized from the vCPUs and the initramfs).
    #[arg(long, value_name = "MB")]
    pub memory_mb: Option<u32>,
    /// Flavor of the cached kernel to boot (default: $KTSTR_KERNEL_FLAVOR, else `default`).
    #[arg(long, value_name = "FLAVOR")]
    pub kernel_flavor: Option<ktstr::kernel::KernelFlavor>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenarios to run (default: every canned scenario); `ktstr list` shows them.
    pub scenarios: Vec<String>,
    /// Workload duration of each scenario, in seconds.
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = positive_secs)]
    pub duration: f64,
    /// Workers in a cgroup that names no count.
    #[arg(long, value_name = "N", default_value = "2", value_parser = worker_count)]
    pub workers: NonZeroUsize,
    /// Cgroup backend of a host run: real cgroup v2 with cpusets, the in-memory double, or auto (real
    /// when available).
    #[arg(long, value_enum, default_value_t = CgroupsArg::Auto, conflicts_with = "vm")]
    pub cgroups: CgroupsArg,
    /// Run each scenario in its own VM booting the cached sched_ext kernel, instead of on this host.
    #[arg(long)]
    pub vm: bool,
    /// VM topology, as NUMA nodes, LLCs, cores per LLC and threads per core.
    #[arg(
        long,
        value_name = "XnYlZcWt",
        default_value = "1n2l2c1t",
        requires = "vm"
    )]
    pub topology: ktstr::topology::Topology,
    /// Scheduler to load in the VM: an in-tree name (scx_simple, scx_qmap, scx_central, scx_flatcg), an
    /// installed one (NAME or NAME@VERSION, see `ktstr scheduler list`), one built in a cargo target
    /// directory or on PATH by name, or a binary's path; none runs the kernel's own scheduler.
    #[arg(long, value_name = "NAME|PATH", requires = "vm")]
    pub scheduler: Option<String>,
    /// Flavor of the cached kernel to boot (default: $KTSTR_KERNEL_FLAVOR, else `default`).
    #[arg(long, value_name = "FLAVOR", requires = "vm")]
    pub kernel_flavor: Option<ktstr::kernel::KernelFlavor>,
    #[command(flatten)]
    pub sched_args: SchedArgs,
    /// The scheduler's flag profile: its flags joined with '+' (`ktstr scheduler flags NAME` lists them).
    #[arg(long, value_name = "FLAG+FLAG", requires = "scheduler")]
    pub profile: Option<String>,
    /// Run each scenario over every topology preset × every profile of the scheduler that this host can
    /// boot (instead of --topology and --profile).
    #[arg(long, requires = "vm", conflicts_with_all = ["profile", "topology"])]
    pub gauntlet: bool,
    /// With --gauntlet: run only the variants that fit this many seconds and cover the most (shape, flag)
    /// pairs (default: $KTSTR_BUDGET_SECS, else all).
    #[arg(long, value_name = "SECS", requires = "gauntlet", value_parser = positive_secs_unbounded)]
    pub budget: Option<f64>,
    /// With --budget: the seed that breaks ties (default: $KTSTR_BUDGET_SEED, else 0).
    #[arg(long, value_name = "N", requires = "budget")]
    pub seed: Option<u64>,
    /// VMs at once (default: one per two host CPUs, at most one per 2 GiB of available memory); their
    /// tests never share host CPUs, so the others boot while one tests.
    #[arg(long, short = 'j', value_name = "J", requires = "vm")]
    pub jobs: Option<NonZeroUsize>,
    /// Run each scenario (or gauntlet variant) this many times; each run is a record of its own, for
    /// `ktstr stats compare`.
    #[arg(long, value_name = "R", default_value = "1", requires = "vm")]
    pub repeat: NonZeroUsize,
    /// Print one JSON object per verdict (a line each) instead of the verdict blocks.
    #[arg(long)]
    pub json: bool,
    /// Count a skipped scenario (one whose checks had nothing to judge on this topology, such as an LLC
    /// scenario on one LLC) as failed; by default it is reported as skipped, neither passed nor failed.
    #[arg(long)]
    pub fail_on_skip: bool,
}

/// A positive, finite number of seconds.
fn positive_secs_unbounded(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .ok_or_else(|| format!("{text:?} is not a number of seconds above 0, like 600"))
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CgroupsArg {
    Auto,
    Real,
    Simulated,
}

fn worker_count(text: &str) -> Result<NonZeroUsize, String> {
    let max = ktstr::workload::MAX_WORKERS;
    match text.parse::<NonZeroUsize>() {
        Ok(n) if n.get() <= max => Ok(n),
        Ok(n) => Err(format!(
            "{n} workers per cgroup is over the limit of {max}: each worker is a process with its own \
             report pipe; split the load over several cgroups"
        )),
        Err(_) => Err(format!("{text:?} is not a worker count from 1 to {max}")),
    }
}

fn positive_secs(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 3600.0 => Ok(secs),
        _ => Err(format!(
            "{text:?} is not a duration in seconds between 0 and 3600 (e.g. 2 or 0.5)"
        )),
    }
}
