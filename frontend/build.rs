//! Refuses to build a front end that would not hydrate.
//!
//! The Settings pages are lazy routes (`#[lazy_route]`): their code is called through imports that only
//! cargo-leptos' splitter (`cargo leptos build --split`, `cargo leptos watch --split`) resolves. Built without
//! it, wasm-bindgen leaves `import … from "__wasm_split_placeholder__"` in `caregate.js`; the browser cannot
//! load that module, so the server-rendered pages show but nothing on them works, and nothing says why. The
//! splitter in turn cannot read the reference-types output of today's Rust, so the front end must be compiled
//! with `.cargo/config.toml`'s WebAssembly flags, which a RUSTFLAGS variable would replace.
//!
//! cargo-leptos passes `-Clink-args=--emit-relocs` exactly when it splits, and sets `LEPTOS_LIB_DIR` for its
//! builds; plain `cargo check`/`clippy --target wasm32-unknown-unknown` (no front end comes out of them) are
//! left alone.
fn main() {
    println!("cargo::rerun-if-env-changed=LEPTOS_LIB_DIR");
    let for_the_browser = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    if !for_the_browser || std::env::var_os("LEPTOS_LIB_DIR").is_none() {
        return;
    }
    let rustflags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let flags: Vec<&str> = rustflags.split('\x1f').collect();
    if !flags.iter().any(|flag| flag.ends_with("link-args=--emit-relocs")) {
        println!(
            "cargo::error=caregate's front end has lazy routes and only hydrates when cargo-leptos splits it: build with \
             `cargo leptos build --split` / `cargo leptos watch --split` (scripts/build.sh does), not without --split"
        );
    } else if !flags.iter().any(|flag| flag.contains("-reference-types")) {
        println!(
            "cargo::error=the front end must be compiled with the WebAssembly flags of .cargo/config.toml \
             (-C target-feature=-reference-types,-multivalue, which cargo-leptos' splitter needs); RUSTFLAGS is set and \
             replaces them: unset it"
        );
    }
}
