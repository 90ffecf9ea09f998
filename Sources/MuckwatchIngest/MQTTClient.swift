// MuckwatchIngest owns MQTT: a libmosquitto client that subscribes (and
// publishes, for feeds and benchmarks), reconnects with backoff, and hands
// each message to Swift while libmosquitto still holds its acknowledgement.
import CMosquitto
#if canImport(Glibc)
import Glibc
#endif
import Logging
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

    public init() {}
}

public struct ReceivedMessage: Sendable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: Int
    public var retain: Bool
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
}

private let libraryReady: Bool = {
    mosquitto_lib_init()
    return true
}()

/// State the C callbacks reach through libmosquitto's user-data pointer.
/// Sendable because everything mutable is behind a Mutex or is a continuation.
private final class CallbackContext: Sendable {
    let onMessage: @Sendable (ReceivedMessage) -> Void
    let events: AsyncStream<ConnectionEvent>.Continuation
    let subscriptions: [String]
    let qos: Int32
    /// mid of our SUBSCRIBE → its filters; published-and-acknowledged count.
    let state = Mutex<(pendingSubscribe: [Int32: [String]], published: Int)>(([:], 0))

    init(onMessage: @escaping @Sendable (ReceivedMessage) -> Void, events: AsyncStream<ConnectionEvent>.Continuation,
         subscriptions: [String], qos: Int32) {
        self.onMessage = onMessage
        self.events = events
        self.subscriptions = subscriptions
        self.qos = qos
    }

    static func from(_ obj: UnsafeMutableRawPointer?) -> CallbackContext? {
        obj.map { Unmanaged<CallbackContext>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// One MQTT connection. Messages are delivered on libmosquitto's network
/// thread to `onMessage`; with the threaded loop, the PUBACK for a QoS 1
/// message goes out only after `onMessage` returns, so a handler that returns
/// after storing the message never lets the broker forget an unstored one.
public final class MQTTClient: Sendable {
    public let settings: MQTTSettings
    /// The connection's state changes, for logging and readiness.
    public let events: AsyncStream<ConnectionEvent>
    private let context: CallbackContext
    /// The `struct mosquitto *`; calls on it are serialised by this lock.
    private let handle: Mutex<OpaquePointer>
    private let started = Atomic<Bool>(false)

    public init(settings: MQTTSettings, onMessage: @escaping @Sendable (ReceivedMessage) -> Void = { _ in }) throws {
        precondition(libraryReady)
        self.settings = settings
        let (stream, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
        self.events = stream
        let context = CallbackContext(onMessage: onMessage, events: continuation,
                                      subscriptions: settings.subscriptions, qos: Int32(settings.qos))
        self.context = context
        let userdata = Unmanaged.passUnretained(context).toOpaque()
        guard let mosq = mosquitto_new(settings.clientId, settings.cleanSession, userdata) else {
            throw MQTTError(code: Int32(MOSQ_ERR_NOMEM.rawValue),
                            action: settings.clientId == nil && !settings.cleanSession
                                ? "a persistent session needs a client id" : "cannot create an MQTT client")
        }
        do {
            try Self.configure(mosq, settings)
        } catch {
            mosquitto_destroy(mosq)
            throw error
        }
        self.handle = Mutex(mosq)
    }

    deinit {
        context.events.finish()
        handle.withLock { mosq in
            if started.load(ordering: .relaxed) { mosquitto_loop_stop(mosq, true) }
            mosquitto_destroy(mosq)
        }
    }

    private static func configure(_ mosq: OpaquePointer, _ settings: MQTTSettings) throws {
        func check(_ rc: Int32, _ action: String) throws {
            if rc != MOSQ_ERR_SUCCESS.rawValue { throw MQTTError(code: rc, action: action) }
        }
        if settings.username != nil || settings.password != nil {
            try check(mosquitto_username_pw_set(mosq, settings.username, settings.password), "cannot set the broker username")
        }
        if settings.useTLS || settings.caFile != nil {
            try check(mosquitto_tls_set(mosq, settings.caFile, settings.caFile == nil ? "/etc/ssl/certs" : nil,
                                        settings.certFile, settings.keyFile, nil),
                      "cannot set up TLS with the configured CA/certificate files")
        }
        try check(mosquitto_reconnect_delay_set(mosq, UInt32(settings.reconnectMinS), UInt32(settings.reconnectMaxS), true),
                  "cannot set the reconnect backoff")
        try check(mosquitto_max_inflight_messages_set(mosq, UInt32(settings.maxInflight)), "cannot set max in-flight messages")

        mosquitto_connect_callback_set(mosq) { mosq, obj, rc in
            guard let ctx = CallbackContext.from(obj) else { return }
            guard rc == 0 else {
                ctx.events.yield(.refused(String(cString: mosquitto_connack_string(rc))))
                return
            }
            ctx.events.yield(.connected)
            guard !ctx.subscriptions.isEmpty else { return }
            // Subscribe on every connect: harmless with a kept session, needed without one.
            var mid: Int32 = 0
            let rc = withCStrings(ctx.subscriptions) { filters in
                mosquitto_subscribe_multiple(mosq, &mid, Int32(ctx.subscriptions.count), filters, ctx.qos, 0, nil)
            }
            if rc == MOSQ_ERR_SUCCESS.rawValue {
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
            ctx.events.yield(.disconnected(rc == 0 ? "disconnected on request" : String(cString: mosquitto_strerror(rc))))
        }
        mosquitto_publish_callback_set(mosq) { _, obj, _ in
            CallbackContext.from(obj)?.state.withLock { $0.published += 1 }
        }
        mosquitto_message_callback_set(mosq) { _, obj, msg in
            guard let ctx = CallbackContext.from(obj), let m = msg?.pointee else { return }
            // libmosquitto frees topic and payload when this returns: copy them.
            let payload = m.payloadlen > 0 && m.payload != nil
                ? [UInt8](UnsafeRawBufferPointer(start: m.payload, count: Int(m.payloadlen))) : []
            ctx.onMessage(ReceivedMessage(topic: String(cString: m.topic), payload: payload, qos: Int(m.qos), retain: m.retain))
        }
    }

    /// Connects and starts the network thread. A broker that is down is not
    /// an error here: the thread keeps retrying with backoff, and `events`
    /// reports each attempt.
    public func start() throws {
        try handle.withLock { mosq in
            let rc = mosquitto_connect(mosq, settings.host, Int32(settings.port), Int32(settings.keepaliveS))
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                context.events.yield(.disconnected("cannot connect to \(settings.host):\(settings.port): "
                                                   + String(cString: mosquitto_strerror(rc)) + "; retrying"))
            }
            let loop = mosquitto_loop_start(mosq)
            if loop != MOSQ_ERR_SUCCESS.rawValue { throw MQTTError(code: loop, action: "cannot start the MQTT network thread") }
            started.store(true, ordering: .relaxed)
        }
    }

    /// Disconnects cleanly and stops the network thread. A message being
    /// handled finishes first.
    public func stop() {
        handle.withLock { mosq in
            guard started.exchange(false, ordering: .relaxed) else { return }
            mosquitto_disconnect(mosq)
            mosquitto_loop_stop(mosq, false)
        }
    }

    /// Queues a message for sending.
    public func publish(topic: String, payload: [UInt8], qos: Int = 1, retain: Bool = false) throws {
        let rc = handle.withLock { mosq in
            payload.withUnsafeBytes { buf in
                mosquitto_publish(mosq, nil, topic, Int32(buf.count), buf.baseAddress, Int32(qos), retain)
            }
        }
        if rc != MOSQ_ERR_SUCCESS.rawValue { throw MQTTError(code: rc, action: "cannot publish to \(topic)") }
    }

    /// How many published messages the broker has acknowledged (QoS 1) or
    /// that were written out (QoS 0).
    public var publishedCount: Int { context.state.withLock { $0.published } }

    public static var libraryVersion: String {
        var major: Int32 = 0, minor: Int32 = 0, rev: Int32 = 0
        _ = mosquitto_lib_version(&major, &minor, &rev)
        return "\(major).\(minor).\(rev)"
    }
}

/// Calls `body` with a C array of C strings that lives for the call.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return copies.withUnsafeBufferPointer { body($0.baseAddress!) }
}
