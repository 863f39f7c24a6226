//! macOS process facts from `libproc` (`proc_pidinfo(PROC_PIDTBSDINFO)`) and `kern.boottime`.
//!
//! The start value is the process start time in microseconds (`pbi_start_tvsec * 1e6 +
//! pbi_start_tvusec`); combined with the boot time it plays the role of Linux's start ticks. This
//! path compiles on macOS only and is not exercised by the Linux test suite.

use std::io;
use std::mem;
use std::sync::OnceLock;

use super::Facts;

/// `SZOMB` from `<sys/proc.h>`.
const SZOMB: u32 = 5;

pub fn facts(pid: u32) -> io::Result<Option<Facts>> {
    // SAFETY: `proc_bsdinfo` is plain old data; all-zero is a valid value.
    let mut info: libc::proc_bsdinfo = unsafe { mem::zeroed() };
    let size = mem::size_of::<libc::proc_bsdinfo>() as libc::c_int;
    // SAFETY: `info` is a properly sized, writable `proc_bsdinfo`, and `size` is its size.
    let n = unsafe {
        libc::proc_pidinfo(
            pid as libc::c_int,
            libc::PROC_PIDTBSDINFO,
            0,
            (&mut info as *mut libc::proc_bsdinfo).cast(),
            size,
        )
    };
    if n <= 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ESRCH) | Some(0) | None => Ok(None),
            _ => Err(e),
        };
    }
    let comm: String = info
        .pbi_comm
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8 as char)
        .collect();
    // libc, not rustix: a session id of 0 (launchd's, or a failed call) is a value here, and
    // rustix's `Pid` cannot hold it. 0 is never used to select processes (see `members`).
    // SAFETY: getsid only reads another process's session id.
    let sid = unsafe { libc::getsid(pid as libc::pid_t) }.max(0) as u32;
    Ok(Some(Facts {
        comm,
        state: if info.pbi_status == SZOMB { 'Z' } else { 'R' },
        ppid: info.pbi_ppid,
        pgid: info.pbi_pgid,
        sid,
        start: info.pbi_start_tvsec * 1_000_000 + info.pbi_start_tvusec,
        cpu_usec: 0,
    }))
}

pub fn boot_id() -> &'static str {
    static BOOT: OnceLock<String> = OnceLock::new();
    BOOT.get_or_init(|| {
        // SAFETY: `timeval` is plain old data; all-zero is a valid value.
        let mut tv: libc::timeval = unsafe { mem::zeroed() };
        let mut size = mem::size_of::<libc::timeval>();
        // SAFETY: the name is NUL-terminated, `tv` is writable and `size` holds its size.
        let rc = unsafe {
            libc::sysctlbyname(
                c"kern.boottime".as_ptr(),
                (&mut tv as *mut libc::timeval).cast(),
                &mut size,
                std::ptr::null_mut(),
                0,
            )
        };
        if rc == 0 {
            format!("{}.{}", tv.tv_sec, tv.tv_usec)
        } else {
            String::new()
        }
    })
}

/// No `/proc` here: every check reads the process's facts (see [`super::Instance`]).
pub fn instance(_pid: u32) -> Option<(super::Instance, bool)> {
    None
}

/// No `/proc` to hold a folder of.
pub fn hold(_pid: u32) -> Option<std::os::fd::OwnedFd> {
    None
}

/// Never asked without a held folder (see [`hold`]).
pub fn held_instance(_held: super::Held) -> Option<(super::Instance, bool)> {
    None
}

/// Never asked without a held folder (see [`hold`]).
pub fn held_entry(_held: super::Held) -> Option<u32> {
    None
}

/// Never asked without an instance (see [`instance`]).
pub fn has_exe(_pid: u32) -> bool {
    false
}

/// Every PID (a scan of the process table: for `stop` and `rm`, never for status).
pub fn pids() -> Vec<u32> {
    let mut pids = vec![0 as libc::pid_t; 8192];
    let bytes = (pids.len() * mem::size_of::<libc::pid_t>()) as libc::c_int;
    // SAFETY: the buffer is writable and `bytes` is its size in bytes.
    let n = unsafe { libc::proc_listallpids(pids.as_mut_ptr().cast(), bytes) };
    if n <= 0 {
        return Vec::new();
    }
    pids.truncate(n as usize);
    pids.into_iter().filter(|&p| p > 0).map(|p| p as u32).collect()
}

/// The working directory of a process, when we may read it.
pub fn cwd(pid: u32) -> Option<std::path::PathBuf> {
    // SAFETY: `proc_vnodepathinfo` is plain old data; all-zero is a valid value.
    let mut info: libc::proc_vnodepathinfo = unsafe { mem::zeroed() };
    let size = mem::size_of::<libc::proc_vnodepathinfo>() as libc::c_int;
    // SAFETY: `info` is a writable `proc_vnodepathinfo` and `size` is its size.
    let n = unsafe {
        libc::proc_pidinfo(
            pid as libc::c_int,
            libc::PROC_PIDVNODEPATHINFO,
            0,
            (&mut info as *mut libc::proc_vnodepathinfo).cast(),
            size,
        )
    };
    if n <= 0 {
        return None;
    }
    let bytes: Vec<u8> = info
        .pvi_cdir
        .vip_path
        .iter()
        .flatten()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    Some(std::path::PathBuf::from(String::from_utf8_lossy(&bytes).into_owned()))
}
