//! The domain: shard names, records, the store, and the status of a run.

pub mod activity;
pub mod glance;
pub mod include;
pub mod lifecycle;
pub mod merged;
pub mod name;
pub mod notify;
pub mod ports;
pub mod record;
pub mod setup;
pub mod status;
pub mod store;

pub use name::ShardName;
pub use record::Record;
pub use status::RunStatus;
pub use store::{Store, StoreError};
