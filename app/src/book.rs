//! Booking: `/book/:clinic` (pick a time, which places a hold) and
//! `/book/:clinic/details` (the patient's details, then confirm).

use crate::i18n::{Locale, Msg};
use crate::nav::{query_locale, Carry};
use crate::picker::{load_picker, PickerQuery, PickerView, TimeAction};
use crate::{AppError, Problem};
use chrono::NaiveDate;
use domain::patient::{check_field, FieldProblem, PatientField};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Holds the chosen time and moves on to the details form; when someone else was faster,
/// back to the picker showing the nearest free times. Both answers are redirects, so the
/// flow is the same with and without JavaScript.
#[server(endpoint = "hold_slot")]
pub async fn hold_slot(
    clinic: String,
    slot: String,
    provider: Option<String>,
    lang: Option<String>,
    embed: Option<String>,
) -> Result<(), AppError> {
    crate::server::with_status(ssr::hold_slot(clinic, slot, provider, Carry { lang, embed })).await
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSpec {
    pub field: PatientField,
    pub label: String,
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub service: String,
    pub product: String,
    pub provider: String,
    pub location: String,
    pub address: String,
    pub when: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    pub locale: Locale,
    pub clinic: String,
    pub clinic_name: String,
    pub parent_origin: Option<String>,
    pub hold: String,
    pub slot: String,
    pub summary: Summary,
    pub held_until: String,
    pub today: NaiveDate,
    pub booker: Vec<FieldSpec>,
    pub participant: Vec<FieldSpec>,
    pub back: String,
}

#[server(endpoint = "booking_details")]
pub async fn load_details(
    clinic: String,
    hold: String,
    slot: String,
    lang: Option<String>,
    embed: Option<String>,
) -> Result<Details, AppError> {
    crate::server::with_status(ssr::details(clinic, hold, slot, Carry { lang, embed })).await
}

/// Books the held time for the patient (and the person they book for).
#[server(endpoint = "confirm_booking")]
pub async fn confirm_booking(
    clinic: String,
    hold: String,
    slot: String,
    booker: HashMap<String, String>,
    participant: Option<HashMap<String, String>>,
    lang: Option<String>,
    embed: Option<String>,
) -> Result<(), AppError> {
    let carry = Carry { lang, embed };
    crate::server::with_status(ssr::confirm(clinic, hold, slot, booker, participant.unwrap_or_default(), carry)).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::picker::ssr::time_option;
    use crate::server::{allow_framing, link_key, locale, now, parent_origin, parse_slot, store};
    use chrono::Timelike;
    use domain::appointment::BookingSource;
    use domain::patient::{PersonDetails, PhoneRegion};
    use domain::{ClinicSlug, SlotId};
    use store::{SlotBooking, StoreError};

    /// The picker on the slot's day; with `taken`, it shows the nearest free times too.
    fn picker_url(clinic: &ClinicSlug, slot: &SlotId, provider: Option<&str>, tz: chrono_tz::Tz, carry: &Carry, taken: bool) -> String {
        let mut pairs = vec![
            ("location", slot.location_id.to_string()),
            ("product", slot.product_id.to_string()),
            ("date", slot.start.with_timezone(&tz).date_naive().to_string()),
        ];
        if let Some(p) = provider.filter(|p| !p.is_empty() && *p != "any") {
            pairs.push(("provider", p.to_owned()));
        }
        if taken {
            pairs.push(("taken", slot.encode()));
        }
        carry.href(&format!("/book/{}", clinic.as_str()), &pairs)
    }

    async fn service_of(store: &store::Store, clinic: &ClinicSlug, product_id: i64) -> Result<(std::sync::Arc<store::Catalogue>, i64), AppError> {
        let catalogue = store.catalogue(clinic).await?;
        let service = catalogue
            .products
            .iter()
            .find(|p| p.id == product_id)
            .map(|p| p.service_id)
            .ok_or_else(|| AppError::invalid("slot", "not a time this page offered"))?;
        Ok((catalogue, service))
    }

    fn zone_of(catalogue: &store::Catalogue, location_id: i64) -> Result<chrono_tz::Tz, AppError> {
        catalogue
            .locations
            .iter()
            .find(|l| l.id == location_id)
            .map(|l| l.tz)
            .ok_or_else(|| AppError::invalid("slot", "not a time this page offered"))
    }

    pub async fn hold_slot(clinic: String, slot: String, provider: Option<String>, carry: Carry) -> Result<(), AppError> {
        let slug = ClinicSlug::parse(&clinic)?;
        let slot = parse_slot(&slot)?;
        let store = store()?;
        let (catalogue, _) = service_of(&store, &slug, slot.product_id).await?;
        let tz = zone_of(&catalogue, slot.location_id)?;
        match store.place_hold(catalogue.clinic.id, slot, false, crate::server::widget_client().as_ref(), now()?).await {
            Ok(hold) => {
                let url = carry.href(
                    &format!("/book/{}/details", slug.as_str()),
                    &[("hold", hold.token), ("slot", slot.encode())],
                );
                leptos_axum::redirect(&url);
                Ok(())
            }
            Err(StoreError::SlotTaken | StoreError::SlotUnavailable) => {
                leptos_axum::redirect(&picker_url(&slug, &slot, provider.as_deref(), tz, &carry, true));
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    fn label(locale: Locale, field: PatientField) -> String {
        locale.field_label(field).to_owned()
    }

    /// What the form asks: names always; the product's booker fields; and, because the booker
    /// attends unless they book for someone else, the participant fields too.
    fn requirements(booker: &[PatientField], participant: &[PatientField]) -> (Vec<PatientField>, Vec<PatientField>) {
        let names = [PatientField::FirstName, PatientField::LastName];
        let mut b: Vec<PatientField> = names.to_vec();
        b.extend(booker.iter().copied().filter(|f| !names.contains(f)));
        let mut p: Vec<PatientField> = names.to_vec();
        p.extend(participant.iter().copied().filter(|f| !names.contains(f)));
        (b, p)
    }

    pub async fn details(clinic: String, hold: String, slot: String, carry: Carry) -> Result<Details, AppError> {
        let slug = ClinicSlug::parse(&clinic)?;
        let slot_id = parse_slot(&slot)?;
        let store = store()?;
        let (catalogue, service_id) = service_of(&store, &slug, slot_id.product_id).await?;
        let locale = locale(carry.lang.as_deref(), &catalogue.clinic.default_locale);
        let origins = catalogue.embed_origins.clone();
        allow_framing(&origins);
        let tz = zone_of(&catalogue, slot_id.location_id)?;
        let now = now()?;
        let held = match store.live_hold(catalogue.clinic.id, &hold, now).await {
            Ok(h) if h.slot == slot_id => h,
            Ok(_) | Err(StoreError::NotFound(_)) => return Err(AppError::HoldExpired),
            Err(e) => return Err(e.into()),
        };
        let (booker_fields, participant_fields) = store.product_requirements(catalogue.clinic.id, slot_id.product_id).await?;
        let (booker_required, participant_required) = requirements(&booker_fields, &participant_fields);
        let mut booker: Vec<FieldSpec> = booker_required
            .iter()
            .map(|f| FieldSpec { field: *f, label: label(locale, *f), required: true })
            .collect();
        for f in &participant_required {
            if !booker_required.contains(f) {
                booker.push(FieldSpec { field: *f, label: label(locale, *f), required: false });
            }
        }
        let participant = participant_required
            .iter()
            .map(|f| FieldSpec { field: *f, label: label(locale, *f), required: true })
            .collect();
        let product = catalogue.products.iter().find(|p| p.id == slot_id.product_id);
        let location = catalogue.locations.iter().find(|l| l.id == slot_id.location_id);
        let until = held.expires_at.with_timezone(&tz);
        Ok(Details {
            locale,
            clinic: slug.as_str().to_owned(),
            clinic_name: catalogue.clinic.name.clone(),
            parent_origin: parent_origin(carry.embed.as_deref(), &origins),
            hold,
            slot,
            summary: Summary {
                service: catalogue.services.iter().find(|s| s.id == service_id).map(|s| s.name.clone()).unwrap_or_default(),
                product: product.map(|p| format!("{} ({} {})", p.name, p.duration_minutes, locale.t(Msg::Minutes))).unwrap_or_default(),
                provider: catalogue
                    .offers
                    .iter()
                    .find(|o| o.provider_id == slot_id.provider_id)
                    .map(|o| o.display_name.clone())
                    .unwrap_or_default(),
                location: location.map(|l| l.name.clone()).unwrap_or_default(),
                address: location.map(|l| l.address.clone()).unwrap_or_default(),
                when: time_option(locale, tz, &slot_id).long_label,
                time_zone: tz.name().to_owned(),
            },
            held_until: locale.time(until.hour(), until.minute()),
            today: now.with_timezone(&tz).date_naive(),
            booker,
            participant,
            back: picker_url(&slug, &slot_id, None, tz, &carry, false),
        })
    }

    /// Reads one person from the form; unknown field names are refused, not ignored.
    fn person(
        role: &str,
        typed: &HashMap<String, String>,
        required: &[PatientField],
        today: NaiveDate,
        region: Option<PhoneRegion>,
    ) -> Result<PersonDetails, AppError> {
        if let Some(unknown) = typed.keys().find(|k| !PatientField::ALL.iter().any(|f| f.as_str() == k.as_str())) {
            return Err(AppError::invalid(&format!("{role}.{unknown}"), "is not a field of this form"));
        }
        PersonDetails::from_text(|f| typed.get(f.as_str()).cloned(), required, today, region).map_err(|(field, problem)| {
            let message = match problem {
                FieldProblem::Missing => crate::error::REQUIRED.to_owned(),
                FieldProblem::Invalid(why) => why,
            };
            AppError::invalid(&format!("{role}.{}", field.as_str()), message)
        })
    }

    pub async fn confirm(
        clinic: String,
        hold: String,
        slot: String,
        booker: HashMap<String, String>,
        participant: HashMap<String, String>,
        carry: Carry,
    ) -> Result<(), AppError> {
        let slug = ClinicSlug::parse(&clinic)?;
        let slot_id = parse_slot(&slot)?;
        if hold.len() > 64 {
            return Err(AppError::invalid("hold", "not a hold of this clinic"));
        }
        let store = store()?;
        let (catalogue, _) = service_of(&store, &slug, slot_id.product_id).await?;
        let tz = zone_of(&catalogue, slot_id.location_id)?;
        let now = now()?;
        let today = now.with_timezone(&tz).date_naive();
        let (booker_fields, participant_fields) = store.product_requirements(catalogue.clinic.id, slot_id.product_id).await?;
        let (mut booker_required, participant_required) = requirements(&booker_fields, &participant_fields);
        let for_other = participant.values().any(|v| !v.trim().is_empty());
        if !for_other {
            for f in &participant_required {
                if !booker_required.contains(f) {
                    booker_required.push(*f);
                }
            }
        }
        // Everything is checked before anything is written.
        // A number without a country code is read as the location's people write it.
        let region = PhoneRegion::of_zone(tz.name());
        let booker = person("booker", &booker, &booker_required, today, region)?;
        let participant =
            if for_other { Some(person("participant", &participant, &participant_required, today, region)?) } else { None };

        let clinic_id = catalogue.clinic.id;
        let booker_record = store.create_patient(clinic_id, &booker, false, now).await?;
        let participant_id = match &participant {
            Some(p) => Some(store.create_patient(clinic_id, p, false, now).await?.id),
            None => None,
        };
        let booked = store
            .book_slot(&SlotBooking {
                clinic_id,
                slot: slot_id,
                new_patient: false,
                booker_id: Some(booker_record.id),
                participant_id: participant_id.or(Some(booker_record.id)),
                source: BookingSource::Widget,
                reason: String::new(),
                idempotency: None,
                hold_token: Some(hold),
                now,
            })
            .await;
        if booked.is_err() {
            // Nothing was booked: the patients created for it go too.
            for id in [Some(booker_record.id), participant_id].into_iter().flatten() {
                store.forget_unbooked_patient(clinic_id, id).await?;
            }
        }
        match booked {
            Ok(booked) => {
                let token = store.issue_manage_link(&link_key()?, booked.appointment_id).await?;
                leptos_axum::redirect(&carry.href(&format!("/manage/{token}"), &[("done", "booked".into())]));
                Ok(())
            }
            Err(StoreError::SlotTaken | StoreError::SlotUnavailable) => {
                leptos_axum::redirect(&picker_url(&slug, &slot_id, None, tz, &carry, true));
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[component]
pub fn BookPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let clinic = move || params.read().get("clinic").unwrap_or_default();
    let picker = Resource::new(
        move || {
            (clinic(), PickerQuery::from_params(&query.read()))
        },
        |(clinic, query)| load_picker(clinic, query),
    );
    let hold = ServerAction::<HoldSlot>::new();
    view! {
        <crate::Page>
            <Suspense fallback=move || view! { <p class="text-slate-600">{query_locale().t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match picker.await {
                        Ok(p) => {
                            let base = format!("/book/{}", p.clinic);
                            view! {
                                <crate::Header locale=p.locale title=p.clinic_name.clone() parent=p.parent_origin.clone()/>
                                {crate::refusal(hold).map(|e| view! { <Problem e locale=p.locale/> })}
                                <PickerView p base action=TimeAction::Hold(hold)/>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <Problem e locale=query_locale()/> }.into_any(),
                    }
                })}
            </Suspense>
        </crate::Page>
    }
}

#[component]
pub fn DetailsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let details = Resource::new(
        move || {
            let q = query.read();
            (
                params.read().get("clinic").unwrap_or_default(),
                q.get("hold").unwrap_or_default(),
                q.get("slot").unwrap_or_default(),
                q.get("lang"),
                q.get("embed"),
            )
        },
        |(clinic, hold, slot, lang, embed)| load_details(clinic, hold, slot, lang, embed),
    );
    view! {
        <crate::Page>
            <Suspense fallback=move || view! { <p>{query_locale().t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match details.await {
                        Ok(d) => view! { <DetailsView d/> }.into_any(),
                        Err(e) => {
                            let locale = query_locale();
                            let clinic = params.read_untracked().get("clinic").unwrap_or_default();
                            let again = Carry::from_query().href(&format!("/book/{clinic}"), &[]);
                            view! {
                                <Problem e locale/>
                                <a href=again class="mt-4 inline-block text-teal-800 underline">{locale.t(Msg::ChangeTime)}</a>
                            }
                            .into_any()
                        }
                    }
                })}
            </Suspense>
        </crate::Page>
    }
}

/// The localized hint for a refused field.
fn field_hint(locale: Locale, field: PatientField, problem: &FieldProblem) -> &'static str {
    locale.field_hint(field, matches!(problem, FieldProblem::Missing))
}

#[component]
fn Field(spec: FieldSpec, role: &'static str, locale: Locale, today: NaiveDate, server_error: Signal<Option<String>>) -> impl IntoView {
    let name = format!("{role}[{}]", spec.field.as_str());
    let id = format!("{role}-{}", spec.field.as_str());
    let hint_id = format!("{id}-hint");
    let field = spec.field;
    let (kind, autocomplete) = match field {
        PatientField::FirstName => ("text", "given-name"),
        PatientField::LastName => ("text", "family-name"),
        PatientField::Phone => ("tel", "tel"),
        PatientField::Email => ("email", "email"),
        PatientField::BirthDate => ("date", "bday"),
        PatientField::Street => ("text", "street-address"),
        PatientField::Zip => ("text", "postal-code"),
        PatientField::City => ("text", "address-level2"),
        PatientField::Country => ("text", "country-name"),
        PatientField::NationalId => ("text", "off"),
    };
    // Someone else's details must not be filled from the booker's saved ones.
    let autocomplete = if role == "participant" { "off" } else { autocomplete };
    let local_error = RwSignal::new(None::<&'static str>);
    let required = spec.required;
    let on_change = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        local_error.set(match check_field(field, &value, today) {
            Ok(()) => None,
            Err(FieldProblem::Missing) if !required => None,
            Err(problem) => Some(field_hint(locale, field, &problem)),
        });
    };
    let full_name = format!("{role}.{}", field.as_str());
    let error = Signal::derive(move || {
        local_error.get().map(str::to_owned).or_else(|| server_error.get().filter(|f| *f == full_name).map(|_| locale.t(Msg::CheckField).to_owned()))
    });
    let invalid = move || error.get().is_some().to_string();
    let max = today.to_string();
    view! {
        <div class="mb-3">
            <label for=id.clone() class="mb-1 block font-medium">
                {spec.label}
                {required.then(|| view! { <span aria-hidden="true" class="text-red-800">" *"</span> })}
            </label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                max=(field == PatientField::BirthDate).then_some(max)
                maxlength="200"
                aria-invalid=invalid
                aria-describedby=hint_id.clone()
                on:change=on_change
                class="w-full rounded-md border border-slate-400 px-3 py-2 focus:border-teal-700 focus:outline-none focus:ring-2 focus:ring-teal-700"
            />
            <p id=hint_id class="mt-1 text-sm text-red-800" data-testid="field-error">{move || error.get()}</p>
        </div>
    }
}

/// The server-rendered part of the details page: what is held, until when, and the form.
#[component]
fn DetailsView(d: Details) -> impl IntoView {
    let locale = d.locale;
    let s = d.summary;
    let refused = crate::refusal(ServerAction::<ConfirmBooking>::new());
    let target = FormTarget { clinic: d.clinic, hold: d.hold, slot: d.slot };
    let carry = Carry { lang: Some(locale.code().into()), embed: d.parent_origin.clone() };
    view! {
        <crate::Header locale title=d.clinic_name parent=d.parent_origin/>
        <section class="mb-4 rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200" data-testid="summary">
            <p class="text-lg font-semibold">{s.when}</p>
            <p>{s.service} " · " {s.product}</p>
            <p>{s.provider}</p>
            <p class="text-sm text-slate-600">{s.location} ", " {s.address} " (" {s.time_zone} ")"</p>
            <p class="mt-2 text-sm" data-testid="held-until">{locale.t(Msg::HeldUntil)} " " {d.held_until}</p>
            <a href=d.back class="mt-1 inline-block text-sm text-teal-800 underline">{locale.t(Msg::ChangeTime)}</a>
        </section>
        <DetailsForm locale target carry today=d.today booker=d.booker participant=d.participant refused/>
    }
}

/// The hidden fields that say what the details form confirms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormTarget {
    pub clinic: String,
    pub hold: String,
    pub slot: String,
}

/// The details form, an island: each field is checked as the patient leaves it, with the same
/// rules the server applies, and the form posts with `fetch` so that a refusal leaves what was
/// typed in place. Without the bundle it is a plain form that posts and redirects.
/// `refused` carries a refusal of a plain post into the browser's copy of the form, which must
/// render what the server rendered.
#[island]
fn DetailsForm(
    locale: Locale,
    target: FormTarget,
    carry: Carry,
    today: NaiveDate,
    booker: Vec<FieldSpec>,
    participant: Vec<FieldSpec>,
    refused: Option<AppError>,
) -> impl IntoView {
    let confirm = ServerAction::<ConfirmBooking>::new();
    if let Some(e) = refused {
        confirm.value().set(Some(Err(e)));
    }
    let server_error = Signal::derive(move || match confirm.value().get() {
        Some(Err(AppError::Invalid { field, .. })) => Some(field),
        _ => None,
    });
    let problem = move || match confirm.value().get() {
        Some(Err(e)) => Some(view! { <Problem e locale/> }),
        _ => None,
    };
    let pending = confirm.pending();
    let booker = booker
        .into_iter()
        .map(|spec| view! { <Field spec role="booker" locale today server_error/> })
        .collect_view();
    let participant = participant
        .into_iter()
        .map(|spec| {
            let spec = FieldSpec { required: false, ..spec };
            view! { <Field spec role="participant" locale today server_error/> }
        })
        .collect_view();
    view! {
        <div aria-live="assertive">{problem}</div>
        <leptos::form::ActionForm action=confirm>
            <input type="hidden" name="clinic" value=target.clinic/>
            <input type="hidden" name="hold" value=target.hold/>
            <input type="hidden" name="slot" value=target.slot/>
            {carry.hidden_inputs()}
            <fieldset class="mb-4">
                <legend class="mb-2 text-lg font-semibold">{locale.t(Msg::YourDetails)}</legend>
                {booker}
            </fieldset>
            <details class="mb-4 rounded-lg bg-white p-3 ring-1 ring-slate-200">
                <summary class="cursor-pointer font-medium">{locale.t(Msg::ForSomeoneElse)}</summary>
                <fieldset class="mt-3">
                    <legend class="mb-1 font-semibold">{locale.t(Msg::Attendee)}</legend>
                    <p class="mb-2 text-sm text-slate-600">{locale.t(Msg::ForSomeoneElseHint)}</p>
                    {participant}
                </fieldset>
            </details>
            <button type="submit" disabled=move || pending.get() data-testid="confirm"
                class="w-full rounded-lg bg-teal-700 px-4 py-3 font-semibold text-white hover:bg-teal-800 focus:outline-none focus:ring-2 focus:ring-teal-900 focus:ring-offset-2 disabled:opacity-60">
                {move || if pending.get() { locale.t(Msg::Booking) } else { locale.t(Msg::Confirm) }}
            </button>
        </leptos::form::ActionForm>
    }
}
