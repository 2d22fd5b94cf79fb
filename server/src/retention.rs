//! Runs retention (`store::retention`) at start and then on a schedule, until shutdown.

use std::time::Duration;
use store::retention::RetentionPolicy;
use store::{Clock, Store};
use tokio::sync::watch;

pub fn spawn(store: Store, policy: RetentionPolicy, every: Duration, clock: Clock) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        loop {
            // Shutdown does not wait for a long first pass: each batch is its own transaction.
            let pruned = tokio::select! {
                pruned = store.prune(clock.now(), policy) => pruned,
                _ = stopped.changed() => return,
            };
            match pruned {
                Ok(pruned) if pruned.total() > 0 => {
                    let by_table: Vec<String> = pruned.rows.iter().filter(|(_, n)| *n > 0).map(|(t, n)| format!("{t}={n}")).collect();
                    tracing::info!(rows = pruned.total(), removed = %by_table.join(" "), "retention pruned old rows");
                }
                Ok(_) => tracing::debug!("retention found nothing to prune"),
                Err(e) => tracing::warn!(error = %e, "retention failed; trying again at its next run"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stopped.changed() => return,
            }
        }
    });
    (stop, task)
}
