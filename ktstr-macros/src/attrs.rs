//! `TestAttrs`: the `#[ktstr_test(...)]` arguments, parsed and checked; every mistake is a `syn::Error`
//! spanned on the argument at fault.

use proc_macro2::{Span, TokenStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprArray, ExprLit, Ident, Lit, LitStr, MetaNameValue, Token};

use crate::topology;

/// The attributes only `#[ktstr_test]` takes; it takes the check thresholds and topology bounds too.
const TEST_ONLY: &[&str] = &[
    "topology",
    "numa_nodes",
    "llcs",
    "cores",
    "threads",
    "scheduler",
    "profile",
    "extra_sched_args",
    "duration_s",
    "workers_per_cgroup",
    "memory_mb",
    "timeout_s",
    "sysctls",
    "host_only",
    "gauntlet",
    "repeat",
    "required_flags",
    "excluded_flags",
    "expect",
    "expect_reason",
    "expect_detail",
];

/// `own`, then every check threshold and topology bound: what an attribute that takes both accepts.
pub(crate) fn with_shared(own: &[&'static str]) -> Vec<&'static str> {
    own.iter()
        .chain(&THRESHOLDS)
        .chain(&BOUNDS)
        .chain(&["requires_smt"])
        .copied()
        .collect()
}

/// The topology bounds `#[ktstr_test]` and `#[scheduler]` take, in `TopologyConstraints` field order.
pub(crate) const BOUNDS: [&str; 6] = [
    "min_cpus",
    "max_cpus",
    "min_llcs",
    "max_llcs",
    "min_numa_nodes",
    "max_numa_nodes",
];

/// Most workers one group may fork (the library's `MAX_WORKERS`).
const MAX_WORKERS: u64 = 512;

/// A check threshold and its value, already range-checked.
pub(crate) enum Threshold {
    Flag(Ident, bool),
    Int(Ident, u64),
    Float(Ident, f64),
}

#[derive(Default)]
pub(crate) struct TestAttrs {
    /// `(nodes, llcs, cores, threads)`.
    pub topology: Option<(u32, u32, u32, u32)>,
    pub scheduler: Option<Expr>,
    pub extra_sched_args: Vec<LitStr>,
    pub duration_ms: Option<u64>,
    pub workers_per_cgroup: Option<u64>,
    pub memory_mb: Option<u64>,
    pub timeout_s: Option<u64>,
    pub sysctls: Vec<(String, String)>,
    pub expect: Option<Ident>,
    pub expect_reason: Option<LitStr>,
    pub expect_detail: Option<Ident>,
    pub thresholds: Vec<Threshold>,
    pub profile: Option<LitStr>,
    pub host_only: bool,
    pub gauntlet: bool,
    pub repeat: Option<u64>,
    pub required_flags: Vec<LitStr>,
    pub excluded_flags: Vec<LitStr>,
    pub bounds: Bounds,
}

/// Topology bounds as given: `BOUNDS` order, and `requires_smt`.
#[derive(Default)]
pub(crate) struct Bounds {
    pub values: [Option<(u32, Span)>; 6],
    pub requires_smt: bool,
}

impl Bounds {
    /// Takes `key = value` when `key` is a bound; `Ok(false)` when it is not one.
    pub(crate) fn take(&mut self, key: &Ident, value: &Expr) -> syn::Result<bool> {
        let name = key.to_string();
        if name == "requires_smt" {
            self.requires_smt = boolean(value)?;
            return Ok(true);
        }
        let Some(index) = BOUNDS.iter().position(|b| *b == name) else {
            return Ok(false);
        };
        self.values[index] = Some((int_in(value, 1, 65_536)? as u32, value.span()));
        Ok(true)
    }

    /// A minimum over its maximum is an error on the minimum.
    pub(crate) fn check(&self) -> syn::Result<()> {
        for pair in self.values.chunks(2) {
            if let [Some((min, span)), Some((max, _))] = pair {
                if min > max {
                    return Err(syn::Error::new(
                        *span,
                        format!(
                            "minimum {min} is over the maximum {max}; no topology can satisfy both"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn is_empty(&self) -> bool {
        !self.requires_smt && self.values.iter().all(Option::is_none)
    }
}

impl TestAttrs {
    pub(crate) fn parse(args: TokenStream) -> syn::Result<TestAttrs> {
        let parser = Punctuated::<MetaNameValue, Token![,]>::parse_terminated;
        let pairs = syn::parse::Parser::parse2(parser, args)?;
        let mut attrs = TestAttrs::default();
        let mut dims: [Option<u32>; 4] = [None; 4];
        let mut shape_span = None;
        for pair in pairs {
            let key = pair.path.get_ident().cloned().ok_or_else(|| {
                syn::Error::new_spanned(&pair.path, "expected a plain attribute name")
            })?;
            attrs.take(&key, &pair.value, &mut dims, &mut shape_span)?;
        }
        attrs.bounds.check()?;
        if attrs.host_only {
            if let Some(span) = shape_span {
                return Err(syn::Error::new(span, "a host_only test runs on this host's own topology; drop `topology` or `host_only`"));
            }
            if let Some(sched) = &attrs.scheduler {
                return Err(syn::Error::new_spanned(sched, "a host_only test runs under the host's own scheduler; drop `scheduler` or `host_only`"));
            }
            if attrs.gauntlet {
                return Err(syn::Error::new(Span::call_site(), "a host_only test runs on this host only, so it has no gauntlet; drop `gauntlet` or `host_only`"));
            }
        }
        if dims.iter().any(Option::is_some) {
            if let Some(span) = shape_span {
                return Err(syn::Error::new(
                    span,
                    "give either `topology = \"XnYlZcWt\"` or numa_nodes/llcs/cores/threads, not both",
                ));
            }
            let [n, l, c, t] = dims;
            let (n, l, c, t) = (
                n.unwrap_or(1),
                l.unwrap_or(1),
                c.unwrap_or(2),
                t.unwrap_or(1),
            );
            if l % n != 0 {
                return Err(syn::Error::new(
                    Span::call_site(),
                    format!("{l} LLCs cannot be split evenly over {n} NUMA nodes; use a multiple of {n} LLCs"),
                ));
            }
            attrs.topology = Some((n, l, c, t));
        }
        Ok(attrs)
    }

    fn take(
        &mut self,
        key: &Ident,
        value: &Expr,
        dims: &mut [Option<u32>; 4],
        shape_span: &mut Option<Span>,
    ) -> syn::Result<()> {
        let name = key.to_string();
        match name.as_str() {
            "topology" => {
                let text = string(value)?;
                let shape = topology::parse(&text.value())
                    .map_err(|why| syn::Error::new_spanned(&text, why))?;
                self.topology = Some(shape);
                *shape_span = Some(text.span());
            }
            "numa_nodes" | "llcs" | "cores" | "threads" => {
                let index = ["numa_nodes", "llcs", "cores", "threads"]
                    .iter()
                    .position(|d| *d == name)
                    .unwrap_or(0);
                let n = int_in(value, 1, 256)?;
                dims[index] = Some(n as u32);
            }
            "scheduler" => self.scheduler = Some(value.clone()),
            "extra_sched_args" => self.extra_sched_args = strings(value)?,
            "duration_s" => {
                let secs = number_in(value, 0.001, 3600.0)?;
                self.duration_ms = Some((secs * 1000.0).round() as u64);
            }
            "workers_per_cgroup" => self.workers_per_cgroup = Some(int_in(value, 1, MAX_WORKERS)?),
            "memory_mb" => self.memory_mb = Some(int_in(value, 64, 1 << 20)?),
            "timeout_s" => self.timeout_s = Some(int_in(value, 1, 86_400)?),
            "sysctls" => self.sysctls = sysctls(value)?,
            "profile" => self.profile = Some(string(value)?),
            "host_only" => self.host_only = boolean(value)?,
            "gauntlet" => self.gauntlet = boolean(value)?,
            "repeat" => self.repeat = Some(int_in(value, 1, 1000)?),
            "required_flags" => self.required_flags = strings(value)?,
            "excluded_flags" => self.excluded_flags = strings(value)?,
            "expect" => self.expect = Some(ident(value)?),
            "expect_reason" => self.expect_reason = Some(string(value)?),
            "expect_detail" => self.expect_detail = Some(ident(value)?),
            _ => {
                if let Some(t) = threshold(key, value)? {
                    self.thresholds.push(t);
                } else if !self.bounds.take(key, value)? {
                    return Err(unknown(key, &with_shared(TEST_ONLY), "#[ktstr_test]"));
                }
            }
        }
        Ok(())
    }
}

/// `key = value` as a check threshold, range-checked; `Ok(None)` when `key` is not one.
pub(crate) fn threshold(key: &Ident, value: &Expr) -> syn::Result<Option<Threshold>> {
    Ok(Some(match key.to_string().as_str() {
        "not_starved" | "isolation" => Threshold::Flag(key.clone(), boolean(value)?),
        "max_gap_ms" | "max_p99_wake_latency_ns" => {
            Threshold::Int(key.clone(), int_in(value, 1, u64::MAX)?)
        }
        "max_spread_pct" => Threshold::Float(key.clone(), number_in(value, 0.0, 100.0)?),
        "max_throughput_cv"
        | "max_wake_latency_cv"
        | "max_migration_ratio"
        | "min_work_rate"
        | "min_iteration_rate" => Threshold::Float(key.clone(), number_in(value, 0.0, f64::MAX)?),
        _ => return Ok(None),
    }))
}

/// The names `threshold` takes.
pub(crate) const THRESHOLDS: [&str; 10] = [
    "not_starved",
    "isolation",
    "max_gap_ms",
    "max_spread_pct",
    "max_throughput_cv",
    "min_work_rate",
    "max_p99_wake_latency_ns",
    "max_wake_latency_cv",
    "min_iteration_rate",
    "max_migration_ratio",
];

/// `["path/below/proc/sys=value", ...]` as pairs.
pub(crate) fn sysctls(value: &Expr) -> syn::Result<Vec<(String, String)>> {
    strings(value)?
        .iter()
        .map(|text| {
            text.value()
                .split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| {
                    syn::Error::new_spanned(
                        text,
                        "a sysctl is written \"path/below/proc/sys=value\", e.g. \"kernel/sched_rt_runtime_us=-1\"",
                    )
                })
        })
        .collect()
}

/// "; did you mean `y`?" when a name of `known` is within three edits of `name`.
fn did_you_mean(name: &str, known: &[&str]) -> Option<String> {
    known
        .iter()
        .map(|k| (strsim::levenshtein(name, k), *k))
        .min()
        .filter(|(d, _)| *d <= 3)
        .map(|(_, k)| format!("; did you mean `{k}`?"))
}

/// "`x` is not NAME; did you mean `y`?" for a name that must be one of `known`.
pub(crate) fn unknown_in(key: &Ident, known: &[&str], what: &str) -> syn::Error {
    let name = key.to_string();
    let hint =
        did_you_mean(&name, known).unwrap_or_else(|| format!("; there are {}", known.join(", ")));
    syn::Error::new_spanned(key, format!("`{name}` is not {what}{hint}"))
}

/// "unknown attribute `x`; did you mean `y`?"
pub(crate) fn unknown(key: &Ident, known: &[&str], what: &str) -> syn::Error {
    let name = key.to_string();
    let hint = did_you_mean(&name, known)
        .unwrap_or_else(|| format!("; {what} takes {}", known.join(", ")));
    syn::Error::new_spanned(key, format!("unknown attribute `{name}`{hint}"))
}

fn lit(value: &Expr) -> Option<&Lit> {
    match value {
        Expr::Lit(ExprLit { lit, .. }) => Some(lit),
        _ => None,
    }
}

pub(crate) fn string(value: &Expr) -> syn::Result<LitStr> {
    match lit(value) {
        Some(Lit::Str(s)) => Ok(s.clone()),
        _ => Err(syn::Error::new_spanned(value, "expected a string literal")),
    }
}

pub(crate) fn strings(value: &Expr) -> syn::Result<Vec<LitStr>> {
    match value {
        Expr::Array(ExprArray { elems, .. }) => elems.iter().map(string).collect(),
        _ => Err(syn::Error::new_spanned(
            value,
            "expected an array of string literals, like [\"-v\"]",
        )),
    }
}

pub(crate) fn boolean(value: &Expr) -> syn::Result<bool> {
    match lit(value) {
        Some(Lit::Bool(b)) => Ok(b.value),
        _ => Err(syn::Error::new_spanned(value, "expected true or false")),
    }
}

fn ident(value: &Expr) -> syn::Result<Ident> {
    match value {
        Expr::Path(p) => p.path.get_ident().cloned().ok_or_else(|| {
            syn::Error::new_spanned(value, "expected a variant name, like ChecksFailed")
        }),
        _ => Err(syn::Error::new_spanned(
            value,
            "expected a variant name, like ChecksFailed",
        )),
    }
}

pub(crate) fn int_in(value: &Expr, min: u64, max: u64) -> syn::Result<u64> {
    let n = match lit(value) {
        Some(Lit::Int(i)) => i.base10_parse::<u64>()?,
        _ => return Err(syn::Error::new_spanned(value, "expected an integer")),
    };
    if n < min || n > max {
        return Err(syn::Error::new_spanned(
            value,
            format!("{n} is out of range; give a value from {min} to {max}"),
        ));
    }
    Ok(n)
}

fn number_in(value: &Expr, min: f64, max: f64) -> syn::Result<f64> {
    let x = match lit(value) {
        Some(Lit::Int(i)) => i.base10_parse::<f64>()?,
        Some(Lit::Float(f)) => f.base10_parse::<f64>()?,
        _ => return Err(syn::Error::new_spanned(value, "expected a number")),
    };
    if !x.is_finite() || x < min || x > max {
        return Err(syn::Error::new_spanned(
            value,
            format!("{x} is out of range; give a value from {min} to {max}"),
        ));
    }
    Ok(x)
}
