//! The code a `#[ktstr_test]` becomes: the function unchanged, a builder of its `VmTest`, and that
//! builder's entry in ktstr's registry.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType};

use crate::attrs::{Bounds, TestAttrs, Threshold, BOUNDS};

pub(crate) fn emit(attrs: &TestAttrs, func: &ItemFn) -> TokenStream {
    if let Err(e) = check_signature(func) {
        let mut out = e.to_compile_error();
        out.extend(quote!(#func));
        return out;
    }
    let name = &func.sig.ident;
    let name_str = name.to_string();
    let builder = format_ident!("__ktstr_test_{}", name);
    let entry = format_ident!("__KTSTR_TEST_{}", name_str.to_uppercase());
    let calls = builder_calls(attrs);
    let test_fn = quote_spanned! {func.sig.span()=> {
        let test: ::ktstr::scenario::ScenarioFn = #name;
        test
    }};
    quote! {
        #func

        #[doc(hidden)]
        fn #builder() -> ::ktstr::harness::VmTest {
            ::ktstr::harness::VmTest::new(#name_str, #test_fn) #calls
        }

        #[doc(hidden)]
        #[::ktstr::__private::linkme::distributed_slice(::ktstr::__private::KTSTR_TESTS)]
        #[linkme(crate = ::ktstr::__private::linkme)]
        static #entry: fn() -> ::ktstr::harness::VmTest = #builder;
    }
}

/// `fn name(ctx: &Ctx) -> Result<AssertResult>`: one argument, a return type, nothing async or generic.
fn check_signature(func: &ItemFn) -> syn::Result<()> {
    let sig = &func.sig;
    let wrong = |span: proc_macro2::Span| {
        syn::Error::new(
            span,
            "a #[ktstr_test] function is `fn name(ctx: &Ctx) -> Result<AssertResult>`",
        )
    };
    if sig.asyncness.is_some() || !sig.generics.params.is_empty() || sig.variadic.is_some() {
        return Err(wrong(sig.span()));
    }
    if sig.inputs.len() != 1 || !matches!(sig.inputs.first(), Some(FnArg::Typed(_))) {
        let at = match sig.inputs.is_empty() {
            true => sig.ident.span(),
            false => sig.inputs.span(),
        };
        return Err(wrong(at));
    }
    if matches!(sig.output, ReturnType::Default) {
        return Err(wrong(sig.span()));
    }
    Ok(())
}

/// `.topology(..) .scheduler(..) ...` for every attribute given.
fn builder_calls(attrs: &TestAttrs) -> TokenStream {
    [
        trial_calls(attrs),
        verdict_calls(attrs),
        variant_calls(attrs),
    ]
    .into_iter()
    .collect()
}

/// What one trial boots and runs: topology, scheduler, durations, sizes, sysctls.
fn trial_calls(attrs: &TestAttrs) -> TokenStream {
    let mut calls = TokenStream::new();
    if let Some((n, l, c, t)) = attrs.topology {
        let text = format!("{n}n{l}l{c}c{t}t");
        calls.extend(quote! {
            .topology(#text.parse().expect("checked by #[ktstr_test]"))
        });
    }
    match (&attrs.scheduler, attrs.extra_sched_args.is_empty()) {
        (Some(sched), true) => calls.extend(quote!(.scheduler(#sched))),
        (Some(sched), false) => {
            let args = &attrs.extra_sched_args;
            calls.extend(quote! {
                .scheduler(#sched.args([#(#args),*]).expect("scheduler arguments"))
            });
        }
        (None, _) => {}
    }
    if let Some(ms) = attrs.duration_ms {
        calls.extend(quote!(.duration(::std::time::Duration::from_millis(#ms))));
    }
    if let Some(n) = attrs.workers_per_cgroup {
        let n = n as usize;
        calls.extend(quote!(.workers_per_cgroup(#n)));
    }
    if let Some(mb) = attrs.memory_mb {
        let mb = mb as u32;
        calls.extend(quote!(.memory_mb(#mb)));
    }
    if let Some(s) = attrs.timeout_s {
        calls.extend(quote!(.timeout(::std::time::Duration::from_secs(#s))));
    }
    for (key, value) in &attrs.sysctls {
        calls.extend(quote!(.push_sysctl(#key, #value)));
    }
    calls
}

/// How the trial is judged: the expected outcome and the checks' thresholds.
fn verdict_calls(attrs: &TestAttrs) -> TokenStream {
    let mut calls = TokenStream::new();
    if let Some(kind) = &attrs.expect {
        calls.extend(quote!(.expect(::ktstr::outcome::OutcomeKind::#kind)));
    }
    if let Some(reason) = &attrs.expect_reason {
        calls.extend(quote!(.expect_reason(#reason)));
    }
    if let Some(kind) = &attrs.expect_detail {
        calls.extend(quote!(.expect_detail(::ktstr::assert::DetailKind::#kind)));
    }
    calls.extend(assert_call(&attrs.thresholds));
    calls
}

/// Which runs the test gets: flag profile, host or VM, gauntlet variants and their bounds, repeats.
fn variant_calls(attrs: &TestAttrs) -> TokenStream {
    let mut calls = TokenStream::new();
    if let Some(profile) = &attrs.profile {
        calls.extend(quote!(.profile(#profile)));
    }
    if attrs.host_only {
        calls.extend(quote!(.host_only()));
    }
    if attrs.gauntlet {
        calls.extend(quote!(.gauntlet()));
    }
    if let Some(n) = attrs.repeat {
        let n = n as u32;
        calls.extend(quote!(.repeat(#n)));
    }
    if !attrs.required_flags.is_empty() {
        let flags = &attrs.required_flags;
        calls.extend(quote!(.required_flags([#(#flags),*])));
    }
    if !attrs.excluded_flags.is_empty() {
        let flags = &attrs.excluded_flags;
        calls.extend(quote!(.excluded_flags([#(#flags),*])));
    }
    calls.extend(constraints_call(&attrs.bounds));
    calls
}

/// `.constraints(..)` when any bound is given.
pub(crate) fn constraints_call(bounds: &Bounds) -> TokenStream {
    if bounds.is_empty() {
        return TokenStream::new();
    }
    let bounds = constraints(bounds);
    quote!(.constraints(#bounds))
}

/// `.assert(..)` layering the thresholds given over no overrides, when any is given.
pub(crate) fn assert_call(thresholds: &[Threshold]) -> TokenStream {
    if thresholds.is_empty() {
        return TokenStream::new();
    }
    let layers = thresholds.iter().map(threshold);
    quote!(.assert(::ktstr::assert::Assert::NO_OVERRIDES #(#layers)*))
}

/// A `TopologyConstraints` literal of the bounds given.
fn constraints(bounds: &Bounds) -> TokenStream {
    let fields = BOUNDS
        .iter()
        .zip(&bounds.values)
        .filter_map(|(name, value)| value.map(|(n, _)| (format_ident!("{}", name), n)))
        .map(|(field, n)| quote!(#field: ::core::option::Option::Some(#n),));
    let smt = bounds.requires_smt;
    quote! {
        ::ktstr::sched::TopologyConstraints {
            #(#fields)*
            requires_smt: #smt,
            ..::ktstr::sched::TopologyConstraints::NONE
        }
    }
}

/// One threshold as a call on `Assert`.
fn threshold(t: &Threshold) -> TokenStream {
    match t {
        Threshold::Flag(key, on) => {
            let method = match (key.to_string().as_str(), on) {
                ("not_starved", true) => "check_not_starved",
                ("not_starved", false) => "no_starvation_check",
                (_, true) => "check_isolation",
                (_, false) => "no_isolation_check",
            };
            let method = format_ident!("{}", method, span = key.span());
            quote!(.#method())
        }
        Threshold::Int(key, n) => quote!(.#key(#n)),
        Threshold::Float(key, x) => quote!(.#key(#x)),
    }
}
