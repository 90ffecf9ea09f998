import GRDB
import MuckwatchCore

/// A truck's fixes already processed: what its geofence state is rebuilt
/// from when it reports after its state left memory (`limits.device_idle_s`),
/// or for the first time since a start.
extension SQLiteStore: FixHistory {
    public func recentFixes(device: String, spanS: Double, limit: Int, before: Int64?) -> [TruckTelemetry] {
        lookup([]) {
            try pool.read { db in try Self.recentFixes(device: device, spanS: spanS, limit: limit, before: before, db) }
        }
    }

    static func recentFixes(device: String, spanS: Double, limit: Int, before: Int64?,
                            _ db: Database) throws -> [TruckTelemetry] {
        // Both halves use truck_telemetry_device_ts; an unknown device costs
        // one index probe. As of an earlier message (a restart catching up),
        // the device's rows are filtered by inbox id, which only that rare
        // path pays for.
        let rows = try Row.fetchAll(db.cachedStatement(sql: before == nil ? """
            SELECT device, ts, plate, lat, lon, speed_kmh, heading_deg, cover, load, load_kg, body, seq, late, marks
            FROM truck_telemetry
            WHERE device = ?1 AND ts >= (SELECT MAX(ts) FROM truck_telemetry WHERE device = ?1) - ?2
            ORDER BY inbox_id DESC, part DESC LIMIT ?3
            """ : """
            SELECT device, ts, plate, lat, lon, speed_kmh, heading_deg, cover, load, load_kg, body, seq, late, marks
            FROM truck_telemetry
            WHERE device = ?1 AND inbox_id < ?4
              AND ts >= (SELECT MAX(ts) FROM truck_telemetry WHERE device = ?1 AND inbox_id < ?4) - ?2
            ORDER BY inbox_id DESC, part DESC LIMIT ?3
            """), arguments: before.map { [device, Int64(spanS * 1000), limit, $0] } ?? [device, Int64(spanS * 1000), limit])
        return rows.reversed().map { SQLiteStore.truckTelemetry($0, from: 0) }
    }
}
