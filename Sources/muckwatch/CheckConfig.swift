import ArgumentParser
import MuckwatchConfig

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a config file; says what is wrong and on which line.")

    @Option(help: "Config file to check.")
    var config: String

    func run() throws {
        let c: MuckwatchConfiguration
        do {
            c = try MuckwatchConfiguration.load(path: config)
        } catch {
            throw CLIError("\(error)")
        }
        let p = c.pipeline
        print("""
            \(config): OK
              broker:   \(c.broker.url) as '\(c.broker.clientId)'\(c.broker.username.map { ", user \($0)" } ?? "")\(c.broker.caFile != nil ? ", TLS" : "")
              topics:   \(c.topics.map { "\($0.kind.rawValue)=\($0.filter.text)" }.joined(separator: " "))
              store:    \(c.storePath)
              alerts:   \(c.alertLogPath)
              timezone: \(c.timezone)
              rules:    uncovered_load ≥ \(p.uncoveredLoad.minSpeedKmh) km/h for ≥ \(p.uncoveredLoad.minDurationS) s or events ≥ \(p.uncoveredLoad.minConfidence); spill events ≥ \(p.spillMinConfidence)
              registry: \(p.registry.trucks.count) truck(s)
              media:    roots \(c.media.roots.joined(separator: ", ")); protocols \(c.media.protocols.joined(separator: ", ")); \(c.media.workers) worker(s)
            """)
    }
}
