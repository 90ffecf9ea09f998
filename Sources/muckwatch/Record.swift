import ArgumentParser
import AsyncAlgorithms
import Foundation
import MuckwatchConfig
import MuckwatchCore
import MuckwatchIngest
import MuckwatchRuntime
import Synchronization
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// `muckwatch record`: subscribes like the daemon and writes what arrives as
/// a feed file (SPEC §8), one line per message, written out burst by burst.
struct Record: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Subscribe like the daemon and write what arrives as a feed file.",
        discussion: """
            Uses the config's broker, credentials, TLS and topic filters (QoS 1), as client id \
            '<client_id>-record-<pid>' with a clean session, so the daemon's own session is left alone; \
            messages sent while the recorder is disconnected are not recorded. Each message is one line \
            (SPEC §8): receive time in UTC, topic, QoS as delivered, retain flag, and the payload as text \
            or, when it is not UTF-8, as payload_b64. Lines are written as each burst arrives. Stops on \
            Ctrl-C or SIGTERM, after --duration or after --count; the file holds only complete lines.
            """)

    @Option(help: "Config file: broker, credentials, TLS and topic filters.")
    var config: String

    @Option(help: "Feed file to write.")
    var out: String

    @Option(help: "Stop after this many seconds of recording.")
    var duration: Double?

    @Option(help: "Stop after this many messages.")
    var count: Int?

    @Flag(help: "Overwrite --out if it exists.")
    var force = false

    @Option(help: "Give up if the broker has not accepted the connection within this many seconds.")
    var connectTimeout: Double = 10

    func validate() throws {
        if let duration, !(duration > 0 && duration.isFinite) {
            throw ValidationError("--duration must be a positive number of seconds.")
        }
        if let count, count < 1 { throw ValidationError("--count must be at least 1.") }
        if !(connectTimeout > 0 && connectTimeout.isFinite) {
            throw ValidationError("--connect-timeout must be a positive number of seconds.")
        }
    }

    func run() async throws {
        let configuration = try loadConfiguration(config)
        try checkOutputPath()

        var settings = MQTTSettings(config: configuration)
        settings.clientId = "\(configuration.broker.clientId)-record-\(getpid())"
        settings.cleanSession = true
        // A feed keeps what the broker delivered, so that a replay of it
        // meets the same limits the daemon does.
        settings.maxPayloadBytes = .max
        let brokerURL = configuration.broker.url
        let recorder = FeedRecorder(limit: count)
        let watcher = ConnectionWatcher(brokerURL: brokerURL, whileAway: "messages sent meanwhile are not recorded")
        let client = try MQTTClient(settings: settings) { burst in recorder.take(burst) }
        defer { watcher.closing(); client.stop() }
        await StopSignal.install()
        watcher.follow(client.events)
        try client.start()
        try await watcher.waitUntilConnected(client, timeout: connectTimeout)

        // Subscribed (or refused) follows the connection at once.
        let deadline = FeedTools.now() + connectTimeout
        var subscription = watcher.firstSubscription
        while subscription == nil && FeedTools.now() < deadline && StopSignal.received == 0 {
            try await Task.sleep(for: .milliseconds(10))
            subscription = watcher.firstSubscription
        }
        guard let subscription else {
            if StopSignal.received != 0 { throw CLIError("interrupted before subscribing; nothing recorded") }
            throw CLIError("the broker at \(brokerURL) did not answer the subscription within \(FeedTools.seconds(connectTimeout)) s")
        }
        if !subscription.refused.isEmpty {
            let list = subscription.refused.joined(separator: ", ")
            if subscription.filters.isEmpty {
                throw CLIError("the broker at \(brokerURL) refused every subscription (\(list)); check its ACL")
            }
            FeedTools.note("warning: the broker refused \(list); check its ACL")
        }

        try recorder.open(path: out, overwrite: force)
        FeedTools.note("recording from \(brokerURL) as '\(settings.clientId ?? "")' (clean session): subscribed to "
                       + "\(subscription.filters.joined(separator: ", ")) at QoS 1; writing \(out)"
                       + (count.map { "; stopping after \($0) message(s)" } ?? "")
                       + (duration.map { "; stopping after \(FeedTools.seconds($0)) s" } ?? "")
                       + "; Ctrl-C to stop")

        let started = FeedTools.now()
        var why = "stopped"
        for await _ in AsyncTimerSequence(interval: .milliseconds(20), clock: .continuous) {
            if let failure = recorder.failure {
                watcher.closing()
                client.stop()
                recorder.close()
                throw CLIError(failure)
            }
            let signal = StopSignal.received
            if signal != 0 { why = signal == SIGINT ? "interrupted" : "stopped by SIGTERM"; break }
            if recorder.isFull { why = "reached --count"; break }
            if let duration, FeedTools.now() - started >= duration { why = "reached --duration"; break }
        }
        // Stopping hands over what was already read, which is still written.
        watcher.closing()
        client.stop()
        recorder.close()
        if let failure = recorder.failure { throw CLIError(failure) }
        FeedTools.note("\(why): recorded \(recorder.count) message(s) to \(out) in "
                       + "\(FeedTools.seconds(FeedTools.now() - started)) s")
    }

    /// Refuses an existing file (unless --force) and a folder that is not
    /// there or not writable, before anything is connected.
    private func checkOutputPath() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw CLIError("\(out) is a folder; --out takes a file path") }
            if !force { throw CLIError("\(out) already exists; pass --force to overwrite it") }
            if access(out, W_OK) != 0 { throw CLIError("cannot write \(out): \(String(cString: strerror(errno)))") }
            return
        }
        let parent = URL(fileURLWithPath: out).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("cannot write \(out): the folder \(parent) does not exist")
        }
        if access(parent, W_OK) != 0 {
            throw CLIError("cannot write \(out): the folder \(parent) is not writable")
        }
    }
}

/// Turns received bursts into feed lines. Until the file is open (after the
/// broker accepted us) lines wait in memory; after that each burst is one
/// write(2), so the file grows by whole lines.
final class FeedRecorder: Sendable {
    private struct State {
        var fd: Int32 = -1
        var path = ""
        var waiting: [UInt8] = []
        /// Bytes in the file, all of them complete lines.
        var written: Int64 = 0
        var count = 0
        var lastMillis: Int64 = .min
        var failure: String?
    }

    private let limit: Int?
    private let state = Mutex(State())

    init(limit: Int?) { self.limit = limit }

    var count: Int { state.withLock { $0.count } }
    var isFull: Bool { limit.map { l in state.withLock { $0.count >= l } } ?? false }
    var failure: String? { state.withLock { $0.failure } }

    /// Runs on the MQTT network thread.
    func take(_ burst: [Arrival]) {
        let now = Instant.wallClock.millis
        state.withLock { s in
            guard s.failure == nil else { return }
            let room = limit.map { max(0, $0 - s.count) } ?? burst.count
            guard room > 0 else { return }
            // Receive times never go backwards, even if the wall clock does.
            s.lastMillis = max(s.lastMillis, now)
            let t = Instant(millis: s.lastMillis)
            var bytes: [UInt8] = []
            for m in burst.prefix(room) {
                let line = FeedMessage(t: t, topic: m.topic, qos: m.qos, retain: m.retain, payload: m.payload).feedLine
                bytes.append(contentsOf: line.utf8)
                bytes.append(0x0A)
            }
            s.count += min(room, burst.count)
            if s.fd < 0 {
                s.waiting.append(contentsOf: bytes)
            } else {
                Self.append(bytes, to: &s)
            }
        }
    }

    func open(path: String, overwrite: Bool) throws {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL), 0o644)
        guard fd >= 0 else {
            let reason = errno == EEXIST ? "it already exists; pass --force to overwrite it" : String(cString: strerror(errno))
            throw CLIError("cannot write \(path): \(reason)")
        }
        state.withLock { s in
            s.fd = fd
            s.path = path
            let waiting = s.waiting
            s.waiting = []
            if !waiting.isEmpty { Self.append(waiting, to: &s) }
        }
    }

    func close() {
        state.withLock { s in
            guard s.fd >= 0 else { return }
            if fsync(s.fd) != 0 && s.failure == nil {
                s.failure = "cannot write \(s.path): \(String(cString: strerror(errno)))"
            }
            _ = Glibc.close(s.fd)
            s.fd = -1
        }
    }

    /// Writes whole lines; on a failure (disk full…) cuts the file back to
    /// its last complete line and remembers why.
    private static func append(_ bytes: [UInt8], to s: inout State) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(s.fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                s.failure = "cannot write \(s.path): \(String(cString: strerror(errno)))"
                _ = ftruncate(s.fd, off_t(s.written))
                return
            }
            done += n
        }
        s.written += Int64(done)
    }
}

/// SIGINT and SIGTERM ask the running command to stop cleanly; a second one
/// ends the process at once.
enum StopSignal {
    /// Traps the signals (returns once they are trapped) and keeps count on a task of its own.
    static func install() async {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        Task.detached {
            for await signal in signals {
                if stopSignalReceived.exchange(signal.rawValue, ordering: .relaxed) != 0 { _exit(128 + signal.rawValue) }
            }
        }
    }

    /// The first stop signal received, or 0.
    static var received: Int32 { stopSignalReceived.load(ordering: .relaxed) }
}

private let stopSignalReceived = Atomic<Int32>(0)

/// Follows a client's connection events for a command: remembers why
/// connecting failed, and once connected tells stderr about lost and
/// regained connections.
final class ConnectionWatcher: Sendable {
    struct Subscription: Sendable {
        var filters: [String]
        var refused: [String]
    }

    private struct State {
        var connected = false
        var lastProblem: String?
        var refusal: String?
        var firstSubscription: Subscription?
        /// Our own disconnect is coming: nothing more to report.
        var closing = false
    }

    let brokerURL: String
    private let whileAway: String
    private let state = Mutex(State())

    init(brokerURL: String, whileAway: String) {
        self.brokerURL = brokerURL
        self.whileAway = whileAway
    }

    var firstSubscription: Subscription? { state.withLock { $0.firstSubscription } }

    /// Call before stopping the client.
    func closing() { state.withLock { $0.closing = true } }

    func follow(_ events: AsyncStream<ConnectionEvent>) {
        Task { [self] in
            for await event in events { handle(event) }
        }
    }

    private func handle(_ event: ConnectionEvent) {
        let message: String? = state.withLock { s in
            if s.closing { return nil }
            switch event {
            case .connected:
                defer { s.connected = true }
                return s.connected ? "reconnected to \(brokerURL)" : nil
            case .subscribed(let filters, let refused):
                if s.firstSubscription == nil { s.firstSubscription = Subscription(filters: filters, refused: refused) }
                return nil
            case .refused(let reason):
                s.refusal = reason
                return s.connected ? "the broker at \(brokerURL) refused to reconnect us: \(reason); retrying" : nil
            case .disconnected(let reason):
                s.lastProblem = reason
                return s.connected ? "lost the connection to \(brokerURL): \(reason) (\(whileAway))" : nil
            }
        }
        if let message { FeedTools.note(message) }
    }

    /// Waits for the first CONNACK; fails at once when the broker refuses
    /// us, and after `timeout` when it cannot be reached.
    func waitUntilConnected(_ client: MQTTClient, timeout: Double) async throws {
        let deadline = FeedTools.now() + timeout
        while !client.isConnected {
            let (refusal, problem) = state.withLock { ($0.refusal, $0.lastProblem) }
            if let refusal { throw CLIError("the broker at \(brokerURL) refused the connection: \(refusal)") }
            if StopSignal.received != 0 { throw CLIError("interrupted while connecting to \(brokerURL)") }
            if FeedTools.now() >= deadline {
                let why = problem.map { ": " + $0.replacingOccurrences(of: "; retrying", with: "") } ?? ""
                throw CLIError("cannot reach the broker at \(brokerURL) within \(FeedTools.seconds(timeout)) s\(why)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

enum FeedTools {
    /// Seconds on the monotonic clock.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() && s < 1e9 ? String(Int(s)) : String(format: "%.1f", s)
    }

    /// One line on stderr, shown escaped: it may quote a feed's topic or a
    /// broker's reason.
    static func note(_ line: String) {
        FileHandle.standardError.write(Data((TerminalText.escaped(line) + "\n").utf8))
    }
}
