//! Integration tests through the real router and real migrations, each once on SQLite and once on PostgreSQL
//! (`some_test::sqlite`, `some_test::postgres`); see `helpers` for setting up the PostgreSQL server.
mod activity_writer;
mod alerts;
mod care_data;
mod cli;
mod crash;
mod faults;
mod hardening;
mod health;
mod helpers;
mod hostile_input;
mod isolation;
mod key_creators;
mod key_lifecycle;
mod keys;
mod keys_cli;
mod mail;
mod mcp;
mod me;
mod metrics;
mod migrations;
mod oauth;
mod pages;
mod people;
mod sessions;
mod two_factor;
mod verification;
