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

    init(name: String, niceness: Int32, logger: Logger) {
        let this = asUnownedSerialExecutor()
        let thread = Thread { [jobs] in
            // On Linux, PRIO_PROCESS with who = 0 applies to the calling thread only.
            if niceness != 0 {
                if setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) == 0 {
                    logger.info("\(name) runs at nice \(niceness): under load, ingest comes first")
                } else {
                    logger.error("""
                        cannot lower the priority of \(name) to nice \(niceness) (setpriority: \(String(cString: strerror(errno)))): \
                        under load the rules compete with ingest for the cores. Under systemd, the unit must allow the call \
                        (SystemCallFilter=setpriority, as the shipped muckwatchd.service does)
                        """)
                }
            }
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

/// The pipeline on a thread of its own (see `PipelineRunner`). The daemon
/// runs it at nice 5 (see `ThreadExecutor`); replay at normal priority.
public actor PipelineWorker {
    private let executor: ThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let runner: PipelineRunner

    public init(store: Store, settings: PipelineSettings, alertLogPath: String, logger: Logger, niceness: Int32,
                batchLimit: Int = 2048) throws {
        executor = ThreadExecutor(name: "muckwatch.pipeline", niceness: niceness, logger: logger)
        runner = try PipelineRunner(store: store, settings: settings, alertLogPath: alertLogPath, logger: logger,
                                    batchLimit: batchLimit)
    }

    public func logLeftoverAlerts() throws { try runner.logLeftoverAlerts() }

    @discardableResult
    public func drain() throws -> Int { try runner.drain() }

    public func reopenAlertLog() { runner.reopenAlertLog() }
}
