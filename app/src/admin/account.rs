//! A staff member's own account: password and language.

use super::text::{t, T};
use super::{Console, Field, Frame, Notice, Section, BUTTON, CARD};
use crate::{AppError, Problem};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub frame: Frame,
    /// `password` or `language` after a change.
    pub done: Option<String>,
}

#[server(endpoint = "admin_account")]
pub async fn load_account(done: Option<String>) -> Result<AccountView, AppError> {
    let result = async {
        let (_, frame) = super::session::for_page("/admin/account", |_| true).await?;
        Ok(AccountView { frame, done: done.filter(|d| d == "password" || d == "language") })
    };
    crate::server::with_status(result).await
}

#[server(endpoint = "admin_change_password")]
pub async fn change_password(csrf: String, current_password: String, new_password: String, new_password_again: String) -> Result<(), AppError> {
    use crate::server::{now, store};
    let result = async {
        let session = super::session::for_change(&csrf, |_| true).await?;
        if new_password != new_password_again {
            return Err(AppError::invalid("newPasswordAgain", "the two new passwords differ"));
        }
        let token = super::session::session_token().unwrap_or_default();
        store()?.change_password(session.user.id, &current_password, &new_password, &token, now()?).await?;
        leptos_axum::redirect("/admin/account?done=password");
        Ok(())
    };
    crate::server::with_status(result).await
}

#[server(endpoint = "admin_language")]
pub async fn set_language(csrf: String, locale: String) -> Result<(), AppError> {
    let result = async {
        let session = super::session::for_change(&csrf, |_| true).await?;
        crate::server::store()?.set_staff_locale(session.user.id, &locale).await?;
        leptos_axum::redirect("/admin/account?done=language");
        Ok(())
    };
    crate::server::with_status(result).await
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || query.read().get("done"), load_account);
    super::loaded(data, |v| view! { <AccountForms v/> })
}

#[component]
fn AccountForms(v: AccountView) -> impl IntoView {
    let locale = v.frame.locale;
    let password = ServerAction::<ChangePassword>::new();
    let language = ServerAction::<SetLanguage>::new();
    let problem = crate::refusal(password).or_else(|| crate::refusal(language)).map(|e| view! { <Problem e locale/> });
    let notice = match v.done.as_deref() {
        Some("password") => Some(view! { <Notice text=t(locale, T::PasswordChanged)/> }),
        Some("language") => Some(view! { <Notice text=t(locale, T::Saved)/> }),
        _ => None,
    };
    let languages = crate::i18n::Locale::ALL
        .map(|l| view! { <option value=l.code() selected=l == locale>{l.name()}</option> })
        .collect_view();
    let (csrf, csrf_language) = (v.frame.csrf.clone(), v.frame.csrf.clone());
    view! {
        <Console frame=v.frame.clone() section=Section::Account>
            <h1 class="mb-1 text-2xl font-semibold">{t(locale, T::Account)}</h1>
            <p class="mb-4 text-slate-700">{v.frame.user_email.clone()} " · " {super::role_label(locale, &v.frame.role)}</p>
            {notice}
            <div aria-live="assertive">{problem}</div>
            <leptos::form::ActionForm action=password>
                <fieldset class=CARD>
                    <legend class="px-1 text-lg font-semibold">{t(locale, T::ChangePassword)}</legend>
                    <input type="hidden" name="csrf" value=csrf/>
                    <Field label=t(locale, T::CurrentPassword) name="current_password" value=String::new() kind="password" autocomplete="current-password"/>
                    <Field label=t(locale, T::NewPassword) name="new_password" value=String::new() kind="password"
                        autocomplete="new-password" hint=t(locale, T::PasswordRule)/>
                    <Field label=t(locale, T::RepeatPassword) name="new_password_again" value=String::new() kind="password" autocomplete="new-password"/>
                    <button type="submit" class=BUTTON data-testid="change-password">{t(locale, T::ChangePassword)}</button>
                </fieldset>
            </leptos::form::ActionForm>
            <leptos::form::ActionForm action=language>
                <fieldset class=CARD>
                    <legend class="px-1 text-lg font-semibold">{t(locale, T::Language)}</legend>
                    <input type="hidden" name="csrf" value=csrf_language/>
                    <label for="locale" class="mb-1 block font-medium">{t(locale, T::Language)}</label>
                    <select id="locale" name="locale" class="mb-4 rounded-md border border-slate-400 bg-white px-3 py-2">{languages}</select>
                    <div><button type="submit" class=BUTTON data-testid="save-language">{t(locale, T::Save)}</button></div>
                </fieldset>
            </leptos::form::ActionForm>
        </Console>
    }
}
