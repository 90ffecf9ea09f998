/// What one publisher may make the daemon hold (`limits:` in the config): a
/// payload's size, a device id's length, and how long an idle device's state
/// stays in memory.
public struct Limits: Sendable, Equatable {
    /// A larger payload is a `too_large` dead letter keeping its first
    /// `keptBytes` bytes and the SHA-256 of the whole.
    public var maxPayloadBytes = 1_048_576
    /// A longer device, monitor, camera, drone or video source id is an
    /// `invalid_value` dead letter: ids key the rules' state.
    public var maxDeviceIdBytes = 64
    /// State of a device that sent nothing for this long, in the messages'
    /// own time, leaves memory; what a rule needs after that comes back from
    /// the store (see `Pipeline.evictIdle`).
    public var deviceIdleS: Double = 6 * 3600

    /// How much of a too-large payload the inbox and the dead letter keep.
    public static let keptBytes = 4096

    public init() {}
}

/// A payload above `Limits.maxPayloadBytes`, as the MQTT thread saw it:
/// only its first `Limits.keptBytes` bytes are kept.
public struct OversizedPayload: Sendable, Equatable {
    /// The whole payload's size in bytes (unknown when read back from the
    /// inbox after a restart, which keeps only the head and the hash).
    public var size: Int?
    /// The whole payload's SHA-256, hex.
    public var sha256: String

    public init(size: Int?, sha256: String) {
        self.size = size
        self.sha256 = sha256
    }

    /// `payload` cut to its head if it is above `limit`.
    public static func cut(_ payload: [UInt8], limit: Int) -> (payload: [UInt8], oversized: OversizedPayload?) {
        guard payload.count > limit else { return (payload, nil) }
        return (Array(payload.prefix(Limits.keptBytes)), OversizedPayload(size: payload.count, sha256: Digest.sha256Hex(payload)))
    }

    public func failure(limit: Int) -> DecodeFailure {
        let size = self.size.map { "\($0) bytes" } ?? "larger than its first \(Limits.keptBytes) bytes"
        return DecodeFailure(.tooLarge, "payload is \(size), above limits.max_payload_bytes \(limit); its first \(Limits.keptBytes) bytes are kept, sha256 of the whole \(sha256)")
    }
}
