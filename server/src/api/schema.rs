//! The bot API's response bodies as types: the handlers serialise exactly these, and the
//! OpenAPI document is derived from the same types, so the two cannot drift apart.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub id: String,
    pub name: String,
    pub address: String,
    /// IANA zone name, e.g. `Europe/Berlin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ServiceRef {
    pub id: String,
    pub name: Option<String>,
}

/// An appointment type: a service at one length and price.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppointmentType {
    pub id: String,
    pub name: String,
    pub description: String,
    pub service: ServiceRef,
    pub duration_minutes: i32,
    pub price_cents: i64,
}

/// A provider's calendar at a location.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Calendar {
    pub id: String,
    pub name: String,
    pub specialty: String,
    pub location: Option<Location>,
    pub appointment_types: Vec<AppointmentType>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CalendarList {
    /// The caller's clinic: the `clinicId` webhook subscriptions take (its slug works too).
    pub clinic_id: String,
    pub clinic_slug: String,
    pub clinic_name: String,
    pub calendars: Vec<Calendar>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    /// The permanent id; `null` until the clinic registers the patient.
    pub patient_id: Option<String>,
    /// Present until the clinic registers the patient.
    pub temporary_patient_id: Option<String>,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    /// E.164, e.g. `+49305550100`.
    pub phone: Option<String>,
    /// `YYYY-MM-DD`.
    pub dob: Option<String>,
    pub national_id: Option<String>,
    pub gender: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FreeSlot {
    /// Opaque; book it with `POST /appointments`.
    pub slot_id: String,
    /// ISO 8601 with the location's offset.
    pub start: String,
    pub end: String,
}

#[derive(Serialize, ToSchema)]
pub struct Day {
    /// `YYYY-MM-DD`, the location's local date.
    pub date: String,
    pub slots: Vec<FreeSlot>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvailabilityAnswer {
    pub calendar_id: String,
    pub appointment_type_id: String,
    pub time_zone: String,
    pub from: String,
    pub to: String,
    /// Only days with free slots, in order.
    pub days: Vec<Day>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Appointment {
    pub appointment_id: String,
    /// pending, booked, checked_in, completed, cancelled, no_show.
    pub status: String,
    /// Drawn at booking, per provider and local day.
    pub token_number: Option<i32>,
    /// The order of arrival, from check-in on.
    pub queue_number: Option<i32>,
    pub start: String,
    pub end: String,
    pub time_zone: String,
    pub calendar_id: String,
    pub calendar_name: String,
    pub appointment_type_id: Option<String>,
    pub appointment_type_name: String,
    pub location: Location,
    pub patient_id: Option<String>,
    pub temporary_patient_id: Option<String>,
    pub patient: Option<Patient>,
    pub cancellation_reason: Option<String>,
    /// On `POST /appointments`: true when an `Idempotency-Key` matched an earlier booking
    /// and nothing new was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replayed: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct AppointmentList {
    pub appointments: Vec<Appointment>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    pub patient_id: String,
    pub temporary_patient_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuedKey {
    pub user_id: String,
    /// Shown once: only its digest is stored.
    pub api_key: String,
    pub expires_at: Option<String>,
    /// How many older keys stopped working (a user keeps at most two).
    pub revoked_keys: usize,
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, e.g. `slot_taken`, `invalid_field`, `too_late`.
    pub code: String,
    pub message: String,
    /// `field` for invalid_field, `alternatives` for slot_taken, `candidates` for
    /// ambiguous_patient.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// Every error of the API.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub id: String,
    pub clinic_id: String,
    pub url: String,
    /// appointmentCreated, appointmentRescheduled, appointmentCanceled, appointmentCompleted,
    /// appointmentNoShow, patientCreated, Queued.
    pub events: Vec<String>,
    pub description: String,
    pub created_at: String,
    /// False once disabled (the receiver answered 410, or failed for 5 days).
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed; absent while deliveries succeed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    /// Only in the answer to the creation: the secret given, or a generated `whsec_` + base64.
    /// Keep it to verify signatures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<Webhook>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    pub delivery_id: String,
    /// The event's id: the same on every attempt; receivers de-duplicate by it.
    pub event_id: String,
    pub event_type: String,
    pub attempt: i64,
    pub attempted_at: String,
    /// Absent when no HTTP answer came (timeout, refused connection, refused address).
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    /// Where the delivery stands now: pending (will be retried), delivered or failed.
    pub state: String,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryLog {
    pub deliveries: Vec<DeliveryAttempt>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Redelivery {
    pub delivery_id: String,
    pub state: String,
}

/// A booked appointment that a clinic document would leave outside its provider's rules.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StrandedAppointment {
    pub id: String,
    /// Local time at the appointment's location, with its offset.
    pub start: String,
    pub end: String,
    pub time_zone: String,
    pub calendar_id: String,
    pub provider: String,
    pub appointment_type: String,
    pub patient: String,
    /// holiday, closedDay, blocked, outsideHours, serviceNotOffered, providerArchived.
    pub reason: String,
}

/// What applying a clinic document did (or, in a dry run, would do).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplyResult {
    pub dry_run: bool,
    /// One line per change, e.g. "provider berg: add hours mon 08:00-12:00 at midtown".
    pub changes: Vec<String>,
    /// In a dry run: the booked appointments the changes would leave outside the rules.
    pub stranded: Vec<StrandedAppointment>,
    /// Appointments kept booked and flagged for staff (keepBooked=true).
    pub flagged: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub id: String,
    pub at: String,
    /// "cli", "api:<user>", or the staff member's e-mail address.
    pub actor: String,
    /// e.g. provider.update, schedule.replace, credential.create.
    pub action: String,
    /// What changed: for an update, each field's old and new value.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct AuditLog {
    pub entries: Vec<AuditRecord>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyInfo {
    /// The key's public start, e.g. `bk_3f9c`: enough to tell keys apart, never to use one.
    pub prefix: String,
    pub created_at: String,
    pub expires_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    pub user_id: String,
    /// `bot`, `staff`, `voice` or `admin`.
    pub kind: String,
    /// The location the user is restricted to, if any.
    pub location_id: Option<String>,
    pub location: Option<String>,
    /// The keys that work now; empty once revoked.
    pub keys: Vec<KeyInfo>,
}

#[derive(Serialize, ToSchema)]
pub struct CredentialList {
    pub credentials: Vec<Credential>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Revoked {
    pub user_id: String,
    /// How many keys stopped working (0 when none was active).
    pub revoked_keys: u64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoiceLine {
    pub sip_id: String,
    /// The voice user answering calls to this line.
    pub user_id: String,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoiceLineList {
    pub voice_lines: Vec<VoiceLine>,
}
