//! Two scenarios under scx_qmap, declared once with its flags. `cargo test -- --list` shows each trial as
//! `fn/scheduler/topology/profile`; each boots a VM with the topology the declaration names.

use ktstr::prelude::*;

/// scx_qmap's own switches, from its usage text.
#[derive(Scheduler)]
#[scheduler(binary = "scx_qmap", topology(1, 2, 2, 1))]
pub enum QmapFlags {
    /// `-s SLICE_US`: override the slice duration.
    #[flag(args = ["-s", "5000"])]
    ShortSlice,
    /// `-b COUNT`: dispatch up to COUNT tasks together.
    #[flag(args = ["-b", "8"])]
    Batch,
    /// `-H`: boost nice -20 tasks in SHARED_DSQ, "use with -b".
    #[flag(args = ["-H"], requires = [Batch])]
    BoostNice,
}

/// Two cgroups on disjoint halves of the CPUs: neither may run outside its cpuset, nor starve.
#[ktstr_test(scheduler = QMAP, isolation = true)]
fn disjoint_cgroups(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(
        ctx,
        vec![
            CgroupDef::named("left").with_cpuset(CpusetSpec::disjoint(0, 2)),
            CgroupDef::named("right").with_cpuset(CpusetSpec::disjoint(1, 2)),
        ],
    )?)
}

/// Batched dispatch with priority boosting: three cgroups sharing every CPU keep running without a
/// scheduling gap over 2 s.
#[ktstr_test(scheduler = QMAP, profile = "batch+boost-nice", max_gap_ms = 2000)]
fn batched_shared_cgroups(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(
        ctx,
        vec![
            CgroupDef::named("a"),
            CgroupDef::named("b"),
            CgroupDef::named("c"),
        ],
    )?)
}

/// The gauntlet: every topology preset this host boots × each profile without `short-slice`, as
/// `gauntlet/qmap_gauntlet/<preset>/<profile>`. The variants are listed as ignored: run them with
/// `KTSTR_GAUNTLET=1`, `-- --include-ignored`, or `cargo nextest run --run-ignored all`.
#[ktstr_test(scheduler = QMAP, gauntlet = true, excluded_flags = ["short-slice"])]
fn qmap_gauntlet(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(
        ctx,
        vec![CgroupDef::named("a"), CgroupDef::named("b")],
    )?)
}

ktstr::main!();
