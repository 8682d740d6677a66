//! `#[derive(Scheduler)]` on an enum whose unit variants are a scheduler's flags: the enum's
//! `#[scheduler(...)]` attribute declares the binary and what it needs, each variant's `#[flag(...)]` the
//! arguments it adds and the flags it requires or excludes. The derive emits the flag names as
//! constants, the flag list, and one `const` `ktstr::sched::Scheduler` named after the enum.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::{Data, DeriveInput, Expr, Fields, Ident, LitInt, LitStr, Token};

use crate::attrs::{self, Bounds, Threshold};
use crate::emit;

/// What `#[scheduler(...)]` takes besides the thresholds and topology bounds.
const KNOWN: &[&str] = &[
    "binary",
    "name",
    "sched_args",
    "sysctls",
    "kargs",
    "topology",
];

#[derive(Default)]
struct SchedAttrs {
    binary: Option<LitStr>,
    name: Option<LitStr>,
    sched_args: Vec<LitStr>,
    sysctls: Vec<(String, String)>,
    kargs: Vec<LitStr>,
    topology: Option<(u32, u32, u32, u32)>,
    thresholds: Vec<Threshold>,
    bounds: Bounds,
}

struct Flag {
    variant: Ident,
    name: String,
    args: Vec<LitStr>,
    requires: Vec<Ident>,
    excludes: Vec<Ident>,
}

pub(crate) fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[derive(Scheduler)] goes on an enum whose unit variants are the scheduler's flags",
        ));
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "a scheduler's flag enum takes no generics",
        ));
    }
    let sched = sched_attrs(input)?;
    let binary = sched.binary.clone().ok_or_else(|| {
        syn::Error::new(
            Span::call_site(),
            "#[derive(Scheduler)] needs #[scheduler(binary = \"...\")]: an in-tree name (scx_qmap), a \
             path, or a binary name found installed, in a cargo target dir or on PATH",
        )
    })?;
    let mut flags = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(
                variant,
                "a flag is a unit variant; put its arguments in #[flag(args = [...])]",
            ));
        }
        flags.push(flag(variant)?);
    }
    if flags.len() > 16 {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "a scheduler declares at most 16 flags; its profiles are every valid subset",
        ));
    }
    for f in &flags {
        for other in f.requires.iter().chain(&f.excludes) {
            if !flags.iter().any(|g| g.variant == *other) {
                let names: Vec<String> = flags.iter().map(|g| g.variant.to_string()).collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                return Err(attrs::unknown_in(other, &names, "a flag of this enum"));
            }
            if *other == f.variant {
                return Err(syn::Error::new_spanned(
                    other,
                    "a flag cannot require or exclude itself",
                ));
            }
        }
    }
    Ok(emit_derive(input, &binary, &sched, &flags))
}

fn sched_attrs(input: &DeriveInput) -> syn::Result<SchedAttrs> {
    let mut out = SchedAttrs::default();
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("scheduler"))
    {
        attr.parse_nested_meta(|meta| take(&mut out, meta))?;
    }
    out.bounds.check()?;
    Ok(out)
}

fn take(out: &mut SchedAttrs, meta: ParseNestedMeta) -> syn::Result<()> {
    let key = meta
        .path
        .get_ident()
        .cloned()
        .ok_or_else(|| meta.error("expected a plain attribute name"))?;
    let name = key.to_string();
    if name == "topology" && meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        let dims = Punctuated::<LitInt, Token![,]>::parse_terminated(&content)?;
        let values: Vec<u32> = dims
            .iter()
            .map(|d| d.base10_parse::<u32>())
            .collect::<syn::Result<_>>()?;
        let [n, l, c, t] = values[..] else {
            return Err(syn::Error::new_spanned(
                &dims,
                "topology(NUMA nodes, LLCs, cores per LLC, threads per core) takes four numbers",
            ));
        };
        let text = format!("{n}n{l}l{c}c{t}t");
        out.topology =
            Some(crate::topology::parse(&text).map_err(|why| syn::Error::new_spanned(&dims, why))?);
        return Ok(());
    }
    if name == "requires_smt" && !meta.input.peek(Token![=]) {
        out.bounds.requires_smt = true;
        return Ok(());
    }
    let value: Expr = meta.value()?.parse()?;
    match name.as_str() {
        "binary" => out.binary = Some(attrs::string(&value)?),
        "name" => out.name = Some(attrs::string(&value)?),
        "sched_args" => out.sched_args = attrs::strings(&value)?,
        "kargs" => out.kargs = attrs::strings(&value)?,
        "sysctls" => out.sysctls = attrs::sysctls(&value)?,
        "topology" => {
            let text = attrs::string(&value)?;
            out.topology = Some(
                crate::topology::parse(&text.value())
                    .map_err(|why| syn::Error::new_spanned(&text, why))?,
            );
        }
        _ => {
            if let Some(t) = attrs::threshold(&key, &value)? {
                out.thresholds.push(t);
            } else if !out.bounds.take(&key, &value)? {
                return Err(attrs::unknown(
                    &key,
                    &attrs::with_shared(KNOWN),
                    "#[scheduler]",
                ));
            }
        }
    }
    Ok(())
}

fn flag(variant: &syn::Variant) -> syn::Result<Flag> {
    let mut flag = Flag {
        variant: variant.ident.clone(),
        name: kebab(&variant.ident.to_string()),
        args: Vec::new(),
        requires: Vec::new(),
        excludes: Vec::new(),
    };
    for attr in variant.attrs.iter().filter(|a| a.path().is_ident("flag")) {
        attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(Ident::to_string)
                .unwrap_or_default();
            let value: Expr = meta.value()?.parse()?;
            match key.as_str() {
                "args" => flag.args = attrs::strings(&value)?,
                "requires" => flag.requires = idents(&value)?,
                "excludes" => flag.excludes = idents(&value)?,
                _ => {
                    return Err(syn::Error::new_spanned(
                        &meta.path,
                        format!(
                            "unknown flag attribute `{key}`; #[flag] takes args, requires, excludes"
                        ),
                    ))
                }
            }
            Ok(())
        })?;
    }
    Ok(flag)
}

fn idents(value: &Expr) -> syn::Result<Vec<Ident>> {
    let wrong = || syn::Error::new_spanned(value, "expected a list of variants, like [Llc, Steal]");
    let Expr::Array(array) = value else {
        return Err(wrong());
    };
    array
        .elems
        .iter()
        .map(|e| match e {
            Expr::Path(p) => p.path.get_ident().cloned().ok_or_else(wrong),
            _ => Err(wrong()),
        })
        .collect()
}

/// `RejectPin` → `reject-pin`, `LLCSteal` → `llc-steal`, `Numa2` → `numa2`.
pub(crate) fn kebab(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('-');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// `QmapFlags` → `QMAP`, `ScxBpflandFlag` → `SCX_BPFLAND`.
fn const_name(enum_name: &str) -> String {
    let stem = enum_name
        .strip_suffix("Flags")
        .or_else(|| enum_name.strip_suffix("Flag"))
        .filter(|s| !s.is_empty())
        .unwrap_or(enum_name);
    kebab(stem).replace('-', "_").to_uppercase()
}

fn emit_derive(
    input: &DeriveInput,
    binary: &LitStr,
    sched: &SchedAttrs,
    flags: &[Flag],
) -> TokenStream {
    let vis = &input.vis;
    let ty = &input.ident;
    let const_ident = format_ident!("{}", const_name(&ty.to_string()), span = ty.span());
    let flag_items = flag_items(ty, flags);
    let calls = scheduler_calls(sched);
    let doc = format!("The scheduler `{}` declares, with its flags.", ty);
    quote! {
        #flag_items

        #[doc = #doc]
        #vis const #const_ident: ::ktstr::sched::Scheduler =
            ::ktstr::sched::Scheduler::new(#binary).flags(#ty::FLAGS) #calls;
    }
}

/// The enum's flag table: a name const per flag, `FLAGS` and `flag_name`.
fn flag_items(ty: &Ident, flags: &[Flag]) -> TokenStream {
    let name_consts = flags.iter().map(|f| {
        let c = format_ident!(
            "{}",
            f.name.replace('-', "_").to_uppercase(),
            span = f.variant.span()
        );
        let name = &f.name;
        let doc = format!("The flag name of `{}::{}`.", ty, f.variant);
        quote!(#[doc = #doc] pub const #c: &'static str = #name;)
    });
    let decls = flags.iter().map(|f| {
        let name = &f.name;
        let args = &f.args;
        let requires = flag_names(flags, &f.requires);
        let excludes = flag_names(flags, &f.excludes);
        quote! {
            ::ktstr::sched::FlagDecl::new(#name)
                .args(&[#(#args),*])
                .requires(&[#(#requires),*])
                .excludes(&[#(#excludes),*])
        }
    });
    let arms = flags.iter().map(|f| {
        let v = &f.variant;
        let name = &f.name;
        quote!(#ty::#v => #name,)
    });
    quote! {
        impl #ty {
            #(#name_consts)*

            /// Every flag, in declaration order.
            pub const FLAGS: &'static [::ktstr::sched::FlagDecl] = &[#(#decls),*];

            /// This flag's kebab-case name, as profiles spell it.
            pub const fn flag_name(self) -> &'static str {
                match self { #(#arms)* }
            }
        }
    }
}

/// The flag names of `variants`.
fn flag_names(flags: &[Flag], variants: &[Ident]) -> Vec<String> {
    variants
        .iter()
        .map(|v| {
            flags
                .iter()
                .find(|f| f.variant == *v)
                .map(|f| f.name.clone())
                .unwrap_or_default()
        })
        .collect()
}

/// `.named(..) .sched_args(..) ...` for every `#[scheduler(..)]` setting given.
fn scheduler_calls(sched: &SchedAttrs) -> TokenStream {
    let mut calls = TokenStream::new();
    if let Some(name) = &sched.name {
        calls.extend(quote!(.named(#name)));
    }
    if !sched.sched_args.is_empty() {
        let args = &sched.sched_args;
        calls.extend(quote!(.sched_args(&[#(#args),*])));
    }
    if !sched.sysctls.is_empty() {
        let pairs = sched
            .sysctls
            .iter()
            .map(|(k, v)| quote!(::ktstr::sched::Sysctl::new(#k, #v)));
        calls.extend(quote!(.sysctls(&[#(#pairs),*])));
    }
    if !sched.kargs.is_empty() {
        let kargs = &sched.kargs;
        calls.extend(quote!(.kargs(&[#(#kargs),*])));
    }
    if let Some((n, l, c, t)) = sched.topology {
        calls.extend(quote!(.topology(#n, #l, #c, #t)));
    }
    calls.extend(emit::constraints_call(&sched.bounds));
    calls.extend(emit::assert_call(&sched.thresholds));
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_names_become_kebab_case_acronyms_included() {
        assert_eq!(kebab("RejectPin"), "reject-pin");
        assert_eq!(kebab("LLCSteal"), "llc-steal");
        assert_eq!(kebab("Llc"), "llc");
        assert_eq!(kebab("Numa2Node"), "numa2-node");
        assert_eq!(kebab("NoCTRL"), "no-ctrl");
    }

    #[test]
    fn the_const_is_the_enum_name_without_flags_in_screaming_snake_case() {
        assert_eq!(const_name("QmapFlags"), "QMAP");
        assert_eq!(const_name("ScxBpflandFlag"), "SCX_BPFLAND");
        assert_eq!(const_name("Flags"), "FLAGS");
        assert_eq!(const_name("MySched"), "MY_SCHED");
    }
}
