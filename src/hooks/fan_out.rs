//! Asking every peer at once: one thread per peer, answers in peer order.

use std::thread;

use anyhow::Context;

use crate::settings::Peer;

/// Runs `operation` against every peer at once, one thread each; answers come back in peer order.
pub fn on_every_peer<T: Send>(peers: &[Peer], operation: impl Fn(&Peer) -> T + Sync) -> Vec<T> {
    on_each(peers, operation)
}

/// Runs `operation` on every item at once, one thread each; results come back in item order.
pub fn on_each<I: Sync, T: Send>(items: &[I], operation: impl Fn(&I) -> T + Sync) -> Vec<T> {
    // One request (the common case) needs no thread: starting one is a measurable part of a
    // hook's run.
    if let [only] = items {
        return vec![operation(only)];
    }
    thread::scope(|scope| {
        let operation = &operation;
        let handles: Vec<_> = items
            .iter()
            .map(|item| {
                thread::Builder::new()
                    .name("peer".into())
                    .spawn_scoped(scope, move || operation(item))
                    .context("starting a thread for a peer")
            })
            .collect();
        handles
            .into_iter()
            .zip(items)
            .map(|(handle, item)| match handle {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                // Out of threads: ask from here instead.
                Err(_) => operation(item),
            })
            .collect()
    })
}
