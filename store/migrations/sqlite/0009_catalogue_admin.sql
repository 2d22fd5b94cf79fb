-- Staff edit the catalogue from the console. Something that appointments reference is never
-- deleted: it is archived, which takes it out of everything offered for booking while the
-- appointments keep their names, places and history.
ALTER TABLE locations ADD COLUMN archived_at INTEGER;
ALTER TABLE providers ADD COLUMN archived_at INTEGER;
ALTER TABLE services  ADD COLUMN archived_at INTEGER;
ALTER TABLE products  ADD COLUMN archived_at INTEGER;

CREATE INDEX appointments_by_location ON appointments(location_id);
CREATE INDEX appointments_by_product ON appointments(product_id);
CREATE INDEX appointments_by_service ON appointments(service_id);
