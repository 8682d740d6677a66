use ktstr::prelude::*;

#[ktstr_test(host_only = true, scheduler = ktstr::schedulers::SCX_QMAP)]
fn on_host(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(ctx, vec![CgroupDef::named("cg_0")])?)
}

ktstr::main!();
