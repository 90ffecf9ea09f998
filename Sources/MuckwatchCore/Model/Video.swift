/// A video still to be demuxed: the clip of a camera/drone event, or an
/// announced segment. Work is found in the store, not kept in memory, so
/// that what a crash interrupted is simply found again.
public struct VideoJob: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case clip(offsetS: Double?, eventTime: Instant)
        case segment(source: String, start: Instant)
    }

    /// The message that named the video.
    public var message: InboxMessage
    public var url: String
    public var kind: Kind

    public var inboxId: Int64 { message.id }

    public init(message: InboxMessage, url: String, kind: Kind) {
        self.message = message
        self.url = url
        self.kind = kind
    }
}

/// What demuxing a clip or segment found, as `video_analyses` keeps it, and
/// the drone positions a segment held, which go to the pipeline as values.
public struct VideoResult: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Read to the end (or to what was needed).
        case ok
        /// Cut short, or a read error before the end: what was read is kept.
        case partial
        case unreadable
    }

    public struct Frame: Sendable, Equatable {
        /// In the stream's time base, as ffprobe lists it.
        public var pts: Int64
        public var seconds: Double
        /// Nil when the video has no clock.
        public var wallTime: Instant?

        public init(pts: Int64, seconds: Double, wallTime: Instant?) {
            self.pts = pts
            self.seconds = seconds
            self.wallTime = wallTime
        }
    }

    public var url: String
    public var status: Status
    /// Why unreadable or partial, or a note on the frame.
    public var reason: String?
    /// SHA-256 of the file's bytes (local files only), taken while demuxing.
    public var fileSHA256: String?
    public var formatName: String?
    public var durationS: Double?
    /// Where the video's wall clock came from (`WallClockSource` in the media module).
    public var clockSource: String?
    /// Where on the video's clock the event falls.
    public var targetSeconds: Double?
    /// The last frame shown at or before the event's time.
    public var frame: Frame?
    /// The last keyframe at or before that frame.
    public var keyframe: Frame?
    /// Drone positions found inside a segment, each with `origin` set.
    public var track: [DroneTelemetry] = []
    /// Telemetry samples not trusted (bad checksums, ...).
    public var untrustedSamples = 0

    public init(url: String, status: Status, reason: String? = nil) {
        self.url = url
        self.status = status
        self.reason = reason
    }
}
