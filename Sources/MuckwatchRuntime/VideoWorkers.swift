import Dispatch
import Foundation
import Logging
import MuckwatchConfig
import MuckwatchCore
import MuckwatchMedia
import MuckwatchStore
import Synchronization

extension DemuxerOptions {
    /// What the config allows the daemon to open.
    init(media: MediaSettings) {
        self.init()
        protocols = []
        for p in media.protocols { allow(p) }
        mediaRoots = media.roots
        openTimeoutS = media.openTimeoutS
        readTimeoutS = media.readTimeoutS
    }
}

/// Demuxes the videos the pipeline has recorded — event clips and announced
/// segments — on a few threads of their own, so that a slow or hostile
/// video never holds up MQTT ingest or the rules. The work list is the store
/// (`SQLiteStore.pendingVideoJobs`): a video whose result was not committed when
/// the daemon stopped is simply taken up again.
public final class VideoWorkers: Sendable {
    private struct State {
        var queue: [VideoJob] = []
        var inFlight: Set<Int64> = []
        var started = false
        var stopped = false
        /// Every video with an inbox id up to this one has been analysed and
        /// recorded, or is in flight: the store is searched above it.
        var floor: Int64 = 0
        /// The highest inbox id ever queued.
        var highest: Int64 = 0
        /// Videos whose result could not be stored: searched for again.
        var retry: Set<Int64> = []
    }

    private let store: any PipelineStore
    private let options: DemuxerOptions
    private let capacity: Int
    private let srtUTCOffsetSeconds: Int
    private let logger: Logger
    private let state = Mutex(State())
    private let work = DispatchSemaphore(value: 0)
    private let idle = DispatchSemaphore(value: 0)
    private let stopFeeding = DispatchSemaphore(value: 0)
    /// Aborts the demuxes under way at shutdown.
    private let interrupt = DemuxInterrupt()
    private let workers: Int
    /// Tells the pipeline there are drone positions from a segment.
    private let onTrack: @Sendable () -> Void
    /// Where the case ledger's head goes when a clip's analysis is chained.
    private let heads: ChainHeads?

    public init(store: any PipelineStore, media: MediaSettings, srtUTCOffsetSeconds: Int, logger: Logger,
                heads: ChainHeads? = nil, onTrack: @escaping @Sendable () -> Void = {}) {
        self.store = store
        self.heads = heads
        self.onTrack = onTrack
        self.options = DemuxerOptions(media: media)
        self.capacity = media.queue
        self.srtUTCOffsetSeconds = srtUTCOffsetSeconds
        self.logger = logger
        self.workers = media.workers
    }

    /// Starts the worker threads (once), and with `refillEvery`, a thread
    /// that looks for pending videos in the store that often until `stop()`
    /// (the daemon; replay calls `drainAll` instead).
    public func start(refillEvery interval: Double? = nil) {
        guard state.withLock({ s in defer { s.started = true }; return !s.started }) else { return }
        for i in 0..<workers {
            let thread = Thread { [self] in runWorker() }
            thread.name = "muckwatch.video-\(i + 1)"
            thread.start()
        }
        if let interval {
            let feeder = Thread { [self] in
                while stopFeeding.wait(timeout: .now() + interval) == .timedOut { refill() }
            }
            feeder.name = "muckwatch.video-feeder"
            feeder.start()
        }
    }

    /// Takes pending videos from the store, as many as there is room for.
    /// Returns how many it queued.
    @discardableResult
    public func refill() -> Int {
        let (busy, room, floor) = state.withLock { ($0.inFlight, capacity - $0.inFlight.count, $0.floor) }
        guard room > 0 else { return 0 }
        let jobs: [VideoJob]
        do {
            jobs = try store.pendingVideoJobs(after: floor, excluding: busy, limit: room)
        } catch {
            logger.error("cannot look up the videos to demux: \(error)")
            return 0
        }
        guard !jobs.isEmpty else { return 0 }
        state.withLock { s in
            s.queue.append(contentsOf: jobs)
            for j in jobs { s.inFlight.insert(j.inboxId) }
            s.highest = max(s.highest, jobs.map(\.inboxId).max() ?? 0)
        }
        for _ in jobs { work.signal() }
        return jobs.count
    }

    /// Whether nothing is queued or under way.
    public var isIdle: Bool { state.withLock { $0.inFlight.isEmpty } }

    /// Processes every pending video and returns when none is left (replay).
    public func drainAll() {
        while refill() > 0 || !isIdle {
            _ = idle.wait(timeout: .now() + 0.05)
        }
    }

    /// Stops the workers; demuxes under way are interrupted and their videos
    /// stay pending for the next start.
    public func stop() {
        state.withLock { $0.stopped = true }
        stopFeeding.signal()
        interrupt.cancel()
        for _ in 0..<workers { work.signal() }
    }

    private func runWorker() {
        while true {
            work.wait()
            let next: VideoJob? = state.withLock { s in
                s.stopped || s.queue.isEmpty ? nil : s.queue.removeFirst()
            }
            if state.withLock({ $0.stopped }) { return }
            guard let job = next else { continue }
            let analysis = analyse(job)
            var stored = false
            if !interrupt.isCancelled {
                do {
                    let head = try store.record(analysis.result, for: job)
                    report(job, analysis)
                    stored = true
                    if !analysis.track.isEmpty { onTrack() }
                    if let head, let heads {
                        do {
                            try heads.append(head, caseId: nil, at: .wallClock)
                        } catch {
                            logger.error("cannot write the case ledger head \(head) to \(heads.path): \(error)")
                        }
                    }
                } catch {
                    logger.error("cannot store what video \(job.url) (inbox \(job.inboxId)) holds: \(error); trying again later")
                }
            }
            state.withLock { s in
                s.inFlight.remove(job.inboxId)
                if stored { s.retry.remove(job.inboxId) } else { s.retry.insert(job.inboxId) }
                // Nothing is pending below the oldest video in flight or to retry.
                let oldest = min(s.inFlight.min() ?? .max, s.retry.min() ?? .max, s.highest + 1)
                s.floor = oldest - 1
            }
            idle.signal()
        }
    }

    private func analyse(_ job: VideoJob) -> VideoAnalysis {
        switch job.kind {
        case .clip(let offset, let eventTime):
            return VideoAnalysis.clip(url: job.url, offsetS: offset, eventTime: eventTime, options: options,
                                      interrupt: DemuxInterrupt(cancelledWith: interrupt))
        case .segment(let source, let start):
            return VideoAnalysis.segment(url: job.url, source: source, start: start, options: options,
                                         srtUTCOffsetSeconds: srtUTCOffsetSeconds, interrupt: DemuxInterrupt(cancelledWith: interrupt))
        }
    }

    private func report(_ job: VideoJob, _ a: VideoAnalysis) {
        if let reason = a.unreadable {
            logger.warning("video of inbox message \(job.inboxId) is unreadable: \(reason)")
            return
        }
        if let reason = a.partial {
            logger.warning("video of inbox message \(job.inboxId) was read only in part: \(reason)")
        }
        switch job.kind {
        case .clip:
            let frame = a.frame.map { "frame pts \($0.pts) (\($0.seconds) s)" } ?? "no frame placed"
            let key = a.keyframe.map { ", keyframe pts \($0.pts)" } ?? ""
            logger.info("video \(job.url): \(frame)\(key)\(a.note.map { "; \($0)" } ?? "")")
        case .segment(let source, _):
            let untrusted = a.untrustedSamples > 0 ? ", \(a.untrustedSamples) telemetry sample(s) not trusted" : ""
            logger.info("video \(job.url): \(a.track.count) track point(s) of \(source)\(untrusted)")
        }
    }
}
