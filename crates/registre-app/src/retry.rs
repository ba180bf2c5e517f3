//! The one retry of a change set that lost the race to create a person.
use crate::{AppError, AppResult};
use registre_store::{SUBJECT_INDEX_CONSTRAINT, StoreError};

/// Whether `error` is the store refusing a change on the unique constraint `name`.
pub(crate) fn is_conflict(error: &AppError, name: &str) -> bool {
    matches!(error, AppError::Store(StoreError::Conflict { constraint }) if constraint == name)
}

/// Runs `attempt(false)` and, if it failed on [`SUBJECT_INDEX_CONSTRAINT`], once more as
/// `attempt(true)`.
///
/// A person seen for the first time is created inside the change set that records them (a
/// form, a consent), so that a first submission costs one group-committed transaction
/// rather than two. When two requests for the same new person commit at once, the second
/// fails on the blind index. Its retry must not create the person again but take the one
/// stored meanwhile (`retried` tells it so); after that the subject exists and cannot
/// conflict again, so one retry is enough and a second conflict is an error.
pub(crate) async fn retry_on_new_subject_conflict<T, F, Fut>(mut attempt: F) -> AppResult<T>
where
    F: FnMut(bool) -> Fut,
    Fut: Future<Output = AppResult<T>>,
{
    match attempt(false).await {
        Err(error) if is_conflict(&error, SUBJECT_INDEX_CONSTRAINT) => attempt(true).await,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn conflict(name: &str) -> AppError {
        AppError::Store(StoreError::Conflict {
            constraint: name.into(),
        })
    }

    #[tokio::test]
    async fn a_commit_that_lost_the_race_to_create_the_person_is_tried_once_more() {
        let calls = AtomicUsize::new(0);
        let result = retry_on_new_subject_conflict(|retried| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if retried {
                    Ok("with the stored subject")
                } else {
                    Err(conflict(SUBJECT_INDEX_CONSTRAINT))
                }
            }
        })
        .await;
        assert_eq!(result.unwrap(), "with the stored subject");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_second_conflict_or_another_constraint_is_not_retried() {
        let calls = AtomicUsize::new(0);
        let result: AppResult<()> = retry_on_new_subject_conflict(|_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(conflict(SUBJECT_INDEX_CONSTRAINT)) }
        })
        .await;
        assert!(is_conflict(&result.unwrap_err(), SUBJECT_INDEX_CONSTRAINT));
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let calls = AtomicUsize::new(0);
        let result: AppResult<()> = retry_on_new_subject_conflict(|_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(conflict("spent_tokens_pkey")) }
        })
        .await;
        assert!(is_conflict(&result.unwrap_err(), "spent_tokens_pkey"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
