//! The browser entry point: hydrates the server-rendered caregate app (lazily, so routes whose code is split
//! into their own WebAssembly chunk load it before hydrating).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
