//! `ktstr kernel build` as a library call: cache lookup, then under the key's lock extract,
//! configure (base + fragment + olddefconfig + check), build bzImage and the schedulers, and move
//! the finished entry into the cache.

use std::num::NonZeroUsize;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::build_step::{self, BuildDirs, BuildStep, SCHEDULERS};
use super::cache::Cache;
use super::entry::{cache_key, CacheEntry, Metadata, METADATA, SCHED_DIR};
use super::error::KernelError;
use super::flavor::KernelFlavor;
use super::fragment::Fragment;
use super::lock::LockMode;
use super::logged_command::{BuildEvent, StepLog};
use super::source::{KernelSource, SourceId};
use super::tools::check_prerequisites;

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub source: KernelSource,
    /// The configuration flavor: the default, or the lock-debugging one.
    pub flavor: KernelFlavor,
    /// Parallel make jobs; `None` means the number of CPUs plus one.
    pub jobs: Option<NonZeroUsize>,
    /// Rebuild even when the cache already holds this source's kernel. A tree is matched by its
    /// path alone, so rebuild with `force` after editing it.
    pub force: bool,
}

/// The entry a build produced or found.
#[derive(Debug)]
pub enum BuildOutcome {
    /// The cache already had a kernel built from this source with this fragment.
    Hit(CacheEntry),
    /// A new entry was built and installed.
    Built(CacheEntry),
}

impl BuildOutcome {
    /// The cache entry, however it was obtained.
    pub fn entry(&self) -> &CacheEntry {
        match self {
            BuildOutcome::Hit(e) | BuildOutcome::Built(e) => e,
        }
    }
}

/// Builds the request's kernel and schedulers into `cache` with ktstr's fragment, unless cached.
///
/// ```no_run
/// use ktstr::kernel::{build_kernel, BuildRequest, Cache, KernelSource};
/// let request = BuildRequest {
///     source: KernelSource::debian_installing()?,
///     flavor: ktstr::kernel::KernelFlavor::Default,
///     jobs: None,
///     force: false,
/// };
/// let outcome = build_kernel(&Cache::from_env()?, &request, &mut |_event| {})?;
/// println!("{}", outcome.entry().bzimage().display());
/// # Ok::<(), ktstr::kernel::KernelError>(())
/// ```
pub fn build_kernel(
    cache: &Cache,
    request: &BuildRequest,
    observer: &mut dyn FnMut(BuildEvent<'_>),
) -> Result<BuildOutcome, KernelError> {
    let started = Instant::now();
    let fragment = request.flavor.fragment();
    let hash = fragment.hash();
    let id = request.source.id()?;
    if !request.force {
        if let Some(entry) = find_hit(cache, &id, &hash)? {
            return Ok(BuildOutcome::Hit(entry));
        }
    }
    check_prerequisites(std::env::var_os("PATH").as_deref())?;
    let version = request.source.version()?;
    let key = cache_key(version.as_str(), request.flavor, &hash);
    let _lock = cache.lock_wait(&key, LockMode::Exclusive)?;
    if !request.force {
        if let Some(entry) = find_hit(cache, &id, &hash)? {
            return Ok(BuildOutcome::Hit(entry));
        }
    }
    let scratch = cache.scratch(&key)?;
    let tree = match &request.source {
        KernelSource::Tree(dir) => Some(dir.as_path()),
        KernelSource::Tarball(_) => None,
    };
    let dirs = BuildDirs::in_scratch(scratch.path(), tree);
    let jobs = request.jobs.map_or_else(default_jobs, NonZeroUsize::get);
    let mut log = StepLog::create(&cache.log_path(&key), observer)?;
    run_steps(&mut log, &request.source, &fragment, &dirs, jobs)?;
    let metadata = Metadata {
        key: key.clone(),
        version: version.to_string(),
        config_hash: hash,
        flavor: request.flavor,
        source: id,
        built_at_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        build_secs: started.elapsed().as_secs_f64(),
        schedulers: SCHEDULERS.iter().map(|s| s.to_string()).collect(),
    };
    write_metadata(&dirs.entry.join(METADATA), &metadata)?;
    cache.install(&dirs.entry, &key).map(BuildOutcome::Built)
}

fn write_metadata(path: &std::path::Path, metadata: &Metadata) -> Result<(), KernelError> {
    let json = serde_json::to_string_pretty(metadata)
        .map_err(|e| KernelError::io("encode", path, e.into()))?;
    std::fs::write(path, json).map_err(|e| KernelError::io("write", path, e))
}

/// The newest entry built from `id` with the fragment hashed as `hash`.
fn find_hit(cache: &Cache, id: &SourceId, hash: &str) -> Result<Option<CacheEntry>, KernelError> {
    Ok(cache
        .entries()?
        .into_iter()
        .find(|e| &e.metadata().source == id && e.metadata().config_hash == hash))
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get) + 1
}

fn run_steps(
    log: &mut StepLog<'_>,
    source: &KernelSource,
    fragment: &Fragment,
    dirs: &BuildDirs,
    jobs: usize,
) -> Result<(), KernelError> {
    let plan: Vec<BuildStep> = BuildStep::ALL
        .into_iter()
        .filter(|s| *s != BuildStep::Extract || matches!(source, KernelSource::Tarball(_)))
        .collect();
    for (i, &step) in plan.iter().enumerate() {
        log.start(step, i + 1, plan.len());
        match step {
            BuildStep::Extract => extract(log, source, dirs)?,
            BuildStep::Configure => configure(log, fragment, dirs)?,
            BuildStep::Kernel => log.run(step, &build_step::kernel_argv(dirs, jobs))?,
            BuildStep::Schedulers => {
                std::fs::create_dir_all(&dirs.sched)
                    .map_err(|e| KernelError::io("create", &dirs.sched, e))?;
                log.run(step, &build_step::schedulers_argv(dirs, jobs))?
            }
            BuildStep::Install => assemble(log, dirs)?,
        }
    }
    Ok(())
}

fn extract(
    log: &mut StepLog<'_>,
    source: &KernelSource,
    dirs: &BuildDirs,
) -> Result<(), KernelError> {
    let KernelSource::Tarball(tarball) = source else {
        return Ok(());
    };
    std::fs::create_dir_all(&dirs.src).map_err(|e| KernelError::io("create", &dirs.src, e))?;
    log.run(
        BuildStep::Extract,
        &build_step::extract_argv(tarball, &dirs.src),
    )
    .map_err(|e| match e {
        KernelError::StepFailed { tail, .. } => KernelError::CorruptTarball {
            path: tarball.clone(),
            detail: tail
                .lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("tar failed")
                .trim()
                .to_string(),
        },
        other => other,
    })
}

fn configure(
    log: &mut StepLog<'_>,
    fragment: &Fragment,
    dirs: &BuildDirs,
) -> Result<(), KernelError> {
    log.run(BuildStep::Configure, &build_step::base_config_argv(dirs))?;
    let config = dirs.kbuild.join(".config");
    let mut text =
        std::fs::read_to_string(&config).map_err(|e| KernelError::io("read", &config, e))?;
    text.push_str(fragment.text());
    std::fs::write(&config, text).map_err(|e| KernelError::io("write", &config, e))?;
    log.run(BuildStep::Configure, &build_step::olddefconfig_argv(dirs))?;
    let done = std::fs::read_to_string(&config).map_err(|e| KernelError::io("read", &config, e))?;
    let missing = fragment.unmet_in(&done);
    for m in &missing {
        log.line(&format!("ktstr: required option not set: {m}"));
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(KernelError::MissingOptions { missing })
    }
}

/// Moves the build's outputs into the entry directory (a rename: everything is on one file system).
fn assemble(log: &mut StepLog<'_>, dirs: &BuildDirs) -> Result<(), KernelError> {
    let sched = dirs.entry.join(SCHED_DIR);
    std::fs::create_dir_all(&sched).map_err(|e| KernelError::io("create", &sched, e))?;
    for (from, to) in build_step::artifacts(dirs) {
        if !from.is_file() {
            return Err(log.failure(
                &format!(
                    "{}: {} was not produced",
                    BuildStep::Install,
                    from.display()
                ),
                "missing output".into(),
            ));
        }
        std::fs::rename(&from, &to).map_err(|e| KernelError::io("move", &from, e))?;
    }
    Ok(())
}
