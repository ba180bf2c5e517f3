//! Reading the rest of a body a handler refused, so that the client hears the refusal.
//!
//! A handler that answers before reading the whole body (413 past a size limit, 415, 401)
//! leaves the rest of the upload unread. The connection is then closed, and closing a socket
//! with unread data resets it: a client still sending gets "broken pipe" or "connection
//! reset" instead of the answer. So the unread rest is handed back here when the handler
//! drops it, and read and thrown away, within bounds, before the answer goes out: the client
//! finishes sending, then reads a clear JSON error. Past the bounds the connection is closed
//! as before: a client cannot make the server read without end.
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// Most bytes read and thrown away after a refusal.
const DRAIN_BYTES: usize = 32 * 1024 * 1024;
/// Longest time spent doing it.
const DRAIN_TIME: Duration = Duration::from_secs(5);

type Unread = Arc<Mutex<Option<Body>>>;

/// The middleware: bodies pass through untouched while handlers read them.
pub(crate) async fn drain_refused_bodies(request: Request, next: Next) -> Response {
    let unread: Unread = Arc::default();
    let (parts, body) = request.into_parts();
    let body = Body::new(HandBack {
        inner: Some(body),
        unread: unread.clone(),
    });
    let response = next.run(Request::from_parts(parts, body)).await;
    let rest = unread.lock().ok().and_then(|mut slot| slot.take());
    if let Some(rest) = rest {
        let _ = tokio::time::timeout(DRAIN_TIME, discard(rest)).await;
    }
    response
}

async fn discard(body: Body) {
    use futures_util::StreamExt;
    let mut data = body.into_data_stream();
    let mut read = 0usize;
    while let Some(Ok(chunk)) = data.next().await {
        read += chunk.len();
        if read > DRAIN_BYTES {
            return;
        }
    }
}

/// A body that, dropped before its end, hands what is left of it back to the middleware.
struct HandBack {
    inner: Option<Body>,
    unread: Unread,
}

impl HttpBody for HandBack {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match self.inner.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for HandBack {
    fn drop(&mut self) {
        if let Some(body) = self.inner.take()
            && !body.is_end_stream()
            && let Ok(mut slot) = self.unread.lock()
        {
            *slot = Some(body);
        }
    }
}
