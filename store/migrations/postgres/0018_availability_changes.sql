-- Which clinics' availability changed, for the in-memory availability of every instance:
-- whenever anything a clinic's free times depend on changes, whoever writes, the transaction
-- notifies channel `availability` with the clinic's id (delivered at commit, to every
-- listening instance) and notes the id in the transaction-local setting
-- `booking.availability_changed`, which the writing instance reads just before it commits.
CREATE FUNCTION availability_changed() RETURNS trigger AS $$
DECLARE
    clinic BIGINT;
    seen TEXT;
BEGIN
    IF TG_ARGV[0] = 'id' THEN
        clinic := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
    ELSIF TG_ARGV[0] = 'clinic_id' THEN
        clinic := CASE WHEN TG_OP = 'DELETE' THEN OLD.clinic_id ELSE NEW.clinic_id END;
    ELSE
        SELECT p.clinic_id INTO clinic FROM providers p
         WHERE p.id = CASE WHEN TG_OP = 'DELETE' THEN OLD.provider_id ELSE NEW.provider_id END;
    END IF;
    IF clinic IS NULL THEN
        RETURN NULL;
    END IF;
    seen := coalesce(current_setting('booking.availability_changed', true), '');
    IF position(',' || clinic || ',' IN ',' || seen) = 0 THEN
        PERFORM set_config('booking.availability_changed', seen || clinic || ',', true);
        PERFORM pg_notify('availability', clinic::text);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER clinics_availability AFTER INSERT OR UPDATE OR DELETE ON clinics
    FOR EACH ROW EXECUTE FUNCTION availability_changed('id');
CREATE TRIGGER appointments_availability AFTER INSERT OR UPDATE OR DELETE ON appointments
    FOR EACH ROW EXECUTE FUNCTION availability_changed('clinic_id');
CREATE TRIGGER holds_availability AFTER INSERT OR UPDATE OR DELETE ON holds
    FOR EACH ROW EXECUTE FUNCTION availability_changed('clinic_id');
CREATE TRIGGER holidays_availability AFTER INSERT OR UPDATE OR DELETE ON holidays
    FOR EACH ROW EXECUTE FUNCTION availability_changed('clinic_id');
CREATE TRIGGER products_availability AFTER INSERT OR UPDATE OR DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION availability_changed('clinic_id');
CREATE TRIGGER providers_availability AFTER INSERT OR UPDATE OR DELETE ON providers
    FOR EACH ROW EXECUTE FUNCTION availability_changed('clinic_id');
CREATE TRIGGER locations_availability AFTER INSERT OR UPDATE OR DELETE ON locations
    FOR EACH ROW EXECUTE FUNCTION availability_changed('clinic_id');
CREATE TRIGGER services_availability AFTER INSERT OR UPDATE OR DELETE ON services
    FOR EACH ROW EXECUTE FUNCTION availability_changed('clinic_id');
CREATE TRIGGER working_hours_availability AFTER INSERT OR UPDATE OR DELETE ON working_hours
    FOR EACH ROW EXECUTE FUNCTION availability_changed('provider_id');
CREATE TRIGGER schedule_exceptions_availability AFTER INSERT OR UPDATE OR DELETE ON schedule_exceptions
    FOR EACH ROW EXECUTE FUNCTION availability_changed('provider_id');
CREATE TRIGGER schedule_blocks_availability AFTER INSERT OR UPDATE OR DELETE ON schedule_blocks
    FOR EACH ROW EXECUTE FUNCTION availability_changed('provider_id');
CREATE TRIGGER provider_services_availability AFTER INSERT OR UPDATE OR DELETE ON provider_services
    FOR EACH ROW EXECUTE FUNCTION availability_changed('provider_id');
