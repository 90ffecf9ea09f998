import ArgumentParser
import Foundation
import MuckwatchConfig
import MuckwatchCore
import MuckwatchRuntime
import MuckwatchIngest

#if canImport(Glibc)
import Glibc
#endif

/// `muckwatch publish`: publishes a feed file into a broker, paced by its
/// `t` values, and disconnects only after the broker has acknowledged every
/// QoS 1/2 message (and every QoS 0 message was written out).
struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish a feed file into a broker, paced by its timestamps.",
        discussion: """
            Each line is published with its own topic, payload and retain flag, at its own QoS unless --qos \
            is given. The first message goes at once; the others follow the gaps between their 't' values \
            divided by --speed (0: as fast as the broker takes them). Bad lines are reported with their line \
            number and skipped (with --strict the run stops there); either way the exit code is then 1. The \
            command waits until the broker has acknowledged every message before it disconnects, so nothing \
            at the end of the feed is lost.
            """)

    @Argument(help: "Feed file (JSON Lines, one message per line).")
    var feed: String

    @Option(help: "Broker URL: mqtt://host:port or mqtts://host:port.")
    var broker: String

    @Option(help: "Times real time: 2 = twice as fast, 0 = as fast as possible.")
    var speed: Double = 1

    @Option(help: "QoS for every message (0, 1 or 2; default: each line's qos).")
    var qos: Int?

    @Flag(help: "Stop at the first bad feed line instead of skipping it.")
    var strict = false

    @Option(help: "Broker username.")
    var username: String?

    @Option(help: "File whose first line is the broker password (needs --username).")
    var passwordFile: String?

    @Option(help: "MQTT client id (default: muckwatch-publish-<pid>); the session is always clean.")
    var clientId: String?

    @Option(help: "Give up if the broker has not accepted the connection within this many seconds (also after losing it).")
    var connectTimeout: Double = 10

    @Option(help: "At the end, fail if the broker has not acknowledged everything within this many seconds.")
    var ackTimeout: Double = 30

    /// Most messages published and not yet acknowledged; beyond it the
    /// publisher waits instead of letting libmosquitto's queue grow.
    static let window = 10_000

    func validate() throws {
        if !(speed >= 0 && speed.isFinite) { throw ValidationError("--speed must be 0 (as fast as possible) or a positive factor.") }
        if let qos, !(0...2).contains(qos) { throw ValidationError("--qos must be 0, 1 or 2.") }
        if passwordFile != nil && username == nil { throw ValidationError("--password-file needs --username.") }
        for (name, value) in [("--connect-timeout", connectTimeout), ("--ack-timeout", ackTimeout)]
        where !(value > 0 && value.isFinite) {
            throw ValidationError("\(name) must be a positive number of seconds.")
        }
        do {
            var b = BrokerSettings()
            try b.apply(url: broker)
        } catch {
            throw ValidationError("--broker \(error.problem).")
        }
    }

    func run() async throws {
        var b = BrokerSettings()
        try b.apply(url: broker)
        b.clientId = clientId ?? "muckwatch-publish-\(getpid())"
        b.username = username
        if let passwordFile {
            do {
                let text = try String(contentsOfFile: passwordFile, encoding: .utf8)
                b.password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
            } catch {
                throw CLIError("cannot read the password file \(passwordFile): \((error as NSError).localizedDescription)")
            }
        }
        let reader: FeedReader
        do {
            reader = try FeedReader(path: feed)
        } catch {
            throw CLIError(error.description)
        }

        var settings = MQTTSettings(broker: b)
        settings.cleanSession = true
        settings.reconnectMinS = 1
        settings.reconnectMaxS = 2
        settings.maxInflight = 1000
        let brokerURL = b.url
        let watcher = ConnectionWatcher(brokerURL: brokerURL, whileAway: "waiting to reconnect")
        let client = try MQTTClient(settings: settings)
        defer { watcher.closing(); client.stop() }
        await StopSignal.install()
        watcher.follow(client.events)
        try client.start()
        try await watcher.waitUntilConnected(client, timeout: connectTimeout)

        var run = Run(feed: feed, brokerURL: brokerURL, speed: speed, client: client,
                      progress: isatty(STDERR_FILENO) != 0)
        var stopped: String?
        var firstT: Instant?
        feed: for result in reader {
            if StopSignal.received != 0 { stopped = "interrupted"; break }
            let message: FeedMessage
            switch result {
            case .failure(let error):
                run.badLines += 1
                run.clearProgress()
                FeedTools.note("\(feed): \(error)\(strict ? "" : "; skipped")")
                if strict { stopped = "stopped at the bad line (--strict)"; break feed }
                continue feed
            case .success(let m):
                message = m
            }
            if speed > 0 {
                let first = firstT ?? message.t
                firstT = first
                let due = run.start + message.t.seconds(since: first) / speed
                while case let wait = due - FeedTools.now(), wait > 0 {
                    if StopSignal.received != 0 { stopped = "interrupted"; break feed }
                    run.showProgress()
                    try await Task.sleep(for: .seconds(min(wait, 0.1)))
                }
                run.lag = max(0, FeedTools.now() - due)
            }
            while run.sent - client.publishedCount >= Self.window {
                if StopSignal.received != 0 { stopped = "interrupted"; break feed }
                run.showProgress()
                try await Task.sleep(for: .milliseconds(1))
            }
            try await run.publish(message, qos: qos ?? message.qos, timeout: connectTimeout)
            run.showProgress()
        }

        // Nothing is lost at the end: disconnect only once all is acknowledged.
        let deadline = FeedTools.now() + ackTimeout
        while client.publishedCount < run.sent && FeedTools.now() < deadline {
            run.showProgress()
            try await Task.sleep(for: .milliseconds(5))
        }
        let acknowledged = min(client.publishedCount, run.sent)
        watcher.closing()
        client.stop()
        run.clearProgress()
        FeedTools.note(run.summary(acknowledged: acknowledged, stopped: stopped))
        if acknowledged < run.sent {
            throw CLIError("the broker at \(brokerURL) acknowledged only \(acknowledged) of \(run.sent) messages "
                           + "within \(FeedTools.seconds(ackTimeout)) s; the rest may not have arrived")
        }
        if run.failed > 0 || run.badLines > 0 || stopped != nil { throw ExitCode.failure }
    }
}

/// One publishing run's counters and its progress line.
private struct Run {
    let feed: String
    let brokerURL: String
    let speed: Double
    let client: MQTTClient
    let progress: Bool
    let start = FeedTools.now()
    var sent = 0
    var failed = 0
    var badLines = 0
    /// How far behind its due time the latest message went out.
    var lag = 0.0
    private var lastShown: (at: Double, sent: Int)
    private var showing = false

    init(feed: String, brokerURL: String, speed: Double, client: MQTTClient, progress: Bool) {
        self.feed = feed
        self.brokerURL = brokerURL
        self.speed = speed
        self.client = client
        self.progress = progress
        lastShown = (start, 0)
    }

    /// Publishes one message; while the connection is down it waits up to
    /// `timeout` for it to come back. A message the broker connection itself
    /// refuses (bad topic, too large) is reported and counted as failed.
    mutating func publish(_ m: FeedMessage, qos: Int, timeout: Double) async throws {
        var deadline: Double?
        while true {
            do {
                try client.publish(topic: m.topic, payload: m.payload, qos: qos, retain: m.retain)
                sent += 1
                return
            } catch let error as MQTTError where error.isNotConnected {
                let limit = deadline ?? FeedTools.now() + timeout
                deadline = limit
                if FeedTools.now() >= limit {
                    clearProgress()
                    throw CLIError("lost the connection to \(brokerURL) and could not publish for "
                                   + "\(FeedTools.seconds(timeout)) s; \(sent) message(s) had been published")
                }
                try await Task.sleep(for: .milliseconds(20))
            } catch {
                failed += 1
                clearProgress()
                let why = m.topic.contains(where: { $0 == "+" || $0 == "#" })
                    ? "a topic to publish to cannot contain + or #" : "\(error)"
                FeedTools.note("\(feed): message \(sent + failed) (topic \(m.topic)) was not published: \(why)")
                return
            }
        }
    }

    /// At most once a second, on a terminal only.
    mutating func showProgress() {
        guard progress else { return }
        let now = FeedTools.now()
        guard now - lastShown.at >= 1 else { return }
        let rate = Double(sent - lastShown.sent) / (now - lastShown.at)
        lastShown = (now, sent)
        let lagText = speed > 0 ? String(format: ", %.1f s behind schedule", lag) : ""
        let line = "sent \(sent) (\(min(client.publishedCount, sent)) acknowledged), " + String(format: "%.0f msg/s", rate) + lagText
        FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8))
        showing = true
    }

    mutating func clearProgress() {
        guard showing else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        showing = false
    }

    func summary(acknowledged: Int, stopped: String?) -> String {
        let elapsed = FeedTools.now() - start
        var text = "published \(sent) message(s) from \(feed) to \(brokerURL) in "
            + String(format: "%.2f s (%.0f msg/s)", elapsed, elapsed > 0 ? Double(sent) / elapsed : 0)
        text += acknowledged == sent ? ", all acknowledged" : ", \(acknowledged) acknowledged"
        if badLines > 0 { text += "; \(badLines) bad line(s) \(stopped == nil ? "skipped" : "found")" }
        if failed > 0 { text += "; \(failed) message(s) could not be published" }
        if let stopped { text += "; \(stopped)" }
        return text
    }
}
