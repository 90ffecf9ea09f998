import Foundation
import MuckwatchConfig
import MuckwatchCore
import XCTest

/// The configuration file (§5): defaults, the shipped example, and errors that
/// name the file, line and dotted key.
final class ConfigTests: XCTestCase {
    static let exampleURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Deploy/muckwatch.example.yaml")

    func parse(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) throws -> MuckwatchConfiguration {
        do {
            return try MuckwatchConfiguration.parse(yaml: yaml, file: "muckwatch.yaml")
        } catch {
            XCTFail("unexpected config error: \(error)", file: file, line: line)
            throw error
        }
    }

    func configError(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) throws -> ConfigError {
        do {
            _ = try MuckwatchConfiguration.parse(yaml: yaml, file: "muckwatch.yaml")
            XCTFail("expected a config error; the file was accepted", file: file, line: line)
        } catch {
            return error
        }
        throw TestFailure(description: "accepted")
    }

    // MARK: Valid files

    func testShippedExampleLoads() throws {
        let path = Self.exampleURL.path
        let config: MuckwatchConfiguration
        do {
            config = try MuckwatchConfiguration.load(path: path)
        } catch {
            return XCTFail("the shipped example does not load: \(error)")
        }
        XCTAssertEqual(config.source, path)
        XCTAssertEqual(config.broker.host, "127.0.0.1")
        XCTAssertEqual(config.broker.port, 1883)
        XCTAssertFalse(config.broker.useTLS)
        XCTAssertEqual(config.broker.clientId, "muckwatchd")
        XCTAssertNil(config.broker.username)
        XCTAssertNil(config.broker.password)
        XCTAssertEqual(config.timezone, "Asia/Shanghai")
        XCTAssertEqual(config.pipeline.incidents.utcOffsetSeconds, 8 * 3600)
        XCTAssertEqual(config.pipeline.incidents.windowS, 600)
        XCTAssertEqual(config.pipeline.incidents.verificationDeadlineH, 72)
        XCTAssertEqual(config.pipeline.rules.uncoveredLoad.minSpeedKmh, 5)
        XCTAssertEqual(config.pipeline.rules.uncoveredLoad.minDurationS, 30)
        XCTAssertEqual(config.pipeline.rules.uncoveredLoad.minConfidence, 0.6)
        XCTAssertEqual(config.pipeline.rules.spill.minConfidence, 0.6)
        XCTAssertEqual(config.pipeline.incidents.legalBasis, LegalBasis.defaults, "the example keeps the shipped texts")
        XCTAssertEqual(Set(config.pipeline.incidents.penalty.keys), Set(RuleSettings.allRules).subtracting(["device_silent"]))
        XCTAssertEqual(config.pipeline.registry.sites.map(\.id), ["CS-01", "WZ-01", "DS-01"], "Deploy/sites.geojson, beside it")
        XCTAssertEqual(config.storePath, "./var/muckwatch.db")
        XCTAssertEqual(config.alertLogPath, "./var/alerts.jsonl")
        XCTAssertEqual(config.topics.map(\.filter.text), TopicRoutes.defaults.routes.map(\.filter.text))

        let trucks = config.pipeline.registry.trucks
        XCTAssertEqual(trucks.count, 2)
        XCTAssertEqual(trucks.first, RegisteredTruck(device: "T-0001", plate: "粤B12345", company: company, emptyKg: 12000,
                                                     phone: "013800000001", permitFrom: RFC3339.parse("2026-01-01T00:00:00+08:00"),
                                                     permitUntil: RFC3339.parse("2027-01-01T00:00:00+08:00")))
        XCTAssertEqual(trucks.last?.device, "T-0002")
        XCTAssertEqual(trucks.last?.plate, "粤B67890")
        XCTAssertEqual(trucks.last?.emptyKg, 11500)
        XCTAssertEqual(config.pipelineSettings.registry.truck(plate: "粤B67890")?.device, "T-0002")
    }

    func testEmptyFileMeansDefaults() throws {
        for yaml in ["", "\n\n", "# only a comment\n"] {
            let config = try parse(yaml)
            XCTAssertEqual(config.broker, BrokerSettings())
            XCTAssertEqual(config.broker.host, "localhost")
            XCTAssertEqual(config.broker.port, 1883)
            XCTAssertEqual(config.storePath, "./var/muckwatch.db")
            XCTAssertEqual(config.alertLogPath, "./var/alerts.jsonl")
            XCTAssertEqual(config.timezone, "Asia/Shanghai")
            XCTAssertEqual(config.pipeline.incidents, IncidentSettings())
            XCTAssertEqual(config.pipeline.rules.uncoveredLoad, RuleSettings.UncoveredLoad())
            XCTAssertEqual(config.pipeline.rules.spill.minConfidence, 0.6)
            XCTAssertEqual(config.pipeline.registry.trucks, [])
            XCTAssertEqual(config.topics.map(\.kind), PayloadKind.allCases)
            XCTAssertEqual(config.source, "muckwatch.yaml")
        }
    }

    func testSettingsAreRead() throws {
        let config = try parse("""
            broker:
              url: mqtts://broker.example.cn
              username: muckwatchd
              password: secret
            timezone: "+07:00"
            cases:
              incident_window_s: 300
              verification_deadline_h: 48
            rules:
              uncovered_load:
                min_speed_kmh: 8.5
                min_duration_s: 45
              spill:
                min_confidence: 0.7
            topics:
              truck_telemetry: fleet/+/gps
            """)
        XCTAssertEqual(config.broker.host, "broker.example.cn")
        XCTAssertTrue(config.broker.useTLS)
        XCTAssertEqual(config.broker.port, 8883)
        XCTAssertEqual(config.broker.username, "muckwatchd")
        XCTAssertEqual(config.broker.password, "secret")
        XCTAssertEqual(config.pipeline.incidents.utcOffsetSeconds, 7 * 3600)
        XCTAssertEqual(config.pipeline.incidents.windowS, 300)
        XCTAssertEqual(config.pipeline.incidents.verificationDeadlineH, 48)
        XCTAssertEqual(config.pipeline.rules.uncoveredLoad.minSpeedKmh, 8.5)
        XCTAssertEqual(config.pipeline.rules.uncoveredLoad.minDurationS, 45)
        XCTAssertEqual(config.pipeline.rules.uncoveredLoad.minConfidence, 0.6)
        XCTAssertEqual(config.pipeline.rules.spill.minConfidence, 0.7)
        XCTAssertEqual(config.pipelineSettings.routes.route("fleet/T-9/gps")?.kind, .truckTelemetry)
        XCTAssertEqual(config.pipelineSettings.routes.route("fleet/T-9/gps")?.deviceFromTopic, "T-9")
        XCTAssertNil(config.pipelineSettings.routes.route("muckwatch/v1/truck/T-9/telemetry"))
        XCTAssertEqual(config.pipelineSettings.routes.route("muckwatch/v1/fume/F-1/reading")?.kind, .fumeReading)
    }

    func testTimezoneForms() throws {
        XCTAssertEqual(try parse("timezone: UTC").pipeline.incidents.utcOffsetSeconds, 0)
        XCTAssertEqual(try parse("timezone: \"-05:00\"").pipeline.incidents.utcOffsetSeconds, -5 * 3600)
        XCTAssertEqual(try parse("timezone: Asia/Urumqi").pipeline.incidents.utcOffsetSeconds, 6 * 3600)
    }

    // MARK: Errors

    func testUnknownKeyNamesItsLineAndPath() throws {
        let e = try configError("""
            broker:
              url: mqtt://127.0.0.1:1883
            rules:
              uncovered_load:
                min_sped_kmh: 5
            """)
        XCTAssertEqual(e.line, 5)
        XCTAssertEqual(e.key, "rules.uncovered_load.min_sped_kmh")
        XCTAssertEqual(e.file, "muckwatch.yaml")
        XCTAssertTrue(e.problem.contains("not a known setting"), e.problem)
        XCTAssertTrue(e.problem.contains("min_speed_kmh"), "lists the known keys: \(e.problem)")
        XCTAssertTrue(e.description.hasPrefix("muckwatch.yaml, line 5: 'rules.uncovered_load.min_sped_kmh' is not a known setting"),
                      e.description)
    }

    func testUnknownTopLevelKey() throws {
        let e = try configError("""
            # settings
            store:
              path: /tmp/x.db
            alert:
              log: /tmp/a.jsonl
            """)
        XCTAssertEqual(e.line, 4)
        XCTAssertEqual(e.key, "alert")
    }

    func testWrongTypeNamesKeyAndLine() throws {
        let e = try configError("""
            rules:
              uncovered_load:
                min_speed_kmh: fast
            """)
        XCTAssertEqual(e.line, 3)
        XCTAssertEqual(e.key, "rules.uncovered_load.min_speed_kmh")
        XCTAssertTrue(e.problem.contains("number") && e.problem.contains("fast"), e.problem)
        XCTAssertEqual(e.description, "muckwatch.yaml, line 3: 'rules.uncovered_load.min_speed_kmh' \(e.problem)")
    }

    func testWholeNumberExpected() throws {
        let e = try configError("broker:\n  keepalive_s: 2.5\n")
        XCTAssertEqual(e.line, 2)
        XCTAssertEqual(e.key, "broker.keepalive_s")
    }

    func testSectionThatIsNotAMapping() throws {
        let e = try configError("store: ./var/muckwatch.db\n")
        XCTAssertEqual(e.key, "store")
        XCTAssertEqual(e.line, 1)
    }

    func testListItemThatIsNotAMapping() throws {
        let e = try configError("registry:\n  trucks: T-0001\n")
        XCTAssertEqual(e.key, "registry.trucks")
        XCTAssertEqual(e.line, 2)
    }

    func testOutOfRange() throws {
        let e = try configError("""
            rules:
              spill:
                min_confidence: 0.5
              uncovered_load:
                min_confidence: 1.5
            """)
        XCTAssertEqual(e.line, 5)
        XCTAssertEqual(e.key, "rules.uncovered_load.min_confidence")
        XCTAssertTrue(e.problem.contains("1.5") && e.problem.contains("outside"), e.problem)

        let k = try configError("broker:\n  keepalive_s: 2\n")
        XCTAssertEqual(k.key, "broker.keepalive_s")
        XCTAssertEqual(k.line, 2)

        let w = try configError("cases:\n  incident_window_s: 0\n")
        XCTAssertEqual(w.key, "cases.incident_window_s")
    }

    func testReconnectMaxBelowMin() throws {
        let e = try configError("broker:\n  reconnect_min_s: 30\n  reconnect_max_s: 10\n")
        XCTAssertEqual(e.key, "broker.reconnect_max_s")
        XCTAssertEqual(e.line, 3)
    }

    func testBadBrokerURL() throws {
        for url in ["http://127.0.0.1:1883", "127.0.0.1:1883", "mqtt://", "tcp://broker"] {
            let e = try configError("""
                store:
                  path: x.db
                broker:
                  url: \(url)
                """)
            XCTAssertEqual(e.key, "broker.url", url)
            XCTAssertEqual(e.line, 4, url)
            XCTAssertTrue(e.problem.contains(url), e.problem)
        }
    }

    func testBrokerPortOutOfRange() throws {
        // TCP ports are 1...65535: check-config must not pass a URL the daemon cannot connect to.
        for url in ["mqtt://127.0.0.1:70000", "mqtt://127.0.0.1:0"] {
            do {
                let config = try MuckwatchConfiguration.parse(yaml: "broker:\n  url: \(url)\n", file: "muckwatch.yaml")
                XCTFail("'\(url)' was accepted as port \(config.broker.port)")
            } catch {
                XCTAssertEqual(error.key, "broker.url", url)
                XCTAssertEqual(error.line, 2, url)
            }
        }
    }

    func testBrokerPorts() throws {
        XCTAssertEqual(try parse("broker:\n  url: mqtt://10.0.0.5\n").broker.port, 1883)
        XCTAssertEqual(try parse("broker:\n  url: mqtts://10.0.0.5:18883\n").broker.port, 18883)
        XCTAssertEqual(try parse("broker:\n  url: mqtt://10.0.0.5:65535\n").broker.url, "mqtt://10.0.0.5:65535")
    }

    func testBadTimezone() throws {
        for zone in ["Mars/Olympus", "+25:00", "8"] {
            let e = try configError("store:\n  path: x.db\ntimezone: \"\(zone)\"\n")
            XCTAssertEqual(e.key, "timezone", zone)
            XCTAssertEqual(e.line, 3, zone)
            XCTAssertTrue(e.problem.contains(zone), e.problem)
        }
    }

    func testBadTopicFilter() throws {
        let e = try configError("topics:\n  camera_event: site/#/event\n")
        XCTAssertEqual(e.key, "topics.camera_event")
        XCTAssertEqual(e.line, 2)
        XCTAssertTrue(e.problem.contains("'#'"), e.problem)
    }

    func testMediaSettings() throws {
        let c = try parse("""
            media:
              roots: [/srv/media, /mnt/cameras]
              protocols: [file, RTSP, https]
              workers: 4
              queue: 10
              open_timeout_s: 3
              read_timeout_s: 2.5
            """)
        XCTAssertEqual(c.media.roots, ["/srv/media", "/mnt/cameras"])
        XCTAssertEqual(c.media.protocols, ["file", "rtsp", "https"])
        XCTAssertEqual(c.media.workers, 4)
        XCTAssertEqual(c.media.queue, 10)
        XCTAssertEqual(c.media.openTimeoutS, 3)
        XCTAssertEqual(c.media.readTimeoutS, 2.5)
        XCTAssertEqual(try parse("").media, MediaSettings(), "defaults: local files under ./var/media only")
    }

    func testMediaErrorsNameTheKey() throws {
        let concat = try configError("media:\n  protocols: [file, concat]\n")
        XCTAssertEqual(concat.key, "media.protocols")
        XCTAssertEqual(concat.line, 2)
        XCTAssertTrue(concat.problem.contains("'concat'"), concat.problem)
        XCTAssertEqual(try configError("media:\n  roots: []\n").key, "media.roots")
        XCTAssertEqual(try configError("media:\n  roots: /one/folder\n").problem, "should be a list")
        XCTAssertEqual(try configError("media:\n  workers: 0\n").key, "media.workers")
        XCTAssertEqual(try configError("media:\n  folder: /x\n").key, "media.folder")
    }

    func testDuplicateTruckDevice() throws {
        let e = try configError("""
            registry:
              trucks:
                - device: T-0001
                  plate: 粤B12345
                - device: T-0002
                  plate: 粤B67890
                - device: T-0001
                  plate: 粤B00000
            """)
        XCTAssertEqual(e.key, "registry.trucks[2].device")
        XCTAssertEqual(e.line, 7)
        XCTAssertTrue(e.problem.contains("T-0001") && e.problem.contains("twice"), e.problem)
    }

    func testDuplicatePlate() throws {
        let e = try configError("""
            registry:
              trucks:
                - device: T-0001
                  plate: 粤B12345
                - device: T-0002
                  plate: 粤B12345
            """)
        XCTAssertEqual(e.key, "registry.trucks[1].plate")
        XCTAssertEqual(e.line, 6)
    }

    func testTruckWithoutDevice() throws {
        let e = try configError("""
            registry:
              trucks:
                - plate: 粤B12345
                  company: X
            """)
        XCTAssertEqual(e.key, "registry.trucks[0].device")
        XCTAssertEqual(e.line, 3)
    }

    func testTruckEmptyWeightMustBeANumber() throws {
        let e = try configError("""
            registry:
              trucks:
                - device: T-0001
                  empty_kg: twelve tonnes
            """)
        XCTAssertEqual(e.key, "registry.trucks[0].empty_kg")
        XCTAssertEqual(e.line, 4)
    }

    func testPasswordWithoutUsername() throws {
        let e = try configError("""
            broker:
              url: mqtt://127.0.0.1:1883
              password: secret
            """)
        XCTAssertEqual(e.key, "broker.password")
        XCTAssertEqual(e.line, 3)
        XCTAssertTrue(e.problem.contains("username"), e.problem)
    }

    func testUnreadablePasswordFile() throws {
        let e = try configError("""
            broker:
              username: muckwatchd
              password_file: /nonexistent/muckwatch/password
            """)
        XCTAssertEqual(e.key, "broker.password_file")
        XCTAssertEqual(e.line, 3)
    }

    func testInvalidYAMLGivesItsLine() throws {
        let e = try configError("broker:\n  url: mqtt://x\n  client_id: [unclosed\n")
        XCTAssertEqual(e.key, "")
        XCTAssertNotNil(e.line)
        XCTAssertTrue(e.problem.hasPrefix("is not valid YAML"), e.problem)
        XCTAssertTrue(e.description.hasPrefix("muckwatch.yaml, line "), e.description)
    }

    func testMissingFile() {
        do {
            _ = try MuckwatchConfiguration.load(path: "/nonexistent/muckwatch.yaml")
            XCTFail("a missing file loaded")
        } catch {
            XCTAssertEqual(error.file, "/nonexistent/muckwatch.yaml")
            XCTAssertNil(error.line)
            XCTAssertTrue(error.problem.hasPrefix("cannot be read"), error.problem)
            XCTAssertTrue(error.description.hasPrefix("/nonexistent/muckwatch.yaml: cannot be read"), error.description)
        }
    }

    func testDescriptionReadsFileLineKeyProblem() {
        XCTAssertEqual(ConfigError(file: "/etc/muckwatch/muckwatch.yaml", line: 12, key: "broker.url", problem: "is bad").description,
                       "/etc/muckwatch/muckwatch.yaml, line 12: 'broker.url' is bad")
        XCTAssertEqual(ConfigError(file: nil, line: 3, key: "timezone", problem: "is bad").description,
                       "config, line 3: 'timezone' is bad")
        XCTAssertEqual(ConfigError(file: "f.yaml", line: nil, key: "", problem: "cannot be read").description,
                       "f.yaml: cannot be read")
    }
}
