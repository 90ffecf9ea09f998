import Dispatch
import Foundation
import Logging
import MuckwatchStore
import Synchronization

/// What the daemon does while the disk holding its store is full: every
/// write the disk refuses (a burst from the broker, a batch's commit, an
/// alert line, a chain head) waits and is tried again, on the thread that
/// made it, until there is space; the MQTT thread does not return, so
/// nothing is acknowledged and the broker keeps the messages. Nothing exits
/// (a restart would meet the same full disk). One line says so when it
/// starts and then at most once a minute however many threads wait, and one
/// line says when writing works again.
public final class DiskFullGate: Sendable {
    private struct State {
        /// Threads waiting for space now.
        var waiting = 0
        /// When the current spell started, and when the last line about it was written.
        var since: ContinuousClock.Instant?
        var lastReport: ContinuousClock.Instant?
        /// A line about the current spell was written, so its end is reported too.
        var reported = false
    }

    private let storePath: String
    private let logger: Logger
    private let retryInterval: Double
    private let reportInterval: Duration
    private let state = Mutex(State())
    private let givenUp = Atomic<Bool>(false)

    public init(storePath: String, logger: Logger, retryInterval: Double = 0.5, reportInterval: Duration = .seconds(60)) {
        self.storePath = storePath
        self.logger = logger
        self.retryInterval = retryInterval
        self.reportInterval = reportInterval
    }

    /// From now on a write the disk refuses fails at once (shutdown: the
    /// waiting threads give up instead of holding the stop back).
    public func giveUp() { givenUp.store(true, ordering: .releasing) }

    /// Runs `body`; while the disk refuses it as full, waits and runs it
    /// again, for as long as `keepWaiting` (asked before each wait) agrees
    /// and `giveUp` was not called. Any other failure is thrown at once.
    public func retrying<T>(_ what: @autoclosure () -> String, keepWaiting: () -> Bool = { true },
                            _ body: () throws -> T) throws -> T {
        var waited = false
        defer { if waited { leave() } }
        while true {
            do {
                return try body()
            } catch where StoreError.isDiskFull(error) && !givenUp.load(ordering: .acquiring) && keepWaiting() {
                if !waited {
                    waited = true
                    state.withLock { s in
                        s.waiting += 1
                        if s.since == nil { s.since = .now }
                    }
                }
                report(what(), error)
                Thread.sleep(forTimeInterval: retryInterval)
            }
        }
    }

    private func report(_ what: String, _ error: any Error) {
        let due = state.withLock { s in
            let now = ContinuousClock.now
            guard s.lastReport.map({ now - $0 >= reportInterval }) ?? true else { return false }
            s.lastReport = now
            s.reported = true
            return true
        }
        guard due else { return }
        logger.error("""
            disk full: cannot \(what) (\(error)); the store \(storePath) has \(freeSpace) left on its filesystem. \
            Nothing is being acknowledged to the broker, which keeps the messages; retrying until there is space \
            (this line repeats once a minute while it lasts)
            """)
    }

    private func leave() {
        let ended: Duration? = state.withLock { s in
            s.waiting -= 1
            guard s.waiting == 0, let since = s.since else { return nil }
            defer { s.since = nil; s.reported = false }
            return s.reported ? ContinuousClock.now - since : nil
        }
        guard let ended else { return }
        logger.notice("""
            disk space is back (\(freeSpace) free beside \(storePath)): storing and acknowledging again after \
            \(ended.components.seconds) s of a full disk; nothing was lost
            """)
    }

    private var freeSpace: String {
        StoreError.freeBytes(near: storePath).map { "\($0) bytes" } ?? "an unknown number of bytes"
    }
}
