// muckwatch: the operators' command line. Reads the store and the config;
// links libmosquitto for the feed tools and the benchmark, FFmpeg for probe.
import ArgumentParser
import Logging
import MuckwatchCommandLine
import MuckwatchConfig
import MuckwatchRuntime

struct Muckwatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muckwatch",
        abstract: "Muckwatch operator tools: draft cases, store statistics, config checks, benchmarks.",
        discussion: "Exit codes: 0 success, 1 failure, 2 bad usage.",
        version: MuckwatchVersion.string,
        subcommands: [Cases.self, CaseCommand.self, Verify.self, Tail.self, Stats.self, CheckConfig.self, Decode.self, Bench.self, Replay.self, Record.self, Publish.self, Scenario.self, Probe.self, BenchAttribution.self, BenchDecode.self, BenchMemory.self, BenchSoak.self])
}

// Replay and the feed tools log what the pipeline and the video workers say,
// which quotes devices' text: escaped, as in the daemon.
LoggingSystem.bootstrap { EscapingLogHandler(StreamLogHandler.standardError(label: $0)) }
await Muckwatch.mainAsyncExitingWithCode2OnUsageErrors()
