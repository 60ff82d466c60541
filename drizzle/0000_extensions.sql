-- Trigram indexes back the patient name search.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
