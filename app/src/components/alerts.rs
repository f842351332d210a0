//! The alert summary each layout loads once per page move: the sidebar's unread count and the dashboard banner
//! about keys that expire this week.
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::AlertSummary;

/// The layout's alert summary, shared with its pages through context; the Alerts page refetches it after
/// marking alerts read.
pub type AlertSummaryResource = Resource<Result<AlertSummary, AppError>>;

/// The layout's alert summary, for pages inside a layout.
pub fn use_alert_summary() -> AlertSummaryResource {
    expect_context::<AlertSummaryResource>()
}

/// "2 API keys expire this week — Roll now", when any of the person's keys do; `keys_href` is their keys panel.
#[component]
pub fn ExpiryBanner(keys_href: &'static str) -> impl IntoView {
    let summary = use_alert_summary();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let expiring = summary.await.map(|summary| summary.keys_expiring_this_week).unwrap_or(0);
                (expiring > 0).then(|| {
                    let what = if expiring == 1 { "1 API key expires this week".to_owned() } else { format!("{expiring} API keys expire this week") };
                    view! {
                        <div class="notice warning">
                            <p>{what} " — " <a href=keys_href>"Roll now"</a></p>
                        </div>
                    }
                })
            })}
        </Suspense>
    }
}
