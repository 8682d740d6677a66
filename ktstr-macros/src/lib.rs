//! `#[ktstr_test(...)]`: declares a VM test on an ordinary function and registers it, so a test binary's
//! `ktstr::main!()` finds every one without a list; `#[derive(Scheduler)]` declares a scheduler from an
//! enum of its flags. Mistakes in either are compile errors pointing at the attribute at fault. Parsing
//! lives in `attrs`, code generation in `emit`, the derive in `scheduler`.

mod attrs;
mod emit;
mod scheduler;
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

/// Declares a scheduler from an enum of its flags. See `ktstr::sched::Scheduler` and docs/registration.md.
#[proc_macro_derive(Scheduler, attributes(scheduler, flag))]
pub fn derive_scheduler(item: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(item as syn::DeriveInput);
    scheduler::derive(&input)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}
