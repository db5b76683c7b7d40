-- Consolidate the tables landed in salesforce_incremental into salesforce: one row per Id, the
-- version with the latest cursor value. Safe to run again: it changes nothing
-- until newer versions land. Final tables are created with the staging tables'
-- columns; when the landing adds a column, add it to the final table too
-- (or run `sfsync consolidate` once, which does). The final schema must exist.

-- Account: by Id, latest SystemModstamp; deleted flag IsDeleted, hard deletes
BEGIN;
CREATE TABLE IF NOT EXISTS "salesforce"."Account" AS SELECT * FROM "salesforce_incremental"."Account" LIMIT 0;
CREATE TEMP TABLE "_sfsync_latest" AS
SELECT s."Id", s."Name", s."SystemModstamp", s."IsDeleted"
FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "Id" ORDER BY "SystemModstamp" DESC NULLS LAST) AS "_sfsync_rn" FROM "salesforce_incremental"."Account") AS s
WHERE s."_sfsync_rn" = 1
  AND NOT EXISTS (SELECT 1 FROM "salesforce"."Account" AS f WHERE f."Id" = s."Id" AND f."SystemModstamp" >= s."SystemModstamp")
  AND NOT (COALESCE(s."IsDeleted", FALSE) AND NOT EXISTS (SELECT 1 FROM "salesforce"."Account" AS f WHERE f."Id" = s."Id"));
DELETE FROM "salesforce"."Account" WHERE "Id" IN (SELECT "Id" FROM "_sfsync_latest");
INSERT INTO "salesforce"."Account" ("Id", "Name", "SystemModstamp", "IsDeleted")
SELECT "Id", "Name", "SystemModstamp", "IsDeleted" FROM "_sfsync_latest" WHERE NOT COALESCE("IsDeleted", FALSE);
DROP TABLE "_sfsync_latest";
COMMIT;
