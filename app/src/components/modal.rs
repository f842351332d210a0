//! An accessible modal dialog: `role="dialog"`, `aria-modal`, labelled by its heading; focus moves in, Tab is
//! trapped inside, Escape asks the owner to close, and focus returns to the element that opened it.
use leptos::html::Div;
use leptos::prelude::*;
use leptos::wasm_bindgen::JsCast;

const FOCUSABLE: &str =
    "button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

fn focusables(container: &web_sys::Element) -> Vec<web_sys::HtmlElement> {
    let Ok(list) = container.query_selector_all(FOCUSABLE) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|node| node.dyn_into::<web_sys::HtmlElement>().ok())
        .filter(|element| element.offset_parent().is_some())
        .collect()
}

/// Focuses the element marked `data-autofocus`, else the first focusable one. Content that is still loading
/// is waited for (every 50 ms, for up to five seconds).
fn focus_initial(dialog: NodeRef<Div>, attempts_left: u32) {
    let Some(container) = dialog.get_untracked() else { return };
    let preferred = container.query_selector("[data-autofocus]").ok().flatten().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    match preferred.or_else(|| focusables(&container).into_iter().next()) {
        Some(element) => {
            let _ = element.focus();
        }
        None if attempts_left > 0 => {
            set_timeout(move || focus_initial(dialog, attempts_left - 1), std::time::Duration::from_millis(50));
        }
        None => {}
    }
}

#[component]
pub fn Modal(
    /// The `id` of the heading that names the dialog.
    labelled_by: &'static str,
    /// Called when the person presses Escape.
    on_escape: Callback<()>,
    /// Changes whenever the content is replaced (a new step), so focus moves to the new content.
    #[prop(optional, into)]
    content_key: Option<Signal<u8>>,
    #[prop(optional)] wide: bool,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<Div>::new();
    let opener = StoredValue::new_local(document().active_element());
    on_cleanup(move || {
        if let Some(element) = opener.get_value().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = element.focus();
        }
    });
    Effect::new(move |_| {
        if let Some(key) = content_key {
            key.track();
        }
        if dialog.get().is_some() {
            request_animation_frame(move || focus_initial(dialog, 100));
        }
    });
    let on_keydown = move |event: web_sys::KeyboardEvent| {
        if event.key() == "Escape" {
            event.prevent_default();
            on_escape.run(());
            return;
        }
        if event.key() != "Tab" {
            return;
        }
        let Some(container) = dialog.get_untracked() else { return };
        let items = focusables(&container);
        let (Some(first), Some(last)) = (items.first(), items.last()) else { return };
        let active = document().active_element();
        let is = |element: &web_sys::HtmlElement| active.as_ref().is_some_and(|a| a == element.unchecked_ref::<web_sys::Element>());
        if event.shift_key() && (is(first) || active.is_none()) {
            event.prevent_default();
            let _ = last.focus();
        } else if !event.shift_key() && is(last) {
            event.prevent_default();
            let _ = first.focus();
        }
    };
    view! {
        <div class="modal-backdrop">
            <div
                class=if wide { "modal wide" } else { "modal" }
                role="dialog"
                aria-modal="true"
                aria-labelledby=labelled_by
                tabindex="-1"
                node_ref=dialog
                on:keydown=on_keydown
            >
                {children()}
            </div>
        </div>
    }
}
