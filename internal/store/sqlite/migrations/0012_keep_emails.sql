-- E-mail addresses in tracked text are replaced before storage unless a site keeps them.
ALTER TABLE sites ADD COLUMN keep_emails INTEGER NOT NULL DEFAULT 0;
