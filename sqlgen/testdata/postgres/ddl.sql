CREATE SCHEMA IF NOT EXISTS "salesforce";

CREATE TABLE IF NOT EXISTS "salesforce"."Order" (
  "Id" TEXT PRIMARY KEY,
  "Group" TEXT,
  "select" TEXT,
  "MixedCase__c" BOOLEAN,
  "Say ""Hi""__c" TEXT,
  "x'; DROP TABLE t; --" TEXT,
  "Amount__c" NUMERIC(18,2),
  "Ratio__c" DOUBLE PRECISION,
  "Count__c" BIGINT,
  "Due__c" DATE,
  "At__c" TIME,
  "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL__c" TEXT,
  "SystemModstamp" TIMESTAMPTZ,
  "IsDeleted" BOOLEAN,
  "_sfsync_synced_at" TIMESTAMPTZ,
  "_sfsync_deleted" BOOLEAN NOT NULL DEFAULT FALSE,
  "_sfsync_deleted_at" TIMESTAMPTZ
);

CREATE UNLOGGED TABLE IF NOT EXISTS "salesforce_staging"."Order" (
  "Id" TEXT,
  "Group" TEXT,
  "select" TEXT,
  "MixedCase__c" BOOLEAN,
  "Say ""Hi""__c" TEXT,
  "x'; DROP TABLE t; --" TEXT,
  "Amount__c" NUMERIC(18,2),
  "Ratio__c" DOUBLE PRECISION,
  "Count__c" BIGINT,
  "Due__c" DATE,
  "At__c" TIME,
  "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL__c" TEXT,
  "SystemModstamp" TIMESTAMPTZ,
  "IsDeleted" BOOLEAN,
  "_sfsync_batch_id" TEXT NOT NULL,
  "_sfsync_extracted_at" TIMESTAMPTZ NOT NULL,
  "_sfsync_seq" BIGINT NOT NULL
);

ALTER TABLE "salesforce"."Order" ADD COLUMN "New Field__c" TEXT;

ALTER TABLE "salesforce"."Order" ALTER COLUMN "Amount__c" TYPE NUMERIC(20,2);

