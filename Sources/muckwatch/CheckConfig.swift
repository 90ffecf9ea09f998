import ArgumentParser
import MuckwatchConfig
import MuckwatchCore

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
              rules:    \(RuleSettings.allRules.filter(p.rules.enabled.contains).joined(separator: ", "))
              registry: \(p.registry.trucks.count) truck(s), \(p.registry.companies.count) company(ies), \(p.registry.sites.count) site(s) (\(SiteKind.allCases.map { k in "\(p.registry.sites.filter { $0.kind == k }.count) \(k.rawValue)" }.joined(separator: ", "))), \(p.registry.cameras.count) camera(s), \(p.registry.monitors.count) fume monitor(s)
              geofence: dwell \(number(p.rules.geofence.dwellS)) s; attribution within \(number(p.rules.attribution.radiusM)) m over \(number(p.rules.attribution.lookbackS)) s
              media:    roots \(c.media.roots.joined(separator: ", ")); protocols \(c.media.protocols.joined(separator: ", ")); \(c.media.workers) worker(s)
            """)
    }
}

private func number(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
