//! The scope picker of the generate dialog and the consent page: one checkbox per scope the role allows, in
//! the words people read everywhere (`Scope::description`), and (for a new key) two presets.
use leptos::prelude::*;

use crate::model::Scope;

/// `legend` names the group ("Scopes" unless given); `selected` holds the ticked scopes, sorted. `presets`
/// (on unless turned off) adds the "Everything my role allows" and "Read-only essentials" buttons.
#[component]
pub fn ScopePicker(
    allowed: Vec<Scope>,
    selected: RwSignal<Vec<Scope>>,
    #[prop(optional, into)] legend: Option<String>,
    #[prop(default = true)] presets: bool,
) -> impl IntoView {
    let essentials: Vec<Scope> = Scope::ESSENTIALS.into_iter().filter(|s| allowed.contains(s)).collect();
    view! {
        <fieldset class="field scopes">
            <legend>{legend.unwrap_or_else(|| "Scopes".to_owned())}</legend>
            {presets.then(|| {
                let allowed = allowed.clone();
                view! {
                    <div class="scope-presets">
                        <button type="button" class="button small" on:click=move |_| selected.set(allowed.clone())>"Everything my role allows"</button>
                        <button type="button" class="button small" on:click=move |_| selected.set(essentials.clone())>"Read-only essentials"</button>
                    </div>
                }
            })}
            {allowed.iter().copied().map(|scope| view! {
                <label class="check">
                    <input type="checkbox" value=scope.as_str()
                        prop:checked=move || selected.with(|s| s.contains(&scope))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            selected.update(|s| {
                                s.retain(|x| *x != scope);
                                if on { s.push(scope); s.sort(); }
                            });
                        }/>
                    <span>{scope.description()}</span>
                    <code class="scope-name">{scope.as_str()}</code>
                </label>
            }).collect_view()}
        </fieldset>
    }
}
