//! The widget's words in each language. Every text a patient reads comes from here; dates are
//! formatted here too (chrono's locale support would put its tables into the browser bundle).

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    En,
    De,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::De];

    /// A patient detail's label, as the form shows it.
    pub fn field_label(self, field: domain::patient::PatientField) -> &'static str {
        use domain::patient::PatientField as F;
        self.t(match field {
            F::FirstName => Msg::FieldFirstName,
            F::LastName => Msg::FieldLastName,
            F::Phone => Msg::FieldPhone,
            F::Email => Msg::FieldEmail,
            F::BirthDate => Msg::FieldBirthDate,
            F::Street => Msg::FieldStreet,
            F::Zip => Msg::FieldZip,
            F::City => Msg::FieldCity,
            F::Country => Msg::FieldCountry,
            F::NationalId => Msg::FieldNationalId,
        })
    }

    /// What to do about a refused patient detail: fill it in, or what it must look like.
    pub fn field_hint(self, field: domain::patient::PatientField, missing: bool) -> &'static str {
        use domain::patient::PatientField as F;
        self.t(match (missing, field) {
            (true, _) => Msg::Required,
            (_, F::Phone) => Msg::InvalidPhone,
            (_, F::Email) => Msg::InvalidEmail,
            (_, F::BirthDate) => Msg::InvalidDate,
            (_, F::FirstName | F::LastName) => Msg::InvalidName,
            _ => Msg::TooLong,
        })
    }

    /// `en`, `de`, also `de-DE` / `en_GB`; anything else is `None`.
    pub fn parse(raw: &str) -> Option<Locale> {
        let primary = raw.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Locale::En),
            "de" => Some(Locale::De),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::De => "Deutsch",
        }
    }

    fn pick(self, en: &'static str, de: &'static str) -> &'static str {
        match self {
            Locale::En => en,
            Locale::De => de,
        }
    }

    pub fn t(self, key: Msg) -> &'static str {
        use Msg::*;
        match key {
            PageTitle => self.pick("Book an appointment", "Termin buchen"),
            Location => self.pick("Location", "Standort"),
            Service => self.pick("Service", "Leistung"),
            Duration => self.pick("Appointment type", "Terminart"),
            Provider => self.pick("With", "Bei"),
            AnyProvider => self.pick("Any available", "Beliebig"),
            ChooseDay => self.pick("Choose a day", "Tag wählen"),
            ChooseTime => self.pick("Choose a time", "Uhrzeit wählen"),
            PreviousMonth => self.pick("Previous month", "Vorheriger Monat"),
            NextMonth => self.pick("Next month", "Nächster Monat"),
            NextAvailable => self.pick("Next available day", "Nächster freier Tag"),
            NoTimesThisDay => self.pick("No free times on this day.", "An diesem Tag sind keine Termine frei."),
            NoTimesSoon => self.pick(
                "There are no free times in the next three months. Please look at later months.",
                "In den nächsten drei Monaten sind keine Termine frei. Bitte sehen Sie in späteren Monaten nach.",
            ),
            NoTimesAtAll => self.pick(
                "There are no free times in the booking period. Please call the clinic.",
                "Im Buchungszeitraum sind keine Termine frei. Bitte rufen Sie die Praxis an.",
            ),
            Morning => self.pick("Morning", "Vormittag"),
            Afternoon => self.pick("Afternoon", "Nachmittag"),
            Evening => self.pick("Evening", "Abend"),
            TimesIn => self.pick("Times are shown in the clinic's time zone:", "Zeiten in der Zeitzone der Praxis:"),
            YourZone => self.pick("Your time zone is", "Ihre Zeitzone ist"),
            Loading => self.pick("Loading…", "Wird geladen…"),
            JustTaken => self.pick(
                "Sorry, that time was just taken by someone else. These times are close to it:",
                "Dieser Termin wurde gerade vergeben. Diese Zeiten liegen in der Nähe:",
            ),
            NoAlternatives => self.pick("No nearby times are free.", "In der Nähe ist nichts frei."),
            YourDetails => self.pick("Your details", "Ihre Angaben"),
            HeldUntil => self.pick("We hold this time for you until", "Wir halten diesen Termin für Sie frei bis"),
            ForSomeoneElse => self.pick("I am booking for someone else", "Ich buche für eine andere Person"),
            ForSomeoneElseHint => self.pick(
                "Fill this in only if the appointment is for someone else.",
                "Nur ausfüllen, wenn der Termin für eine andere Person ist.",
            ),
            Attendee => self.pick("Who attends", "Wer kommt zum Termin"),
            Confirm => self.pick("Confirm booking", "Termin verbindlich buchen"),
            Booking => self.pick("Booking…", "Wird gebucht…"),
            ChangeTime => self.pick("Choose another time", "Andere Zeit wählen"),
            HoldExpired => self.pick(
                "We could not hold this time any longer. Please choose a time again.",
                "Wir konnten diese Zeit nicht länger freihalten. Bitte wählen Sie erneut.",
            ),
            Booked => self.pick("Your appointment is booked", "Ihr Termin ist gebucht"),
            Rescheduled => self.pick("Your appointment was moved", "Ihr Termin wurde verschoben"),
            Cancelled => self.pick("Your appointment is cancelled", "Ihr Termin ist storniert"),
            YourAppointment => self.pick("Your appointment", "Ihr Termin"),
            What => self.pick("What", "Was"),
            Who => self.pick("Who", "Wer"),
            With => self.pick("With", "Bei"),
            Where => self.pick("Where", "Wo"),
            When => self.pick("When", "Wann"),
            Reference => self.pick("Reference", "Buchungsnummer"),
            Status => self.pick("Status", "Status"),
            AddToCalendar => self.pick("Add to calendar (.ics)", "Zum Kalender hinzufügen (.ics)"),
            KeepLink => self.pick(
                "Keep this page's link: it lets you reschedule or cancel. Do not share it.",
                "Bewahren Sie den Link dieser Seite auf: Damit können Sie verschieben oder stornieren. Nicht weitergeben.",
            ),
            ManageLink => self.pick("Your manage link", "Ihr Verwaltungslink"),
            Reschedule => self.pick("Reschedule", "Verschieben"),
            Cancel => self.pick("Cancel appointment", "Termin stornieren"),
            CancelReason => self.pick("Reason (optional)", "Grund (optional)"),
            Cancelling => self.pick("Cancelling…", "Wird storniert…"),
            TooLate => self.pick(
                "It is too late to change this appointment online. Please call the clinic.",
                "Dieser Termin kann online nicht mehr geändert werden. Bitte rufen Sie die Praxis an.",
            ),
            CutoffRule => self.pick(
                "Changes are possible online up to this many hours before the start:",
                "Online-Änderungen sind bis so viele Stunden vor Beginn möglich:",
            ),
            ReminderOn => self.pick(
                "We will e-mail you a reminder before the appointment.",
                "Wir erinnern Sie vor dem Termin per E-Mail.",
            ),
            ReminderOff => self.pick("You will not get a reminder e-mail.", "Sie erhalten keine Erinnerung per E-Mail."),
            TurnReminderOff => self.pick("No reminder, please", "Keine Erinnerung senden"),
            TurnReminderOn => self.pick("Send me a reminder", "Erinnerung senden"),
            ReminderTurnedOff => self.pick("The reminder is off", "Die Erinnerung ist abgeschaltet"),
            ReminderTurnedOn => self.pick("The reminder is on", "Die Erinnerung ist eingeschaltet"),
            NewTime => self.pick("New time", "Neue Zeit"),
            OldTime => self.pick("Current time", "Bisherige Zeit"),
            ConfirmReschedule => self.pick("Move my appointment", "Termin verschieben"),
            Moving => self.pick("Moving…", "Wird verschoben…"),
            BackToAppointment => self.pick("Back to my appointment", "Zurück zu meinem Termin"),
            LinkInvalid => self.pick(
                "This link is not valid. Please use the link from your booking confirmation.",
                "Dieser Link ist ungültig. Bitte verwenden Sie den Link aus Ihrer Buchungsbestätigung.",
            ),
            LinkExpired => self.pick(
                "This link has expired because the appointment is over.",
                "Dieser Link ist abgelaufen, da der Termin vorbei ist.",
            ),
            NotFound => self.pick("We could not find this clinic. Please check the link.", "Diese Praxis wurde nicht gefunden. Bitte prüfen Sie den Link."),
            Unavailable => self.pick(
                "Booking is unavailable right now. Please try again in a moment.",
                "Die Buchung ist gerade nicht möglich. Bitte versuchen Sie es gleich noch einmal.",
            ),
            StartOver => self.pick("Start over", "Neu beginnen"),
            SignedOut => self.pick("Please sign in again.", "Bitte melden Sie sich erneut an."),
            Forbidden => self.pick(
                "This request was refused. Reload the page and try again; some pages are only for owners or admins.",
                "Diese Anfrage wurde abgelehnt. Laden Sie die Seite neu; manche Seiten sind nur für Inhaber oder Admins.",
            ),
            SignInRefused => self.pick("The e-mail address or the password is wrong.", "E-Mail-Adresse oder Passwort ist falsch."),
            Throttled => self.pick(
                "Too many failed attempts. Please wait before trying again; minutes left:",
                "Zu viele Fehlversuche. Bitte warten Sie, bevor Sie es erneut versuchen; verbleibende Minuten:",
            ),
            Busy => self.pick(
                "Too many requests right now. Please wait a minute and try again.",
                "Gerade gibt es zu viele Anfragen. Bitte warten Sie eine Minute und versuchen Sie es erneut.",
            ),
            CheckField => self.pick("Please check this field", "Bitte prüfen Sie dieses Feld"),
            Required => self.pick("This field is required.", "Dieses Feld ist erforderlich."),
            InvalidPhone => self.pick(
                "Please check the number (every digit, and the country code such as +44 for a number from abroad).",
                "Bitte prüfen Sie die Nummer (alle Ziffern, bei ausländischen Nummern mit Ländervorwahl wie +44).",
            ),
            InvalidEmail => self.pick("Please enter an e-mail address like name@example.org.", "Bitte eine E-Mail-Adresse wie name@example.org angeben."),
            InvalidDate => self.pick("Please enter a real date of birth.", "Bitte ein gültiges Geburtsdatum angeben."),
            InvalidName => self.pick("Please enter a name (letters, up to 100 characters).", "Bitte einen Namen angeben (Buchstaben, höchstens 100 Zeichen)."),
            TooLong => self.pick("This is too long.", "Dieser Text ist zu lang."),
            Language => self.pick("Language", "Sprache"),
            Minutes => self.pick("min", "Min."),
            StatusBooked => self.pick("Booked", "Gebucht"),
            StatusCancelled => self.pick("Cancelled", "Storniert"),
            StatusOther => self.pick("Closed", "Abgeschlossen"),
            FieldFirstName => self.pick("First name", "Vorname"),
            FieldLastName => self.pick("Last name", "Nachname"),
            FieldPhone => self.pick("Mobile phone", "Mobiltelefon"),
            FieldEmail => self.pick("E-mail", "E-Mail"),
            FieldBirthDate => self.pick("Date of birth", "Geburtsdatum"),
            FieldStreet => self.pick("Street and number", "Straße und Hausnummer"),
            FieldZip => self.pick("Postcode", "PLZ"),
            FieldCity => self.pick("City", "Ort"),
            FieldCountry => self.pick("Country", "Land"),
            FieldNationalId => self.pick("Insurance or ID number", "Versicherten- oder Ausweisnummer"),
        }
    }

    pub fn month_name(self, month: u32) -> &'static str {
        const EN: [&str; 12] = [
            "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
            "November", "December",
        ];
        const DE: [&str; 12] = [
            "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
            "November", "Dezember",
        ];
        let i = (month.clamp(1, 12) - 1) as usize;
        match self {
            Locale::En => EN[i],
            Locale::De => DE[i],
        }
    }

    pub fn weekday_name(self, day: Weekday) -> &'static str {
        const EN: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
        const DE: [&str; 7] = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"];
        let i = day.num_days_from_monday() as usize;
        match self {
            Locale::En => EN[i],
            Locale::De => DE[i],
        }
    }

    pub fn weekday_short(self, day: Weekday) -> &'static str {
        const EN: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
        const DE: [&str; 7] = ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"];
        let i = day.num_days_from_monday() as usize;
        match self {
            Locale::En => EN[i],
            Locale::De => DE[i],
        }
    }

    /// "Monday, 23 November 2026" / "Montag, 23. November 2026".
    pub fn long_date(self, date: NaiveDate) -> String {
        let (weekday, month) = (self.weekday_name(date.weekday()), self.month_name(date.month()));
        match self {
            Locale::En => format!("{weekday}, {} {month} {}", date.day(), date.year()),
            Locale::De => format!("{weekday}, {}. {month} {}", date.day(), date.year()),
        }
    }

    /// "November 2026".
    pub fn month_label(self, year: i32, month: u32) -> String {
        format!("{} {year}", self.month_name(month))
    }

    /// A time of day: "14:30" in both languages ("14:30 Uhr" reads oddly in lists).
    pub fn time(self, hour: u32, minute: u32) -> String {
        format!("{hour:02}:{minute:02}")
    }

    /// A price in euro cents: "€45.00" / "45,00 €".
    pub fn price(self, cents: i64) -> String {
        let (whole, frac) = (cents / 100, (cents % 100).abs());
        match self {
            Locale::En => format!("€{whole}.{frac:02}"),
            Locale::De => format!("{whole},{frac:02} €"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    PageTitle,
    SignedOut,
    Forbidden,
    SignInRefused,
    Throttled,
    Busy,
    Location,
    Service,
    Duration,
    Provider,
    AnyProvider,
    ChooseDay,
    ChooseTime,
    PreviousMonth,
    NextMonth,
    NextAvailable,
    NoTimesThisDay,
    NoTimesAtAll,
    NoTimesSoon,
    Morning,
    Afternoon,
    Evening,
    TimesIn,
    YourZone,
    Loading,
    JustTaken,
    NoAlternatives,
    YourDetails,
    HeldUntil,
    ForSomeoneElse,
    ForSomeoneElseHint,
    Attendee,
    Confirm,
    Booking,
    ChangeTime,
    HoldExpired,
    Booked,
    Rescheduled,
    Cancelled,
    YourAppointment,
    What,
    Who,
    With,
    Where,
    When,
    Reference,
    Status,
    AddToCalendar,
    KeepLink,
    ManageLink,
    Reschedule,
    Cancel,
    CancelReason,
    Cancelling,
    TooLate,
    CutoffRule,
    ReminderOn,
    ReminderOff,
    TurnReminderOff,
    TurnReminderOn,
    ReminderTurnedOff,
    ReminderTurnedOn,
    NewTime,
    OldTime,
    ConfirmReschedule,
    Moving,
    BackToAppointment,
    LinkInvalid,
    LinkExpired,
    NotFound,
    Unavailable,
    StartOver,
    CheckField,
    Required,
    InvalidPhone,
    InvalidEmail,
    InvalidDate,
    InvalidName,
    TooLong,
    Language,
    Minutes,
    StatusBooked,
    StatusCancelled,
    StatusOther,
    FieldFirstName,
    FieldLastName,
    FieldPhone,
    FieldEmail,
    FieldBirthDate,
    FieldStreet,
    FieldZip,
    FieldCity,
    FieldCountry,
    FieldNationalId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_parse_from_tags_and_refuse_unknown_languages() {
        assert_eq!(Locale::parse("de-DE"), Some(Locale::De));
        assert_eq!(Locale::parse("EN_gb"), Some(Locale::En));
        assert_eq!(Locale::parse("fr"), None);
        assert_eq!(Locale::parse(""), None);
    }

    #[test]
    fn german_dates_read_the_german_way() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(Locale::De.long_date(d), "Montag, 23. November 2026");
        assert_eq!(Locale::En.long_date(d), "Monday, 23 November 2026");
        assert_eq!(Locale::De.month_label(2026, 3), "März 2026");
        assert_eq!(Locale::De.price(4500), "45,00 €");
    }
}
