import Foundation

/// One message as it arrived — from the broker, a feed line or a recording —
/// before the store gives it an inbox id. The same value goes from the MQTT
/// thread to the store, and, stored, to the rules (`InboxMessage.arrival`).
public struct Arrival: Sendable, Equatable {
    public var topic: String
    /// The payload, or only its first `Limits.keptBytes` bytes when `oversized` is set.
    public var payload: [UInt8]
    public var qos: Int
    public var retain: Bool
    public var arrivedAt: Instant
    /// The payload already decoded by `PipelineSettings.payloadDecoder()` on
    /// another thread (replay does it while reading the feed), or nil for the
    /// pipeline to decode.
    public var decoded: Decoded?
    /// Set when `payload` is only the head of a larger payload: its whole
    /// size and hash (a `too_large` dead letter).
    public var oversized: OversizedPayload?

    public init(topic: String, payload: [UInt8], qos: Int = 1, retain: Bool = false, arrivedAt: Instant,
                decoded: Decoded? = nil, oversized: OversizedPayload? = nil) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.arrivedAt = arrivedAt
        self.decoded = decoded
        self.oversized = oversized
    }
}

extension Instant {
    /// Now, by the system clock: when a message arrived, a person acted or a
    /// head was written (the pipeline itself takes its times from the messages).
    public static var wallClock: Instant {
        Instant(millis: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
    }
}
