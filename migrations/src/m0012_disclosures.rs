//! Accounting of disclosures: which patients each MCP tool call returned, through which key or connection, and
//! how long the company keeps activity and disclosure records.
use sea_orm_migration::prelude::*;

use crate::m0001_tenancy::Companies;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0012_disclosures"
    }
}

/// One row per tool call that returned patients' records. The id is made by the writer (time-ordered), so a
/// batch can insert calls and their patients without reading ids back.
#[derive(DeriveIden)]
enum Disclosures {
    Table,
    Id,
    CompanyId,
    KeyId,
    OwnerUserId,
    /// The key's label or the connected app's name when the call was made (kept if the key is deleted).
    Label,
    /// `key` or `connection`.
    Credential,
    Client,
    Tool,
    At,
}

/// The patients of each call; owner, key and time are repeated so that "one patient's, newest first" and
/// "one key's" are each one index range.
#[derive(DeriveIden)]
enum DisclosurePatients {
    Table,
    DisclosureId,
    PatientId,
    CompanyId,
    KeyId,
    OwnerUserId,
    At,
}

/// How many years (1–10) a company keeps activity events and disclosures.
#[derive(DeriveIden)]
struct RecordRetentionYears;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Disclosures::Table)
                    .col(ColumnDef::new(Disclosures::Id).big_integer().not_null().primary_key())
                    .col(ColumnDef::new(Disclosures::CompanyId).integer().not_null())
                    .col(ColumnDef::new(Disclosures::KeyId).string_len(64).not_null())
                    .col(ColumnDef::new(Disclosures::OwnerUserId).integer().not_null())
                    .col(ColumnDef::new(Disclosures::Label).string_len(200).not_null())
                    .col(ColumnDef::new(Disclosures::Credential).string_len(16).not_null())
                    .col(ColumnDef::new(Disclosures::Client).string_len(400).null())
                    .col(ColumnDef::new(Disclosures::Tool).string_len(64).not_null())
                    .col(ColumnDef::new(Disclosures::At).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Disclosures::Table, Disclosures::CompanyId)
                            .to(Companies::Table, Companies::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_disclosures_company_at")
                    .table(Disclosures::Table)
                    .col(Disclosures::CompanyId)
                    .col(Disclosures::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DisclosurePatients::Table)
                    .col(ColumnDef::new(DisclosurePatients::DisclosureId).big_integer().not_null())
                    .col(ColumnDef::new(DisclosurePatients::PatientId).integer().not_null())
                    .col(ColumnDef::new(DisclosurePatients::CompanyId).integer().not_null())
                    .col(ColumnDef::new(DisclosurePatients::KeyId).string_len(64).not_null())
                    .col(ColumnDef::new(DisclosurePatients::OwnerUserId).integer().not_null())
                    .col(ColumnDef::new(DisclosurePatients::At).timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col(DisclosurePatients::DisclosureId).col(DisclosurePatients::PatientId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(DisclosurePatients::Table, DisclosurePatients::DisclosureId)
                            .to(Disclosures::Table, Disclosures::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_disclosure_patients_patient")
                    .table(DisclosurePatients::Table)
                    .col(DisclosurePatients::CompanyId)
                    .col(DisclosurePatients::PatientId)
                    .col((DisclosurePatients::At, IndexOrder::Desc))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_disclosure_patients_key")
                    .table(DisclosurePatients::Table)
                    .col(DisclosurePatients::CompanyId)
                    .col(DisclosurePatients::KeyId)
                    .col((DisclosurePatients::At, IndexOrder::Desc))
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite's ALTER TABLE adds one column at a time.
        let mut years = ColumnDef::new(RecordRetentionYears).integer().not_null().default(6).to_owned();
        manager.alter_table(Table::alter().table(Companies::Table).add_column(&mut years).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Companies::Table).drop_column(RecordRetentionYears).to_owned()).await?;
        manager.drop_table(Table::drop().table(DisclosurePatients::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Disclosures::Table).to_owned()).await
    }
}
