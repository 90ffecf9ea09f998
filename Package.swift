// swift-tools-version: 6.1
import Foundation
import PackageDescription

let package = Package(
    name: "Muckwatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "muckwatchd", targets: ["muckwatchd"]),
        .executable(name: "muckwatch", targets: ["muckwatch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
    ],
    targets: [
        // libmosquitto, seen from Swift.
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),
        // FFmpeg's demuxing libraries, seen from Swift.
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev"])]
        ),
        // JSON parsing: a C interface over simdjson (C++), for the payloads and feed lines.
        .target(
            name: "CSimdJSON",
            // simdjson.pc's Cflags: the parser's layout depends on it.
            cxxSettings: [.define("SIMDJSON_THREADS_ENABLED", to: "1")],
            linkerSettings: [.linkedLibrary("simdjson")]
        ),
        // The domain: the model (time, geo, registry, tracks) in Model/, the decoders (native JSON,
        // JT/T 808, HJ 212, DJI OSD, MISB 0601 KLV, DJI SRT, GeoJSON) in Decoders/, and the rules
        // with incidents and attribution in Rules/.
        .target(
            name: "MuckwatchCore",
            dependencies: ["CSimdJSON", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The synthetic scenario (SPEC §8) and the JT/T 808 / HJ 212 frame writers: test and
        // benchmark scaffolding for `muckwatch scenario`, the benches and the tests; the daemon links none of it.
        .target(
            name: "MuckwatchScenario",
            dependencies: ["MuckwatchCore", "MuckwatchConfig"]
        ),
        // The configuration file: parsing, defaults and validation.
        .target(
            name: "MuckwatchConfig",
            dependencies: ["MuckwatchCore", "Yams"]
        ),
        // The exit codes both executables give on top of ArgumentParser.
        .target(
            name: "MuckwatchCommandLine",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // SQLite store (GRDB), the alert log and the case ledger: everything the
        // pipeline persists, and `verify`. Links no FFmpeg.
        .target(
            name: "MuckwatchStore",
            dependencies: [
                "MuckwatchCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Video: demuxing with libavformat (packets, timestamps, metadata, wall
        // clock); the drone telemetry inside goes through Core's MISB 0601 and DJI SRT decoders.
        .target(
            name: "MuckwatchMedia",
            dependencies: ["CFFmpeg", "MuckwatchCore", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // MQTT over libmosquitto: subscribe and publish.
        .target(
            name: "MuckwatchIngest",
            dependencies: ["CMosquitto", "MuckwatchCore", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        // What the daemon and the feed tools both run: the pipeline host (a pending batch from the
        // store, the rules, one outcome committed, the alert lines written), the video workers, and
        // the config's broker settings and escaped logging.
        .target(
            name: "MuckwatchRuntime",
            dependencies: [
                "MuckwatchCore", "MuckwatchConfig", "MuckwatchStore", "MuckwatchIngest", "MuckwatchMedia",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The daemon's services wired together under swift-service-lifecycle: ingest → store →
        // pipeline host → outputs, the video workers, systemd's watchdog, SIGHUP.
        .target(
            name: "MuckwatchDaemon",
            dependencies: [
                "MuckwatchCore", "MuckwatchConfig", "MuckwatchStore", "MuckwatchIngest", "MuckwatchRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ]
        ),
        .executableTarget(
            name: "muckwatchd",
            dependencies: [
                "MuckwatchDaemon", "MuckwatchRuntime", "MuckwatchConfig", "MuckwatchCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "muckwatch",
            dependencies: [
                "MuckwatchCore", "MuckwatchConfig", "MuckwatchStore", "MuckwatchIngest", "MuckwatchRuntime", "MuckwatchMedia",
                "MuckwatchScenario", "MuckwatchCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "MuckwatchCoreTests", dependencies: ["MuckwatchCore", "MuckwatchConfig", "MuckwatchScenario"]),
        .testTarget(name: "MuckwatchMediaTests", dependencies: ["MuckwatchMedia", "MuckwatchCore", "MuckwatchScenario"]),
        .testTarget(name: "MuckwatchStoreTests", dependencies: [
            "MuckwatchCore", "MuckwatchStore", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "MuckwatchCore", "MuckwatchStore", "MuckwatchIngest", "MuckwatchMedia", "MuckwatchScenario", "MuckwatchRuntime",
                "CFFmpeg",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)

// libFuzzer harnesses for the payload and media telemetry decoders (Fuzz/README.md), only
// when MUCKWATCH_FUZZ is set: `MUCKWATCH_FUZZ=1 swift build --sanitize=fuzzer
// --sanitize=address --product fuzz-jt808`, or Fuzz/run.sh. libFuzzer supplies
// main(), so they cannot be linked without --sanitize=fuzzer.
if ProcessInfo.processInfo.environment["MUCKWATCH_FUZZ"] != nil {
    package.targets += [
        .executableTarget(name: "fuzz-jt808", dependencies: ["MuckwatchCore"], path: "Sources/FuzzJT808"),
        .executableTarget(name: "fuzz-hj212", dependencies: ["MuckwatchCore"], path: "Sources/FuzzHJ212"),
        .executableTarget(name: "fuzz-dji-osd", dependencies: ["MuckwatchCore"], path: "Sources/FuzzDJIOSD"),
        .executableTarget(name: "fuzz-media-location", dependencies: ["MuckwatchMedia", "CFFmpeg"],
                          path: "Sources/FuzzMediaLocation"),
        .executableTarget(name: "fuzz-native-json", dependencies: ["MuckwatchCore"], path: "Sources/FuzzNativeJSON"),
        .executableTarget(name: "fuzz-misb0601", dependencies: ["MuckwatchCore"], path: "Sources/FuzzMISB0601"),
        .executableTarget(name: "fuzz-dji-srt", dependencies: ["MuckwatchCore"], path: "Sources/FuzzDJISRT"),
    ]
}
