//! The clinic console over real HTTP on both backends, driven as a browser drives it: pages are
//! fetched, forms are posted to the server functions with the browser's `Origin`, and the
//! session cookie is carried by hand.

use leptos::prelude::LeptosOptions;
use reqwest::redirect::Policy;
use serde_json::Value;
use store::links::LinkKey;
use store::staff::MAX_FAILURES_PER_ACCOUNT;
use store::testing::{scalar_i64, scalar_text, test_clock, TestDb};
use store::{on_both_backends, Clock, DemoSeed, NewClinic, Store, DEMO_OWNER_EMAIL};

const OWNER_PASSWORD: &str = "stadtpark garden key 7";

struct Server {
    base: String,
    http: reqwest::Client,
    store: Store,
    clock: Clock,
    demo_id: i64,
}

/// One browser: its cookie jar is the one session cookie.
#[derive(Clone)]
struct Browser {
    base: String,
    http: reqwest::Client,
    cookie: Option<String>,
    /// The session's CSRF token, read from the console's forms.
    csrf: String,
}

struct Answer {
    status: u16,
    location: String,
    body: String,
    set_cookie: Vec<String>,
    retry_after: Option<String>,
}

async fn spawn_app(db: TestDb) -> Server {
    let clock = test_clock();
    let seeded = db.store.seed_demo(&DemoSeed { now: clock.now(), api_key: "bk_test".into(), voice_key: "bk_test_voice".into() }).await.unwrap();
    let store::SeedOutcome::Created { clinic_id } = seeded else { panic!("fresh database") };
    db.store.seed_demo_owner(OWNER_PASSWORD, clock.now()).await.unwrap();
    let base = serve(db.store.clone(), clock).await;
    let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    Server { base, http, store: db.store, clock, demo_id: clinic_id }
}

/// One server instance on `store`, on a port of its own: its base URL.
async fn serve(store: Store, clock: Clock) -> String {
    let options = LeptosOptions::builder().output_name("booking").site_root("target/site").build();
    let api_options = server::api::ApiOptions { clock, ..Default::default() };
    let app = server::router(store, LinkKey::from_passphrase("admin test passphrase"), options, &api_options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap()
    });
    format!("http://{addr}")
}

async fn answer(res: reqwest::Response) -> Answer {
    let status = res.status().as_u16();
    let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let location = header("location").unwrap_or_default();
    let retry_after = header("retry-after");
    let set_cookie = res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    // Called as the hydrated page calls it (Accept: application/json), a server function
    // answers a redirect with 200 and a Location header, which leptos' client then follows;
    // a form post without JavaScript gets a real 302. Both are a redirect here.
    let status = if status == 200 && !location.is_empty() { 302 } else { status };
    Answer { status, location, body: res.text().await.unwrap(), set_cookie, retry_after }
}

impl Server {
    fn browser(&self) -> Browser {
        Browser { base: self.base.clone(), http: self.http.clone(), cookie: None, csrf: String::new() }
    }

    async fn count(&self, sql: &str) -> i64 {
        scalar_i64(&self.store, sql).await
    }

    /// A browser signed in as the demo clinic's owner.
    async fn owner(&self) -> Browser {
        let mut b = self.browser();
        let signed = b.sign_in(DEMO_OWNER_EMAIL, OWNER_PASSWORD).await;
        assert_eq!(signed.status, 302, "{}", signed.body);
        b
    }

    /// A browser signed in as a new staff member of the demo clinic with `role`.
    async fn staff(&self, email: &str, role: &str) -> Browser {
        let mut owner = self.owner().await;
        let invited = owner.post("admin_invite", &[("email", email), ("role", role)]).await;
        assert_eq!(invited.status, 302, "{}", invited.body);
        let token = invited.location.split("invited=").nth(1).unwrap().to_owned();
        let mut b = self.browser();
        let accepted = b.accept(&token, "Desk Person", "a long staff password").await;
        assert_eq!(accepted.status, 302, "{}", accepted.body);
        b
    }

    /// A second clinic created as `server clinic create` does; its owner's setup token.
    async fn new_clinic(&self, slug: &str, owner: &str, zone: &str) -> String {
        let new = NewClinic {
            slug: domain::ClinicSlug::parse(slug).unwrap(),
            profile: domain::staff::ClinicProfile::new(&format!("Clinic {slug}"), "en", zone).unwrap(),
            owner_email: domain::patient::Email::parse(owner).unwrap(),
        };
        self.store.create_clinic(&new, self.clock.now()).await.unwrap().1.token
    }

    async fn demo_settings(&self) -> (String, i64, i64) {
        let name = scalar_text(&self.store, &format!("SELECT name FROM clinics WHERE id = {}", self.demo_id)).await;
        let horizon = self.count(&format!("SELECT CAST(horizon_days AS BIGINT) FROM clinics WHERE id = {}", self.demo_id)).await;
        let audits = self.count(&format!("SELECT COUNT(*) FROM audit_log WHERE clinic_id = {}", self.demo_id)).await;
        (name, horizon, audits)
    }
}

impl Browser {
    fn with_cookie(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(c) => req.header("Cookie", format!("booking_staff={c}")),
            None => req,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        answer(self.with_cookie(self.http.get(format!("{}{path}", self.base))).send().await.unwrap()).await
    }

    /// A form post as the hydrated page sends it: errors come back as JSON with their status.
    async fn call(&self, function: &str, form: &[(&str, &str)], origin: Option<&str>) -> Answer {
        let mut req = self.with_cookie(self.http.post(format!("{}/api/{function}", self.base)))
            .header("Accept", "application/json")
            .form(form);
        if let Some(origin) = origin {
            req = req.header("Origin", origin);
        }
        let a = answer(req.send().await.unwrap()).await;
        a
    }

    /// A post from the console's own page, with the session's CSRF token.
    async fn post(&mut self, function: &str, form: &[(&str, &str)]) -> Answer {
        let mut fields = vec![("csrf", self.csrf.as_str())];
        fields.extend_from_slice(form);
        let base = self.base.clone();
        let a = self.call(function, &fields, Some(&base)).await;
        self.take_cookie(&a);
        a
    }

    fn take_cookie(&mut self, a: &Answer) {
        for c in &a.set_cookie {
            if let Some(rest) = c.strip_prefix("booking_staff=") {
                let value = rest.split(';').next().unwrap();
                self.cookie = (!value.is_empty()).then(|| value.to_owned());
            }
        }
    }

    /// Reads the CSRF token from a console page's forms.
    async fn refresh_csrf(&mut self) {
        let page = self.get("/admin/account").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let at = page.body.find(r#"name="csrf" value=""#).expect("a form with the CSRF token") + r#"name="csrf" value=""#.len();
        self.csrf = page.body[at..at + 64].to_owned();
    }

    async fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let base = self.base.clone();
        let a = self.call("admin_sign_in", &[("email", email), ("password", password), ("next", "/admin/settings")], Some(&base)).await;
        self.take_cookie(&a);
        if a.status == 302 {
            self.refresh_csrf().await;
        }
        a
    }

    async fn accept(&mut self, token: &str, name: &str, password: &str) -> Answer {
        let base = self.base.clone();
        let form = [("token", token), ("display_name", name), ("password", password), ("password_again", password)];
        let a = self.call("admin_accept", &form, Some(&base)).await;
        self.take_cookie(&a);
        if a.status == 302 {
            self.refresh_csrf().await;
        }
        a
    }
}

const SETTINGS: [(&str, &str); 7] = [
    ("name", "Stadtpark Health Clinic"),
    ("default_locale", "en"),
    ("time_zone", "Europe/Berlin"),
    ("minimum_notice_minutes", "60"),
    ("horizon_days", "90"),
    ("change_cutoff_minutes", "1440"),
    ("hold_minutes", "10"),
];

fn settings_with(field: &str, value: &'static str) -> Vec<(&'static str, &'static str)> {
    SETTINGS.iter().map(|(k, v)| (*k, if *k == field { value } else { *v })).collect()
}

async fn a_new_clinic_owner_follows_the_setup_link_and_signs_in(db: TestDb) {
    let app = spawn_app(db).await;
    let token = app.new_clinic("praxis-nord", "Chef@Praxis-Nord.example", "America/New_York").await;
    let page = app.browser().get(&format!("/admin/setup/{token}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Clinic praxis-nord") && page.body.contains("chef@praxis-nord.example"), "{}", page.body);

    let mut owner = app.browser();
    let weak = owner.accept(&token, "Dr. Chef", "short").await;
    assert_eq!(weak.status, 422, "{}", weak.body);
    assert!(weak.body.contains("password"), "{}", weak.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_sessions").await, 0, "a refused set-up signed somebody in");

    let accepted = owner.accept(&token, "Dr. Chef", "north clinic owner secret").await;
    assert_eq!((accepted.status, accepted.location.as_str()), (302, "/admin"), "{}", accepted.body);
    let cookie = accepted.set_cookie.iter().find(|c| c.starts_with("booking_staff=")).expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(!cookie.contains("Secure"), "a plain-http cookie marked Secure is never sent back: {cookie}");
    let home = owner.get("/admin").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Clinic praxis-nord") && !home.body.contains("Stadtpark"), "{}", home.body);
    assert!(home.body.contains("/book/praxis-nord"));

    // The link works once.
    let again = app.browser().get(&format!("/admin/setup/{token}")).await;
    assert_eq!(again.status, 404);
    assert!(again.body.contains("already used or has expired"), "{}", again.body);
    let mut thief = app.browser();
    let reused = thief.accept(&token, "Thief", "another long password").await;
    assert_eq!(reused.status, 404, "{}", reused.body);
    assert!(thief.cookie.is_none());
    // Signing in later works with the chosen password, the address in any case.
    let mut later = app.browser();
    assert_eq!(later.sign_in("CHEF@praxis-nord.example", "north clinic owner secret").await.status, 302);
}

async fn signing_in_and_out_starts_and_ends_a_server_side_session(db: TestDb) {
    let app = spawn_app(db).await;
    let mut b = app.browser();
    let wrong = b.sign_in(DEMO_OWNER_EMAIL, "not the password").await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(b.cookie.is_none());
    let unknown = b.sign_in("nobody@demo.example", "not the password").await;
    assert_eq!(unknown.status, 401, "an unknown account is refused like a wrong password");
    assert_eq!(unknown.body, wrong.body);

    // Without JavaScript the form post gets a real redirect with the cookie.
    let no_js = b
        .http
        .post(format!("{}/api/admin_sign_in", app.base))
        .header("Accept", "text/html")
        .header("Origin", &app.base)
        .form(&[("email", DEMO_OWNER_EMAIL), ("password", OWNER_PASSWORD), ("next", "/admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_js.status().as_u16(), 302);
    assert!(no_js.headers().get("set-cookie").is_some_and(|c| c.to_str().unwrap().starts_with("booking_staff=")));
    let signed = b.sign_in(DEMO_OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!((signed.status, signed.location.as_str()), (302, "/admin/settings"), "{}", signed.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_sessions").await, 2);
    assert_eq!(b.get("/admin/settings").await.status, 200);
    // The database holds the token's digest, not the token.
    let cookie = b.cookie.clone().unwrap();
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM staff_sessions WHERE id_sha256 = '{cookie}'")).await, 0);

    let out = b.post("admin_sign_out", &[]).await;
    assert_eq!((out.status, out.location.as_str()), (302, "/admin/login"), "{}", out.body);
    assert!(out.set_cookie.iter().any(|c| c.starts_with("booking_staff=;") && c.contains("Max-Age=0")), "{:?}", out.set_cookie);
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_sessions").await, 1, "only the signed-out session ends");
    // The old cookie, replayed, opens nothing.
    let replay = Browser { cookie: Some(cookie), ..app.browser() };
    let page = replay.get("/admin/settings").await;
    assert_eq!((page.status, page.location.as_str()), (302, "/admin/login?next=%2Fadmin%2Fsettings"));
    // Signed in, the sign-in page moves on.
    let mut again = app.owner().await;
    assert_eq!(again.get("/admin/login").await.location, "/admin");
    assert_eq!(again.post("admin_sign_out", &[]).await.status, 302);
}

async fn failed_sign_ins_lock_the_account_for_a_while_even_with_the_right_password(db: TestDb) {
    let app = spawn_app(db).await;
    let mut b = app.browser();
    for _ in 0..MAX_FAILURES_PER_ACCOUNT {
        assert_eq!(b.sign_in(DEMO_OWNER_EMAIL, "guess guess guess").await.status, 401);
    }
    let locked = b.sign_in(DEMO_OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.body.contains("Throttled"), "{}", locked.body);
    let retry: i64 = locked.retry_after.expect("Retry-After").parse().unwrap();
    assert!((60..=15 * 60).contains(&retry), "{retry}");
    assert!(b.cookie.is_none());
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_sessions").await, 0);
    // Another account from the same address is not locked by it.
    let token = app.new_clinic("other", "owner@other.example", "Europe/Vienna").await;
    assert_eq!(app.browser().accept(&token, "Other", "other clinic secret").await.status, 302);
    assert_eq!(app.browser().sign_in("owner@other.example", "other clinic secret").await.status, 302);
}

async fn changes_without_the_csrf_token_or_from_another_site_change_nothing(db: TestDb) {
    let app = spawn_app(db).await;
    let mut owner = app.owner().await;
    let before = app.demo_settings().await;
    let form = settings_with("horizon_days", "120");
    let own = app.base.clone();
    let csrf = owner.csrf.clone();
    let with_csrf = |token: &'static str| {
        let mut f = vec![("csrf", token)];
        f.extend(form.iter().copied());
        f
    };
    let leaked: &'static str = Box::leak(csrf.clone().into_boxed_str());
    for (case, fields, origin) in [
        ("no token", with_csrf(""), Some(own.as_str())),
        ("another session's token", with_csrf("0000000000000000000000000000000000000000000000000000000000000000"), Some(own.as_str())),
        ("another origin", with_csrf(leaked), Some("https://evil.example")),
        ("an opaque origin", with_csrf(leaked), Some("null")),
    ] {
        let a = owner.call("admin_save_settings", &fields, origin).await;
        assert_eq!(a.status, 403, "{case}: {}", a.body);
        assert_eq!(app.demo_settings().await, before, "{case} changed the clinic");
    }
    let cross = owner
        .with_cookie(owner.http.post(format!("{}/api/admin_save_settings", owner.base)))
        .header("Accept", "application/json")
        .header("Sec-Fetch-Site", "cross-site")
        .form(&with_csrf(leaked))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status().as_u16(), 403);
    assert_eq!(app.demo_settings().await, before, "a cross-site request changed the clinic");
    // Without a session, nothing: the token alone is not a credential.
    let anonymous = app.browser().call("admin_save_settings", &with_csrf(leaked), Some(&own)).await;
    assert_eq!(anonymous.status, 401);

    let saved = owner.post("admin_save_settings", &form).await;
    assert_eq!((saved.status, saved.location.as_str()), (302, "/admin/settings?done=saved"), "{}", saved.body);
    let after = app.demo_settings().await;
    assert_eq!((after.1, after.2), (120, before.2 + 1));
}

async fn the_settings_form_refuses_bad_values_naming_the_field_and_saves_nothing(db: TestDb) {
    let app = spawn_app(db).await;
    let mut owner = app.owner().await;
    let before = app.demo_settings().await;
    for (field, value, named) in [
        ("time_zone", "Mars/Olympus_Mons", "timeZone"),
        ("time_zone", "", "timeZone"),
        ("name", "   ", "name"),
        ("default_locale", "fr", "defaultLocale"),
        ("horizon_days", "0", "horizonDays"),
        ("horizon_days", "1097", "horizonDays"),
        ("hold_minutes", "121", "holdMinutes"),
        ("hold_minutes", "0", "holdMinutes"),
        ("minimum_notice_minutes", "-5", "minimumNoticeMinutes"),
        ("change_cutoff_minutes", "ten", "changeCutoffMinutes"),
        ("change_cutoff_minutes", "1.5", "changeCutoffMinutes"),
    ] {
        let a = owner.post("admin_save_settings", &settings_with(field, value)).await;
        assert_eq!(a.status, 422, "{field}={value:?}: {}", a.body);
        let body: Value = serde_json::from_str(&a.body).unwrap_or_else(|_| panic!("{}", a.body));
        let reported = body["Invalid"]["field"].as_str().unwrap_or_else(|| panic!("{body}"));
        assert!(reported == named || reported == "minimumNotice" && named == "minimumNoticeMinutes", "{field}: {body}");
        assert_eq!(app.demo_settings().await, before, "{field}={value:?} changed the clinic");
    }
    // The same values again change nothing, not even the audit log.
    let same = owner.post("admin_save_settings", &SETTINGS).await;
    assert_eq!(same.location, "/admin/settings?done=unchanged");
    assert_eq!(app.demo_settings().await, before);
    // Without JavaScript the refusal returns to the form, which names the field.
    let no_js = owner
        .with_cookie(owner.http.post(format!("{}/api/admin_save_settings", owner.base)))
        .header("Accept", "text/html")
        .header("Origin", &owner.base)
        .header("Referer", format!("{}/admin/settings", owner.base))
        .form(&[vec![("csrf", owner.csrf.as_str())], settings_with("time_zone", "Mars/Olympus_Mons")].concat())
        .send()
        .await
        .unwrap();
    let back = answer(no_js).await;
    assert_eq!(back.status, 302, "a browser follows only a redirect back to the form");
    let path = back.location.strip_prefix(&owner.base).unwrap_or(&back.location).to_owned();
    assert!(path.starts_with("/admin/settings?") && path.contains("__err="), "{} {}", back.status, back.location);
    let page = owner.get(&path).await;
    assert!(page.body.contains("timeZone") && page.body.contains("role=\"alert\""), "{}", page.body);
}

async fn roles_and_clinics_bound_what_staff_can_see_and_change(db: TestDb) {
    let app = spawn_app(db).await;
    let mut desk = app.staff("desk@demo.example", "desk").await;
    let mut admin = app.staff("admin@demo.example", "admin").await;
    let other_token = app.new_clinic("elsewhere", "owner@elsewhere.example", "Asia/Tokyo").await;
    let mut other = app.browser();
    assert_eq!(other.accept(&other_token, "Other Owner", "far away clinic secret").await.status, 302);
    let anonymous = app.browser();
    let before = app.demo_settings().await;
    let staff_before = app.count("SELECT COUNT(*) FROM staff_users").await;

    // Pages: (path, desk, admin) allowed; the owner may see them all.
    for (path, desk_ok, admin_ok) in [
        ("/admin", true, true),
        ("/admin/account", true, true),
        ("/admin/settings", false, true),
        ("/admin/audit", false, true),
        ("/admin/website", false, true),
        ("/admin/integrations", false, true),
        ("/admin/staff", false, false),
    ] {
        let want = |ok: bool| if ok { 200 } else { 403 };
        assert_eq!(desk.get(path).await.status, want(desk_ok), "desk {path}");
        assert_eq!(admin.get(path).await.status, want(admin_ok), "admin {path}");
        let signed_out = anonymous.get(path).await;
        assert_eq!(signed_out.status, 302, "anonymous {path}");
        assert!(signed_out.location.starts_with("/admin/login?next="), "{}", signed_out.location);
    }
    // Changes.
    let refused = [
        ("desk saves settings", desk.post("admin_save_settings", &settings_with("horizon_days", "200")).await),
        ("desk invites", desk.post("admin_invite", &[("email", "x@demo.example"), ("role", "owner")]).await),
        ("admin invites", admin.post("admin_invite", &[("email", "y@demo.example"), ("role", "owner")]).await),
    ];
    for (case, a) in refused {
        assert_eq!(a.status, 403, "{case}: {}", a.body);
    }
    let with_token = |form: &[(&'static str, &'static str)]| [&[("csrf", "x")], form].concat();
    for (function, form) in [
        ("admin_save_settings", with_token(&settings_with("horizon_days", "200"))),
        ("admin_invite", with_token(&[("email", "z@demo.example"), ("role", "owner")])),
        ("admin_change_password", with_token(&[("current_password", "a"), ("new_password", "b"), ("new_password_again", "b")])),
        ("admin_language", with_token(&[("locale", "de")])),
        ("admin_sign_out", with_token(&[])),
    ] {
        let a = anonymous.call(function, &form, Some(&app.base)).await;
        assert_eq!(a.status, 401, "anonymous {function}: {}", a.body);
    }
    assert_eq!(app.demo_settings().await, before);
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_users").await, staff_before);
    // Another clinic's owner sees and changes only their own clinic.
    let page = other.get("/admin/settings").await;
    assert!(page.body.contains("Clinic elsewhere") && !page.body.contains("Stadtpark"), "{}", page.body);
    let saved = other.post("admin_save_settings", &settings_with("horizon_days", "30")).await;
    assert_eq!(saved.status, 302, "{}", saved.body);
    assert_eq!(app.demo_settings().await, before, "another clinic's owner changed the demo clinic");
    assert_eq!(app.count("SELECT CAST(horizon_days AS BIGINT) FROM clinics WHERE slug = 'elsewhere'").await, 30);
    // An admin configures.
    assert_eq!(admin.post("admin_save_settings", &settings_with("horizon_days", "100")).await.status, 302);
    assert_eq!(app.demo_settings().await.1, 100);
}

async fn an_owner_invites_staff_with_a_one_time_link_and_sees_who_changed_what(db: TestDb) {
    let app = spawn_app(db).await;
    let mut owner = app.owner().await;
    let invited = owner.post("admin_invite", &[("email", "Front.Desk@Demo.example"), ("role", "desk")]).await;
    assert_eq!(invited.status, 302, "{}", invited.body);
    let page = owner.get(&invited.location).await;
    let link = format!("{}/admin/setup/{}", app.base, invited.location.split("invited=").nth(1).unwrap());
    assert!(page.body.contains(&link), "the link is shown: {}", page.body);
    assert!(page.body.contains("front.desk@demo.example") && page.body.contains("Invited"));
    for (email, role, field) in [("front.desk@demo.example", "desk", "email"), ("not an address", "desk", "email"), ("z@demo.example", "root", "role")] {
        let a = owner.post("admin_invite", &[("email", email), ("role", role)]).await;
        assert_eq!(a.status, 422, "{email} {role}: {}", a.body);
        assert!(a.body.contains(field), "{}", a.body);
    }
    let token = invited.location.split("invited=").nth(1).unwrap();
    let mut desk = app.browser();
    assert_eq!(desk.accept(token, "Frida Front", "front desk password").await.status, 302);
    assert!(owner.get("/admin/staff").await.body.contains("Frida Front"));

    assert_eq!(owner.post("admin_save_settings", &settings_with("name", "Stadtpark Clinic")).await.status, 302);
    let audit = owner.get("/admin/audit").await;
    assert_eq!(audit.status, 200);
    assert!(audit.body.contains("staff.invite") && audit.body.contains("clinic.update"), "{}", audit.body);
    assert!(audit.body.contains(DEMO_OWNER_EMAIL));
    let detail = scalar_text(&app.store, "SELECT detail FROM audit_log WHERE action = 'clinic.update'").await;
    let detail: Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail, serde_json::json!({ "name": { "from": "Stadtpark Health Clinic", "to": "Stadtpark Clinic" } }));
}

async fn a_password_change_needs_the_current_password_and_ends_other_sessions(db: TestDb) {
    let app = spawn_app(db).await;
    let mut here = app.owner().await;
    let elsewhere = app.owner().await;
    let change = |current: &'static str, new: &'static str, again: &'static str| {
        vec![("current_password", current), ("new_password", new), ("new_password_again", again)]
    };
    for (form, field) in [
        (change("wrong current one", "brand new password", "brand new password"), "currentPassword"),
        (change(OWNER_PASSWORD, "brand new password", "brand new passwort"), "newPasswordAgain"),
        (change(OWNER_PASSWORD, "short", "short"), "password"),
    ] {
        let a = here.post("admin_change_password", &form).await;
        assert_eq!(a.status, 422, "{field}: {}", a.body);
        assert!(a.body.contains(field), "{}", a.body);
    }
    assert_eq!(elsewhere.get("/admin").await.status, 200, "a refused change ended a session");
    let changed = here.post("admin_change_password", &change(OWNER_PASSWORD, "brand new password", "brand new password")).await;
    assert_eq!((changed.status, changed.location.as_str()), (302, "/admin/account?done=password"), "{}", changed.body);
    assert_eq!(here.get("/admin").await.status, 200, "the session that changed it stays");
    assert_eq!(elsewhere.get("/admin").await.status, 302, "other sessions end");
    assert_eq!(app.browser().sign_in(DEMO_OWNER_EMAIL, OWNER_PASSWORD).await.status, 401);
    assert_eq!(app.browser().sign_in(DEMO_OWNER_EMAIL, "brand new password").await.status, 302);
    // The console speaks German once asked to.
    assert_eq!(here.post("admin_language", &[("locale", "de")]).await.status, 302);
    assert!(here.get("/admin").await.body.contains("Übersicht"));
    assert_eq!(here.post("admin_language", &[("locale", "fr")]).await.status, 422);
}

async fn the_root_leads_to_the_only_clinic_then_to_sign_in(db: TestDb) {
    let app = spawn_app(db).await;
    let root = app.browser().get("/").await;
    assert_eq!((root.status, root.location.as_str()), (303, "/book/demo"));
    app.new_clinic("second", "owner@second.example", "Europe/Paris").await;
    let root = app.browser().get("/").await;
    assert_eq!((root.status, root.location.as_str()), (303, "/admin/login"));
    let login = app.browser().get("/admin/login").await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains(r#"autocomplete="current-password""#));
    let german = app.browser().http.get(format!("{}/admin/login", app.base)).header("Accept-Language", "de-DE,de;q=0.9,en;q=0.5").send().await.unwrap();
    assert!(answer(german).await.body.contains("Anmeldung zur Praxis-Verwaltung"));
}

async fn an_admin_allows_websites_which_alone_may_then_frame_the_widget(db: TestDb) {
    let app = spawn_app(db).await;
    let mut admin = app.staff("admin@demo.example", "admin").await;
    let page = admin.get("/admin/website").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("{}/embed.js", app.base)) && page.body.contains(r#"data-clinic="demo" async"#), "{}", page.body);
    let saved = admin.post("admin_save_origins", &[("origins", "https://www.Praxis.example\nhttp://localhost:8080\n\nhttps://www.praxis.example")]).await;
    assert_eq!((saved.status, saved.location.as_str()), (302, "/admin/website?done=saved"), "{}", saved.body);
    let stored = scalar_text(&app.store, "SELECT embed_origins FROM clinics WHERE slug = 'demo'").await;
    assert_eq!(stored, "https://www.praxis.example\nhttp://localhost:8080", "trimmed, lower-cased, without duplicates");
    let booking = app.http.get(format!("{}/book/demo", app.base)).send().await.unwrap();
    let policy = booking.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("https://www.praxis.example") && policy.contains("http://localhost:8080"), "{policy}");
    let audits = app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'clinic.embed_origins'").await;
    assert_eq!(audits, 1);
    for bad in ["https://www.praxis.example/booking", "*", "ftp://files.example", "www.praxis.example"] {
        let a = admin.post("admin_save_origins", &[("origins", bad)]).await;
        assert_eq!(a.status, 422, "{bad}: {}", a.body);
        assert!(a.body.contains("origin"), "{}", a.body);
    }
    let many: String = (0..21).map(|i| format!("https://site{i}.example\n")).collect();
    assert_eq!(admin.post("admin_save_origins", &[("origins", many.as_str())]).await.status, 422);
    let mut desk = app.staff("desk@demo.example", "desk").await;
    assert_eq!(desk.get("/admin/website").await.status, 403);
    assert_eq!(desk.post("admin_save_origins", &[("origins", "")]).await.status, 403);
    assert_eq!(scalar_text(&app.store, "SELECT embed_origins FROM clinics WHERE slug = 'demo'").await, stored, "a refused change saved");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'clinic.embed_origins'").await, audits);
}

/// The key the integrations page shows once, if any.
fn shown_key(body: &str) -> Option<String> {
    let at = body.find(r#"data-testid="issued-key""#)?;
    let start = body[..at].rfind("value=\"")? + "value=\"".len();
    Some(body[start..].split('"').next()?.to_owned())
}

async fn api_users_are_created_rotated_and_revoked_with_each_key_shown_once(db: TestDb) {
    let app = spawn_app(db).await;
    let mut owner = app.owner().await;
    let calendars = |key: String| {
        let http = app.http.clone();
        let url = format!("{}/api/v1/calendars", app.base);
        async move { http.get(url).basic_auth("acme-bot", Some(key)).send().await.unwrap().status().as_u16() }
    };
    let created = owner.post("admin_create_credential", &[("username", "acme-bot"), ("kind", "bot"), ("location", ""), ("expires_in_days", "")]).await;
    assert_eq!((created.status, created.location.as_str()), (302, "/admin/integrations"), "{}", created.body);
    let page = owner.get("/admin/integrations").await;
    let first = shown_key(&page.body).unwrap_or_else(|| panic!("no key shown: {}", page.body));
    assert!(first.starts_with("bk_"));
    assert!(shown_key(&owner.get("/admin/integrations").await.body).is_none(), "a key is shown once");
    assert_eq!(calendars(first.clone()).await, 200);

    assert_eq!(owner.post("admin_rotate_credential", &[("username", "acme-bot")]).await.status, 302);
    let second = shown_key(&owner.get("/admin/integrations").await.body).expect("the new key");
    assert_ne!(first, second);
    assert_eq!((calendars(first.clone()).await, calendars(second.clone()).await), (200, 200), "both keys work during a rotation");

    let revoked = owner.post("admin_revoke_credential", &[("username", "acme-bot")]).await;
    assert_eq!((revoked.status, revoked.location.as_str()), (302, "/admin/integrations?revoked=acme-bot"));
    assert_eq!((calendars(first).await, calendars(second).await), (401, 401));
    assert!(owner.get("/admin/integrations").await.body.contains("no working key"));
    for action in ["credential.create", "credential.rotate", "credential.revoke"] {
        let sql = format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}' AND actor = '{DEMO_OWNER_EMAIL}'");
        assert_eq!(app.count(&sql).await, 1, "{action}");
    }

    // Bad input names its field and creates nothing; another clinic's users are out of reach.
    let other = store::testing::another_clinic(&app.store, "elsewhere").await;
    app.store.create_credential(other, None, "other-bot", store::credentials::CredentialKind::Bot, None, app.clock.now()).await.unwrap();
    let users = app.count("SELECT COUNT(*) FROM api_credentials").await;
    for (form, status, field) in [
        ([("username", "Acme Bot"), ("kind", "bot"), ("location", ""), ("expires_in_days", "")], 422, "username"),
        ([("username", "acme-bot"), ("kind", "bot"), ("location", ""), ("expires_in_days", "")], 422, "username"),
        ([("username", "acme-2"), ("kind", "root"), ("location", ""), ("expires_in_days", "")], 422, "kind"),
        ([("username", "acme-2"), ("kind", "bot"), ("location", "x"), ("expires_in_days", "")], 422, "location"),
        ([("username", "acme-2"), ("kind", "bot"), ("location", "999999"), ("expires_in_days", "")], 404, "location"),
        ([("username", "acme-2"), ("kind", "bot"), ("location", ""), ("expires_in_days", "30")], 422, "expiresAt"),
        ([("username", "acme-2"), ("kind", "bot"), ("location", ""), ("expires_in_days", "-1")], 422, "expiresInDays"),
    ] {
        let a = owner.post("admin_create_credential", &form).await;
        assert_eq!(a.status, status, "{form:?}: {}", a.body);
        assert!(a.body.contains(field), "{form:?}: {}", a.body);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM api_credentials").await, users);
    for function in ["admin_rotate_credential", "admin_revoke_credential"] {
        assert_eq!(owner.post(function, &[("username", "other-bot")]).await.status, 404, "{function}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM api_keys k JOIN api_credentials c ON c.id = k.credential_id WHERE c.username = 'other-bot' AND k.revoked_at IS NULL").await, 1);
    let mut desk = app.staff("desk@demo.example", "desk").await;
    assert_eq!(desk.get("/admin/integrations").await.status, 403);
    assert_eq!(desk.post("admin_rotate_credential", &[("username", "demo")]).await.status, 403);
}

/// The catalogue of a clinic as the store reads it, for before/after comparisons.
async fn catalogue_of(app: &Server, clinic_id: i64) -> store::catalogue_admin::ClinicCatalogue {
    app.store.clinic_catalogue(clinic_id).await.unwrap()
}

fn location_form<'a>(id: &'a str, name: &'a str, zone: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("id", id), ("name", name), ("address", "5 Park Ave\nNew York, NY"), ("time_zone", zone)]
}

fn product_form<'a>(id: &'a str, service: &'a str, name: &'a str, minutes: &'a str, price: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("id", id),
        ("product[service]", service),
        ("product[name]", name),
        ("product[description]", ""),
        ("product[duration_minutes]", minutes),
        ("product[new_patient_minutes]", ""),
        ("product[price]", price),
        ("product[currency]", "usd"),
        ("product[buffer_before_minutes]", "0"),
        ("product[buffer_after_minutes]", "5"),
        ("product[step_minutes]", ""),
        ("product[per_day_cap]", ""),
        ("ask[booker.phone]", "on"),
        ("ask[booker.email]", "on"),
    ]
}

async fn a_new_clinic_builds_its_catalogue_in_the_console(db: TestDb) {
    let app = spawn_app(db).await;
    let token = app.new_clinic("east-side", "owner@east.example", "America/New_York").await;
    let mut owner = app.browser();
    assert_eq!(owner.accept(&token, "Eve Owner", "east side clinic secret").await.status, 302);
    let clinic = app.count("SELECT id FROM clinics WHERE slug = 'east-side'").await;

    let empty = owner.get("/admin/catalogue").await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    let new_location = owner.get("/admin/catalogue/location/new").await;
    assert!(new_location.body.contains(r#"<option value="America/New_York" selected"#), "a new location starts in the clinic's zone");

    let saved = owner.post("admin_save_location", &location_form("", "Midtown", "America/New_York")).await;
    assert_eq!((saved.status, saved.location.as_str()), (302, "/admin/catalogue?done=saved"), "{}", saved.body);
    let location = catalogue_of(&app, clinic).await.locations[0].id;
    let saved = owner.post("admin_save_service", &[("id", ""), ("name", "Dental care"), ("duration_minutes", "30")]).await;
    assert_eq!(saved.status, 302, "{}", saved.body);
    let service = catalogue_of(&app, clinic).await.services[0].id.to_string();
    for (name, minutes, price) in [("Check-up", "20", "45"), ("Cleaning", "50", "120.50")] {
        let saved = owner.post("admin_save_product", &product_form("", &service, name, minutes, price)).await;
        assert_eq!(saved.status, 302, "{name}: {}", saved.body);
    }
    let services_ticked = format!("services[{service}]");
    let provider_form = [("id", ""), ("name", "Ana Ruiz"), ("title", "Dr."), ("gender", "female"), ("specialty", "Dentistry"), (services_ticked.as_str(), "on")];
    assert_eq!(owner.post("admin_save_provider", &provider_form).await.status, 302);

    let c = catalogue_of(&app, clinic).await;
    assert_eq!((c.locations[0].def.name.as_str(), c.locations[0].def.address.as_str()), ("Midtown", "5 Park Ave\nNew York, NY"));
    let cleaning = &c.products[1].def;
    assert_eq!((cleaning.duration_minutes, cleaning.price_cents, cleaning.currency.as_str(), cleaning.buffer_after_minutes), (50, 12050, "USD", 5));
    let asked: Vec<&str> = cleaning.booker_fields.iter().map(|f| f.as_str()).collect();
    assert_eq!(asked, ["firstname", "lastname", "phone", "email"], "first and last name are always asked");
    assert_eq!(c.providers[0].def.service_ids, vec![service.parse::<i64>().unwrap()]);
    assert_eq!(c.providers[0].def.title, "Dr.");

    let list = owner.get("/admin/catalogue").await;
    for shown in ["Midtown", "Dental care", "Check-up", "120.50 USD", "Dr. Ana Ruiz"] {
        assert!(list.body.contains(shown), "{shown} missing from the list");
    }
    let edit = owner.get(&format!("/admin/catalogue/product/{}", c.products[1].id)).await;
    assert!(edit.body.contains(r#"value="120.50""#) && edit.body.contains(r#"name="ask[booker.email]" checked"#), "{}", edit.body);
    // Saving a form unchanged changes nothing.
    let location_id = location.to_string();
    let again = owner.post("admin_save_location", &location_form(&location_id, "Midtown", "America/New_York")).await;
    assert_eq!(again.location, "/admin/catalogue?done=unchanged");
    let actions: Vec<String> = app.store.audit_log(clinic, 20).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["provider.create", "product.create", "product.create", "service.create", "location.create", "clinic.create"]);
    assert!(app.store.audit_log(clinic, 20).await.unwrap().iter().take(5).all(|e| e.actor == "owner@east.example"));
}

async fn catalogue_forms_refuse_bad_input_naming_the_field_and_save_nothing(db: TestDb) {
    let app = spawn_app(db).await;
    let mut owner = app.owner().await;
    let before = catalogue_of(&app, app.demo_id).await;
    let service = before.services[0].id.to_string();
    let other = app.new_clinic("elsewhere", "owner@elsewhere.example", "Asia/Tokyo").await;
    let _ = other;
    let other_id = app.count("SELECT id FROM clinics WHERE slug = 'elsewhere'").await;
    let foreign = app
        .store
        .save_service(other_id, &store::staff::Actor::cli(), None, &domain::catalogue::ServiceDef::new("Foreign", 30).unwrap(), app.clock.now())
        .await
        .unwrap()
        .0
        .to_string();
    let audits = app.count("SELECT COUNT(*) FROM audit_log").await;
    let with = |form: Vec<(&'static str, &'static str)>, field: &'static str, value: &'static str| -> Vec<(&'static str, &'static str)> {
        form.into_iter().map(|(k, v)| (k, if k == field { value } else { v })).collect()
    };
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let service: &'static str = leak(service);
    let foreign: &'static str = leak(foreign);
    let location = || location_form("", "Uptown", "America/New_York");
    let product = || product_form("", service, "Extra", "30", "10");
    let cases: Vec<(&str, Vec<(&'static str, &'static str)>, &str)> = vec![
        ("admin_save_location", with(location(), "time_zone", "America/Gotham"), "timeZone"),
        ("admin_save_location", with(location(), "time_zone", ""), "timeZone"),
        ("admin_save_location", with(location(), "name", "  "), "name"),
        ("admin_save_location", with(location(), "address", ""), "address"),
        ("admin_save_service", vec![("id", ""), ("name", "Physio"), ("duration_minutes", "0")], "durationMinutes"),
        ("admin_save_service", vec![("id", ""), ("name", "Physio"), ("duration_minutes", "-30")], "durationMinutes"),
        ("admin_save_service", vec![("id", ""), ("name", ""), ("duration_minutes", "30")], "name"),
        ("admin_save_product", with(product(), "product[duration_minutes]", "0"), "durationMinutes"),
        ("admin_save_product", with(product(), "product[duration_minutes]", "-10"), "durationMinutes"),
        ("admin_save_product", with(product(), "product[new_patient_minutes]", "0"), "newPatientMinutes"),
        ("admin_save_product", with(product(), "product[price]", "-5"), "price"),
        ("admin_save_product", with(product(), "product[price]", "ten"), "price"),
        ("admin_save_product", with(product(), "product[currency]", "euro"), "currency"),
        ("admin_save_product", with(product(), "product[service]", ""), "service"),
        ("admin_save_product", with(product(), "product[service]", foreign), "service"),
        ("admin_save_product", with(product(), "product[buffer_after_minutes]", "-1"), "bufferAfterMinutes"),
        ("admin_save_product", with(product(), "product[step_minutes]", "1441"), "stepMinutes"),
        ("admin_save_product", with(product(), "product[per_day_cap]", "0"), "perDayCap"),
        ("admin_save_provider", vec![("id", ""), ("name", "Locum"), ("title", ""), ("gender", "robot"), ("specialty", "")], "gender"),
        ("admin_save_provider", vec![("id", ""), ("name", ""), ("title", ""), ("gender", ""), ("specialty", "")], "name"),
        ("admin_save_provider", vec![("id", ""), ("name", "Locum"), ("title", ""), ("gender", ""), ("specialty", ""), (leak(format!("services[{foreign}]")), "on")], "services"),
    ];
    for (function, form, named) in cases {
        let a = owner.post(function, &form).await;
        assert_eq!(a.status, 422, "{function} {form:?}: {}", a.body);
        let body: Value = serde_json::from_str(&a.body).unwrap_or_else(|_| panic!("{}", a.body));
        assert_eq!(body["Invalid"]["field"].as_str(), Some(named), "{function} {form:?}: {body}");
    }
    // An id that is not one of this clinic's entries is not found.
    let foreign_edit = owner.post("admin_save_service", &[("id", foreign), ("name", "Taken over"), ("duration_minutes", "30")]).await;
    assert_eq!(foreign_edit.status, 404, "{}", foreign_edit.body);
    assert_eq!(owner.get(&format!("/admin/catalogue/service/{foreign}")).await.status, 404);
    assert_eq!(owner.get("/admin/catalogue/widget/1").await.status, 404);
    assert_eq!(catalogue_of(&app, app.demo_id).await, before);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audits);
    assert_eq!(scalar_text(&app.store, &format!("SELECT name FROM services WHERE id = {foreign}")).await, "Foreign");

    // Without JavaScript a refusal returns to the form, which shows what was typed, once.
    let no_js = owner
        .with_cookie(owner.http.post(format!("{}/api/admin_save_service", owner.base)))
        .header("Accept", "text/html")
        .header("Origin", &owner.base)
        .header("Referer", format!("{}/admin/catalogue/service/new", owner.base))
        .form(&[("csrf", owner.csrf.as_str()), ("id", ""), ("name", "Physiotherapy"), ("duration_minutes", "0")])
        .send()
        .await
        .unwrap();
    let back = answer(no_js).await;
    assert_eq!(back.status, 302);
    let path = back.location.strip_prefix(&owner.base).unwrap_or(&back.location).to_owned();
    let page = owner.get(&path).await;
    assert!(page.body.contains(r#"value="Physiotherapy""#) && page.body.contains(r#"value="0""#), "{}", page.body);
    assert!(page.body.contains("durationMinutes") && page.body.contains("role=\"alert\""));
    let again = owner.get("/admin/catalogue/service/new").await;
    assert!(!again.body.contains("Physiotherapy"), "a draft is shown once");
    assert_eq!(catalogue_of(&app, app.demo_id).await, before);
}

async fn archived_entries_leave_booking_and_booked_ones_cannot_be_deleted(db: TestDb) {
    let app = spawn_app(db).await;
    let mut owner = app.owner().await;
    let c = catalogue_of(&app, app.demo_id).await;
    let provider = c.providers[0].id;
    let provider_id = provider.to_string();
    let calendars = || async {
        let res = app.http.get(format!("{}/api/v1/calendars", app.base)).basic_auth("demo", Some("bk_test")).send().await.unwrap();
        let body: Value = res.json().await.unwrap();
        body["calendars"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert!(calendars().await.contains(&provider_id));
    let booked_before = app.count("SELECT COUNT(*) FROM appointments WHERE status = 'booked'").await;

    // The provider has booked appointments ahead: archiving is refused until they are kept.
    let refused = owner.post("admin_archive_entry", &[("kind", "provider"), ("id", &provider_id), ("archived", "true")]).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("Keep booked appointments") && refused.body.contains("archived"), "{}", refused.body);
    assert!(calendars().await.contains(&provider_id), "nothing archived");
    let archived = owner.post("admin_archive_entry", &[("kind", "provider"), ("id", &provider_id), ("archived", "true"), ("keep_booked", "on")]).await;
    assert_eq!((archived.status, archived.location.clone()), (302, format!("/admin/catalogue/provider/{provider}?done=archived")), "{}", archived.body);
    let flagged = app.store.needing_attention(app.demo_id, app.clock.now()).await.unwrap();
    assert!(!flagged.is_empty() && flagged.iter().all(|a| a.provider_id == provider), "their future appointments need attention");
    let overview = owner.get("/admin").await;
    assert!(overview.body.contains("Appointments that need attention") && overview.body.contains("provider archived"), "{}", overview.body);
    assert!(!calendars().await.contains(&provider_id), "an archived provider is not offered to bots");
    let page = owner.get(&format!("/admin/catalogue/provider/{provider}?done=archived")).await;
    assert!(page.body.contains("Restore") && page.body.contains("no longer offered"), "{}", page.body);
    let book_page = app.browser().get("/book/demo").await;
    assert!(!book_page.body.contains(&c.providers[0].def.name), "an archived provider is not offered to patients");

    // Deleting what appointments refer to is refused, naming why; nothing changes.
    let delete = owner.post("admin_delete_entry", &[("kind", "provider"), ("id", &provider_id)]).await;
    assert_eq!(delete.status, 422, "{}", delete.body);
    assert!(delete.body.contains("archive it instead"), "{}", delete.body);
    assert!(catalogue_of(&app, app.demo_id).await.provider(provider).is_some());
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments WHERE status = 'booked'").await, booked_before, "no appointment was touched");
    let bad = owner.post("admin_archive_entry", &[("kind", "provider"), ("id", &provider_id), ("archived", "maybe")]).await;
    assert_eq!(bad.status, 422);

    let restored = owner.post("admin_archive_entry", &[("kind", "provider"), ("id", &provider_id), ("archived", "false")]).await;
    assert_eq!(restored.status, 302, "{}", restored.body);
    assert!(calendars().await.contains(&provider_id));

    // Something nobody booked can be deleted.
    assert_eq!(owner.post("admin_save_service", &[("id", ""), ("name", "Unused"), ("duration_minutes", "15")]).await.status, 302);
    let unused = catalogue_of(&app, app.demo_id).await.services.last().unwrap().id.to_string();
    let deleted = owner.post("admin_delete_entry", &[("kind", "service"), ("id", &unused)]).await;
    assert_eq!((deleted.status, deleted.location.as_str()), (302, "/admin/catalogue?done=deleted"), "{}", deleted.body);
    assert_eq!(catalogue_of(&app, app.demo_id).await, c);
}

async fn only_the_clinics_own_configuring_staff_may_touch_its_catalogue(db: TestDb) {
    let app = spawn_app(db).await;
    let mut desk = app.staff("desk@demo.example", "desk").await;
    let other_token = app.new_clinic("elsewhere", "owner@elsewhere.example", "Asia/Tokyo").await;
    let mut other = app.browser();
    assert_eq!(other.accept(&other_token, "Other Owner", "far away clinic secret").await.status, 302);
    let anonymous = app.browser();
    let before = catalogue_of(&app, app.demo_id).await;
    let audits = app.count("SELECT COUNT(*) FROM audit_log").await;
    let location: &'static str = Box::leak(before.locations[0].id.to_string().into_boxed_str());
    let service: &'static str = Box::leak(before.services[0].id.to_string().into_boxed_str());
    let product: &'static str = Box::leak(before.products[0].id.to_string().into_boxed_str());
    let provider: &'static str = Box::leak(before.providers[0].id.to_string().into_boxed_str());
    let changes: Vec<(&str, Vec<(&'static str, &'static str)>)> = vec![
        ("admin_save_location", location_form(location, "Renamed", "UTC")),
        ("admin_save_service", vec![("id", service), ("name", "Renamed"), ("duration_minutes", "30")]),
        ("admin_save_product", product_form(product, service, "Renamed", "30", "1")),
        ("admin_save_provider", vec![("id", provider), ("name", "Renamed"), ("title", ""), ("gender", ""), ("specialty", "")]),
        ("admin_archive_entry", vec![("kind", "provider"), ("id", provider), ("archived", "true")]),
        ("admin_delete_entry", vec![("kind", "product"), ("id", product)]),
    ];
    for path in ["/admin/catalogue", "/admin/catalogue/location/new", &format!("/admin/catalogue/provider/{provider}")] {
        assert_eq!(desk.get(path).await.status, 403, "desk {path}");
        assert_eq!(anonymous.get(path).await.status, 302, "anonymous {path}");
    }
    assert_eq!(other.get(&format!("/admin/catalogue/provider/{provider}")).await.status, 404, "another clinic's entry");
    for (function, form) in &changes {
        assert_eq!(desk.post(function, form).await.status, 403, "desk {function}");
        assert_eq!(other.post(function, form).await.status, 404, "another clinic's owner {function}");
        let anonymous_answer = anonymous.call(function, &[&[("csrf", "x")], form.as_slice()].concat(), Some(&app.base)).await;
        assert_eq!(anonymous_answer.status, 401, "anonymous {function}");
        let mut forged = app.owner().await;
        forged.csrf = "0".repeat(64);
        assert_eq!(forged.post(function, form).await.status, 403, "forged token {function}");
        forged.csrf = String::new();
        assert_eq!(forged.post(function, form).await.status, 403, "missing token {function}");
    }
    assert_eq!(catalogue_of(&app, app.demo_id).await, before);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audits);
}

async fn working_hours_are_edited_in_the_console_and_bad_rules_are_refused_naming_the_field(db: TestDb) {
    let app = spawn_app(db).await;
    let mut owner = app.owner().await;
    let c = catalogue_of(&app, app.demo_id).await;
    let provider = c.providers[0].id;
    let p: &'static str = Box::leak(provider.to_string().into_boxed_str());
    let location: &'static str = Box::leak(c.locations[0].id.to_string().into_boxed_str());
    let page = owner.get(&format!("/admin/schedule/{provider}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let before = app.store.provider_schedule(app.demo_id, provider).await.unwrap();
    let hours = |weekday: &'static str, start: &'static str, end: &'static str| {
        vec![("provider", p), ("location", location), ("weekday", weekday), ("start", start), ("end", end), ("valid_from", ""), ("valid_until", "")]
    };
    let existing = &before.hours[0].def;
    let clash_start: &'static str = Box::leak(existing.start.to_string().into_boxed_str());
    let clash_day: &'static str = Box::leak(existing.weekday.to_string().into_boxed_str());
    let with = |mut form: Vec<(&'static str, &'static str)>, field: &'static str, value: &'static str| {
        for f in form.iter_mut().filter(|f| f.0 == field) {
            f.1 = value;
        }
        form
    };
    let audits = app.count("SELECT COUNT(*) FROM audit_log").await;
    for (function, form, named) in [
        ("admin_add_hours", hours("6", "12:00", "09:00"), "end"),
        ("admin_add_hours", hours("6", "09:00", "09:00"), "end"),
        ("admin_add_hours", hours("6", "9 am", "12:00"), "start"),
        ("admin_add_hours", hours("8", "09:00", "12:00"), "weekday"),
        ("admin_add_hours", hours(clash_day, clash_start, "23:59"), "start"),
        ("admin_add_hours", with(hours("6", "09:00", "12:00"), "location", "999999"), "location"),
        ("admin_add_hours", with(hours("6", "09:00", "12:00"), "valid_until", "2020-01-01"), "validUntil"),
        ("admin_add_hours", [hours("6", "09:00", "12:00"), vec![]].concat().into_iter().map(|(k, v)| (k, if k == "valid_from" { "2027-02-30" } else { v })).collect(), "validFrom"),
        ("admin_add_exception", vec![("provider", p), ("date", "2030-01-07"), ("kind", "extra"), ("start", "12:00"), ("end", "10:00")], "end"),
        ("admin_add_exception", vec![("provider", p), ("date", "tomorrow"), ("kind", "closed"), ("start", ""), ("end", "")], "date"),
        ("admin_add_exception", vec![("provider", p), ("date", "2030-01-07"), ("kind", "holiday"), ("start", ""), ("end", "")], "kind"),
        ("admin_add_block", vec![("provider", p), ("date", "2030-01-07"), ("start", "10:00"), ("end", "09:00"), ("label", "x")], "end"),
        ("admin_add_holiday", vec![("date", "2030-02-30"), ("name", "Nope")], "date"),
        ("admin_add_holiday", vec![("date", "2030-01-07"), ("name", " ")], "name"),
    ] {
        let a = owner.post(function, &form).await;
        assert_eq!(a.status, 422, "{function} {form:?}: {}", a.body);
        let body: Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(body["Invalid"]["field"].as_str(), Some(named), "{function} {form:?}: {body}");
    }
    assert_eq!(app.store.provider_schedule(app.demo_id, provider).await.unwrap(), before);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audits);

    // Saturday hours with a lunch break, a closed day, extra hours, a block and a holiday.
    for form in [hours("6", "08:00", "12:00"), hours("6", "13:00", "16:00")] {
        let a = owner.post("admin_add_hours", &form).await;
        assert_eq!((a.status, a.location.clone()), (302, format!("/admin/schedule/{provider}?done=saved")), "{}", a.body);
    }
    for form in [
        vec![("provider", p), ("date", "2030-01-07"), ("kind", "closed"), ("start", ""), ("end", "")],
        vec![("provider", p), ("date", "2030-01-13"), ("kind", "extra"), ("start", "09:00"), ("end", "11:00")],
    ] {
        assert_eq!(owner.post("admin_add_exception", &form).await.status, 302);
    }
    let blocked = owner.post("admin_add_block", &[("provider", p), ("date", "2030-01-08"), ("start", "09:00"), ("end", "10:30"), ("label", "Training")]).await;
    assert_eq!(blocked.status, 302, "{}", blocked.body);
    assert_eq!(owner.post("admin_add_holiday", &[("date", "2030-01-01"), ("name", "New Year")]).await.status, 302);
    let after = app.store.provider_schedule(app.demo_id, provider).await.unwrap();
    assert_eq!((after.hours.len(), after.exceptions.len(), after.blocks.len()), (before.hours.len() + 2, before.exceptions.len() + 2, before.blocks.len() + 1));
    let page = owner.get(&format!("/admin/schedule/{provider}")).await;
    for shown in ["Saturday 08:00–12:00", "Saturday 13:00–16:00", "2030-01-13 · 09:00–11:00", "2030-01-08 09:00–10:30 · Training"] {
        assert!(page.body.contains(shown), "{shown} missing: {}", page.body);
    }
    assert!(owner.get("/admin/schedule").await.body.contains("New Year"));
    let block = after.blocks.iter().find(|b| b.label == "Training").unwrap().id.to_string();
    let removed = owner.post("admin_remove_rule", &[("provider", p), ("kind", "block"), ("id", &block)]).await;
    assert_eq!(removed.location, format!("/admin/schedule/{provider}?done=removed"));
    assert_eq!(owner.post("admin_remove_rule", &[("provider", p), ("kind", "block"), ("id", &block)]).await.status, 404);
    assert_eq!(owner.post("admin_remove_holiday", &[("date", "2030-01-01")]).await.status, 302);

    // Nobody else touches these rules.
    let mut desk = app.staff("desk@demo.example", "desk").await;
    let token = app.new_clinic("elsewhere", "owner@elsewhere.example", "Asia/Tokyo").await;
    let mut other = app.browser();
    assert_eq!(other.accept(&token, "Other Owner", "far away clinic secret").await.status, 302);
    let rules = app.store.provider_schedule(app.demo_id, provider).await.unwrap();
    let hour_id: &'static str = Box::leak(rules.hours[0].id.to_string().into_boxed_str());
    for (function, form) in [
        ("admin_add_hours", hours("7", "08:00", "09:00")),
        ("admin_add_exception", vec![("provider", p), ("date", "2030-01-09"), ("kind", "closed"), ("start", ""), ("end", "")]),
        ("admin_add_block", vec![("provider", p), ("date", "2030-01-09"), ("start", "09:00"), ("end", "10:00"), ("label", "x")]),
        ("admin_remove_rule", vec![("provider", p), ("kind", "hours"), ("id", hour_id)]),
    ] {
        assert_eq!(desk.post(function, &form).await.status, 403, "desk {function}");
        let refused = other.post(function, &form).await.status;
        assert!(refused == 404 || refused == 422, "another clinic's owner {function}: {refused}");
    }
    assert_eq!(desk.get(&format!("/admin/schedule/{provider}")).await.status, 403);
    assert_eq!(other.get(&format!("/admin/schedule/{provider}")).await.status, 404);
    assert_eq!(app.store.provider_schedule(app.demo_id, provider).await.unwrap(), rules);
}

/// The local "YYYY-MM-DD HH:MM" the console shows for an appointment.
fn shown_when(a: &store::attention::AffectedAppointment) -> String {
    a.start.with_timezone(&a.time_zone).format("%Y-%m-%d %H:%M").to_string()
}

async fn an_hours_change_that_strands_an_appointment_lists_it_first_then_keeps_it_booked_and_flagged(db: TestDb) {
    use store::attention::ScheduleChange;
    use store::schedule_admin::RuleKind;
    let app = spawn_app(db).await;
    let mut owner = app.owner().await;
    let provider = catalogue_of(&app, app.demo_id).await.providers[0].id;
    let p = provider.to_string();
    let now = app.clock.now();
    // A weekly rule of the provider that holds one of the demo clinic's booked appointments.
    let before = app.store.provider_schedule(app.demo_id, provider).await.unwrap();
    let mut holding = None;
    for h in &before.hours {
        let found = app.store.stranded_by(app.demo_id, Some(provider), &ScheduleChange::RemoveRule(RuleKind::Hours, h.id), now).await.unwrap();
        if !found.is_empty() {
            holding = Some((h.id, found));
            break;
        }
    }
    let (rule, stranded) = holding.expect("the demo provider has booked appointments ahead");
    let rule = rule.to_string();
    let audits = app.count("SELECT COUNT(*) FROM audit_log").await;

    // Saving without choosing shows the appointments first and saves nothing.
    let first = owner.post("admin_remove_rule", &[("provider", &p), ("kind", "hours"), ("id", &rule)]).await;
    let check = format!("/admin/schedule/{provider}?change=remove&kind=hours&id={rule}#check");
    assert_eq!((first.status, first.location.as_str()), (302, check.as_str()), "{}", first.body);
    assert_eq!(app.store.provider_schedule(app.demo_id, provider).await.unwrap(), before);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audits);
    let page = owner.get(check.trim_end_matches("#check")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for a in &stranded {
        assert!(page.body.contains(&shown_when(a)), "{} is not listed: {}", shown_when(a), page.body);
    }
    assert!(page.body.contains("outside working hours") && page.body.contains("Save and keep these appointments"), "{}", page.body);
    assert!(page.body.contains(r#"data-testid="slot-removed""#), "the week preview shows the times that would go");

    // Saving and keeping them: the rule goes, the appointments stay booked and are flagged.
    let kept = owner.post("admin_remove_rule", &[("provider", &p), ("kind", "hours"), ("id", &rule), ("intent", "keep")]).await;
    assert_eq!((kept.status, kept.location.clone()), (302, format!("/admin/schedule/{provider}?done=removed")), "{}", kept.body);
    assert_eq!(app.store.provider_schedule(app.demo_id, provider).await.unwrap().hours.len(), before.hours.len() - 1);
    let first_id = stranded[0].appointment_id;
    assert_eq!(scalar_text(&app.store, &format!("SELECT status FROM appointments WHERE id = {first_id}")).await, "booked");
    let flagged = app.store.needing_attention(app.demo_id, now).await.unwrap();
    assert_eq!(flagged.iter().map(|a| a.appointment_id).collect::<Vec<_>>(), stranded.iter().map(|a| a.appointment_id).collect::<Vec<_>>());
    let overview = owner.get("/admin").await;
    assert!(overview.body.contains("Appointments that need attention") && overview.body.contains(&shown_when(&stranded[0])), "{}", overview.body);

    // Only this clinic's staff resolve it; then it is off the list and still booked.
    let token = app.new_clinic("elsewhere", "owner@elsewhere.example", "Asia/Tokyo").await;
    let mut other = app.browser();
    assert_eq!(other.accept(&token, "Other Owner", "far away clinic secret").await.status, 302);
    let first_id = first_id.to_string();
    assert_eq!(other.post("admin_keep_appointment", &[("appointment", &first_id)]).await.status, 404);
    let mut forged = app.owner().await;
    forged.csrf = "0".repeat(64);
    assert_eq!(forged.post("admin_keep_appointment", &[("appointment", &first_id)]).await.status, 403);
    let mut desk = app.staff("desk@demo.example", "desk").await;
    let resolved = desk.post("admin_keep_appointment", &[("appointment", &first_id)]).await;
    assert_eq!((resolved.status, resolved.location.as_str()), (302, "/admin?done=kept"), "{}", resolved.body);
    assert_eq!(app.store.needing_attention(app.demo_id, now).await.unwrap().len(), stranded.len() - 1);
    assert_eq!(owner.post("admin_keep_appointment", &[("appointment", &first_id)]).await.status, 404, "kept once");
    assert_eq!(scalar_text(&app.store, &format!("SELECT status FROM appointments WHERE id = {first_id}")).await, "booked");

    // "Check first" shows a change that strands nothing, with its week, and saves nothing.
    let asked = owner.post("admin_add_exception", &[("provider", &p), ("date", "2030-01-08"), ("kind", "closed"), ("start", ""), ("end", ""), ("intent", "check")]).await;
    assert_eq!(asked.status, 302, "{}", asked.body);
    assert!(asked.location.contains("change=exception") && asked.location.contains("date=2030-01-08"), "{}", asked.location);
    let page = owner.get(asked.location.trim_end_matches("#check")).await;
    assert!(page.body.contains("No booked appointment falls outside the new rules.") && page.body.contains("Week from"), "{}", page.body);
    assert!(app.store.provider_schedule(app.demo_id, provider).await.unwrap().exceptions.iter().all(|e| e.def.date.to_string() != "2030-01-08"));
    let odd = owner.post("admin_add_exception", &[("provider", &p), ("date", "2030-01-08"), ("kind", "closed"), ("start", ""), ("end", ""), ("intent", "later")]).await;
    assert_eq!(odd.status, 422, "{}", odd.body);
    // A proposal in the address that names no valid change says why instead of failing the page.
    let junk = owner.get(&format!("/admin/schedule/{provider}?change=block&date=someday")).await;
    assert_eq!(junk.status, 200);
    assert!(junk.body.contains(r#"data-testid="problem""#), "{}", junk.body);
    let week = owner.get(&format!("/admin/schedule/{provider}?week=2030-01-09")).await;
    assert!(week.body.contains(r#"value="2030-01-07""#), "the week starts on its Monday: {}", week.body);
}

async fn webhook_subscriptions_are_managed_in_the_console_with_the_secret_shown_once_and_deliveries_sent_again(db: TestDb) {
    let app = spawn_app(db).await;
    let mut owner = app.owner().await;
    let audits = app.count("SELECT COUNT(*) FROM audit_log").await;
    let long = "x".repeat(201);
    let good = "https://hooks.example.com/booking";
    for (form, field) in [
        (vec![("url", "http://hooks.example.com/in"), ("events[appointmentCreated]", "on"), ("description", "")], "url"),
        (vec![("url", "https://10.0.0.7/in"), ("events[appointmentCreated]", "on"), ("description", "")], "url"),
        (vec![("url", "not a url"), ("events[appointmentCreated]", "on"), ("description", "")], "url"),
        (vec![("url", good), ("description", "")], "events"),
        (vec![("url", good), ("events[appointmentMoved]", "on"), ("description", "")], "events"),
        (vec![("url", good), ("events[appointmentCreated]", "on"), ("description", long.as_str())], "description"),
    ] {
        let a = owner.post("admin_create_webhook", &form).await;
        assert_eq!(a.status, 422, "{form:?}: {}", a.body);
        let body: Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(body["Invalid"]["field"].as_str(), Some(field), "{form:?}: {body}");
    }
    assert!(app.store.subscriptions(app.demo_id).await.unwrap().is_empty(), "nothing saved");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log").await, audits);

    let created = owner
        .post("admin_create_webhook", &[("url", good), ("events[appointmentCreated]", "on"), ("events[appointmentCanceled]", "on"), ("description", "Front desk tablet")])
        .await;
    assert_eq!((created.status, created.location.as_str()), (302, "/admin/webhooks"), "{}", created.body);
    let subscription = app.store.subscriptions(app.demo_id).await.unwrap().remove(0);
    assert_eq!(subscription.events.iter().map(|e| e.as_str()).collect::<Vec<_>>(), ["appointmentCreated", "appointmentCanceled"]);
    let stored = scalar_text(&app.store, &format!("SELECT secret FROM webhook_subscriptions WHERE id = {}", subscription.id)).await;
    let page = owner.get("/admin/webhooks").await;
    assert!(page.body.contains(&stored) && stored.starts_with("whsec_"), "the secret is shown: {}", page.body);
    assert!(!owner.get("/admin/webhooks").await.body.contains(&stored), "and only once");
    assert_eq!(app.store.audit_log(app.demo_id, 1).await.unwrap()[0].action, "webhook.create");

    // A booking is delivered (here: one failed attempt); the log shows it and it can be sent again.
    let now = app.clock.now();
    let slug = domain::ClinicSlug::parse("demo").unwrap();
    let ctx = app.store.booking_context(&slug).await.unwrap();
    let offered = app
        .store
        .availability(&store::AvailabilityRequest {
            clinic_id: app.demo_id,
            location_id: ctx.location.id,
            product_id: ctx.product.id,
            provider_id: Some(ctx.providers[0].provider_id),
            from: (now + chrono::Duration::days(20)).date_naive(),
            to: (now + chrono::Duration::days(30)).date_naive(),
            new_patient: false,
            now,
        })
        .await
        .unwrap();
    let start = offered.providers[0].slots[0].interval.start;
    app.store.create_appointment(&store::testing::appointment(app.demo_id, &ctx, ctx.providers[0].provider_id, start, now)).await.unwrap();
    app.store.fan_out_events(now).await.unwrap();
    let due = app.store.claim_deliveries(now, 10, chrono::Duration::seconds(30)).await.unwrap();
    assert_eq!(due.len(), 1);
    let failure = store::webhooks::AttemptResult { status: Some(503), latency_ms: 42, error: None };
    app.store.record_attempt(&due[0], &failure, now, 0.5).await.unwrap();
    let id = subscription.id.to_string();
    let log = owner.get(&format!("/admin/webhooks/{id}")).await;
    assert_eq!(log.status, 200, "{}", log.body);
    assert!(log.body.contains("appointmentCreated") && log.body.contains("503") && log.body.contains("42 ms"), "{}", log.body);
    let delivery = due[0].delivery_id.to_string();
    let again = owner.post("admin_redeliver", &[("webhook", &id), ("delivery", &delivery)]).await;
    assert_eq!((again.status, again.location.clone()), (302, format!("/admin/webhooks/{id}?done=redelivered")), "{}", again.body);
    let due_again = app.store.claim_deliveries(now + chrono::Duration::seconds(1), 10, chrono::Duration::seconds(30)).await.unwrap();
    assert_eq!(due_again.iter().map(|d| &d.event_id).collect::<Vec<_>>(), [&due[0].event_id], "sent again with the same event id");

    // Nobody else sees or touches it.
    let mut desk = app.staff("desk@demo.example", "desk").await;
    let token = app.new_clinic("elsewhere", "owner@elsewhere.example", "Asia/Tokyo").await;
    let mut other = app.browser();
    assert_eq!(other.accept(&token, "Other Owner", "far away clinic secret").await.status, 302);
    assert_eq!(desk.get("/admin/webhooks").await.status, 403);
    assert_eq!(other.get(&format!("/admin/webhooks/{id}")).await.status, 404);
    assert_eq!(app.browser().get("/admin/webhooks").await.status, 302, "to sign in");
    for (function, form) in [
        ("admin_delete_webhook", vec![("id", id.as_str())]),
        ("admin_redeliver", vec![("webhook", id.as_str()), ("delivery", delivery.as_str())]),
        ("admin_create_webhook", vec![("url", good), ("events[appointmentCreated]", "on"), ("description", "")]),
    ] {
        assert_eq!(desk.post(function, &form).await.status, 403, "desk {function}");
        if function != "admin_create_webhook" {
            assert_eq!(other.post(function, &form).await.status, 404, "another clinic's owner {function}");
        }
        let mut forged = app.owner().await;
        forged.csrf = "0".repeat(64);
        assert_eq!(forged.post(function, &form).await.status, 403, "forged token {function}");
    }
    assert_eq!(app.store.subscriptions(app.demo_id).await.unwrap().len(), 1);

    let deleted = owner.post("admin_delete_webhook", &[("id", &id)]).await;
    assert_eq!((deleted.status, deleted.location.as_str()), (302, "/admin/webhooks?done=deleted"), "{}", deleted.body);
    assert!(app.store.subscriptions(app.demo_id).await.unwrap().is_empty());
    assert_eq!(owner.post("admin_delete_webhook", &[("id", &id)]).await.status, 404);
    assert_eq!(app.store.audit_log(app.demo_id, 1).await.unwrap()[0].action, "webhook.delete");
}

async fn phone_lines_are_given_to_the_clinics_own_voice_users_and_taken_away(db: TestDb) {
    let app = spawn_app(db).await;
    let mut owner = app.owner().await;
    let page = owner.get("/admin/integrations").await;
    assert!(page.body.contains("demo-sip") && page.body.contains("demo-voice"), "the demo line is listed");
    let voice = owner.post("admin_create_credential", &[("username", "acme-voice"), ("kind", "voice"), ("location", ""), ("expires_in_days", "")]).await;
    assert_eq!(voice.status, 302, "{}", voice.body);
    let given = owner.post("admin_add_voice_line", &[("sip_id", " sip-4930123 "), ("username", "acme-voice")]).await;
    assert_eq!((given.status, given.location.as_str()), (302, "/admin/integrations#lines"), "{}", given.body);
    assert!(owner.get("/admin/integrations").await.body.contains("sip-4930123"));
    assert_eq!(app.count("SELECT COUNT(*) FROM voice_lines WHERE sip_id = 'sip-4930123'").await, 1);

    // Bad input names its field and gives nothing; another clinic's voice user is out of reach.
    let other = store::testing::another_clinic(&app.store, "elsewhere").await;
    app.store.create_credential(other, None, "other-voice", store::credentials::CredentialKind::Voice, None, app.clock.now()).await.unwrap();
    let lines = app.count("SELECT COUNT(*) FROM voice_lines").await;
    for (form, status, field) in [
        ([("sip_id", "sip-4930123"), ("username", "acme-voice")], 422, "sipId"),
        ([("sip_id", "  "), ("username", "acme-voice")], 422, "sipId"),
        ([("sip_id", "sip-2"), ("username", "demo")], 422, "username"),
        ([("sip_id", "sip-2"), ("username", "other-voice")], 404, "credential"),
        ([("sip_id", "sip-2"), ("username", "nobody")], 404, "credential"),
    ] {
        let a = owner.post("admin_add_voice_line", &form).await;
        assert_eq!(a.status, status, "{form:?}: {}", a.body);
        assert!(a.body.contains(field), "{form:?}: {}", a.body);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM voice_lines").await, lines);
    let mut desk = app.staff("desk@demo.example", "desk").await;
    assert_eq!(desk.post("admin_add_voice_line", &[("sip_id", "sip-3"), ("username", "acme-voice")]).await.status, 403);
    assert_eq!(desk.post("admin_remove_voice_line", &[("sip_id", "sip-4930123")]).await.status, 403);
    let anonymous = app.browser();
    assert_eq!(anonymous.call("admin_remove_voice_line", &[("csrf", "x"), ("sip_id", "sip-4930123")], Some(&app.base)).await.status, 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM voice_lines").await, lines);

    // Taken away, the line is no longer answered; another clinic's line cannot be removed.
    app.store.add_voice_line("sip-elsewhere", other, "other-voice", app.clock.now()).await.unwrap();
    assert_eq!(owner.post("admin_remove_voice_line", &[("sip_id", "sip-elsewhere")]).await.status, 404);
    assert_eq!(owner.post("admin_remove_voice_line", &[("sip_id", "sip-4930123")]).await.status, 302);
    assert_eq!(app.count("SELECT COUNT(*) FROM voice_lines WHERE sip_id IN ('sip-4930123', 'sip-elsewhere')").await, 1);
    for action in ["voiceLine.add", "voiceLine.remove"] {
        let sql = format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}' AND actor = '{DEMO_OWNER_EMAIL}'");
        assert_eq!(app.count(&sql).await, 1, "{action}");
    }
}

async fn an_owner_changes_roles_and_disables_accounts_which_ends_their_sessions(db: TestDb) {
    let app = spawn_app(db).await;
    let mut owner = app.owner().await;
    let desk = app.staff("desk@demo.example", "desk").await;
    let mut admin = app.staff("admin@demo.example", "admin").await;
    let desk_id = app.count("SELECT id FROM staff_users WHERE email = 'desk@demo.example'").await.to_string();
    let owner_id = app.count(&format!("SELECT id FROM staff_users WHERE email = '{DEMO_OWNER_EMAIL}'")).await.to_string();
    assert_eq!(desk.get("/admin/settings").await.status, 403);

    // A new role applies from the next request.
    let promoted = owner.post("admin_update_staff", &[("user", &desk_id), ("role", "admin"), ("disabled", "false")]).await;
    assert_eq!((promoted.status, promoted.location.as_str()), (302, "/admin/staff"), "{}", promoted.body);
    assert_eq!(desk.get("/admin/settings").await.status, 200);

    // Bad input names its field and changes nothing; owners do not change themselves here.
    let other_token = app.new_clinic("elsewhere", "owner@elsewhere.example", "Asia/Tokyo").await;
    let mut other = app.browser();
    assert_eq!(other.accept(&other_token, "Other Owner", "far away clinic secret").await.status, 302);
    let other_id = app.count("SELECT id FROM staff_users WHERE email = 'owner@elsewhere.example'").await.to_string();
    let staff_before = app.count("SELECT COUNT(*) FROM staff_users WHERE role = 'admin' AND disabled_at IS NULL").await;
    for (form, status, field) in [
        ([("user", desk_id.as_str()), ("role", "root"), ("disabled", "false")], 422, "role"),
        ([("user", desk_id.as_str()), ("role", "desk"), ("disabled", "maybe")], 422, "disabled"),
        ([("user", "abc"), ("role", "desk"), ("disabled", "false")], 422, "user"),
        ([("user", owner_id.as_str()), ("role", "desk"), ("disabled", "false")], 422, "user"),
        ([("user", "999999"), ("role", "desk"), ("disabled", "false")], 404, "staff member"),
        ([("user", other_id.as_str()), ("role", "desk"), ("disabled", "true")], 404, "staff member"),
    ] {
        let a = owner.post("admin_update_staff", &form).await;
        assert_eq!(a.status, status, "{form:?}: {}", a.body);
        assert!(a.body.contains(field), "{form:?}: {}", a.body);
    }
    assert_eq!(admin.post("admin_update_staff", &[("user", &desk_id), ("role", "desk"), ("disabled", "true")]).await.status, 403, "only owners");
    let anonymous = app.browser();
    let form = [("csrf", "x"), ("user", desk_id.as_str()), ("role", "desk"), ("disabled", "true")];
    assert_eq!(anonymous.call("admin_update_staff", &form, Some(&app.base)).await.status, 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM staff_users WHERE role = 'admin' AND disabled_at IS NULL").await, staff_before);
    assert!(other.get("/admin").await.status == 200, "another clinic's owner is untouched");

    // Disabled: the session ends at once and the password no longer signs in; enabled again,
    // it does.
    assert_eq!(owner.post("admin_update_staff", &[("user", &desk_id), ("role", "admin"), ("disabled", "true")]).await.status, 302);
    assert_eq!(desk.get("/admin").await.status, 302, "signed out everywhere");
    let mut again = app.browser();
    assert_eq!(again.sign_in("desk@demo.example", "a long staff password").await.status, 401);
    assert!(owner.get("/admin/staff").await.body.contains("Disabled"));
    assert_eq!(owner.post("admin_update_staff", &[("user", &desk_id), ("role", "desk"), ("disabled", "false")]).await.status, 302);
    assert_eq!(again.sign_in("desk@demo.example", "a long staff password").await.status, 302);
    assert_eq!(again.get("/admin/settings").await.status, 403, "a desk user again");
    let sql = format!("SELECT COUNT(*) FROM audit_log WHERE action = 'staff.update' AND actor = '{DEMO_OWNER_EMAIL}'");
    assert_eq!(app.count(&sql).await, 3);
}

impl Server {
    /// A patient of the demo clinic booked by a bot with the `provider`th provider at the
    /// booking context's location, starting `minutes` from now (negative: already started),
    /// 20 minutes long: (appointment id, its local day, location id).
    async fn booked(&self, provider: usize, first: &str, minutes: i64) -> (String, String, String) {
        let slug = domain::ClinicSlug::parse(store::DEMO_SLUG).unwrap();
        let ctx = self.store.booking_context(&slug).await.unwrap();
        let now = self.clock.now();
        let details = domain::patient::PersonDetails {
            first_name: Some(domain::patient::PersonName::parse(first).unwrap()),
            last_name: Some(domain::patient::PersonName::parse("Quell").unwrap()),
            birth_date: chrono::NaiveDate::from_ymd_opt(1980, 5, 17),
            ..Default::default()
        };
        let patient = self.store.create_patient(self.demo_id, &details, false, now).await.unwrap();
        let start = chrono::DurationRound::duration_trunc(now, chrono::Duration::minutes(1)).unwrap() + chrono::Duration::minutes(minutes);
        let mut new = store::testing::appointment(self.demo_id, &ctx, ctx.providers[provider].provider_id, start, now);
        new.end = start + chrono::Duration::minutes(20);
        new.booker_id = Some(patient.id);
        new.participant_id = Some(patient.id);
        let booked = self.store.create_appointment(&new).await.unwrap();
        let day = start.with_timezone(&ctx.location.tz).date_naive().to_string();
        (booked.appointment_id.to_string(), day, ctx.location.id.to_string())
    }

    async fn appointment_state(&self, id: &str) -> (String, i64) {
        let status = scalar_text(&self.store, &format!("SELECT status FROM appointments WHERE id = {id}")).await;
        let queue = self.count(&format!("SELECT CAST(COALESCE(queue_number, 0) AS BIGINT) FROM appointments WHERE id = {id}")).await;
        (status, queue)
    }
}

/// The next named event of a Server-Sent Events response (comments and keep-alives skipped),
/// which must come within `within`.
async fn next_event_within(res: &mut reqwest::Response, buf: &mut String, within: std::time::Duration) -> String {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            if let Some(name) = block.lines().find_map(|l| l.strip_prefix("event:")) {
                return name.trim().to_owned();
            }
            continue;
        }
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .unwrap_or_else(|_| panic!("no event within {within:?}"))
            .unwrap()
            .expect("the stream stays open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

async fn next_event(res: &mut reqwest::Response, buf: &mut String) -> String {
    next_event_within(res, buf, std::time::Duration::from_secs(10)).await
}

/// Waits for a `change`, past `sync`s (which also make a desk fetch its view again; a
/// PostgreSQL follower sends one when it starts listening).
async fn next_change_within(res: &mut reqwest::Response, buf: &mut String, within: std::time::Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match next_event_within(res, buf, left).await.as_str() {
            "change" => return,
            "sync" => continue,
            other => panic!("unexpected event {other}"),
        }
    }
}

/// The texts of the elements with `data-testid` = `id` (whose content is plain text).
fn texts(body: &str, id: &str) -> Vec<String> {
    let needle = format!(r#"data-testid="{id}""#);
    body.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &body[at..];
            let open = rest.find('>')? + 1;
            let close = rest[open..].find('<')?;
            Some(rest[open..open + close].to_owned())
        })
        .collect()
}

async fn the_desk_checks_patients_in_and_the_waiting_room_display_shows_their_numbers(db: TestDb) {
    let app = spawn_app(db).await;
    let (anna, day, location) = app.booked(0, "Anna", -10).await;
    let (bruno, _, _) = app.booked(1, "Bruno", -5).await;
    let (clara, _, _) = app.booked(0, "Clara", 30).await;
    let mut desk = app.staff("desk@demo.example", "desk").await;
    let back = format!("/desk?day={day}&location={location}");
    let board = desk.get(&back).await;
    assert_eq!(board.status, 200, "{}", board.body);
    for shown in ["Anna Quell", "Bruno Quell", "Chat bot", "born 1980-05-17", "temporary record", r#"data-live="/desk/events""#] {
        assert!(board.body.contains(shown), "the board shows {shown}: {}", board.body);
    }

    // Check-in: the queue number, large, on the page the desk comes back to.
    let checked = desk.post("desk_status", &[("appointment", &anna), ("to", "checked_in"), ("back", &back)]).await;
    assert_eq!((checked.status, checked.location.clone()), (302, format!("{back}&queued={anna}")), "{}", checked.body);
    assert_eq!(app.appointment_state(&anna).await, ("checked_in".into(), 1));
    let page = desk.get(&checked.location).await;
    assert_eq!(texts(&page.body, "queue-number"), ["1"], "{}", page.body);

    // Display links are the configuring roles' to hand out; the desk's attempt creates none.
    let refused = desk.post("desk_display_create", &[("location", &location), ("label", "Waiting room")]).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM display_links").await, 0);
    let mut owner = app.owner().await;
    let bad = owner.post("desk_display_create", &[("location", "999999"), ("label", "Nowhere")]).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let long = "x".repeat(81);
    let bad = owner.post("desk_display_create", &[("location", &location), ("label", &long)]).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM display_links").await, 0, "refused links are not created");
    let created = owner.post("desk_display_create", &[("location", &location), ("label", "Waiting room")]).await;
    assert_eq!(created.status, 302, "{}", created.body);
    assert!(created.location.starts_with(&format!("/desk/displays?location={location}&key=")), "{}", created.location);
    let key = created.location.rsplit("key=").next().unwrap().to_owned();
    let shown = owner.get(&created.location).await;
    assert!(shown.body.contains(&format!("/desk/display/{location}?key={key}")), "the link is shown once: {}", shown.body);
    assert!(!owner.get("/desk/displays").await.body.contains(&key), "and only once");

    // The display needs no sign-in, shows the number being served and no names.
    let display_path = format!("/desk/display/{location}?key={key}");
    let tv = app.browser();
    let screen = tv.get(&display_path).await;
    assert_eq!(screen.status, 200, "{}", screen.body);
    assert_eq!(texts(&screen.body, "display-now"), ["1"], "{}", screen.body);
    assert!(!screen.body.contains("Quell"), "no names unless the clinic turns them on");
    let named = owner.post("desk_display_create", &[("location", &location), ("label", "Reception"), ("show_names", "on")]).await;
    let named_key = named.location.rsplit("key=").next().unwrap().to_owned();
    let screen = tv.get(&format!("/desk/display/{location}?key={named_key}")).await;
    assert!(screen.body.contains("1 · Anna Q."), "first name and initial when turned on: {}", screen.body);

    // Done: nobody waits any more for that provider.
    let done = desk.post("desk_status", &[("appointment", &anna), ("to", "completed"), ("back", &back)]).await;
    assert_eq!((done.status, done.location.as_str()), (302, back.as_str()), "{}", done.body);
    let screen = tv.get(&display_path).await;
    assert!(!screen.body.contains(r#"data-testid="display-now""#) && screen.body.contains("Nobody waiting"), "{}", screen.body);

    // A no-show after the start; not before it; cancelling needs a reason.
    assert_eq!(desk.post("desk_status", &[("appointment", &bruno), ("to", "no_show"), ("back", &back)]).await.status, 302);
    assert_eq!(app.appointment_state(&bruno).await.0, "no_show");
    let early = desk.post("desk_status", &[("appointment", &clara), ("to", "no_show"), ("back", &back)]).await;
    assert_eq!(early.status, 422, "{}", early.body);
    let unknown = desk.post("desk_status", &[("appointment", &clara), ("to", "cancelled"), ("back", &back)]).await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    let silent = desk.post("desk_cancel", &[("appointment", &clara), ("reason", "  "), ("back", &back)]).await;
    assert_eq!(silent.status, 422, "{}", silent.body);
    assert_eq!(app.appointment_state(&clara).await.0, "booked", "refused changes change nothing");
    let elsewhere = desk.post("desk_cancel", &[("appointment", &clara), ("reason", "Doctor ill"), ("back", "https://evil.example/")]).await;
    assert_eq!((elsewhere.status, elsewhere.location.as_str()), (302, "/desk"), "{}", elsewhere.body);
    assert_eq!(app.appointment_state(&clara).await.0, "cancelled");
    assert_eq!(scalar_text(&app.store, &format!("SELECT cancellation_reason FROM appointments WHERE id = {clara}")).await, "Doctor ill");
    let again = desk.post("desk_cancel", &[("appointment", &clara), ("reason", "twice"), ("back", &back)]).await;
    assert_eq!(again.status, 422, "a cancelled appointment is not cancelled again: {}", again.body);

    // A walk-in, booked now for a provider who is free (Bruno did not come); one for a provider
    // who is busy, or without a name, is refused and leaves no patient behind.
    let provider = app.count(&format!("SELECT provider_id FROM appointments WHERE id = {bruno}")).await.to_string();
    let busy_provider = app.count(&format!("SELECT provider_id FROM appointments WHERE id = {anna}")).await.to_string();
    let product_of = |p: &str| format!("SELECT MIN(pr.id) FROM products pr JOIN provider_services ps ON ps.service_id = pr.service_id WHERE ps.provider_id = {p}");
    let product = app.count(&product_of(&provider)).await.to_string();
    let patients = app.count("SELECT COUNT(*) FROM patients").await;
    let walk_in = |provider: &str, product: &str, last: &'static str| {
        vec![
            ("provider", provider.to_owned()), ("location", location.clone()), ("product", product.to_owned()), ("first_name", "Dora".to_owned()),
            ("last_name", last.to_owned()), ("birth_date", "1990-02-03".to_owned()), ("phone", "030 1234567".to_owned()), ("reason", "".to_owned()),
            ("back", back.clone()),
        ]
    };
    let form = |f: &Vec<(&'static str, String)>| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    for (fields, what) in [
        (walk_in(&provider, &product, ""), "no last name"),
        (walk_in(&busy_provider, &app.count(&product_of(&busy_provider)).await.to_string(), "Quell"), "a busy provider"),
        (walk_in(&provider, "999999", "Quell"), "an unknown appointment type"),
    ] {
        let f = form(&fields);
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let a = desk.post("desk_walk_in", &pairs).await;
        assert!(a.status == 422 || a.status == 404, "{what}: {} {}", a.status, a.body);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, patients, "refused walk-ins leave no patient");
    let f = form(&walk_in(&provider, &product, "Quell"));
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let booked = desk.post("desk_walk_in", &pairs).await;
    assert_eq!((booked.status, booked.location.as_str()), (302, back.as_str()), "{}", booked.body);
    let dora = app.count("SELECT MAX(id) FROM appointments").await.to_string();
    assert_eq!(scalar_text(&app.store, &format!("SELECT source FROM appointments WHERE id = {dora}")).await, "staff");
    assert_eq!(scalar_text(&app.store, &format!("SELECT p.phone FROM appointments a JOIN patients p ON p.id = a.booker_id WHERE a.id = {dora}")).await, "+49301234567");
    assert!(desk.get(&back).await.body.contains("Dora Quell"));
    assert_eq!(desk.post("desk_status", &[("appointment", &dora), ("to", "checked_in"), ("back", &back)]).await.status, 302);
    assert_eq!(app.appointment_state(&dora).await, ("checked_in".into(), 1), "queue numbers count per provider and day");

    // Revoked: the screen shows nothing and its stream opens no more.
    let id = app.count("SELECT MIN(id) FROM display_links").await.to_string();
    assert_eq!(owner.post("desk_display_revoke", &[("link", &id)]).await.status, 302);
    let gone = tv.get(&display_path).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert!(!gone.body.contains("display-now") && gone.body.contains("no longer valid"), "{}", gone.body);
    let events = tv.get(&format!("/desk/display/{location}/events?key={key}")).await;
    assert_eq!(events.status, 401);
    assert_eq!(owner.post("desk_display_revoke", &[("link", &id)]).await.status, 404, "revoked once");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action IN ('display.create', 'display.revoke')").await, 3);
}

async fn the_desk_and_its_streams_show_nothing_without_a_session_to_another_clinic_or_by_a_wrong_link(db: TestDb) {
    let app = spawn_app(db).await;
    let (anna, day, location) = app.booked(0, "Anna", -10).await;
    let stranger = app.browser();
    let page = stranger.get("/desk").await;
    assert_eq!((page.status, page.location.as_str()), (302, "/admin/login?next=%2Fdesk"));
    assert_eq!(stranger.get("/desk/events").await.status, 401);
    let forged = app.http.get(format!("{}/desk/events", app.base)).header("Cookie", "booking_staff=0000").send().await.unwrap();
    assert_eq!(forged.status().as_u16(), 401);

    // Another clinic's owner sees its own (empty) desk, never the demo clinic's.
    let token = app.new_clinic("praxis-nord", "chef@praxis-nord.example", "Europe/Berlin").await;
    let mut other = app.browser();
    assert_eq!(other.accept(&token, "Dr. Nord", "north clinic owner secret").await.status, 302);
    let theirs = other.get(&format!("/desk?day={day}")).await;
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert!(!theirs.body.contains("Anna"), "{}", theirs.body);
    assert_eq!(other.get(&format!("/desk?day={day}&location={location}")).await.status, 404);
    let back = format!("/desk?day={day}");
    assert_eq!(other.post("desk_status", &[("appointment", &anna), ("to", "checked_in"), ("back", &back)]).await.status, 404);
    assert_eq!(other.post("desk_cancel", &[("appointment", &anna), ("reason", "mine now"), ("back", &back)]).await.status, 404);
    assert_eq!(other.post("desk_display_create", &[("location", &location), ("label", "theirs")]).await.status, 422);
    assert_eq!(app.appointment_state(&anna).await, ("booked".into(), 0));

    // Without the session's CSRF token, or from another site: nothing.
    let mut desk = app.staff("desk@demo.example", "desk").await;
    let form = [("csrf", "0".repeat(64)), ("appointment", anna.clone()), ("to", "checked_in".into()), ("back", back.clone())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(desk.call("desk_status", &form, Some(&app.base)).await.status, 403);
    let mut fields = vec![("csrf", desk.csrf.as_str())];
    fields.extend_from_slice(&form[1..]);
    assert_eq!(desk.call("desk_status", &fields, Some("https://evil.example")).await.status, 403);
    assert_eq!(app.appointment_state(&anna).await, ("booked".into(), 0));
    assert_eq!(desk.post("desk_status", &[("appointment", "abc"), ("to", "checked_in"), ("back", &back)]).await.status, 422);

    // Display links: a wrong key, another location's key, no key.
    let mut owner = app.owner().await;
    let created = owner.post("desk_display_create", &[("location", &location), ("label", "Waiting room")]).await;
    let key = created.location.rsplit("key=").next().unwrap().to_owned();
    let singapore = app.count("SELECT id FROM locations WHERE name LIKE 'Singapore%'").await.to_string();
    for path in [
        format!("/desk/display/{location}?key={}", "f".repeat(64)),
        format!("/desk/display/{singapore}?key={key}"),
        format!("/desk/display/{location}"),
        format!("/desk/display/abc?key={key}"),
    ] {
        let a = stranger.get(&path).await;
        assert_eq!(a.status, 404, "{path}: {}", a.body);
        assert!(!a.body.contains("display-board"), "{path}");
    }
    assert_eq!(stranger.get(&format!("/desk/display/{singapore}/events?key={key}")).await.status, 401);
    assert_eq!(stranger.get(&format!("/desk/display/{location}/events")).await.status, 401);
    assert_eq!(other.post("desk_display_revoke", &[("link", "1")]).await.status, 404, "another clinic's link");
    assert_eq!(stranger.get(&format!("/desk/display/{location}?key={key}")).await.status, 200, "still valid");
}

async fn an_open_desk_hears_of_changes_made_on_another_instance(db: TestDb) {
    let url = db.url.clone();
    let app = spawn_app(db).await;
    let desk = app.staff("desk@demo.example", "desk").await;
    let mut stream = desk.with_cookie(app.http.get(format!("{}/desk/events", app.base))).send().await.unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut buf = String::new();
    assert_eq!(next_event(&mut stream, &mut buf).await, "sync", "a new connection first catches up");

    // A second instance on the same database (another process on SQLite, another server on
    // PostgreSQL): its booking and its desk's check-in reach the first instance's desk.
    let other_store = Store::connect(&url).await.unwrap();
    let other_base = serve(other_store.clone(), app.clock).await;
    let (anna, day, location) = Server { base: other_base.clone(), http: app.http.clone(), store: other_store, clock: app.clock, demo_id: app.demo_id }
        .booked(0, "Anna", -10)
        .await;
    // The front desk's promise: on every desk within two seconds.
    next_change_within(&mut stream, &mut buf, std::time::Duration::from_secs(2)).await;
    let mut at_b = desk.clone();
    at_b.base = other_base;
    let back = format!("/desk?day={day}&location={location}");
    assert_eq!(at_b.post("desk_status", &[("appointment", &anna), ("to", "checked_in"), ("back", &back)]).await.status, 302);
    next_change_within(&mut stream, &mut buf, std::time::Duration::from_secs(10)).await;
    // What the desk fetches on that event shows the change.
    assert_eq!(texts(&desk.get(&back).await.body, "visit-queue"), ["Queue number 1"]);
}

/// The links of a page that start with `prefix`, as a browser follows them.
fn links(body: &str, prefix: &str) -> Vec<String> {
    let needle = format!(r#"href="{prefix}"#);
    body.match_indices(&needle)
        .map(|(at, _)| {
            let rest = &body[at + 6..];
            rest[..rest.find('"').unwrap()].replace("&amp;", "&")
        })
        .collect()
}

impl Server {
    /// A patient of `clinic` on file (registered or not): their id.
    async fn on_file(&self, clinic: i64, first: &str, last: &str, born: (i32, u32, u32), phone: Option<&str>, registered: bool) -> String {
        let details = domain::patient::PersonDetails {
            first_name: Some(domain::patient::PersonName::parse(first).unwrap()),
            last_name: Some(domain::patient::PersonName::parse(last).unwrap()),
            birth_date: chrono::NaiveDate::from_ymd_opt(born.0, born.1, born.2),
            phone: phone.map(|p| domain::patient::Phone::parse(p, None).unwrap()),
            ..Default::default()
        };
        self.store.create_patient(clinic, &details, registered, self.clock.now()).await.unwrap().id.to_string()
    }
}

async fn the_desk_books_a_later_time_for_a_patient_it_finds_and_moves_it_with_the_patients_picker(db: TestDb) {
    let app = spawn_app(db).await;
    let older = app.on_file(app.demo_id, "Greta", "Lind", (1970, 1, 1), None, true).await;
    let younger = app.on_file(app.demo_id, "Greta", "Lind", (1985, 6, 15), Some("+49 30 7654321"), false).await;
    let mut desk = app.staff("desk@demo.example", "desk").await;

    // The picker offers the patients' times; each leads to choosing the patient.
    let picker = desk.get("/desk/book").await;
    assert_eq!(picker.status, 200, "{}", picker.body);
    let times = links(&picker.body, "/desk/book/patient?slot=");
    assert!(times.len() >= 3, "free times are offered: {}", picker.body);
    // The desk may look at any day; one patients cannot book opens the picker's first view.
    for outside in ["/desk/book?date=2099-01-01", "/desk/book?date=2000-01-01&location=1", "/desk/book?month=2099-01"] {
        let page = desk.get(outside).await;
        assert_eq!(page.status, 200, "{outside}: {}", page.body);
        assert_eq!(links(&page.body, "/desk/book/patient?slot=").first(), times.first(), "{outside}");
    }
    assert_eq!(desk.get("/desk/book?date=garbage").await.status, 422, "a malformed date is still refused");
    let page = desk.get(&times[0]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains(r#"data-testid="chosen""#), "nobody is chosen before the desk chooses");
    let slot = slot_of(&times[0]);

    // Namesakes are both shown, told apart, and flagged; nothing is picked for the desk.
    let search = |q: &str| format!("{}&{q}", times[0]);
    let both = desk.get(&search("name=greta+LIND")).await;
    assert_eq!(texts(&both.body, "namesake").len(), 2, "{}", both.body);
    assert!(both.body.contains("born 1970-01-01") && both.body.contains("born 1985-06-15") && both.body.contains("+49307654321"), "{}", both.body);
    assert!(!both.body.contains(r#"data-testid="chosen""#));
    assert_eq!(desk.get(&search("name=Lind")).await.body.matches(r#"data-testid="match""#).count(), 2, "one word: a first or a last name");
    let one = desk.get(&search("name=Greta+Lind&birth=1985-06-15")).await;
    assert_eq!(one.body.matches(r#"data-testid="match""#).count(), 1, "{}", one.body);
    assert_eq!(desk.get(&search("phone=030+7654321")).await.body.matches(r#"data-testid="match""#).count(), 1, "the phone is read in the location's country");
    assert!(desk.get(&search("name=Nobody+Here")).await.body.contains(r#"data-testid="no-matches""#));
    for bad in ["birth=1985-13-45", "phone=abc", "patient=abc"] {
        assert_eq!(desk.get(&search(bad)).await.status, 422, "{bad}");
    }
    assert_eq!(desk.get("/desk/book/patient?slot=garbage").await.status, 422);
    let chosen = desk.get(&search(&format!("name=Greta+Lind&patient={younger}"))).await;
    assert_eq!(texts(&chosen.body, "chosen-name"), ["Greta Lind"], "{}", chosen.body);
    assert!(chosen.body.contains("born 1985-06-15"));

    // Another clinic's patient cannot be chosen or booked here.
    app.new_clinic("praxis-nord", "chef@praxis-nord.example", "Europe/Berlin").await;
    let north = app.count("SELECT id FROM clinics WHERE slug = 'praxis-nord'").await;
    let foreign = app.on_file(north, "Greta", "Lind", (1970, 1, 1), None, true).await;
    assert_eq!(desk.get(&search(&format!("patient={foreign}"))).await.status, 404);
    assert_eq!(texts(&desk.get(&search("name=Greta+Lind")).await.body, "namesake").len(), 2, "the other clinic's Greta is not listed");
    let appointments = app.count("SELECT COUNT(*) FROM appointments").await;
    let refused = desk.post("desk_book", &[("slot", &slot), ("patient", &foreign)]).await;
    assert_eq!(refused.status, 404, "{}", refused.body);

    // Booked for the chosen patient, by the desk, at the chosen time.
    let booked = desk.post("desk_book", &[("slot", &slot), ("patient", &younger), ("reason", "Called in")]).await;
    assert_eq!(booked.status, 302, "{}", booked.body);
    assert!(booked.location.starts_with("/desk?day="), "{}", booked.location);
    let id = app.count("SELECT MAX(id) FROM appointments").await.to_string();
    assert_eq!(app.count(&format!("SELECT booker_id FROM appointments WHERE id = {id}")).await.to_string(), younger);
    assert_eq!(scalar_text(&app.store, &format!("SELECT source FROM appointments WHERE id = {id}")).await, "staff");
    assert!(desk.get(&booked.location).await.body.contains("Called in"));

    // The same time again, a forged slot, a nameless new patient: refused, nothing written.
    let patients = app.count("SELECT COUNT(*) FROM patients").await;
    for (form, status) in [
        (vec![("slot", slot.as_str()), ("patient", older.as_str())], 422),
        (vec![("slot", slot.as_str()), ("first_name", "Hugo"), ("last_name", "Brand")], 422),
        (vec![("slot", "garbage"), ("patient", older.as_str())], 422),
        (vec![("slot", slot_of(&times[1]).as_str()), ("first_name", "Hugo"), ("last_name", "")], 422),
        (vec![("slot", ""), ("patient", older.as_str())], 422),
    ] {
        let a = desk.post("desk_book", &form).await;
        assert_eq!(a.status, status, "{form:?}: {}", a.body);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, patients, "refused bookings leave no patient");
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments").await, appointments + 1);

    // A new patient at another time gets a temporary record, which the desk then registers.
    // The picker, read again, offers only what is still free.
    let other_slot = slot_of(&links(&desk.get("/desk/book").await.body, "/desk/book/patient?slot=")[0]);
    assert_ne!(other_slot, slot);
    let new = desk.post("desk_book", &[("slot", &other_slot), ("first_name", "Hugo"), ("last_name", "Brand"), ("phone", "030 5550000")]).await;
    assert_eq!(new.status, 302, "{}", new.body);
    let hugo = app.count("SELECT MAX(id) FROM patients").await.to_string();
    assert_eq!(scalar_text(&app.store, &format!("SELECT phone FROM patients WHERE id = {hugo}")).await, "+49305550000");
    let board = desk.get(&new.location).await;
    assert_eq!(board.body.matches(r#"data-testid="register""#).count(), 2, "Greta's and Hugo's records are temporary: {}", board.body);
    let back = new.location.clone();
    let registered = desk.post("desk_register", &[("patient", &hugo), ("back", &back)]).await;
    assert_eq!((registered.status, registered.location.as_str()), (302, back.as_str()), "{}", registered.body);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM patients WHERE id = {hugo} AND registered")).await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'patientCreated'").await, 1);
    assert_eq!(desk.post("desk_register", &[("patient", &hugo), ("back", &back)]).await.status, 422, "registered once");
    assert_eq!(desk.post("desk_register", &[("patient", &foreign), ("back", &back)]).await.status, 404);

    // Moving: the same picker, fixed to the appointment's type, then a confirmation.
    let moving = desk.get(&format!("/desk/reschedule/{id}")).await;
    assert_eq!(moving.status, 200, "{}", moving.body);
    assert!(moving.body.contains(r#"data-testid="moving""#) && moving.body.contains("Greta Lind"), "{}", moving.body);
    let choices = links(&moving.body, &format!("/desk/reschedule/{id}/confirm?slot="));
    let target = choices.iter().find(|l| slot_of(l) != slot).expect("another time").clone();
    let confirm = desk.get(&target).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert_eq!(texts(&confirm.body, "new-time").len(), 1);
    let new_slot = slot_of(&target);
    let before = scalar_text(&app.store, &format!("SELECT CAST(starts_at AS TEXT) FROM appointments WHERE id = {id}")).await;
    let moved = desk.post("desk_reschedule", &[("appointment", &id), ("slot", &new_slot)]).await;
    assert_eq!(moved.status, 302, "{}", moved.body);
    assert!(moved.location.starts_with("/desk?day="), "{}", moved.location);
    assert_ne!(scalar_text(&app.store, &format!("SELECT CAST(starts_at AS TEXT) FROM appointments WHERE id = {id}")).await, before);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'appointmentRescheduled' AND payload LIKE '%\"source\":\"staff\"%'").await, 1);
    // The time it left is free again; one just taken sends the desk back to the picker.
    let taken = desk.post("desk_reschedule", &[("appointment", &id), ("slot", &other_slot)]).await;
    assert_eq!(taken.status, 302, "{}", taken.body);
    assert!(taken.location.starts_with(&format!("/desk/reschedule/{id}?date=")) && taken.location.contains("taken="), "{}", taken.location);
    assert_eq!(desk.get(&taken.location).await.status, 200);

    // Refused moves: a cancelled appointment, a forged slot, another clinic's desk.
    assert_eq!(desk.post("desk_reschedule", &[("appointment", &id), ("slot", "garbage")]).await.status, 422);
    let mut other = app.browser();
    let token = app.new_clinic("praxis-sued", "chef@praxis-sued.example", "Europe/Berlin").await;
    assert_eq!(other.accept(&token, "Dr. Süd", "south clinic owner secret").await.status, 302);
    assert_eq!(other.get(&format!("/desk/reschedule/{id}")).await.status, 404);
    assert_eq!(other.get(&format!("/desk/reschedule/{id}/confirm?slot={}", other_slot)).await.status, 404);
    assert_eq!(other.post("desk_reschedule", &[("appointment", &id), ("slot", &slot)]).await.status, 404);
    assert_eq!(other.post("desk_book", &[("slot", &slot), ("patient", &older)]).await.status, 404, "the slot is not theirs");
    assert_eq!(other.post("desk_register", &[("patient", &younger), ("back", "/desk")]).await.status, 404);
    assert_eq!(desk.post("desk_cancel", &[("appointment", &id), ("reason", "Moved away"), ("back", "/desk")]).await.status, 302);
    assert_eq!(desk.get(&format!("/desk/reschedule/{id}")).await.status, 422, "a cancelled appointment is not moved");
    assert_eq!(desk.post("desk_reschedule", &[("appointment", &id), ("slot", &slot)]).await.status, 422);
    assert_eq!(app.browser().get("/desk/book").await.location, "/admin/login?next=%2Fdesk%2Fbook");

    // A walk-in for a patient on file: the type is chosen on the patient page.
    let (ida, day, location) = app.booked(1, "Ida", -60).await;
    let provider = app.count(&format!("SELECT provider_id FROM appointments WHERE id = {ida}")).await.to_string();
    let walk_in = desk.get(&format!("/desk/book/patient?walk_in=1&provider={provider}&location={location}&name=Greta+Lind&patient={older}")).await;
    assert_eq!(walk_in.status, 200, "{}", walk_in.body);
    assert!(walk_in.body.contains(r#"id="chosen-product""#), "{}", walk_in.body);
    let product = app.count(&format!("SELECT MIN(pr.id) FROM products pr JOIN provider_services ps ON ps.service_id = pr.service_id WHERE ps.provider_id = {provider}")).await.to_string();
    let now = desk.post("desk_book", &[("walk_in", "1"), ("provider", &provider), ("location", &location), ("product", &product), ("patient", &older)]).await;
    assert_eq!((now.status, now.location.clone()), (302, format!("/desk?day={day}&location={location}")), "{}", now.body);
    let walked = app.count("SELECT MAX(id) FROM appointments").await;
    assert_eq!(app.count(&format!("SELECT booker_id FROM appointments WHERE id = {walked}")).await.to_string(), older);
}

/// The slot id a time link carries (URL-safe already).
fn slot_of(link: &str) -> String {
    link.split("slot=").nth(1).unwrap().split('&').next().unwrap().to_owned()
}

on_both_backends!(
    an_owner_changes_roles_and_disables_accounts_which_ends_their_sessions,
    phone_lines_are_given_to_the_clinics_own_voice_users_and_taken_away,
    an_admin_allows_websites_which_alone_may_then_frame_the_widget,
    api_users_are_created_rotated_and_revoked_with_each_key_shown_once,
    a_new_clinic_owner_follows_the_setup_link_and_signs_in,
    signing_in_and_out_starts_and_ends_a_server_side_session,
    failed_sign_ins_lock_the_account_for_a_while_even_with_the_right_password,
    changes_without_the_csrf_token_or_from_another_site_change_nothing,
    the_settings_form_refuses_bad_values_naming_the_field_and_saves_nothing,
    roles_and_clinics_bound_what_staff_can_see_and_change,
    an_owner_invites_staff_with_a_one_time_link_and_sees_who_changed_what,
    a_password_change_needs_the_current_password_and_ends_other_sessions,
    the_root_leads_to_the_only_clinic_then_to_sign_in,
    a_new_clinic_builds_its_catalogue_in_the_console,
    catalogue_forms_refuse_bad_input_naming_the_field_and_save_nothing,
    archived_entries_leave_booking_and_booked_ones_cannot_be_deleted,
    only_the_clinics_own_configuring_staff_may_touch_its_catalogue,
    working_hours_are_edited_in_the_console_and_bad_rules_are_refused_naming_the_field,
    an_hours_change_that_strands_an_appointment_lists_it_first_then_keeps_it_booked_and_flagged,
    webhook_subscriptions_are_managed_in_the_console_with_the_secret_shown_once_and_deliveries_sent_again,
    the_desk_checks_patients_in_and_the_waiting_room_display_shows_their_numbers,
    the_desk_and_its_streams_show_nothing_without_a_session_to_another_clinic_or_by_a_wrong_link,
    an_open_desk_hears_of_changes_made_on_another_instance,
    the_desk_books_a_later_time_for_a_patient_it_finds_and_moves_it_with_the_patients_picker,
);
