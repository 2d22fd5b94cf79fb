//! Who works in the console (owners invite staff with a one-time link) and what they changed.

use super::text::{t, T};
use super::{role_label, CellLabel, Console, Field, Frame, Section, BUTTON, CARD, CELL, ROW, TABLE, THEAD};
use crate::{AppError, Problem};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffRow {
    pub id: i64,
    /// The signed-in owner's own row: not changed from here.
    pub me: bool,
    pub email: String,
    pub name: String,
    pub role: String,
    /// `active`, `invited` or `disabled`.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffView {
    pub frame: Frame,
    pub staff: Vec<StaffRow>,
    /// The link just created, shown this once.
    pub invitation: Option<String>,
}

#[server(endpoint = "admin_staff")]
pub async fn load_staff(invited: Option<String>) -> Result<StaffView, AppError> {
    crate::server::with_status(ssr::load(invited)).await
}

#[server(endpoint = "admin_invite")]
pub async fn invite(csrf: String, email: String, role: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::invite(csrf, email, role)).await
}

#[server(endpoint = "admin_update_staff")]
pub async fn update_staff(csrf: String, user: String, role: String, disabled: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::update(csrf, user, role, disabled)).await
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub frame: Frame,
    pub time_zone: String,
    pub entries: Vec<AuditRow>,
}

#[server(endpoint = "admin_audit")]
pub async fn load_audit() -> Result<AuditView, AppError> {
    crate::server::with_status(ssr::audit()).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::admin::session::{for_change, for_page, site_origin};
    use crate::server::{now, store};
    use domain::patient::Email;
    use domain::staff::Role;
    use store::staff::Actor;

    pub async fn load(invited: Option<String>) -> Result<StaffView, AppError> {
        let (session, frame) = for_page("/admin/staff", Role::can_manage_staff).await?;
        let staff = store()?
            .staff_of_clinic(session.user.clinic_id)
            .await?
            .into_iter()
            .map(|u| StaffRow {
                id: u.id,
                me: u.id == session.user.id,
                status: match (u.disabled, u.active) {
                    (true, _) => "disabled",
                    (false, true) => "active",
                    (false, false) => "invited",
                }
                .to_owned(),
                email: u.email,
                name: u.display_name,
                role: u.role.as_str().to_owned(),
            })
            .collect();
        // Only a token's shape is checked here; the link itself is checked when it is used.
        let invitation = invited
            .filter(|token| token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|token| format!("{}/admin/setup/{token}", site_origin()));
        Ok(StaffView { frame, staff, invitation })
    }

    pub async fn invite(csrf: String, email: String, role: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_manage_staff).await?;
        let email = Email::parse(&email)?;
        let role = Role::parse(&role)?;
        let invitation = store()?.invite_staff(session.user.clinic_id, &Actor::staff(&session.user), &email, role, now()?).await?;
        leptos_axum::redirect(&format!("/admin/staff?invited={}", invitation.token));
        Ok(())
    }

    pub async fn update(csrf: String, user: String, role: String, disabled: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_manage_staff).await?;
        let user = crate::server::param_id(Some(&user), "user")?.ok_or_else(|| AppError::invalid("user", "choose a staff member"))?;
        let role = Role::parse(&role)?;
        let disabled = match disabled.as_str() {
            "true" => true,
            "false" => false,
            other => return Err(AppError::invalid("disabled", format!("{other:?} is not true or false"))),
        };
        store()?.update_staff(&session.user, user, role, disabled, now()?).await?;
        leptos_axum::redirect("/admin/staff");
        Ok(())
    }

    pub async fn audit() -> Result<AuditView, AppError> {
        let (session, frame) = for_page("/admin/audit", Role::can_configure).await?;
        let store = store()?;
        let config = store.clinic_config(session.user.clinic_id).await?;
        let tz = domain::zone::parse_zone(&config.profile.time_zone).unwrap_or(chrono_tz::UTC);
        let entries = store
            .audit_log(session.user.clinic_id, 200)
            .await?
            .into_iter()
            .map(|e| AuditRow {
                at: e.at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
                actor: e.actor,
                action: e.action,
                detail: e.detail.to_string(),
            })
            .collect();
        Ok(AuditView { frame, time_zone: tz.name().to_owned(), entries })
    }
}

#[component]
pub fn StaffPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || query.read().get("invited"), load_staff);
    super::loaded(data, |v| view! { <StaffList v/> })
}

#[component]
fn StaffList(v: StaffView) -> impl IntoView {
    let locale = v.frame.locale;
    let action = ServerAction::<Invite>::new();
    let update = ServerAction::<UpdateStaff>::new();
    let problem = crate::refusal(action).or_else(|| crate::refusal(update)).map(|e| view! { <Problem e locale/> });
    let csrf = v.frame.csrf.clone();
    let rows = v
        .staff
        .iter()
        .map(|s| {
            let status = match s.status.as_str() {
                "active" => t(locale, T::Active),
                "invited" => t(locale, T::Invited),
                _ => t(locale, T::Disabled),
            };
            let disabled = s.status == "disabled";
            let actions = (!s.me).then(|| {
                let (csrf_role, csrf_toggle, id) = (csrf.clone(), csrf.clone(), s.id.to_string());
                let (id_role, role_now, role_kept) = (id.clone(), s.role.clone(), s.role.clone());
                let (who_label, who_role, who_toggle) = (s.email.clone(), s.email.clone(), s.email.clone());
                let select_id = format!("role-{id}");
                let choices = domain::staff::Role::ALL
                    .map(|r| view! { <option value=r.as_str() selected=r.as_str() == role_now>{role_label(locale, r.as_str())}</option> })
                    .collect_view();
                let (toggle_label, toggle_to) = if disabled { (t(locale, T::Enable), "false") } else { (t(locale, T::Disable), "true") };
                view! {
                    <div class="flex flex-wrap items-end gap-2">
                        <leptos::form::ActionForm action=update>
                            <input type="hidden" name="csrf" value=csrf_role/>
                            <input type="hidden" name="user" value=id_role/>
                            <input type="hidden" name="disabled" value=if disabled { "true" } else { "false" }/>
                            <label for=select_id.clone() class="sr-only">{t(locale, T::Role)} " " {who_label}</label>
                            <select id=select_id name="role" class="rounded-md border border-slate-400 bg-white px-2 py-1 text-sm">{choices}</select>
                            " "
                            <button type="submit" class="rounded-md border border-slate-400 px-3 py-1 text-sm hover:bg-slate-100">
                                {t(locale, T::ChangeRole)} <span class="sr-only">{who_role}</span>
                            </button>
                        </leptos::form::ActionForm>
                        <leptos::form::ActionForm action=update>
                            <input type="hidden" name="csrf" value=csrf_toggle/>
                            <input type="hidden" name="user" value=id/>
                            <input type="hidden" name="role" value=role_kept/>
                            <input type="hidden" name="disabled" value=toggle_to/>
                            <button type="submit" class="rounded-md border border-red-800 px-3 py-1 text-sm text-red-800 hover:bg-red-50">
                                {toggle_label} <span class="sr-only">{who_toggle}</span>
                            </button>
                        </leptos::form::ActionForm>
                    </div>
                }
            });
            view! {
                <tr class=ROW data-testid="staff-member">
                    <td class=CELL><CellLabel text=t(locale, T::Name)/>{s.name.clone()}</td>
                    <td class=format!("{CELL} break-all")><CellLabel text=t(locale, T::Email)/>{s.email.clone()}</td>
                    <td class=CELL><CellLabel text=t(locale, T::Role)/>{role_label(locale, &s.role)}</td>
                    <td class=CELL><CellLabel text=t(locale, T::Status)/>{status}</td>
                    <td class=CELL>{actions}</td>
                </tr>
            }
        })
        .collect_view();
    let invitation = v.invitation.clone().map(|link| {
        view! {
            <section role="status" class="mb-6 rounded-xl bg-teal-50 p-4 ring-1 ring-teal-200" data-testid="invitation">
                <h2 class="mb-1 font-semibold">{t(locale, T::InviteLink)}</h2>
                <p class="mb-2 text-sm">{t(locale, T::InviteLinkHint)}</p>
                <input type="text" readonly value=link aria-label=t(locale, T::InviteLink) data-testid="invitation-link"
                    class="w-full rounded-md border border-slate-400 bg-white px-3 py-2 font-mono text-sm"/>
            </section>
        }
    });
    let roles = domain::staff::Role::ALL
        .map(|r| view! { <option value=r.as_str() selected=r == domain::staff::Role::Desk>{role_label(locale, r.as_str())}</option> })
        .collect_view();
    view! {
        <Console frame=v.frame.clone() section=Section::Staff>
            <h1 class="mb-2 text-2xl font-semibold">{t(locale, T::Staff)}</h1>
            <p class="mb-4 text-slate-700">{t(locale, T::StaffIntro)}</p>
            {invitation}
            <div class=CARD>
                <table class=TABLE data-testid="staff">
                    <thead class=THEAD><tr>
                        <th scope="col" class="pb-2 pr-3">{t(locale, T::Name)}</th>
                        <th scope="col" class="pb-2 pr-3">{t(locale, T::Email)}</th>
                        <th scope="col" class="pb-2 pr-3">{t(locale, T::Role)}</th>
                        <th scope="col" class="pb-2 pr-3">{t(locale, T::Status)}</th>
                        <th scope="col" class="pb-2"><span class="sr-only">{t(locale, T::Actions)}</span></th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <div aria-live="assertive">{problem}</div>
            <leptos::form::ActionForm action>
                <fieldset class=CARD>
                    <legend class="px-1 text-lg font-semibold">{t(locale, T::InviteTitle)}</legend>
                    <input type="hidden" name="csrf" value=v.frame.csrf.clone()/>
                    <Field label=t(locale, T::Email) name="email" value=String::new() kind="email" autocomplete="off"/>
                    <div class="mb-4">
                        <label for="role" class="mb-1 block font-medium">{t(locale, T::Role)}</label>
                        <select id="role" name="role" class="rounded-md border border-slate-400 bg-white px-3 py-2">{roles}</select>
                    </div>
                    <button type="submit" class=BUTTON data-testid="invite">{t(locale, T::Invite)}</button>
                </fieldset>
            </leptos::form::ActionForm>
        </Console>
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_audit());
    super::loaded(data, |v| view! { <AuditList v/> })
}

#[component]
fn AuditList(v: AuditView) -> impl IntoView {
    let locale = v.frame.locale;
    let body = if v.entries.is_empty() {
        view! { <p>{t(locale, T::NoEntries)}</p> }.into_any()
    } else {
        let rows = v
            .entries
            .iter()
            .map(|e| {
                view! {
                    <tr class=ROW>
                        <td class=format!("{CELL} whitespace-nowrap")><CellLabel text=t(locale, T::When)/>{e.at.clone()}</td>
                        <td class=format!("{CELL} break-all")><CellLabel text=t(locale, T::Who)/>{e.actor.clone()}</td>
                        <td class=format!("{CELL} font-mono text-sm")><CellLabel text=t(locale, T::What)/>{e.action.clone()}</td>
                        <td class=format!("{CELL} font-mono text-sm break-all")><CellLabel text=t(locale, T::Changes)/>{e.detail.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class=TABLE data-testid="audit">
                <caption class="mb-2 text-left text-sm text-slate-600">{t(locale, T::TimeZone)} ": " {v.time_zone.clone()}</caption>
                <thead class=THEAD><tr>
                    <th scope="col" class="pb-2 pr-3">{t(locale, T::When)}</th>
                    <th scope="col" class="pb-2 pr-3">{t(locale, T::Who)}</th>
                    <th scope="col" class="pb-2 pr-3">{t(locale, T::What)}</th>
                    <th scope="col" class="pb-2">{t(locale, T::Changes)}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <Console frame=v.frame.clone() section=Section::Audit>
            <h1 class="mb-4 text-2xl font-semibold">{t(locale, T::AuditLog)}</h1>
            <div class=CARD>{body}</div>
        </Console>
    }
}
