//! Informative facts about a live process for `git shard status` (name, executable, command line,
//! memory, CPU time, children), from `sysinfo`. None of this is identity: names and executables
//! change at `exec`, and sysinfo's start time is in wall-clock seconds, which move with clock steps.

use serde::Serialize;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

#[derive(Debug, Clone, Serialize)]
pub struct ProcessInfo {
    pub pid: u32,
    pub name: String,
    pub exe: Option<String>,
    pub cmd: Vec<String>,
    /// Resident memory in bytes.
    pub memory_bytes: u64,
    /// CPU time used so far (user + system), in milliseconds.
    pub cpu_time_ms: u64,
    /// Seconds since the Unix epoch (informative only).
    pub start_time: u64,
    /// Seconds the process has been running.
    pub run_time_secs: u64,
    pub children: Vec<Child>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Child {
    pub pid: u32,
    pub name: String,
}

/// Facts for `pid`, or `None` when sysinfo cannot see it. Scans the process table to find the
/// children: this is for `status`, never for `list` or the prompt.
pub fn describe(pid: u32) -> Option<ProcessInfo> {
    let mut sys = System::new();
    let kind = ProcessRefreshKind::nothing()
        .with_memory()
        .with_cpu()
        .with_exe(UpdateKind::OnlyIfNotSet)
        .with_cmd(UpdateKind::OnlyIfNotSet);
    sys.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
    let me = Pid::from_u32(pid);
    let p = sys.process(me)?;
    let mut children: Vec<Child> = sys
        .processes()
        .values()
        .filter(|c| c.parent() == Some(me) && c.thread_kind().is_none())
        .map(|c| Child {
            pid: c.pid().as_u32(),
            name: c.name().to_string_lossy().into_owned(),
        })
        .collect();
    children.sort_by_key(|c| c.pid);
    Some(ProcessInfo {
        pid,
        name: p.name().to_string_lossy().into_owned(),
        exe: p.exe().map(|e| e.display().to_string()),
        cmd: p.cmd().iter().map(|a| a.to_string_lossy().into_owned()).collect(),
        memory_bytes: p.memory(),
        cpu_time_ms: p.accumulated_cpu_time(),
        start_time: p.start_time(),
        run_time_secs: p.run_time(),
        children,
    })
}
