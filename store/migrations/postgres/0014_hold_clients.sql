-- Who placed a hold from the public widget: the client's address and, when its browser keeps
-- cookies, a random browser id. NULL for holds placed otherwise. They bound how much of a
-- clinic's calendar one client can hold at once.
ALTER TABLE holds ADD COLUMN client_address TEXT;
ALTER TABLE holds ADD COLUMN client_browser TEXT;
CREATE INDEX holds_by_client_address ON holds(clinic_id, client_address, expires_at);
CREATE INDEX holds_by_client_browser ON holds(clinic_id, client_browser, expires_at);
