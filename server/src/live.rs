//! Live updates for the front desk and the waiting-room displays, as Server-Sent Events.
//!
//! One follower task per server instance watches the clinic changes (every appointment change
//! writes an outbox row in its own transaction): on SQLite it reads new outbox rows a few
//! times a second, which also catches changes made by another process on the same file (the
//! CLI); on PostgreSQL it listens for the `NOTIFY` every committed change sends, so a booking
//! on one instance reaches the desks open on every other. It broadcasts "clinic N changed" to
//! the open streams of this instance; each stream tells its browser only about its own clinic.
//!
//! A stream carries no appointment data, only "something changed" (`change`) and "you may
//! have missed something" (`sync`, also the first event of every connection). The page then
//! fetches its own view again, so a desk that reconnects after a restart, or after the
//! follower lost its database connection, catches up without knowing what it missed. The
//! browser's `EventSource` reconnects by itself; the `retry` field asks it to do so within a
//! second.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use store::desk::Heard;
use store::{Clock, Store};
use tokio::sync::{broadcast, watch};

/// How often the SQLite follower looks for new outbox rows: the desk's delay at most.
const POLL: Duration = Duration::from_millis(250);
/// How often an open stream checks that its session or display link is still valid: a
/// signed-out desk or a revoked display stops receiving within this time.
const RECHECK: Duration = Duration::from_secs(20);
/// Pause before the follower tries the database again after an error.
const BACKOFF: Duration = Duration::from_secs(1);

/// The instance's change follower and its subscribers.
#[derive(Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
    changes: broadcast::Sender<Heard>,
    started: std::sync::Once,
    /// Set at shutdown: every stream ends, so a graceful shutdown is not held up by desks.
    closing: watch::Sender<bool>,
}

impl Live {
    pub fn new(store: Store, clock: Clock) -> Live {
        let (changes, _) = broadcast::channel(1024);
        let (closing, _) = watch::channel(false);
        Live { inner: Arc::new(Inner { store, clock, changes, started: std::sync::Once::new(), closing }) }
    }

    /// Ends every open stream and the follower.
    pub fn close(&self) {
        let _ = self.inner.closing.send(true);
    }

    /// Subscribes to the changes; the follower starts with the first subscriber (from inside
    /// a request, so on the server's runtime).
    fn subscribe(&self) -> broadcast::Receiver<Heard> {
        let rx = self.inner.changes.subscribe();
        self.inner.started.call_once(|| {
            tokio::spawn(follow(Arc::downgrade(&self.inner)));
        });
        rx
    }
}

/// Runs until the `Live` is gone or closed.
async fn follow(inner: std::sync::Weak<Inner>) {
    let Some(live) = inner.upgrade() else { return };
    let (store, mut closing) = (live.store.clone(), live.closing.subscribe());
    drop(live);
    let send = |heard: Heard| match inner.upgrade() {
        Some(live) => {
            let _ = live.changes.send(heard);
            true
        }
        None => false,
    };
    let mut last = loop {
        match store.last_change().await {
            Ok(id) => break id,
            Err(e) => {
                tracing::warn!(error = %e, "the desk's change follower cannot read the outbox; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(BACKOFF) => {},
                    _ = closing.changed() => return,
                }
            }
        }
    };
    let mut listener = None;
    loop {
        if *closing.borrow() {
            return;
        }
        if matches!(store.db(), store::Db::Postgres(_)) {
            if listener.is_none() {
                match store.listen_changes().await {
                    Ok(l) => {
                        listener = l;
                        // Whatever committed before the listener was in place may be missed.
                        if !send(Heard::Missed) {
                            return;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "the desk's change follower cannot listen; retrying"),
                }
            }
            let heard = match listener.as_mut() {
                Some(l) => tokio::select! {
                    heard = l.next() => heard,
                    _ = closing.changed() => return,
                },
                None => {
                    tokio::select! {
                        _ = tokio::time::sleep(BACKOFF) => {},
                        _ = closing.changed() => return,
                    }
                    continue;
                }
            };
            let alive = match heard {
                Ok(heard) => send(heard),
                Err(e) => {
                    tracing::warn!(error = %e, "the desk's change listener failed; reconnecting");
                    listener = None;
                    send(Heard::Missed)
                }
            };
            if !alive {
                return;
            }
        } else {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {},
                _ = closing.changed() => return,
            }
            match store.changes_after(last, 1000).await {
                Ok(rows) => {
                    let mut clinics: Vec<i64> = Vec::new();
                    for (id, clinic) in rows {
                        last = last.max(id);
                        if !clinics.contains(&clinic) {
                            clinics.push(clinic);
                        }
                    }
                    for clinic in clinics {
                        if !send(Heard::Clinic(clinic)) {
                            return;
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the desk's change follower cannot read the outbox; retrying");
                    if !send(Heard::Missed) {
                        return;
                    }
                    tokio::time::sleep(BACKOFF).await;
                }
            }
        }
    }
}

/// Who a stream is for, checked when it opens and again every `RECHECK`.
#[derive(Clone)]
enum Viewer {
    Staff { token: String },
    Display { location_id: i64, key: String },
}

impl Viewer {
    /// The viewer's clinic while the session or the link is valid.
    async fn clinic(&self, live: &Live) -> Option<i64> {
        let store = &live.inner.store;
        let found = match self {
            Viewer::Staff { token } => store.staff_session(token, live.inner.clock.now()).await.map(|s| s.map(|s| s.user.clinic_id)),
            Viewer::Display { location_id, key } => store.open_display_link(*location_id, key).await.map(|l| l.map(|l| l.clinic_id)),
        };
        found.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot check a live stream's viewer");
            None
        })
    }
}

pub fn routes<S: Clone + Send + Sync + 'static>(live: Live) -> Router<S> {
    Router::new()
        .route("/desk/events", get(desk_events))
        .route("/desk/display/{location}/events", get(display_events))
        .with_state(live)
}

async fn desk_events(State(live): State<Live>, headers: HeaderMap) -> Response {
    match app::admin::session::token_in(&headers) {
        Some(token) => stream(live, Viewer::Staff { token }).await,
        None => refused(),
    }
}

#[derive(Deserialize)]
struct DisplayKey {
    key: Option<String>,
}

async fn display_events(State(live): State<Live>, Path(location): Path<String>, Query(q): Query<DisplayKey>) -> Response {
    match (location.parse::<i64>(), q.key) {
        (Ok(location_id), Some(key)) => stream(live, Viewer::Display { location_id, key }).await,
        _ => refused(),
    }
}

/// The same answer for no session, an expired one and a revoked link: nothing to see.
fn refused() -> Response {
    (StatusCode::UNAUTHORIZED, [(axum::http::header::CACHE_CONTROL, "no-store")], "no live updates without a valid session or display link").into_response()
}

struct Follower {
    live: Live,
    viewer: Viewer,
    clinic: i64,
    rx: broadcast::Receiver<Heard>,
    closing: watch::Receiver<bool>,
    recheck: tokio::time::Interval,
    greeted: bool,
}

async fn stream(live: Live, viewer: Viewer) -> Response {
    let Some(clinic) = viewer.clinic(&live).await else { return refused() };
    let rx = live.subscribe();
    let closing = live.inner.closing.subscribe();
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.reset();
    let state = Follower { live, viewer, clinic, rx, closing, recheck, greeted: false };
    let events = futures_util::stream::unfold(state, |mut s| async move {
        if !s.greeted {
            s.greeted = true;
            let hello = Event::default().event("sync").retry(Duration::from_secs(1)).data("connected");
            return Some((Ok::<_, std::convert::Infallible>(hello), s));
        }
        loop {
            if *s.closing.borrow() {
                return None;
            }
            tokio::select! {
                heard = s.rx.recv() => {
                    let event = match heard {
                        Ok(Heard::Clinic(c)) if c == s.clinic => "change",
                        Ok(Heard::Clinic(_)) => continue,
                        Ok(Heard::Missed) | Err(broadcast::error::RecvError::Lagged(_)) => "sync",
                        Err(broadcast::error::RecvError::Closed) => return None,
                    };
                    // A burst of changes (an import, a busy minute) becomes one refresh.
                    while let Ok(Heard::Clinic(_) | Heard::Missed) = s.rx.try_recv() {}
                    return Some((Ok(Event::default().event(event).data(s.clinic.to_string())), s));
                }
                _ = s.recheck.tick() => {
                    if s.viewer.clinic(&s.live).await != Some(s.clinic) {
                        return None;
                    }
                }
                _ = s.closing.changed() => return None,
            }
        }
    });
    let mut response = Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response();
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    response
}
