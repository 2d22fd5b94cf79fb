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
    /// The calendar (provider) the slot is with.
    pub calendar_id: String,
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
    /// The calendar asked for, or `any`.
    pub calendar_id: String,
    /// The location the times are at.
    pub location_id: String,
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
pub struct PatientEmails {
    /// Oldest first.
    pub emails: Vec<PatientEmail>,
}

/// One message to the patient about an appointment.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatientEmail {
    pub id: String,
    /// confirmation, rescheduled, cancelled or reminder.
    pub kind: String,
    pub recipient: String,
    /// pending (queued, or waiting for a retry or its time), sent, failed (the mail server
    /// refused it for good, or every retry failed) or skipped (a reminder the appointment no
    /// longer needed).
    pub state: String,
    pub attempts: i64,
    /// When it was sent; else when it is (or was last) due.
    pub at: String,
    /// Why it failed or was skipped; the mail server's answer when it gave one.
    pub error: Option<String>,
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
    /// The request's id, as in the `X-Request-Id` header and the server's log: quote it when
    /// reporting a problem.
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
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
    /// The only location whose appointments' events it receives (made by a location's
    /// credential); null: the whole clinic's, and patient events too.
    pub location_id: Option<String>,
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

// What the voice-bot endpoint reads and what webhook receivers get. Both are built as JSON by
// their handlers (the contracts' shapes vary by action and event); these types describe them
// in the OpenAPI document, and the test suites hold the real bodies against them.

/// One call of `POST /api/voicebot`: `action` names it; the other fields are those the action
/// reads, as the voice-bot contract spells them. Fields an action does not read are ignored.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct VoiceCall {
    #[schema(inline)]
    pub action: VoiceAction,
    /// getEntityForSipId: the called line.
    pub sip_id: Option<String>,
    /// The clinic (its slug), as getEntityForSipId answers.
    pub entity_id: Option<String>,
    pub appointment_type_id: Option<String>,
    pub product_id: Option<String>,
    /// getSlots: a provider, or null for any.
    pub agent_id: Option<String>,
    /// getSlots: a day (`2024-09-16`) or a time from which on (`2024-09-16T13:00:00.000+02:00`).
    pub date_time: Option<String>,
    /// getSlots: the IANA zone answers are written in; default the location's.
    #[serde(rename = "timezone")]
    pub timezone: Option<String>,
    /// bookAppointment: the `avId` getSlots gave; cancelAppointment: the booking's current one.
    pub slot_id: Option<String>,
    pub slot_id_old: Option<String>,
    pub slot_id_new: Option<String>,
    /// The slot's or booking's start, when the bot states it (checked against the id).
    pub start: Option<String>,
    pub booking_id: Option<String>,
    /// findExistingBooking: the user's id.
    pub id: Option<String>,
    pub booker: Option<VoiceUser>,
    pub participant: Option<VoiceUser>,
}

/// The actions of `POST /api/voicebot`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub enum VoiceAction {
    #[serde(rename = "getEntityForSipId")]
    GetEntityForSipId,
    #[serde(rename = "getBusinessName")]
    GetBusinessName,
    #[serde(rename = "getAppointmentTypes")]
    GetAppointmentTypes,
    #[serde(rename = "getAgents")]
    GetAgents,
    #[serde(rename = "getProducts")]
    GetProducts,
    #[serde(rename = "getAppointmentTypesWithProducts")]
    GetAppointmentTypesWithProducts,
    #[serde(rename = "getSlots")]
    GetSlots,
    #[serde(rename = "getRequiredInfo")]
    GetRequiredInfo,
    #[serde(rename = "bookAppointment")]
    BookAppointment,
    #[serde(rename = "modifyAppointment")]
    ModifyAppointment,
    #[serde(rename = "cancelAppointment")]
    CancelAppointment,
    #[serde(rename = "findExistingUser")]
    FindExistingUser,
    #[serde(rename = "findExistingBooking")]
    FindExistingBooking,
}

/// A caller (booker or participant) as the voice-bot contract writes one. An `id` of ours
/// names an existing user; any other id is ignored and the details decide.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct VoiceUser {
    pub id: Option<String>,
    pub firstname: Option<String>,
    pub lastname: Option<String>,
    /// The contract's other spelling of `lastname`.
    pub lastlame: Option<String>,
    pub email: Option<String>,
    /// International (`+49 30 1234567`, `0049 ...`) or national with the clinic's country.
    pub phone: Option<String>,
    /// `YYYY-MM-DD`.
    pub dob: Option<String>,
    pub street: Option<String>,
    pub zip: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    /// female, male, diverse or unknown.
    pub gender: Option<String>,
}

/// What every webhook delivery's body holds.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct WebhookEvent {
    /// The event's id, also in the `webhook-id` header; the same on every retry.
    pub id: String,
    /// appointmentCreated, appointmentRescheduled, appointmentCanceled, appointmentCompleted,
    /// appointmentNoShow, patientCreated or Queued.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the change was made (UTC, RFC 3339).
    pub created_at: String,
    pub clinic_id: String,
    pub data: WebhookEventData,
}

/// The change an event reports. Appointment events carry the appointment's description
/// (time, provider, location, type) whatever the change; patient events carry `patientId`
/// and `temporaryPatientId`. Times are RFC 3339 in the location's zone.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct WebhookEventData {
    pub appointment_id: Option<String>,
    pub clinic_id: String,
    /// Permanent id, once the patient is registered.
    pub patient_id: Option<String>,
    pub temporary_patient_id: Option<String>,
    /// booked, pending, cancelled, checked_in, completed, no_show.
    pub status: Option<String>,
    /// The status before this change (check-in, completion, no-show).
    pub previous_status: Option<String>,
    /// Who made the change: widget, bot_api, voice_bot, staff.
    pub source: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    /// A reschedule's former time and provider.
    pub previous_start: Option<String>,
    pub previous_end: Option<String>,
    pub previous_provider_id: Option<String>,
    /// IANA zone of the location, e.g. `Europe/Berlin`.
    pub time_zone: Option<String>,
    pub location_id: Option<String>,
    pub location: Option<WebhookLocation>,
    pub provider_id: Option<String>,
    /// The provider, as the bot API's calendars name it.
    pub calendar_id: Option<String>,
    pub calendar_name: Option<String>,
    pub service_id: Option<String>,
    pub service_name: Option<String>,
    pub product_id: Option<String>,
    /// The bot API's appointment type (the product) and its name.
    pub appointment_type_id: Option<String>,
    pub appointment_type_name: Option<String>,
    /// The patient's number in the provider's queue that day.
    pub token_number: Option<i64>,
    /// Queued: the position on arrival.
    pub queue_number: Option<i64>,
    pub cancellation_reason: Option<String>,
    /// Who the event is about (the participant, else the booker).
    pub patient: Option<WebhookPatient>,
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct WebhookLocation {
    pub id: String,
    pub name: String,
    pub address: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct WebhookPatient {
    pub patient_id: Option<String>,
    pub temporary_patient_id: Option<String>,
    /// First and last name.
    pub name: String,
    pub firstname: String,
    pub lastname: String,
    /// E.164, or empty.
    pub phone: String,
    pub email: String,
}
