import MuckwatchCore

/// Where a video's wall-clock times come from, best first.
public enum WallClockSource: String, Sendable, CaseIterable {
    /// RTSP: the RTCP sender reports' NTP time (`start_time_realtime`).
    case rtcpSenderReport = "rtcp_sender_report"
    /// Producer reference time side data on the packets (e.g. MP4 `prft`).
    case producerReferenceTime = "producer_reference_time"
    /// MISB ST 0601 precision time stamps in the KLV stream.
    case misbTimestamp = "misb_st0601_timestamp"
    /// The container's `creation_time` tag, taken as the first frame's time.
    case creationTime = "container_creation_time"
    /// The `start` of the segment announcement (SPEC §4.5).
    case segmentStart = "segment_start"
    /// For an event's clip with none of the above: the event's own word that
    /// at its `ts` the clip was `offset_s` in.
    case eventClipOffset = "event_clip_offset"
}

/// Maps media time (seconds on the streams' clocks) to wall-clock time: one
/// known pair of the two, and the source that gave it.
public struct WallClock: Sendable, Equatable {
    public var source: WallClockSource
    /// Wall-clock time, µs since 1970, at `anchorMediaSeconds`.
    public var anchorMicros: Int64
    public var anchorMediaSeconds: Double

    public init(source: WallClockSource, anchorMicros: Int64, anchorMediaSeconds: Double) {
        self.source = source
        self.anchorMicros = anchorMicros
        self.anchorMediaSeconds = anchorMediaSeconds
    }

    public func wallMicros(atMediaSeconds t: Double) -> Int64 {
        anchorMicros + Int64(((t - anchorMediaSeconds) * 1e6).rounded())
    }

    /// To the millisecond (rounded down, as the rest of Muckwatch counts time).
    public func wallTime(atMediaSeconds t: Double) -> Instant {
        let us = wallMicros(atMediaSeconds: t)
        return Instant(millis: us >= 0 ? us / 1000 : (us - 999) / 1000)
    }

    public func mediaSeconds(at wall: Instant) -> Double {
        anchorMediaSeconds + Double(wall.millis * 1000 - anchorMicros) / 1e6
    }
}
