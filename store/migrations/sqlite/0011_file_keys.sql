-- A clinic's setup can live in a file (`server clinic export` / `server clinic apply`) where
-- every location, service, product and provider has a key of its own choosing. The key ties
-- an entry of the file to its row, so that renaming something in the file renames it here
-- instead of creating a second one.
ALTER TABLE locations ADD COLUMN file_key TEXT;
ALTER TABLE services ADD COLUMN file_key TEXT;
ALTER TABLE products ADD COLUMN file_key TEXT;
ALTER TABLE providers ADD COLUMN file_key TEXT;

CREATE UNIQUE INDEX locations_file_key ON locations(clinic_id, file_key) WHERE file_key IS NOT NULL;
CREATE UNIQUE INDEX services_file_key ON services(clinic_id, file_key) WHERE file_key IS NOT NULL;
CREATE UNIQUE INDEX products_file_key ON products(clinic_id, file_key) WHERE file_key IS NOT NULL;
CREATE UNIQUE INDEX providers_file_key ON providers(clinic_id, file_key) WHERE file_key IS NOT NULL;
