use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where an appointment is in its life. The allowed moves live in `transition` and nowhere
/// else: every client (widget, bot API, voice bot, staff) goes through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Pending,
    Booked,
    CheckedIn,
    Completed,
    Cancelled,
    NoShow,
}

impl AppointmentStatus {
    pub const ALL: [AppointmentStatus; 6] = [
        Self::Pending,
        Self::Booked,
        Self::CheckedIn,
        Self::Completed,
        Self::Cancelled,
        Self::NoShow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Booked => "booked",
            Self::CheckedIn => "checked_in",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::NoShow => "no_show",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| DomainError::invalid("status", format!("{raw:?} is not an appointment status")))
    }

    /// Whether the appointment occupies its provider's time. Cancelled and no-show
    /// appointments free it; a completed one keeps it (the time was used).
    pub fn occupies_time(self) -> bool {
        !matches!(self, Self::Cancelled | Self::NoShow)
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled | Self::NoShow)
    }

    /// Checks the move `self -> to`: pending -> booked -> checked_in -> completed, and
    /// cancelled / no_show from the states where that still makes sense.
    pub fn transition(self, to: AppointmentStatus) -> Result<AppointmentStatus, DomainError> {
        use AppointmentStatus::*;
        let allowed = matches!(
            (self, to),
            (Pending, Booked)
                | (Pending, Cancelled)
                | (Booked, CheckedIn)
                | (Booked, Cancelled)
                | (Booked, NoShow)
                | (CheckedIn, Completed)
                | (CheckedIn, Cancelled)
        );
        if allowed {
            Ok(to)
        } else {
            Err(DomainError::invalid("status", format!("an appointment that is {self} cannot become {to}")))
        }
    }
}

impl fmt::Display for AppointmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which client made a change; kept on the appointment and in every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingSource {
    Widget,
    BotApi,
    VoiceBot,
    Staff,
}

impl BookingSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Widget => "widget",
            Self::BotApi => "bot_api",
            Self::VoiceBot => "voice_bot",
            Self::Staff => "staff",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        [Self::Widget, Self::BotApi, Self::VoiceBot, Self::Staff]
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| DomainError::invalid("source", format!("{raw:?} is not a booking source")))
    }
}

#[cfg(test)]
mod tests {
    use super::AppointmentStatus::*;
    use super::*;

    #[test]
    fn the_forward_path_pending_booked_checked_in_completed_is_allowed() {
        assert_eq!(Pending.transition(Booked), Ok(Booked));
        assert_eq!(Booked.transition(CheckedIn), Ok(CheckedIn));
        assert_eq!(CheckedIn.transition(Completed), Ok(Completed));
    }

    #[test]
    fn final_states_cannot_change_any_more() {
        for from in [Completed, Cancelled, NoShow] {
            assert!(from.is_final());
            for to in AppointmentStatus::ALL {
                assert!(from.transition(to).is_err(), "{from} -> {to} must be refused");
            }
        }
    }

    #[test]
    fn skipping_a_step_or_going_back_is_refused() {
        for (from, to) in [(Pending, CheckedIn), (Pending, Completed), (Booked, Completed), (CheckedIn, Booked), (Booked, Pending), (Pending, NoShow)] {
            assert!(from.transition(to).is_err(), "{from} -> {to} must be refused");
        }
    }

    #[test]
    fn statuses_round_trip_through_their_stored_names_and_garbage_is_refused() {
        for s in AppointmentStatus::ALL {
            assert_eq!(AppointmentStatus::parse(s.as_str()), Ok(s));
        }
        assert!(AppointmentStatus::parse("BOOKED").is_err());
        assert!(AppointmentStatus::parse("").is_err());
    }

    #[test]
    fn only_cancelled_and_no_show_free_the_time() {
        let freeing: Vec<_> = AppointmentStatus::ALL.into_iter().filter(|s| !s.occupies_time()).collect();
        assert_eq!(freeing, vec![Cancelled, NoShow]);
    }
}
