//! The mail worker: turns outbox events into patient e-mails (`Store::queue_emails`), claims
//! the messages that are due, renders and sends them, and records each outcome. Every server
//! instance runs one; leases keep instances from sending the same message at once.
//!
//! Delivery is at least once. A message the SMTP server accepted is sent again only when the
//! worker dies between the server's answer and recording it (or its lease runs out first); it
//! goes out with the same Message-ID, which mail systems use to drop duplicates. Without an
//! SMTP server configured, messages are written as files to a folder, one file per message
//! (a second write replaces the first), so a demo shows what patients would receive.

use chrono::{DateTime, Utc};
use domain::notify::{send_outcome, SendOutcome};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rand::Rng;
use std::path::PathBuf;
use std::time::Duration;
use store::emails::{DueEmail, EmailAttempt};
use store::links::{LinkClaims, LinkKey, LINK_GRACE};
use store::{Clock, Store};
use std::sync::Arc;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

/// Where messages go.
#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Written as `.eml` files to this folder.
    Folder(PathBuf),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Smtp(_) => f.write_str("SMTP"),
            Transport::Folder(dir) => write!(f, "folder {}", dir.display()),
        }
    }
}

/// How long one SMTP exchange may take, connection included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(20);

impl Transport {
    /// An SMTP transport from `BOOKING_SMTP_URL`: `smtp://user:password@host:587?tls=required`
    /// (STARTTLS), `smtps://user:password@host` (TLS from the start), `smtp://host:25` (plain,
    /// for a relay on the same machine or network).
    pub fn smtp(url: &str) -> Result<Transport, String> {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| format!("BOOKING_SMTP_URL: {e}"))?;
        let pool = lettre::transport::smtp::PoolConfig::new().max_size(4).idle_timeout(Duration::from_secs(30));
        Ok(Transport::Smtp(builder.timeout(Some(SEND_TIMEOUT)).pool_config(pool).build()))
    }
}

#[derive(Debug, Clone)]
pub struct MailOptions {
    pub transport: Transport,
    /// The From of clinics that set no sender of their own (`BOOKING_MAIL_FROM`).
    pub default_sender: String,
    /// Where patients reach this server: the manage and booking links start with it.
    pub public_url: String,
    pub link_key: LinkKey,
    /// How long a claimed message belongs to this worker; longer than `SEND_TIMEOUT`.
    pub lease: Duration,
    /// Pause between looks at the queue when there was nothing to do.
    pub idle_poll: Duration,
    /// Messages claimed at once, and recorded together.
    pub batch: usize,
    /// Messages sent at once (connections to the SMTP server).
    pub concurrency: usize,
    pub clock: Clock,
}

impl MailOptions {
    pub fn new(transport: Transport, default_sender: String, public_url: String, link_key: LinkKey) -> MailOptions {
        MailOptions {
            transport,
            default_sender,
            public_url,
            link_key,
            lease: Duration::from_secs(60),
            idle_poll: Duration::from_millis(500),
            batch: 32,
            concurrency: 4,
            clock: Clock::system(),
        }
    }
}

/// Why a message could not be made or sent, for the record staff read.
#[derive(Debug)]
struct Failed {
    outcome: SendOutcome,
    error: String,
}

/// The links a message carries.
pub fn links(options: &MailOptions, m: &DueEmail) -> app::mail::Links {
    let v = &m.appointment;
    let manage = v.booker_id.map(|patient_id| {
        let token = store::links::sign(&options.link_key, &LinkClaims { appointment_id: v.id, patient_id, expires_at: v.end + LINK_GRACE });
        format!("{}/manage/{token}", options.public_url)
    });
    app::mail::Links { manage, book: format!("{}/book/{}", options.public_url, v.clinic.slug.as_str()) }
}

/// The host part of Message-IDs: the public URL's host.
fn id_host(public_url: &str) -> String {
    url::Url::parse(public_url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| "localhost".into())
}

/// The message as it goes out: text and HTML alternatives and the calendar file (marked
/// cancelled for a cancellation, so that calendars drop the entry).
pub fn compose(options: &MailOptions, m: &DueEmail, now: DateTime<Utc>) -> Result<Message, String> {
    let links = links(options, m);
    let letter = app::mail::render(m, &links);
    let sender = match m.settings.sender.trim() {
        "" => options.default_sender.as_str(),
        own => own,
    };
    let (sender_name, sender_address) = domain::notify::sender_parts(sender);
    let from = Mailbox::new(
        sender_name.map(str::to_owned),
        sender_address.parse().map_err(|e| format!("the sender {sender:?} is not an address: {e}"))?,
    );
    let address = m.recipient.parse().map_err(|e| format!("the patient's address is not valid: {e}"))?;
    let name = Some(m.recipient_name.clone()).filter(|n| !n.is_empty());
    let ics = domain::ics::calendar(&app::mail::calendar_event(m, &links), now);
    let calendar_type = ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH").expect("a valid content type");
    let body = MultiPart::mixed()
        .multipart(MultiPart::alternative().singlepart(SinglePart::plain(letter.text)).singlepart(SinglePart::html(letter.html)))
        .singlepart(Attachment::new("appointment.ics".to_owned()).body(ics, calendar_type));
    Message::builder()
        .from(from)
        .to(Mailbox::new(name, address))
        .subject(letter.subject)
        // The same on every attempt of this message, so a resent copy is recognised.
        .message_id(Some(format!("<email-{}.{}@{}>", m.id, m.appointment.clinic.slug.as_str(), id_host(&options.public_url))))
        .date(now.into())
        .multipart(body)
        .map_err(|e| format!("the message could not be built: {e}"))
}

/// SMTP replies that say the server refused our login, not the message: the operator's
/// configuration, to retry once it is fixed rather than fail every patient's message.
fn login_refused(code: u16) -> bool {
    matches!(code, 530 | 534 | 535 | 538)
}

/// Sends one message; the outcome and, unless sent, why.
pub async fn send(options: &MailOptions, m: &DueEmail, now: DateTime<Utc>) -> (SendOutcome, Option<String>) {
    let message = match compose(options, m, now) {
        Ok(message) => message,
        // The same message will not build next time either.
        Err(error) => return (SendOutcome::Rejected, Some(error)),
    };
    match deliver(&options.transport, m, &message).await {
        Ok(()) => (SendOutcome::Sent, None),
        Err(Failed { outcome, error }) => (outcome, Some(error)),
    }
}

async fn deliver(transport: &Transport, m: &DueEmail, message: &Message) -> Result<(), Failed> {
    match transport {
        // The whole exchange within the limit: lettre's own timeout is per read and write, and
        // a server that stops answering mid-exchange held a message for a minute.
        Transport::Smtp(smtp) => match tokio::time::timeout(SEND_TIMEOUT, smtp.send(message.clone())).await {
            Err(_) => Err(Failed { outcome: SendOutcome::Retry, error: format!("no answer within {} s", SEND_TIMEOUT.as_secs()) }),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                let code = e.status().map(u16::from);
                let outcome = match code {
                    Some(code) if login_refused(code) => SendOutcome::Retry,
                    code => send_outcome(code),
                };
                if e.is_tls() || e.is_client() || code.is_some_and(login_refused) {
                    // The operator's to fix: the log says so loudly; the message waits.
                    tracing::error!(error = %e, "the SMTP server refused this server's connection or login; check BOOKING_SMTP_URL");
                }
                let error = match code {
                    // "550 5.1.1 <a@b.de>: mailbox unavailable": the code and the server's own
                    // words, without the library's "permanent error (550): " around them.
                    Some(code) => {
                        let text = e.to_string();
                        format!("{code} {}", text.split_once("): ").map_or(text.as_str(), |(_, said)| said))
                    }
                    None if e.is_timeout() => format!("no answer within {} s", SEND_TIMEOUT.as_secs()),
                    None => format!("could not reach the mail server: {e}"),
                };
                Err(Failed { outcome, error })
            }
        },
        Transport::Folder(dir) => {
            let write = || -> std::io::Result<()> {
                std::fs::create_dir_all(dir)?;
                let name = format!("{:08}-{}.eml", m.id, m.kind.as_str());
                // Written whole, then renamed: a reader never sees half a message.
                let partial = dir.join(format!(".{name}.partial"));
                std::fs::write(&partial, message.formatted())?;
                std::fs::rename(&partial, dir.join(name))
            };
            write().map_err(|e| Failed { outcome: SendOutcome::Retry, error: format!("could not write to {}: {e}", dir.display()) })
        }
    }
}

/// Runs the worker until `stop` turns true; the batch in hand is finished and recorded first.
pub async fn run(store: Store, options: MailOptions, mut stop: watch::Receiver<bool>) {
    let lease = chrono::Duration::from_std(options.lease).unwrap_or(chrono::Duration::seconds(60));
    let written = store.outbox_mailable();
    let mut failures = 0u32;
    tracing::info!(transport = ?options.transport, "patient e-mails are on");
    while !*stop.borrow() {
        let round = async {
            let queued = store.queue_emails(options.clock.now()).await?;
            let claimed = store.claim_emails(options.clock.now(), options.batch as i64, lease).await?;
            Ok::<_, store::StoreError>((queued, claimed))
        };
        let busy = match round.await {
            Ok((queued, claimed)) => {
                failures = 0;
                let busy = queued > 0 || !claimed.is_empty();
                let mut sending = JoinSet::new();
                let slots = Arc::new(Semaphore::new(options.concurrency.max(1)));
                for m in claimed {
                    let (options, slots) = (options.clone(), slots.clone());
                    sending.spawn(async move {
                        let _slot = slots.acquire_owned().await.expect("the semaphore is never closed");
                        let (outcome, error) = send(&options, &m, options.clock.now()).await;
                        if let Some(error) = &error {
                            let error = domain::notify::without_addresses(error);
                            tracing::warn!(email = m.id, kind = m.kind.as_str(), attempt = m.attempt, error, "patient e-mail not sent");
                        }
                        EmailAttempt { id: m.id, attempt: m.attempt, outcome, error, at: options.clock.now(), jitter: rand::rng().random::<f64>() }
                    });
                }
                let mut attempts = Vec::new();
                while let Some(done) = sending.join_next().await {
                    match done {
                        Ok(attempt) => attempts.push(attempt),
                        Err(e) => tracing::error!(error = %e, "an e-mail task failed; its lease runs out and it is tried again"),
                    }
                }
                record(&store, &attempts).await;
                busy
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::error!(error = %e, "e-mail queue unavailable; retrying");
                false
            }
        };
        if !busy {
            let pause = options.idle_poll * 2u32.saturating_pow(failures.min(4));
            tokio::select! {
                _ = written.notified(), if failures == 0 => {}
                waited = tokio::time::timeout(pause.min(Duration::from_secs(5)), stop.changed()) => {
                    if let Ok(Err(_)) = waited {
                        break; // the owner is gone
                    }
                }
            }
        }
    }
}

/// Records outcomes, trying a few times: a message whose outcome is lost is sent again when
/// its lease runs out (at least once).
async fn record(store: &Store, attempts: &[EmailAttempt]) {
    for tries in 1..=4u64 {
        match store.record_emails(attempts).await {
            Ok(()) => return,
            Err(e) if tries == 4 => tracing::error!(error = %e, messages = attempts.len(), "could not record e-mail outcomes"),
            Err(e) => {
                tracing::warn!(error = %e, "recording e-mail outcomes failed; trying again");
                tokio::time::sleep(Duration::from_millis(20 * tries)).await;
            }
        }
    }
}

/// Starts the worker on the runtime; send `true` on the returned sender to stop it.
pub fn spawn(store: Store, options: MailOptions) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = watch::channel(false);
    (stop, tokio::spawn(run(store, options, stopped)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_login_waits_for_the_operator_instead_of_failing_the_message() {
        for code in [530, 534, 535, 538] {
            assert!(login_refused(code), "{code}");
        }
        for code in [550, 551, 552, 553, 554, 450, 451] {
            assert!(!login_refused(code), "{code}");
        }
    }

    #[test]
    fn message_ids_name_the_public_host() {
        assert_eq!(id_host("https://booking.example-clinic.de"), "booking.example-clinic.de");
        assert_eq!(id_host("http://127.0.0.1:3000"), "127.0.0.1");
        assert_eq!(id_host("not a url"), "localhost");
    }
}
