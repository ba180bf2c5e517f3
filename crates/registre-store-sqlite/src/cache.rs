//! A read cache for the consent check and the subject look-ups of every write, the hottest
//! reads of all. This process is the only writer of its SQLite file while it serves, so its
//! own commits update the cache as they land; a write from another process (a CLI import,
//! `purge`) is noticed through the writer connection's `PRAGMA data_version` within
//! [`EXTERNAL_WRITE_POLL`] and clears the cache.
//!
//! Two rules keep it coherent with the database:
//! - a reader notes the generation before it reads one value and caches it only if nothing
//!   was invalidated meanwhile: a value read just before a commit is never cached after it;
//! - the warm-up reads whole pages while commits go on, so it merges a page only into keys
//!   that no commit touched (a key a commit wrote is in the map; a key a commit forgot is in
//!   `stale`), and only if the cache was not cleared since the page was read.
//!
//! When the warm-up has read a whole table (subjects, suppressions), the cache is
//! *complete* for it: a key neither cached nor stale is known to be absent, so a look-up for
//! a person never seen (every sign-up) costs no read at all.
use chrono::{DateTime, Utc};
use registre_store::{CheckSubject, CheckView, ConsentStateRecord, SubjectRecord};
use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use uuid::Uuid;

pub(crate) const EXTERNAL_WRITE_POLL: Duration = Duration::from_millis(250);
/// Bound on cached entries per map; past it the map starts again empty.
const MAX_ENTRIES: usize = 2_000_000;
/// Entries per map the start-up warm-up fills at most, leaving room for traffic.
pub(crate) const WARM_ENTRIES: usize = 1_500_000;
/// Bound on forgotten keys remembered per map; past it the map starts again empty.
const MAX_STALE: usize = 100_000;

/// One table's cached rows, by key: `Some` for a row, `None` for a row known to be absent.
#[derive(Debug)]
struct Known<K, V> {
    entries: HashMap<K, Option<V>>,
    /// Keys a commit changed in a way the cache does not know the outcome of.
    stale: HashSet<K>,
    /// Every key of the table is in `entries` or `stale`.
    complete: bool,
}

impl<K, V> Default for Known<K, V> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            stale: HashSet::new(),
            complete: false,
        }
    }
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Known<K, V> {
    /// `Some(answer)` when the cache knows it, `None` when the database must be read.
    fn get<Q>(&self, key: &Q) -> Option<Option<&V>>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        match self.entries.get(key) {
            Some(value) => Some(value.as_ref()),
            None if self.complete && !self.stale.contains(key) => Some(None),
            None => None,
        }
    }

    fn reset(&mut self) {
        self.entries.clear();
        self.stale.clear();
        self.complete = false;
    }

    /// A value read from the database now, or written by a commit.
    fn insert(&mut self, key: K, value: Option<V>) {
        if self.entries.len() >= MAX_ENTRIES {
            self.reset();
        }
        self.stale.remove(&key);
        self.entries.insert(key, value);
    }

    fn forget<Q>(&mut self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.entries.remove(key);
        if self.stale.len() >= MAX_STALE {
            self.reset();
        } else {
            self.stale.insert(key.to_owned());
        }
    }
}

#[derive(Default, Debug)]
pub(crate) struct CheckCache {
    /// Bumped by every invalidation: single reads started before it are not cached.
    generation: AtomicU64,
    /// Bumped by every clear: warm-up pages read before it are not merged.
    epoch: AtomicU64,
    warming: AtomicBool,
    /// Set when the cache lost what the warm-up gave it: the watcher warms it again.
    rewarm: AtomicBool,
    subjects: RwLock<Known<Vec<u8>, SubjectRecord>>,
    suppressions: RwLock<Known<Vec<u8>, DateTime<Utc>>>,
    states: RwLock<Known<(Uuid, String), ConsentStateRecord>>,
}

/// A warm-up page read in `epoch`, merged under the second rule of the module.
fn merge<K: std::hash::Hash + Eq + Clone, V: Clone>(
    cache: &CheckCache,
    map: &RwLock<Known<K, V>>,
    epoch: u64,
    rows: Vec<(K, V)>,
) -> bool {
    let Ok(mut map) = map.write() else {
        return false;
    };
    if cache.epoch.load(Ordering::SeqCst) != epoch || map.entries.len() + rows.len() > WARM_ENTRIES
    {
        return false;
    }
    for (key, value) in rows {
        if !map.stale.contains(&key) {
            // An entry a commit or a read put there meanwhile is at least as fresh.
            map.entries.entry(key).or_insert(Some(value));
        }
    }
    true
}

fn mark_complete<K, V>(cache: &CheckCache, map: &RwLock<Known<K, V>>, epoch: u64) {
    if let Ok(mut map) = map.write()
        && cache.epoch.load(Ordering::SeqCst) == epoch
    {
        map.complete = true;
    }
}

fn put<K: std::hash::Hash + Eq + Clone, V: Clone>(
    generation: &AtomicU64,
    seen: u64,
    map: &RwLock<Known<K, V>>,
    key: K,
    value: Option<V>,
) {
    if let Ok(mut map) = map.write() {
        if generation.load(Ordering::SeqCst) != seen {
            return;
        }
        map.insert(key, value);
    }
}

impl CheckCache {
    /// To call before reading the database for a value to cache.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// To call before reading a warm-up page.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    pub(crate) fn subject(&self, blind_index: &[u8]) -> Option<Option<SubjectRecord>> {
        let subjects = self.subjects.read().ok()?;
        subjects.get(blind_index).map(|s| s.cloned())
    }

    /// The check's view from the cache alone, if everything it needs is cached; no clone
    /// of sealed fields.
    pub(crate) fn check_view(&self, blind_index: &[u8], purpose: &str) -> Option<CheckView> {
        let subject = {
            let subjects = self.subjects.read().ok()?;
            subjects.get(blind_index)?.map(|s| CheckSubject {
                id: s.id,
                restricted: s.restricted,
                objected_to_marketing: s.objected_to_marketing,
            })
        };
        match subject {
            Some(subject) => Some(CheckView {
                subject: Some(subject),
                state: self.state(subject.id, purpose)?,
                erased_since: None,
            }),
            None => Some(CheckView {
                subject: None,
                state: None,
                erased_since: self.suppression(blind_index)?,
            }),
        }
    }

    /// Claims the warm-up; false when one runs already.
    pub(crate) fn start_warming(&self) -> bool {
        !self.warming.swap(true, Ordering::SeqCst)
    }

    pub(crate) fn stop_warming(&self) {
        self.warming.store(false, Ordering::SeqCst);
    }

    /// Asks the watcher for a warm-up (one was running when another was wanted).
    pub(crate) fn request_rewarm(&self) {
        self.rewarm.store(true, Ordering::SeqCst);
    }

    /// Whether a warm-up is wanted since the last call.
    pub(crate) fn take_rewarm(&self) -> bool {
        self.rewarm.swap(false, Ordering::SeqCst)
    }

    /// Subjects read by the warm-up; false when they were not merged (the cache was cleared
    /// since, or the map is full enough).
    pub(crate) fn merge_subjects(&self, epoch: u64, subjects: Vec<SubjectRecord>) -> bool {
        let rows = subjects
            .into_iter()
            .map(|s| (s.blind_index.clone(), s))
            .collect();
        merge(self, &self.subjects, epoch, rows)
    }

    /// Consent states read by the warm-up (see [`Self::merge_subjects`]).
    pub(crate) fn merge_states(&self, epoch: u64, states: Vec<ConsentStateRecord>) -> bool {
        let rows = states
            .into_iter()
            .map(|s| ((s.subject_id, s.purpose.clone()), s))
            .collect();
        merge(self, &self.states, epoch, rows)
    }

    /// Every suppression, read by the warm-up in one page.
    pub(crate) fn merge_suppressions(
        &self,
        epoch: u64,
        rows: Vec<(Vec<u8>, DateTime<Utc>)>,
    ) -> bool {
        merge(self, &self.suppressions, epoch, rows)
    }

    /// The warm-up read the whole subjects table in `epoch`, every page merged.
    pub(crate) fn mark_subjects_complete(&self, epoch: u64) {
        mark_complete(self, &self.subjects, epoch);
    }

    /// The warm-up read the whole suppression list in `epoch` and merged it.
    pub(crate) fn mark_suppressions_complete(&self, epoch: u64) {
        mark_complete(self, &self.suppressions, epoch);
    }

    pub(crate) fn put_subject(
        &self,
        seen: u64,
        blind_index: &[u8],
        subject: Option<SubjectRecord>,
    ) {
        put(
            &self.generation,
            seen,
            &self.subjects,
            blind_index.to_vec(),
            subject,
        );
    }

    /// A subject this process has just committed, as stored.
    pub(crate) fn insert_subject(&self, subject: &SubjectRecord) {
        if let Ok(mut map) = self.subjects.write() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            map.insert(subject.blind_index.clone(), Some(subject.clone()));
        }
    }

    pub(crate) fn forget_subject(&self, blind_index: &[u8]) {
        if let Ok(mut map) = self.subjects.write() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            map.forget(blind_index);
        }
    }

    /// A subject's flags changed and only its id is at hand: its entry is found by a scan
    /// (rare: restrictions and objections).
    pub(crate) fn forget_subject_id(&self, id: Uuid) {
        if let Ok(mut map) = self.subjects.write() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            let keys: Vec<Vec<u8>> = map
                .entries
                .iter()
                .filter(|(_, s)| s.as_ref().is_some_and(|s| s.id == id))
                .map(|(k, _)| k.clone())
                .collect();
            for key in keys {
                map.forget(key.as_slice());
            }
        }
    }

    /// Subjects changed in ways the cache cannot follow (a rectified email): forget them
    /// all; the cache is no longer complete until the next warm-up.
    pub(crate) fn forget_all_subjects(&self) {
        if let Ok(mut map) = self.subjects.write() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            self.epoch.fetch_add(1, Ordering::SeqCst);
            map.reset();
        }
        self.rewarm.store(true, Ordering::SeqCst);
    }

    pub(crate) fn suppression(&self, blind_index: &[u8]) -> Option<Option<DateTime<Utc>>> {
        let map = self.suppressions.read().ok()?;
        map.get(blind_index).map(|at| at.copied())
    }

    pub(crate) fn put_suppression(
        &self,
        seen: u64,
        blind_index: &[u8],
        since: Option<DateTime<Utc>>,
    ) {
        put(
            &self.generation,
            seen,
            &self.suppressions,
            blind_index.to_vec(),
            since,
        );
    }

    /// Forgets a suppression (the list only grows, but a restore may rewrite it).
    pub(crate) fn forget_suppression(&self, blind_index: &[u8]) {
        if let Ok(mut map) = self.suppressions.write() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            map.forget(blind_index);
        }
    }

    pub(crate) fn state(
        &self,
        subject_id: Uuid,
        purpose: &str,
    ) -> Option<Option<ConsentStateRecord>> {
        let map = self.states.read().ok()?;
        map.get(&(subject_id, purpose.to_string()))
            .map(|s| s.cloned())
    }

    pub(crate) fn put_state(
        &self,
        seen: u64,
        subject_id: Uuid,
        purpose: &str,
        state: Option<ConsentStateRecord>,
    ) {
        put(
            &self.generation,
            seen,
            &self.states,
            (subject_id, purpose.to_string()),
            state,
        );
    }

    pub(crate) fn forget_state(&self, subject_id: Uuid, purpose: &str) {
        if let Ok(mut map) = self.states.write() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            map.forget(&(subject_id, purpose.to_string()));
        }
    }

    pub(crate) fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut map) = self.subjects.write() {
            map.reset();
        }
        if let Ok(mut map) = self.suppressions.write() {
            map.reset();
        }
        if let Ok(mut map) = self.states.write() {
            map.reset();
        }
        self.rewarm.store(true, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn subject(index: u8) -> SubjectRecord {
        SubjectRecord {
            id: Uuid::now_v7(),
            blind_index: vec![index],
            wrapped_key: vec![],
            email_sealed: vec![],
            external_id_index: None,
            external_id_sealed: None,
            restricted: false,
            objected_to_marketing: false,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn a_complete_cache_answers_absent_for_unknown_keys_but_not_for_forgotten_ones() {
        let cache = CheckCache::default();
        let epoch = cache.epoch();
        assert!(cache.merge_subjects(epoch, vec![subject(1)]));
        assert_eq!(
            cache.subject(&[2]),
            None,
            "not complete yet: read the database"
        );
        cache.mark_subjects_complete(epoch);
        assert_eq!(cache.subject(&[2]), Some(None), "complete: absent");
        assert!(cache.subject(&[1]).unwrap().is_some());
        cache.forget_subject(&[1]);
        assert_eq!(cache.subject(&[1]), None, "forgotten: read the database");
        let fresh = subject(1);
        cache.put_subject(cache.generation(), &[1], Some(fresh.clone()));
        assert_eq!(cache.subject(&[1]), Some(Some(fresh)));
    }

    #[test]
    fn a_warm_up_page_never_overrides_what_a_commit_did_meanwhile() {
        let cache = CheckCache::default();
        let epoch = cache.epoch();
        // Read before the commits below: 1 and 2 exist.
        let page = vec![subject(1), subject(2)];
        // A commit erases 1 and creates 3; another changes 2's flags (by id).
        cache.forget_subject(&[1]);
        let created = subject(3);
        cache.insert_subject(&created);
        let two = page[1].clone();
        cache.merge_subjects(epoch, vec![two.clone()]);
        cache.forget_subject_id(two.id);
        assert!(cache.merge_subjects(epoch, page));
        cache.mark_subjects_complete(epoch);
        assert_eq!(
            cache.subject(&[1]),
            None,
            "erased meanwhile: never the page's row"
        );
        assert_eq!(
            cache.subject(&[2]),
            None,
            "changed meanwhile: never the page's row"
        );
        assert_eq!(cache.subject(&[3]), Some(Some(created)));
        assert_eq!(cache.subject(&[4]), Some(None));
    }

    #[test]
    fn a_page_read_before_a_clear_is_not_merged_and_a_clear_ends_completeness() {
        let cache = CheckCache::default();
        let epoch = cache.epoch();
        cache.mark_subjects_complete(epoch);
        assert_eq!(cache.subject(&[9]), Some(None));
        cache.clear();
        assert!(!cache.merge_subjects(epoch, vec![subject(9)]));
        cache.mark_subjects_complete(epoch);
        assert_eq!(cache.subject(&[9]), None);
        let epoch = cache.epoch();
        cache.forget_all_subjects();
        cache.mark_subjects_complete(epoch);
        assert_eq!(cache.subject(&[9]), None);
    }

    #[test]
    fn a_single_read_started_before_an_invalidation_is_not_cached() {
        let cache = CheckCache::default();
        let seen = cache.generation();
        cache.insert_subject(&subject(5));
        cache.put_subject(seen, &[5], None);
        assert!(cache.subject(&[5]).unwrap().is_some());
    }
}
