import AsyncAlgorithms
import Foundation
import Logging
import MuckwatchConfig
import MuckwatchCore
import MuckwatchIngest
import MuckwatchRuntime
import MuckwatchStore
import ServiceLifecycle
import UnixSignals

/// Subscribes and stores every message before libmosquitto may acknowledge it.
struct IngestService: Service {
    let client: MQTTClient
    let systemd: SystemdNotifier
    let logger: Logger
    let brokerURL: String
    let diskFull: DiskFullGate

    init(config: MuckwatchConfiguration, store: any PipelineStore, pipeline: PipelineThread, diskFull: DiskFullGate,
         systemd: SystemdNotifier, logger: Logger) throws {
        let log = logger
        client = try MQTTClient(settings: MQTTSettings(config: config)) { burst in
            Self.accept(burst, store: store, pipeline: pipeline, diskFull: diskFull, logger: log)
        }
        self.diskFull = diskFull
        self.systemd = systemd
        self.logger = logger
        self.brokerURL = config.broker.url
    }

    /// Runs on the MQTT network thread. Returning lets the burst's PUBACKs
    /// go out, so it returns only once the burst is committed. While the disk
    /// is full it waits for space (see `DiskFullGate`): libmosquitto reads
    /// and acknowledges nothing meanwhile, and the broker keeps the messages
    /// (past the keepalive it drops the connection, and redelivers them to
    /// the reconnected session). If the store cannot take the burst for any
    /// other reason, the process stops without acknowledging: the broker
    /// redelivers to the next run, rather than the messages being lost.
    static func accept(_ burst: [Arrival], store: any PipelineStore, pipeline: PipelineThread, diskFull: DiskFullGate,
                       logger: Logger) {
        for attempt in 1...5 {
            do {
                let outcomes = try diskFull.retrying("store \(burst.count) message(s) from the broker") {
                    try store.accept(burst)
                }
                for (message, outcome) in zip(burst, outcomes) {
                    if case .duplicate(let original) = outcome {
                        logger.debug("redelivery of inbox message \(original) on \(message.topic) recognised; not processed again")
                    }
                }
                if outcomes.contains(where: { if case .new = $0 { true } else { false } }) { pipeline.signal() }
                return
            } catch {
                logger.error("cannot store \(burst.count) message(s) from \(burst[0].topic)… (attempt \(attempt) of 5): \(error)")
                Thread.sleep(forTimeInterval: 0.2 * Double(attempt))
            }
        }
        logger.critical("the store refuses messages; stopping without acknowledging, so the broker keeps them")
        exit(75)
    }

    func run() async throws {
        logger.info("connecting to \(brokerURL) as '\(client.settings.clientId ?? "")' (persistent session, QoS 1)")
        try client.start()
        var ready = false
        for await event in client.events.cancelOnGracefulShutdown() {
            switch event {
            case .connected:
                logger.notice("connected to \(brokerURL)")
            case .subscribed(let filters, let refused):
                if !refused.isEmpty {
                    logger.error("the broker refused subscriptions to \(refused.joined(separator: ", ")); check its ACL")
                }
                if !filters.isEmpty {
                    logger.notice("subscribed to \(filters.joined(separator: ", ")) at QoS 1")
                }
                if !ready {
                    ready = true
                    systemd.notify("READY=1\nSTATUS=connected to \(brokerURL)")
                }
            case .refused(let reason):
                logger.error("the broker at \(brokerURL) refused the connection: \(reason); retrying with backoff")
            case .disconnected(let reason):
                logger.warning("disconnected from \(brokerURL): \(reason)")
                systemd.notify("STATUS=disconnected from \(brokerURL), reconnecting")
            }
        }
        systemd.notify("STOPPING=1")
        // A burst waiting for disk space would hold the stop back for good.
        diskFull.giveUp()
        logger.info("disconnecting from \(brokerURL)")
        client.stop()
    }
}

/// The pipeline thread, for the lifetime of the service group: on shutdown
/// (it is stopped last) it processes what ingest accepted, then ends.
struct PipelineService: Service {
    let thread: PipelineThread

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await thread.run()
        } onGracefulShutdown: {
            thread.stop()
        }
    }
}

/// Pings systemd's watchdog while the pipeline thread's heartbeat is fresh,
/// so a stuck pipeline gets the daemon restarted.
struct WatchdogService: Service {
    let systemd: SystemdNotifier
    let pipeline: PipelineThread
    let logger: Logger

    func run() async throws {
        guard let micros = systemd.watchdogMicros, micros > 0 else {
            // A service that returns early would stop the whole group.
            try? await gracefulShutdown()
            return
        }
        let interval = Double(micros) / 1e6
        logger.info("systemd watchdog every \(interval) s")
        let ticks = AsyncTimerSequence(interval: .microseconds(Int(micros / 4)), clock: .continuous)
        for await _ in ticks.cancelOnGracefulShutdown() {
            if pipeline.heartbeatAge < interval / 2 {
                systemd.notify("WATCHDOG=1")
            } else {
                logger.warning("pipeline heartbeat is \(Int(pipeline.heartbeatAge)) s old; not pinging the watchdog")
            }
        }
    }
}

/// SIGHUP: reopen the alert log (after logrotate).
struct ReopenOnHangupService: Service {
    let pipeline: PipelineThread

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            pipeline.reopenAlertLog()
        }
    }
}

/// Starts the video workers, which look for work in the store twice a
/// second on a thread of their own, and stops them on shutdown.
struct VideoService: Service {
    let workers: VideoWorkers

    func run() async throws {
        workers.start(refillEvery: 0.5)
        try? await gracefulShutdown()
        workers.stop()
    }
}
