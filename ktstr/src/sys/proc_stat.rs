//! `/proc/<pid>/stat`: the fields ktstr reads from it. The command name sits in parentheses and may itself
//! contain parentheses and spaces, so the fields after it are counted from its last `)`.

/// The fields of one process's `/proc/<pid>/stat` that ktstr uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcStat {
    /// The command name, without its parentheses.
    pub comm: String,
    /// `R`, `S`, `D`, `Z`, `X`, ... (proc(5)).
    pub state: char,
    pub ppid: u32,
    pub pgrp: u32,
    /// Clock ticks after boot when the process started.
    pub start_time: u64,
}

impl ProcStat {
    /// The stat of `pid`; `None` when it has no `/proc` entry (gone and reaped) or the entry is unreadable.
    pub fn read(pid: u32) -> Option<ProcStat> {
        ProcStat::parse(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// Parses the text of a `/proc/<pid>/stat` file.
    pub fn parse(text: &str) -> Option<ProcStat> {
        let (head, rest) = text.rsplit_once(')')?;
        let comm = head.split_once('(')?.1.to_string();
        // Fields after the name, from 3 (state) on, as proc(5) numbers them.
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3).copied();
        Some(ProcStat {
            comm,
            state: field(3)?.chars().next()?,
            ppid: field(4)?.parse().ok()?,
            pgrp: field(5)?.parse().ok()?,
            start_time: field(22)?.parse().ok()?,
        })
    }

    /// A zombie (exited, not yet reaped) or dead process.
    pub fn is_dead(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }

    pub fn is_zombie(&self) -> bool {
        self.state == 'Z'
    }
}

/// Whether `pid` is running: it has a `/proc` entry and is neither a zombie nor dead.
pub fn process_alive(pid: u32) -> bool {
    ProcStat::read(pid).is_some_and(|stat| !stat.is_dead())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_count_from_the_last_parenthesis() {
        let tail = "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 4242 0 0";
        let cases = [
            ("17 (bash) S 1 17", 'S', "bash"),
            ("17 (a) b) (c) Z 1 17", 'Z', "a) b) (c"),
            ("17 (with space) R 1 17", 'R', "with space"),
        ];
        for (head, state, comm) in cases {
            let stat = ProcStat::parse(&format!("{head} {tail}\n")).expect(head);
            assert_eq!((stat.state, stat.comm.as_str()), (state, comm), "{head}");
            assert_eq!((stat.ppid, stat.pgrp, stat.start_time), (1, 17, 4242));
        }
        assert_eq!(ProcStat::parse("17 (bash S 1"), None);
        assert_eq!(ProcStat::parse("17 (bash) S 1 17"), None);
    }

    #[test]
    fn a_zombie_child_is_dead_and_a_reaped_one_gone() {
        let me = ProcStat::read(std::process::id()).unwrap();
        assert_eq!(me.pgrp, nix::unistd::getpgrp().as_raw() as u32);
        assert!(process_alive(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        while !ProcStat::read(pid).is_some_and(|s| s.is_zombie()) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(ProcStat::read(pid).unwrap().is_dead());
        assert!(!process_alive(pid));
        child.wait().unwrap();
        assert_eq!(ProcStat::read(pid), None);
        assert!(!process_alive(pid));
    }
}
