//! When providers work: the clinic's holidays and, per provider, weekly hours per location
//! (with validity dates), closed days, extra hours and labelled blocks.

use super::text::{t, T};
use super::{CellLabel, Console, Field, Frame, Notice, Section, Table, BUTTON, CARD, CELL, ROW};
use crate::i18n::Locale;
use crate::{AppError, Problem};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_params_map};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleIndex {
    pub frame: Frame,
    /// (id, name, archived) of every provider.
    pub providers: Vec<(i64, String, bool)>,
    /// (YYYY-MM-DD, name).
    pub holidays: Vec<(String, String)>,
    pub done: Option<String>,
    pub check: Option<CheckView>,
}

/// A booked appointment that a change leaves (or left) outside its provider's rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedRow {
    pub id: i64,
    /// Local date and time at the appointment's location.
    pub when: String,
    pub provider: String,
    pub patient: String,
    pub what: String,
    pub reason: String,
}

/// A proposed change before it is saved: what it does, the appointments it would strand,
/// and the form that saves it anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckView {
    pub description: String,
    pub stranded: Vec<AffectedRow>,
    /// The server function that saves the change, and its fields.
    pub endpoint: String,
    pub fields: Vec<(String, String)>,
    /// Where "discard" leads.
    pub discard: String,
    /// Why the proposal in the address cannot be read, if it cannot.
    pub error: Option<AppError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewLocationView {
    pub name: String,
    pub zone: String,
    /// (day heading, [(HH:MM, change: 0 kept, 1 added, 2 removed)]).
    pub days: Vec<(String, Vec<(String, u8)>)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewView {
    /// The Monday the week starts on (YYYY-MM-DD).
    pub week: String,
    pub previous: String,
    pub next: String,
    /// (id, name) of the products the provider offers.
    pub products: Vec<(i64, String)>,
    pub product: i64,
    /// The proposal's fields, kept when the week or product changes.
    pub carried: Vec<(String, String)>,
    pub locations: Vec<PreviewLocationView>,
    pub with_change: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: i64,
    /// What the rule says, as people read it.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderScheduleView {
    pub frame: Frame,
    pub provider_id: i64,
    pub provider_name: String,
    pub hours: Vec<Rule>,
    pub exceptions: Vec<Rule>,
    pub blocks: Vec<Rule>,
    /// The clinic's current locations (id, name, zone).
    pub locations: Vec<(i64, String, String)>,
    /// The zone blocks are entered in (the clinic's).
    pub time_zone: String,
    pub done: Option<String>,
    pub check: Option<CheckView>,
    /// `None` when the provider offers no appointment type yet.
    pub preview: Option<PreviewView>,
}

/// `search` is the page's query string: `done`, and a proposed change (`change` and its
/// form fields) to check before saving.
#[server(endpoint = "admin_schedule")]
pub async fn load_index(search: String) -> Result<ScheduleIndex, AppError> {
    crate::server::with_status(ssr::index(search)).await
}

/// `search` also carries the week preview's `week` and `product`.
#[server(endpoint = "admin_provider_schedule")]
pub async fn load_provider(provider: String, search: String) -> Result<ProviderScheduleView, AppError> {
    crate::server::with_status(ssr::provider(provider, search)).await
}

/// Every change below takes an optional `intent`: `check` shows what the change would do
/// without saving; none saves unless the change would leave booked appointments outside the
/// rules (then the page shows them first); `keep` saves and flags them.
#[server(endpoint = "admin_add_holiday")]
pub async fn add_holiday(csrf: String, date: String, name: String, intent: Option<String>) -> Result<(), AppError> {
    crate::server::with_status(ssr::submit(csrf, None, ssr::Form::new("holiday", [("date", date), ("name", name)]), intent)).await
}

#[server(endpoint = "admin_remove_holiday")]
pub async fn remove_holiday(csrf: String, date: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::remove_holiday(csrf, date)).await
}

#[allow(clippy::too_many_arguments)] // one argument per form field
#[server(endpoint = "admin_add_hours")]
pub async fn add_hours(
    csrf: String,
    provider: String,
    location: String,
    weekday: String,
    start: String,
    end: String,
    valid_from: String,
    valid_until: String,
    intent: Option<String>,
) -> Result<(), AppError> {
    let fields = [("location", location), ("weekday", weekday), ("start", start), ("end", end), ("valid_from", valid_from), ("valid_until", valid_until)];
    crate::server::with_status(ssr::submit_for(csrf, provider, ssr::Form::new("hours", fields), intent)).await
}

/// `kind` is `closed` (start and end ignored) or `extra`.
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "admin_add_exception")]
pub async fn add_exception(
    csrf: String,
    provider: String,
    date: String,
    kind: String,
    start: String,
    end: String,
    intent: Option<String>,
) -> Result<(), AppError> {
    let fields = [("date", date), ("kind", kind), ("start", start), ("end", end)];
    crate::server::with_status(ssr::submit_for(csrf, provider, ssr::Form::new("exception", fields), intent)).await
}

#[allow(clippy::too_many_arguments)]
#[server(endpoint = "admin_add_block")]
pub async fn add_block(
    csrf: String,
    provider: String,
    date: String,
    start: String,
    end: String,
    label: String,
    intent: Option<String>,
) -> Result<(), AppError> {
    let fields = [("date", date), ("start", start), ("end", end), ("label", label)];
    crate::server::with_status(ssr::submit_for(csrf, provider, ssr::Form::new("block", fields), intent)).await
}

/// `kind` is `hours`, `exception` or `block`.
#[server(endpoint = "admin_remove_rule")]
pub async fn remove_rule(csrf: String, provider: String, kind: String, id: String, intent: Option<String>) -> Result<(), AppError> {
    crate::server::with_status(ssr::submit_for(csrf, provider, ssr::Form::new("remove", [("kind", kind), ("id", id)]), intent)).await
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::*;
    use crate::admin::session::{for_change, for_page};
    use crate::server::{now, store};
    use chrono::{Datelike, Duration, NaiveDate};
    use chrono_tz::Tz;
    use domain::availability::Misfit;
    use domain::schedule::{parse_date, parse_optional_date, parse_time, ExceptionDef, HoursDef};
    use domain::staff::Role;
    use leptos::server_fn::ServerFn;
    use store::attention::{AffectedAppointment, ScheduleChange, SlotChange, Stranding};
    use store::schedule_admin::RuleKind;
    use store::staff::Actor;
    use store::StoreError;

    fn done(d: Option<&String>) -> Option<String> {
        d.filter(|d| *d == "saved" || *d == "removed").cloned()
    }

    fn id(what: &str, raw: &str) -> Result<i64, AppError> {
        raw.trim().parse().map_err(|_| AppError::NotFound { what: what.to_owned() })
    }

    fn pairs(search: &str) -> std::collections::HashMap<String, String> {
        form_urlencoded::parse(search.trim_start_matches('?').as_bytes()).into_owned().collect()
    }

    fn clinic_zone(time_zone: &str) -> Tz {
        domain::zone::parse_zone(time_zone).unwrap_or(chrono_tz::UTC)
    }

    /// The field names each kind of change posts, in form order.
    const CHANGES: [(&str, &[&str]); 5] = [
        ("hours", &["location", "weekday", "start", "end", "valid_from", "valid_until"]),
        ("exception", &["date", "kind", "start", "end"]),
        ("block", &["date", "start", "end", "label"]),
        ("remove", &["kind", "id"]),
        ("holiday", &["date", "name"]),
    ];

    /// A proposed change as its form posts it and the page's address carries it (no token).
    pub struct Form {
        change: &'static str,
        fields: Vec<(&'static str, String)>,
    }

    impl Form {
        pub fn new<const N: usize>(change: &'static str, fields: [(&'static str, String); N]) -> Self {
            Form { change, fields: fields.into() }
        }

        fn from_query(q: &std::collections::HashMap<String, String>) -> Option<Form> {
            let (change, names) = CHANGES.iter().find(|(c, _)| q.get("change").is_some_and(|v| v == c))?;
            let fields = names.iter().map(|n| (*n, q.get(*n).cloned().unwrap_or_default())).collect();
            Some(Form { change, fields })
        }

        fn get(&self, name: &str) -> &str {
            self.fields.iter().find(|f| f.0 == name).map_or("", |f| f.1.as_str())
        }

        fn pairs(&self) -> Vec<(String, String)> {
            std::iter::once(("change".to_owned(), self.change.to_owned())).chain(self.fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone()))).collect()
        }

        /// The page that shows what the change would do.
        fn address(&self, provider: Option<i64>) -> String {
            let base = provider.map_or("/admin/schedule".to_owned(), |p| format!("/admin/schedule/{p}"));
            format!("{base}?{}#check", query(&self.pairs()))
        }

        fn endpoint(&self) -> &'static str {
            match self.change {
                "hours" => AddHours::PATH,
                "exception" => AddException::PATH,
                "block" => AddBlock::PATH,
                "remove" => RemoveRule::PATH,
                _ => AddHoliday::PATH,
            }
        }

        /// The change the fields describe, refused naming the field when they describe none.
        fn parse(&self, tz: Tz) -> Result<ScheduleChange, AppError> {
            let date = || parse_date("date", self.get("date"));
            Ok(match self.change {
                "hours" => {
                    let location = self.get("location").trim().parse().map_err(|_| AppError::invalid("location", "choose a location"))?;
                    let weekday = self.get("weekday").trim().parse().map_err(|_| AppError::invalid("weekday", "choose a weekday"))?;
                    ScheduleChange::AddHours(HoursDef::new(
                        location,
                        weekday,
                        parse_time("start", self.get("start"))?,
                        parse_time("end", self.get("end"))?,
                        parse_optional_date("validFrom", self.get("valid_from"))?,
                        parse_optional_date("validUntil", self.get("valid_until"))?,
                    )?)
                }
                "exception" => ScheduleChange::AddException(match self.get("kind") {
                    "closed" => ExceptionDef::closed(date()?),
                    "extra" => ExceptionDef::extra(date()?, parse_time("start", self.get("start"))?, parse_time("end", self.get("end"))?)?,
                    other => return Err(AppError::invalid("kind", format!("{other:?} is neither closed nor extra"))),
                }),
                "block" => {
                    let day = date()?;
                    let at = |field, raw| parse_time(field, raw).map(|t| domain::zone::instant_at(tz, day.and_time(t.naive())));
                    let (start, end) = (at("start", self.get("start"))?, at("end", self.get("end"))?);
                    ScheduleChange::AddBlock(domain::Interval::new(start, end).filter(|i| i.start < i.end).ok_or_else(|| AppError::invalid("end", "is not after the start"))?)
                }
                "remove" => {
                    let kind = RuleKind::parse(self.get("kind")).ok_or_else(|| AppError::NotFound { what: "rule".into() })?;
                    ScheduleChange::RemoveRule(kind, id(kind.name(), self.get("id"))?)
                }
                _ => ScheduleChange::AddHoliday(date()?),
            })
        }
    }

    fn query(pairs: &[(String, String)]) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            out.append_pair(k, v);
        }
        out.finish()
    }

    async fn save(store: &store::Store, clinic: i64, actor: &Actor, provider: Option<i64>, form: &Form, change: ScheduleChange, stranding: Stranding) -> Result<(), StoreError> {
        let now = now().map_err(|_| StoreError::Corrupt("no clock".into()))?;
        match (change, provider) {
            (ScheduleChange::AddHours(def), Some(p)) => store.add_hours(clinic, actor, p, &def, now).await.map(|_| ()),
            (ScheduleChange::AddException(def), Some(p)) => store.add_exception(clinic, actor, p, &def, stranding, now).await.map(|_| ()),
            (ScheduleChange::AddBlock(b), Some(p)) => store.add_block(clinic, actor, p, b.start, b.end, form.get("label"), stranding, now).await.map(|_| ()),
            (ScheduleChange::RemoveRule(kind, id), Some(p)) => store.remove_rule(clinic, actor, p, kind, id, stranding, now).await,
            (ScheduleChange::AddHoliday(date), None) => store.add_holiday(clinic, actor, date, form.get("name"), stranding, now).await,
            _ => Err(StoreError::NotFound("provider")),
        }
    }

    pub async fn submit_for(csrf: String, provider: String, form: Form, intent: Option<String>) -> Result<(), AppError> {
        submit(csrf, Some(provider), form, intent).await
    }

    /// Checks, or saves unless it strands appointments (then shows them), or saves and keeps.
    pub async fn submit(csrf: String, provider: Option<String>, form: Form, intent: Option<String>) -> Result<(), AppError> {
        // The token is checked before anything about the provider is told.
        let session = for_change(&csrf, Role::can_configure).await?;
        let provider = provider.map(|p| id("provider", &p)).transpose()?;
        let store = store()?;
        let clinic = session.user.clinic_id;
        let tz = clinic_zone(&store.clinic_config(clinic).await?.profile.time_zone);
        let change = form.parse(tz)?;
        let stranding = match intent.as_deref().map(str::trim) {
            Some("check") => {
                leptos_axum::redirect(&form.address(provider));
                return Ok(());
            }
            Some("keep") => Stranding::Flag,
            None | Some("") | Some("save") => Stranding::Refuse,
            Some(other) => return Err(AppError::invalid("intent", format!("{other:?} is not check, save or keep"))),
        };
        match save(&store, clinic, &Actor::staff(&session.user), provider, &form, change, stranding).await {
            Err(StoreError::WouldStrand(_)) => leptos_axum::redirect(&form.address(provider)),
            Err(e) => return Err(e.into()),
            Ok(()) => {
                let word = if form.change == "remove" { "removed" } else { "saved" };
                match provider {
                    Some(p) => leptos_axum::redirect(&format!("/admin/schedule/{p}?done={word}")),
                    None => leptos_axum::redirect(&format!("/admin/schedule?done={word}")),
                }
            }
        }
        Ok(())
    }

    pub fn reason(locale: Locale, m: Misfit) -> &'static str {
        t(
            locale,
            match m {
                Misfit::Holiday => T::ReasonHoliday,
                Misfit::ClosedDay => T::ReasonClosedDay,
                Misfit::Blocked => T::ReasonBlocked,
                Misfit::OutsideHours => T::ReasonOutsideHours,
                Misfit::ServiceNotOffered => T::ReasonServiceNotOffered,
                Misfit::ProviderArchived => T::ReasonProviderArchived,
            },
        )
    }

    pub fn rows(locale: Locale, list: &[AffectedAppointment]) -> Vec<AffectedRow> {
        list.iter()
            .map(|a| AffectedRow {
                id: a.appointment_id,
                when: format!("{} ({})", a.start.with_timezone(&a.time_zone).format("%Y-%m-%d %H:%M"), a.time_zone.name()),
                provider: a.provider_name.clone(),
                // Some bookings (staff, bots without patient details) name no patient.
                patient: if a.patient.trim().is_empty() { "—".to_owned() } else { a.patient.clone() },
                what: a.what.clone(),
                reason: reason(locale, a.reason).to_owned(),
            })
            .collect()
    }

    fn weekday_name(locale: Locale, date: NaiveDate) -> &'static str {
        t(locale, WEEKDAYS[date.weekday().num_days_from_monday() as usize])
    }

    /// What the proposal would do, and which appointments it strands.
    async fn check(
        store: &store::Store,
        clinic: i64,
        provider: Option<i64>,
        q: &std::collections::HashMap<String, String>,
        locale: Locale,
        tz: Tz,
        rules: &[Rule],
    ) -> Result<Option<(CheckView, Option<ScheduleChange>)>, AppError> {
        let Some(form) = Form::from_query(q) else { return Ok(None) };
        let discard = provider.map_or("/admin/schedule".to_owned(), |p| format!("/admin/schedule/{p}"));
        let mut view = CheckView {
            description: String::new(),
            stranded: Vec::new(),
            endpoint: form.endpoint().to_owned(),
            fields: form.fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
            discard,
            error: None,
        };
        let change = match form.parse(tz) {
            Ok(change) => change,
            Err(e) => {
                view.error = Some(e);
                return Ok(Some((view, None)));
            }
        };
        view.description = match &change {
            ScheduleChange::AddHours(d) => format!("+ {} {}–{}", t(locale, WEEKDAYS[usize::from(d.weekday.clamp(1, 7)) - 1]), d.start, d.end),
            ScheduleChange::AddException(d) => match d.extra {
                None => format!("{} {} · {}", weekday_name(locale, d.date), d.date, t(locale, T::ClosedDay)),
                Some((s, e)) => format!("{} {} · {} {s}–{e}", weekday_name(locale, d.date), d.date, t(locale, T::ExtraHours)),
            },
            ScheduleChange::AddBlock(b) => {
                let (s, e) = (b.start.with_timezone(&tz), b.end.with_timezone(&tz));
                format!("{} {}–{} · {}", t(locale, T::AddBlock), s.format("%Y-%m-%d %H:%M"), e.format("%H:%M"), form.get("label"))
            }
            ScheduleChange::RemoveRule(_, id) => {
                let text = rules.iter().find(|r| r.id == *id).map(|r| r.text.clone()).ok_or_else(|| AppError::NotFound { what: "rule".into() })?;
                format!("{}: {text}", t(locale, T::RemoveRuleChange))
            }
            ScheduleChange::AddHoliday(date) => format!("{} {date} · {}", t(locale, T::Holidays), form.get("name")),
        };
        let stranded = store.stranded_by(clinic, provider, &change, now()?).await?;
        view.stranded = rows(locale, &stranded);
        Ok(Some((view, Some(change))))
    }

    pub async fn index(search: String) -> Result<ScheduleIndex, AppError> {
        let (session, frame) = for_page("/admin/schedule", Role::can_configure).await?;
        let store = store()?;
        let clinic = session.user.clinic_id;
        let q = pairs(&search);
        let c = store.clinic_catalogue(clinic).await?;
        let holidays = store.clinic_holidays(clinic).await?;
        let tz = clinic_zone(&store.clinic_config(clinic).await?.profile.time_zone);
        let check = check(&store, clinic, None, &q, frame.locale, tz, &[]).await?.map(|c| c.0);
        Ok(ScheduleIndex {
            frame,
            providers: c.providers.into_iter().map(|p| (p.id, p.def.name, p.archived)).collect(),
            holidays: holidays.into_iter().map(|h| (h.date.to_string(), h.name)).collect(),
            done: done(q.get("done")),
            check,
        })
    }

    pub async fn provider(provider: String, search: String) -> Result<ProviderScheduleView, AppError> {
        let provider_id = id("provider", &provider)?;
        let (session, frame) = for_page(&format!("/admin/schedule/{provider_id}"), Role::can_configure).await?;
        let store = store()?;
        let clinic_id = session.user.clinic_id;
        let q = pairs(&search);
        let c = store.clinic_catalogue(clinic_id).await?;
        let entry = c.provider(provider_id).ok_or_else(|| AppError::NotFound { what: "provider".into() })?;
        let schedule = store.provider_schedule(clinic_id, provider_id).await?;
        let config = store.clinic_config(clinic_id).await?;
        let tz = clinic_zone(&config.profile.time_zone);
        let location_name = |id: i64| c.location(id).map(|l| l.def.name.clone()).unwrap_or_default();
        let locale = frame.locale;
        let weekday = |iso: u8| WEEKDAYS.get(usize::from(iso).wrapping_sub(1)).map_or("", |d| t(locale, *d));
        let hours: Vec<Rule> = schedule
            .hours
            .iter()
            .map(|h| {
                let d = &h.def;
                let mut text = format!("{} {}–{} · {}", weekday(d.weekday), d.start, d.end, location_name(d.location_id));
                match (d.valid_from, d.valid_until) {
                    (Some(f), Some(u)) => text.push_str(&format!(" · {f} – {u}")),
                    (Some(f), None) => text.push_str(&format!(" · {f} –")),
                    (None, Some(u)) => text.push_str(&format!(" · – {u}")),
                    (None, None) => {}
                }
                Rule { id: h.id, text }
            })
            .collect();
        let closed = t(frame.locale, T::ClosedDay);
        let exceptions: Vec<Rule> = schedule
            .exceptions
            .iter()
            .map(|e| Rule {
                id: e.id,
                text: match e.def.extra {
                    None => format!("{} · {closed}", e.def.date),
                    Some((s, end)) => format!("{} · {s}–{end}", e.def.date),
                },
            })
            .collect();
        let blocks: Vec<Rule> = schedule
            .blocks
            .iter()
            .map(|b| {
                let (s, e) = (b.start.with_timezone(&tz), b.end.with_timezone(&tz));
                let end = if s.date_naive() == e.date_naive() { e.format("%H:%M").to_string() } else { e.format("%Y-%m-%d %H:%M").to_string() };
                Rule { id: b.id, text: format!("{}–{end} · {}", s.format("%Y-%m-%d %H:%M"), b.label) }
            })
            .collect();

        // A removal names its rule: look it up among the lists of its kind.
        let removal_kind = q.get("kind").map(String::as_str);
        let rules: &[Rule] = match removal_kind {
            Some("hours") => &hours,
            Some("exception") => &exceptions,
            _ => &blocks,
        };
        let checked = check(&store, clinic_id, Some(provider_id), &q, locale, tz, rules).await?;
        let (check, change) = match checked {
            Some((view, change)) => (Some(view), change),
            None => (None, None),
        };

        let products: Vec<(i64, String)> = c
            .products
            .iter()
            .filter(|p| !p.archived && entry.def.service_ids.contains(&p.def.service_id))
            .map(|p| (p.id, p.def.name.clone()))
            .collect();
        let preview = match products.first() {
            None => None,
            Some(first) => {
                let product = q.get("product").and_then(|p| p.parse().ok()).filter(|p| products.iter().any(|o| o.0 == *p)).unwrap_or(first.0);
                let today = now()?.with_timezone(&tz).date_naive();
                let change_date = match &change {
                    Some(ScheduleChange::AddException(d)) => Some(d.date),
                    Some(ScheduleChange::AddBlock(b)) => Some(b.start.with_timezone(&tz).date_naive()),
                    Some(ScheduleChange::AddHoliday(d)) => Some(*d),
                    // A removal shows the rule's next day: that is where times would go.
                    Some(ScheduleChange::RemoveRule(RuleKind::Hours, id)) => schedule.hours.iter().find(|h| h.id == *id).map(|h| {
                        let ahead = (i64::from(h.def.weekday) - i64::from(today.weekday().number_from_monday()) + 6).rem_euclid(7) + 1;
                        today + Duration::days(ahead)
                    }),
                    Some(ScheduleChange::RemoveRule(RuleKind::Exception, id)) => schedule.exceptions.iter().find(|e| e.id == *id).map(|e| e.def.date),
                    Some(ScheduleChange::RemoveRule(RuleKind::Block, id)) => schedule.blocks.iter().find(|b| b.id == *id).map(|b| b.start.with_timezone(&tz).date_naive()),
                    _ => None,
                };
                let asked = q.get("week").and_then(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok());
                let day = asked.or(change_date).unwrap_or(today);
                let monday = day.week(chrono::Weekday::Mon).first_day();
                let week = store.week_preview(clinic_id, provider_id, product, monday, change.as_ref(), now()?).await?;
                let carried: Vec<(String, String)> = Form::from_query(&q).map(|f| f.pairs()).unwrap_or_default();
                let link = |week: NaiveDate| {
                    let mut p = carried.clone();
                    p.push(("product".into(), product.to_string()));
                    p.push(("week".into(), week.to_string()));
                    format!("/admin/schedule/{provider_id}?{}#preview", query(&p))
                };
                let locations = week
                    .locations
                    .iter()
                    .map(|l| PreviewLocationView {
                        name: l.name.clone(),
                        zone: l.time_zone.name().to_owned(),
                        days: l
                            .days
                            .iter()
                            .map(|d| {
                                let slots = d
                                    .slots
                                    .iter()
                                    .map(|(start, ch)| {
                                        let code = match ch {
                                            SlotChange::Kept => 0,
                                            SlotChange::Added => 1,
                                            SlotChange::Removed => 2,
                                        };
                                        (start.with_timezone(&l.time_zone).format("%H:%M").to_string(), code)
                                    })
                                    .collect();
                                let date = match locale {
                                    Locale::En => d.date.format("%b %-d"),
                                    Locale::De => d.date.format("%-d.%-m."),
                                };
                                (format!("{} {date}", weekday_name(locale, d.date)), slots)
                            })
                            .collect(),
                    })
                    .collect();
                Some(PreviewView {
                    week: monday.to_string(),
                    previous: link(monday - Duration::days(7)),
                    next: link(monday + Duration::days(7)),
                    products,
                    product,
                    carried,
                    locations,
                    with_change: change.is_some(),
                })
            }
        };
        Ok(ProviderScheduleView {
            frame,
            provider_id,
            provider_name: entry.def.name.clone(),
            hours,
            exceptions,
            blocks,
            locations: c.locations.iter().filter(|l| !l.archived).map(|l| (l.id, l.def.name.clone(), l.def.time_zone.clone())).collect(),
            time_zone: tz.name().to_owned(),
            done: done(q.get("done")),
            check,
            preview,
        })
    }

    pub async fn remove_holiday(csrf: String, date: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let date = parse_date("date", &date)?;
        store()?.remove_holiday(session.user.clinic_id, &Actor::staff(&session.user), date, now()?).await?;
        leptos_axum::redirect("/admin/schedule?done=removed");
        Ok(())
    }
}

fn done_notice(locale: Locale, done: Option<&str>) -> Option<impl IntoView> {
    let text = match done? {
        "saved" => T::Saved,
        "removed" => T::RemovedNotice,
        _ => return None,
    };
    Some(view! { <Notice text=t(locale, text)/> })
}

/// ISO weekday order, Monday first.
const WEEKDAYS: [T; 7] = [T::Monday, T::Tuesday, T::Wednesday, T::Thursday, T::Friday, T::Saturday, T::Sunday];

const SMALL_BUTTON: &str = "rounded-md border border-red-800 px-3 py-1 text-sm text-red-800 hover:bg-red-50";
const INPUT: &str = "rounded-md border border-slate-400 bg-white px-3 py-2";

const CHECK_BUTTON: &str = "rounded-lg border border-teal-700 px-4 py-2 font-semibold text-teal-800 hover:bg-teal-50";

/// A list of booked appointments with when, who, what and why.
#[component]
pub fn AffectedTable(locale: Locale, rows: Vec<AffectedRow>, #[prop(optional)] keep: Option<(String, ServerAction<super::settings::KeepAppointment>)>) -> impl IntoView {
    let with_keep = keep.is_some();
    let items = rows
        .into_iter()
        .map(|r| {
            let keep = keep.clone().map(|(csrf, action)| {
                view! {
                    <td class=CELL>
                        <leptos::form::ActionForm action>
                            <input type="hidden" name="csrf" value=csrf/>
                            <input type="hidden" name="appointment" value=r.id.to_string()/>
                            <button type="submit" class=SMALL_BUTTON_TEAL>{t(locale, T::KeepAsBooked)}</button>
                        </leptos::form::ActionForm>
                    </td>
                }
            });
            view! {
                <tr class=ROW data-testid="affected">
                    <td class=CELL><CellLabel text=t(locale, T::When)/>{r.when}</td>
                    <td class=CELL><CellLabel text=t(locale, T::Patient)/>{r.patient}</td>
                    <td class=CELL><CellLabel text=t(locale, T::Provider)/>{r.provider}</td>
                    <td class=CELL><CellLabel text=t(locale, T::Product)/>{r.what}</td>
                    <td class=CELL><CellLabel text=t(locale, T::Reason)/>{r.reason}</td>
                    {keep}
                </tr>
            }
        })
        .collect_view();
    let mut headers = vec![t(locale, T::When), t(locale, T::Patient), t(locale, T::Provider), t(locale, T::Product), t(locale, T::Reason)];
    if with_keep {
        headers.push("");
    }
    view! { <Table headers actions=t(locale, T::Actions)>{items}</Table> }
}

const SMALL_BUTTON_TEAL: &str = "rounded-md border border-teal-700 px-3 py-1 text-sm text-teal-800 hover:bg-teal-50";

/// A proposed change: what it does, whom it strands, and the way to save or discard it.
#[component]
fn CheckPanel(locale: Locale, csrf: String, provider: Option<i64>, check: CheckView) -> impl IntoView {
    let body = match check.error {
        Some(e) => view! { <Problem e locale/> }.into_any(),
        None => {
            let stranded = !check.stranded.is_empty();
            let fields = check
                .fields
                .iter()
                .map(|(k, v)| view! { <input type="hidden" name=k.clone() value=v.clone()/> })
                .collect_view();
            let list = if stranded {
                view! {
                    <p class="mb-2">{t(locale, T::CheckSome)}</p>
                    <AffectedTable locale rows=check.stranded.clone()/>
                }
                .into_any()
            } else {
                view! { <p class="mb-2" data-testid="check-none">{t(locale, T::CheckNone)}</p> }.into_any()
            };
            view! {
                <p class="mb-3 font-mono text-sm" data-testid="check-change">{check.description.clone()}</p>
                {list}
                <form method="post" action=check.endpoint.clone() class="mt-4 flex flex-wrap items-center gap-3">
                    <input type="hidden" name="csrf" value=csrf/>
                    {provider.map(|p| view! { <input type="hidden" name="provider" value=p.to_string()/> })}
                    {fields}
                    <input type="hidden" name="intent" value="keep"/>
                    <button type="submit" class=BUTTON data-testid="save-anyway">
                        {t(locale, if stranded { T::SaveAnyway } else { T::Save })}
                    </button>
                    <a href=check.discard.clone() class="text-teal-800 underline">{t(locale, T::Discard)}</a>
                </form>
            }
            .into_any()
        }
    };
    view! {
        <section id="check" class="mb-6 rounded-xl bg-amber-50 p-4 ring-1 ring-amber-300 sm:p-6" aria-labelledby="check-title" data-testid="check">
            <h2 id="check-title" class="mb-2 text-lg font-semibold">{t(locale, T::CheckTitle)}</h2>
            {body}
        </section>
    }
}

/// Seven days of bookable times, as the engine computes them.
#[component]
fn WeekPreviewCard(locale: Locale, provider: i64, p: PreviewView) -> impl IntoView {
    let products = p
        .products
        .iter()
        .map(|(id, name)| view! { <option value=id.to_string() selected=*id == p.product>{name.clone()}</option> })
        .collect_view();
    let carried = p.carried.iter().map(|(k, v)| view! { <input type="hidden" name=k.clone() value=v.clone()/> }).collect_view();
    let locations = p
        .locations
        .iter()
        .map(|l| {
            let days = l
                .days
                .iter()
                .map(|(day, slots)| {
                    let chips = if slots.is_empty() {
                        view! { <li class="text-sm text-slate-500">{t(locale, T::NoTimes)}</li> }.into_any()
                    } else {
                        slots
                            .iter()
                            .map(|(time, change)| match change {
                                1 => view! {
                                    <li class="rounded bg-teal-100 px-1.5 font-semibold text-teal-900" data-testid="slot-added">
                                        "+" {time.clone()} <span class="sr-only">{format!(" ({})", t(locale, T::NewTime))}</span>
                                    </li>
                                }
                                .into_any(),
                                2 => view! {
                                    <li class="rounded bg-red-50 px-1.5 text-red-800 line-through" data-testid="slot-removed">
                                        {time.clone()} <span class="sr-only">{format!(" ({})", t(locale, T::GoneTime))}</span>
                                    </li>
                                }
                                .into_any(),
                                _ => view! { <li class="px-1.5" data-testid="slot">{time.clone()}</li> }.into_any(),
                            })
                            .collect_view()
                            .into_any()
                    };
                    view! {
                        <div class="min-w-0">
                            <h4 class="mb-1 text-sm font-semibold">{day.clone()}</h4>
                            <ul class="flex flex-wrap gap-1 font-mono text-sm sm:flex-col">{chips}</ul>
                        </div>
                    }
                })
                .collect_view();
            view! {
                <h3 class="mb-2 mt-4 font-semibold">{format!("{} ({})", l.name, l.zone)}</h3>
                <div class="grid grid-cols-2 gap-3 sm:grid-cols-4 lg:grid-cols-7" data-testid="preview-week">{days}</div>
            }
        })
        .collect_view();
    view! {
        <section id="preview" class=CARD aria-labelledby="preview-title" data-testid="preview">
            <h2 id="preview-title" class="mb-1 text-lg font-semibold">{t(locale, T::WeekPreview)}</h2>
            <p class="mb-2 text-sm text-slate-700">{t(locale, if p.with_change { T::WeekPreviewChange } else { T::WeekPreviewIntro })}</p>
            <form method="get" action=format!("/admin/schedule/{provider}") class="flex flex-wrap items-end gap-3">
                {carried}
                <div>
                    <label for="preview-product" class="mb-1 block font-medium">{t(locale, T::Product)}</label>
                    <select id="preview-product" name="product" class=INPUT>{products}</select>
                </div>
                <div>
                    <label for="preview-week" class="mb-1 block font-medium">{t(locale, T::WeekOf)}</label>
                    <input type="date" id="preview-week" name="week" value=p.week.clone() class=INPUT/>
                </div>
                <button type="submit" class=CHECK_BUTTON>{t(locale, T::Show)}</button>
            </form>
            <p class="mt-3 flex gap-4">
                <a href=p.previous.clone() class="text-teal-800 underline">{"← "}{t(locale, T::PreviousWeek)}</a>
                <a href=p.next.clone() class="text-teal-800 underline">{t(locale, T::NextWeek)}{" →"}</a>
            </p>
            {locations}
        </section>
    }
}

#[component]
pub fn ScheduleIndexPage() -> impl IntoView {
    let location = use_location();
    let data = Resource::new(move || location.search.get(), load_index);
    super::loaded(data, |v| view! { <IndexView v/> })
}

#[component]
fn IndexView(v: ScheduleIndex) -> impl IntoView {
    let locale = v.frame.locale;
    let add = ServerAction::<AddHoliday>::new();
    let remove = ServerAction::<RemoveHoliday>::new();
    let problem = crate::refusal(add).or_else(|| crate::refusal(remove)).map(|e| view! { <Problem e locale/> });
    let csrf = v.frame.csrf.clone();
    let providers = v
        .providers
        .iter()
        .map(|(id, name, archived)| {
            view! {
                <li class="py-1">
                    <a href=format!("/admin/schedule/{id}") class="font-medium text-teal-800 underline" data-testid="provider-schedule">{name.clone()}</a>
                    {archived.then(|| view! { " " <span class="rounded bg-slate-200 px-1.5 py-0.5 text-xs">{t(locale, T::ArchivedLabel)}</span> })}
                </li>
            }
        })
        .collect_view();
    let holidays = v
        .holidays
        .iter()
        .map(|(date, name)| {
            let (csrf, date2) = (csrf.clone(), date.clone());
            view! {
                <tr class=ROW data-testid="holiday">
                    <td class=CELL><CellLabel text=t(locale, T::Date)/>{date.clone()}</td>
                    <td class=CELL><CellLabel text=t(locale, T::Name)/>{name.clone()}</td>
                    <td class=CELL>
                        <leptos::form::ActionForm action=remove>
                            <input type="hidden" name="csrf" value=csrf/>
                            <input type="hidden" name="date" value=date2/>
                            <button type="submit" class=SMALL_BUTTON>{t(locale, T::Remove)}</button>
                        </leptos::form::ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Console frame=v.frame.clone() section=Section::Schedule>
            <h1 class="mb-2 text-2xl font-semibold">{t(locale, T::Schedule)}</h1>
            <p class="mb-4 text-slate-700">{t(locale, T::ScheduleIntro)}</p>
            {done_notice(locale, v.done.as_deref())}
            <div aria-live="assertive">{problem}</div>
            {v.check.clone().map(|check| view! { <CheckPanel locale csrf=csrf.clone() provider=None check/> })}
            <section class=CARD aria-labelledby="providers-title">
                <h2 id="providers-title" class="mb-2 text-lg font-semibold">{t(locale, T::Providers)}</h2>
                {if v.providers.is_empty() {
                    view! { <p>{t(locale, T::NoneYet)}</p> }.into_any()
                } else {
                    view! { <ul>{providers}</ul> }.into_any()
                }}
            </section>
            <section class=CARD aria-labelledby="holidays-title">
                <h2 id="holidays-title" class="mb-1 text-lg font-semibold">{t(locale, T::Holidays)}</h2>
                <p class="mb-2 text-sm text-slate-700">{t(locale, T::HolidaysHint)}</p>
                <Table headers=vec![t(locale, T::Date), t(locale, T::Name), ""] actions=t(locale, T::Actions)>{holidays}</Table>
                <leptos::form::ActionForm action=add>
                    <fieldset class="mt-4">
                        <legend class="mb-2 font-semibold">{t(locale, T::AddHoliday)}</legend>
                        <input type="hidden" name="csrf" value=csrf.clone()/>
                        <Field label=t(locale, T::Date) name="date" kind="date" value=String::new()/>
                        <Field label=t(locale, T::Name) name="name" value=String::new() autocomplete="off"/>
                        <div class="flex flex-wrap gap-3">
                            <button type="submit" class=BUTTON data-testid="add-holiday">{t(locale, T::Add)}</button>
                            <button type="submit" name="intent" value="check" class=CHECK_BUTTON>{t(locale, T::Check)}</button>
                        </div>
                    </fieldset>
                </leptos::form::ActionForm>
            </section>
        </Console>
    }
}

#[component]
pub fn ProviderSchedulePage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let data = Resource::new(
        move || (params.read().get("provider").unwrap_or_default(), location.search.get()),
        |(provider, search)| load_provider(provider, search),
    );
    super::loaded(data, |v| view! { <ProviderView v/> })
}

/// A list of rules, each with its remove button.
#[component]
fn Rules(locale: Locale, rules: Vec<Rule>, kind: &'static str, provider: i64, csrf: String, action: ServerAction<RemoveRule>) -> impl IntoView {
    if rules.is_empty() {
        return view! { <p class="text-slate-700">{t(locale, T::NoneYet)}</p> }.into_any();
    }
    let items = rules
        .into_iter()
        .map(|r| {
            let csrf = csrf.clone();
            view! {
                <li class="flex flex-wrap items-center justify-between gap-2 border-t border-slate-200 py-2" data-testid=format!("rule-{kind}")>
                    <span class="font-mono text-sm">{r.text}</span>
                    <leptos::form::ActionForm action>
                        <input type="hidden" name="csrf" value=csrf/>
                        <input type="hidden" name="provider" value=provider.to_string()/>
                        <input type="hidden" name="kind" value=kind/>
                        <input type="hidden" name="id" value=r.id.to_string()/>
                        <button type="submit" class=SMALL_BUTTON>{t(locale, T::Remove)}</button>
                    </leptos::form::ActionForm>
                </li>
            }
        })
        .collect_view();
    view! { <ul>{items}</ul> }.into_any()
}

#[component]
fn ProviderView(v: ProviderScheduleView) -> impl IntoView {
    let locale = v.frame.locale;
    let csrf = v.frame.csrf.clone();
    let provider = v.provider_id;
    let remove = ServerAction::<RemoveRule>::new();
    let hours = ServerAction::<AddHours>::new();
    let exception = ServerAction::<AddException>::new();
    let block = ServerAction::<AddBlock>::new();
    let problem = crate::refusal(hours)
        .or_else(|| crate::refusal(exception))
        .or_else(|| crate::refusal(block))
        .or_else(|| crate::refusal(remove))
        .map(|e| view! { <Problem e locale/> });
    let locations = v
        .locations
        .iter()
        .map(|(id, name, zone)| view! { <option value=id.to_string()>{format!("{name} ({zone})")}</option> })
        .collect_view();
    let weekdays = WEEKDAYS
        .into_iter()
        .enumerate()
        .map(|(i, day)| view! { <option value=(i + 1).to_string()>{t(locale, day)}</option> })
        .collect_view();
    let hidden = move |csrf: String| {
        view! {
            <input type="hidden" name="csrf" value=csrf/>
            <input type="hidden" name="provider" value=provider.to_string()/>
        }
    };
    let time_input = move |id: &'static str, label: T| {
        view! {
            <div>
                <label for=id class="mb-1 block font-medium">{t(locale, label)}</label>
                <input type="time" id=id name=id.split('-').next_back().unwrap_or(id) required class=INPUT/>
            </div>
        }
    };
    let (csrf1, csrf2, csrf3, csrf4, csrf5, csrf6) = (csrf.clone(), csrf.clone(), csrf.clone(), csrf.clone(), csrf.clone(), csrf.clone());
    view! {
        <Console frame=v.frame.clone() section=Section::Schedule>
            <p class="mb-2"><a href="/admin/schedule" class="text-teal-800 underline">{t(locale, T::Schedule)}</a></p>
            <h1 class="mb-4 text-2xl font-semibold">{v.provider_name.clone()}</h1>
            {done_notice(locale, v.done.as_deref())}
            <div aria-live="assertive">{problem}</div>
            {v.check.clone().map(|check| view! { <CheckPanel locale csrf=csrf.clone() provider=Some(provider) check/> })}
            <section class=CARD aria-labelledby="hours-title">
                <h2 id="hours-title" class="mb-2 text-lg font-semibold">{t(locale, T::WeeklyHours)}</h2>
                <Rules locale rules=v.hours.clone() kind="hours" provider csrf=csrf1 action=remove/>
                <leptos::form::ActionForm action=hours>
                    <fieldset class="mt-4">
                        <legend class="mb-2 font-semibold">{t(locale, T::AddHours)}</legend>
                        {hidden(csrf4)}
                        <div class="flex flex-wrap items-end gap-3">
                            <div>
                                <label for="location" class="mb-1 block font-medium">{t(locale, T::Location)}</label>
                                <select id="location" name="location" required class=INPUT>{locations}</select>
                            </div>
                            <div>
                                <label for="weekday" class="mb-1 block font-medium">{t(locale, T::Weekday)}</label>
                                <select id="weekday" name="weekday" class=INPUT>{weekdays}</select>
                            </div>
                            {time_input("hours-start", T::From)}
                            {time_input("hours-end", T::Until)}
                        </div>
                        <div class="mt-3 flex flex-wrap items-end gap-3">
                            <div>
                                <label for="valid_from" class="mb-1 block font-medium">{t(locale, T::ValidFrom)}</label>
                                <input type="date" id="valid_from" name="valid_from" class=INPUT/>
                            </div>
                            <div>
                                <label for="valid_until" class="mb-1 block font-medium">{t(locale, T::ValidUntil)}</label>
                                <input type="date" id="valid_until" name="valid_until" class=INPUT/>
                            </div>
                            <button type="submit" class=BUTTON data-testid="add-hours">{t(locale, T::Add)}</button>
                            <button type="submit" name="intent" value="check" class=CHECK_BUTTON data-testid="check-hours">{t(locale, T::Check)}</button>
                        </div>
                    </fieldset>
                </leptos::form::ActionForm>
            </section>
            <section class=CARD aria-labelledby="exceptions-title">
                <h2 id="exceptions-title" class="mb-2 text-lg font-semibold">{t(locale, T::DayChanges)}</h2>
                <Rules locale rules=v.exceptions.clone() kind="exception" provider csrf=csrf2 action=remove/>
                <leptos::form::ActionForm action=exception>
                    <fieldset class="mt-4">
                        <legend class="mb-2 font-semibold">{t(locale, T::AddDayChange)}</legend>
                        {hidden(csrf5)}
                        <div class="flex flex-wrap items-end gap-3">
                            <div>
                                <label for="exception-date" class="mb-1 block font-medium">{t(locale, T::Date)}</label>
                                <input type="date" id="exception-date" name="date" required class=INPUT/>
                            </div>
                            <div>
                                <label for="exception-kind" class="mb-1 block font-medium">{t(locale, T::Kind)}</label>
                                <select id="exception-kind" name="kind" class=INPUT>
                                    <option value="closed">{t(locale, T::ClosedDay)}</option>
                                    <option value="extra">{t(locale, T::ExtraHours)}</option>
                                </select>
                            </div>
                            <div>
                                <label for="exception-start" class="mb-1 block font-medium">{t(locale, T::From)}</label>
                                <input type="time" id="exception-start" name="start" aria-describedby="exception-hint" class=INPUT/>
                            </div>
                            <div>
                                <label for="exception-end" class="mb-1 block font-medium">{t(locale, T::Until)}</label>
                                <input type="time" id="exception-end" name="end" aria-describedby="exception-hint" class=INPUT/>
                            </div>
                            <button type="submit" class=BUTTON data-testid="add-exception">{t(locale, T::Add)}</button>
                            <button type="submit" name="intent" value="check" class=CHECK_BUTTON data-testid="check-exception">{t(locale, T::Check)}</button>
                        </div>
                        <p id="exception-hint" class="mt-1 text-sm text-slate-600">{t(locale, T::ExtraHoursHint)}</p>
                    </fieldset>
                </leptos::form::ActionForm>
            </section>
            <section class=CARD aria-labelledby="blocks-title">
                <h2 id="blocks-title" class="mb-2 text-lg font-semibold">{t(locale, T::Blocks)}</h2>
                <Rules locale rules=v.blocks.clone() kind="block" provider csrf=csrf3 action=remove/>
                <leptos::form::ActionForm action=block>
                    <fieldset class="mt-4">
                        <legend class="mb-2 font-semibold">{t(locale, T::AddBlock)} " (" {v.time_zone.clone()} ")"</legend>
                        {hidden(csrf6)}
                        <div class="flex flex-wrap items-end gap-3">
                            <div>
                                <label for="block-date" class="mb-1 block font-medium">{t(locale, T::Date)}</label>
                                <input type="date" id="block-date" name="date" required class=INPUT/>
                            </div>
                            {time_input("block-start", T::From)}
                            {time_input("block-end", T::Until)}
                            <div>
                                <label for="block-label" class="mb-1 block font-medium">{t(locale, T::Label)}</label>
                                <input type="text" id="block-label" name="label" class=INPUT/>
                            </div>
                            <button type="submit" class=BUTTON data-testid="add-block">{t(locale, T::Add)}</button>
                            <button type="submit" name="intent" value="check" class=CHECK_BUTTON data-testid="check-block">{t(locale, T::Check)}</button>
                        </div>
                    </fieldset>
                </leptos::form::ActionForm>
            </section>
            {match v.preview.clone() {
                Some(p) => view! { <WeekPreviewCard locale provider p/> }.into_any(),
                None => view! { <p class=CARD>{t(locale, T::NoProducts)}</p> }.into_any(),
            }}
        </Console>
    }
}
