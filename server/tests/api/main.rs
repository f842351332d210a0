//! Integration tests through the real router and real migrations, on SQLite and (when
//! `CAREGATE_TEST_POSTGRES_URL` is set) on PostgreSQL too.
mod activity_writer;
mod care_data;
mod cli;
mod crash;
mod faults;
mod hardening;
mod health;
mod helpers;
mod hostile_input;
mod isolation;
mod keys;
mod keys_cli;
mod mcp;
mod me;
mod migrations;
mod pages;
mod people;
mod sessions;
mod verification;
