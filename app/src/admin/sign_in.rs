//! Signing in and out, and the one-time link that sets up a new account (a new clinic's
//! owner, or an invited staff member).

use super::text::{t, T};
use super::{Field, Refused, BUTTON, CARD};
use crate::i18n::Locale;
use crate::{AppError, Problem};
use leptos::prelude::*;
use leptos_meta::{Html, Title};
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInView {
    pub locale: Locale,
    pub next: String,
}

#[server(endpoint = "admin_sign_in_page")]
pub async fn load_sign_in(next: Option<String>, lang: Option<String>) -> Result<SignInView, AppError> {
    use super::session::{current, safe_next, visitor_locale};
    let next = safe_next(next.as_deref());
    // Already signed in: straight on.
    if current().await.is_ok() {
        leptos_axum::redirect(&next);
    }
    Ok(SignInView { locale: visitor_locale(lang.as_deref()), next })
}

#[server(endpoint = "admin_sign_in")]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    crate::server::with_status(ssr::sign_in(email, password, next)).await
}

#[server(endpoint = "admin_sign_out")]
pub async fn sign_out(csrf: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::sign_out(csrf)).await
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupView {
    pub locale: Locale,
    pub token: String,
    pub email: String,
    pub clinic_name: String,
    pub role: String,
}

#[server(endpoint = "admin_setup_page")]
pub async fn load_setup(token: String) -> Result<SetupView, AppError> {
    crate::server::with_status(ssr::setup(token)).await
}

#[server(endpoint = "admin_accept")]
pub async fn accept(token: String, display_name: String, password: String, password_again: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::accept(token, display_name, password, password_again)).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::admin::session::{clear_cookie, client_address, for_change, safe_next, same_origin, session_token, set_cookie};
    use crate::server::{now, store};
    use store::staff::SignInError;

    pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
        same_origin()?;
        match store()?.sign_in(&email, &password, &client_address(), now()?).await {
            Ok(signed) => {
                set_cookie(&signed.token);
                leptos_axum::redirect(&safe_next(next.as_deref()));
                Ok(())
            }
            Err(SignInError::Refused) => Err(AppError::SignInRefused),
            Err(SignInError::Throttled { retry_after }) => {
                let minutes = (retry_after.num_seconds() + 59) / 60;
                if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                    if let Ok(v) = http::HeaderValue::from_str(&retry_after.num_seconds().to_string()) {
                        response.insert_header(http::header::RETRY_AFTER, v);
                    }
                }
                Err(AppError::Throttled { minutes })
            }
            Err(SignInError::Store(e)) => Err(e.into()),
        }
    }

    pub async fn sign_out(csrf: String) -> Result<(), AppError> {
        for_change(&csrf, |_| true).await?;
        if let Some(token) = session_token() {
            store()?.sign_out(&token).await?;
        }
        clear_cookie();
        leptos_axum::redirect("/admin/login");
        Ok(())
    }

    pub async fn setup(token: String) -> Result<SetupView, AppError> {
        let invited = store()?.invitation(&token, now()?).await?;
        Ok(SetupView {
            locale: Locale::parse(&invited.locale).unwrap_or_default(),
            token,
            email: invited.email,
            clinic_name: invited.clinic_name,
            role: invited.role.as_str().to_owned(),
        })
    }

    pub async fn accept(token: String, display_name: String, password: String, again: String) -> Result<(), AppError> {
        same_origin()?;
        if password != again {
            return Err(AppError::invalid("passwordAgain", "the two passwords differ"));
        }
        let signed = store()?.accept_invitation(&token, &display_name, &password, now()?).await?;
        set_cookie(&signed.token);
        leptos_axum::redirect("/admin");
        Ok(())
    }
}

/// A page outside the console frame (sign-in, account set-up).
#[component]
fn Plain(locale: Locale, title: &'static str, children: Children) -> impl IntoView {
    view! {
        <Html attr:lang=locale.code()/>
        <Title text=format!("{title} · {}", t(locale, T::Console))/>
        <crate::Hydrated/>
        <main class="mx-auto max-w-md p-4 sm:p-6">
            <p class="text-sm uppercase tracking-wide text-slate-600">{t(locale, T::Console)}</p>
            <h1 class="mb-4 text-2xl font-semibold">{title}</h1>
            {children()}
        </main>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (q.get("next"), q.get("lang"))
        },
        |(next, lang)| load_sign_in(next, lang),
    );
    super::loaded(data, |v| view! { <SignInForm v/> })
}

#[component]
fn SignInForm(v: SignInView) -> impl IntoView {
    let locale = v.locale;
    let action = ServerAction::<SignIn>::new();
    let problem = crate::refusal(action).map(|e| view! { <Problem e locale/> });
    view! {
        <Plain locale title=t(locale, T::SignInTitle)>
            <div aria-live="assertive">{problem}</div>
            <leptos::form::ActionForm action>
                <div class=CARD>
                    <input type="hidden" name="next" value=v.next/>
                    <Field label=t(locale, T::Email) name="email" value=String::new() kind="email" autocomplete="username"/>
                    <Field label=t(locale, T::Password) name="password" value=String::new() kind="password" autocomplete="current-password"/>
                    <button type="submit" class=BUTTON data-testid="sign-in">{t(locale, T::SignIn)}</button>
                </div>
            </leptos::form::ActionForm>
        </Plain>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let params = use_params_map();
    let data = Resource::new(move || params.read().get("token").unwrap_or_default(), load_setup);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => view! { <SetupForm v/> }.into_any(),
                    Err(AppError::NotFound { .. }) => {
                        let locale = crate::nav::query_locale();
                        view! {
                            <Plain locale title=t(locale, T::SetUpTitle)>
                                <p role="alert" class="rounded-lg border border-red-300 bg-red-50 p-4 text-red-900" data-testid="problem">
                                    {t(locale, T::LinkInvalid)}
                                </p>
                            </Plain>
                        }.into_any()
                    }
                    Err(e) => view! { <Refused e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SetupForm(v: SetupView) -> impl IntoView {
    let locale = v.locale;
    let action = ServerAction::<Accept>::new();
    let problem = crate::refusal(action).map(|e| view! { <Problem e locale/> });
    view! {
        <Plain locale title=t(locale, T::SetUpTitle)>
            <p class="mb-4">{t(locale, T::SetUpIntro)} " " <strong>{v.clinic_name}</strong> " (" {super::role_label(locale, &v.role)} ")."</p>
            <div aria-live="assertive">{problem}</div>
            <leptos::form::ActionForm action>
                <div class=CARD>
                    <input type="hidden" name="token" value=v.token/>
                    // Unnamed, so not submitted: it tells password managers whose password this is.
                    <div class="mb-4">
                        <label for="email" class="mb-1 block font-medium">{t(locale, T::Email)}</label>
                        <input id="email" type="email" readonly value=v.email autocomplete="username" data-testid="email"
                            class="w-full max-w-md rounded-md border border-slate-300 bg-slate-100 px-3 py-2"/>
                    </div>
                    <Field label=t(locale, T::YourName) name="display_name" value=String::new() autocomplete="name"/>
                    <Field label=t(locale, T::ChoosePassword) name="password" value=String::new() kind="password"
                        autocomplete="new-password" hint=t(locale, T::PasswordRule)/>
                    <Field label=t(locale, T::RepeatPassword) name="password_again" value=String::new() kind="password" autocomplete="new-password"/>
                    <button type="submit" class=BUTTON data-testid="create-account">{t(locale, T::CreateAccount)}</button>
                </div>
            </leptos::form::ActionForm>
        </Plain>
    }
}
