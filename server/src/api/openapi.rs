//! The OpenAPI 3.1 document, derived from the handlers' annotations and the request and
//! response types, and a plain HTML page that reads it (no scripts, no external assets: it
//! must work on a clinic's intranet).

use super::{admin, appointments, catalogue, credentials, schema, staff, voice, webhooks};
use domain::delivery::EventType;
use serde_json::{json, Map, Value};
use axum::http::header;
use axum::response::{Html, IntoResponse};
use utoipa::openapi::path::{Parameter, ParameterIn, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, Schema};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Clinic booking API",
        description = "The chat-bot provider API. Every path is also served under /v1 instead of /api/v1. \
                       Authenticate with HTTP Basic: the facility's user id and API key. Staff paths need a staff credential; admin paths an admin credential.",
    ),
    paths(
        catalogue::calendars, catalogue::patient, catalogue::availability,
        appointments::create, appointments::list, appointments::one, appointments::reschedule, appointments::cancel,
        credentials::rotate_own,
        staff::create, staff::check_in, staff::complete, staff::no_show, staff::emails, staff::register,
        webhooks::create, webhooks::list, webhooks::delete, webhooks::deliveries, webhooks::redeliver,
        admin::get_clinic, admin::put_clinic, admin::audit,
        credentials::list, credentials::create, credentials::rotate, credentials::revoke,
        credentials::voice_lines, credentials::add_voice_line, credentials::remove_voice_line,
        webhooks::admin_create, webhooks::admin_list, webhooks::admin_delete, webhooks::admin_deliveries, webhooks::admin_redeliver,
        voice::dispatch,
    ),
    components(schemas(schema::ErrorBody, schema::WebhookEvent)),
    modifiers(&BasicAuth, &CommonErrors),
    security(("basic" = [])),
)]
pub struct ApiDoc;

struct BasicAuth;

impl Modify for BasicAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("basic", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)));
    }
}

/// The refusals every operation can answer (each is authenticated, rate limited and reads its
/// input), added to each operation here instead of repeated in every annotation.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let errors = [
            ("400", "malformed request"),
            ("401", "missing or wrong credentials"),
            ("404", "not found, or another facility's"),
            ("422", "a value is not acceptable"),
            ("429", "rate limited; see Retry-After"),
        ];
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.post, &mut item.put, &mut item.delete].into_iter().flatten() {
                for (status, description) in errors {
                    let response = ResponseBuilder::new()
                        .description(description)
                        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
                        .build();
                    op.responses.responses.entry(status.to_owned()).or_insert(RefOr::T(response));
                }
            }
        }
    }
}

/// What each event type reports, for its entry under `webhooks`.
fn event_summary(event: EventType) -> &'static str {
    match event {
        EventType::AppointmentCreated => "An appointment was booked (any channel: widget, bot, voice bot, desk)",
        EventType::AppointmentRescheduled => "An appointment moved to another time or provider (previousStart, previousEnd, previousProviderId)",
        EventType::AppointmentCanceled => "An appointment was cancelled (cancellationReason)",
        EventType::AppointmentCompleted => "An appointment was completed",
        EventType::AppointmentNoShow => "The patient did not come",
        EventType::PatientCreated => "A patient was registered: patientId, and the temporaryPatientId they had",
        EventType::Queued => "A patient checked in (queueNumber)",
    }
}

/// The headers of every delivery, as receivers verify them.
const DELIVERY_HEADERS: [(&str, &str); 4] = [
    ("webhook-id", "The event's id, the same on every retry: receivers deduplicate on it."),
    ("webhook-timestamp", "Unix seconds of this attempt; refuse one more than 5 minutes off."),
    (
        "webhook-signature",
        "`v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` (Standard Webhooks), keyed with the \
         base64-decoded part of a `whsec_` secret, else with the secret's UTF-8 bytes.",
    ),
    ("X-Webhook-Signature", "`sha256=` and the hex HMAC-SHA256 of the body, keyed with the secret's UTF-8 bytes exactly as given."),
];

/// The whole document: the derived one, and OpenAPI 3.1's `webhooks`, one operation per event
/// type with the body and the signature headers receivers get.
pub fn full_document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
    let parameters: Vec<Value> = DELIVERY_HEADERS
        .iter()
        .map(|(name, description)| json!({ "name": name, "in": "header", "required": true, "description": description, "schema": { "type": "string" } }))
        .collect();
    let mut hooks = Map::new();
    for event in EventType::ALL {
        let operation = json!({
            "summary": event_summary(event),
            "operationId": format!("webhook_{}", event.as_str()),
            "parameters": parameters,
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/WebhookEvent" } } } },
            "responses": {
                "2XX": { "description": "Received. Any other answer, or none within 10 seconds, is retried with backoff for up to 5 days." },
                "410": { "description": "The receiver is gone: the subscription is disabled." },
            },
            "security": [],
        });
        hooks.insert(event.as_str().to_owned(), json!({ "post": operation }));
    }
    doc["webhooks"] = Value::Object(hooks);
    doc
}

pub async fn document() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "public, max-age=300")], axum::Json(full_document()))
}

fn escape(raw: &str) -> String {
    raw.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn schema_name(schema: &RefOr<Schema>) -> String {
    match schema {
        RefOr::Ref(r) => r.ref_location.rsplit('/').next().unwrap_or_default().to_owned(),
        RefOr::T(_) => "inline".to_owned(),
    }
}

fn parameter_row(p: &Parameter) -> String {
    let required = matches!(p.required, utoipa::openapi::Required::True);
    format!(
        "<li><code>{}</code> ({}{}) {}</li>",
        escape(&p.name),
        match p.parameter_in {
            ParameterIn::Query => "query",
            ParameterIn::Path => "path",
            ParameterIn::Header => "header",
            ParameterIn::Cookie => "cookie",
        },
        if required { ", required" } else { "" },
        escape(p.description.as_deref().unwrap_or(""))
    )
}

fn operation_html(method: &str, path: &str, item: &PathItem) -> String {
    let operation = match method {
        "GET" => item.get.as_ref(),
        "POST" => item.post.as_ref(),
        "PUT" => item.put.as_ref(),
        "DELETE" => item.delete.as_ref(),
        _ => None,
    };
    let Some(op) = operation else { return String::new() };
    let mut html = format!(
        "<section><h3><code>{method} {}</code></h3><p>{}</p>",
        escape(path),
        escape(op.summary.as_deref().unwrap_or(""))
    );
    if let Some(description) = op.description.as_deref().filter(|d| !d.is_empty()) {
        html.push_str(&format!("<p>{}</p>", escape(description)));
    }
    if let Some(params) = op.parameters.as_ref().filter(|p| !p.is_empty()) {
        html.push_str("<p>Parameters:</p><ul>");
        html.extend(params.iter().map(parameter_row));
        html.push_str("</ul>");
    }
    if let Some(body) = &op.request_body {
        let names: Vec<String> = body.content.values().filter_map(|c| c.schema.as_ref()).map(schema_name).collect();
        html.push_str(&format!("<p>Body: <code>{}</code></p>", escape(&names.join(", "))));
    }
    html.push_str("<p>Responses:</p><ul>");
    for (status, response) in &op.responses.responses {
        let (description, body) = match response {
            RefOr::T(r) => (
                r.description.clone(),
                r.content.values().filter_map(|c| c.schema.as_ref()).map(schema_name).collect::<Vec<_>>().join(", "),
            ),
            RefOr::Ref(r) => (String::new(), schema_name(&RefOr::Ref(r.clone()))),
        };
        html.push_str(&format!("<li><code>{status}</code> {} <code>{}</code></li>", escape(&description), escape(&body)));
    }
    html.push_str("</ul></section>");
    html
}

/// The human-readable docs: every operation with its parameters, body and answers, then the
/// full document's address.
pub async fn page() -> Html<String> {
    let doc = ApiDoc::openapi();
    let mut body = String::new();
    for (path, item) in &doc.paths.paths {
        for method in ["GET", "POST", "PUT", "DELETE"] {
            body.push_str(&operation_html(method, path, item));
        }
    }
    body.push_str("<h2>Webhooks</h2><p>Each subscription gets a <code>POST</code> of a <code>WebhookEvent</code> body per change, with these headers:</p><ul>");
    for (name, description) in DELIVERY_HEADERS {
        body.push_str(&format!("<li><code>{}</code> {}</li>", escape(name), escape(description)));
    }
    body.push_str("</ul><ul>");
    for event in EventType::ALL {
        body.push_str(&format!("<li><code>{}</code> {}</li>", event.as_str(), escape(event_summary(event))));
    }
    body.push_str("</ul>");
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}}\
         section{{border-top:1px solid #ccd;padding:.5rem 0}}code{{background:#f2f4f7;padding:0 .2rem}}</style></head>\
         <body><h1>{title}</h1><p>{description}</p><p>The machine-readable OpenAPI 3.1 document: \
         <a href=\"/api/v1/openapi.json\"><code>/api/v1/openapi.json</code></a>. Errors all have the shape \
         <code>{{\"error\": {{\"code\", \"message\", \"details\"}}}}</code>.</p>{body}</body></html>",
        title = escape(&doc.info.title),
        description = escape(doc.info.description.as_deref().unwrap_or("")),
    ))
}
