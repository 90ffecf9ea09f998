import GRDB
import MuckwatchCore

/// A truck's fixes already processed, read on the pipeline's snapshot: what
/// its geofence state is rebuilt from when it reports after its state left
/// memory (`limits.device_idle_s`), or for the first time since a start.
struct FixIndex: FixHistory {
    let db: Database

    func recentFixes(device: String, spanS: Double, limit: Int) -> [TruckTelemetry] {
        // A failing read here would also fail the enclosing commit.
        (try? lookup(device: device, spanS: spanS, limit: limit)) ?? []
    }

    func lookup(device: String, spanS: Double, limit: Int) throws -> [TruckTelemetry] {
        // Both halves use truck_telemetry_device_ts; an unknown device costs one index probe.
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT device, ts, plate, lat, lon, speed_kmh, heading_deg, cover, load, load_kg, body, seq, late, marks
            FROM truck_telemetry
            WHERE device = ?1 AND ts >= (SELECT MAX(ts) FROM truck_telemetry WHERE device = ?1) - ?2
            ORDER BY inbox_id DESC, part DESC LIMIT ?3
            """), arguments: [device, Int64(spanS * 1000), limit])
        return rows.reversed().map { Store.truckTelemetry($0, from: 0) }
    }
}
