//! The dashboard: what needs attention first (deadlines missed or near), then how consent
//! goes — grants and withdrawals per purpose as server-drawn SVG, opt-in per touchpoint.
use super::{Done, Frame, Section, Signed, failure, render};
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use registre_app::console::PurposeSeries;
use registre_app::{BreachView, ProcessorView, RequestView};
use std::collections::HashMap;
use std::fmt::Write;

pub fn router() -> Router<AppState> {
    Router::new().route("/console/dashboard", get(show))
}

pub struct ChartModel {
    pub id: String,
    pub title: String,
    pub svg: String,
    pub total_grants: i64,
    pub total_withdrawals: i64,
}

pub struct RateModel {
    pub purpose: String,
    pub grants: i64,
    pub percent: i64,
}

pub struct TouchpointModel {
    pub key: String,
    pub title: String,
    pub submissions: i64,
    pub rates: Vec<RateModel>,
}

pub struct NoticeModel {
    pub touchpoint: String,
    pub title: String,
    pub version: String,
    pub previous: String,
    pub published_at: String,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    frame: Frame,
    overdue: Vec<RequestView>,
    due_soon: Vec<RequestView>,
    new_requests: Vec<RequestView>,
    breaches: Vec<BreachView>,
    processors: Vec<ProcessorView>,
    notices: Vec<NoticeModel>,
    charts: Vec<ChartModel>,
    touchpoints: Vec<TouchpointModel>,
    first_day: String,
    last_day: String,
    now: chrono::DateTime<chrono::Utc>,
}

impl DashboardPage {
    fn nothing_urgent(&self) -> bool {
        self.overdue.is_empty()
            && self.due_soon.is_empty()
            && self.breaches.is_empty()
            && self.processors.is_empty()
            && self.notices.is_empty()
    }

    fn days_left(&self, due: impl std::borrow::Borrow<chrono::DateTime<chrono::Utc>>) -> String {
        self.frame
            .t
            .days_left_text((*due.borrow() - self.now).num_hours().div_euclid(24))
    }

    fn hours_left(&self, by: impl std::borrow::Borrow<chrono::DateTime<chrono::Utc>>) -> String {
        self.frame
            .t
            .hours_left_text((*by.borrow() - self.now).num_hours())
    }
}

pub fn short_version(version: &str) -> String {
    let hex = version.strip_prefix("sha256:").unwrap_or(version);
    hex.chars().take(12).collect()
}

/// Grants above the axis, withdrawals below, one pair of bars per day; numbers only, so
/// nothing in it needs escaping.
pub fn consent_chart(series: &PurposeSeries) -> String {
    let days = series.grants.len().max(1);
    let (width, height, mid) = (600.0_f64, 120.0_f64, 80.0_f64);
    let max_up = series.grants.iter().copied().max().unwrap_or(0).max(1) as f64;
    let max_down = series.withdrawals.iter().copied().max().unwrap_or(0).max(1) as f64;
    let scale = 72.0 / max_up.max(max_down);
    let slot = width / days as f64;
    let bar = (slot * 0.7).max(1.0);
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img" aria-hidden="true" focusable="false">"#
    );
    let _ = write!(
        svg,
        r##"<line x1="0" y1="{mid}" x2="{width}" y2="{mid}" stroke="#c3c9d4" stroke-width="1"/>"##
    );
    for (i, (grants, withdrawals)) in series
        .grants
        .iter()
        .zip(series.withdrawals.iter())
        .enumerate()
    {
        let x = i as f64 * slot + (slot - bar) / 2.0;
        if *grants > 0 {
            let h = (*grants as f64 * scale).max(1.5);
            let _ = write!(
                svg,
                r##"<rect x="{x:.1}" y="{:.1}" width="{bar:.1}" height="{h:.1}" fill="#2146c7"><title>{grants}</title></rect>"##,
                mid - h
            );
        }
        if *withdrawals > 0 {
            let h = (*withdrawals as f64 * scale * 0.5).max(1.5);
            let _ = write!(
                svg,
                r##"<rect x="{x:.1}" y="{:.1}" width="{bar:.1}" height="{h:.1}" fill="#e8835f"><title>{withdrawals}</title></rect>"##,
                mid + 1.0
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

async fn show(State(state): State<AppState>, signed: Signed, Query(done): Query<Done>) -> Response {
    let t = signed.t();
    let language = t.language();
    let dashboard = match state.app.dashboard(&signed.0.principal).await {
        Ok(dashboard) => dashboard,
        Err(error) => return failure(&signed, error),
    };
    let purposes: HashMap<String, String> = state
        .app
        .purposes()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.key.to_string(), p.title.get(language).to_string()))
        .collect();
    let touchpoint_titles: HashMap<String, String> = state
        .app
        .touchpoints()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|tp| (tp.key.to_string(), tp.title.get(language).to_string()))
        .collect();
    let title_of = |map: &HashMap<String, String>, key: &str| {
        map.get(key).cloned().unwrap_or_else(|| key.to_string())
    };
    let frame = signed
        .page(
            &state.app,
            Section::Dashboard,
            t.nav_dashboard,
            done.done.as_deref(),
        )
        .await;
    let page = DashboardPage {
        first_day: dashboard
            .days
            .first()
            .map(|d| frame.day(*d))
            .unwrap_or_default(),
        last_day: dashboard
            .days
            .last()
            .map(|d| frame.day(*d))
            .unwrap_or_default(),
        charts: dashboard
            .series
            .iter()
            .map(|s| ChartModel {
                id: s.purpose.clone(),
                title: title_of(&purposes, &s.purpose),
                svg: consent_chart(s),
                total_grants: s.total_grants,
                total_withdrawals: s.total_withdrawals,
            })
            .collect(),
        touchpoints: dashboard
            .touchpoints
            .iter()
            .map(|tp| TouchpointModel {
                key: tp.touchpoint.clone(),
                title: title_of(&touchpoint_titles, &tp.touchpoint),
                submissions: tp.submissions,
                rates: tp
                    .purposes
                    .iter()
                    .map(|(purpose, grants, percent)| RateModel {
                        purpose: title_of(&purposes, purpose),
                        grants: *grants,
                        percent: *percent,
                    })
                    .collect(),
            })
            .collect(),
        notices: dashboard
            .changed_notices
            .iter()
            .map(|n| NoticeModel {
                title: title_of(&touchpoint_titles, &n.touchpoint),
                touchpoint: n.touchpoint.clone(),
                version: short_version(&n.version),
                previous: short_version(&n.previous_version),
                published_at: frame.dt(n.published_at),
            })
            .collect(),
        overdue: dashboard.overdue_requests,
        due_soon: dashboard.due_soon_requests,
        new_requests: dashboard.new_requests,
        breaches: dashboard.open_breaches,
        processors: dashboard.processors,
        now: state.app.now(),
        frame,
    };
    render(StatusCode::OK, &page)
}
