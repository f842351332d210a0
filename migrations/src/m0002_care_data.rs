//! The care data that the app lists and the MCP endpoint exposes: patients, visits, messages and open shifts.
use sea_orm_migration::prelude::*;

use crate::m0001_tenancy::{Companies, Users};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0002_care_data"
    }
}

#[derive(DeriveIden)]
enum Patients {
    Table,
    Id,
    CompanyId,
    Name,
    Address,
    Phone,
    CareNotes,
}

#[derive(DeriveIden)]
enum Visits {
    Table,
    Id,
    CompanyId,
    CaregiverId,
    PatientId,
    StartsAt,
    EndsAt,
    Status,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    CompanyId,
    SenderId,
    RecipientId,
    Subject,
    Body,
    SentAt,
}

#[derive(DeriveIden)]
enum OpenShifts {
    Table,
    Id,
    CompanyId,
    PatientId,
    StartsAt,
    EndsAt,
    Notes,
}

fn company_fk(from: impl IntoTableRef, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from, col).to(Companies::Table, Companies::Id).on_delete(ForeignKeyAction::Cascade).to_owned()
}

fn user_fk(from: impl IntoTableRef, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from, col).to(Users::Table, Users::Id).on_delete(ForeignKeyAction::Cascade).to_owned()
}

fn patient_fk(from: impl IntoTableRef, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from, col).to(Patients::Table, Patients::Id).on_delete(ForeignKeyAction::Cascade).to_owned()
}

fn id_column<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name).integer().not_null().auto_increment().primary_key().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Patients::Table)
                    .col(id_column(Patients::Id))
                    .col(ColumnDef::new(Patients::CompanyId).integer().not_null())
                    .col(ColumnDef::new(Patients::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Patients::Address).string_len(400).not_null())
                    .col(ColumnDef::new(Patients::Phone).string_len(40).not_null())
                    .col(ColumnDef::new(Patients::CareNotes).text().not_null())
                    .foreign_key(&mut company_fk(Patients::Table, Patients::CompanyId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Visits::Table)
                    .col(id_column(Visits::Id))
                    .col(ColumnDef::new(Visits::CompanyId).integer().not_null())
                    .col(ColumnDef::new(Visits::CaregiverId).integer().not_null())
                    .col(ColumnDef::new(Visits::PatientId).integer().not_null())
                    .col(ColumnDef::new(Visits::StartsAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Visits::EndsAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Visits::Status).string_len(16).not_null())
                    .foreign_key(&mut company_fk(Visits::Table, Visits::CompanyId))
                    .foreign_key(&mut user_fk(Visits::Table, Visits::CaregiverId))
                    .foreign_key(&mut patient_fk(Visits::Table, Visits::PatientId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_visits_company_start").table(Visits::Table).col(Visits::CompanyId).col(Visits::StartsAt).to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_visits_caregiver_start").table(Visits::Table).col(Visits::CaregiverId).col(Visits::StartsAt).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(id_column(Messages::Id))
                    .col(ColumnDef::new(Messages::CompanyId).integer().not_null())
                    .col(ColumnDef::new(Messages::SenderId).integer().not_null())
                    .col(ColumnDef::new(Messages::RecipientId).integer().not_null())
                    .col(ColumnDef::new(Messages::Subject).string_len(200).not_null())
                    .col(ColumnDef::new(Messages::Body).text().not_null())
                    .col(ColumnDef::new(Messages::SentAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut company_fk(Messages::Table, Messages::CompanyId))
                    .foreign_key(&mut user_fk(Messages::Table, Messages::SenderId))
                    .foreign_key(&mut user_fk(Messages::Table, Messages::RecipientId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_messages_recipient").table(Messages::Table).col(Messages::RecipientId).col(Messages::SentAt).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OpenShifts::Table)
                    .col(id_column(OpenShifts::Id))
                    .col(ColumnDef::new(OpenShifts::CompanyId).integer().not_null())
                    .col(ColumnDef::new(OpenShifts::PatientId).integer().not_null())
                    .col(ColumnDef::new(OpenShifts::StartsAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(OpenShifts::EndsAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(OpenShifts::Notes).text().not_null())
                    .foreign_key(&mut company_fk(OpenShifts::Table, OpenShifts::CompanyId))
                    .foreign_key(&mut patient_fk(OpenShifts::Table, OpenShifts::PatientId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [OpenShifts::Table.into_iden(), Messages::Table.into_iden(), Visits::Table.into_iden(), Patients::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
