//! What a clinic offers: locations, services with their products (bookable appointment
//! types), and providers. One page lists everything; each entry has its own page with its
//! form and the archive, restore and delete buttons.

use super::text::{t, T};
use super::{CellLabel, Console, Field, Frame, Notice, Section, Table, BUTTON, CARD, CELL, ROW};
use crate::i18n::Locale;
use crate::{AppError, Problem};
use domain::catalogue::{LocationDef, ProductDef, ProviderDef, ServiceDef};
use domain::patient::PatientField;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed<T> {
    pub id: i64,
    pub def: T,
    pub archived: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueView {
    pub frame: Frame,
    pub locations: Vec<Listed<LocationDef>>,
    pub services: Vec<Listed<ServiceDef>>,
    pub products: Vec<Listed<ProductDef>>,
    pub providers: Vec<Listed<ProviderDef>>,
    pub done: Option<String>,
}

/// One entry's page: `kind` is location, service, product or provider; `id` None for a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    pub frame: Frame,
    pub kind: String,
    pub id: Option<i64>,
    pub archived: bool,
    pub location: Option<LocationDef>,
    pub service: Option<ServiceDef>,
    pub product: Option<ProductDef>,
    pub provider: Option<ProviderDef>,
    /// The clinic's services (id, name, archived), for products and providers.
    pub services: Vec<(i64, String, bool)>,
    /// Every IANA zone, for locations.
    pub zones: Vec<String>,
    pub done: Option<String>,
    /// The fields of a refused form post, to show them again (name → value; ticked boxes only).
    pub draft: Option<BTreeMap<String, String>>,
}

impl EntryView {
    /// A field's value: as refused, else as saved.
    fn value(&self, name: &str, saved: impl Into<String>) -> String {
        match &self.draft {
            Some(d) => d.get(name).cloned().unwrap_or_default(),
            None => saved.into(),
        }
    }

    /// Whether a box is ticked: as refused, else as saved.
    fn ticked(&self, name: &str, saved: bool) -> bool {
        match &self.draft {
            Some(d) => d.contains_key(name),
            None => saved,
        }
    }
}

#[server(endpoint = "admin_catalogue")]
pub async fn load_catalogue(done: Option<String>) -> Result<CatalogueView, AppError> {
    crate::server::with_status(ssr::catalogue(done)).await
}

#[server(endpoint = "admin_catalogue_entry")]
pub async fn load_entry(kind: String, id: String, service: Option<String>, done: Option<String>) -> Result<EntryView, AppError> {
    crate::server::with_status(ssr::entry(kind, id, service, done)).await
}

#[server(endpoint = "admin_save_location")]
pub async fn save_location(csrf: String, id: String, name: String, address: String, time_zone: String) -> Result<(), AppError> {
    let draft = [("name", &name), ("address", &address), ("time_zone", &time_zone)].map(|(k, v)| (k.to_owned(), v.clone()));
    let result = ssr::save_location(csrf, id.clone(), name, address, time_zone).await;
    crate::server::with_status(ssr::keep_draft("location", &id, result, draft)).await
}

#[server(endpoint = "admin_save_service")]
pub async fn save_service(csrf: String, id: String, name: String, duration_minutes: String) -> Result<(), AppError> {
    let draft = [("name", &name), ("duration_minutes", &duration_minutes)].map(|(k, v)| (k.to_owned(), v.clone()));
    let result = ssr::save_service(csrf, id.clone(), name, duration_minutes).await;
    crate::server::with_status(ssr::keep_draft("service", &id, result, draft)).await
}

/// A product form's fields. Checkboxes arrive as `ask[booker.phone]=on`: only the ticked ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductForm {
    pub service: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub duration_minutes: String,
    #[serde(default)]
    pub new_patient_minutes: String,
    pub price: String,
    pub currency: String,
    #[serde(default)]
    pub buffer_before_minutes: String,
    #[serde(default)]
    pub buffer_after_minutes: String,
    #[serde(default)]
    pub step_minutes: String,
    #[serde(default)]
    pub per_day_cap: String,
}

#[server(endpoint = "admin_save_product")]
pub async fn save_product(csrf: String, id: String, product: ProductForm, ask: Option<BTreeMap<String, String>>) -> Result<(), AppError> {
    let ask = ask.unwrap_or_default();
    let p = &product;
    let mut draft: Vec<(String, String)> = [
        ("service", &p.service), ("name", &p.name), ("description", &p.description), ("duration_minutes", &p.duration_minutes),
        ("new_patient_minutes", &p.new_patient_minutes), ("price", &p.price), ("currency", &p.currency),
        ("buffer_before_minutes", &p.buffer_before_minutes), ("buffer_after_minutes", &p.buffer_after_minutes),
        ("step_minutes", &p.step_minutes), ("per_day_cap", &p.per_day_cap),
    ]
    .into_iter()
    .map(|(k, v)| (format!("product[{k}]"), v.clone()))
    .collect();
    draft.extend(ask.keys().map(|k| (format!("ask[{k}]"), "on".to_owned())));
    let result = ssr::save_product(csrf, id.clone(), product, ask).await;
    crate::server::with_status(ssr::keep_draft("product", &id, result, draft)).await
}

#[allow(clippy::too_many_arguments)] // one argument per form field
#[server(endpoint = "admin_save_provider")]
pub async fn save_provider(
    csrf: String,
    id: String,
    name: String,
    title: String,
    gender: String,
    specialty: String,
    services: Option<BTreeMap<String, String>>,
    keep_booked: Option<String>,
) -> Result<(), AppError> {
    let services = services.unwrap_or_default();
    let mut draft: Vec<(String, String)> =
        [("name", &name), ("title", &title), ("gender", &gender), ("specialty", &specialty)].into_iter().map(|(k, v)| (k.to_owned(), v.clone())).collect();
    draft.extend(services.keys().map(|k| (format!("services[{k}]"), "on".to_owned())));
    let keep = keep_booked.is_some_and(|k| !k.is_empty());
    let result = ssr::save_provider(csrf, id.clone(), name, title, gender, specialty, services, keep).await;
    crate::server::with_status(ssr::keep_draft("provider", &id, result, draft)).await
}

/// `archived` is "true" to archive and "false" to restore.
#[server(endpoint = "admin_archive_entry")]
pub async fn archive_entry(csrf: String, kind: String, id: String, archived: String, keep_booked: Option<String>) -> Result<(), AppError> {
    crate::server::with_status(ssr::archive(csrf, kind, id, archived, keep_booked.is_some_and(|k| !k.is_empty()))).await
}

#[server(endpoint = "admin_delete_entry")]
pub async fn delete_entry(csrf: String, kind: String, id: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::delete(csrf, kind, id)).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::admin::session::{for_change, for_page};
    use store::attention::Stranding;
    use store::StoreError;
    use crate::server::{now, store};
    use domain::catalogue::{parse_minutes, parse_optional_minutes, parse_price, ProductInput};
    use domain::staff::Role;
    use store::catalogue_admin::{Entry, Kind};
    use store::staff::Actor;

    /// The flash that carries a refused form back to its page: `draft <path>` and the fields.
    fn draft_prefix(kind: &str, id: &str) -> String {
        let id = if id.trim().is_empty() { "new" } else { id.trim() };
        format!("draft /admin/catalogue/{kind}/{id}\n")
    }

    /// When a plain form post (no JavaScript) is refused, the browser returns to the form, which
    /// the server renders anew: keep what was typed for that one page view.
    pub async fn keep_draft<I: IntoIterator<Item = (String, String)>>(kind: &str, id: &str, result: Result<(), AppError>, fields: I) -> Result<(), AppError> {
        let plain_form = crate::server::plain_form_post();
        if let (Err(_), true, Some(token)) = (&result, plain_form, crate::admin::session::session_token()) {
            let fields: BTreeMap<String, String> = fields.into_iter().collect();
            if let (Ok(json), Ok(store)) = (serde_json::to_string(&fields), store()) {
                // A draft that cannot be kept costs the typing, not the refusal.
                let _ = store.set_flash(&token, &format!("{}{json}", draft_prefix(kind, id))).await;
            }
        }
        result
    }

    fn listed<T>(entries: Vec<Entry<T>>) -> Vec<Listed<T>> {
        entries.into_iter().map(|e| Listed { id: e.id, def: e.def, archived: e.archived }).collect()
    }

    fn kind(raw: &str) -> Result<Kind, AppError> {
        Kind::parse(raw).ok_or_else(|| AppError::NotFound { what: "page".into() })
    }

    /// "" or "new" for a new entry, else the entry's id.
    fn entry_id(raw: &str) -> Result<Option<i64>, AppError> {
        match raw.trim() {
            "" | "new" => Ok(None),
            n => n.parse().map(Some).map_err(|_| AppError::NotFound { what: "entry".into() }),
        }
    }

    /// What `done` may say after a change, and nothing else (it comes from the address).
    const DONE: [&str; 5] = ["saved", "unchanged", "archived", "restored", "deleted"];

    fn done(d: Option<String>) -> Option<String> {
        d.filter(|d| DONE.contains(&d.as_str()))
    }

    pub async fn catalogue(done_: Option<String>) -> Result<CatalogueView, AppError> {
        let (session, frame) = for_page("/admin/catalogue", Role::can_configure).await?;
        let c = store()?.clinic_catalogue(session.user.clinic_id).await?;
        Ok(CatalogueView {
            frame,
            locations: listed(c.locations),
            services: listed(c.services),
            products: listed(c.products),
            providers: listed(c.providers),
            done: done(done_),
        })
    }

    pub async fn entry(kind_: String, id: String, service: Option<String>, done_: Option<String>) -> Result<EntryView, AppError> {
        let kind = kind(&kind_)?;
        let id = entry_id(&id)?;
        let path = format!("/admin/catalogue/{}/{}", kind.name(), id.map_or("new".to_owned(), |i| i.to_string()));
        let (session, frame) = for_page(&path, Role::can_configure).await?;
        let store = store()?;
        let c = store.clinic_catalogue(session.user.clinic_id).await?;
        let missing = || AppError::NotFound { what: kind.name().to_owned() };
        let mut view = EntryView {
            frame,
            kind: kind.name().to_owned(),
            id,
            archived: false,
            location: None,
            service: None,
            product: None,
            provider: None,
            services: c.services.iter().map(|s| (s.id, s.def.name.clone(), s.archived)).collect(),
            zones: Vec::new(),
            done: done(done_),
            draft: None,
        };
        if let Some(token) = crate::admin::session::session_token() {
            let prefix = draft_prefix(kind.name(), &id.map(|i| i.to_string()).unwrap_or_default());
            if let Some(flash) = store.take_flash_starting(&token, &prefix).await? {
                view.draft = serde_json::from_str(&flash[prefix.len()..]).ok();
            }
        }
        match (kind, id) {
            (Kind::Location, None) => {
                let config = store.clinic_config(session.user.clinic_id).await?;
                view.location = Some(LocationDef { name: String::new(), address: String::new(), time_zone: config.profile.time_zone });
            }
            (Kind::Location, Some(id)) => {
                let e = c.location(id).ok_or_else(missing)?;
                (view.location, view.archived) = (Some(e.def.clone()), e.archived);
            }
            (Kind::Service, None) => view.service = Some(ServiceDef { name: String::new(), duration_minutes: 30 }),
            (Kind::Service, Some(id)) => {
                let e = c.service(id).ok_or_else(missing)?;
                (view.service, view.archived) = (Some(e.def.clone()), e.archived);
            }
            (Kind::Product, None) => {
                let service_id = service.and_then(|s| s.parse().ok()).filter(|s| c.service(*s).is_some()).unwrap_or(0);
                view.product = Some(ProductDef {
                    service_id,
                    name: String::new(),
                    description: String::new(),
                    duration_minutes: c.service(service_id).map_or(30, |s| s.def.duration_minutes),
                    new_patient_minutes: None,
                    price_cents: 0,
                    currency: c.products.last().map_or("EUR".to_owned(), |p| p.def.currency.clone()),
                    buffer_before_minutes: 0,
                    buffer_after_minutes: 0,
                    step_minutes: None,
                    per_day_cap: None,
                    booker_fields: vec![PatientField::FirstName, PatientField::LastName, PatientField::Phone],
                    participant_fields: vec![],
                });
            }
            (Kind::Product, Some(id)) => {
                let e = c.product(id).ok_or_else(missing)?;
                (view.product, view.archived) = (Some(e.def.clone()), e.archived);
            }
            (Kind::Provider, None) => {
                view.provider = Some(ProviderDef { name: String::new(), title: String::new(), gender: String::new(), specialty: String::new(), service_ids: vec![] })
            }
            (Kind::Provider, Some(id)) => {
                let e = c.provider(id).ok_or_else(missing)?;
                (view.provider, view.archived) = (Some(e.def.clone()), e.archived);
            }
        }
        if kind == Kind::Location {
            view.zones = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name().to_owned()).collect();
            view.zones.sort();
        }
        Ok(view)
    }

    /// After a save: back to the list, saying whether anything changed.
    fn saved(changed: bool) {
        leptos_axum::redirect(if changed { "/admin/catalogue?done=saved" } else { "/admin/catalogue?done=unchanged" });
    }

    pub async fn save_location(csrf: String, id: String, name: String, address: String, time_zone: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let id = entry_id(&id)?;
        let def = LocationDef::new(&name, &address, &time_zone)?;
        let (_, changed) = store()?.save_location(session.user.clinic_id, &Actor::staff(&session.user), id, &def, now()?).await?;
        saved(changed);
        Ok(())
    }

    pub async fn save_service(csrf: String, id: String, name: String, duration_minutes: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let id = entry_id(&id)?;
        let def = ServiceDef::new(&name, i64::from(parse_minutes("durationMinutes", &duration_minutes, 1)?))?;
        let (_, changed) = store()?.save_service(session.user.clinic_id, &Actor::staff(&session.user), id, &def, now()?).await?;
        saved(changed);
        Ok(())
    }

    /// The ticked fields of `role` ("booker" or "participant"), in the order of `PatientField::ALL`.
    fn asked(ask: &BTreeMap<String, String>, role: &str) -> Vec<PatientField> {
        PatientField::ALL.into_iter().filter(|f| ask.contains_key(&format!("{role}.{}", f.as_str()))).collect()
    }

    pub async fn save_product(csrf: String, id: String, p: ProductForm, ask: BTreeMap<String, String>) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let id = entry_id(&id)?;
        let whole = |field: &'static str, raw: &str, min: u32| -> Result<i64, AppError> {
            if raw.trim().is_empty() {
                return Ok(0);
            }
            Ok(i64::from(parse_minutes(field, raw, min)?))
        };
        let per_day_cap = match p.per_day_cap.trim() {
            "" => None,
            n => Some(n.parse::<i64>().map_err(|_| AppError::invalid("perDayCap", format!("{n:?} is not a whole number")))?),
        };
        let mut booker = asked(&ask, "booker");
        // A booking always names someone: first and last name are asked whatever was ticked.
        for f in [PatientField::LastName, PatientField::FirstName] {
            if !booker.contains(&f) {
                booker.insert(0, f);
            }
        }
        let participant = asked(&ask, "participant");
        let def = ProductDef::new(ProductInput {
            service_id: p.service.trim().parse().ok(),
            name: p.name,
            description: p.description,
            duration_minutes: i64::from(parse_minutes("durationMinutes", &p.duration_minutes, 1)?),
            new_patient_minutes: parse_optional_minutes("newPatientMinutes", &p.new_patient_minutes)?.map(i64::from),
            price_cents: parse_price("price", &p.price)?,
            currency: p.currency,
            buffer_before_minutes: whole("bufferBeforeMinutes", &p.buffer_before_minutes, 0)?,
            buffer_after_minutes: whole("bufferAfterMinutes", &p.buffer_after_minutes, 0)?,
            step_minutes: parse_optional_minutes("stepMinutes", &p.step_minutes)?.map(i64::from),
            per_day_cap,
            booker_fields: booker,
            participant_fields: participant,
        })?;
        let (_, changed) = store()?.save_product(session.user.clinic_id, &Actor::staff(&session.user), id, &def, now()?).await?;
        saved(changed);
        Ok(())
    }

    pub async fn save_provider(
        csrf: String,
        id: String,
        name: String,
        title: String,
        gender: String,
        specialty: String,
        services: BTreeMap<String, String>,
        keep_booked: bool,
    ) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let id = entry_id(&id)?;
        let service_ids = services
            .keys()
            .map(|k| k.parse::<i64>().map_err(|_| AppError::invalid("services", format!("{k:?} is not a service"))))
            .collect::<Result<Vec<_>, _>>()?;
        let def = ProviderDef::new(&name, &title, &gender, &specialty, service_ids)?;
        let result = store()?.save_provider(session.user.clinic_id, &Actor::staff(&session.user), id, &def, stranding(keep_booked), now()?).await;
        let (_, changed) = result.map_err(|e| would_strand("services", e))?;
        saved(changed);
        Ok(())
    }

    fn stranding(keep_booked: bool) -> Stranding {
        if keep_booked {
            Stranding::Flag
        } else {
            Stranding::Refuse
        }
    }

    /// A change that would leave booked appointments outside what the provider offers is
    /// refused until the form says to keep them.
    fn would_strand(field: &str, e: StoreError) -> AppError {
        match e {
            StoreError::WouldStrand(n) => AppError::invalid(
                field,
                format!("{n} booked appointment(s) would no longer fit what this provider offers. Tick \"Keep booked appointments\" to save anyway: they stay booked and are listed on the overview as needing attention."),
            ),
            other => other.into(),
        }
    }

    pub async fn archive(csrf: String, kind_: String, id: String, archived: String, keep_booked: bool) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let kind = kind(&kind_)?;
        let id = entry_id(&id)?.ok_or_else(|| AppError::NotFound { what: kind.name().to_owned() })?;
        let archived = match archived.as_str() {
            "true" => true,
            "false" => false,
            other => return Err(AppError::invalid("archived", format!("{other:?} is neither true nor false"))),
        };
        let result = store()?.set_archived(session.user.clinic_id, &Actor::staff(&session.user), kind, id, archived, stranding(keep_booked), now()?).await;
        result.map_err(|e| would_strand("archived", e))?;
        let word = if archived { "archived" } else { "restored" };
        leptos_axum::redirect(&format!("/admin/catalogue/{}/{id}?done={word}", kind.name()));
        Ok(())
    }

    pub async fn delete(csrf: String, kind_: String, id: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let kind = kind(&kind_)?;
        let id = entry_id(&id)?.ok_or_else(|| AppError::NotFound { what: kind.name().to_owned() })?;
        store()?.delete_entry(session.user.clinic_id, &Actor::staff(&session.user), kind, id, now()?).await?;
        leptos_axum::redirect("/admin/catalogue?done=deleted");
        Ok(())
    }
}

fn done_notice(locale: Locale, done: Option<&str>) -> Option<impl IntoView> {
    let text = match done? {
        "saved" => T::Saved,
        "unchanged" => T::NothingChanged,
        "archived" => T::ArchivedNotice,
        "restored" => T::RestoredNotice,
        "deleted" => T::DeletedNotice,
        _ => return None,
    };
    Some(view! { <Notice text=t(locale, text)/> })
}

fn field_label(locale: Locale, f: PatientField) -> &'static str {
    t(
        locale,
        match f {
            PatientField::FirstName => T::FirstName,
            PatientField::LastName => T::LastName,
            PatientField::Phone => T::Phone,
            PatientField::Email => T::Email,
            PatientField::BirthDate => T::BirthDate,
            PatientField::Street => T::Street,
            PatientField::Zip => T::Zip,
            PatientField::City => T::City,
            PatientField::Country => T::Country,
            PatientField::NationalId => T::NationalId,
        },
    )
}

#[component]
pub fn CataloguePage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || query.read().get("done"), load_catalogue);
    super::loaded(data, |v| view! { <CatalogueList v/> })
}

/// A name, marked when archived.
#[component]
fn EntryName(locale: Locale, name: String, archived: bool, href: String) -> impl IntoView {
    view! {
        <a href=href class="font-medium text-teal-800 underline">{name}</a>
        {archived.then(|| view! { " " <span class="rounded bg-slate-200 px-1.5 py-0.5 text-xs text-slate-800">{t(locale, T::ArchivedLabel)}</span> })}
    }
}

const ADD_LINK: &str = "inline-block rounded-lg border border-teal-700 px-3 py-1.5 font-medium text-teal-800 hover:bg-teal-50";

#[component]
fn CatalogueList(v: CatalogueView) -> impl IntoView {
    let locale = v.frame.locale;
    let none = move || view! { <p class="text-slate-700">{t(locale, T::NoneYet)}</p> };
    let locations = if v.locations.is_empty() {
        none().into_any()
    } else {
        let rows = v
            .locations
            .iter()
            .map(|l| {
                view! {
                    <tr class=ROW data-testid="location">
                        <td class=CELL><EntryName locale name=l.def.name.clone() archived=l.archived href=format!("/admin/catalogue/location/{}", l.id)/></td>
                        <td class=CELL><CellLabel text=t(locale, T::Address)/>{l.def.address.clone()}</td>
                        <td class=CELL><CellLabel text=t(locale, T::TimeZone)/>{l.def.time_zone.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        view! { <Table headers=vec![t(locale, T::Name), t(locale, T::Address), t(locale, T::TimeZone)]>{rows}</Table> }.into_any()
    };
    let services = if v.services.is_empty() {
        none().into_any()
    } else {
        v.services
            .iter()
            .map(|s| {
                let products = v
                    .products
                    .iter()
                    .filter(|p| p.def.service_id == s.id)
                    .map(|p| {
                        let price = format!("{} {}", domain::catalogue::format_price(p.def.price_cents), p.def.currency);
                        view! {
                            <li class="py-1" data-testid="product">
                                <EntryName locale name=p.def.name.clone() archived=p.archived href=format!("/admin/catalogue/product/{}", p.id)/>
                                <span class="text-slate-700">" · " {p.def.duration_minutes} " " {t(locale, T::Minutes)} " · " {price}</span>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <div class="border-t border-slate-200 py-3" data-testid="service">
                        <h3 class="font-semibold">
                            <EntryName locale name=s.def.name.clone() archived=s.archived href=format!("/admin/catalogue/service/{}", s.id)/>
                        </h3>
                        <ul class="ml-4 list-disc pl-2">{products}</ul>
                        <a href=format!("/admin/catalogue/product/new?service={}", s.id) class="ml-4 text-sm text-teal-800 underline">{t(locale, T::AddProduct)}</a>
                    </div>
                }
            })
            .collect_view()
            .into_any()
    };
    let providers = if v.providers.is_empty() {
        none().into_any()
    } else {
        let rows = v
            .providers
            .iter()
            .map(|p| {
                let offered = p
                    .def
                    .service_ids
                    .iter()
                    .filter_map(|id| v.services.iter().find(|s| s.id == *id).map(|s| s.def.name.clone()))
                    .collect::<Vec<_>>()
                    .join(", ");
                // Names entered before titles existed may carry the title already.
                let name = if p.def.title.is_empty() || p.def.name.starts_with(&p.def.title) {
                    p.def.name.clone()
                } else {
                    format!("{} {}", p.def.title, p.def.name)
                };
                view! {
                    <tr class=ROW data-testid="provider">
                        <td class=CELL><EntryName locale name archived=p.archived href=format!("/admin/catalogue/provider/{}", p.id)/></td>
                        <td class=CELL><CellLabel text=t(locale, T::Specialty)/>{p.def.specialty.clone()}</td>
                        <td class=CELL><CellLabel text=t(locale, T::OffersServices)/>{offered}</td>
                    </tr>
                }
            })
            .collect_view();
        view! { <Table headers=vec![t(locale, T::Name), t(locale, T::Specialty), t(locale, T::OffersServices)]>{rows}</Table> }.into_any()
    };
    view! {
        <Console frame=v.frame.clone() section=Section::Catalogue>
            <h1 class="mb-2 text-2xl font-semibold">{t(locale, T::Catalogue)}</h1>
            <p class="mb-4 text-slate-700">{t(locale, T::CatalogueIntro)}</p>
            {done_notice(locale, v.done.as_deref())}
            <section class=CARD aria-labelledby="locations-title">
                <h2 id="locations-title" class="mb-2 text-lg font-semibold">{t(locale, T::Locations)}</h2>
                {locations}
                <p class="mt-3"><a href="/admin/catalogue/location/new" class=ADD_LINK data-testid="add-location">{t(locale, T::AddLocation)}</a></p>
            </section>
            <section class=CARD aria-labelledby="services-title">
                <h2 id="services-title" class="mb-2 text-lg font-semibold">{t(locale, T::Services)} " & " {t(locale, T::Products)}</h2>
                {services}
                <p class="mt-3"><a href="/admin/catalogue/service/new" class=ADD_LINK data-testid="add-service">{t(locale, T::AddService)}</a></p>
            </section>
            <section class=CARD aria-labelledby="providers-title">
                <h2 id="providers-title" class="mb-2 text-lg font-semibold">{t(locale, T::Providers)}</h2>
                {providers}
                <p class="mt-3"><a href="/admin/catalogue/provider/new" class=ADD_LINK data-testid="add-provider">{t(locale, T::AddProvider)}</a></p>
            </section>
        </Console>
    }
}

#[component]
pub fn EntryPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let (p, q) = (params.read(), query.read());
            (p.get("kind").unwrap_or_default(), p.get("id").unwrap_or_default(), q.get("service"), q.get("done"))
        },
        |(kind, id, service, done)| load_entry(kind, id, service, done),
    );
    super::loaded(data, |v| view! { <EntryForm v/> })
}

const SELECT: &str = "w-full max-w-md rounded-md border border-slate-400 bg-white px-3 py-2";

#[component]
fn EntryForm(v: EntryView) -> impl IntoView {
    let locale = v.frame.locale;
    let csrf = v.frame.csrf.clone();
    let id = v.id.map(|i| i.to_string()).unwrap_or_default();
    let (heading, form) = match v.kind.as_str() {
        "location" => (T::Location, view! { <LocationForm v=v.clone()/> }.into_any()),
        "service" => (T::Service, view! { <ServiceForm v=v.clone()/> }.into_any()),
        "product" => (T::Product, view! { <ProductFormView v=v.clone()/> }.into_any()),
        _ => (T::Provider, view! { <ProviderForm v=v.clone()/> }.into_any()),
    };
    let archive = ServerAction::<ArchiveEntry>::new();
    let delete = ServerAction::<DeleteEntry>::new();
    let problem = crate::refusal(archive).or_else(|| crate::refusal(delete)).map(|e| view! { <Problem e locale/> });
    let hours_link = v.id.filter(|_| v.kind == "provider").map(|id| view! {
        <p class=CARD><a href=format!("/admin/schedule/{id}") class="font-medium text-teal-800 underline" data-testid="edit-hours">{t(locale, T::EditHours)}</a></p>
    });
    let manage = v.id.map(|_| {
        let (archived_value, archive_label) = if v.archived { ("false", T::Restore) } else { ("true", T::Archive) };
        let (csrf2, kind2, id2) = (csrf.clone(), v.kind.clone(), id.clone());
        view! {
            <section class=CARD aria-labelledby="manage-title">
                <h2 id="manage-title" class="mb-1 text-lg font-semibold">{t(locale, T::Archive)} " / " {t(locale, T::Delete)}</h2>
                <p class="mb-3 text-sm text-slate-700">{t(locale, T::ArchiveHint)}</p>
                <div aria-live="assertive">{problem}</div>
                <div class="flex flex-wrap gap-2">
                    <leptos::form::ActionForm action=archive>
                        <input type="hidden" name="csrf" value=csrf.clone()/>
                        <input type="hidden" name="kind" value=v.kind.clone()/>
                        <input type="hidden" name="id" value=id.clone()/>
                        <input type="hidden" name="archived" value=archived_value/>
                        {(v.kind == "provider" && !v.archived).then(|| view! { <KeepBooked locale/> })}
                        <button type="submit" data-testid="archive" class="rounded-md border border-slate-500 px-3 py-1.5 font-medium hover:bg-slate-100">{t(locale, archive_label)}</button>
                    </leptos::form::ActionForm>
                    <leptos::form::ActionForm action=delete>
                        <input type="hidden" name="csrf" value=csrf2/>
                        <input type="hidden" name="kind" value=kind2/>
                        <input type="hidden" name="id" value=id2/>
                        <button type="submit" data-testid="delete" class="rounded-md border border-red-800 px-3 py-1.5 font-medium text-red-800 hover:bg-red-50">{t(locale, T::Delete)}</button>
                    </leptos::form::ActionForm>
                </div>
            </section>
        }
    });
    let archived = v.archived.then(|| view! { " " <span class="rounded bg-slate-200 px-2 py-0.5 text-sm font-normal text-slate-800">{t(locale, T::ArchivedLabel)}</span> });
    view! {
        <Console frame=v.frame.clone() section=Section::Catalogue>
            <p class="mb-2"><a href="/admin/catalogue" class="text-teal-800 underline">{t(locale, T::BackToCatalogue)}</a></p>
            <h1 class="mb-4 text-2xl font-semibold">{t(locale, heading)}{archived}</h1>
            {done_notice(locale, v.done.as_deref())}
            {form}
            {hours_link}
            {manage}
        </Console>
    }
}

/// The frame of an entry's form: its legend, the CSRF token and the entry's id, the fields
/// given as children, and the save button.
#[component]
fn FormCard(v: EntryView, legend: T, children: Children) -> impl IntoView {
    let locale = v.frame.locale;
    view! {
        <fieldset class=CARD>
            <legend class="px-1 text-lg font-semibold">{t(locale, legend)}</legend>
            <input type="hidden" name="csrf" value=v.frame.csrf.clone()/>
            <input type="hidden" name="id" value=v.id.map(|i| i.to_string()).unwrap_or_default()/>
            {children()}
            <button type="submit" class=BUTTON data-testid="save">{t(locale, T::Save)}</button>
        </fieldset>
    }
}

#[component]
fn LocationForm(v: EntryView) -> impl IntoView {
    let locale = v.frame.locale;
    let action = ServerAction::<SaveLocation>::new();
    let problem = crate::refusal(action).map(|e| view! { <Problem e locale/> });
    let saved = v.location.clone().unwrap_or(LocationDef { name: String::new(), address: String::new(), time_zone: "UTC".into() });
    let def = LocationDef { name: v.value("name", saved.name), address: v.value("address", saved.address), time_zone: v.value("time_zone", saved.time_zone) };
    let zones = v.zones.iter().map(|z| view! { <option value=z.clone() selected=*z == def.time_zone>{z.clone()}</option> }).collect_view();
    view! {
        <div aria-live="assertive">{problem}</div>
        <leptos::form::ActionForm action>
            <FormCard v=v.clone() legend=T::Location>
                <Field label=t(locale, T::Name) name="name" value=def.name.clone() autocomplete="off"/>
                <div class="mb-4">
                    <label for="address" class="mb-1 block font-medium">{t(locale, T::Address)}</label>
                    <textarea id="address" name="address" rows="3" required class="w-full max-w-md rounded-md border border-slate-400 bg-white px-3 py-2">{def.address.clone()}</textarea>
                </div>
                <div class="mb-4">
                    <label for="time_zone" class="mb-1 block font-medium">{t(locale, T::TimeZone)}</label>
                    <select id="time_zone" name="time_zone" aria-describedby="time_zone-hint" class=SELECT>{zones}</select>
                    <p id="time_zone-hint" class="mt-1 text-sm text-slate-600">{t(locale, T::LocationZoneHint)}</p>
                </div>
            </FormCard>
        </leptos::form::ActionForm>
    }
}

#[component]
fn ServiceForm(v: EntryView) -> impl IntoView {
    let locale = v.frame.locale;
    let action = ServerAction::<SaveService>::new();
    let problem = crate::refusal(action).map(|e| view! { <Problem e locale/> });
    let saved = v.service.clone().unwrap_or(ServiceDef { name: String::new(), duration_minutes: 30 });
    let (name, duration) = (v.value("name", saved.name), v.value("duration_minutes", saved.duration_minutes.to_string()));
    view! {
        <div aria-live="assertive">{problem}</div>
        <leptos::form::ActionForm action>
            <FormCard v=v.clone() legend=T::Service>
                <Field label=t(locale, T::Name) name="name" value=name autocomplete="off"/>
                <Field label=t(locale, T::DurationMinutes) name="duration_minutes" kind="number" value=duration hint=t(locale, T::ServiceDurationHint)/>
            </FormCard>
        </leptos::form::ActionForm>
    }
}

#[component]
fn ProductFormView(v: EntryView) -> impl IntoView {
    let locale = v.frame.locale;
    let action = ServerAction::<SaveProduct>::new();
    let problem = crate::refusal(action).map(|e| view! { <Problem e locale/> });
    let Some(def) = v.product.clone() else { return ().into_any() };
    let chosen_service = v.value("product[service]", def.service_id.to_string());
    let services = v
        .services
        .iter()
        .filter(|(id, _, archived)| !archived || *id == def.service_id)
        .map(|(id, name, _)| view! { <option value=id.to_string() selected=id.to_string() == chosen_service>{name.clone()}</option> })
        .collect_view();
    let optional = |m: Option<u32>| m.map(|n| n.to_string()).unwrap_or_default();
    let field = |name: &str, saved: String| v.value(&format!("product[{name}]"), saved);
    let (name, description, duration, new_patient, price, currency, buffer_before, buffer_after, step, cap) = (
        field("name", def.name.clone()),
        field("description", def.description.clone()),
        field("duration_minutes", def.duration_minutes.to_string()),
        field("new_patient_minutes", optional(def.new_patient_minutes)),
        field("price", domain::catalogue::format_price(def.price_cents)),
        field("currency", def.currency.clone()),
        field("buffer_before_minutes", def.buffer_before_minutes.to_string()),
        field("buffer_after_minutes", def.buffer_after_minutes.to_string()),
        field("step_minutes", optional(def.step_minutes)),
        field("per_day_cap", optional(def.per_day_cap)),
    );
    let v2 = v.clone();
    let checkboxes = move |role: &'static str, chosen: Vec<PatientField>| {
        PatientField::ALL
            .into_iter()
            .map(|f| {
                let id = format!("{role}-{}", f.as_str());
                let always = role == "booker" && matches!(f, PatientField::FirstName | PatientField::LastName);
                let name = format!("ask[{role}.{}]", f.as_str());
                let ticked = always || v2.ticked(&name, chosen.contains(&f));
                view! {
                    <label class="mr-4 inline-flex items-center gap-2 py-1">
                        <input type="checkbox" id=id name=name checked=ticked disabled=always class="h-4 w-4"/>
                        {field_label(locale, f)}
                    </label>
                }
            })
            .collect_view()
    };
    view! {
        <div aria-live="assertive">{problem}</div>
        <leptos::form::ActionForm action>
            <FormCard v=v.clone() legend=T::Product>
                <div class="mb-4">
                    <label for="service" class="mb-1 block font-medium">{t(locale, T::Service)}</label>
                    <select id="service" name="product[service]" required class=SELECT>
                        <option value="" selected=chosen_service == "0" || chosen_service.is_empty()>"—"</option>
                        {services}
                    </select>
                </div>
                <Field label=t(locale, T::Name) id="name" name="product[name]" value=name autocomplete="off"/>
                <div class="mb-4">
                    <label for="description" class="mb-1 block font-medium">{t(locale, T::Description)}</label>
                    <textarea id="description" name="product[description]" rows="2" class="w-full max-w-md rounded-md border border-slate-400 bg-white px-3 py-2">{description}</textarea>
                </div>
                <div class="grid gap-x-6 sm:grid-cols-2">
                    <Field label=t(locale, T::DurationMinutes) id="duration_minutes" name="product[duration_minutes]" kind="number" value=duration/>
                    <Field label=t(locale, T::NewPatientMinutes) id="new_patient_minutes" name="product[new_patient_minutes]" kind="number" required=false value=new_patient hint=t(locale, T::NewPatientHint)/>
                    <Field label=t(locale, T::Price) id="price" name="product[price]" value=price/>
                    <Field label=t(locale, T::Currency) id="currency" name="product[currency]" value=currency hint=t(locale, T::CurrencyHint)/>
                    <Field label=t(locale, T::BufferBefore) id="buffer_before_minutes" name="product[buffer_before_minutes]" kind="number" required=false value=buffer_before/>
                    <Field label=t(locale, T::BufferAfter) id="buffer_after_minutes" name="product[buffer_after_minutes]" kind="number" required=false value=buffer_after/>
                    <Field label=t(locale, T::StepMinutes) id="step_minutes" name="product[step_minutes]" kind="number" required=false value=step hint=t(locale, T::StepHint)/>
                    <Field label=t(locale, T::PerDayCap) id="per_day_cap" name="product[per_day_cap]" kind="number" required=false value=cap hint=t(locale, T::PerDayCapHint)/>
                </div>
                <fieldset class="mb-4">
                    <legend class="mb-1 font-medium">{t(locale, T::BookerFields)}</legend>
                    <p class="mb-1 text-sm text-slate-600">{t(locale, T::FieldsHint)}</p>
                    {checkboxes("booker", def.booker_fields.clone())}
                </fieldset>
                <fieldset class="mb-4">
                    <legend class="mb-1 font-medium">{t(locale, T::ParticipantFields)}</legend>
                    {checkboxes("participant", def.participant_fields.clone())}
                </fieldset>
            </FormCard>
        </leptos::form::ActionForm>
    }
    .into_any()
}

/// The choice to save a change even when it leaves booked appointments outside what the
/// provider offers (they stay booked and are flagged).
#[component]
fn KeepBooked(locale: Locale) -> impl IntoView {
    view! {
        <label class="mb-3 flex max-w-xl items-start gap-2 text-sm">
            <input type="checkbox" name="keep_booked" value="on" class="mt-1 h-4 w-4" data-testid="keep-booked"/>
            <span>{t(locale, T::KeepBooked)}</span>
        </label>
    }
}

#[component]
fn ProviderForm(v: EntryView) -> impl IntoView {
    let locale = v.frame.locale;
    let action = ServerAction::<SaveProvider>::new();
    let problem = crate::refusal(action).map(|e| view! { <Problem e locale/> });
    let saved = v.provider.clone().unwrap_or(ProviderDef { name: String::new(), title: String::new(), gender: String::new(), specialty: String::new(), service_ids: vec![] });
    let def = ProviderDef {
        name: v.value("name", saved.name),
        title: v.value("title", saved.title),
        gender: v.value("gender", saved.gender),
        specialty: v.value("specialty", saved.specialty),
        service_ids: v.services.iter().map(|s| s.0).filter(|id| v.ticked(&format!("services[{id}]"), saved.service_ids.contains(id))).collect(),
    };
    let genders = [("", T::GenderNone), ("female", T::GenderFemale), ("male", T::GenderMale), ("diverse", T::GenderDiverse)]
        .map(|(value, label)| view! { <option value=value selected=def.gender == value>{t(locale, label)}</option> })
        .collect_view();
    let services = v
        .services
        .iter()
        .filter(|(id, _, archived)| !archived || def.service_ids.contains(id))
        .map(|(id, name, _)| {
            let html_id = format!("service-{id}");
            view! {
                <label class="mr-4 inline-flex items-center gap-2 py-1">
                    <input type="checkbox" id=html_id name=format!("services[{id}]") checked=def.service_ids.contains(id) class="h-4 w-4"/>
                    {name.clone()}
                </label>
            }
        })
        .collect_view();
    view! {
        <div aria-live="assertive">{problem}</div>
        <leptos::form::ActionForm action>
            <FormCard v=v.clone() legend=T::Provider>
                <Field label=t(locale, T::Name) name="name" value=def.name.clone() autocomplete="off"/>
                <Field label=t(locale, T::ProviderTitle) name="title" value=def.title.clone() required=false hint=t(locale, T::ProviderTitleHint)/>
                <div class="mb-4">
                    <label for="gender" class="mb-1 block font-medium">{t(locale, T::Gender)}</label>
                    <select id="gender" name="gender" class=SELECT>{genders}</select>
                </div>
                <Field label=t(locale, T::Specialty) name="specialty" value=def.specialty.clone() required=false/>
                <fieldset class="mb-4">
                    <legend class="mb-1 font-medium">{t(locale, T::OffersServices)}</legend>
                    {services}
                </fieldset>
                <KeepBooked locale/>
            </FormCard>
        </leptos::form::ActionForm>
    }
}
