-- Until now the store wrote events.data as a JSON string holding the object's
-- text (the driver encoded the text it was given once more); migrate-data
-- wrote the object itself. Every row becomes the object, so SQL can read
-- data -> 'changes' directly. Events are append-only: the trigger that refuses
-- updates is off for this one statement, inside the migration's transaction
-- (ALTER TABLE locks the table until commit, so no write slips in between).
ALTER TABLE events DISABLE TRIGGER events_append_only;
UPDATE events SET data = (data #>> '{}')::json WHERE json_typeof(data) = 'string';
ALTER TABLE events ENABLE TRIGGER events_append_only;
