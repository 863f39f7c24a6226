//! A port of its own for each shard (and the named ones the configuration asks for), so that two
//! shards' dev servers never fight over one.
//!
//! Invariants:
//! - A port is reserved in the shard's record from `new` (or the first `run` of an older shard)
//!   until `rm` deletes the record: it is never given to another shard of the repository while the
//!   record exists, whether or not its agent runs. (Other repositories' records are not read: their
//!   shards may get the same port while neither listens; README says to give each its range.) Allocation holds the store's `.ports.lock`, so two `new`s
//!   cannot take the same port between reading the records and writing their own.
//! - A port is given only after binding it (TCP, every IPv4 address) succeeded: nothing on the
//!   machine was listening on it then. What starts to listen on it later is not ours to prevent.
//! - Hashing a name to a port collides (ten shards in 900 ports: about 5 %); we search instead,
//!   starting from the name's hash (so a shard's port is stable across machines when free) and
//!   taking the next free one.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, TcpListener};

use super::record::Record;
use super::store::{Lock, Store, StoreError};

/// The range ports are taken from unless `port_range` says otherwise: below Linux's ephemeral
/// ports (32768–60999), above most services' defaults.
pub const DEFAULT_RANGE: (u16, u16) = (20000, 29999);

#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error(
        "no free port for shard '{name}' in {lo}–{hi}: {taken} are reserved by shards, the rest are in use on this machine"
    )]
    Exhausted {
        name: String,
        lo: u16,
        hi: u16,
        taken: usize,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Give `record` its port and each of `names` it lacks, from `range`, unless it has them.
/// When it gave any, returns the ports lock: the caller writes the record before dropping it, so
/// that no other shard's allocation reads the records before this one holds its ports.
pub fn reserve(
    store: &Store,
    record: &mut Record,
    names: &[String],
    range: (u16, u16),
) -> Result<Option<Lock>, PortError> {
    let missing: Vec<Option<&String>> = std::iter::once(None)
        .filter(|_| record.port.is_none())
        .chain(names.iter().filter(|n| !record.ports.contains_key(*n)).map(Some))
        .collect();
    if missing.is_empty() {
        return Ok(None);
    }
    let lock = store.lock_ports()?;
    let mut taken: BTreeSet<u16> = store
        .list()?
        .into_iter()
        .filter(|(name, _)| *name != record.name)
        .filter_map(|(_, r)| r.ok())
        .flat_map(|r| held(&r).collect::<Vec<_>>())
        .collect();
    taken.extend(held(record));
    for name in missing {
        let port =
            free_port(&record.name, name.map(String::as_str), range, &taken).ok_or_else(|| PortError::Exhausted {
                name: record.name.clone(),
                lo: range.0,
                hi: range.1,
                taken: taken.len(),
            })?;
        taken.insert(port);
        match name {
            None => record.port = Some(port),
            Some(n) => {
                record.ports.insert(n.clone(), port);
            }
        }
    }
    Ok(Some(lock))
}

/// Every port a record holds.
fn held(r: &Record) -> impl Iterator<Item = u16> + '_ {
    r.port.into_iter().chain(r.ports.values().copied())
}

/// The first port from the hash of `shard` (and `which` named port) onwards, wrapping around the
/// range, that no shard holds and that can be bound now.
fn free_port(shard: &str, which: Option<&str>, (lo, hi): (u16, u16), taken: &BTreeSet<u16>) -> Option<u16> {
    let size = u32::from(hi - lo) + 1;
    let key = format!("{shard}\0{}", which.unwrap_or(""));
    let start = (crate::fsutil::stable_hash(key.as_bytes()) % u64::from(size)) as u32;
    (0..size)
        .map(|i| lo + ((start + i) % size) as u16)
        .filter(|p| !taken.contains(p))
        .find(|p| bindable(*p))
}

/// Nothing listens on `port`: binding every IPv4 address fails if anything is bound to any of
/// them, and binding every IPv6 address (dual-stack where the system allows) if anything is on
/// an IPv6 one (`localhost` servers often listen on `::1` only). A system without IPv6 answers
/// for IPv4 alone.
fn bindable(port: u16) -> bool {
    let v4 = TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok();
    let v6 = match TcpListener::bind((std::net::Ipv6Addr::UNSPECIFIED, port)) {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::AddrInUse && e.raw_os_error() != Some(libc::EACCES),
    };
    v4 && v6
}

/// The environment a shard's commands get for its ports: `GIT_SHARD_PORT`, `GIT_SHARD_PORT_WEB`.
pub fn env(record: &Record) -> Vec<(String, String)> {
    named(
        record,
        |n| format!("GIT_SHARD_PORT_{}", n.to_ascii_uppercase()),
        "GIT_SHARD_PORT",
    )
}

/// The placeholders for them: `{port}`, `{port_web}`.
pub fn placeholders(record: &Record) -> Vec<(String, String)> {
    named(record, |n| format!("port_{n}"), "port")
}

fn named(record: &Record, key: impl Fn(&str) -> String, main: &str) -> Vec<(String, String)> {
    record
        .port
        .map(|p| (main.to_owned(), p.to_string()))
        .into_iter()
        .chain(record.ports.iter().map(|(n, p)| (key(n), p.to_string())))
        .collect()
}

/// Whether `name` can be a named port: lower-case letters, digits and `_`, starting with a letter
/// (it becomes part of a variable's and a placeholder's name).
pub fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_or_bound_port_is_skipped() {
        let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
        let bound = listener.local_addr().unwrap().port();
        // A range of two: the bound one and the next; whichever the hash starts at, the bound
        // port is never given, and with the other taken too, nothing is.
        let other = if bound == u16::MAX { bound - 1 } else { bound + 1 };
        let range = (bound.min(other), bound.max(other));
        assert_eq!(free_port("a", None, range, &BTreeSet::new()), Some(other));
        assert_eq!(free_port("a", None, range, &BTreeSet::from([other])), None);
    }

    #[test]
    fn named_ports_become_variables_and_placeholders() {
        let mut r = crate::shard::record::tests::sample();
        r.port = Some(20001);
        r.ports.insert("web".into(), 20002);
        assert_eq!(
            env(&r),
            [
                ("GIT_SHARD_PORT".to_owned(), "20001".to_owned()),
                ("GIT_SHARD_PORT_WEB".to_owned(), "20002".to_owned())
            ]
        );
        assert_eq!(placeholders(&r)[1], ("port_web".to_owned(), "20002".to_owned()));
        assert!(valid_name("web_2") && !valid_name("Web") && !valid_name("2web") && !valid_name(""));
    }
}
