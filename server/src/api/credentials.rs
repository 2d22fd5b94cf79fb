//! API users and their keys: any user rotates its own key; the admin API lists, creates,
//! rotates and revokes the clinic's users and gives its phone lines to voice users. A key is
//! in the answer that issues it and never again.

use super::error::ApiError;
use super::extract::{ApiJson, IdInput, OptionalJson};
use super::{schema, Api};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, SecondsFormat, Utc};
use domain::DomainError;
use serde::Deserialize;
use store::credentials::{CredentialKind, Facility, IssuedKey};
use store::staff::Actor;
use store::StoreError;
use utoipa::ToSchema;

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn parse_expiry(raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    raw.map(|raw| {
        DateTime::parse_from_rfc3339(raw.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| ApiError::invalid("expiresAt", "must be an ISO 8601 date-time with offset"))
    })
    .transpose()
}

fn issued(key: IssuedKey, note: &str) -> (StatusCode, Json<schema::IssuedKey>) {
    (
        StatusCode::CREATED,
        Json(schema::IssuedKey {
            user_id: key.username,
            api_key: key.key,
            expires_at: key.expires_at.map(|t| t.to_rfc3339()),
            revoked_keys: key.revoked,
            note: note.into(),
        }),
    )
}

/// A store refusal in the words of this API's requests: the user is `userId` here, and the
/// location a field of the request rather than the resource of its path.
fn refusal(e: StoreError) -> ApiError {
    match e {
        StoreError::Rule(DomainError::Invalid { field: "username", reason }) => ApiError::invalid("userId", reason),
        StoreError::NotFound("location") => ApiError::invalid("locationId", "is not a location of this clinic"),
        other => other.into(),
    }
}

const ROTATED: &str = "store this key now: it is not shown again; the previous key keeps working until the next rotation";

/// Optional, as is the body: `{}`, no body and a bare `POST` alike issue a key.
#[derive(Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotateRequest {
    #[serde(alias = "expires_at")]
    expires_at: Option<String>,
}

/// Issues a new key for the calling user; the two newest keys work, older ones stop.
#[utoipa::path(post, path = "/api/v1/credentials/rotate", tag = "credentials", request_body = RotateRequest,
    summary = "Issues a new key for the calling user; the two newest keys work",
    responses(
        (status = 201, body = schema::IssuedKey)))]
pub async fn rotate_own(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    OptionalJson(body): OptionalJson<RotateRequest>,
) -> Result<(StatusCode, Json<schema::IssuedKey>), ApiError> {
    let expires_at = parse_expiry(body.expires_at.as_deref())?;
    let key = api.store.rotate_key(&facility.username, expires_at, api.clock.now()).await?;
    Ok(issued(key, ROTATED))
}

/// The clinic's API users with the public start of each key that works now.
#[utoipa::path(get, path = "/api/v1/admin/credentials", tag = "admin",
    summary = "Lists the clinic's API users (bot, staff, voice, admin) and their live keys",
    responses((status = 200, body = schema::CredentialList)))]
pub async fn list(State(api): State<Api>, Extension(facility): Extension<Facility>) -> Result<Json<schema::CredentialList>, ApiError> {
    let all = api.store.credentials_of(facility.clinic_id, api.clock.now()).await?;
    Ok(Json(schema::CredentialList {
        credentials: all
            .into_iter()
            .map(|c| schema::Credential {
                user_id: c.username,
                kind: c.kind.name().to_owned(),
                location_id: c.location_id.map(|l| l.to_string()),
                location: c.location,
                keys: c
                    .keys
                    .into_iter()
                    .map(|k| schema::KeyInfo { prefix: k.prefix, created_at: iso(k.created_at), expires_at: k.expires_at.map(iso) })
                    .collect(),
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewCredential {
    /// 3 to 64 characters: a-z, 0-9, '-', '_' or '.'; unique across the deployment.
    #[serde(alias = "user_id", alias = "username")]
    user_id: String,
    /// `bot`, `staff`, `voice` or `admin`.
    kind: String,
    /// Restricts a bot, staff or voice user to one of the clinic's locations.
    #[serde(alias = "location_id")]
    #[schema(value_type = Option<String>)]
    location_id: Option<IdInput>,
    /// When the first key stops working, at least 90 days ahead; absent: it does not expire.
    #[serde(alias = "expires_at")]
    expires_at: Option<String>,
}

/// Creates an API user of the caller's clinic with its first key.
#[utoipa::path(post, path = "/api/v1/admin/credentials", tag = "admin", request_body = NewCredential,
    summary = "Creates an API user (bot, staff, voice or admin) with its first key, shown once",
    responses((status = 201, body = schema::IssuedKey)))]
pub async fn create(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    body: ApiJson<NewCredential>,
) -> Result<(StatusCode, Json<schema::IssuedKey>), ApiError> {
    let new = body.value;
    let kind = CredentialKind::parse(&new.kind)?;
    let location = new.location_id.as_ref().map(|l| l.parse("locationId")).transpose()?;
    let expires_at = parse_expiry(new.expires_at.as_deref())?;
    let actor = Actor::api(&facility.username);
    let key = api
        .store
        .create_credential_as(&actor, facility.clinic_id, location, new.user_id.trim(), kind, expires_at, api.clock.now())
        .await
        .map_err(refusal)?;
    Ok(issued(key, "store this key now: it is not shown again"))
}

/// Issues a new key for one of the clinic's users.
#[utoipa::path(post, path = "/api/v1/admin/credentials/{userId}/rotate", tag = "admin",
    params(("userId" = String, Path)), request_body = RotateRequest,
    summary = "Issues a new key for one of the clinic's users; its two newest keys work",
    responses((status = 201, body = schema::IssuedKey)))]
pub async fn rotate(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    Path(user): Path<String>,
    OptionalJson(body): OptionalJson<RotateRequest>,
) -> Result<(StatusCode, Json<schema::IssuedKey>), ApiError> {
    let expires_at = parse_expiry(body.expires_at.as_deref())?;
    let actor = Actor::api(&facility.username);
    let key = api.store.rotate_key_as(&actor, Some(facility.clinic_id), user.trim(), expires_at, api.clock.now()).await?;
    Ok(issued(key, ROTATED))
}

/// Stops every key of one of the clinic's users at once.
#[utoipa::path(post, path = "/api/v1/admin/credentials/{userId}/revoke", tag = "admin",
    params(("userId" = String, Path)),
    summary = "Revokes every key of one of the clinic's users (a leaked key, an integration that ended)",
    description = "The user stays listed without keys; rotating it later issues a new key. An admin credential may revoke itself.",
    responses((status = 200, body = schema::Revoked)))]
pub async fn revoke(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    Path(user): Path<String>,
) -> Result<Json<schema::Revoked>, ApiError> {
    let actor = Actor::api(&facility.username);
    let revoked = api.store.revoke_credential(&actor, facility.clinic_id, user.trim(), api.clock.now()).await?;
    Ok(Json(schema::Revoked { user_id: user.trim().to_owned(), revoked_keys: revoked }))
}

/// The clinic's phone lines.
#[utoipa::path(get, path = "/api/v1/admin/voice-lines", tag = "admin",
    summary = "Lists the clinic's phone lines and the voice user answering each",
    responses((status = 200, body = schema::VoiceLineList)))]
pub async fn voice_lines(State(api): State<Api>, Extension(facility): Extension<Facility>) -> Result<Json<schema::VoiceLineList>, ApiError> {
    let lines = api.store.voice_lines_of(facility.clinic_id).await?;
    Ok(Json(schema::VoiceLineList {
        voice_lines: lines
            .into_iter()
            .map(|l| schema::VoiceLine { sip_id: l.sip_id, user_id: l.username, created_at: iso(l.created_at) })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewVoiceLine {
    /// The number or SIP address calls come in on, as the voice vendor sends it in `sipId`.
    #[serde(alias = "sip_id")]
    sip_id: String,
    /// One of the clinic's voice users.
    #[serde(alias = "user_id", alias = "username")]
    user_id: String,
}

/// Gives a phone line of the clinic to one of its voice users.
#[utoipa::path(post, path = "/api/v1/admin/voice-lines", tag = "admin", request_body = NewVoiceLine,
    summary = "Gives a phone line to one of the clinic's voice users: calls to it are answered for this clinic",
    responses((status = 201, body = schema::VoiceLine)))]
pub async fn add_voice_line(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    body: ApiJson<NewVoiceLine>,
) -> Result<(StatusCode, Json<schema::VoiceLine>), ApiError> {
    let new = body.value;
    let actor = Actor::api(&facility.username);
    let now = api.clock.now();
    api.store.add_voice_line_as(&actor, facility.clinic_id, &new.sip_id, &new.user_id, now).await.map_err(|e| match e {
        StoreError::NotFound("credential") => ApiError::invalid("userId", "is not a voice user of this clinic"),
        other => refusal(other),
    })?;
    let line = schema::VoiceLine { sip_id: new.sip_id.trim().to_owned(), user_id: new.user_id.trim().to_owned(), created_at: iso(now) };
    Ok((StatusCode::CREATED, Json(line)))
}

/// Takes a phone line away: calls to it are no longer answered.
#[utoipa::path(delete, path = "/api/v1/admin/voice-lines/{sipId}", tag = "admin", params(("sipId" = String, Path)),
    summary = "Removes one of the clinic's phone lines",
    responses((status = 204, description = "removed")))]
pub async fn remove_voice_line(State(api): State<Api>, Extension(facility): Extension<Facility>, Path(sip_id): Path<String>) -> Result<StatusCode, ApiError> {
    api.store.remove_voice_line(&Actor::api(&facility.username), facility.clinic_id, &sip_id, api.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
