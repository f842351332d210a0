//! OAuth 2.1 connections: the clients (from a Client ID Metadata Document or Dynamic Client Registration),
//! authorization requests with their one-time codes, and access and refresh tokens (each only as its SHA-256).
//! A redeemed authorization becomes an `api_keys` row that names its client: a connection lists, budgets,
//! records and revokes like a key.
use sea_orm_migration::prelude::*;

use crate::m0001_tenancy::Users;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0009_oauth"
    }
}

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Id,
    ClientId,
    Kind,
    Name,
    Domain,
    RedirectUris,
    CreatedAt,
    RefreshedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum OauthAuthorizations {
    Table,
    Id,
    RequestHash,
    ClientId,
    RedirectUri,
    Scopes,
    State,
    CodeChallenge,
    UserId,
    CodeHash,
    GrantedScopes,
    ConnectionExpiresAt,
    CreatedAt,
    ExpiresAt,
    RedeemedAt,
    KeyId,
}

#[derive(DeriveIden)]
enum OauthTokens {
    Table,
    Id,
    TokenId,
    KeyId,
    Kind,
    SecretHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    OauthClientId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OauthClients::Table)
                    .col(ColumnDef::new(OauthClients::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(OauthClients::ClientId).string_len(1024).not_null().unique_key())
                    .col(ColumnDef::new(OauthClients::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(OauthClients::Name).string_len(200).not_null())
                    .col(ColumnDef::new(OauthClients::Domain).string_len(255).null())
                    .col(ColumnDef::new(OauthClients::RedirectUris).text().not_null())
                    .col(ColumnDef::new(OauthClients::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(OauthClients::RefreshedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(OauthClients::ExpiresAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthAuthorizations::Table)
                    .col(ColumnDef::new(OauthAuthorizations::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(OauthAuthorizations::RequestHash).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(OauthAuthorizations::ClientId).integer().not_null())
                    .col(ColumnDef::new(OauthAuthorizations::RedirectUri).string_len(1024).not_null())
                    .col(ColumnDef::new(OauthAuthorizations::Scopes).string_len(400).not_null())
                    .col(ColumnDef::new(OauthAuthorizations::State).string_len(1024).null())
                    .col(ColumnDef::new(OauthAuthorizations::CodeChallenge).string_len(128).not_null())
                    .col(ColumnDef::new(OauthAuthorizations::UserId).integer().null())
                    .col(ColumnDef::new(OauthAuthorizations::CodeHash).string_len(64).null().unique_key())
                    .col(ColumnDef::new(OauthAuthorizations::GrantedScopes).string_len(400).null())
                    .col(ColumnDef::new(OauthAuthorizations::ConnectionExpiresAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(OauthAuthorizations::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(OauthAuthorizations::ExpiresAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(OauthAuthorizations::RedeemedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(OauthAuthorizations::KeyId).string_len(8).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(OauthAuthorizations::Table, OauthAuthorizations::ClientId)
                            .to(OauthClients::Table, OauthClients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(OauthAuthorizations::Table, OauthAuthorizations::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthTokens::Table)
                    .col(ColumnDef::new(OauthTokens::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(OauthTokens::TokenId).string_len(8).not_null().unique_key())
                    .col(ColumnDef::new(OauthTokens::KeyId).string_len(8).not_null())
                    .col(ColumnDef::new(OauthTokens::Kind).string_len(8).not_null())
                    .col(ColumnDef::new(OauthTokens::SecretHash).string_len(64).not_null())
                    .col(ColumnDef::new(OauthTokens::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(OauthTokens::ExpiresAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(OauthTokens::UsedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(OauthTokens::RevokedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("idx_oauth_tokens_key").table(OauthTokens::Table).col(OauthTokens::KeyId).to_owned()).await?;
        manager
            .create_index(Index::create().name("idx_oauth_tokens_expiry").table(OauthTokens::Table).col(OauthTokens::ExpiresAt).to_owned())
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_oauth_authorizations_expiry")
                    .table(OauthAuthorizations::Table)
                    .col(OauthAuthorizations::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        let mut client = ColumnDef::new(ApiKeys::OauthClientId).integer().null().to_owned();
        manager.alter_table(Table::alter().table(ApiKeys::Table).add_column(&mut client).to_owned()).await?;
        manager.create_index(Index::create().name("idx_api_keys_oauth_client").table(ApiKeys::Table).col(ApiKeys::OauthClientId).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("idx_api_keys_oauth_client").table(ApiKeys::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(ApiKeys::Table).drop_column(ApiKeys::OauthClientId).to_owned()).await?;
        manager.drop_table(Table::drop().table(OauthTokens::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(OauthAuthorizations::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(OauthClients::Table).to_owned()).await
    }
}
