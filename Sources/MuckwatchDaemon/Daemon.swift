import Foundation
import Logging
import MuckwatchConfig
import MuckwatchCore
import MuckwatchIngest
import MuckwatchRuntime
import MuckwatchStore
import ServiceLifecycle
import Synchronization
import UnixSignals

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
        let store = try Store(path: config.storePath, checkpoints: .background,
                              walLimitFrames: config.storeWALLimitMB > 0 ? config.storeWALLimitMB * 256 : nil)
        logger.info("store open at \(config.storePath)")
        let worker = try PipelineWorker(store: store, settings: config.pipelineSettings,
                                        alertLogPath: config.alertLogPath, logger: logger, niceness: 5)
        try await worker.logLeftoverAlerts()
        let recovered = try await worker.drain()
        if recovered > 0 { logger.notice("processed \(recovered) message(s) accepted before the last stop") }

        let wake = Wake()
        let heartbeat = Heartbeat()
        let systemd = SystemdNotifier()
        let ingest = try IngestService(config: config, store: store, wake: wake, systemd: systemd, logger: logger)
        let pipeline = PipelineService(worker: worker, wake: wake, heartbeat: heartbeat, logger: logger)
        let watchdog = WatchdogService(systemd: systemd, heartbeat: heartbeat, logger: logger)
        let reopen = ReopenOnHangupService(worker: worker)
        let video = VideoService(workers: VideoWorkers(
            store: store, media: config.media, routes: config.pipelineSettings.routes,
            srtUTCOffsetSeconds: config.utcOffsetSeconds, logger: logger,
            heads: ChainHeads(besideAlertLog: config.alertLogPath), onAccepted: { wake.signal() }))
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: pipeline),
                .init(service: video),
                .init(service: ingest),
                .init(service: watchdog),
                .init(service: reopen),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        logger.info("stopped")
    }
}

/// Tells the pipeline there is new work; one signal covers any number of
/// messages, so the MQTT thread pays for a stream yield only when idle.
final class Wake: Sendable {
    let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    private let pending = Atomic<Bool>(false)

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func signal() {
        if !pending.exchange(true, ordering: .acquiringAndReleasing) { continuation.yield() }
    }

    /// Called by the pipeline before it looks for work.
    func consume() { pending.store(false, ordering: .releasing) }

    func tick() { continuation.yield() }
    func finish() { continuation.finish() }
}

/// When the pipeline last completed a loop, on the monotonic clock.
final class Heartbeat: Sendable {
    private let nanos = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)
    func beat() { nanos.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed) }
    var age: Double { Double(DispatchTime.now().uptimeNanoseconds &- nanos.load(ordering: .relaxed)) / 1e9 }
}

/// Subscribes and stores every message before libmosquitto may acknowledge it.
struct IngestService: Service {
    let client: MQTTClient
    let systemd: SystemdNotifier
    let logger: Logger
    let brokerURL: String

    init(config: MuckwatchConfiguration, store: Store, wake: Wake, systemd: SystemdNotifier, logger: Logger) throws {
        let log = logger
        client = try MQTTClient(settings: MQTTSettings(config: config)) { burst in
            Self.accept(burst, store: store, wake: wake, logger: log)
        }
        self.systemd = systemd
        self.logger = logger
        self.brokerURL = config.broker.url
    }

    /// Runs on the MQTT network thread. Returning lets the burst's PUBACKs
    /// go out, so it returns only once the burst is committed. If the store
    /// cannot take it, the process stops without acknowledging: the broker
    /// redelivers to the next run, rather than the messages being lost.
    static func accept(_ burst: [ReceivedMessage], store: Store, wake: Wake, logger: Logger) {
        let arrived = Instant(millis: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
        let arrivals = burst.map {
            Store.Arrival(topic: $0.topic, payload: $0.payload, qos: $0.qos, retain: $0.retain, arrivedAt: arrived,
                          oversized: $0.cut.map { OversizedPayload(size: $0.size, sha256: $0.sha256) })
        }
        for attempt in 1...5 {
            do {
                let outcomes = try store.accept(arrivals)
                for (message, outcome) in zip(burst, outcomes) {
                    if case .duplicate(let original) = outcome {
                        logger.debug("redelivery of inbox message \(original) on \(message.topic) recognised; not processed again")
                    }
                }
                if outcomes.contains(where: { if case .new = $0 { true } else { false } }) { wake.signal() }
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
        logger.info("disconnecting from \(brokerURL)")
        client.stop()
    }
}

/// Drains the inbox whenever woken, and once a second regardless (the
/// heartbeat the watchdog checks). On shutdown it finishes what is pending.
struct PipelineService: Service {
    let worker: PipelineWorker
    let wake: Wake
    let heartbeat: Heartbeat
    let logger: Logger

    func run() async throws {
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                wake.tick()
            }
        }
        defer { ticker.cancel() }
        for await _ in wake.stream.cancelOnGracefulShutdown() {
            wake.consume()
            try await worker.drain()
            heartbeat.beat()
        }
        let last = try await worker.drain()
        logger.info("pipeline stopped\(last > 0 ? " after processing \(last) last message(s)" : "")")
    }
}

/// Pings systemd's watchdog while the pipeline's heartbeat is fresh, so a
/// stuck pipeline gets the daemon restarted.
struct WatchdogService: Service {
    let systemd: SystemdNotifier
    let heartbeat: Heartbeat
    let logger: Logger

    func run() async throws {
        guard let micros = systemd.watchdogMicros, micros > 0 else {
            try? await gracefulShutdown()
            return
        }
        let interval = Double(micros) / 1e6
        logger.info("systemd watchdog every \(interval) s")
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if heartbeat.age < interval / 2 {
                systemd.notify("WATCHDOG=1")
            } else {
                logger.warning("pipeline heartbeat is \(Int(heartbeat.age)) s old; not pinging the watchdog")
            }
            try? await Task.sleep(for: .seconds(interval / 4))
        }
    }
}

/// SIGHUP: reopen the alert log (after logrotate).
struct ReopenOnHangupService: Service {
    let worker: PipelineWorker

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            await worker.reopenAlertLog()
        }
    }
}

/// Feeds the video workers from the store twice a second, and stops them on
/// shutdown.
struct VideoService: Service {
    let workers: VideoWorkers

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            workers.refill()
            try? await Task.sleep(for: .milliseconds(500))
        }
        workers.stop()
    }
}
