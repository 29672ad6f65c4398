//! How `verkstall serve` asks Linux to schedule its threads.
//!
//! The server hands each request between threads: the HTTP workers, the store's writer and
//! committer, the access log's writer. With Linux's usual policy (`SCHED_OTHER`), a thread woken
//! by another (its answer is ready, its disk write is done) preempts whatever runs on that core
//! at once, so each hand-over costs a context switch there and then. On a small virtual machine
//! that is dear: measured on two cores under issue 5's mixed load, the server's threads under
//! `SCHED_BATCH` (woken threads wait for the running one to block or use up its slice, nothing
//! else changes: no privilege is needed, no priority changes, nothing starves) took 50 µs of CPU
//! a request against 59 µs, and served 12–15 % more requests at the same or a lower p99
//! (`tools/bench-http/results/2026-12-07.md`).
//!
//! A thread takes the policy of the thread that starts it, so setting it on the thread that
//! builds the runtime, before it does, sets it on every thread of the server. A server started
//! at a nice value other than 0 keeps it, and its policy: setting the policy would reset the
//! nice value, so `serve` says so on stderr and goes on. Elsewhere than on
//! Linux there is nothing to set.

/// How the server's threads are scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scheduling {
    /// `SCHED_BATCH`: a woken thread does not preempt the running one (the default).
    Batch,
    /// `SCHED_OTHER`, Linux's usual policy.
    Normal,
}

impl Scheduling {
    /// Its name, as the command line takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheduling::Batch => "batch",
            Scheduling::Normal => "normal",
        }
    }

    /// Puts the calling thread under this policy (and so every thread it starts from now on).
    ///
    /// The call that sets the policy also sets the thread's nice value, to 0: a thread at any
    /// other nice value (an operator's `nice -n 10`, systemd's `Nice=`) is left as it is, and
    /// the error says so, rather than have its nice value changed behind the operator's back.
    ///
    /// # Errors
    /// The thread runs at a nice value other than 0, or the operating system refuses the policy.
    #[cfg(target_os = "linux")]
    pub fn apply(self) -> Result<(), String> {
        let nice = rustix::process::getpriority_process(None)
            .map_err(|e| format!("cannot read the thread's nice value: {e}"))?;
        if nice != 0 {
            return Err(format!(
                "it runs at nice {nice}, and setting its scheduling policy would set that to 0; \
                 its policy is left as it is"
            ));
        }
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadPriority, ThreadPriorityOsValue,
            ThreadSchedulePolicy, set_thread_priority_and_policy, thread_native_id,
        };
        let policy = match self {
            Scheduling::Batch => NormalThreadSchedulePolicy::Batch,
            Scheduling::Normal => NormalThreadSchedulePolicy::Other,
        };
        set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Os(ThreadPriorityOsValue::default()),
            ThreadSchedulePolicy::Normal(policy),
        )
        .map_err(|e| format!("{e:?}"))
    }

    /// Nothing to set elsewhere than on Linux.
    #[cfg(not(target_os = "linux"))]
    pub fn apply(self) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use thread_priority::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};

    /// The policy of the calling thread.
    fn policy() -> ThreadSchedulePolicy {
        thread_priority::thread_schedule_policy().expect("the calling thread's policy")
    }

    #[test]
    fn a_thread_and_the_threads_it_starts_take_the_policy() {
        let batch = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch);
        let other = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other);
        std::thread::spawn(move || {
            Scheduling::Batch
                .apply()
                .expect("SCHED_BATCH at nice 0 needs no privilege");
            assert_eq!(policy(), batch);
            let started = std::thread::spawn(policy).join().expect("no panic");
            assert_eq!(started, batch, "inherited");
            Scheduling::Normal.apply().expect("back to SCHED_OTHER");
            assert_eq!(policy(), other);
        })
        .join()
        .expect("no panic");
    }

    #[test]
    fn a_thread_at_another_nice_value_is_left_as_it_is() {
        std::thread::spawn(|| {
            // Raising one's own nice value needs no privilege; on Linux it is the thread's.
            rustix::process::setpriority_process(None, 5).expect("nice 5");
            let refused = Scheduling::Batch.apply().expect_err("refused at nice 5");
            assert!(refused.contains("nice 5"), "{refused}");
            assert_eq!(
                policy(),
                ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other)
            );
            assert_eq!(rustix::process::getpriority_process(None).expect("nice"), 5);
        })
        .join()
        .expect("no panic");
    }
}
