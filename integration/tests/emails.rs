//! Patient e-mails end to end on both backends: bookings, moves and cancellations made through
//! the widget's forms, the bot API, the voice endpoint and the desk's API; the mail worker; and
//! a real SMTP server (aiosmtpd, `scripts/smtp-sink.py`) that keeps what it accepts, can be
//! stopped and started again, and refuses addresses for good or for now. What arrived is read
//! as a mail client reads it: MIME decoded, the calendar file parsed by an iCalendar reader.

mod support;

use chrono::{DateTime, Duration, Utc};
use mail_parser::MimeHeaders;
use serde_json::{json, Value};
use server::api::ApiOptions;
use server::mail::{MailOptions, Transport};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use store::credentials::CredentialKind;
use store::links::LinkKey;
use store::on_both_backends;
use store::testing::{scalar_i64, TestDb};
use store::Clock;
use support::{spawn_with, Api, DEMO_VOICE_KEY, LINK_PASSPHRASE};
use tokio::sync::watch;

/// The SMTP server of one test, on its own port and folder.
struct Sink {
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
    /// `user:password` the server wants before it takes a message.
    login: Option<String>,
}

impl Sink {
    fn start() -> Sink {
        Sink::start_with(None)
    }

    fn start_with(login: Option<&str>) -> Sink {
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("booking_test_mail_{}_{n}_{}", std::process::id(), Utc::now().timestamp_nanos_opt().unwrap_or(0)));
        let mut sink = Sink { dir, port: 0, child: None, login: login.map(str::to_owned) };
        sink.run();
        sink
    }

    /// Starts the server (again, on the same port once it has one).
    fn run(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/smtp-sink.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(&self.dir)
            .arg(self.port.to_string())
            .args(self.login.iter())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs scripts/smtp-sink.py (scripts/setup.sh --test installs aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().rsplit(':').next().and_then(|p| p.parse().ok());
        self.port = port.unwrap_or_else(|| panic!("the SMTP sink did not start: {line:?}"));
        self.child = Some(child);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn received(&self) -> Vec<Mail> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect(),
            Err(_) => Vec::new(),
        };
        files.sort();
        files.iter().map(|f| Mail::parse(&std::fs::read(f).unwrap())).collect()
    }

    /// Waits until `done` holds for what arrived, or fails after `secs`.
    async fn wait_for(&self, secs: u64, what: &str, done: impl Fn(&[Mail]) -> bool) -> Vec<Mail> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let got = self.received();
            if done(&got) {
                return got;
            }
            assert!(tokio::time::Instant::now() < deadline, "gave up waiting for {what}; got {:#?}", got.iter().map(|m| (&m.to, &m.subject)).collect::<Vec<_>>());
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One message as a mail client shows it.
#[derive(Debug, Clone)]
struct Mail {
    to: String,
    to_name: String,
    from: String,
    subject: String,
    message_id: String,
    text: String,
    html: String,
    /// The attached calendar file, parsed: the event's properties by name.
    event: Option<std::collections::HashMap<String, String>>,
}

impl Mail {
    fn parse(raw: &[u8]) -> Mail {
        let m = mail_parser::MessageParser::default().parse(raw).expect("a MIME message");
        let to = m.to().and_then(|a| a.first()).expect("a recipient");
        let from = m.from().and_then(|a| a.first()).expect("a sender");
        let event = m.attachments().find(|a| a.attachment_name() == Some("appointment.ics")).map(|a| {
            let text = String::from_utf8(a.contents().to_vec()).unwrap();
            assert!(text.contains("\r\n"), "iCalendar lines end in CRLF");
            let mut calendars = ical::IcalParser::new(BufReader::new(text.as_bytes()));
            let calendar = calendars.next().expect("one calendar").expect("a valid calendar");
            assert!(calendars.next().is_none());
            assert_eq!(calendar.events.len(), 1, "{text}");
            let method = calendar.properties.iter().find(|p| p.name == "METHOD").and_then(|p| p.value.clone());
            assert_eq!(method.as_deref(), Some("PUBLISH"));
            calendar.events[0].properties.iter().map(|p| (p.name.clone(), p.value.clone().unwrap_or_default())).collect()
        });
        Mail {
            to: to.address().unwrap_or_default().to_owned(),
            to_name: to.name().unwrap_or_default().to_owned(),
            from: from.address().unwrap_or_default().to_owned(),
            subject: m.subject().unwrap_or_default().to_owned(),
            message_id: m.message_id().unwrap_or_default().to_owned(),
            text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
            html: m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
            event,
        }
    }

    /// The first link in the text that starts with `prefix`.
    fn link(&self, prefix: &str) -> String {
        let at = self.text.find(prefix).unwrap_or_else(|| panic!("no {prefix} link in\n{}", self.text));
        self.text[at..].split_whitespace().next().unwrap().to_owned()
    }
}

/// `20261214T080000Z` as an instant.
fn ics_time(v: &str) -> DateTime<Utc> {
    chrono::NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%SZ").unwrap().and_utc()
}

fn to<'a>(mails: &'a [Mail], address: &str) -> Vec<&'a Mail> {
    mails.iter().filter(|m| m.to == address).collect()
}

/// A mail worker against `sink`, polling often, on `clock`; stopped when the sender drops.
fn mail_worker(api: &Api, sink: &Sink, clock: Clock) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    mail_worker_at(api, &sink.url(), clock)
}

/// The same against the SMTP server at `url`.
fn mail_worker_at(api: &Api, url: &str, clock: Clock) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let options = MailOptions {
        idle_poll: std::time::Duration::from_millis(20),
        lease: std::time::Duration::from_secs(30),
        clock,
        ..MailOptions::new(
            Transport::smtp(url).unwrap(),
            "Bookings <bookings@clinic.example>".into(),
            api.base.clone(),
            LinkKey::from_passphrase(LINK_PASSPHRASE),
        )
    };
    server::mail::spawn(api.store.clone(), options)
}

async fn stop(worker: (watch::Sender<bool>, tokio::task::JoinHandle<()>)) {
    worker.0.send(true).unwrap();
    worker.1.await.unwrap();
}

impl Api {
    async fn book_as(&self, slot: &Value, first: &str, email: &str) -> String {
        let booked = self
            .post("/appointments", json!({ "slotId": slot["slotId"], "patient": {
                "firstName": first, "lastName": "Berg", "dob": "1985-07-25", "phone": "+49 30 1234567", "email": email,
            }}))
            .await;
        assert_eq!(booked.status, 201, "{}", booked.body);
        booked.body["appointmentId"].as_str().unwrap().to_owned()
    }

    async fn voice(&self, body: Value) -> Value {
        let answer = self.send(self.http.post(format!("{}/api/voicebot", self.base)).json(&body)).await;
        assert_eq!(answer.status, 200, "{body}: {}", answer.body);
        answer.body
    }

    /// Books through the widget's forms, as a browser without JavaScript does: the manage
    /// page's path.
    async fn widget_booking(&self, email: &str) -> String {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut slot = None;
        for ahead in 3..20 {
            let date = (self.now() + Duration::days(ahead)).date_naive();
            let page = http.get(format!("{}/book/demo?date={date}", self.base)).send().await.unwrap().text().await.unwrap();
            if let Some(at) = page.find(r#"name="slot" value=""#) {
                let rest = &page[at + r#"name="slot" value=""#.len()..];
                slot = Some(rest[..rest.find('"').unwrap()].to_owned());
                break;
            }
        }
        let slot = slot.expect("a free time within three weeks");
        let post = |function: &str, form: Vec<(&str, String)>| {
            http.post(format!("{}/api/{function}", self.base)).header("Accept", "text/html").header("Referer", format!("{}/book/demo", self.base)).form(&form).send()
        };
        let held = post("hold_slot", vec![("clinic", "demo".into()), ("slot", slot.clone())]).await.unwrap();
        let details = held.headers()["location"].to_str().unwrap().to_owned();
        let hold = details.split("hold=").nth(1).unwrap().split('&').next().unwrap().to_owned();
        let form = vec![
            ("clinic", "demo".to_owned()),
            ("hold", hold),
            ("slot", slot),
            ("booker[firstname]", "Wiebke".into()),
            ("booker[lastname]", "Widget".into()),
            ("booker[phone]", "+49 30 7654321".into()),
            ("booker[email]", email.into()),
            ("booker[dob]", "1979-02-03".into()),
        ];
        let booked = post("confirm_booking", form).await.unwrap();
        let manage = booked.headers()["location"].to_str().unwrap().to_owned();
        assert!(manage.starts_with("/manage/"), "{manage}");
        manage
    }

    /// Books by phone through the voice endpoint, for a caller and the child who attends.
    async fn voice_booking(&self, email: &str) -> String {
        let voice = self.as_user("demo-voice", DEMO_VOICE_KEY);
        let types = voice.voice(json!({ "action": "getAppointmentTypes", "entityId": "demo" })).await;
        let physio = types[1]["id"].as_str().unwrap().to_owned();
        let products = voice.voice(json!({ "action": "getProducts", "entityId": "demo", "appointmentTypeId": physio })).await;
        let product = products[0]["id"].as_str().unwrap().to_owned();
        for ahead in 3..24 {
            let day = (self.now() + Duration::days(ahead)).with_timezone(&chrono_tz::Europe::Berlin).date_naive().to_string();
            let slots = voice.voice(json!({ "action": "getSlots", "appointmentTypeId": physio, "productId": product, "dateTime": day, "timezone": "Europe/Berlin" })).await;
            // The last time of the day: the other sources take the first ones.
            if let Some(slot) = slots.as_array().unwrap().last() {
                let booked = voice
                    .voice(json!({
                        "action": "bookAppointment", "appointmentTypeId": physio, "productId": product,
                        "slotId": slot["avId"], "start": slot["slotStart"],
                        "booker": { "firstname": "Vera", "lastname": "Voss", "email": email, "dob": "1980-01-01", "phone": "+49 341 1234567" },
                        "participant": { "firstname": "Vicky", "lastname": "Voss", "dob": "2014-05-06" },
                    }))
                    .await;
                return booked["bookingId"].as_str().unwrap().to_owned();
            }
        }
        panic!("no free time by phone within three weeks");
    }

    async fn desk(&self) -> Api {
        let issued = self.store.create_credential(self.clinic_id, None, "desk", CredentialKind::Staff, None, self.now()).await.unwrap();
        self.as_user("desk", &issued.key)
    }

    async fn email_state(&self, appointment: &str, kind: &str) -> Vec<String> {
        let rows: Vec<String> = match self.store.db() {
            store::Db::Sqlite(pool) => sqlx::query_scalar("SELECT state FROM patient_emails WHERE appointment_id = $1 AND kind = $2 ORDER BY id")
                .bind(appointment.parse::<i64>().unwrap()).bind(kind).fetch_all(pool).await.unwrap(),
            store::Db::Postgres(pool) => sqlx::query_scalar("SELECT state FROM patient_emails WHERE appointment_id = $1 AND kind = $2 ORDER BY id")
                .bind(appointment.parse::<i64>().unwrap()).bind(kind).fetch_all(pool).await.unwrap(),
        };
        rows
    }
}

async fn each_source_sends_one_confirmation_with_a_working_manage_link_and_calendar_file(db: TestDb) {
    let api = spawn_with(db, ApiOptions::default()).await;
    let sink = Sink::start();
    let _worker = mail_worker(&api, &sink, api.clock);
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;

    let bot = api.book_as(&slots[0], "Bodo", "bot.patient@example.org").await;
    let widget_manage = api.widget_booking("widget.patient@example.org").await;
    let voice = api.voice_booking("voice.caller@example.org").await;
    let desk = api.desk().await;
    let by_desk = desk
        .post("/staff/appointments", json!({ "calendarId": cal, "appointmentTypeId": kind, "start": slots[4]["start"],
            "patient": { "name": "Dana Desk", "dob": "1960-01-01", "phone": "+49 30 5550000", "email": "desk.patient@example.org" } }))
        .await;
    assert_eq!(by_desk.status, 201, "{}", by_desk.body);
    let by_desk = by_desk.body["appointmentId"].as_str().unwrap().to_owned();
    let widget = api.count("SELECT a.id FROM appointments a JOIN patients p ON p.id = a.booker_id WHERE p.email = 'widget.patient@example.org'").await.to_string();

    let addresses = ["bot.patient@example.org", "widget.patient@example.org", "voice.caller@example.org", "desk.patient@example.org"];
    sink.wait_for(20, "a confirmation for each source", |m| addresses.iter().all(|a| !to(m, a).is_empty())).await;
    // Anything sent twice would arrive within moments of the first copy.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let mails = sink.received();
    for (address, id) in addresses.iter().zip([&bot, &widget, &voice, &by_desk]) {
        let mine = to(&mails, address);
        assert_eq!(mine.len(), 1, "exactly one message to {address}: {mine:#?}");
        let m = mine[0];
        let appointment = api.get(&format!("/appointments/{id}")).await.body;
        assert!(m.subject.starts_with("Appointment confirmed: "), "{}", m.subject);
        assert_eq!(m.from, "appointments@stadtpark-clinic.example", "the clinic's own sender");
        let reference = format!("A-{:06}", id.parse::<i64>().unwrap());
        assert!(m.text.contains(&reference) && m.html.contains(&reference), "{}", m.text);
        assert!(m.text.contains("Please bring your insurance card"), "the clinic's note: {}", m.text);
        assert!(m.text.contains(appointment["calendarName"].as_str().unwrap()), "{}", m.text);
        // Nothing about the patient beyond the name it greets.
        for private in ["1985-07-25", "1980-01-01", "1979-02-03", "1960-01-01", "1234567", "7654321", "5550000", address] {
            assert!(!m.text.contains(private) && !m.html.contains(private), "{private} in the message to {address}");
        }
        let manage = m.link(&format!("{}/manage/", api.base));
        let page = reqwest::get(&manage).await.unwrap();
        assert_eq!(page.status(), 200, "{manage}");
        assert!(page.text().await.unwrap().contains(&reference), "the link opens this appointment");
        let event = m.event.as_ref().expect("a calendar file");
        let start = DateTime::parse_from_rfc3339(appointment["start"].as_str().unwrap()).unwrap().with_timezone(&Utc);
        let end = DateTime::parse_from_rfc3339(appointment["end"].as_str().unwrap()).unwrap().with_timezone(&Utc);
        assert_eq!(ics_time(&event["DTSTART"]), start, "{event:?}");
        assert_eq!(ics_time(&event["DTEND"]), end);
        assert_eq!(event["UID"], format!("appointment-{id}@demo"));
        assert_eq!(event["STATUS"], "CONFIRMED");
        assert_eq!(event["URL"], manage);
        assert!(m.message_id.ends_with("@127.0.0.1"), "{}", m.message_id);
    }
    // The caller booked for a child: the message goes to the caller, greeting the caller.
    assert_eq!(to(&mails, "voice.caller@example.org")[0].to_name, "Vera Voss");
    // The widget's own manage link and the e-mail's open the same appointment.
    assert!(to(&mails, "widget.patient@example.org")[0].text.contains(&widget_manage[..widget_manage.find('?').unwrap_or(widget_manage.len())]));
}

async fn a_move_and_a_cancellation_send_their_messages_and_only_the_true_reminder_goes_out_once(db: TestDb) {
    let api = spawn_with(db, ApiOptions::default()).await;
    let sink = Sink::start();
    let worker = mail_worker(&api, &sink, api.clock);
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    let moved = api.book_as(&slots[0], "Mona", "mona@example.org").await;
    let cancelled = api.book_as(&slots[1], "Carl", "carl@example.org").await;
    let answer = api.put(&format!("/appointments/{moved}/reschedule"), json!({ "slotId": slots[3]["slotId"] })).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = api.put(&format!("/appointments/{cancelled}/cancel"), json!({ "reason": "feeling better" })).await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    let mails = sink.wait_for(20, "two confirmations, a move and a cancellation", |m| m.len() >= 4).await;
    let mona = to(&mails, "mona@example.org");
    let carl = to(&mails, "carl@example.org");
    assert_eq!(mona.len(), 2, "{mona:#?}");
    assert_eq!(carl.len(), 2, "{carl:#?}");
    let new_start = DateTime::parse_from_rfc3339(slots[3]["start"].as_str().unwrap()).unwrap().with_timezone(&Utc);
    let old_start = DateTime::parse_from_rfc3339(slots[0]["start"].as_str().unwrap()).unwrap().with_timezone(&Utc);
    let move_mail = mona.iter().find(|m| m.subject.starts_with("Appointment moved: ")).expect("a message about the move");
    assert!(move_mail.text.contains("Before:"), "{}", move_mail.text);
    let event = move_mail.event.as_ref().unwrap();
    assert_eq!(ics_time(&event["DTSTART"]), new_start);
    assert_eq!(event["SEQUENCE"], "1", "the move raises the sequence, so calendars update the entry");
    let first = mona.iter().find(|m| m.subject.starts_with("Appointment confirmed: ")).unwrap();
    assert_eq!(ics_time(&first.event.as_ref().unwrap()["DTSTART"]), old_start, "the confirmation names the time as booked");
    let cancel_mail = carl.iter().find(|m| m.subject.starts_with("Appointment cancelled: ")).expect("a message about the cancellation");
    assert!(cancel_mail.text.contains("your appointment is cancelled") && cancel_mail.text.contains("feeling better"), "{}", cancel_mail.text);
    assert!(cancel_mail.text.contains(&format!("{}/book/demo", api.base)), "a way to book again: {}", cancel_mail.text);
    assert_eq!(cancel_mail.event.as_ref().unwrap()["STATUS"], "CANCELLED");
    assert!(sink.received().iter().all(|m| !m.subject.starts_with("Reminder")), "no reminder before its time");
    stop(worker).await;

    // A day passes: the clock stands 23 hours before the moved appointment, after every
    // reminder's time. Only the moved appointment's reminder, for its new time, goes out.
    let later = Clock::starting_at(new_start - Duration::hours(23));
    let worker = mail_worker(&api, &sink, later);
    let mails = sink.wait_for(20, "the reminder", |m| m.iter().any(|m| m.subject.starts_with("Reminder: "))).await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    stop(worker).await;
    // A second worker, as after a restart: the reminder was sent and stays sent.
    let again = mail_worker(&api, &sink, later);
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    stop(again).await;
    let reminders: Vec<Mail> = sink.received().into_iter().filter(|m| m.subject.starts_with("Reminder: ")).collect();
    assert_eq!(reminders.len(), 1, "{reminders:#?}");
    assert_eq!(reminders[0].to, "mona@example.org");
    assert_eq!(ics_time(&reminders[0].event.as_ref().unwrap()["DTSTART"]), new_start);
    assert!(reminders[0].text.contains("turn reminders off"), "{}", reminders[0].text);
    assert_eq!(sink.received().len(), mails.len());
    assert_eq!(api.email_state(&moved, "reminder").await, ["skipped", "sent"], "the old time's reminder was skipped");
    assert_eq!(api.email_state(&cancelled, "reminder").await, ["skipped"]);
}

async fn changes_looked_at_in_one_batch_leave_only_the_true_reminder(db: TestDb) {
    let api = spawn_with(db, ApiOptions::default()).await;
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    let moved = api.book_as(&slots[0], "Mona", "mona@example.org").await;
    let cancelled = api.book_as(&slots[1], "Carl", "carl@example.org").await;
    assert_eq!(api.put(&format!("/appointments/{moved}/reschedule"), json!({ "slotId": slots[3]["slotId"] })).await.status, 200);
    assert_eq!(api.put(&format!("/appointments/{cancelled}/cancel"), json!({ "reason": "" })).await.status, 200);
    // No worker ran: one look takes all four events at once.
    assert_eq!(api.store.queue_emails(api.now()).await.unwrap(), 4);
    assert_eq!(api.store.queue_emails(api.now()).await.unwrap(), 0, "each event is looked at once");
    assert_eq!(api.email_state(&moved, "reminder").await, ["skipped", "pending"]);
    assert_eq!(api.email_state(&moved, "confirmation").await, ["pending"]);
    assert_eq!(api.email_state(&moved, "rescheduled").await, ["pending"]);
    assert_eq!(api.email_state(&cancelled, "reminder").await, ["skipped"]);
    assert_eq!(api.email_state(&cancelled, "cancelled").await, ["pending"]);
    let new_start = DateTime::parse_from_rfc3339(slots[3]["start"].as_str().unwrap()).unwrap().with_timezone(&Utc);
    let due = scalar_i64(&api.store, &format!("SELECT COUNT(*) FROM patient_emails WHERE appointment_id = {moved} AND kind = 'reminder' AND state = 'pending'")).await;
    assert_eq!(due, 1);
    let log = api.store.appointment_emails(api.clinic_id, moved.parse().unwrap()).await.unwrap();
    let reminder = log.iter().find(|e| e.kind == domain::notify::MessageKind::Reminder && e.state == "pending").unwrap();
    assert_eq!(reminder.at, new_start - Duration::hours(24), "the day before the new time");
}

async fn a_patient_who_turned_reminders_off_and_a_clinic_that_turned_a_message_off_get_none(db: TestDb) {
    let api = spawn_with(db, ApiOptions::default()).await;
    let sink = Sink::start();
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    let actor = store::staff::Actor::cli();
    let off = domain::notify::NotificationSettings { confirmation: false, ..api.store.notification_settings(api.clinic_id).await.unwrap() };
    assert!(api.store.update_notification_settings(api.clinic_id, &actor, &off, api.now()).await.unwrap());
    let quiet = api.book_as(&slots[0], "Quinn", "quinn@example.org").await;
    let worker = mail_worker(&api, &sink, api.clock);
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    stop(worker).await;
    assert!(sink.received().is_empty(), "no confirmation once the clinic turned it off");
    assert_eq!(api.email_state(&quiet, "reminder").await, ["pending"], "the reminder is still scheduled");
    api.store.set_reminder_wanted(quiet.parse().unwrap(), false, api.now()).await.unwrap();
    let start = DateTime::parse_from_rfc3339(slots[0]["start"].as_str().unwrap()).unwrap().with_timezone(&Utc);
    let worker = mail_worker(&api, &sink, Clock::starting_at(start - Duration::hours(2)));
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    stop(worker).await;
    assert!(sink.received().is_empty());
    assert_eq!(api.email_state(&quiet, "reminder").await, ["skipped"]);
    let log = api.store.appointment_emails(api.clinic_id, quiet.parse().unwrap()).await.unwrap();
    assert_eq!(log[0].error.as_deref(), Some("the patient turned reminders off"));
    // Refused settings change nothing.
    let bad = domain::notify::NotificationSettings { reminder_minutes: 5, ..off.clone() };
    assert!(api.store.update_notification_settings(api.clinic_id, &actor, &bad, api.now()).await.is_err());
    assert_eq!(api.store.notification_settings(api.clinic_id).await.unwrap(), off);
}

async fn mail_server_down_for_a_while_then_back_every_message_arrives_once(db: TestDb) {
    let api = spawn_with(db, ApiOptions::default()).await;
    let mut sink = Sink::start();
    sink.stop();
    let _worker = mail_worker(&api, &sink, api.clock);
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    let mut booked = Vec::new();
    for (n, slot) in slots.iter().take(3).enumerate() {
        booked.push(api.book_as(slot, ["Dora", "Dirk", "Dana"][n], &format!("down{n}@example.org")).await);
    }
    // Every confirmation was tried and is waiting for its retry.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while scalar_i64(&api.store, "SELECT COUNT(*) FROM patient_emails WHERE kind = 'confirmation' AND attempts >= 1 AND last_error IS NOT NULL").await < 3 {
        assert!(tokio::time::Instant::now() < deadline, "the worker did not try");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let log = api.store.appointment_emails(api.clinic_id, booked[0].parse().unwrap()).await.unwrap();
    let confirmation = log.iter().find(|e| e.kind == domain::notify::MessageKind::Confirmation).unwrap();
    assert_eq!(confirmation.state, "pending");
    assert!(confirmation.error.as_deref().is_some_and(|e| e.contains("could not reach the mail server")), "{log:?}");
    sink.run();
    // The first retry comes about 5 seconds after the first attempt.
    sink.wait_for(20, "every message after the server came back", |m| (0..3).all(|n| !to(m, &format!("down{n}@example.org")).is_empty())).await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let mails = sink.received();
    for n in 0..3 {
        assert_eq!(to(&mails, &format!("down{n}@example.org")).len(), 1, "once each");
    }
    assert_eq!(scalar_i64(&api.store, "SELECT COUNT(*) FROM patient_emails WHERE kind = 'confirmation' AND state = 'sent'").await, 3);
}

async fn a_permanent_refusal_is_recorded_and_shown_to_staff_and_a_temporary_one_is_retried(db: TestDb) {
    let api = spawn_with(db, ApiOptions::default()).await;
    let sink = Sink::start();
    let _worker = mail_worker(&api, &sink, api.clock);
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    let refused = api.book_as(&slots[0], "Rita", "reject.rita@example.org").await;
    let later = api.book_as(&slots[1], "Lars", "later.lars@example.org").await;
    let desk = api.desk().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let (failed, waiting) = loop {
        let failed = desk.get(&format!("/staff/appointments/{refused}/emails")).await;
        let waiting = desk.get(&format!("/staff/appointments/{later}/emails")).await;
        assert_eq!((failed.status, waiting.status), (200, 200), "{} {}", failed.body, waiting.body);
        let tried = |b: &Value| b["emails"].as_array().unwrap().iter().any(|e| e["kind"] == "confirmation" && e["attempts"] == 1 && !e["error"].is_null());
        if tried(&failed.body) && tried(&waiting.body) {
            break (failed.body, waiting.body);
        }
        assert!(tokio::time::Instant::now() < deadline, "{} {}", failed.body, waiting.body);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let confirmation = |b: &Value| b["emails"].as_array().unwrap().iter().find(|e| e["kind"] == "confirmation").unwrap().clone();
    let failed = confirmation(&failed);
    assert_eq!(failed["state"], "failed", "{failed}");
    assert_eq!(failed["recipient"], "reject.rita@example.org");
    assert!(failed["error"].as_str().unwrap().starts_with("550"), "{failed}");
    let waiting = confirmation(&waiting);
    assert_eq!(waiting["state"], "pending", "a 451 is tried again: {waiting}");
    assert!(waiting["error"].as_str().unwrap().starts_with("451"), "{waiting}");
    let due = DateTime::parse_from_rfc3339(waiting["at"].as_str().unwrap()).unwrap().with_timezone(&Utc);
    assert!(due > api.now() + Duration::seconds(2), "retried after the schedule's wait, not at once: {waiting}");
    // The refused message is not tried again.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(scalar_i64(&api.store, &format!("SELECT attempts FROM patient_emails WHERE appointment_id = {refused} AND kind = 'confirmation'")).await, 1);
    assert!(sink.received().is_empty());
    // Another clinic's staff do not see it.
    let other = store::testing::another_clinic(&api.store, "elsewhere").await;
    let issued = api.store.create_credential(other, None, "other-desk", CredentialKind::Staff, None, api.now()).await.unwrap();
    let stranger = api.as_user("other-desk", &issued.key);
    assert_eq!(stranger.get(&format!("/staff/appointments/{refused}/emails")).await.status, 404);
    assert_eq!(api.get(&format!("/staff/appointments/{refused}/emails")).await.status, 401, "a bot credential is not staff");
}

async fn a_mail_server_that_wants_a_login_gets_it_and_a_wrong_one_leaves_messages_waiting(db: TestDb) {
    let api = spawn_with(db, ApiOptions::default()).await;
    let sink = Sink::start_with(Some("clinic:s3cret"));
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    let id = api.book_as(&slots[0], "Lotte", "lotte@example.org").await;
    // The operator typed the wrong password: the message waits for a retry, it is not failed.
    let wrong = mail_worker_at(&api, &format!("smtp://clinic:wrong@127.0.0.1:{}", sink.port), api.clock);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let tried = loop {
        let log = api.store.appointment_emails(api.clinic_id, id.parse().unwrap()).await.unwrap();
        if let Some(c) = log.into_iter().find(|e| e.kind == domain::notify::MessageKind::Confirmation && e.attempts >= 1 && e.error.is_some()) {
            break c;
        }
        assert!(tokio::time::Instant::now() < deadline, "the worker did not try");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    stop(wrong).await;
    assert_eq!(tried.state, "pending", "a refused login is the operator's to fix, not the patient's: {tried:?}");
    assert!(tried.error.as_deref().is_some_and(|e| e.starts_with("535")), "{tried:?}");
    assert!(sink.received().is_empty());
    // Fixed, and the retry falls due: the message arrives, once.
    let right = mail_worker_at(&api, &format!("smtp://clinic:s3cret@127.0.0.1:{}", sink.port), Clock::starting_at(api.now() + Duration::seconds(10)));
    let mails = sink.wait_for(20, "the message after the login was fixed", |m| !m.is_empty()).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    stop(right).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(sink.received().len(), 1);
    assert_eq!(mails[0].to, "lotte@example.org");
}

async fn messages_a_dead_worker_held_are_sent_once_its_lease_runs_out(db: TestDb) {
    let api = spawn_with(db, ApiOptions::default()).await;
    let sink = Sink::start();
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    for (n, slot) in slots.iter().take(2).enumerate() {
        api.book_as(slot, ["Lea", "Leo"][n], &format!("lease{n}@example.org")).await;
    }
    // A worker queues and claims them, and dies before sending.
    assert_eq!(api.store.queue_emails(api.now()).await.unwrap(), 2);
    let held = api.store.claim_emails(api.now(), 10, Duration::seconds(30)).await.unwrap();
    assert_eq!(held.len(), 2);
    // Another instance leaves them alone while the lease runs...
    let other = mail_worker(&api, &sink, api.clock);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    stop(other).await;
    assert!(sink.received().is_empty(), "a leased message is not sent twice at once");
    // ...and sends them once it has run out.
    let after = mail_worker(&api, &sink, Clock::starting_at(api.now() + Duration::seconds(31)));
    sink.wait_for(20, "the held messages", |m| m.len() >= 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    stop(after).await;
    let mails = sink.received();
    assert_eq!(mails.len(), 2);
    // The dead worker's late outcome changes nothing: the message stays sent, once.
    let late = store::emails::EmailAttempt {
        id: held[0].id,
        attempt: held[0].attempt,
        outcome: domain::notify::SendOutcome::Rejected,
        error: Some("550 late".into()),
        at: api.now(),
        jitter: 0.5,
    };
    api.store.record_emails(&[late]).await.unwrap();
    assert_eq!(scalar_i64(&api.store, "SELECT COUNT(*) FROM patient_emails WHERE state = 'sent'").await, 2);
}

on_both_backends!(
    each_source_sends_one_confirmation_with_a_working_manage_link_and_calendar_file,
    a_move_and_a_cancellation_send_their_messages_and_only_the_true_reminder_goes_out_once,
    changes_looked_at_in_one_batch_leave_only_the_true_reminder,
    a_patient_who_turned_reminders_off_and_a_clinic_that_turned_a_message_off_get_none,
    mail_server_down_for_a_while_then_back_every_message_arrives_once,
    a_permanent_refusal_is_recorded_and_shown_to_staff_and_a_temporary_one_is_retried,
    a_mail_server_that_wants_a_login_gets_it_and_a_wrong_one_leaves_messages_waiting,
    messages_a_dead_worker_held_are_sent_once_its_lease_runs_out,
);
