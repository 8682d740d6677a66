use ktstr::prelude::*;

#[ktstr_test(topology = "3n2l1c1t")]
fn uneven(ctx: &Ctx) -> Result<AssertResult> {
    Ok(execute_defs(ctx, vec![CgroupDef::named("cg_0")])?)
}

ktstr::main!();
