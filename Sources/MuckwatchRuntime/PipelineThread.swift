import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import MuckwatchStore
import Synchronization

/// Runs a `PipelineHost` on a thread of its own, started by `run()`, so that
/// the store's blocking SQLite calls never occupy Swift's cooperative
/// threads. The host is made on that thread and never leaves it.
///
/// The thread can run at a lower scheduling priority than MQTT ingest: when
/// the cores are saturated, taking messages into the durable inbox (which
/// the broker is waiting on) comes first, and the rules catch up on the
/// backlog after the burst. At normal load nothing competes and the priority
/// makes no difference. The daemon runs it at nice 5, replay at 0.
public final class PipelineThread: Sendable {
    private struct Control {
        var stopping = false
        var reopenAlertLog = false
        /// Messages processed since the thread started.
        var processed = 0
        /// The startup drain is done.
        var started = false
        /// The thread has ended (stopped, or failed).
        var ended = false
        /// `drainNow` calls made, and the latest one a completed drain began after.
        var requested = 0
        var completed = 0
    }

    private let name: String
    private let niceness: Int32
    private let logger: Logger
    private let makeHost: @Sendable () throws -> PipelineHost
    private let diskFull: DiskFullGate?
    private let control = Mutex(Control())
    /// One signal covers any number of messages, so the MQTT thread pays for
    /// a semaphore signal only when the pipeline may be asleep.
    private let pending = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    /// Signalled after each drain, for `waitUntilProcessed`.
    private let progress = DispatchSemaphore(value: 0)
    /// How often the thread drains (and beats) when nothing wakes it.
    private let idleInterval: Double
    /// When the thread last completed a loop, on the monotonic clock (for the watchdog).
    private let lastBeat = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)

    /// `makeHost` runs on the thread, first: it restores the pipeline from the store.
    /// With `diskFull`, writes the full disk refuses wait for space (beating
    /// the heartbeat, since waiting is not being stuck) until `stop()`.
    public init(name: String = "muckwatch.pipeline", niceness: Int32, logger: Logger, idleInterval: Double = 1,
                diskFull: DiskFullGate? = nil, makeHost: @escaping @Sendable () throws -> PipelineHost) {
        self.name = name
        self.diskFull = diskFull
        self.niceness = niceness
        self.logger = logger
        self.idleInterval = idleInterval
        self.makeHost = makeHost
    }

    /// There is new work in the store.
    public func signal() {
        if !pending.exchange(true, ordering: .acquiringAndReleasing) { wake.signal() }
    }

    /// Reopens the alert log (after logrotate) before the next batch.
    public func reopenAlertLog() {
        control.withLock { $0.reopenAlertLog = true }
        wake.signal()
    }

    /// Processes what is pending, then ends the thread (`run()` returns).
    public func stop() {
        control.withLock { $0.stopping = true }
        wake.signal()
    }

    /// Seconds since the thread last completed a loop.
    public var heartbeatAge: Double {
        Double(DispatchTime.now().uptimeNanoseconds &- lastBeat.load(ordering: .relaxed)) / 1e9
    }

    /// Messages processed since the thread started.
    public var processed: Int { control.withLock { $0.processed } }

    /// Blocks the calling thread (never a cooperative one) until `done`
    /// holds or the thread has ended; returns whether `done` held.
    private func wait(until done: (Control) -> Bool) -> Bool {
        while true {
            let (ok, ended) = control.withLock { (done($0), $0.ended) }
            if ok { return true }
            if ended { return false }
            _ = progress.wait(timeout: .now() + 0.05)
        }
    }

    /// Blocks until the startup drain is done (false: the thread ended first).
    @discardableResult
    public func waitUntilStarted() -> Bool { wait { $0.started } }

    /// Blocks until at least `count` messages have been processed since the start.
    @discardableResult
    public func waitUntilProcessed(_ count: Int) -> Bool { wait { $0.processed >= count } }

    /// Blocks until everything stored before the call has been processed.
    @discardableResult
    public func drainNow() -> Bool {
        let ticket = control.withLock { c in c.requested += 1; return c.requested }
        wake.signal()
        return wait { $0.completed >= ticket }
    }

    /// Starts the thread: writes alerts left unlogged by the last stop,
    /// processes what the store holds, then whatever `signal()` announces
    /// (and, every `idleInterval`, anything else) until `stop()`. Returns once
    /// the thread has processed the last pending message; rethrows what
    /// stopped it.
    public func run() async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            let thread = Thread { [self] in
                lowerPriority()
                let result = Result { try loop() }
                control.withLock { $0.ended = true }
                progress.signal()
                done.resume(with: result)
            }
            thread.name = name
            thread.start()
        }
    }

    private func loop() throws {
        let host = try makeHost()
        if let diskFull {
            host.diskFull = (diskFull, { [self] in
                lastBeat.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
                return !control.withLock { $0.stopping }
            })
        }
        try host.logLeftoverAlerts()
        let recovered = try host.drain()
        if recovered > 0 { logger.notice("processed \(recovered) message(s) accepted before the last stop") }
        control.withLock { $0.started = true }
        count(recovered, ticket: 0)
        while true {
            _ = wake.wait(timeout: .now() + idleInterval)
            pending.store(false, ordering: .releasing)
            let (stopping, reopen, ticket) = control.withLock { c in
                defer { c.reopenAlertLog = false }
                return (c.stopping, c.reopenAlertLog, c.requested)
            }
            if reopen { host.reopenAlertLog() }
            let processed = try host.drain()
            count(processed, ticket: ticket)
            lastBeat.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
            if stopping {
                try host.finish()
                logger.info("pipeline stopped\(processed > 0 ? " after processing \(processed) last message(s)" : ""); rules' state saved")
                return
            }
        }
    }

    private func count(_ n: Int, ticket: Int) {
        control.withLock { c in
            c.processed += n
            c.completed = max(c.completed, ticket)
        }
        progress.signal()
    }

    /// On Linux, PRIO_PROCESS with who = 0 applies to the calling thread only.
    private func lowerPriority() {
        guard niceness != 0 else { return }
        #if canImport(Glibc)
        if setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) == 0 {
            logger.info("\(name) runs at nice \(niceness): under load, ingest comes first")
        } else {
            logger.error("""
                cannot lower the priority of \(name) to nice \(niceness) (setpriority: \(String(cString: strerror(errno)))): \
                under load the rules compete with ingest for the cores. Under systemd, the unit must allow the call \
                (SystemCallFilter=setpriority, as the shipped muckwatchd.service does)
                """)
        }
        #endif
    }
}

/// Runs blocking work (SQLite, file reads, semaphore waits) on a thread of
/// its own and awaits it, so that it never occupies a cooperative thread.
public func onThread<T: Sendable>(named name: String, _ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (done: CheckedContinuation<T, any Error>) in
        let thread = Thread { done.resume(with: Result { try work() }) }
        thread.name = name
        thread.start()
    }
}
