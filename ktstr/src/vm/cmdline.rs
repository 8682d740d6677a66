//! `KernelCmdline`: the guest kernel's command line, validated as it is built, and parsed back in the guest.
//!
//! Keys are printable ASCII without `=`, `"` or spaces. Values are printable ASCII without `"`; a value with a
//! space is written quoted (`key="a b"`), which the kernel's own parser unquotes. Parsing follows the kernel's
//! `next_arg`, so `KernelCmdline::parse(&cmdline.to_string())` gives back the same parameters.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::VmError;

/// Longest command line x86 boots with: `COMMAND_LINE_SIZE` (2048) less the terminating NUL.
pub const MAX_CMDLINE_LEN: usize = 2047;

/// The key carrying the trial spec: base64url (no padding) of its JSON.
pub const TRIAL_KEY: &str = "ktstr.trial";
/// The kernel command line key of a `ktstr shell` guest's request.
pub const SHELL_KEY: &str = "ktstr.shell";

/// One `key` or `key=value` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub key: String,
    pub value: Option<String>,
}

/// A validated kernel command line.
///
/// ```
/// use ktstr::vm::KernelCmdline;
/// let cmdline = KernelCmdline::base().arg("loglevel", "4")?.flag("nokaslr")?;
/// assert_eq!(cmdline.to_string(), "console=ttyS0 panic=-1 rdinit=/init loglevel=4 nokaslr");
/// assert_eq!(KernelCmdline::parse(&cmdline.to_string())?, cmdline);
/// # Ok::<(), ktstr::vm::VmError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelCmdline {
    params: Vec<Param>,
}

impl KernelCmdline {
    /// An empty command line.
    pub fn new() -> KernelCmdline {
        KernelCmdline::default()
    }

    /// `console=ttyS0 panic=-1 rdinit=/init`: console on the first serial port, reboot (so QEMU exits under
    /// `-no-reboot`) at once on panic, and the initramfs's `/init` as PID 1.
    pub fn base() -> KernelCmdline {
        let param = |key: &str, value: &str| Param {
            key: key.into(),
            value: Some(value.into()),
        };
        KernelCmdline {
            params: vec![
                param("console", "ttyS0"),
                param("panic", "-1"),
                param("rdinit", "/init"),
            ],
        }
    }

    /// Appends `key=value`.
    pub fn arg(self, key: &str, value: impl Into<String>) -> Result<KernelCmdline, VmError> {
        self.push(Param {
            key: key.into(),
            value: Some(value.into()),
        })
    }

    /// Appends a bare `key`.
    pub fn flag(self, key: &str) -> Result<KernelCmdline, VmError> {
        self.push(Param {
            key: key.into(),
            value: None,
        })
    }

    /// Appends `ktstr.trial=<base64url of the JSON of trial>`.
    pub fn with_trial(self, trial: &impl Serialize) -> Result<KernelCmdline, VmError> {
        self.with_json(TRIAL_KEY, trial)
    }

    /// Appends `ktstr.shell=<base64url of the JSON of shell>`: the guest runs a shell, not a trial.
    pub fn with_shell(self, shell: &impl Serialize) -> Result<KernelCmdline, VmError> {
        self.with_json(SHELL_KEY, shell)
    }

    fn with_json(self, key: &str, value: &impl Serialize) -> Result<KernelCmdline, VmError> {
        let json = serde_json::to_vec(value).map_err(VmError::TrialEncode)?;
        self.arg(key, URL_SAFE_NO_PAD.encode(json))
    }

    fn push(mut self, param: Param) -> Result<KernelCmdline, VmError> {
        validate(&param)?;
        self.params.push(param);
        let len = self.to_string().len();
        if len > MAX_CMDLINE_LEN {
            return Err(VmError::CmdlineTooLong {
                len,
                max: MAX_CMDLINE_LEN,
            });
        }
        Ok(self)
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The value of the last `key=value` for `key` (later parameters override earlier ones, as in the kernel).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|p| p.key == key)
            .and_then(|p| p.value.as_deref())
    }

    /// Decodes the trial that `with_trial` put on the command line.
    pub fn trial<T: DeserializeOwned>(&self) -> Result<T, VmError> {
        self.json(TRIAL_KEY)
    }

    /// Decodes the shell that `with_shell` put on the command line; `None` when there is none.
    pub fn shell<T: DeserializeOwned>(&self) -> Option<Result<T, VmError>> {
        self.get(SHELL_KEY).map(|_| self.json(SHELL_KEY))
    }

    fn json<T: DeserializeOwned>(&self, key: &'static str) -> Result<T, VmError> {
        let encoded = self.get(key).ok_or(VmError::CmdlineMissingKey { key })?;
        let decode_error = |reason: String| VmError::TrialDecode { key, reason };
        let json = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|e| decode_error(format!("not base64url: {e}")))?;
        serde_json::from_slice(&json).map_err(|e| decode_error(format!("not the trial JSON: {e}")))
    }

    /// Parses command line text (such as `/proc/cmdline`) the way the kernel splits it.
    pub fn parse(text: &str) -> Result<KernelCmdline, VmError> {
        let params = split_params(text)?
            .into_iter()
            .map(|token| unquote(&token))
            .collect::<Result<Vec<_>, _>>()?;
        params.iter().try_for_each(validate)?;
        Ok(KernelCmdline { params })
    }

    /// Reads and parses this guest's `/proc/cmdline`.
    pub fn from_proc() -> Result<KernelCmdline, VmError> {
        let text = std::fs::read_to_string("/proc/cmdline")
            .map_err(|e| VmError::io("read", "/proc/cmdline", e))?;
        KernelCmdline::parse(&text)
    }
}

impl fmt::Display for KernelCmdline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, param) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&param.key)?;
            match &param.value {
                None => {}
                Some(value) if value.contains(' ') => write!(f, "=\"{value}\"")?,
                Some(value) => write!(f, "={value}")?,
            }
        }
        Ok(())
    }
}

fn validate(param: &Param) -> Result<(), VmError> {
    let key_error = |reason| VmError::CmdlineKey {
        key: param.key.clone(),
        reason,
    };
    if param.key.is_empty() {
        return Err(key_error("it is empty"));
    }
    if let Some(c) = param.key.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(key_error(if c.is_whitespace() {
            "it contains whitespace"
        } else {
            "it contains a character that is not printable ASCII"
        }));
    }
    if param.key.contains(['=', '"']) {
        return Err(key_error("it contains '=' or '\"'"));
    }
    let Some(value) = &param.value else {
        return Ok(());
    };
    let value_error = |reason| VmError::CmdlineValue {
        key: param.key.clone(),
        value: value.clone(),
        reason,
    };
    if value.chars().any(|c| !(c == ' ' || c.is_ascii_graphic())) {
        return Err(value_error(
            "only printable ASCII and spaces are allowed (no newlines, tabs or control characters)",
        ));
    }
    if value.contains('"') {
        return Err(value_error("the kernel cannot escape '\"' inside a value"));
    }
    Ok(())
}

/// Whitespace as the kernel's `isspace` sees it.
fn is_kernel_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Splits at whitespace outside double quotes; an unclosed quote is an error.
fn split_params(text: &str) -> Result<Vec<String>, VmError> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut in_quote = false;
    for c in text.chars() {
        if is_kernel_space(c) && !in_quote {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            continue;
        }
        in_quote ^= c == '"';
        current.push(c);
    }
    if in_quote {
        return Err(VmError::CmdlineParse {
            text: text.to_string(),
            reason: "a double quote is never closed",
        });
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    Ok(tokens)
}

/// Splits one token at its first `=` and strips quotes where the kernel does: around the whole token, or
/// around the value.
fn unquote(token: &str) -> Result<Param, VmError> {
    let (quoted, body) = match token.strip_prefix('"') {
        Some(rest) => (true, rest),
        None => (false, token),
    };
    let strip_end = |s: &str| s.strip_suffix('"').map(str::to_string);
    let param = match body.split_once('=') {
        None if quoted => Param {
            key: strip_end(body).unwrap_or_else(|| body.into()),
            value: None,
        },
        None => Param {
            key: body.into(),
            value: None,
        },
        Some((key, value)) => {
            let value = match value.strip_prefix('"') {
                Some(inner) => strip_end(inner).unwrap_or_else(|| inner.into()),
                None if quoted => strip_end(value).unwrap_or_else(|| value.into()),
                None => value.into(),
            };
            Param {
                key: key.into(),
                value: Some(value),
            }
        }
    };
    Ok(param)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Parameters as `(key, value)` pairs.
    type Pairs<'a> = &'a [(&'a str, Option<&'a str>)];

    fn render(params: Pairs) -> Result<String, VmError> {
        let mut cmdline = KernelCmdline::new();
        for (key, value) in params {
            cmdline = match value {
                Some(value) => cmdline.arg(key, *value)?,
                None => cmdline.flag(key)?,
            };
        }
        Ok(cmdline.to_string())
    }

    #[test]
    fn renders_params() {
        let cases: &[(Pairs, &str)] = &[
            (&[], ""),
            (&[("nokaslr", None)], "nokaslr"),
            (&[("a", Some("1")), ("b", None)], "a=1 b"),
            (&[("empty", Some(""))], "empty="),
            (&[("msg", Some("two words"))], "msg=\"two words\""),
            (&[("x.y", Some("a=b"))], "x.y=a=b"),
        ];
        for (params, want) in cases {
            assert_eq!(render(params).expect("valid"), *want);
        }
        assert_eq!(
            KernelCmdline::base().to_string(),
            "console=ttyS0 panic=-1 rdinit=/init"
        );
    }

    #[test]
    fn bad_keys_and_values_are_rejected() {
        let keys = ["", "a b", "a=b", "a\"b", "a\nb", "é"];
        for key in keys {
            let err = KernelCmdline::new().flag(key).expect_err(key);
            assert!(
                matches!(err, VmError::CmdlineKey { .. }),
                "{key:?}: {err:?}"
            );
        }
        let values = ["a\nb", "a\tb", "say \"hi\"", "\u{0}", "naïve"];
        for value in values {
            let err = KernelCmdline::new().arg("k", value).expect_err(value);
            assert!(
                matches!(err, VmError::CmdlineValue { .. }),
                "{value:?}: {err:?}"
            );
        }
    }

    #[test]
    fn length_limit_counts_separators() {
        let fits = "x".repeat(MAX_CMDLINE_LEN - 2);
        let cmdline = KernelCmdline::new().arg("k", fits).expect("2047 bytes fit");
        assert_eq!(cmdline.to_string().len(), MAX_CMDLINE_LEN);
        let err = cmdline.flag("y").expect_err("one over with the space");
        assert!(
            matches!(
                err,
                VmError::CmdlineTooLong {
                    len: 2049,
                    max: 2047
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn parses_like_the_kernel() {
        let cases: &[(&str, Pairs)] = &[
            ("", &[]),
            ("  \n", &[]),
            (
                "console=ttyS0 panic=-1 rdinit=/init\n",
                &[
                    ("console", Some("ttyS0")),
                    ("panic", Some("-1")),
                    ("rdinit", Some("/init")),
                ],
            ),
            ("a\t b", &[("a", None), ("b", None)]),
            (
                "msg=\"two words\" x",
                &[("msg", Some("two words")), ("x", None)],
            ),
            ("\"msg=two words\"", &[("msg", Some("two words"))]),
            ("\"quiet\"", &[("quiet", None)]),
            ("k= x=a=b", &[("k", Some("")), ("x", Some("a=b"))]),
        ];
        for (text, want) in cases {
            let got = KernelCmdline::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            let got: Vec<(&str, Option<&str>)> = got
                .params()
                .iter()
                .map(|p| (p.key.as_str(), p.value.as_deref()))
                .collect();
            assert_eq!(got, *want, "{text:?}");
        }
    }

    #[test]
    fn unparseable_text_is_an_error() {
        for text in ["msg=\"unclosed", "a=\"x\"y\"", "a=b\"c"] {
            let err = KernelCmdline::parse(text).expect_err(text);
            assert!(
                matches!(
                    err,
                    VmError::CmdlineParse { .. } | VmError::CmdlineValue { .. }
                ),
                "{text:?}: {err:?}"
            );
        }
    }

    #[test]
    fn get_returns_the_last_value() {
        let cmdline = KernelCmdline::parse("a=1 b a=2 c=").expect("valid");
        assert_eq!(cmdline.get("a"), Some("2"));
        assert_eq!(cmdline.get("b"), None);
        assert_eq!(cmdline.get("c"), Some(""));
        assert_eq!(cmdline.get("d"), None);
    }

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Trial {
        name: String,
        topology: String,
        args: Vec<String>,
    }

    #[test]
    fn trial_round_trips_through_the_text() {
        let trial = Trial {
            name: "gauntlet/two cgroups/\"quoted\"".into(),
            topology: "2n4l1c1t".into(),
            args: vec!["-b".into(), "8".into(), "ünïcode\n".into()],
        };
        let cmdline = KernelCmdline::base().with_trial(&trial).expect("fits");
        let parsed = KernelCmdline::parse(&format!("{cmdline}\n")).expect("parses");
        assert_eq!(parsed, cmdline);
        assert_eq!(parsed.trial::<Trial>().expect("decodes"), trial);
    }

    #[test]
    fn a_shell_request_travels_under_its_own_key() {
        let shell = vec!["sh".to_string(), "-c".to_string()];
        let cmdline = KernelCmdline::base().with_shell(&shell).expect("fits");
        let parsed = KernelCmdline::parse(&cmdline.to_string()).expect("parses");
        assert_eq!(parsed.shell::<Vec<String>>().unwrap().unwrap(), shell);
        assert!(parsed.trial::<Vec<String>>().is_err());
        assert!(KernelCmdline::base().shell::<Vec<String>>().is_none());
    }

    #[test]
    fn trial_errors_are_typed() {
        let missing = KernelCmdline::base()
            .trial::<Trial>()
            .expect_err("no trial");
        assert!(matches!(
            missing,
            VmError::CmdlineMissingKey { key: TRIAL_KEY }
        ));
        for value in ["not*base64", "e30", "bnVsbA"] {
            let cmdline = KernelCmdline::new()
                .arg(TRIAL_KEY, value)
                .expect("valid text");
            let err = cmdline.trial::<Trial>().expect_err(value);
            assert!(
                matches!(err, VmError::TrialDecode { .. }),
                "{value}: {err:?}"
            );
        }
    }

    fn param_strategy() -> impl Strategy<Value = Param> {
        let key = "[!#-<>-~]{1,12}";
        let value = proptest::option::of("[ !#-~]{0,16}");
        (key, value).prop_map(|(key, value)| Param { key, value })
    }

    proptest! {
        #[test]
        fn render_then_parse_round_trips(params in proptest::collection::vec(param_strategy(), 0..12)) {
            let mut cmdline = KernelCmdline::new();
            for param in params {
                cmdline = cmdline.push(param).expect("valid by construction");
            }
            prop_assert_eq!(KernelCmdline::parse(&cmdline.to_string()).expect("own output"), cmdline);
        }

        #[test]
        fn parse_never_panics(text in "[ -~\t\n]{0,64}") {
            if let Ok(cmdline) = KernelCmdline::parse(&text) {
                prop_assert_eq!(KernelCmdline::parse(&cmdline.to_string()).expect("reparses"), cmdline);
            }
        }
    }
}
