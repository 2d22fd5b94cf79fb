-- Availability reads a clinic's appointments in a time window; appointments last at most
-- 24 hours (enforced on write), so the window bounds starts_at on both sides and this index
-- turns the read into a range scan.
CREATE INDEX appointments_by_clinic_time ON appointments(clinic_id, starts_at);
