//! The booking server as a library, so that integration tests run the very router that
//! production runs, on a real socket.

pub mod api;
pub mod assets;
pub mod backup;
pub mod calendar;
pub mod config;
pub mod guard;
pub mod http;
pub mod live;
pub mod mail;
pub mod observe;
pub mod pages;
pub mod retention;
pub mod webhooks;

pub use config::Settings;
pub use http::{router, router_with_live};
