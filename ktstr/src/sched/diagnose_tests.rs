//! Load-failure diagnosis over scheduler output in the shapes libbpf, the verifier and the scx log
//! prefix produce.

use super::*;

const KALLSYMS: &str = "\
12:00:01 [INFO] Running scx_bpfland (build ID: 1.1.4)
12:00:01 [WARN] libbpf: prog 'bpfland_select_cpu': BPF program load failed: Invalid argument
12:00:01 [WARN] libbpf: prog 'bpfland_select_cpu': -- BEGIN PROG LOAD LOG --
0: R1=ctx() R10=fp0
; s32 BPF_STRUCT_OPS(bpfland_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags) @ main.bpf.c:533
0: (79) r7 = *(u64 *)(r1 +0)
ldimm64 failed to find the address for kernel symbol 'sd_llc_id'.
processed 43 insns (limit 1000000) max_states_per_insn 0 total_states 3 peak_states 3 mark_read 1
-- END PROG LOAD LOG --
12:00:01 [WARN] libbpf: prog 'bpfland_select_cpu': failed to load: -22
12:00:01 [WARN] libbpf: failed to load object 'bpf_bpf'
Error: Failed to load BPF program
";

const VERIFIER: &str = "\
libbpf: prog 'lavd_enqueue': BPF program load failed: Permission denied
libbpf: prog 'lavd_enqueue': -- BEGIN PROG LOAD LOG --
0: R1=ctx() R10=fp0
; void BPF_STRUCT_OPS(lavd_enqueue, struct task_struct *p, u64 enq_flags) @ main.bpf.c:612
0: (79) r6 = *(u64 *)(r1 +0)
; p->scx.dsq_vtime = calc_when_to_run(p, taskc); @ main.bpf.c:640
311: (7b) *(u64 *)(r8 +856) = r0
only read is supported
processed 2411 insns (limit 1000000) max_states_per_insn 4 total_states 131 peak_states 131 mark_read 40
-- END PROG LOAD LOG --
libbpf: prog 'lavd_enqueue': failed to load: -13
libbpf: failed to load object 'bpf_bpf'
";

#[test]
fn a_verifier_rejection_names_program_instruction_source_and_reason() {
    let diagnosis = diagnose_load_failure(VERIFIER).expect("diagnosed");
    assert_eq!(
        diagnosis.cause,
        LoadCause::VerifierRejected {
            program: "lavd_enqueue".into(),
            reason: "only read is supported".into(),
            instruction: Some("311: (7b) *(u64 *)(r8 +856) = r0".into()),
            source: Some("main.bpf.c:640 (p->scx.dsq_vtime = calc_when_to_run(p, taskc);)".into()),
        }
    );
    assert_eq!(diagnosis.kernel_option.as_deref(), None);
    assert_eq!(
        diagnosis.evidence.last().map(String::as_str),
        Some("only read is supported")
    );
    let summary = diagnosis.summary();
    assert!(
        summary.contains("\"lavd_enqueue\" at main.bpf.c:640"),
        "{summary}"
    );
}

#[test]
fn a_missing_data_symbol_points_at_kallsyms_all() {
    let diagnosis = diagnose_load_failure(KALLSYMS).expect("diagnosed");
    assert_eq!(
        diagnosis.kernel_option.as_deref(),
        Some("CONFIG_KALLSYMS_ALL")
    );
    assert!(diagnosis
        .summary()
        .ends_with("build the kernel with CONFIG_KALLSYMS_ALL=y"));
    assert!(matches!(
        diagnosis.cause,
        LoadCause::VerifierRejected { ref program, .. } if program == "bpfland_select_cpu"
    ));
}

#[test]
fn libbpf_complaints_map_to_causes_and_known_options() {
    let cases: [(&str, LoadCause, Option<&str>); 6] = [
        (
            "12:00 [WARN] libbpf: extern (var ksym) 'cpufreq_cpu_data': not found in kernel BTF",
            LoadCause::MissingKernelSymbol {
                symbol: "cpufreq_cpu_data".into(),
            },
            Some("CONFIG_CPU_FREQ"),
        ),
        (
            "libbpf: extern (func ksym) 'scx_bpf_dsq_move_to_local': not found in kernel or module BTFs",
            LoadCause::MissingKfunc {
                name: "scx_bpf_dsq_move_to_local".into(),
            },
            None,
        ),
        (
            "18:32:06 [WARN] libbpf: struct_ops init_kern lavd_ops: Cannot find member cgroup_set_bandwidth in kernel BTF",
            LoadCause::MissingOpsMember {
                ops: "lavd_ops".into(),
                member: "cgroup_set_bandwidth".into(),
            },
            None,
        ),
        (
            "libbpf: prog 'fentry_x': failed to find kernel BTF type ID of 'do_nothing_here': -3",
            LoadCause::MissingBtf {
                name: "do_nothing_here".into(),
            },
            None,
        ),
        (
            "libbpf: prog 'handle_exec': failed to create tracepoint 'syscalls/sys_enter_execve' perf event: No such file or directory",
            LoadCause::MissingAttachPoint {
                target: "syscalls/sys_enter_execve".into(),
            },
            Some("CONFIG_FTRACE_SYSCALLS"),
        ),
        (
            "libbpf: prog 'kp': failed to create kprobe 'no_such_fn+0x0' perf event: No such file or directory",
            LoadCause::MissingAttachPoint {
                target: "no_such_fn+0x0".into(),
            },
            None,
        ),
    ];
    for (line, cause, option) in cases {
        let text = format!("starting\n{line}\nError: failed to load\n");
        let diagnosis = diagnose_load_failure(&text).unwrap_or_else(|| panic!("{line}"));
        assert_eq!(diagnosis.cause, cause, "{line}");
        assert_eq!(diagnosis.kernel_option.as_deref(), option, "{line}");
        assert_eq!(diagnosis.evidence, [line.trim()], "{line}");
    }
}

#[test]
fn newer_kernel_features_say_the_release_targets_a_newer_kernel() {
    let text = "libbpf: struct_ops init_kern lavd_ops: Cannot find member cgroup_set_bandwidth in kernel BTF\n";
    let summary = diagnose_load_failure(text).unwrap().summary();
    assert!(summary.contains("targets a newer kernel"), "{summary}");
}

#[test]
fn argument_errors_are_recognised_and_unrelated_output_is_not_diagnosed() {
    let clap = "error: unexpected argument '--bogus' found\n\nUsage: scx_rusty [OPTIONS]\n\nFor more information, try '--help'.\n";
    let diagnosis = diagnose_load_failure(clap).unwrap();
    assert_eq!(diagnosis.cause, LoadCause::BadArguments);
    assert_eq!(
        diagnosis.evidence,
        ["error: unexpected argument '--bogus' found"]
    );
    for quiet in [
        "",
        "EXIT: scx_bpf_error (boom)\n",
        "libbpf: loading object 'x' from buffer\n",
    ] {
        assert_eq!(diagnose_load_failure(quiet), None, "{quiet:?}");
    }
}

#[test]
fn a_log_cut_before_its_end_marker_is_still_read() {
    let cut = VERIFIER.split("processed 2411").next().expect("split");
    let diagnosis = diagnose_load_failure(cut).expect("diagnosed");
    assert!(matches!(
        diagnosis.cause,
        LoadCause::VerifierRejected { ref reason, .. } if reason == "only read is supported"
    ));
}

#[test]
fn colours_of_a_tracing_logger_are_stripped_before_reading() {
    let coloured = "\x1b[2m2026-11-29T23:48:32Z\x1b[0m \x1b[33m WARN\x1b[0m libbpf: extern (var ksym) 'cpufreq_cpu_data': not found in kernel BTF\n";
    let diagnosis = diagnose_load_failure(coloured).expect("diagnosed");
    assert_eq!(diagnosis.kernel_option.as_deref(), Some("CONFIG_CPU_FREQ"));
    assert!(
        !diagnosis.evidence[0].contains('\x1b'),
        "{:?}",
        diagnosis.evidence
    );
    assert_eq!(strip_ansi("a\x1b[1;31mb\x1b[0mc\x1b"), "abc");
}

#[test]
fn a_log_whose_start_was_cut_by_the_output_limit_is_still_read() {
    let begin = VERIFIER.find("0: R1=ctx()").expect("log body");
    let diagnosis = diagnose_load_failure(&VERIFIER[begin..]).expect("diagnosed");
    assert!(matches!(
        diagnosis.cause,
        LoadCause::VerifierRejected { ref program, ref reason, .. }
            if program == "lavd_enqueue" && reason == "only read is supported"
    ));
}

/// The tail of what scx_lavd 1.1.4 printed on ktstr's 6.12 guest kernel (its start is past the
/// output limit, as in a real trial).
const LAVD_1_1_4: &str = include_str!("testdata/lavd-1.1.4-on-6.12.txt");

#[test]
fn a_real_scheduler_rejected_by_the_6_12_verifier_is_diagnosed() {
    let diagnosis = diagnose_load_failure(LAVD_1_1_4).expect("diagnosed");
    let LoadCause::VerifierRejected {
        program,
        reason,
        instruction,
        source,
    } = &diagnosis.cause
    else {
        panic!("{diagnosis:?}");
    };
    assert_eq!(program, "lavd_enqueue");
    assert_eq!(reason, "only read is supported");
    assert_eq!(
        instruction.as_deref(),
        Some("4829: (7a) *(u64 *)(r2 +840) = 1")
    );
    let source = source.as_deref().unwrap_or_default();
    assert!(
        source.starts_with("common.bpf.h:796") && source.contains("reached from preempt.bpf.c:250"),
        "{source}"
    );
}
