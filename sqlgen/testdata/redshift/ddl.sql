CREATE SCHEMA IF NOT EXISTS "salesforce";

CREATE TABLE IF NOT EXISTS "salesforce"."Order" (
  "Id" VARCHAR(65535),
  "Group" VARCHAR(65535),
  "select" VARCHAR(65535),
  "MixedCase__c" BOOLEAN,
  "Say ""Hi""__c" VARCHAR(65535),
  "x'; DROP TABLE t; --" VARCHAR(65535),
  "Amount__c" DECIMAL(18,2),
  "Ratio__c" DOUBLE PRECISION,
  "Count__c" BIGINT,
  "Due__c" DATE,
  "At__c" TIME,
  "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL__c" VARCHAR(65535),
  "SystemModstamp" TIMESTAMPTZ,
  "IsDeleted" BOOLEAN,
  "_sfsync_synced_at" TIMESTAMPTZ,
  "_sfsync_deleted" BOOLEAN NOT NULL DEFAULT FALSE,
  "_sfsync_deleted_at" TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "salesforce_staging"."Order" (
  "Id" VARCHAR(65535),
  "Group" VARCHAR(65535),
  "select" VARCHAR(65535),
  "MixedCase__c" BOOLEAN,
  "Say ""Hi""__c" VARCHAR(65535),
  "x'; DROP TABLE t; --" VARCHAR(65535),
  "Amount__c" DECIMAL(18,2),
  "Ratio__c" DOUBLE PRECISION,
  "Count__c" BIGINT,
  "Due__c" DATE,
  "At__c" TIME,
  "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL__c" VARCHAR(65535),
  "SystemModstamp" TIMESTAMPTZ,
  "IsDeleted" BOOLEAN,
  "_sfsync_batch_id" VARCHAR(65535) NOT NULL,
  "_sfsync_extracted_at" TIMESTAMPTZ NOT NULL,
  "_sfsync_seq" BIGINT NOT NULL
);

ALTER TABLE "salesforce"."Order" ADD COLUMN "New Field__c" VARCHAR(65535);

