//! Report answers kept for the next identical question at the same point of the log.
//!
//! Open cases, the IVO worklist and the council's statistics are each a function of the log's
//! prefix up to `Projection::position_as_of(as_of)` and of their resolved parameters (the
//! projections use `as_of` for nothing else): the log below a position never changes, and
//! `recorded_at` never goes backwards. `as_of` itself appears in the answer only as its own
//! field. So two questions of the same kind, with the same parameters and the same position,
//! get the same answer but for that field, whatever their `as_of`.
//!
//! An answer is kept, keyed by that [`Question`] (the position included, so an answer is never
//! served for another point of the log: never stale), as the text before and after its `as_of`
//! value, and served with the asker's `as_of` put back — byte for byte what rendering it again
//! would give (the tests hold it to that). The key names no caller: the reports show no
//! identity number, so every role that may read them gets the same bytes. Only JSON is kept
//! (the other formats write `as_of` in Swedish words), and only a text in which the `as_of`
//! value occurs exactly once. At most [`ANSWERS_KEPT_MAX`] answers are kept, the oldest
//! dropped first.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use domain::Quarter;

/// Answers kept at most.
pub const ANSWERS_KEPT_MAX: usize = 16;

/// A report question with its defaults resolved, at a position of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Question {
    /// Open cases on a date.
    OpenCases {
        /// The date.
        on: NaiveDate,
        /// `position_as_of(as_of)`.
        position: u64,
    },
    /// A quarter's report.
    Quarter {
        /// Which.
        report: QuarterReport,
        /// The quarter.
        quarter: Quarter,
        /// The date days are counted to, as asked (the default follows from the quarter).
        on: Option<NaiveDate>,
        /// `position_as_of(as_of)`.
        position: u64,
    },
}

/// The reports of a quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QuarterReport {
    /// The IVO worklist.
    Ivo,
    /// The council's statistics.
    Council,
}

/// A kept answer: the JSON text around its `as_of` value.
#[derive(Debug)]
struct Kept {
    before: String,
    after: String,
}

/// The kept answers, newest last.
#[derive(Debug, Default)]
pub(crate) struct Answers {
    kept: Mutex<VecDeque<(Question, std::sync::Arc<Kept>)>>,
    served: AtomicU64,
    rendered: AtomicU64,
}

impl Answers {
    /// The JSON answer to `question` as of `as_of`: a kept one with `as_of` put in, or
    /// `render()` (which must answer `question` as of `as_of`), kept for the next time.
    pub(crate) fn json(
        &self,
        question: Question,
        as_of: DateTime<Utc>,
        render: impl FnOnce() -> String,
    ) -> String {
        let instant = domain::event::format_instant(&as_of);
        let found = self
            .lock()
            .iter()
            .rev()
            .find(|(q, _)| *q == question)
            .map(|(_, kept)| std::sync::Arc::clone(kept));
        if let Some(kept) = found {
            self.served.fetch_add(1, Ordering::Relaxed);
            let mut text =
                String::with_capacity(kept.before.len() + instant.len() + kept.after.len());
            text.push_str(&kept.before);
            text.push_str(&instant);
            text.push_str(&kept.after);
            return text;
        }
        self.rendered.fetch_add(1, Ordering::Relaxed);
        let text = render();
        let mut places = memchr::memmem::find_iter(text.as_bytes(), instant.as_bytes());
        if let (Some(at), None) = (places.next(), places.next()) {
            let kept = Kept {
                before: text[..at].to_owned(),
                after: text[at + instant.len()..].to_owned(),
            };
            let mut all = self.lock();
            if !all.iter().any(|(q, _)| *q == question) {
                if all.len() == ANSWERS_KEPT_MAX {
                    all.pop_front();
                }
                all.push_back((question, std::sync::Arc::new(kept)));
            }
        }
        text
    }

    /// Answers served from those kept, and rendered afresh, since the server started.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.served.load(Ordering::Relaxed),
            self.rendered.load(Ordering::Relaxed),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Question, std::sync::Arc<Kept>)>> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: u32) -> DateTime<Utc> {
        chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 24, 10, 0, second)
            .single()
            .expect("a time")
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).expect("a date")
    }

    /// An answer as a report renders it: `as_of` once, among other fields.
    fn answer(as_of: DateTime<Utc>, items: &str) -> String {
        let instant = domain::event::format_instant(&as_of);
        format!(
            "{{\n  \"on\": \"2026-11-24\",\n  \"as_of\": \"{instant}\",\n  \"items\": [{items}]\n}}\n"
        )
    }

    #[test]
    fn the_same_question_at_the_same_position_is_the_kept_answer_with_its_own_as_of() {
        let answers = Answers::default();
        let question = Question::OpenCases {
            on: day(),
            position: 7,
        };
        let first = answers.json(question, at(1), || answer(at(1), "1"));
        assert_eq!(first, answer(at(1), "1"));
        let kept = answers.json(question, at(2), || unreachable!("kept"));
        assert_eq!(kept, answer(at(2), "1"));
        assert_eq!(answers.counts(), (1, 1));
    }

    #[test]
    fn another_position_or_question_is_rendered_afresh() {
        let answers = Answers::default();
        let question = |position| Question::OpenCases {
            on: day(),
            position,
        };
        answers.json(question(7), at(1), || answer(at(1), "1"));
        let later = answers.json(question(8), at(2), || answer(at(2), "1, 2"));
        assert_eq!(later, answer(at(2), "1, 2"));
        let quarter: Quarter = "2026Q4".parse().expect("a quarter");
        let [ivo, council] =
            [QuarterReport::Ivo, QuarterReport::Council].map(|report| Question::Quarter {
                report,
                quarter,
                on: None,
                position: 8,
            });
        assert_eq!(
            answers.json(ivo, at(3), || answer(at(3), "3")),
            answer(at(3), "3")
        );
        assert_eq!(
            answers.json(council, at(3), || answer(at(3), "4")),
            answer(at(3), "4")
        );
        assert_eq!(answers.counts(), (0, 4));
        assert_eq!(
            answers.json(question(7), at(4), || unreachable!("kept")),
            answer(at(4), "1")
        );
    }

    #[test]
    fn an_answer_that_shows_its_as_of_twice_is_not_kept() {
        let answers = Answers::default();
        let question = Question::OpenCases {
            on: day(),
            position: 7,
        };
        let twice = |as_of| {
            let instant = domain::event::format_instant(&as_of);
            answer(as_of, &format!("\"{instant}\""))
        };
        answers.json(question, at(1), || twice(at(1)));
        assert_eq!(answers.json(question, at(2), || twice(at(2))), twice(at(2)));
        assert_eq!(answers.counts(), (0, 2));
    }

    #[test]
    fn only_the_newest_answers_are_kept() {
        let answers = Answers::default();
        let question = |position| Question::OpenCases {
            on: day(),
            position,
        };
        for position in 0..=ANSWERS_KEPT_MAX as u64 {
            answers.json(question(position), at(1), || answer(at(1), "1"));
        }
        assert_eq!(answers.lock().len(), ANSWERS_KEPT_MAX);
        answers.json(question(ANSWERS_KEPT_MAX as u64), at(2), || {
            unreachable!("kept")
        });
        answers.json(question(0), at(2), || answer(at(2), "1"));
        assert_eq!(answers.counts(), (1, ANSWERS_KEPT_MAX as u64 + 2));
    }
}
