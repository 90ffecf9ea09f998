// MuckwatchIngest owns MQTT: a libmosquitto client that subscribes (and
// publishes, for feeds and benchmarks), reconnects with backoff, and hands
// received messages to Swift in bursts while libmosquitto still holds their
// acknowledgements.
import CMosquitto
import Crypto
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MuckwatchCore
import Synchronization

public struct MQTTSettings: Sendable {
    public var host = "localhost"
    public var port = 1883
    /// Stable id: with `cleanSession` off the broker keeps our subscriptions
    /// and queues QoS 1 messages while we are away.
    public var clientId: String?
    public var cleanSession = false
    public var keepaliveS = 30
    public var reconnectMinS = 1
    public var reconnectMaxS = 60
    public var username: String?
    public var password: String?
    public var useTLS = false
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var subscriptions: [String] = []
    public var qos = 1
    /// Outgoing QoS>0 messages in flight at once (0: no limit).
    public var maxInflight = 20
    /// Most messages handed over in one burst.
    public var maxBurst = 1000
    /// A larger payload is not copied: only its first `keptBytes` bytes and
    /// the SHA-256 of the whole are handed over (see `Arrival.oversized`).
    public var maxPayloadBytes = Int.max
    public static let keptBytes = 4096

    public init() {}
}

/// The connection's state changes, in order.
public enum ConnectionEvent: Sendable, Equatable {
    case connected
    case subscribed(filters: [String], refused: [String])
    case refused(String)
    case disconnected(String)
}

/// A libmosquitto error with its code and what was being done.
public struct MQTTError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var action: String

    public var description: String { "\(action): \(String(cString: mosquitto_strerror(code))) (mosquitto error \(code))" }

    /// Not connected at the moment: worth trying again once reconnected.
    public var isNotConnected: Bool {
        code == Int32(MOSQ_ERR_NO_CONN.rawValue) || code == Int32(MOSQ_ERR_CONN_LOST.rawValue)
    }
}

private let libraryReady: Bool = {
    mosquitto_lib_init()
    return true
}()

private let success = Int32(MOSQ_ERR_SUCCESS.rawValue)

/// State the C callbacks reach through libmosquitto's user-data pointer.
/// Sendable because everything mutable is behind a Mutex or is a continuation.
private final class CallbackContext: Sendable {
    struct State {
        /// mid of our SUBSCRIBE → its filters.
        var pendingSubscribe: [Int32: [String]] = [:]
        /// Published and acknowledged (QoS 1) or written (QoS 0).
        var published = 0
        /// Received since the last burst was handed over.
        var received: [Arrival] = []
        /// The broker accepted a CONNECT since the last connection attempt.
        var accepted = false
        /// Connected now (CONNACK received, connection not lost since).
        var online = false
        /// The disconnect callback has reported the current connection's loss.
        var lossReported = false
        /// libmosquitto's last error or warning log line (OpenSSL's reason for
        /// a failed handshake, say), for the next failure's message.
        var lastLibraryMessage: String?
    }

    let events: AsyncStream<ConnectionEvent>.Continuation
    let subscriptions: [String]
    let qos: Int32
    let maxPayloadBytes: Int
    let state = Mutex(State())

    init(events: AsyncStream<ConnectionEvent>.Continuation, subscriptions: [String], qos: Int32, maxPayloadBytes: Int) {
        self.events = events
        self.subscriptions = subscriptions
        self.qos = qos
        self.maxPayloadBytes = maxPayloadBytes
    }

    static func from(_ obj: UnsafeMutableRawPointer?) -> CallbackContext? {
        obj.map { Unmanaged<CallbackContext>.fromOpaque($0).takeUnretainedValue() }
    }

    /// " (libmosquitto's last complaint)", once, or "".
    func takeLibraryDetail() -> String {
        state.withLock { s in
            defer { s.lastLibraryMessage = nil }
            return s.lastLibraryMessage.map { " (\($0))" } ?? ""
        }
    }

    func takeReceived() -> [Arrival] {
        state.withLock { s in
            defer { s.received.removeAll(keepingCapacity: true) }
            return s.received
        }
    }
}

/// One MQTT connection, driven by a network thread of its own.
///
/// libmosquitto is told the application is threaded, so it only queues the
/// PUBACKs of received QoS 1 messages; the thread reads every message the
/// socket holds, hands the burst to `onMessages`, and writes the queued
/// PUBACKs only after that returns. A handler that returns after committing
/// the burst in one transaction therefore never lets the broker forget an
/// unstored message, and pays for one commit per burst, not per message.
public final class MQTTClient: Sendable {
    public let settings: MQTTSettings
    /// The connection's state changes, for logging and readiness.
    public let events: AsyncStream<ConnectionEvent>
    private let connection: Connection

    public init(settings: MQTTSettings, onMessages: @escaping @Sendable ([Arrival]) -> Void = { _ in }) throws {
        precondition(libraryReady)
        self.settings = settings
        let (stream, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
        self.events = stream
        connection = try Connection(settings: settings, onMessages: onMessages, events: continuation)
    }

    deinit { connection.stop() }

    /// Connects and starts the network thread. A broker that is down is not
    /// an error here: the thread keeps retrying with backoff, and `events`
    /// reports each attempt.
    public func start() throws { try connection.start() }

    /// Hands over what was received, acknowledges it, disconnects cleanly and
    /// stops the network thread.
    public func stop() { connection.stop() }

    /// Waits until the broker has accepted the connection; false on timeout.
    public func waitUntilConnected(timeout seconds: Double) -> Bool {
        let deadline = DispatchTime.now() + seconds
        while DispatchTime.now() < deadline {
            if isConnected { return true }
            usleep(2_000)
        }
        return isConnected
    }

    /// The broker has accepted the connection and it has not been lost since.
    public var isConnected: Bool { connection.context.state.withLock { $0.online } }

    /// Queues a message and writes it out if the socket takes it. Fails while
    /// not connected (libmosquitto would send a message published before the
    /// CONNACK twice).
    public func publish(topic: String, payload: [UInt8], qos: Int = 1, retain: Bool = false) throws {
        try connection.publish(topic: topic, payload: payload, qos: qos, retain: retain)
    }

    /// How many published messages the broker has acknowledged (QoS 1) or
    /// that were written out (QoS 0).
    public var publishedCount: Int { connection.context.state.withLock { $0.published } }

    public static var libraryVersion: String {
        var major: Int32 = 0, minor: Int32 = 0, rev: Int32 = 0
        _ = mosquitto_lib_version(&major, &minor, &rev)
        return "\(major).\(minor).\(rev)"
    }
}

/// Owns the `struct mosquitto *`, the pipe that wakes the network thread,
/// and the thread itself (which keeps the Connection alive while it runs).
private final class Connection: Sendable {
    let settings: MQTTSettings
    let context: CallbackContext
    let onMessages: @Sendable ([Arrival]) -> Void
    /// Calls on the handle are serialised by this lock; the network thread
    /// takes it per call, never while it waits.
    private let handle: Mutex<OpaquePointer>
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let running = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(settings: MQTTSettings, onMessages: @escaping @Sendable ([Arrival]) -> Void,
         events: AsyncStream<ConnectionEvent>.Continuation) throws {
        self.settings = settings
        self.onMessages = onMessages
        let context = CallbackContext(events: events, subscriptions: settings.subscriptions, qos: Int32(settings.qos),
                                      maxPayloadBytes: settings.maxPayloadBytes)
        self.context = context
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw MQTTError(code: Int32(MOSQ_ERR_ERRNO.rawValue), action: "cannot create the MQTT thread's wake-up pipe")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        (wakeRead, wakeWrite) = (fds[0], fds[1])
        let userdata = Unmanaged.passUnretained(context).toOpaque()
        guard let mosq = mosquitto_new(settings.clientId, settings.cleanSession, userdata) else {
            close(fds[0]); close(fds[1])
            throw MQTTError(code: Int32(MOSQ_ERR_NOMEM.rawValue),
                            action: settings.clientId == nil && !settings.cleanSession
                                ? "a persistent session needs a client id" : "cannot create an MQTT client")
        }
        do {
            try Self.configure(mosq, settings)
        } catch {
            mosquitto_destroy(mosq)
            close(fds[0]); close(fds[1])
            throw error
        }
        self.handle = Mutex(mosq)
    }

    deinit {
        context.events.finish()
        handle.withLock { mosquitto_destroy($0) }
        close(wakeRead)
        close(wakeWrite)
    }

    private static func configure(_ mosq: OpaquePointer, _ settings: MQTTSettings) throws {
        func check(_ rc: Int32, _ action: String) throws {
            if rc != success { throw MQTTError(code: rc, action: action) }
        }
        // Queue outgoing packets (PUBACKs above all) instead of writing them
        // at once: the network thread writes them after the handler returns.
        try check(mosquitto_threaded_set(mosq, true), "cannot put the MQTT client in threaded mode")
        if settings.username != nil || settings.password != nil {
            try check(mosquitto_username_pw_set(mosq, settings.username, settings.password), "cannot set the broker username")
        }
        if settings.useTLS || settings.caFile != nil {
            try check(mosquitto_tls_set(mosq, settings.caFile, settings.caFile == nil ? "/etc/ssl/certs" : nil,
                                        settings.certFile, settings.keyFile, nil),
                      "cannot set up TLS with the configured CA/certificate files")
        }
        try check(mosquitto_max_inflight_messages_set(mosq, UInt32(settings.maxInflight)), "cannot set max in-flight messages")

        mosquitto_connect_callback_set(mosq) { mosq, obj, rc in
            guard let ctx = CallbackContext.from(obj) else { return }
            guard rc == 0 else {
                ctx.events.yield(.refused(String(cString: mosquitto_connack_string(rc))))
                return
            }
            ctx.state.withLock { $0.accepted = true; $0.online = true }
            ctx.events.yield(.connected)
            guard !ctx.subscriptions.isEmpty else { return }
            // Subscribe on every connect: harmless with a kept session, needed without one.
            var mid: Int32 = 0
            let rc = withCStrings(ctx.subscriptions) { filters in
                mosquitto_subscribe_multiple(mosq, &mid, Int32(ctx.subscriptions.count), filters, ctx.qos, 0, nil)
            }
            if rc == success {
                ctx.state.withLock { $0.pendingSubscribe[mid] = ctx.subscriptions }
            } else {
                ctx.events.yield(.subscribed(filters: [], refused: ctx.subscriptions))
            }
        }
        mosquitto_subscribe_callback_set(mosq) { _, obj, mid, count, granted in
            guard let ctx = CallbackContext.from(obj) else { return }
            let filters = ctx.state.withLock { $0.pendingSubscribe.removeValue(forKey: mid) } ?? []
            var ok: [String] = [], refused: [String] = []
            for (i, f) in filters.enumerated() {
                let g = i < Int(count) ? granted?[i] ?? 0x80 : 0x80
                if g >= 0x80 { refused.append(f) } else { ok.append(f) }
            }
            ctx.events.yield(.subscribed(filters: ok, refused: refused))
        }
        mosquitto_disconnect_callback_set(mosq) { _, obj, rc in
            guard let ctx = CallbackContext.from(obj) else { return }
            ctx.state.withLock { $0.online = false; $0.lossReported = true }
            ctx.events.yield(.disconnected(rc == 0 ? "disconnected on request"
                                           : String(cString: mosquitto_strerror(rc)) + ctx.takeLibraryDetail()))
        }
        mosquitto_log_callback_set(mosq) { _, obj, level, text in
            guard let ctx = CallbackContext.from(obj), let text,
                  level & Int32(MOSQ_LOG_ERR | MOSQ_LOG_WARNING) != 0 else { return }
            let line = String(cString: text)
            ctx.state.withLock { $0.lastLibraryMessage = line }
        }
        mosquitto_publish_callback_set(mosq) { _, obj, _ in
            CallbackContext.from(obj)?.state.withLock { $0.published += 1 }
        }
        mosquitto_message_callback_set(mosq) { _, obj, msg in
            guard let ctx = CallbackContext.from(obj), let m = msg?.pointee else { return }
            // libmosquitto frees topic and payload when this returns: copy
            // them; of a payload above the limit, only its head.
            let whole = m.payloadlen > 0 && m.payload != nil
                ? UnsafeRawBufferPointer(start: m.payload, count: Int(m.payloadlen)) : UnsafeRawBufferPointer(start: nil, count: 0)
            var message = Arrival(topic: String(cString: m.topic), payload: [], qos: Int(m.qos), retain: m.retain,
                                  arrivedAt: .wallClock)
            if whole.count > ctx.maxPayloadBytes {
                message.payload = [UInt8](whole.prefix(MQTTSettings.keptBytes))
                var hasher = SHA256()
                hasher.update(bufferPointer: whole)
                message.oversized = OversizedPayload(size: whole.count, sha256: Hex.string(hasher.finalize()))
            } else {
                message.payload = [UInt8](whole)
            }
            ctx.state.withLock { $0.received.append(message) }
        }
    }

    func start() throws {
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let thread = Thread { [self] in
            runLoop()
            finished.signal()
        }
        thread.name = "mqtt \(settings.clientId ?? "client")"
        thread.start()
    }

    func stop() {
        guard running.load(ordering: .acquiring), !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake()
        finished.wait()
    }

    func publish(topic: String, payload: [UInt8], qos: Int, retain: Bool) throws {
        guard context.state.withLock({ $0.online }) else {
            throw MQTTError(code: Int32(MOSQ_ERR_NO_CONN.rawValue), action: "cannot publish to \(topic)")
        }
        let (rc, pending) = handle.withLock { mosq in
            let rc = payload.withUnsafeBytes { buf in
                mosquitto_publish(mosq, nil, topic, Int32(buf.count), buf.baseAddress, Int32(qos), retain)
            }
            if rc == success { _ = mosquitto_loop_write(mosq, 1) }
            return (rc, mosquitto_want_write(mosq))
        }
        if rc != success { throw MQTTError(code: rc, action: "cannot publish to \(topic)") }
        if pending { wake() }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func drainWakePipe() {
        var sink = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &sink, sink.count) > 0 {}
    }

    private func call(_ body: (OpaquePointer) -> Int32) -> Int32 { handle.withLock { body($0) } }

    /// Connect, then read → hand over → write, until stopped; after a lost
    /// connection, reconnect with exponential backoff.
    private func runLoop() {
        let minDelay = Double(max(1, settings.reconnectMinS))
        let maxDelay = Double(max(settings.reconnectMinS, settings.reconnectMaxS, 1))
        var delay = minDelay
        var connected = connect(first: true)
        while !stopping.load(ordering: .acquiring) {
            if connected {
                let rc = serviceOnce()
                connected = rc == success
                if !connected { reportLoss(rc) }
                continue
            }
            // The delay doubles per failed attempt and starts again from the
            // minimum once the broker had accepted us.
            if context.state.withLock({ s in defer { s.accepted = false }; return s.accepted }) { delay = minDelay }
            waitForWake(seconds: delay)
            if stopping.load(ordering: .acquiring) { break }
            connected = connect(first: false)
            delay = min(delay * 2, maxDelay)
        }
        finish(connected: connected)
    }

    /// A lost connection or a failed handshake, reported once: libmosquitto
    /// calls the disconnect callback for a connection it had, but not for a
    /// TLS handshake that fails inside a read, which would otherwise retry
    /// in silence.
    private func reportLoss(_ rc: Int32) {
        let reported = context.state.withLock { s in
            defer { s.online = false }
            return s.lossReported
        }
        if !reported {
            context.events.yield(.disconnected(String(cString: mosquitto_strerror(rc)) + context.takeLibraryDetail()))
        }
    }

    private func connect(first: Bool) -> Bool {
        context.state.withLock { $0.lossReported = false; $0.lastLibraryMessage = nil }
        let rc = call { mosq in
            first ? mosquitto_connect(mosq, settings.host, Int32(settings.port), Int32(settings.keepaliveS))
                  : mosquitto_reconnect(mosq)
        }
        if rc == success { return true }
        context.events.yield(.disconnected("cannot connect to \(settings.host):\(settings.port): "
                                           + String(cString: mosquitto_strerror(rc)) + context.takeLibraryDetail()
                                           + "; retrying"))
        return false
    }

    /// One round: wait for the socket, read all it holds, hand the burst
    /// over, then write (PUBACKs included). Not `success` when the connection is lost.
    private func serviceOnce() -> Int32 {
        let (sock, wantWrite) = handle.withLock { (mosquitto_socket($0), mosquitto_want_write($0)) }
        guard sock >= 0 else { return Int32(MOSQ_ERR_NO_CONN.rawValue) }
        var fds = [pollfd(fd: sock, events: Int16(POLLIN) | (wantWrite ? Int16(POLLOUT) : 0), revents: 0),
                   pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        let timeoutMs = Int32(min(1000, max(100, settings.keepaliveS * 1000 / 4)))
        if poll(&fds, 2, timeoutMs) < 0 && errno != EINTR { return Int32(MOSQ_ERR_ERRNO.rawValue) }
        if fds[1].revents != 0 { drainWakePipe() }
        var rc = success
        if fds[0].revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 {
            rc = call { mosquitto_loop_read($0, 1) }
            var readMore = [pollfd(fd: sock, events: Int16(POLLIN), revents: 0)]
            var rounds = 1
            while rc == success && rounds < settings.maxBurst && poll(&readMore, 1, 0) > 0 {
                rc = call { mosquitto_loop_read($0, 1) }
                rounds += 1
            }
        }
        // Everything read is handed over before any PUBACK is written, even
        // when the connection broke mid-burst (the broker then redelivers).
        handOverReceived()
        if rc == success { rc = call { mosquitto_loop_write($0, 1) } }
        if rc == success { rc = call { mosquitto_loop_misc($0) } }
        return rc
    }

    /// On stop: hand over the last burst, send its PUBACKs and a DISCONNECT.
    private func finish(connected: Bool) {
        handOverReceived()
        guard connected else { return }
        _ = call { mosq in
            mosquitto_disconnect(mosq)
            return mosquitto_loop_write(mosq, 1)
        }
    }

    private func handOverReceived() {
        let burst = context.takeReceived()
        if !burst.isEmpty { onMessages(burst) }
    }

    private func waitForWake(seconds: Double) {
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        if poll(&fds, 1, Int32(seconds * 1000)) > 0 { drainWakePipe() }
    }
}

/// Calls `body` with a C array of C strings that lives for the call.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return copies.withUnsafeBufferPointer { body($0.baseAddress!) }
}
