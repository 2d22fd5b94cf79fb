-- Reads of appointments around a time look back one day (an appointment that overlaps a window
-- starts at most a day before it), and SQLite's overlap guard relies on the same bound. The
-- application has always refused longer appointments; the database now does too, whoever writes.
ALTER TABLE appointments ADD CONSTRAINT appointments_at_most_a_day CHECK (ends_at - starts_at <= interval '1 day');
