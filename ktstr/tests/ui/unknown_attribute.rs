use ktstr::prelude::*;

#[ktstr_test(max_spread_pc = 20.0)]
fn typo(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(ctx, vec![CgroupDef::named("cg_0")])?)
}

ktstr::main!();
