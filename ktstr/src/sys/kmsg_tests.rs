//! Record parsing (table and property tests) and reading a file of records.

use super::*;
use proptest::prelude::*;

#[test]
fn parses_records_as_the_kernel_writes_them() {
    let cases = [
        (
            r#"6,1067,7305812,-;sched_ext: BPF scheduler "qmap" enabled"#,
            (
                6,
                0,
                1067,
                7_305_812,
                r#"sched_ext: BPF scheduler "qmap" enabled"#,
            ),
        ),
        (
            "3,1100,14412001,-,caller=T42;sched_ext: qmap: busybox[89] failed to run for 7.106s",
            (
                3,
                0,
                1100,
                14_412_001,
                "sched_ext: qmap: busybox[89] failed to run for 7.106s",
            ),
        ),
        (
            "12,5,99,c;tab\\x09and\\x5cslash",
            (4, 1, 5, 99, "tab\tand\\slash"),
        ),
        ("6,1,2,-;", (6, 0, 1, 2, "")),
        ("6,1,2,-;semi;colon", (6, 0, 1, 2, "semi;colon")),
    ];
    for (line, (level, facility, seq, ts, text)) in cases {
        let record = KmsgRecord::parse(line).expect(line);
        assert_eq!(
            record,
            KmsgRecord {
                level,
                facility,
                seq,
                timestamp_us: ts,
                text: text.into()
            },
            "{line}"
        );
    }
}

#[test]
fn malformed_records_are_errors() {
    for line in [
        "",
        "no header",
        "6,1,2;missing flags",
        "x,1,2,-;m",
        "6,-1,2,-;m",
        ";m",
        "6,1,2,-",
    ] {
        assert!(
            matches!(KmsgRecord::parse(line), Err(KmsgError::BadRecord { .. })),
            "{line:?}"
        );
    }
}

#[test]
fn bad_escapes_stay_as_written() {
    assert_eq!(unescape(r"\x4"), r"\x4");
    assert_eq!(unescape(r"\xzz\x41"), r"\xzzA");
    assert_eq!(unescape(r"\xff"), "\u{fffd}");
}

fn write_records(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), text).expect("write");
    file
}

#[test]
fn reading_a_file_skips_continuations_and_keeps_the_last_records() {
    let file = write_records(
        "6,1,10,-;first\n SUBSYSTEM=acpi\n DEVICE=+acpi:x\n6,2,20,-;second\n4,3,30,-;third",
    );
    let all = read_kmsg(file.path(), 10).expect("read");
    let texts: Vec<&str> = all.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(texts, ["first", "second", "third"]);
    let last = read_kmsg(file.path(), 2).expect("read");
    assert_eq!(last.iter().map(|r| r.seq).collect::<Vec<_>>(), [2, 3]);
    assert!(read_kmsg(file.path(), 0).expect("read").is_empty());
}

#[test]
fn read_errors_name_the_problem() {
    let missing = read_kmsg(Path::new("/nonexistent/kmsg"), 5).unwrap_err();
    assert!(matches!(missing, KmsgError::Open { .. }), "{missing}");
    let garbage = write_records("6,1,10,-;ok\nnot a record\n");
    let bad = read_kmsg(garbage.path(), 5).unwrap_err();
    assert!(matches!(bad, KmsgError::BadRecord { ref record } if record == "not a record"));
}

/// Writes `text` as the kernel would: escape control bytes, backslash and DEL.
fn escape(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte < b' ' || byte == b'\\' || byte == 0x7f {
            out.push_str(&format!("\\x{byte:02x}"));
        } else {
            out.push(byte as char);
        }
    }
    out
}

proptest! {
    #[test]
    fn escaped_records_round_trip(
        level in 0u8..8,
        facility in 0u32..24,
        seq: u64,
        ts: u64,
        text in "[ -~\t\n\\\\;,]{0,80}",
    ) {
        let line = format!("{},{seq},{ts},-;{}", (facility << 3) | u32::from(level), escape(&text));
        let record = KmsgRecord::parse(&line).expect("parses");
        prop_assert_eq!(record, KmsgRecord { level, facility, seq, timestamp_us: ts, text });
    }

    #[test]
    fn parse_never_panics(line in "\\PC{0,60}") {
        let _ = KmsgRecord::parse(&line);
    }
}

#[test]
fn oom_kills_are_found_by_pid() {
    let log: Vec<String> = [
        "ktstr invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0",
        "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=ktstr,pid=212,uid=0",
        "Out of memory: Killed process 212 (ktstr) total-vm:1200000kB, anon-rss:900000kB",
    ]
    .map(String::from)
    .to_vec();
    assert!(oom_killed(&log, 212));
    assert!(!oom_killed(&log, 21), "a prefix of another pid");
    assert!(!oom_killed(&log, 2120));
    assert!(!oom_killed(&[], 212));
    let summary_only = vec![log[1].clone()];
    assert!(oom_killed(&summary_only, 212));
    let old =
        vec!["Out of memory: Kill process 77 (stress) score 900 or sacrifice child".to_string()];
    assert!(oom_killed(&old, 77));
}
