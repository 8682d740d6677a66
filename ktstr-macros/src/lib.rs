//! `#[ktstr_test(...)]`: declares a VM test on an ordinary function and registers it, so a test binary's
//! `ktstr::main!()` finds every one without a list. Mistakes in the attribute are compile errors pointing
//! at it. Parsing lives in `attrs`, code generation in `emit`.

mod attrs;
mod emit;
mod topology;

use proc_macro::TokenStream;

/// Declares `fn name(ctx: &Ctx) -> Result<AssertResult>` a VM test. See `ktstr::ktstr_test` for the
/// attributes.
#[proc_macro_attribute]
pub fn ktstr_test(args: TokenStream, item: TokenStream) -> TokenStream {
    let func = syn::parse_macro_input!(item as syn::ItemFn);
    match attrs::TestAttrs::parse(args.into()) {
        Ok(attrs) => emit::emit(&attrs, &func).into(),
        Err(e) => {
            let mut out = e.to_compile_error();
            out.extend(quote::quote!(#func));
            out.into()
        }
    }
}
