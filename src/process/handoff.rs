//! Handing the caller's environment to a supervisor that a terminal started.
//!
//! A terminal does not pass on the environment of `git shard new`: tmux gives a new window its
//! server's global environment, GUI terminals their own. So an `export ANTHROPIC_API_KEY=…` before
//! `new` would not reach the agent. Putting the values on the supervisor's command line would show
//! them to every user (`/proc/<pid>/cmdline`), and a file could be read by others or outlive the
//! launch. Instead `new` listens on a Unix socket in a folder only its user can enter, passes the
//! socket's path (not a secret) to the supervisor, and answers exactly one connection, from a
//! process of the same user, with its environment; the socket is gone when the launch ends.
//!
//! Invariants: the folder is created with mode 0700, and used only if it is a real folder (not a
//! link) owned by us that nobody else may enter; the peer's uid is checked before a byte is sent;
//! the listener lives only as long as `new`/`run` waits for its launch.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A listener serving one environment, until dropped.
pub struct Offer {
    path: PathBuf,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Offer {
    /// The socket's path, for the supervisor's `--env-from`.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Offer {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = fs::remove_file(&self.path);
    }
}

/// Offer `env` to the one supervisor that connects within `timeout`.
pub fn offer(env: Vec<(OsString, OsString)>, timeout: Duration) -> io::Result<Offer> {
    let path = crate::fsutil::private_dir()?.join(format!("env-{}", std::process::id()));
    let _ = fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    listener.set_nonblocking(true)?;
    let done = Arc::new(AtomicBool::new(false));
    let stop = Arc::clone(&done);
    let payload = encode(&env);
    let deadline = Instant::now() + timeout;
    let thread = thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    if same_user(&stream) {
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.write_all(&payload);
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(Duration::from_millis(5)),
                Err(_) => return,
            }
        }
    });
    Ok(Offer {
        path,
        done,
        thread: Some(thread),
    })
}

/// Whether the process at the other end runs as this user.
fn same_user(stream: &UnixStream) -> bool {
    let me = rustix::process::geteuid().as_raw();
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        rustix::net::sockopt::socket_peercred(stream).is_ok_and(|c| c.uid.as_raw() == me)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        use std::os::fd::AsRawFd;
        let (mut uid, mut gid) = (0, 0);
        // SAFETY: getpeereid writes two integers through valid pointers.
        unsafe { libc::getpeereid(stream.as_raw_fd(), &mut uid, &mut gid) == 0 && uid == me }
    }
}

/// Receive the environment offered at `path` (in the supervisor).
pub fn receive(path: &Path, timeout: Duration) -> io::Result<Vec<(OsString, OsString)>> {
    let mut stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(timeout))?;
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes)?;
    if bytes.is_empty() {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "nothing was handed over"));
    }
    Ok(decode(&bytes))
}

/// `KEY=VALUE` pairs, each ended by NUL (neither a name nor a value can hold one).
fn encode(env: &[(OsString, OsString)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in env {
        out.extend_from_slice(k.as_bytes());
        out.push(b'=');
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

fn decode(bytes: &[u8]) -> Vec<(OsString, OsString)> {
    bytes
        .split(|b| *b == 0)
        .filter_map(|entry| {
            let eq = entry.iter().position(|b| *b == b'=')?;
            (eq > 0).then(|| {
                (
                    OsString::from_vec(entry[..eq].to_vec()),
                    OsString::from_vec(entry[eq + 1..].to_vec()),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_round_trip_with_any_bytes() {
        let env = vec![
            (OsString::from("A"), OsString::from("x=y")),
            (OsString::from("EMPTY"), OsString::new()),
            (OsString::from("BYTES"), OsString::from_vec(vec![0xff, b'\n', b'z'])),
        ];
        assert_eq!(decode(&encode(&env)), env);
    }

    #[test]
    fn one_offer_reaches_one_receiver_of_the_same_user() {
        use std::os::unix::fs::MetadataExt;
        let env = vec![(OsString::from("SECRET"), OsString::from("s3cr3t"))];
        let offer = offer(env.clone(), Duration::from_secs(5)).unwrap();
        let meta = fs::symlink_metadata(offer.path().parent().unwrap()).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o700);
        assert_eq!(receive(offer.path(), Duration::from_secs(5)).unwrap(), env);
        // Served once: a second connection gets nothing.
        assert!(receive(offer.path(), Duration::from_millis(200)).is_err());
        let path = offer.path().to_owned();
        drop(offer);
        assert!(!path.exists(), "the socket goes with the offer");
    }
}
