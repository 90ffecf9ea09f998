// muckwatchd: the Muckwatch daemon's entry point. Parses the command line,
// loads the config, bootstraps logging, and runs `Daemon`.
import ArgumentParser
import Foundation
import Logging
import MuckwatchCommandLine
import MuckwatchConfig
import MuckwatchRuntime
import MuckwatchDaemon

struct MuckwatchDaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muckwatchd",
        abstract: "Muckwatch daemon: MQTT in, rules, alerts and draft cases out.",
        discussion: """
            Subscribes to the broker, stores every message, runs the rules, appends \
            alerts to the alert log and opens draft cases in the store. Stops cleanly \
            on SIGTERM/SIGINT; SIGHUP reopens the alert log. Exit codes: 0 stopped \
            cleanly, 1 failure, 2 bad usage, 78 bad configuration.
            """,
        version: MuckwatchVersion.string)

    @Option(help: "YAML config file (default: built-in defaults).")
    var config: String?

    @Option(help: "Broker URL, overriding the config: mqtt://host:port or mqtts://host:port.")
    var broker: String?

    @Option(help: "SQLite store path, overriding the config.")
    var db: String?

    @Option(name: .customLong("alert-log"), help: "Alert log path, overriding the config.")
    var alertLog: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = ProcessInfo.processInfo.environment["MUCKWATCH_LOG_LEVEL"] ?? "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = EscapingLogHandler(StreamLogHandler.standardError(label: label))
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "muckwatchd")
        var settings: MuckwatchConfiguration
        do {
            settings = try config.map { try MuckwatchConfiguration.load(path: $0) } ?? MuckwatchConfiguration()
            if let broker { try settings.broker.apply(url: broker) }
        } catch {
            FileHandle.standardError.write(Data("muckwatchd: \(error)\n".utf8))
            throw ExitCode(78)
        }
        if let db { settings.storePath = db }
        if let alertLog { settings.alertLogPath = alertLog }
        logger.notice("muckwatchd \(MuckwatchVersion.string) starting (config: \(config ?? "built-in defaults"))")
        do {
            try await Daemon(config: settings, logger: logger).run()
        } catch {
            logger.critical("stopping: \(error)")
            throw ExitCode.failure
        }
    }
}

await MuckwatchDaemonCommand.mainAsyncExitingWithCode2OnUsageErrors()
