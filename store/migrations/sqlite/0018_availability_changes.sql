-- Which clinics' availability changed, for the in-memory availability of every process on
-- this file: triggers stamp a clinic with the next number of one sequence whenever anything its
-- free times depend on changes, whoever writes (the server, the CLI, an import, a SQL shell).
-- A process that caches availability reads the rows stamped above the last number it saw.
CREATE TABLE availability_changes (
    clinic_id INTEGER PRIMARY KEY,
    seq       INTEGER NOT NULL
);
CREATE INDEX availability_changes_by_seq ON availability_changes(seq);

CREATE TRIGGER clinics_insert_availability AFTER INSERT ON clinics BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.id);
END;
CREATE TRIGGER appointments_insert_availability AFTER INSERT ON appointments BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.clinic_id);
END;
CREATE TRIGGER holds_insert_availability AFTER INSERT ON holds BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.clinic_id);
END;
CREATE TRIGGER holidays_insert_availability AFTER INSERT ON holidays BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.clinic_id);
END;
CREATE TRIGGER products_insert_availability AFTER INSERT ON products BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.clinic_id);
END;
CREATE TRIGGER providers_insert_availability AFTER INSERT ON providers BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.clinic_id);
END;
CREATE TRIGGER locations_insert_availability AFTER INSERT ON locations BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.clinic_id);
END;
CREATE TRIGGER services_insert_availability AFTER INSERT ON services BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.clinic_id);
END;
CREATE TRIGGER working_hours_insert_availability AFTER INSERT ON working_hours BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id);
    INSERT INTO availability_changes (clinic_id, seq) SELECT (SELECT clinic_id FROM providers WHERE id = NEW.provider_id), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE (SELECT clinic_id FROM providers WHERE id = NEW.provider_id) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id));
END;
CREATE TRIGGER schedule_exceptions_insert_availability AFTER INSERT ON schedule_exceptions BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id);
    INSERT INTO availability_changes (clinic_id, seq) SELECT (SELECT clinic_id FROM providers WHERE id = NEW.provider_id), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE (SELECT clinic_id FROM providers WHERE id = NEW.provider_id) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id));
END;
CREATE TRIGGER schedule_blocks_insert_availability AFTER INSERT ON schedule_blocks BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id);
    INSERT INTO availability_changes (clinic_id, seq) SELECT (SELECT clinic_id FROM providers WHERE id = NEW.provider_id), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE (SELECT clinic_id FROM providers WHERE id = NEW.provider_id) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id));
END;
CREATE TRIGGER provider_services_insert_availability AFTER INSERT ON provider_services BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id);
    INSERT INTO availability_changes (clinic_id, seq) SELECT (SELECT clinic_id FROM providers WHERE id = NEW.provider_id), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE (SELECT clinic_id FROM providers WHERE id = NEW.provider_id) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id));
END;
CREATE TRIGGER clinics_update_availability AFTER UPDATE ON clinics BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.id);
END;
CREATE TRIGGER appointments_update_availability AFTER UPDATE ON appointments BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.clinic_id);
END;
CREATE TRIGGER holds_update_availability AFTER UPDATE ON holds BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.clinic_id);
END;
CREATE TRIGGER holidays_update_availability AFTER UPDATE ON holidays BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.clinic_id);
END;
CREATE TRIGGER products_update_availability AFTER UPDATE ON products BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.clinic_id);
END;
CREATE TRIGGER providers_update_availability AFTER UPDATE ON providers BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.clinic_id);
END;
CREATE TRIGGER locations_update_availability AFTER UPDATE ON locations BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.clinic_id);
END;
CREATE TRIGGER services_update_availability AFTER UPDATE ON services BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = NEW.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT NEW.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE NEW.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = NEW.clinic_id);
END;
CREATE TRIGGER working_hours_update_availability AFTER UPDATE ON working_hours BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id);
    INSERT INTO availability_changes (clinic_id, seq) SELECT (SELECT clinic_id FROM providers WHERE id = NEW.provider_id), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE (SELECT clinic_id FROM providers WHERE id = NEW.provider_id) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id));
END;
CREATE TRIGGER schedule_exceptions_update_availability AFTER UPDATE ON schedule_exceptions BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id);
    INSERT INTO availability_changes (clinic_id, seq) SELECT (SELECT clinic_id FROM providers WHERE id = NEW.provider_id), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE (SELECT clinic_id FROM providers WHERE id = NEW.provider_id) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id));
END;
CREATE TRIGGER schedule_blocks_update_availability AFTER UPDATE ON schedule_blocks BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id);
    INSERT INTO availability_changes (clinic_id, seq) SELECT (SELECT clinic_id FROM providers WHERE id = NEW.provider_id), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE (SELECT clinic_id FROM providers WHERE id = NEW.provider_id) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id));
END;
CREATE TRIGGER provider_services_update_availability AFTER UPDATE ON provider_services BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id);
    INSERT INTO availability_changes (clinic_id, seq) SELECT (SELECT clinic_id FROM providers WHERE id = NEW.provider_id), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE (SELECT clinic_id FROM providers WHERE id = NEW.provider_id) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = NEW.provider_id));
END;
CREATE TRIGGER clinics_delete_availability AFTER DELETE ON clinics BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = OLD.id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT OLD.id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE OLD.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = OLD.id);
END;
CREATE TRIGGER appointments_delete_availability AFTER DELETE ON appointments BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = OLD.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT OLD.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE OLD.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = OLD.clinic_id);
END;
CREATE TRIGGER holds_delete_availability AFTER DELETE ON holds BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = OLD.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT OLD.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE OLD.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = OLD.clinic_id);
END;
CREATE TRIGGER holidays_delete_availability AFTER DELETE ON holidays BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = OLD.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT OLD.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE OLD.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = OLD.clinic_id);
END;
CREATE TRIGGER products_delete_availability AFTER DELETE ON products BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = OLD.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT OLD.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE OLD.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = OLD.clinic_id);
END;
CREATE TRIGGER providers_delete_availability AFTER DELETE ON providers BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = OLD.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT OLD.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE OLD.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = OLD.clinic_id);
END;
CREATE TRIGGER locations_delete_availability AFTER DELETE ON locations BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = OLD.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT OLD.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE OLD.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = OLD.clinic_id);
END;
CREATE TRIGGER services_delete_availability AFTER DELETE ON services BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = OLD.clinic_id;
    INSERT INTO availability_changes (clinic_id, seq) SELECT OLD.clinic_id, (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE OLD.clinic_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = OLD.clinic_id);
END;
CREATE TRIGGER working_hours_delete_availability AFTER DELETE ON working_hours BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = OLD.provider_id);
    INSERT INTO availability_changes (clinic_id, seq) SELECT (SELECT clinic_id FROM providers WHERE id = OLD.provider_id), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE (SELECT clinic_id FROM providers WHERE id = OLD.provider_id) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = OLD.provider_id));
END;
CREATE TRIGGER schedule_exceptions_delete_availability AFTER DELETE ON schedule_exceptions BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = OLD.provider_id);
    INSERT INTO availability_changes (clinic_id, seq) SELECT (SELECT clinic_id FROM providers WHERE id = OLD.provider_id), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE (SELECT clinic_id FROM providers WHERE id = OLD.provider_id) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = OLD.provider_id));
END;
CREATE TRIGGER schedule_blocks_delete_availability AFTER DELETE ON schedule_blocks BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = OLD.provider_id);
    INSERT INTO availability_changes (clinic_id, seq) SELECT (SELECT clinic_id FROM providers WHERE id = OLD.provider_id), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE (SELECT clinic_id FROM providers WHERE id = OLD.provider_id) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = OLD.provider_id));
END;
CREATE TRIGGER provider_services_delete_availability AFTER DELETE ON provider_services BEGIN
    UPDATE availability_changes SET seq = (SELECT max(seq) FROM availability_changes) + 1 WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = OLD.provider_id);
    INSERT INTO availability_changes (clinic_id, seq) SELECT (SELECT clinic_id FROM providers WHERE id = OLD.provider_id), (SELECT coalesce(max(seq), 0) + 1 FROM availability_changes)
     WHERE (SELECT clinic_id FROM providers WHERE id = OLD.provider_id) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM availability_changes WHERE clinic_id = (SELECT clinic_id FROM providers WHERE id = OLD.provider_id));
END;
