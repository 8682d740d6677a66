use ktstr::prelude::*;

#[ktstr_test]
fn no_ctx() -> Result<AssertResult> {
    Ok(AssertResult::pass())
}

#[ktstr_test]
fn wrong_return(_ctx: &Ctx) -> u32 {
    0
}

ktstr::main!();
