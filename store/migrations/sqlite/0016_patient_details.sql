-- The address parts callers give (street, zip, city, country), kept apart so that they can be
-- given back as they came (the combined `address` stays for the pages that show it), and
-- comparison keys of the names (`domain::patient::match_key`: case, accents and spacing
-- ignored), so that finding a patient by name is an index search rather than a read of every
-- patient of the clinic. The keys of patients stored before are filled in by `Store::migrate`.
ALTER TABLE patients ADD COLUMN street TEXT NOT NULL DEFAULT '';
ALTER TABLE patients ADD COLUMN zip TEXT NOT NULL DEFAULT '';
ALTER TABLE patients ADD COLUMN city TEXT NOT NULL DEFAULT '';
ALTER TABLE patients ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE patients ADD COLUMN first_key TEXT;
ALTER TABLE patients ADD COLUMN last_key TEXT;
CREATE INDEX patients_by_last_key ON patients(clinic_id, last_key, first_key);
CREATE INDEX patients_by_first_key ON patients(clinic_id, first_key);
CREATE INDEX patients_by_birth_date ON patients(clinic_id, birth_date);
