//! [`Batch`]: the puts and deletes that one commit applies atomically, and the check of its
//! limits, done whole before anything is written.

use crate::error::{BatchProblem, KvError};
use crate::{
    BATCH_BYTES_MAX, BATCH_OPS_MAX, BATCH_PROBLEMS_LISTED_MAX, KEY_BYTES_MAX, Table,
    VALUE_BYTES_MAX,
};

/// One operation of a [`Batch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Store `value` under `key` in `table`, replacing any value there.
    Put {
        /// The table written.
        table: Table,
        /// The key.
        key: Vec<u8>,
        /// The value.
        value: Vec<u8>,
    },
    /// Remove `key` from `table`; removing an absent key is not an error.
    Delete {
        /// The table written.
        table: Table,
        /// The key.
        key: Vec<u8>,
    },
}

impl Op {
    /// The table this operation writes.
    pub fn table(&self) -> Table {
        match self {
            Op::Put { table, .. } | Op::Delete { table, .. } => *table,
        }
    }

    /// The key this operation writes.
    pub fn key(&self) -> &[u8] {
        match self {
            Op::Put { key, .. } | Op::Delete { key, .. } => key,
        }
    }

    fn bytes(&self) -> usize {
        match self {
            Op::Put { key, value, .. } => key.len() + value.len(),
            Op::Delete { key, .. } => key.len(),
        }
    }
}

/// Puts and deletes across any tables, applied in order by one atomic, durable
/// [`KvEngine::commit`](crate::KvEngine::commit). A later operation on the same key wins.
///
/// Limits are checked by [`Batch::check`] (which `commit` calls), not by the builder methods, so
/// that the whole batch is judged at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    ops: Vec<Op>,
    bytes: usize,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Adds: store `value` under `key` in `table`.
    pub fn put(
        &mut self,
        table: Table,
        key: impl Into<Vec<u8>>,
        value: impl Into<Vec<u8>>,
    ) -> &mut Batch {
        self.push(Op::Put {
            table,
            key: key.into(),
            value: value.into(),
        })
    }

    /// Adds: remove `key` from `table`.
    pub fn delete(&mut self, table: Table, key: impl Into<Vec<u8>>) -> &mut Batch {
        self.push(Op::Delete {
            table,
            key: key.into(),
        })
    }

    fn push(&mut self, op: Op) -> &mut Batch {
        self.bytes = self.bytes.saturating_add(op.bytes());
        self.ops.push(op);
        self
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the batch has no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Key and value bytes, summed over the operations (what [`BATCH_BYTES_MAX`] bounds).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The operations, in the order they will be applied.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// The operations, by value.
    pub fn into_ops(self) -> Vec<Op> {
        self.ops
    }

    /// Checks every limit, listing every broken one (up to [`BATCH_PROBLEMS_LISTED_MAX`]).
    ///
    /// # Errors
    /// [`KvError::BatchRefused`] if any limit is broken.
    pub fn check(&self) -> Result<(), KvError> {
        let mut problems = Vec::new();
        let mut problems_total = 0_usize;
        let mut note = |problem: BatchProblem| {
            problems_total += 1;
            if problems.len() < BATCH_PROBLEMS_LISTED_MAX {
                problems.push(problem);
            }
        };
        if self.ops.len() > BATCH_OPS_MAX {
            note(BatchProblem::TooManyOps {
                ops: self.ops.len(),
            });
        }
        if self.bytes > BATCH_BYTES_MAX {
            note(BatchProblem::TooManyBytes { bytes: self.bytes });
        }
        for (index, op) in self.ops.iter().enumerate() {
            if op.key().len() > KEY_BYTES_MAX {
                note(BatchProblem::KeyTooLong {
                    index,
                    table: op.table(),
                    key_bytes: op.key().len(),
                });
            }
            if let Op::Put { table, value, .. } = op
                && value.len() > VALUE_BYTES_MAX
            {
                note(BatchProblem::ValueTooLong {
                    index,
                    table: *table,
                    value_bytes: value.len(),
                });
            }
        }
        if problems_total == 0 {
            Ok(())
        } else {
            Err(KvError::BatchRefused {
                problems,
                problems_total,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Table = Table::new("t");

    #[test]
    fn builder_counts_ops_and_bytes() {
        let mut batch = Batch::new();
        assert!(batch.is_empty());
        batch
            .put(T, b"ab".as_slice(), b"cde".as_slice())
            .delete(T, "f");
        assert_eq!(batch.len(), 2);
        assert!(!batch.is_empty());
        assert_eq!(batch.bytes(), 6);
        assert_eq!(batch.ops()[1].key(), b"f");
        assert_eq!(batch.ops()[0].table(), T);
        assert!(batch.check().is_ok());
    }

    #[test]
    fn limits_at_the_boundary_pass_and_one_past_fail() {
        let mut batch = Batch::new();
        batch.put(T, vec![1; KEY_BYTES_MAX], vec![2; VALUE_BYTES_MAX]);
        assert!(batch.check().is_ok());

        let mut batch = Batch::new();
        batch
            .put(T, vec![1; KEY_BYTES_MAX + 1], vec![])
            .put(T, vec![], vec![2; VALUE_BYTES_MAX + 1])
            .delete(T, vec![3; KEY_BYTES_MAX + 1]);
        let Err(KvError::BatchRefused {
            problems,
            problems_total,
        }) = batch.check()
        else {
            panic!("batch breaking limits was accepted");
        };
        assert_eq!(problems_total, 3);
        assert_eq!(
            problems,
            [
                BatchProblem::KeyTooLong {
                    index: 0,
                    table: T,
                    key_bytes: KEY_BYTES_MAX + 1
                },
                BatchProblem::ValueTooLong {
                    index: 1,
                    table: T,
                    value_bytes: VALUE_BYTES_MAX + 1
                },
                BatchProblem::KeyTooLong {
                    index: 2,
                    table: T,
                    key_bytes: KEY_BYTES_MAX + 1
                },
            ]
        );
    }

    #[test]
    fn too_many_ops_and_bytes_are_refused_and_the_list_is_capped() {
        let mut batch = Batch::new();
        for _ in 0..=BATCH_OPS_MAX {
            batch.delete(T, vec![0; KEY_BYTES_MAX + 1]);
        }
        let Err(error @ KvError::BatchRefused { .. }) = batch.check() else {
            panic!("oversized batch was accepted");
        };
        let KvError::BatchRefused {
            problems,
            problems_total,
        } = &error
        else {
            unreachable!()
        };
        assert_eq!(problems.len(), BATCH_PROBLEMS_LISTED_MAX);
        // One for the count, one for the bytes, one per oversized key.
        assert_eq!(*problems_total, 1 + 1 + (BATCH_OPS_MAX + 1));
        assert_eq!(
            problems[0],
            BatchProblem::TooManyOps {
                ops: BATCH_OPS_MAX + 1
            }
        );
        assert!(matches!(problems[1], BatchProblem::TooManyBytes { .. }));
        let message = error.to_string();
        assert!(message.contains("more"), "{message}");
    }
}
