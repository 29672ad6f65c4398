//! What waking a sleeping thread costs on this machine: the part of a one-writer append that
//! no store can avoid once the append is handed to a writer thread and answered back.
//!
//! `cargo run --release -p bench-compare --example wakeup_probe [round-trips]` (default
//! 20 000) passes a number to a second thread and back through std's channels, waiting 50 µs
//! between round trips so that the second thread is asleep again each time. A round trip is
//! two wake-ups of a sleeping thread; it prints their p10, p50, p90 and mean.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use bench_common::figures::nearest_rank;

/// The pause between round trips, long enough for the echoing thread to fall asleep.
const PAUSE: Duration = Duration::from_micros(50);

fn main() {
    let round_trips: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("round-trips: a whole number"))
        .unwrap_or(20_000)
        .max(1);
    let (to_echo, echo_in) = mpsc::channel::<usize>();
    let (echo_out, back) = mpsc::channel::<usize>();
    let echo = std::thread::spawn(move || {
        while let Ok(n) = echo_in.recv() {
            if echo_out.send(n).is_err() {
                break;
            }
        }
    });
    let mut micros = Vec::with_capacity(round_trips);
    for n in 0..round_trips {
        let started = Instant::now();
        to_echo.send(n).expect("the echoing thread runs");
        assert_eq!(back.recv().expect("the echoing thread answers"), n);
        micros.push(started.elapsed().as_secs_f64() * 1e6);
        let paused = Instant::now();
        while paused.elapsed() < PAUSE {
            std::hint::spin_loop();
        }
    }
    drop(to_echo);
    echo.join().expect("the echoing thread ends");
    micros.sort_by(f64::total_cmp);
    let at = |q: f64| nearest_rank(&micros, q).copied().unwrap_or(0.0);
    let mean = micros.iter().sum::<f64>() / micros.len() as f64;
    println!(
        "{round_trips} round trips (two wake-ups each): p10 {:.1} µs, p50 {:.1} µs, p90 {:.1} µs, mean {mean:.1} µs",
        at(0.1),
        at(0.5),
        at(0.9),
    );
}
