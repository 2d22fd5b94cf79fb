//! How much of a clinic one anonymous client of the public widget may take at once. The
//! widget needs no credential, and holds count as busy on every channel (the bot API and the
//! voice bot too), so without these one script could block a clinic's online booking.

/// Live holds one browser (known by its cookie) keeps; a new hold releases its oldest.
pub const HOLDS_PER_BROWSER: i64 = 2;
/// Live holds one address keeps, whatever the browsers behind it (a household or a clinic's
/// waiting room may share one); a new hold releases the address's oldest.
pub const HOLDS_PER_ADDRESS: i64 = 4;
/// Live widget holds of one clinic at once; beyond, new holds wait ("many people are booking
/// right now"). Well above what real patients need: a hold lives minutes.
pub const WIDGET_HOLDS_PER_CLINIC: i64 = 60;

/// Who asks for a hold through the widget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetClient {
    /// The client's IP address as the server sees it (or a trusted proxy reports it).
    pub address: String,
    /// A random id the browser keeps in a cookie, when it keeps cookies.
    pub browser: Option<String>,
}

/// Failed authentications to the APIs one address may make at once; then one more every
/// `FAILED_AUTH_REFILL_SECONDS`. Beyond, every request from it is refused (429) before its
/// key is looked at: an address that keeps failing is guessing or misconfigured.
pub const FAILED_AUTH_PER_ADDRESS: u32 = 20;
/// Failed authentications naming one user id, from anywhere, before further wrong keys for
/// it answer 429 instead of 401. Its right key still passes: otherwise anyone knowing a
/// clinic's user id could lock its bot out.
pub const FAILED_AUTH_PER_USER: u32 = 10;
/// A failure is forgiven every this many seconds.
pub const FAILED_AUTH_REFILL_SECONDS: u32 = 6;
