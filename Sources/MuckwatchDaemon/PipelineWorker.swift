import Dispatch
import Logging
import MuckwatchCore
import MuckwatchStore
import Synchronization

/// Runs an actor's jobs on a dispatch queue of its own, so that the store's
/// blocking SQLite calls never occupy Swift's cooperative threads.
final class QueueExecutor: SerialExecutor {
    let queue: DispatchQueue

    init(label: String) { queue = DispatchQueue(label: label) }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }
}

/// Owns the pipeline and the alert log: takes what the inbox holds, commits
/// what it produced, then writes the alert lines.
actor PipelineWorker {
    private let executor = QueueExecutor(label: "muckwatch.pipeline")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let store: Store
    private let pipeline: Pipeline
    private let alertLog: AlertLog
    private let logger: Logger

    init(store: Store, settings: PipelineSettings, alertLogPath: String, logger: Logger) throws {
        self.store = store
        self.pipeline = try store.restorePipeline(settings: settings)
        self.alertLog = try AlertLog(path: alertLogPath)
        self.logger = logger
    }

    /// Writes alerts committed before a crash but never logged.
    func logLeftoverAlerts() throws {
        let leftover = try store.unloggedAlerts()
        if !leftover.isEmpty {
            logger.notice("writing \(leftover.count) alert(s) committed before the last stop but not yet logged")
            try log(leftover)
        }
    }

    /// Processes everything pending; returns how many messages it took.
    @discardableResult
    func drain() throws -> Int {
        var total = 0
        while let batch = try store.processPending(with: pipeline) {
            total += batch.messages
            try log(batch.alerts)
        }
        return total
    }

    private func log(_ alerts: [StoredAlert]) throws {
        guard !alerts.isEmpty else { return }
        try alertLog.append(alerts.map(\.line))
        try store.markLogged(alerts)
        logger.info("\(alerts.count) alert(s) written: \(alerts.map(\.alertId).joined(separator: ", "))")
    }

    func reopenAlertLog() {
        do {
            try alertLog.reopen()
            logger.info("reopened the alert log \(alertLog.path)")
        } catch {
            logger.error("cannot reopen the alert log \(alertLog.path): \(error)")
        }
    }
}
