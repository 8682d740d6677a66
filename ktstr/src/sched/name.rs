//! The rule for a scheduler's name, written once for `const` declarations and for names typed at run time:
//! it becomes a file name in the guest, so `[A-Za-z0-9_.-]`, not starting with `.` or `-`.

use super::SchedulerError;

/// The byte offset of the first character `name` may not have there; `Some(0)` for an empty name.
pub(super) const fn first_bad_char(name: &str) -> Option<usize> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes[0] == b'.' || bytes[0] == b'-' {
        return Some(0);
    }
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if !(c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.') {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `name` checked against the rule, as an error that names the offending character.
pub(super) fn check_name(name: &str) -> Result<(), SchedulerError> {
    match first_bad_char(name) {
        None => Ok(()),
        // Every byte before `at` is ASCII, so `at` starts a character.
        Some(at) => match name[at..].chars().next() {
            None => Err(SchedulerError::EmptyName),
            Some(bad) => Err(SchedulerError::BadName {
                name: name.to_string(),
                bad,
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_name_their_first_bad_character() {
        let bad = |name: &str, bad| {
            Err(SchedulerError::BadName {
                name: name.into(),
                bad,
            })
        };
        let cases = [
            ("scx_qmap-1.0", Ok(())),
            ("", Err(SchedulerError::EmptyName)),
            (".hidden", bad(".hidden", '.')),
            ("-v", bad("-v", '-')),
            ("a/b", bad("a/b", '/')),
            ("ü", bad("ü", 'ü')),
            ("ab ü", bad("ab ü", ' ')),
        ];
        for (name, want) in cases {
            assert_eq!(check_name(name), want, "{name:?}");
            assert_eq!(first_bad_char(name).is_none(), want.is_ok(), "{name:?}");
        }
    }
}
