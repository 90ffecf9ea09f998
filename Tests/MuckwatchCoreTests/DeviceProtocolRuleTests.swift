// The rules fed by JT/T 808 trackers, HJ 212 monitors and DJI docks: the
// same alerts as native JSON gives, blind-area batches as the past, and a
// message's several frames each accounted for.
import MuckwatchCore
import MuckwatchScenario
import XCTest

final class DeviceProtocolRuleTests: XCTestCase {
    let start = instant("2026-11-24T22:00:00+08:00")
    let phone = "013912345678"

    /// T-0001 with its tracker's phone, and a vendor whose trackers put the
    /// cover in additional item 0xE1 bit 0 (1 closed) and the weight in 0xE2 (kg).
    func settings(lenientHJ212: Bool = false) -> PipelineSettings {
        var s = PipelineSettings()
        s.registry = Registry(
            trucks: [RegisteredTruck(device: "T-0001", plate: plate, company: company, emptyKg: 12000, phone: phone)],
            monitors: [FumeMonitor(id: "MN-0001", restaurant: "川菜馆")])
        s.protocols.jt808.vendors["acme"] = JT808Profile(
            cover: .init(word: .item(0xe1), mask: 0x1), tipper: .init(word: .item(0xe1), mask: 0x2),
            loadKg: .init(item: 0xe2, scale: 1))
        s.protocols.jt808.devices[JT808.canonicalPhone(phone)] = ProtocolDevice(vendor: "acme")
        if lenientHJ212 { s.protocols.hj212.devices["MN-0001"] = ProtocolDevice(lenientChecksum: true) }
        return s
    }

    /// A loaded (status bits 8–9 = full), moving, uncovered location body.
    func body(at s: Double, cover: UInt8 = 0, speed: Double = 30) -> [UInt8] {
        JT808.locationBody(status: 0x3 | 0x300, lat: 22.5 + s * 1e-5, lon: 114.05, speedKmh: speed, directionDeg: 90,
                           time: start.adding(seconds: s),
                           items: [.init(id: 0xe1, value: [cover]), .init(id: 0xe2, value: [0x00, 0x00, 0x4e, 0x20])])
    }

    var nextId: Int64 = 0
    func message(_ topic: String, _ payload: [UInt8], at s: Double) -> InboxMessage {
        nextId += 1
        return InboxMessage(id: nextId, topic: topic, payload: payload, arrivedAt: start.adding(seconds: s + 1))
    }

    func frame(_ body: [UInt8], serial: Int, id: UInt16 = 0x0200, phone: String? = nil, is2019: Bool = false) -> [UInt8] {
        JT808.frame(messageId: id, phone: phone ?? self.phone, serial: UInt16(serial), body: body, is2019: is2019)
    }

    func testJT808TrackerRaisesUncoveredLoadAboutTheRegisteredTruck() throws {
        let pipeline = Pipeline(settings: settings())
        let messages = (0...6).map { i in
            message("jt808/GW-1/up", frame(body(at: Double(i) * 10), serial: i), at: Double(i) * 10)
        }
        let out = pipeline.process(messages, ledger: SetLedger())
        XCTAssertEqual(out.deadLetters.count, 0, "\(out.deadLetters.map(\.failure))")
        guard case .truck(let t) = out.decoded.first?.record else { return XCTFail("no truck record") }
        XCTAssertEqual(t.device, "T-0001", "the phone maps to the registered truck")
        XCTAssertEqual(t.cover, .open)
        XCTAssertEqual(t.load, .full)
        XCTAssertEqual(t.loadKg, 20000)
        XCTAssertEqual(t.body, .down)
        XCTAssertEqual(out.alerts.map(\.rule), ["uncovered_load"])
        XCTAssertTrue(out.alerts.first?.jsonLine.contains(plate) == true, out.alerts.first?.jsonLine ?? "")
    }

    func testTheCoverClosedRaisesNothing() throws {
        let messages = (0...6).map { i in
            message("jt808/GW-1/up", frame(body(at: Double(i) * 10, cover: 1), serial: i), at: Double(i) * 10)
        }
        XCTAssertEqual(Pipeline(settings: settings()).process(messages, ledger: SetLedger()).alerts, [])
    }

    /// Buffered points sent late in a 0x0704 blind-area batch are history:
    /// they raise nothing, whether or not a current fix came before them.
    func testBlindAreaBatchIsThePastAndRaisesNothing() throws {
        let batch = JT808.batchBody((0...6).map { body(at: Double($0) * 10) }, blindArea: true)
        for withCurrentFix in [false, true] {
            let pipeline = Pipeline(settings: settings())
            var messages: [InboxMessage] = []
            if withCurrentFix {
                messages.append(message("jt808/GW-1/up", frame(body(at: 100, cover: 1, speed: 0), serial: 1), at: 100))
            }
            messages.append(message("jt808/GW-1/up", frame(batch, serial: 2, id: 0x0704), at: 400))
            let out = pipeline.process(messages, ledger: SetLedger())
            XCTAssertEqual(out.alerts, [], "current fix first: \(withCurrentFix)")
            let late = out.decoded.compactMap { d -> TruckTelemetry? in
                if case .truck(let t) = d.record, t.late { return t }
                return nil
            }
            XCTAssertEqual(late.count, 7)
            XCTAssertEqual(out.decoded.filter { $0.message.id == messages.last!.id }.map(\.part), Array(0...6))
        }
        // The same points as a normal batch are the truck's trip, in order: the alert.
        let normal = JT808.batchBody((0...6).map { body(at: Double($0) * 10) }, blindArea: false)
        let out = Pipeline(settings: settings()).process([message("jt808/GW-1/up", frame(normal, serial: 3, id: 0x0704), at: 70)],
                                                         ledger: SetLedger())
        XCTAssertEqual(out.alerts.map(\.rule), ["uncovered_load"])
    }

    /// One payload, three frames: two good, one with a wrong checksum. The
    /// good ones are records; the bad one is the message's dead letter.
    func testSeveralFramesInOnePayload() throws {
        var corrupt = frame(body(at: 10), serial: 2)
        corrupt[corrupt.count - 2] ^= 0x01
        if corrupt[corrupt.count - 2] == 0x7e || corrupt[corrupt.count - 2] == 0x7d { corrupt[corrupt.count - 2] ^= 0x03 }
        let payload = frame(body(at: 0), serial: 1) + corrupt + frame(body(at: 20), serial: 3)
        let out = Pipeline(settings: settings()).process([message("jt808/GW-1/up", payload, at: 20)], ledger: SetLedger())
        XCTAssertEqual(out.decoded.map(\.part), [0, 1])
        XCTAssertEqual(out.deadLetters.count, 1)
        XCTAssertEqual(out.deadLetters.first?.failure.reason, .badChecksum)
        XCTAssertTrue(out.deadLetters.first?.failure.detail.hasPrefix("frame 2 of 3:") == true)
    }

    /// A 2019 header carries 20 digits; the registry's 12-digit phone still matches.
    func testVersion2019PhoneFindsTheTruck() throws {
        let out = Pipeline(settings: settings()).process(
            [message("jt808/GW-1/up", frame(body(at: 0), serial: 1, phone: "00000000013912345678", is2019: true), at: 0)],
            ledger: SetLedger())
        guard case .truck(let t) = out.decoded.first?.record else { return XCTFail("\(out.deadLetters)") }
        XCTAssertEqual(t.device, "T-0001")
    }

    /// Heartbeats and registrations are recognised and counted, not dead letters.
    func testNonLocationMessagesAreIgnoredWithTheirId() throws {
        let out = Pipeline(settings: settings()).process(
            [message("jt808/GW-1/up", frame([], serial: 1, id: 0x0002), at: 0)], ledger: SetLedger())
        XCTAssertEqual(out.ignored.map(\.what), ["jt808_0x0002"])
        XCTAssertEqual(out.deadLetters.count, 0)
    }

    // MARK: HJ 212

    func hj212(at s: Double, conc: Double, flag: String = "N", fan: Int = 1, purifier: Int = 1, cn: String = "2011") -> [UInt8] {
        let t = HJ212.timeText(start.adding(seconds: s))
        let suffix = cn == "2011" ? "Rtd" : "Avg"
        return HJ212.packet("QN=\(t)000;ST=31;CN=\(cn);PW=123456;MN=MN-0001;Flag=5;CP=&&DataTime=\(t);"
            + "a34041-\(suffix)=\(conc),a34041-Flag=\(flag);SB1-RS=\(fan);SB2-RS=\(purifier)&&")
    }

    func testHJ212MonitorRaisesFumeExceedance() throws {
        let messages = (0...11).map { m in message("hj212/MN-0001/up", hj212(at: Double(m) * 60, conc: 3.5), at: Double(m) * 60) }
        let out = Pipeline(settings: settings()).process(messages, ledger: SetLedger())
        XCTAssertEqual(out.deadLetters.count, 0, "\(out.deadLetters.map(\.failure))")
        guard case .fume(let f) = out.decoded.first?.record else { return XCTFail("no fume record") }
        XCTAssertEqual(f.monitor, "MN-0001")
        XCTAssertEqual(f.concMgM3, 3.5)
        XCTAssertEqual(f.fan, .on)
        XCTAssertEqual(f.dataFlag, "N")
        XCTAssertEqual(out.alerts.map(\.rule), ["fume_exceedance"])
        XCTAssertTrue(out.alerts.first?.jsonLine.contains("川菜馆") == true)
    }

    /// Readings taken while calibrating (flag C) are not measurements of the air.
    func testCalibrationReadingsDoNotCount() throws {
        let messages = (0...11).map { m in
            message("hj212/MN-0001/up", hj212(at: Double(m) * 60, conc: 3.5, flag: "C"), at: Double(m) * 60)
        }
        let out = Pipeline(settings: settings()).process(messages, ledger: SetLedger())
        XCTAssertEqual(out.decoded.count, 12)
        XCTAssertEqual(out.alerts, [])
    }

    func testHJ212PurifierOffFromRunningStates() throws {
        let messages = (0...6).map { m in
            message("hj212/MN-0001/up", hj212(at: Double(m) * 60, conc: 0.5, purifier: 0), at: Double(m) * 60)
        }
        XCTAssertEqual(Pipeline(settings: settings()).process(messages, ledger: SetLedger()).alerts.map(\.rule), ["purifier_off"])
    }

    /// Strict by default; a lenient monitor's reading is kept and marked.
    func testHJ212BadCRCStrictAndLenient() throws {
        var packet = hj212(at: 0, conc: 1.0)
        packet[packet.count - 3] = packet[packet.count - 3] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let strict = Pipeline(settings: settings()).process([message("hj212/MN-0001/up", packet, at: 0)], ledger: SetLedger())
        XCTAssertEqual(strict.deadLetters.first?.failure.reason, .badChecksum)
        XCTAssertEqual(strict.decoded.count, 0)
        let lenient = Pipeline(settings: settings(lenientHJ212: true))
            .process([message("hj212/MN-0001/up", packet, at: 0)], ledger: SetLedger())
        XCTAssertEqual(lenient.deadLetters.count, 0)
        guard case .fume(let f) = lenient.decoded.first?.record else { return XCTFail("no record") }
        XCTAssertEqual(f.marks, "bad_crc")
    }

    func testHJ212MinuteAverage() throws {
        let items = PayloadDecoder().items(kind: .hj212, payload: hj212(at: 0, conc: 1.25, cn: "2051"), topicDevice: nil, extra: false)
        guard case .record(.fume(let f), _)? = items.first else { return XCTFail("\(items)") }
        XCTAssertEqual(f.concMgM3, 1.25)
        XCTAssertEqual(f.ts, start)
    }

    /// A vendor whose monitors put the fan in SB7 and the purifier in SB8,
    /// running as 2 (as the field sample `SB7-RS=2;SB8-RS=2`).
    func testHJ212VendorMapping() throws {
        var protocols = ProtocolSettings()
        protocols.hj212.vendors["v"] = HJ212Profile(concentration: "a34041", fan: "SB7", purifier: "SB8", running: ["1", "2"],
                                                    stopped: ["0"])
        protocols.hj212.devices["010000A8900016F018010001"] = ProtocolDevice(vendor: "v")
        let packet = HJ212.packet("QN=20180531225849000;ST=31;CN=2011;PW=123456;MN=010000A8900016F018010001;Flag=5;"
            + "CP=&&DataTime=20180531225849;a34041-Rtd=0.00,a34041-Flag=N;SB7-RS=2;SB8-RS=0&&")
        let items = PayloadDecoder(protocols: protocols).items(kind: .hj212, payload: packet, topicDevice: nil, extra: false)
        guard case .record(.fume(let f), _)? = items.first else { return XCTFail("\(items)") }
        XCTAssertEqual(f.fan, .on)
        XCTAssertEqual(f.purifier, .off)
        XCTAssertEqual(f.concMgM3, 0)
        XCTAssertEqual(RFC3339.format(f.ts, offsetSeconds: 8 * 3600), "2018-05-31T22:58:49.000+08:00")
    }

    // MARK: DJI Cloud API

    func testDJIAircraftOSDIsDroneTelemetryAndDockOSDIsIgnored() throws {
        let aircraft = #"""
            {"tid":"6a7bfe89-c386-4043-b600-b518e10096cc","bid":"42a19f36-5117-4520-bd13-fd61d818d52e","timestamp":1795536000000,
             "gateway":"4TADKAQ000002J","data":{"latitude":22.5431,"longitude":114.058,"height":120.5,"elevation":80.2,
             "attitude_head":-90.5,"attitude_pitch":0,"attitude_roll":0,"horizontal_speed":5.2,"vertical_speed":0.1,
             "mode_code":5,"battery":{"capacity_percent":76}}}
            """#
        let dock = #"""
            {"tid":"t","bid":"b","timestamp":1795536000000,"gateway":"4TADKAQ000002J",
             "data":{"network_state":{"type":2,"quality":5},"drone_in_dock":1,"cover_state":0,"putter_state":0,
                     "latitude":22.54,"longitude":114.05,"height":30}}
            """#
        let out = Pipeline(settings: settings()).process([
            message("thing/product/1581F5BKD225D00BT8A2/osd", Array(aircraft.utf8), at: 0),
            message("thing/product/4TADKAQ000002J/osd", Array(dock.utf8), at: 0),
            message("thing/product/1581F5BKD225D00BT8A2/osd", Array(#"{"tid":"t","timestamp":1795536000000}"#.utf8), at: 0),
        ], ledger: SetLedger())
        guard case .drone(let d) = out.decoded.first?.record else { return XCTFail("no drone record: \(out.deadLetters)") }
        XCTAssertEqual(d.drone, "1581F5BKD225D00BT8A2")
        XCTAssertEqual(d.lat, 22.5431)
        XCTAssertEqual(d.altM, 120.5)
        XCTAssertEqual(d.headingDeg, 269.5)
        XCTAssertEqual(d.ts, Instant(millis: 1_795_536_000_000))
        XCTAssertEqual(out.ignored.map(\.what), ["dji_dock_osd"])
        XCTAssertEqual(out.deadLetters.map(\.failure.reason), [.missingField])
    }
}
