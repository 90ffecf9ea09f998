// `protocols:` in the config: vendor mappings and per-device leniency, and
// the errors an installer gets for a wrong one.
import MuckwatchConfig
import MuckwatchCore
import XCTest

final class ProtocolConfigTests: XCTestCase {
    let yaml = """
        protocols:
          jt808:
            vendors:
              acme:
                cover: {item: 0xE1, mask: 0x01, set_means: closed}
                tipper: {word: status, mask: 0x80000000, set_means: raised}
                load_kg: {item: 0xE2, scale: 10}
                load_from_status: false
            devices:
              - {phone: "013912345678", vendor: acme, checksum: lenient}
              - {phone: "013900000001"}
          hj212:
            vendors:
              yanjing:
                concentration: a34041
                fan: SB7
                purifier: SB8
                running: ["1", "2"]
                stopped: ["0"]
            devices:
              - {mn: "010000A8900016F018010001", vendor: yanjing, crc: lenient}
        """

    func testVendorsAndDevices() throws {
        let p = try MuckwatchConfiguration.parse(yaml: yaml).pipeline.protocols
        let acme = try XCTUnwrap(p.jt808.vendors["acme"])
        XCTAssertEqual(acme.cover, JT808Profile.Bits(word: .item(0xe1), mask: 0x1))
        XCTAssertEqual(acme.tipper, JT808Profile.Bits(word: .status, mask: 0x8000_0000))
        XCTAssertEqual(acme.loadKg, JT808Profile.Scaled(item: 0xe2, scale: 10))
        XCTAssertFalse(acme.loadFromStatus)
        XCTAssertEqual(p.jt808.vendors["default"], JT808Profile(), "the default stays")
        XCTAssertEqual(p.jt808.devices["13912345678"], ProtocolDevice(vendor: "acme", lenientChecksum: true))
        XCTAssertEqual(p.jt808.devices["13900000001"], ProtocolDevice())
        let yanjing = try XCTUnwrap(p.hj212.vendors["yanjing"])
        XCTAssertEqual(yanjing, HJ212Profile(concentration: "a34041", fan: "SB7", purifier: "SB8", running: ["1", "2"], stopped: ["0"]))
        XCTAssertEqual(p.hj212.devices["010000A8900016F018010001"], ProtocolDevice(vendor: "yanjing", lenientChecksum: true))
    }

    /// The default profile can be replaced too, e.g. to read a fleet-wide item.
    func testTheDefaultVendorCanBeRedefined() throws {
        let p = try MuckwatchConfiguration.parse(yaml: """
            protocols:
              jt808:
                vendors:
                  default: {cover: {item: 0xE3, mask: 0x04, set_means: open}}
            """).pipeline.protocols
        XCTAssertEqual(p.jt808.vendors["default"]?.cover, JT808Profile.Bits(word: .item(0xe3), mask: 0x4, setMeansActive: false))
    }

    func testMistakesAreReportedWithTheKey() {
        let cases: [(String, String, String)] = [
            ("protocols: {jt808: {devices: [{phone: '1', vendor: nope}]}}", "protocols.jt808.devices[0].vendor", "nope"),
            ("protocols: {jt808: {devices: [{phone: '1', checksum: loose}]}}", "protocols.jt808.devices[0].checksum", "lenient"),
            ("protocols: {jt808: {vendors: {a: {cover: {item: 0x1FF, mask: 1}}}}}", "protocols.jt808.vendors.a.cover.item", "0xFF"),
            ("protocols: {jt808: {vendors: {a: {cover: {item: 0xE1}}}}}", "protocols.jt808.vendors.a.cover.mask", "required"),
            ("protocols: {jt808: {vendors: {a: {cover: {item: 0xE1, mask: 1, set_means: up}}}}}",
             "protocols.jt808.vendors.a.cover.set_means", "closed or open"),
            ("protocols: {hj212: {vendors: {v: {concentration: a34041-Rtd}}}}", "protocols.hj212.vendors.v.concentration", "suffix"),
            ("protocols: {hj212: {devices: [{mn: A}, {mn: A}]}}", "protocols.hj212.devices[1].mn", "twice"),
            ("protocols: {jt808: {colour: red}}", "protocols.jt808.colour", "not a known setting"),
        ]
        for (text, key, words) in cases {
            XCTAssertThrowsError(try MuckwatchConfiguration.parse(yaml: text), text) { error in
                guard let e = error as? ConfigError else { return XCTFail("\(error)") }
                XCTAssertEqual(e.key, key, text)
                XCTAssertTrue(e.problem.contains(words), "\(text): \(e.problem)")
            }
        }
    }

    /// The example config documents every protocol setting and loads.
    func testTheExampleConfigLoads() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Deploy/muckwatch.example.yaml").path
        let config = try MuckwatchConfiguration.load(path: example)
        XCTAssertNotNil(config.pipeline.protocols.jt808.vendors["muck-e1"])
    }
}
