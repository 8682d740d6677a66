use ktstr::prelude::*;

#[ktstr_test(max_spread_pct = 150.0, workers_per_cgroup = 0)]
fn too_wide(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(ctx, vec![CgroupDef::named("cg_0")])?)
}

ktstr::main!();
