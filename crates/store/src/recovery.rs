//! Removing what a crash left above the commit point: the entries of an unfinished multi-batch
//! import, written in batches above `meta/head` where no reader looks.
//!
//! The removal takes several batches, and a crash can stop it between any two, so it goes in
//! three passes that can each be run again: first the `streams` and `event_ids` entries of every
//! event above the commit point (found through the stream numbers, which are still there), then
//! the stream numbers of the streams the import created (their first event is above the commit
//! point), and last the events themselves. Until the last pass is done, the next opening finds
//! the events again and repeats what is left; a stream number is gone only after every `streams`
//! entry under it, so it is never handed out again while a decision holds it.

use std::ops::Bound;

use kv::{Batch, KvEngine};

use crate::api::StoreError;
use crate::embedded::decode_line;
use crate::layout::{
    EVENT_IDS, EVENTS, INDEXED_KEY, META, STREAM_NOS, STREAMS, decode_u64, position_key,
    read_stream_no, stream_key,
};

/// Entries removed per batch, at most.
const REMOVE_PAGE_EVENTS: usize = 4096;

/// Removes every entry above position `head`.
pub(crate) fn remove_above_head(kv: &dyn KvEngine, head: u64) -> Result<(), StoreError> {
    for_each_page_above(kv, head, |kv, page, batch| {
        for (position, line) in page {
            if let Ok(event) = decode_line(*position, line) {
                if let Some(no) = read_stream_no(kv, event.decision_id.as_bytes())? {
                    batch.delete(STREAMS, stream_key(no, event.version).to_vec());
                }
                batch.delete(EVENT_IDS, event.event_id.as_bytes().to_vec());
            }
        }
        Ok(false)
    })?;
    for_each_page_above(kv, head, |_, page, batch| {
        for (position, line) in page {
            if let Ok(event) = decode_line(*position, line)
                && event.version == 1
            {
                batch.delete(STREAM_NOS, event.decision_id.as_bytes().to_vec());
            }
        }
        Ok(false)
    })?;
    for_each_page_above(kv, head, |_, page, batch| {
        for (position, _) in page {
            batch.delete(EVENTS, position_key(*position).to_vec());
        }
        Ok(true)
    })?;
    // The index tables now cover nothing above the head.
    if let Some(indexed) = kv.get(META, INDEXED_KEY)?
        && decode_u64(&indexed).is_none_or(|indexed| indexed > head)
    {
        let mut batch = Batch::new();
        batch.put(META, INDEXED_KEY.to_vec(), position_key(head).to_vec());
        kv.commit(batch)?;
    }
    Ok(())
}

/// Calls `remove` on each page of events above `head` and commits the batch it fills. `remove`
/// answers whether it removed the page's events (then the next page starts above the head
/// again).
fn for_each_page_above(
    kv: &dyn KvEngine,
    head: u64,
    mut remove: impl FnMut(&dyn KvEngine, &[(u64, Vec<u8>)], &mut Batch) -> Result<bool, StoreError>,
) -> Result<(), StoreError> {
    let mut after = head;
    loop {
        let page: Vec<(u64, Vec<u8>)> = kv
            .scan(
                EVENTS,
                Bound::Excluded(&position_key(after)),
                Bound::Unbounded,
                REMOVE_PAGE_EVENTS,
            )?
            .into_iter()
            .map(|(key, line)| (decode_u64(&key).unwrap_or(0), line))
            .collect();
        let Some(&(last, _)) = page.last() else {
            return Ok(());
        };
        let mut batch = Batch::new();
        let removed_events = remove(kv, &page, &mut batch)?;
        tracing::warn!(
            removed = batch.len(),
            "removing an unfinished import left above the commit point"
        );
        kv.commit(batch)?;
        if !removed_events {
            after = last;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use domain::{DecisionId, EventType, NewEvent};
    use kv::KvEngine;

    use super::*;
    use crate::layout::{HEAD_KEY, next_stream_no};
    use crate::{EmbeddedStore, EventStore, ExpectedVersion, system_clock};

    fn event(event_type: EventType, decision_id: DecisionId) -> NewEvent {
        let mut event =
            NewEvent::from_json(&domain::schema::example(event_type).to_string()).expect("example");
        event.event_id = None;
        event.decision_id = decision_id;
        event
    }

    fn keys(kv: &dyn KvEngine, table: kv::Table) -> Vec<Vec<u8>> {
        kv.scan(table, Bound::Unbounded, Bound::Unbounded, 100)
            .expect("scan")
            .into_iter()
            .map(|(key, _)| key)
            .collect()
    }

    /// Given a committed stream A, and above the commit point an event of A and a new stream B
    /// (what a crash leaves of an unfinished import), removing them leaves exactly A's first
    /// event and its index entries, and B's stream number is free again.
    #[tokio::test]
    async fn what_lies_above_the_head_goes_with_its_index_entries_and_stream_numbers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = EmbeddedStore::open(dir.path(), None, system_clock()).expect("open");
        let a = DecisionId::from_uuid(uuid::Uuid::new_v4());
        let b = DecisionId::from_uuid(uuid::Uuid::new_v4());
        let first = store
            .append(
                a,
                ExpectedVersion::NoStream,
                vec![event(EventType::DecisionGranted, a)],
            )
            .await
            .expect("append")
            .expect("accepted");
        store.committed();
        let kv: Arc<dyn KvEngine> = Arc::clone(store.kv());
        let head = kv.get(META, HEAD_KEY).expect("read").expect("a head");
        for (decision, expected, event_type) in [
            (a, ExpectedVersion::Exact(1), EventType::OrderSent),
            (b, ExpectedVersion::NoStream, EventType::DecisionGranted),
            (b, ExpectedVersion::Exact(1), EventType::OrderSent),
        ] {
            store
                .append(decision, expected, vec![event(event_type, decision)])
                .await
                .expect("append")
                .expect("accepted");
        }
        drop(store);
        assert_eq!(keys(kv.as_ref(), STREAM_NOS).len(), 2);
        assert_eq!(next_stream_no(kv.as_ref()).expect("next"), 3);
        // The crash: the commit point back at the first event.
        let mut batch = Batch::new();
        batch.put(META, HEAD_KEY.to_vec(), head);
        kv.commit(batch).expect("commit");

        remove_above_head(kv.as_ref(), 1).expect("removed");

        assert_eq!(keys(kv.as_ref(), EVENTS), vec![position_key(1).to_vec()]);
        assert_eq!(keys(kv.as_ref(), STREAM_NOS), vec![a.as_bytes().to_vec()]);
        assert_eq!(
            read_stream_no(kv.as_ref(), a.as_bytes()).expect("read"),
            Some(1)
        );
        assert_eq!(keys(kv.as_ref(), STREAMS), vec![stream_key(1, 1).to_vec()]);
        assert_eq!(
            keys(kv.as_ref(), EVENT_IDS),
            vec![first.events[0].event_id.as_bytes().to_vec()]
        );
        assert_eq!(next_stream_no(kv.as_ref()).expect("next"), 2);
        // Nothing is left to do a second time.
        remove_above_head(kv.as_ref(), 1).expect("removed");
        assert_eq!(keys(kv.as_ref(), STREAMS), vec![stream_key(1, 1).to_vec()]);
    }
}
