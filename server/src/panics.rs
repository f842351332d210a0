//! The net under the rule that no input panics a handler: a panic anywhere behind [`CatchPanicLayer`] still
//! answers — a 500 with a trace id that is also in the log — instead of dropping the connection.
use std::any::Any;
use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use futures_util::future::{CatchUnwind, Either, FutureExt, Map, Ready};
use http::Request;

/// Wraps a service so that its panics are answered as a 500 with a trace id. (tower-http's layer does the same but
/// boxes every response's body once more; this one keeps axum's response as it is.)
#[derive(Clone, Copy, Debug, Default)]
pub struct CatchPanicLayer;

impl<S> tower::Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CatchPanic { inner }
    }
}

/// The service [`CatchPanicLayer`] makes.
#[derive(Clone, Debug)]
pub struct CatchPanic<S> {
    inner: S,
}

/// What a caught (or absent) panic becomes.
type Settle = fn(std::thread::Result<Result<Response, Infallible>>) -> Result<Response, Infallible>;

impl<S, B> tower::Service<Request<B>> for CatchPanic<S>
where
    S: tower::Service<Request<B>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Map<CatchUnwind<AssertUnwindSafe<S::Future>>, Settle>, Ready<Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let settle: Settle = |outcome| outcome.unwrap_or_else(|panic| Ok(answer_panic(panic)));
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(answering) => Either::Left(AssertUnwindSafe(answering).catch_unwind().map(settle)),
            Err(panic) => Either::Right(futures_util::future::ready(Ok(answer_panic(panic)))),
        }
    }
}

/// A panic's answer: a 500 with a trace id that is also in the log.
fn answer_panic(panic: Box<dyn Any + Send + 'static>) -> Response {
    let trace_id = crate::api::new_trace_id();
    tracing::error!(trace_id = %trace_id, panic = panic_message(panic.as_ref()), "a request handler panicked");
    let body = serde_json::json!({ "code": "internal_error", "message": "Something went wrong on our side", "trace_id": trace_id });
    http::Response::builder()
        .status(http::StatusCode::INTERNAL_SERVER_ERROR)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

/// The message a panic carried, for the log.
pub fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied()).unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use axum::Router;
    use tower::{Layer, ServiceExt};

    use super::*;

    async fn answer_of(router: Router) -> (http::StatusCode, serde_json::Value) {
        let response = CatchPanicLayer.layer(router).oneshot(Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn a_handler_that_panics_answers_500_with_a_trace_id_instead_of_dropping_the_connection() {
        let (status, json) = answer_of(Router::new().route("/boom", get(|| async { panic!("a bug") as &'static str }))).await;
        assert_eq!(status, http::StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(json["code"], "internal_error");
        assert_eq!(json["trace_id"].as_str().map(str::len), Some(16));
    }

    #[tokio::test]
    async fn a_handler_that_answers_is_passed_through_untouched() {
        let (status, json) = answer_of(Router::new().route("/boom", get(|| async { axum::Json(serde_json::json!({ "fine": true })) }))).await;
        assert_eq!(status, http::StatusCode::OK);
        assert_eq!(json["fine"], true);
    }
}
