-- An edit of the schedule or the catalogue never moves or cancels an appointment. When it
-- leaves one outside what its provider now offers, the appointment keeps its time and is
-- flagged with the reason until staff resolve it (keep it, reschedule or cancel it).
ALTER TABLE appointments ADD COLUMN attention TEXT;
ALTER TABLE appointments ADD COLUMN attention_since INTEGER;

CREATE INDEX appointments_needing_attention ON appointments(clinic_id, starts_at) WHERE attention IS NOT NULL;
