//! `forge_secret TOKEN`: prints the same Key ID with a random wrong secret and a valid checksum, for the
//! benchmark's and the soak's wrong-secret floods (`bench/run.sh`, `scripts/faults.sh`).
fn main() -> std::process::ExitCode {
    match std::env::args().nth(1) {
        Some(token) if token.len() == domain::keys::token::TOKEN_LEN => {
            println!("{}", domain::keys::token::forge_secret(&token));
            std::process::ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: forge_secret TOKEN (a {}-character API key)", domain::keys::token::TOKEN_LEN);
            std::process::ExitCode::FAILURE
        }
    }
}
