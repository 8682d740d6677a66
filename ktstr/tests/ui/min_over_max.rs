use ktstr::prelude::*;

#[ktstr_test(min_llcs = 4, max_llcs = 2)]
fn impossible(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(ctx, vec![CgroupDef::named("cg_0")])?)
}

ktstr::main!();
