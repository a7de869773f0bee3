//! Asking every peer at once: one thread per peer, answers in peer order.

use std::thread;

use anyhow::Context;

use crate::settings::Peer;

/// Runs `operation` against every peer at once, one thread each; answers come back in peer order.
pub fn on_every_peer<T: Send>(peers: &[Peer], operation: impl Fn(&Peer) -> T + Sync) -> Vec<T> {
    // One peer (the common case) needs no thread: starting one is a measurable part of a hook's run.
    if let [only] = peers {
        return vec![operation(only)];
    }
    thread::scope(|scope| {
        let operation = &operation;
        let handles: Vec<_> = peers
            .iter()
            .map(|peer| {
                thread::Builder::new()
                    .name("peer".into())
                    .spawn_scoped(scope, move || operation(peer))
                    .context("starting a thread for a peer")
            })
            .collect();
        handles
            .into_iter()
            .zip(peers)
            .map(|(handle, peer)| match handle {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                // Out of threads: ask this peer from here instead.
                Err(_) => operation(peer),
            })
            .collect()
    })
}
