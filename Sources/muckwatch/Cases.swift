import ArgumentParser
import MuckwatchCore
import MuckwatchStore

struct Cases: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read draft cases from the store.",
        subcommands: [List.self, Show.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List cases, newest first.")

        @OptionGroup var store: StoreOptions

        @Option(help: "Only cases with this status: draft, registered or dismissed.")
        var status: String?

        @Option(help: "Only cases of this rule (e.g. spill).")
        var rule: String?

        @Option(help: "Only cases whose suspected party's company (or restaurant) name contains this.")
        var company: String?

        @Option(help: "Only cases first seen on or after this local date (YYYY-MM-DD).")
        var from: String?

        @Option(help: "Only cases first seen on or before this local date (YYYY-MM-DD).")
        var to: String?

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func validate() throws {
            if let status, CaseStatus(rawValue: status) == nil {
                throw ValidationError("--status '\(status)' should be one of \(CaseStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() throws {
            let (db, config) = try store.openStore()
            let offset = config.utcOffsetSeconds
            func day(_ text: String?, _ name: String) throws -> Instant? {
                guard let text else { return nil }
                guard text.count == 10, let start = RFC3339.parse(text + "T00:00:00Z") else {
                    throw ValidationError("--\(name) '\(text)' is not a date like 2026-11-24")
                }
                return start.adding(seconds: -Double(offset))
            }
            let first = try day(from, "from"), last = try day(to, "to")
            if let first, let last, first > last {
                throw ValidationError("--from \(from ?? "") is after --to \(to ?? ""); the range would hold no day")
            }
            let filter = SQLiteStore.CaseFilter(status: status, rule: rule, company: company, from: first,
                                          until: last?.adding(seconds: 86_400))
            let cases = try db.cases(utcOffsetSeconds: offset, filter: filter)
            if json {
                print(try Output.json(cases))
                return
            }
            if cases.isEmpty {
                print("No cases\(status != nil || rule != nil || company != nil || from != nil || to != nil ? " matching these filters" : "") in \(db.path).")
                return
            }
            print(Output.table(
                ["CASE", "STATUS", "RULE", "SEVERITY", "SUSPECTED PARTY", "COMPANY", "FIRST SEEN", "EVIDENCE", "ACTION"],
                cases.map { c in
                    [c.id, c.status, c.violation, c.severity, party(c.suspectedParty), c.suspectedParty.company ?? "-",
                     c.firstSeen, String(c.evidenceCount), c.suggestedAction]
                }))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one case with its evidence and history.")

        @Argument(help: "Case id, e.g. MW-20261124-0001.")
        var id: String

        @OptionGroup var store: StoreOptions

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let (db, config) = try store.openStore()
            guard let c = try db.caseDetail(id: id, utcOffsetSeconds: config.utcOffsetSeconds) else {
                throw CLIError("there is no case \(id) in \(db.path); `muckwatch cases list` shows the ids")
            }
            if json {
                print(try Output.json(c))
                return
            }
            // Plates, names, summaries, URLs and notes are devices' and
            // officers' text: every line appended is shown escaped.
            var lines: TerminalLines = [
                "Case \(c.id)  [\(c.status)]",
                "Violation:        \(c.violation) (\(c.severity))",
                "Summary:          \(c.summary)",
                "Suspected party:  \(party(c.suspectedParty))\(c.suspectedParty.company.map { ", \($0)" } ?? "")",
                "Place:            \(c.lat.map { "\($0)" } ?? "unknown"), \(c.lon.map { "\($0)" } ?? "unknown") (WGS-84)",
                "First seen:       \(c.firstSeen)",
                "Last seen:        \(c.lastSeen)",
                "Created:          \(c.createdAt)",
                "Verify by:        \(c.verifyBy)",
                "Suggested action: \(c.suggestedAction) (\(c.priorIncidents) earlier incident(s) of this party in 30 days)",
                "Legal basis:      \(c.legalBasis ?? "(none configured for this rule)")",
                "Penalty:          \(c.penalty ?? "(none configured for this rule)")",
            ]
            if !c.candidates.isEmpty {
                lines.append("")
                lines.append("Other candidates (trucks whose tracks passed near):")
                lines.append(table: Output.table(
                    ["RANK", "DEVICE", "PLATE", "COMPANY", "DISTANCE", "PASSED AT"],
                    c.candidates.enumerated().map { rank, k in
                        [String(rank + 1), k.id, k.plate ?? "-", k.company ?? "-",
                         k.distanceM.map { "\(Int($0.rounded())) m" } ?? "-", k.passedAt ?? "-"]
                    }))
            }
            lines += [
                "",
                "Evidence (\(c.evidenceCount)):",
            ]
            lines.append(table: Output.table(
                ["TIME", "KIND", "SOURCE", "SHA-256 OF ORIGINAL", "CLIP"],
                (c.evidence ?? []).map { e in
                    [e.ts, e.kind, e.source, e.sha256,
                     e.clipURL.map { url in url + (e.frameOffsetS.map { " @ \($0) s" } ?? "") } ?? "-"]
                }))
            let videos = (c.evidence ?? []).compactMap { e in e.video.map { (e, $0) } }
            if !videos.isEmpty {
                lines.append("")
                lines.append("Video frames:")
                for (e, v) in videos {
                    lines.append("  \(e.clipURL ?? "?") (\(e.source) at \(e.ts))")
                    guard v.status != "unreadable" else {
                        lines.append("    unreadable: \(v.reason ?? "no reason recorded")")
                        continue
                    }
                    if v.status != "ok" { lines.append("    \(v.status): \(v.reason ?? "no reason recorded")") }
                    if let sha = v.fileSHA256 { lines.append("    file SHA-256 \(sha)") }
                    if let pts = v.framePts, let t = v.frameTimeS {
                        lines.append("    frame at the event: pts \(pts) (\(t) s)\(v.frameWallTime.map { ", \($0)" } ?? "")")
                    }
                    if let pts = v.keyframePts, let t = v.keyframeTimeS {
                        lines.append("    cut from keyframe:  pts \(pts) (\(t) s)\(v.keyframeWallTime.map { ", \($0)" } ?? "")")
                    }
                    if let clock = v.clockSource { lines.append("    wall clock from \(clock.replacingOccurrences(of: "_", with: " "))") }
                    if let note = v.reason, v.status == "ok" { lines.append("    \(note)") }
                }
            }
            lines.append("")
            lines.append("History:")
            for h in c.history ?? [] {
                lines.append("  \(h.at)  \(h.status)  by \(h.by)\(h.note.map { " — \($0)" } ?? "")")
            }
            print(lines.text)
        }
    }
}

private func party(_ p: CaseRecord.Party) -> String {
    if let plate = p.plate, plate != p.id { return "\(plate) (\(p.kind) \(p.id))" }
    return "\(p.kind) \(p.id)"
}
