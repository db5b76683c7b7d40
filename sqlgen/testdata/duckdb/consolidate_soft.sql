-- step work (result 0)
CREATE TEMP TABLE "_sfsync_work" AS SELECT s."Id",
  s."_sfsync_seq",
  CAST($2 AS TIMESTAMPTZ) AS "_sfsync_synced_at",
  COALESCE(s."IsDeleted", FALSE) AS "_sfsync_deleted",
  CASE WHEN COALESCE(s."IsDeleted", FALSE) THEN COALESCE(s."SystemModstamp", CAST($3 AS TIMESTAMPTZ)) END AS "_sfsync_deleted_at",
  f."Id" IS NOT NULL AS "_sfsync_prev_exists",
  f."_sfsync_deleted" AS "_sfsync_prev_deleted"
FROM (SELECT "Id", "_sfsync_seq", "SystemModstamp", "IsDeleted", ROW_NUMBER() OVER (PARTITION BY "Id" ORDER BY "SystemModstamp" DESC NULLS LAST, "_sfsync_seq" DESC) AS "_sfsync_rn" FROM "salesforce_staging"."Order" WHERE "_sfsync_batch_id" = $1) AS s
LEFT JOIN "salesforce"."Order" AS f ON f."Id" = s."Id"
WHERE s."_sfsync_rn" = 1 AND NOT COALESCE(f."SystemModstamp" > s."SystemModstamp", FALSE)
-- args: $1=batch_id, $2=now, $3=extracted_at;

-- step counts (result 1)
SELECT COUNT(CASE WHEN NOT "_sfsync_deleted" THEN 1 END), COUNT(CASE WHEN "_sfsync_deleted" AND NOT COALESCE("_sfsync_prev_deleted", FALSE) THEN 1 END) FROM "_sfsync_work";

-- step upsert-delete (result 0)
DELETE FROM "salesforce"."Order" WHERE "Id" IN (SELECT "Id" FROM "_sfsync_work");

-- step upsert-insert (result 0)
INSERT INTO "salesforce"."Order" ("Id", "Group", "select", "MixedCase__c", "Say ""Hi""__c", "x'; DROP TABLE t; --", "Amount__c", "Ratio__c", "Count__c", "Due__c", "At__c", "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL__c", "SystemModstamp", "IsDeleted", "_sfsync_synced_at", "_sfsync_deleted", "_sfsync_deleted_at")
SELECT s."Id", s."Group", s."select", s."MixedCase__c", s."Say ""Hi""__c", s."x'; DROP TABLE t; --", s."Amount__c", s."Ratio__c", s."Count__c", s."Due__c", s."At__c", s."LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL__c", s."SystemModstamp", s."IsDeleted", w."_sfsync_synced_at", w."_sfsync_deleted", w."_sfsync_deleted_at"
FROM "_sfsync_work" AS w JOIN "salesforce_staging"."Order" AS s ON s."_sfsync_batch_id" = $1 AND s."_sfsync_seq" = w."_sfsync_seq"
-- args: $1=batch_id;

-- step register-object (result 0)
INSERT INTO "_sfsync"."objects" ("object", "cursor_field", "created_at", "updated_at")
SELECT CAST($1 AS VARCHAR), CAST($2 AS VARCHAR), CAST($3 AS TIMESTAMPTZ), CAST($3 AS TIMESTAMPTZ)
WHERE NOT EXISTS (SELECT 1 FROM "_sfsync"."objects" WHERE "object" = $1)
-- args: $1=object, $2=cursor_field, $3=now;

-- step store-cursor (result 0)
UPDATE "_sfsync"."objects" SET "cursor_field" = $1, "cursor_time" = CASE WHEN "cursor_time" IS NULL OR "cursor_time" < $2 THEN $2 ELSE "cursor_time" END, "updated_at" = $3 WHERE "object" = $4
-- args: $1=cursor_field, $2=cursor_time, $3=now, $4=object;

-- step mark-batch (result 0)
UPDATE "_sfsync"."batches" SET "consolidated_at" = $1, "delete_mode" = $2, "full_refresh" = $3, "upserted" = $4, "deleted" = $5 WHERE "batch_id" = $6
-- args: $1=now, $2=delete_mode, $3=full_refresh, $4=upserted, $5=deleted, $6=batch_id;

-- step drop-work (result 0)
DROP TABLE "_sfsync_work";

