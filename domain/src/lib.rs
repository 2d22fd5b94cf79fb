//! The booking rules. Nothing in this crate performs I/O or reads a clock: callers pass
//! "now" in, which keeps every rule testable and identical in the browser and the server.

pub mod appointment;
pub mod catalogue;
pub mod clinic;
pub mod delivery;
pub mod error;
pub mod ics;
pub mod interval;
pub mod limits;
pub mod notify;
pub mod outbound;
pub mod patient;
pub mod schedule;
pub mod slot_id;
pub mod staff;
pub mod webhook;
mod zone_country;

#[cfg(feature = "tz")]
pub mod availability;
#[cfg(feature = "tz")]
pub mod zone;

pub use clinic::ClinicSlug;
pub use error::DomainError;
pub use interval::Interval;
pub use schedule::{LocalTime, WeeklyInterval};
pub use slot_id::SlotId;
