//! Whether a process (the scheduler under test) is still alive: present and not a zombie.

use crate::sys::ProcStat;

/// True when `/proc/<pid>` exists and the process is neither a zombie nor dead.
pub fn process_alive(pid: i32) -> bool {
    u32::try_from(pid)
        .ok()
        .and_then(ProcStat::read)
        .is_some_and(|stat| !stat.is_dead())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_self_alive_and_reaped_child_dead() {
        assert!(process_alive(std::process::id() as i32));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        // Exited but not yet reaped: a zombie counts as dead.
        while !ProcStat::read(pid as u32).is_some_and(|s| s.is_zombie()) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(!process_alive(pid));
        child.wait().unwrap();
        assert!(!process_alive(pid));
    }
}
