//! What connects a clinic to the outside: the websites that may embed its widget (with the
//! snippet and a live preview), and the API users of bot and voice vendors (a key is shown
//! once, right after it is made).

use super::text::{t, T};
use super::{CellLabel, Console, Field, Frame, Notice, Section, BUTTON, CARD, CELL, ROW, TABLE, THEAD};
use crate::{AppError, Problem};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebsiteView {
    pub frame: Frame,
    pub origins: Vec<String>,
    pub snippet: String,
    pub saved: bool,
}

#[server(endpoint = "admin_website")]
pub async fn load_website(done: Option<String>) -> Result<WebsiteView, AppError> {
    crate::server::with_status(ssr::website(done)).await
}

#[server(endpoint = "admin_save_origins")]
pub async fn save_origins(csrf: String, origins: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::save_origins(csrf, origins)).await
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRow {
    pub username: String,
    pub kind: String,
    pub location: Option<String>,
    /// "bk_3f9c… since 2026-11-30, until 2027-03-01" for each live key.
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationsView {
    pub frame: Frame,
    pub credentials: Vec<CredentialRow>,
    /// (id, name) of the clinic's locations, to restrict a user to one.
    pub locations: Vec<(i64, String)>,
    /// The user and key just issued, shown this once.
    pub issued: Option<(String, String)>,
    pub revoked: Option<String>,
    /// (sipId, voice user) of the clinic's phone lines.
    pub lines: Vec<(String, String)>,
    /// The clinic's own voice users, to give a line to.
    pub voice_users: Vec<String>,
}

#[server(endpoint = "admin_integrations")]
pub async fn load_integrations(revoked: Option<String>) -> Result<IntegrationsView, AppError> {
    crate::server::with_status(ssr::integrations(revoked)).await
}

#[server(endpoint = "admin_create_credential")]
pub async fn create_credential(csrf: String, username: String, kind: String, location: String, expires_in_days: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::create_credential(csrf, username, kind, location, expires_in_days)).await
}

#[server(endpoint = "admin_rotate_credential")]
pub async fn rotate_credential(csrf: String, username: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::rotate(csrf, username)).await
}

#[server(endpoint = "admin_revoke_credential")]
pub async fn revoke_credential(csrf: String, username: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::revoke(csrf, username)).await
}

#[server(endpoint = "admin_add_voice_line")]
pub async fn add_voice_line(csrf: String, sip_id: String, username: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::add_line(csrf, sip_id, username)).await
}

#[server(endpoint = "admin_remove_voice_line")]
pub async fn remove_voice_line(csrf: String, sip_id: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::remove_line(csrf, sip_id)).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::admin::session::{for_change, for_page, session_token, site_origin};
    use crate::server::{now, store};
    use domain::staff::Role;
    use store::credentials::CredentialKind;
    use store::staff::Actor;

    pub async fn website(done: Option<String>) -> Result<WebsiteView, AppError> {
        let (session, frame) = for_page("/admin/website", Role::can_configure).await?;
        let origins = store()?.embed_origins(session.user.clinic_id).await?;
        let snippet = format!(r#"<script src="{}/embed.js" data-clinic="{}" async></script>"#, site_origin(), frame.clinic_slug);
        Ok(WebsiteView { frame, origins, snippet, saved: done.as_deref() == Some("saved") })
    }

    pub async fn save_origins(csrf: String, origins: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let list: Vec<String> = origins.lines().map(str::to_owned).collect();
        store()?.save_embed_origins(&Actor::staff(&session.user), session.user.clinic_id, &list, now()?).await?;
        leptos_axum::redirect("/admin/website?done=saved");
        Ok(())
    }

    pub async fn integrations(revoked: Option<String>) -> Result<IntegrationsView, AppError> {
        let (session, frame) = for_page("/admin/integrations", Role::can_configure).await?;
        let store = store()?;
        let clinic_id = session.user.clinic_id;
        let credentials: Vec<CredentialRow> = store
            .credentials_of(clinic_id, now()?)
            .await?
            .into_iter()
            .map(|c| CredentialRow {
                username: c.username,
                kind: c.kind.name().to_owned(),
                location: c.location,
                keys: c
                    .keys
                    .iter()
                    .map(|k| {
                        let until = k.expires_at.map(|e| format!(" – {}", e.date_naive())).unwrap_or_default();
                        format!("{}… {}{until}", k.prefix, k.created_at.date_naive())
                    })
                    .collect(),
            })
            .collect();
        let catalogue = store.catalogue_of(store.clinic_by_id(clinic_id).await?).await?;
        let locations = catalogue.locations.iter().map(|l| (l.id, l.name.clone())).collect();
        // The key travels in the session, never in an address, and is gone once shown.
        let issued = match session_token() {
            Some(token) => store.take_flash(&token).await?.and_then(|f| f.split_once('\n').map(|(u, k)| (u.to_owned(), k.to_owned()))),
            None => None,
        };
        let lines = store.voice_lines_of(clinic_id).await?.into_iter().map(|l| (l.sip_id, l.username)).collect();
        let voice_users = credentials.iter().filter(|c: &&CredentialRow| c.kind == "voice").map(|c| c.username.clone()).collect();
        Ok(IntegrationsView { frame, credentials, locations, issued, revoked: revoked.filter(|r| !r.is_empty()), lines, voice_users })
    }

    async fn show_once(username: &str, key: &str) -> Result<(), AppError> {
        if let Some(token) = session_token() {
            store()?.set_flash(&token, &format!("{username}\n{key}")).await?;
        }
        leptos_axum::redirect("/admin/integrations");
        Ok(())
    }

    pub async fn create_credential(csrf: String, username: String, kind: String, location: String, days: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let kind = CredentialKind::parse(&kind)?;
        let location = crate::server::param_id(Some(&location), "location")?;
        let now = now()?;
        let expires_at = match days.trim() {
            "" => None,
            raw => Some(now + chrono::Duration::days(i64::from(super::super::settings::whole_number("expiresInDays", raw)?))),
        };
        let username = username.trim();
        let issued = store()?
            .create_credential_as(&Actor::staff(&session.user), session.user.clinic_id, location, username, kind, expires_at, now)
            .await?;
        show_once(&issued.username, &issued.key).await
    }

    pub async fn add_line(csrf: String, sip_id: String, username: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        store()?.add_voice_line_as(&Actor::staff(&session.user), session.user.clinic_id, &sip_id, &username, now()?).await?;
        leptos_axum::redirect("/admin/integrations#lines");
        Ok(())
    }

    pub async fn remove_line(csrf: String, sip_id: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        store()?.remove_voice_line(&Actor::staff(&session.user), session.user.clinic_id, &sip_id, now()?).await?;
        leptos_axum::redirect("/admin/integrations#lines");
        Ok(())
    }

    pub async fn rotate(csrf: String, username: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let issued = store()?
            .rotate_key_as(&Actor::staff(&session.user), Some(session.user.clinic_id), username.trim(), None, now()?)
            .await?;
        show_once(&issued.username, &issued.key).await
    }

    pub async fn revoke(csrf: String, username: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        store()?.revoke_credential(&Actor::staff(&session.user), session.user.clinic_id, username.trim(), now()?).await?;
        leptos_axum::redirect(&format!("/admin/integrations?revoked={}", crate::nav::encode(username.trim())));
        Ok(())
    }
}

#[component]
pub fn WebsitePage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || query.read().get("done"), load_website);
    super::loaded(data, |v| view! { <WebsiteForm v/> })
}

#[component]
fn WebsiteForm(v: WebsiteView) -> impl IntoView {
    let locale = v.frame.locale;
    let action = ServerAction::<SaveOrigins>::new();
    let problem = crate::refusal(action).map(|e| view! { <Problem e locale/> });
    let preview = format!("/book/{}", v.frame.clinic_slug);
    view! {
        <Console frame=v.frame.clone() section=Section::Website>
            <h1 class="mb-4 text-2xl font-semibold">{t(locale, T::Website)}</h1>
            {v.saved.then(|| view! { <Notice text=t(locale, T::Saved)/> })}
            <div aria-live="assertive">{problem}</div>
            <leptos::form::ActionForm action>
                <fieldset class=CARD>
                    <legend class="px-1 text-lg font-semibold">{t(locale, T::EmbedOrigins)}</legend>
                    <input type="hidden" name="csrf" value=v.frame.csrf.clone()/>
                    <label for="origins" class="mb-1 block font-medium">{t(locale, T::EmbedOriginsLabel)}</label>
                    <textarea id="origins" name="origins" rows="4" aria-describedby="origins-hint" data-testid="origins"
                        class="w-full max-w-xl rounded-md border border-slate-400 bg-white px-3 py-2 font-mono text-sm">{v.origins.join("\n")}</textarea>
                    <p id="origins-hint" class="mt-1 mb-4 text-sm text-slate-600">{t(locale, T::EmbedOriginsHint)}</p>
                    <button type="submit" class=BUTTON data-testid="save-origins">{t(locale, T::Save)}</button>
                </fieldset>
            </leptos::form::ActionForm>
            <section class=CARD aria-labelledby="snippet-title">
                <h2 id="snippet-title" class="mb-1 text-lg font-semibold">{t(locale, T::Snippet)}</h2>
                <p class="mb-2 text-sm text-slate-700">{t(locale, T::SnippetHint)}</p>
                <pre class="overflow-x-auto rounded-md bg-slate-900 p-3 text-sm text-slate-50"><code data-testid="snippet">{v.snippet.clone()}</code></pre>
            </section>
            <section class=CARD aria-labelledby="preview-title">
                <h2 id="preview-title" class="mb-2 text-lg font-semibold">{t(locale, T::Preview)}</h2>
                <iframe src=preview title=t(locale, T::Preview) class="h-[640px] w-full rounded-md ring-1 ring-slate-200"></iframe>
            </section>
        </Console>
    }
}

#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || query.read().get("revoked"), load_integrations);
    super::loaded(data, |v| view! { <IntegrationsList v/> })
}

#[component]
fn IntegrationsList(v: IntegrationsView) -> impl IntoView {
    let locale = v.frame.locale;
    let create = ServerAction::<CreateCredential>::new();
    let rotate = ServerAction::<RotateCredential>::new();
    let revoke = ServerAction::<RevokeCredential>::new();
    let add_line = ServerAction::<AddVoiceLine>::new();
    let remove_line = ServerAction::<RemoveVoiceLine>::new();
    let problem = crate::refusal(create)
        .or_else(|| crate::refusal(rotate))
        .or_else(|| crate::refusal(revoke))
        .or_else(|| crate::refusal(add_line))
        .or_else(|| crate::refusal(remove_line))
        .map(|e| view! { <Problem e locale/> });
    let csrf = v.frame.csrf.clone();
    let issued = v.issued.clone().map(|(user, key)| {
        view! {
            <section role="status" class="mb-6 rounded-xl bg-teal-50 p-4 ring-1 ring-teal-200" data-testid="issued">
                <h2 class="mb-1 font-semibold">{t(locale, T::NewKey)} " " <span data-testid="issued-user">{user}</span></h2>
                <p class="mb-2 text-sm">{t(locale, T::NewKeyHint)}</p>
                <input type="text" readonly value=key aria-label=t(locale, T::NewKey) data-testid="issued-key"
                    class="w-full rounded-md border border-slate-400 bg-white px-3 py-2 font-mono text-sm"/>
            </section>
        }
    });
    let revoked = v.revoked.clone().map(|user| view! { <p role="status" class="mb-4 rounded-lg bg-amber-50 p-3 text-amber-950" data-testid="notice">{t(locale, T::Revoked)} " " {user}</p> });
    let kind_label = move |kind: &str| match kind {
        "staff" => t(locale, T::KindStaff),
        "voice" => t(locale, T::KindVoice),
        "admin" => t(locale, T::KindAdmin),
        _ => t(locale, T::KindBot),
    };
    let rows = v
        .credentials
        .iter()
        .map(|c| {
            let (csrf_rotate, csrf_revoke) = (csrf.clone(), csrf.clone());
            let (user_rotate, user_revoke) = (c.username.clone(), c.username.clone());
            let keys = if c.keys.is_empty() { t(locale, T::NoKeys).to_owned() } else { c.keys.join(", ") };
            view! {
                <tr class=ROW data-testid="credential">
                    <td class=format!("{CELL} font-mono text-sm break-all")><CellLabel text=t(locale, T::Username)/>{c.username.clone()}</td>
                    <td class=CELL><CellLabel text=t(locale, T::Kind)/>{kind_label(&c.kind)}</td>
                    <td class=CELL><CellLabel text=t(locale, T::Scope)/>{c.location.clone().unwrap_or_else(|| t(locale, T::WholeClinic).to_owned())}</td>
                    <td class=format!("{CELL} font-mono text-sm")><CellLabel text=t(locale, T::Keys)/>{keys}</td>
                    <td class=CELL>
                        <div class="flex flex-wrap gap-2">
                            <leptos::form::ActionForm action=rotate>
                                <input type="hidden" name="csrf" value=csrf_rotate/>
                                <input type="hidden" name="username" value=user_rotate/>
                                <button type="submit" class="rounded-md border border-slate-400 px-3 py-1 text-sm hover:bg-slate-100">{t(locale, T::NewKeyButton)}</button>
                            </leptos::form::ActionForm>
                            <leptos::form::ActionForm action=revoke>
                                <input type="hidden" name="csrf" value=csrf_revoke/>
                                <input type="hidden" name="username" value=user_revoke/>
                                <button type="submit" class="rounded-md border border-red-800 px-3 py-1 text-sm text-red-800 hover:bg-red-50">{t(locale, T::Revoke)}</button>
                            </leptos::form::ActionForm>
                        </div>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let line_rows = v
        .lines
        .iter()
        .map(|(sip, user)| {
            let (csrf, sip, user) = (csrf.clone(), sip.clone(), user.clone());
            let label = sip.clone();
            view! {
                <tr class=ROW data-testid="voice-line">
                    <td class=format!("{CELL} font-mono text-sm break-all")><CellLabel text=t(locale, T::SipId)/>{label.clone()}</td>
                    <td class=format!("{CELL} font-mono text-sm break-all")><CellLabel text=t(locale, T::VoiceUser)/>{user}</td>
                    <td class=CELL>
                        <leptos::form::ActionForm action=remove_line>
                            <input type="hidden" name="csrf" value=csrf/>
                            <input type="hidden" name="sip_id" value=sip/>
                            <button type="submit" class="rounded-md border border-red-800 px-3 py-1 text-sm text-red-800 hover:bg-red-50">
                                {t(locale, T::Remove)} <span class="sr-only">{label}</span>
                            </button>
                        </leptos::form::ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let lines_table = (!v.lines.is_empty()).then(|| view! {
        <table class=TABLE data-testid="voice-lines">
            <thead class=THEAD><tr>
                <th scope="col" class="pb-2 pr-3">{t(locale, T::SipId)}</th>
                <th scope="col" class="pb-2 pr-3">{t(locale, T::VoiceUser)}</th>
                <th scope="col" class="pb-2"><span class="sr-only">{t(locale, T::Actions)}</span></th>
            </tr></thead>
            <tbody>{line_rows}</tbody>
        </table>
    });
    let no_lines = v.lines.is_empty().then(|| view! { <p class="mb-3 text-slate-700">{t(locale, T::NoVoiceLines)}</p> });
    let line_users = v.voice_users.clone().into_iter().map(|u| { let value = u.clone(); view! { <option value=value>{u}</option> } }).collect_view();
    let line_csrf = csrf.clone();
    let line_form = if v.voice_users.is_empty() {
        view! { <p class="mt-3 text-sm text-slate-700">{t(locale, T::NoVoiceUsers)}</p> }.into_any()
    } else {
        view! {
            <div class="mt-4"><leptos::form::ActionForm action=add_line>
                <input type="hidden" name="csrf" value=line_csrf/>
                <Field label=t(locale, T::SipId) name="sip_id" value=String::new() autocomplete="off" hint=t(locale, T::SipIdHint)/>
                <div class="mb-4">
                    <label for="line-user" class="mb-1 block font-medium">{t(locale, T::VoiceUser)}</label>
                    <select id="line-user" name="username" class="rounded-md border border-slate-400 bg-white px-3 py-2">{line_users}</select>
                </div>
                <button type="submit" class=BUTTON data-testid="add-line">{t(locale, T::AddLine)}</button>
            </leptos::form::ActionForm></div>
        }
        .into_any()
    };
    let locations = v
        .locations
        .iter()
        .map(|(id, name)| view! { <option value=id.to_string()>{name.clone()}</option> })
        .collect_view();
    view! {
        <Console frame=v.frame.clone() section=Section::Integrations>
            <h1 class="mb-2 text-2xl font-semibold">{t(locale, T::Integrations)}</h1>
            <p class="mb-4 text-slate-700">{t(locale, T::IntegrationsIntro)}</p>
            {issued}
            {revoked}
            <div aria-live="assertive">{problem}</div>
            <div class=CARD>
                <table class=TABLE data-testid="credentials">
                    <thead class=THEAD><tr>
                        <th scope="col" class="pb-2 pr-3">{t(locale, T::Username)}</th>
                        <th scope="col" class="pb-2 pr-3">{t(locale, T::Kind)}</th>
                        <th scope="col" class="pb-2 pr-3">{t(locale, T::Scope)}</th>
                        <th scope="col" class="pb-2 pr-3">{t(locale, T::Keys)}</th>
                        <th scope="col" class="pb-2"><span class="sr-only">{t(locale, T::Actions)}</span></th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <leptos::form::ActionForm action=create>
                <fieldset class=CARD>
                    <legend class="px-1 text-lg font-semibold">{t(locale, T::NewCredential)}</legend>
                    <input type="hidden" name="csrf" value=csrf.clone()/>
                    <Field label=t(locale, T::Username) name="username" value=String::new() autocomplete="off" hint=t(locale, T::UsernameHint)/>
                    <div class="mb-4">
                        <label for="kind" class="mb-1 block font-medium">{t(locale, T::Kind)}</label>
                        <select id="kind" name="kind" class="rounded-md border border-slate-400 bg-white px-3 py-2">
                            <option value="bot">{t(locale, T::KindBot)}</option>
                            <option value="voice">{t(locale, T::KindVoice)}</option>
                            <option value="staff">{t(locale, T::KindStaff)}</option>
                            <option value="admin">{t(locale, T::KindAdmin)}</option>
                        </select>
                    </div>
                    <div class="mb-4">
                        <label for="location" class="mb-1 block font-medium">{t(locale, T::Scope)}</label>
                        <select id="location" name="location" class="rounded-md border border-slate-400 bg-white px-3 py-2">
                            <option value="">{t(locale, T::WholeClinic)}</option>
                            {locations}
                        </select>
                    </div>
                    <Field label=t(locale, T::ExpiresInDays) name="expires_in_days" value=String::new() kind="number" required=false
                        hint=t(locale, T::ExpiresInDaysHint)/>
                    <button type="submit" class=BUTTON data-testid="create-credential">{t(locale, T::Create)}</button>
                </fieldset>
            </leptos::form::ActionForm>
            <section id="lines" class=CARD aria-labelledby="lines-title">
                <h2 id="lines-title" class="mb-1 text-lg font-semibold">{t(locale, T::VoiceLines)}</h2>
                <p class="mb-3 text-sm text-slate-700">{t(locale, T::VoiceLinesIntro)}</p>
                {no_lines}
                {lines_table}
                {line_form}
            </section>
        </Console>
    }
}
