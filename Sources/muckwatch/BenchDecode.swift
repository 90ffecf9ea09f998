import ArgumentParser
import Foundation
import MuckwatchCore
import MuckwatchScenario

/// `muckwatch bench-decode`: decode throughput of each device protocol
/// (issue 6), on one core, next to the native JSON decoder decoding the same
/// telemetry written as native JSON. Messages go through the pipeline's own
/// path (`PayloadDecoder.decode`, topic routing included).
struct BenchDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-decode",
        abstract: "Benchmark decoding JT/T 808, HJ 212 and DJI OSD against native JSON, messages/s on one core (use a release build).")

    @Option(help: "Distinct messages of each format (decoded round after round).") var messages = 20_000
    @Option(help: "Rounds over them; the median round is reported.") var rounds = 7

    func run() throws {
        let start = RFC3339.parse("2026-11-24T21:00:00+08:00")!
        var rng = SplitMix64(state: 6)
        var jt808: [[UInt8]] = [], truckJSON: [[UInt8]] = []
        var hj212: [[UInt8]] = [], fumeJSON: [[UInt8]] = []
        var osd: [[UInt8]] = [], droneJSON: [[UInt8]] = []
        for i in 0..<messages {
            let t = start.adding(seconds: Double(i))
            let lat = 22.45 + rng.uniform(0, 0.3), lon = 113.85 + rng.uniform(0, 0.4)
            let speed = (rng.uniform(0, 60) * 10).rounded() / 10, heading = Int(rng.uniform(0, 359))
            let phone = String(13_900_000_000 + i % 500)
            // A typical tracker's report: mileage, fuel, signal, satellites and a vendor's cover/weight items.
            let items: [JT808.Item] = [
                .init(id: 0x01, value: [0, 0, 0x30, 0x39]), .init(id: 0x02, value: [0x01, 0xf4]),
                .init(id: 0x30, value: [28]), .init(id: 0x31, value: [14]),
                .init(id: 0xe1, value: [0x01]), .init(id: 0xe2, value: [0, 0, 0x4e, 0x20]),
            ]
            jt808.append(JT808.frame(messageId: 0x0200, phone: "0" + phone, serial: UInt16(i % 65_536),
                                     body: JT808.locationBody(status: 0x303, lat: lat, lon: lon, altitudeM: 12, speedKmh: speed,
                                                              directionDeg: heading, time: t, items: items)))
            let ts = RFC3339.format(t, offsetSeconds: UTCOffset.chinaStandardTime)
            truckJSON.append(Array("""
                {"device":"T-\(i % 500)","ts":"\(ts)","lat":\(fmt(lat)),"lon":\(fmt(lon)),"speed_kmh":\(speed),"heading_deg":\(heading),\
                "cover":"closed","load":"full","load_kg":20000,"body":"unknown","seq":\(i % 65_536)}
                """.utf8))
            let conc = (rng.uniform(0, 4) * 100).rounded() / 100
            let dt = HJ212.timeText(t)
            hj212.append(HJ212.packet("QN=\(dt)000;ST=31;CN=2011;PW=123456;MN=MN\(100_000 + i % 300);Flag=5;CP=&&DataTime=\(dt);"
                + "a34041-Rtd=\(conc),a34041-Flag=N;SB1-RS=1;SB2-RS=1&&"))
            fumeJSON.append(Array("""
                {"monitor":"MN\(100_000 + i % 300)","ts":\(t.millis),"conc_mg_m3":\(conc),"fan":"on","purifier":"on"}
                """.utf8))
            let height = (rng.uniform(30, 150) * 10).rounded() / 10, head = Int(rng.uniform(-180, 180))
            // An aircraft OSD as a Matrice 30 from a dock sends it (a subset of its fields).
            osd.append(Array("""
                {"tid":"6a7bfe89-c386-4043-b600-\(100_000_000_000 + i)","bid":"42a19f36-5117-4520-bd13-fd61d818d52e",\
                "timestamp":\(t.millis),"gateway":"4TADKAQ000002J","data":{"mode_code":5,"gear":1,"horizontal_speed":5.2,\
                "vertical_speed":0.1,"longitude":\(fmt(lon)),"latitude":\(fmt(lat)),"height":\(height),"elevation":\(height - 40),\
                "attitude_pitch":-0.5,"attitude_roll":0.3,"attitude_head":\(head),"home_distance":812.4,"wind_speed":3.1,\
                "wind_direction":2,"total_flight_distance":120034.5,"total_flight_time":86400,\
                "battery":{"capacity_percent":76,"remain_flight_time":1320,"return_home_power":25,"landing_power":10,\
                "batteries":[{"capacity_percent":76,"index":0,"sn":"4ERPL5JEA1009V","type":0,"sub_type":0,"voltage":46712,"temperature":33.4}]},\
                "position_state":{"gps_number":18,"is_fixed":2,"rtk_number":28,"quality":5},\
                "storage":{"total":60096000,"used":1024000},"night_lights_state":0,"height_limit":500,"distance_limit_status":{"state":0},\
                "obstacle_avoidance":{"horizon":1,"upside":1,"downside":1},"is_near_area_limit":0,"is_near_height_limit":0}}
                """.utf8))
            droneJSON.append(Array("""
                {"drone":"1581F5BKD225D00BT8A2","ts":\(t.millis),"lat":\(fmt(lat)),"lon":\(fmt(lon)),"alt_m":\(height),"heading_deg":\((head + 360) % 360)}
                """.utf8))
        }
        let decoder = PayloadDecoder()
        print("decode throughput, one core, \(messages) distinct messages per format, median of \(rounds) rounds")
        let rows = try [
                ("jt808 0x0200", "jt808/GW-1/up", jt808, "muckwatch/v1/truck/T-1/telemetry", truckJSON),
                ("hj212 2011", "hj212/MN/up", hj212, "muckwatch/v1/fume/F-1/reading", fumeJSON),
                ("dji-osd aircraft", "thing/product/1581F5BKD225D00BT8A2/osd", osd, "muckwatch/v1/drone/D-1/telemetry", droneJSON),
            ].map { name, topic, payloads, nativeTopic, nativePayloads in
                let (rate, mbs, size) = try measure(decoder, topic, payloads)
                let (nativeRate, _, _) = try measure(decoder, nativeTopic, nativePayloads)
                return [name, String(Int(rate)), String(format: "%.1f", mbs), String(size), String(Int(nativeRate)),
                        String(format: "%.2f", rate / nativeRate)]
            }
        print(Output.table(["format", "msg/s", "MB/s", "bytes/msg", "native JSON msg/s (same telemetry)", "ratio"], rows))
    }

    private func fmt(_ v: Double) -> String { String(format: "%.6f", v) }

    /// Median messages/s, MB/s and mean size over the rounds; every message must decode to a record.
    private func measure(_ decoder: PayloadDecoder, _ topic: String, _ payloads: [[UInt8]]) throws -> (Double, Double, Int) {
        let arrival = RFC3339.parse("2026-11-25T00:00:00+08:00")!
        let inbox = payloads.enumerated().map { InboxMessage(id: Int64($0 + 1), topic: topic, payload: $1, arrivedAt: arrival, sha256: "") }
        let bytes = payloads.reduce(0) { $0 + $1.count }
        var times: [Double] = []
        var records = 0
        for _ in 0..<rounds {
            let t0 = DispatchTime.now().uptimeNanoseconds
            records = 0
            for m in inbox { records &+= decoder.decode(m).records.count }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        guard records == payloads.count else {
            throw CLIError("\(topic): \(records) records from \(payloads.count) messages; the benchmark's messages should all decode")
        }
        let median = times.sorted()[times.count / 2]
        return (Double(payloads.count) / median, Double(bytes) / median / 1e6, bytes / max(1, payloads.count))
    }
}
