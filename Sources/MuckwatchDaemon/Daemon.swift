// MuckwatchDaemon owns the daemon's lifetime: the services (MQTT ingest, the
// pipeline thread, the video workers, systemd's watchdog, SIGHUP) under one
// swift-service-lifecycle group, started and stopped in order.
import Logging
import MuckwatchConfig
import MuckwatchRuntime
import MuckwatchStore
import ServiceLifecycle

/// The daemon: opens the store, then runs ingest, pipeline and systemd
/// services until SIGTERM/SIGINT, shutting them down in reverse order so the
/// last accepted message is processed before the store closes.
public struct Daemon: Sendable {
    public let config: MuckwatchConfiguration
    public let logger: Logger

    public init(config: MuckwatchConfiguration, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    public func run() async throws {
        // Opening migrates the store, which may take a while: not on a cooperative thread.
        let (path, walLimitMB) = (config.storePath, config.storeWALLimitMB)
        let store = try await onThread(named: "muckwatch.open-store") {
            try SQLiteStore(path: path, checkpoints: .background, walLimitFrames: walLimitMB > 0 ? walLimitMB * 256 : nil)
        }
        logger.info("store open at \(config.storePath)")
        let (settings, alertLogPath, logger) = (config.pipelineSettings, config.alertLogPath, logger)
        let diskFull = DiskFullGate(storePath: path, logger: logger)
        let pipeline = PipelineThread(niceness: 5, logger: logger, diskFull: diskFull) {
            try PipelineHost(store: store, settings: settings, alertLogPath: alertLogPath, logger: logger)
        }
        let systemd = SystemdNotifier()
        let ingest = try IngestService(config: config, store: store, pipeline: pipeline, diskFull: diskFull, systemd: systemd,
                                       logger: logger)
        let watchdog = WatchdogService(systemd: systemd, pipeline: pipeline, logger: logger)
        let video = VideoService(workers: VideoWorkers(
            store: store, media: config.media,
            srtUTCOffsetSeconds: config.utcOffsetSeconds, logger: logger,
            heads: ChainHeads(besideAlertLog: config.alertLogPath), onTrack: { pipeline.signal() }))
        // Shut down in reverse: ingest stops taking messages before the
        // pipeline processes the last of them, and the store closes after both.
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: PipelineService(thread: pipeline)),
                .init(service: video),
                .init(service: ingest),
                .init(service: watchdog),
                .init(service: ReopenOnHangupService(pipeline: pipeline)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        logger.info("stopped")
    }
}
