-- The overlap guard looked at every appointment of the provider that starts before the new
-- one ends: under a year of bookings, each insert read thousands of index entries. No
-- appointment lasts longer than a day (the guard now refuses one that would), so only those
-- starting less than a day before the new one can overlap it: a bounded range of the
-- (provider_id, starts_at) index. Instants are INTEGER seconds.
DROP TRIGGER appointments_no_overlap_insert;
DROP TRIGGER appointments_no_overlap_update;

CREATE TRIGGER appointments_no_overlap_insert BEFORE INSERT ON appointments
WHEN NEW.status IN ('pending', 'booked', 'checked_in', 'completed')
BEGIN
    SELECT RAISE(ABORT, 'appointments_longer_than_a_day') WHERE NEW.ends_at - NEW.starts_at > 86400;
    SELECT RAISE(ABORT, 'appointments_no_overlap') WHERE EXISTS (
        SELECT 1 FROM appointments a
         WHERE a.provider_id = NEW.provider_id
           AND a.starts_at > NEW.starts_at - 86400 AND a.starts_at < NEW.ends_at
           AND a.status IN ('pending', 'booked', 'checked_in', 'completed')
           AND a.ends_at > NEW.starts_at);
END;

CREATE TRIGGER appointments_no_overlap_update BEFORE UPDATE OF provider_id, starts_at, ends_at, status ON appointments
WHEN NEW.status IN ('pending', 'booked', 'checked_in', 'completed')
BEGIN
    SELECT RAISE(ABORT, 'appointments_longer_than_a_day') WHERE NEW.ends_at - NEW.starts_at > 86400;
    SELECT RAISE(ABORT, 'appointments_no_overlap') WHERE EXISTS (
        SELECT 1 FROM appointments a
         WHERE a.id <> NEW.id
           AND a.provider_id = NEW.provider_id
           AND a.starts_at > NEW.starts_at - 86400 AND a.starts_at < NEW.ends_at
           AND a.status IN ('pending', 'booked', 'checked_in', 'completed')
           AND a.ends_at > NEW.starts_at);
END;
