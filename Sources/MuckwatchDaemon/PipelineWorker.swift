import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import MuckwatchCore
import MuckwatchStore
import Synchronization

/// Runs an actor's jobs on a thread of its own, so that the store's blocking
/// SQLite calls never occupy Swift's cooperative threads.
///
/// The thread runs at a lower scheduling priority than MQTT ingest: when the
/// cores are saturated, taking messages into the durable inbox (which the broker
/// is waiting on) comes first, and the rules catch up on the backlog after the
/// burst. At normal load nothing competes and the priority makes no difference.
final class ThreadExecutor: SerialExecutor {
    private final class Jobs: Sendable {
        let state = Mutex<(pending: [UnownedJob], stopped: Bool)>(([], false))
        let wake = DispatchSemaphore(value: 0)
    }
    private let jobs = Jobs()

    init(name: String, niceness: Int32) {
        let this = asUnownedSerialExecutor()
        let thread = Thread { [jobs] in
            // On Linux, PRIO_PROCESS with who = 0 applies to the calling thread only.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
            while true {
                jobs.wake.wait()
                let (batch, stopped) = jobs.state.withLock { state in
                    defer { state.pending.removeAll(keepingCapacity: true) }
                    return (state.pending, state.stopped)
                }
                for job in batch { job.runSynchronously(on: this) }
                if stopped { return }
            }
        }
        thread.name = name
        thread.start()
    }

    deinit {
        jobs.state.withLock { $0.stopped = true }
        jobs.wake.signal()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.state.withLock { $0.pending.append(job) }
        jobs.wake.signal()
    }
}

/// Owns the pipeline and the alert log: takes what the inbox holds, commits
/// what it produced, then writes the alert lines.
actor PipelineWorker {
    private let executor = ThreadExecutor(name: "muckwatch.pipeline", niceness: 5)
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
