import Foundation
import MuckwatchConfig
import MuckwatchCore
import MuckwatchScenario
import XCTest

/// Config files written through `ConfigDocument` read back, through the loader, as what was written.
final class ConfigWriterTests: XCTestCase {
    /// Text that hand-quoted YAML gets wrong: quotes, a colon and a `#` that would start a comment,
    /// a line break, leading indicators, and words YAML would read as null, a boolean, a number or a date.
    static let awkwardTexts = [
        "深圳市\"宏运\": #1 渣土'运输'\n有限公司",
        "- 深圳市德信渣土运输有限公司",
        "{id: C-09, name: 假公司}",
        "[C-01]",
        "null", "~", "", "true", "no", "0x1F", "013800000001", "2026-01-01", "1e3", ".inf",
        "*anchor", "&anchor", "!tag", "%YAML", "@at", "`tick", "? key", "| literal", "> folded",
        " leading space", "trailing space ", "tab\there", "windows\r\nline", "two\n\nbreaks\n",
        "a: b", "a #b", "a,b", "100%", "粤B·J7883",
    ]

    func testAwkwardNamesSurviveTheRoundTripExactly() throws {
        var companies: [ConfigValue] = [], trucks: [ConfigValue] = [], monitors: [ConfigValue] = []
        for (i, text) in Self.awkwardTexts.enumerated() {
            let id = "C-\(i + 1)"
            companies.append(.mapping(ConfigMapping(flow: true, ["id": .text(id), "name": .text(text)])))
            // A truck names its company by name, so the loader must find the awkward name again.
            trucks.append(.mapping(ConfigMapping(["device": .text("T-\(i + 1)"), "company": .text(text)])))
            monitors.append(.mapping(ConfigMapping(flow: i % 2 == 0, ["id": .text("F-\(i + 1)"), "restaurant": .text(text),
                                                                      "address": .text(text + " 福田区")])))
        }
        var root = ConfigMapping()
        root.add("rules", ConfigMapping(["spill": .mapping(ConfigMapping(["legal_basis": .text(Self.awkwardTexts[0])]))]))
        root.add("registry", ConfigMapping(["companies": .list(companies, flow: false), "trucks": .list(trucks, flow: true),
                                            "fume_monitors": .list(monitors, flow: false)]))
        let yaml = try ConfigDocument(header: ["awkward: names\n- and a # in the header"], root: root).yaml()
        let config = try MuckwatchConfiguration.parse(yaml: yaml)

        let registry = config.pipeline.registry
        XCTAssertEqual(registry.companies.map(\.name), Self.awkwardTexts, yaml)
        XCTAssertEqual(registry.trucks.map(\.company), Self.awkwardTexts)
        XCTAssertEqual(registry.monitors.map(\.restaurant), Self.awkwardTexts)
        XCTAssertEqual(registry.monitors.map(\.address), Self.awkwardTexts.map { $0 + " 福田区" })
        XCTAssertEqual(config.pipeline.incidents.legalBasis["spill"], Self.awkwardTexts[0])
        XCTAssertTrue(yaml.hasPrefix("# awkward: names\n# - and a # in the header\n\n"), yaml)
    }

    func testNumbersReadBackAsTheSameValues() throws {
        let confidence = 0.1 + 0.2  // 0.30000000000000004: every digit matters
        var root = ConfigMapping()
        root.add("rules", ConfigMapping([
            "spill": .mapping(ConfigMapping(flow: true, ["min_confidence": .number(confidence), "min_drop_kg": .number(100_000)])),
            "fume_exceedance": .mapping(ConfigMapping(["limit_mg_m3": .number(1e-5), "window_s": .number(600)])),
        ]))
        root.add("protocols", ConfigMapping(["jt808": .mapping(ConfigMapping(["vendors": .mapping(ConfigMapping([
            "v": .mapping(ConfigMapping(flow: true, ["cover": .mapping(ConfigMapping(flow: true, [
                "item": .hex(0xE1), "mask": .hex(0x0100), "set_means": .text("closed")]))])),
        ]))]))]))
        root.add("registry", ConfigMapping(["cameras": .list([
            .mapping(ConfigMapping(flow: true, ["id": .text("CAM-1"), "lat": .number(-22.596874), "lon": .number(114.060667)])),
        ], flow: false)]))
        let yaml = try ConfigDocument(root: root).yaml()
        let config = try MuckwatchConfiguration.parse(yaml: yaml)

        XCTAssertEqual(config.pipeline.rules.spill.minConfidence, confidence, yaml)
        XCTAssertEqual(config.pipeline.rules.spill.minDropKg, 100_000)
        XCTAssertEqual(config.pipeline.rules.fumeExceedance.limitMgM3, 1e-5)
        XCTAssertEqual(config.pipeline.rules.fumeExceedance.windowS, 600)
        XCTAssertEqual(config.pipeline.registry.cameras.first?.point, GeoPoint(lat: -22.596874, lon: 114.060667))
        XCTAssertTrue(yaml.contains("{item: 0xE1, mask: 0x100, set_means: closed}"), yaml)
        XCTAssertEqual(config.pipeline.protocols.jt808.vendors["v"]?.cover,
                       JT808Profile.Bits(word: .item(0xE1), mask: 0x0100, setMeansActive: true))
    }

    func testAKeyAddedAgainKeepsItsPlaceAndTakesTheNewValue() throws {
        var m = ConfigMapping()
        m.add("timezone", "Asia/Shanghai")
        m.add("store", ConfigMapping(["path": .text("a.db")]))
        m.add("timezone", "+08:00")
        XCTAssertEqual(m.entries.map(\.key), ["timezone", "store"])
        XCTAssertEqual(try MuckwatchConfiguration.parse(yaml: ConfigDocument(root: m).yaml()).timezone, "+08:00")
    }

    // MARK: The generated scenario's config

    /// `--trucks 2 --hours 0.05 --seed 4 --fume-monitors 1`: a scenario without the showcase.
    static var smallOptions: ScenarioOptions {
        var o = ScenarioGeneratorTests.fixtureOptions
        o.trucks = 2
        o.hours = 0.05
        o.seed = 4
        o.fumeMonitors = 1
        return o
    }

    /// What the generator wrote for `smallOptions` by string concatenation, before it wrote through `ConfigDocument`.
    static let handWrittenSmallConfig = #"""
        # Muckwatch config for a generated scenario:
        #   muckwatch scenario --out DIR --trucks 2 --hours 0.05 --seed 4 --start 2026-11-24T14:00:00.000Z --fume-monitors 1 --report-interval-s 10
        # Replay feed.jsonl with it; planted.json lists what it should (and should not) raise.
        # The construction sites, disposal sites and wash zones are in sites.geojson
        # beside this file (WGS-84 polygons).

        broker:
          url: mqtt://127.0.0.1:1883
          client_id: muckwatchd

        topics:
          truck_telemetry: muckwatch/v1/truck/+/telemetry
          fume_reading: muckwatch/v1/fume/+/reading
          camera_event: muckwatch/v1/camera/+/event
          drone_telemetry: muckwatch/v1/drone/+/telemetry
          drone_event: muckwatch/v1/drone/+/event
          video_segment: muckwatch/v1/video/+/segment
          jt808: jt808/+/up
          hj212: hj212/+/up
          dji_osd: thing/product/+/osd

        store:
          path: ./var/muckwatch.db

        alerts:
          log: ./var/alerts.jsonl

        timezone: Asia/Shanghai

        cases:
          verification_deadline_h: 72
          incident_window_s: 600

        rules:
          geofence: {dwell_s: 20}
          attribution: {radius_m: 50, lookback_s: 600}
          uncovered_load:
            min_speed_kmh: 5
            min_duration_s: 30
            min_confidence: 0.6
            legal_basis: "《城市建筑垃圾管理规定》第十四条：处置建筑垃圾的单位在运输建筑垃圾时，应当随车携带建筑垃圾处置核准文件，按照城市人民政府有关部门规定的运输路线、时间运行，不得丢弃、遗撒建筑垃圾，不得超出核准范围承运建筑垃圾。"
          spill:
            min_confidence: 0.6
            min_drop_kg: 500
            drop_window_s: 60
            min_speed_kmh: 5
            legal_basis: "《城市市容和环境卫生管理条例》第十五条：在市区运行的交通运输工具，应当保持外型完好、整洁，货运车辆运输的液体、散装货物，应当密封、包扎、覆盖，避免泄漏、遗撒。"
          illegal_dumping: {min_loss_fraction: 0.3, max_speed_kmh: 5}
          unwashed_exit: {min_wash_s: 60, min_visit_s: 120, min_confidence: 0.6}
          off_hours: {min_speed_kmh: 5}
          fume_exceedance: {limit_mg_m3: 2.0, window_s: 600}
          purifier_off: {min_duration_s: 300}
          device_silent: {silence_s: 900, min_speed_kmh: 5}

        # S-16's tracker speaks JT/T 808; its vendor puts the cover in additional item 0xE1.
        protocols:
          jt808:
            vendors:
              muck-e1: {cover: {item: 0xE1, mask: 0x01, set_means: closed}}
            devices:

        # 2 muck trucks of 2 transport companies, then the showcases' trucks (see planted.json).
        registry:
          companies:
            - {id: C-01, name: 深圳市华建渣土运输有限公司}
            - {id: C-02, name: 深圳市深港建筑废弃物运输有限公司}
          trucks:
            - device: T-0001
              plate: 粤BX0435
              company: C-01
              empty_kg: 12450
              phone: "013800000001"
              permit: {from: 2026-01-01, until: 2027-01-01}
              permitted_hours: ["22:00-06:00"]
            - device: T-0002
              plate: 粤BH5164
              company: C-02
              empty_kg: 12000
              phone: "013800000002"
              permit: {from: 2026-01-01, until: 2027-01-01}
              permitted_hours: ["22:00-06:00"]
          sites: {file: sites.geojson, coordinates: wgs84}
          cameras:
            - {id: CAM-CS01, site: CS-01, lat: 22.578659, lon: 114.041582}
            - {id: CAM-CS02, site: CS-02, lat: 22.578525, lon: 114.089704}
            - {id: CAM-CS03, site: CS-03, lat: 22.559805, lon: 114.027427}
            - {id: CAM-DS01, site: DS-01, lat: 22.649383, lon: 114.064046}
            - {id: CAM-DS02, site: DS-02, lat: 22.547955, lon: 114.179933}
          fume_monitors:
            - {id: F-0101, restaurant: 兰州拉面（彩田路店）, address: 福田区彩田路211号, purifier_class: medium}
        """#

    func testTheGeneratedConfigReadsAsTheHandWrittenOneDid() throws {
        let generator = try ScenarioGenerator(options: Self.smallOptions)
        let written = try generator.configYAML
        XCTAssertNotEqual(written, Self.handWrittenSmallConfig)
        try assertSameConfiguration(try loadConfig(generator, yaml: Self.handWrittenSmallConfig), try loadConfig(generator))
    }

    /// The golden scenario's config, showcase and all, says what the hand-written one said: the
    /// showcase's trucks, JT/T 808 device, road camera and monitors are in it as before.
    func testTheGoldenScenariosConfigHasTheShowcase() throws {
        let config = try loadConfig(try ScenarioGenerator(options: ScenarioGeneratorTests.fixtureOptions))
        let registry = config.pipeline.registry
        XCTAssertEqual(registry.trucks.count, 6 + 16)
        XCTAssertEqual(registry.truck(device: "S-04")?.permittedHours, [DailyWindow(startMinute: 6 * 60, endMinute: 22 * 60 + 30)])
        XCTAssertEqual(registry.truck(device: "S-15")?.permitUntil, RFC3339.parse("2026-11-01T00:00:00+08:00"))
        XCTAssertEqual(registry.truck(phone: "013900000016")?.device, "S-16")
        XCTAssertEqual(config.pipeline.protocols.jt808.devices.count, 1)
        XCTAssertEqual(registry.camera("CAM-R01")?.point, GeoPoint(lat: 22.407645, lon: 113.980127))
        XCTAssertNil(registry.camera("CAM-R01")?.site)
        XCTAssertEqual(registry.monitors.map(\.id), ["F-0101", "F-0102", "F-0103", "F-9001", "F-9002", "F-9003", "F-9004", "F-9005"])
        XCTAssertEqual(registry.monitors.map(\.purifierClass), ["medium", "large", "small"] + Array(repeating: "medium", count: 5))
        XCTAssertEqual(config.pipeline.rules.fumeExceedance.limitMgM3, 2.0)
    }

    func assertSameConfiguration(_ a: MuckwatchConfiguration, _ b: MuckwatchConfiguration,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(a.broker, b.broker, file: file, line: line)
        XCTAssertEqual(a.topics.map(\.kind), b.topics.map(\.kind), file: file, line: line)
        XCTAssertEqual(a.topics.map(\.filter.text), b.topics.map(\.filter.text), file: file, line: line)
        XCTAssertEqual(a.storePath, b.storePath, file: file, line: line)
        XCTAssertEqual(a.storeWALLimitMB, b.storeWALLimitMB, file: file, line: line)
        XCTAssertEqual(a.alertLogPath, b.alertLogPath, file: file, line: line)
        XCTAssertEqual(a.timezone, b.timezone, file: file, line: line)
        XCTAssertEqual(a.media, b.media, file: file, line: line)
        XCTAssertEqual(a.pipeline.rules, b.pipeline.rules, file: file, line: line)
        XCTAssertEqual(a.pipeline.incidents, b.pipeline.incidents, file: file, line: line)
        XCTAssertEqual(a.pipeline.protocols, b.pipeline.protocols, file: file, line: line)
        XCTAssertEqual(a.pipeline.limits, b.pipeline.limits, file: file, line: line)
        let ra = a.pipeline.registry, rb = b.pipeline.registry
        XCTAssertEqual(ra.companies, rb.companies, file: file, line: line)
        XCTAssertEqual(ra.trucks, rb.trucks, file: file, line: line)
        XCTAssertEqual(ra.sites, rb.sites, file: file, line: line)
        XCTAssertEqual(ra.cameras, rb.cameras, file: file, line: line)
        XCTAssertEqual(ra.monitors, rb.monitors, file: file, line: line)
        XCTAssertFalse(ra.trucks.isEmpty || ra.companies.isEmpty || ra.cameras.isEmpty || ra.monitors.isEmpty || ra.sites.isEmpty,
                       "the scenario's registry should have something of each", file: file, line: line)
    }
}
