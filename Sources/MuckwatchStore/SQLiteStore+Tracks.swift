import Foundation
import GRDB
import MuckwatchCore

/// The track index (`track_chunks`, an SQLite R*Tree, migration v5): chunks of
/// each truck's consecutive fixes, boxed in space and time, for attribution.
extension SQLiteStore {
    /// Seconds since the Unix epoch of 2020-01-01T00:00:00Z: the R*Tree's time origin.
    static let trackEpochS: Int64 = 1_577_836_800

    static func insertTrackChunks(_ chunks: [TrackChunk], _ db: Database) throws {
        guard !chunks.isEmpty else { return }
        let statement = try db.cachedStatement(sql: """
            INSERT INTO track_chunks (min_lat, max_lat, min_lon, max_lon, min_t, max_t, device, fixes)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for chunk in chunks where !chunk.fixes.isEmpty {
            var minLat = Double.infinity, maxLat = -Double.infinity, minLon = Double.infinity, maxLon = -Double.infinity
            for f in chunk.fixes {
                minLat = min(minLat, f.point.lat)
                maxLat = max(maxLat, f.point.lat)
                minLon = min(minLon, f.point.lon)
                maxLon = max(maxLon, f.point.lon)
            }
            let times = chunk.fixes.map(\.ts)
            _ = try run(statement, db) { stmt in
                bind(stmt, 1, Int64(microdegrees(minLat, .down)))
                bind(stmt, 2, Int64(microdegrees(maxLat, .up)))
                bind(stmt, 3, Int64(microdegrees(minLon, .down)))
                bind(stmt, 4, Int64(microdegrees(maxLon, .up)))
                bind(stmt, 5, trackSeconds(times.min()!, .down))
                bind(stmt, 6, trackSeconds(times.max()!, .up))
                bind(stmt, 7, chunk.device)
                bind(stmt, 8, TrackBlob.encode(chunk.fixes))
            }
        }
    }

    enum Rounding { case down, up }

    static func microdegrees(_ degrees: Double, _ rounding: Rounding) -> Int32 {
        let v = degrees * 1_000_000
        return Int32(clamping: Int64(rounding == .down ? v.rounded(.down) : v.rounded(.up)))
    }

    static func trackSeconds(_ t: Instant, _ rounding: Rounding) -> Int64 {
        let ms = t.millis - trackEpochS * 1000
        let s = rounding == .down ? ms.floorDiv(1000) : -((-ms).floorDiv(1000))
        return min(max(s, Int64(Int32.min)), Int64(Int32.max))
    }

    /// Passes near a place, from committed chunks (see `TrackIndex`).
    public func trackPasses(near p: GeoPoint, radiusM: Double, from: Instant, to: Instant) throws -> [TrackPass] {
        try pool.read { db in try TrackIndex(db: db).lookup(near: p, radiusM: radiusM, from: from, to: to) }
    }

    /// Indexes chunks directly (tests and the attribution benchmark).
    public func addTrackChunks(_ chunks: [TrackChunk]) throws {
        try pool.write { db in try Self.insertTrackChunks(chunks, db) }
    }
}

extension Int64 {
    fileprivate func floorDiv(_ d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}

/// The committed tracks, read in the caller's transaction.
extension SQLiteStore: TrackHistory {
    public func passes(near p: GeoPoint, radiusM: Double, from: Instant, to: Instant) -> [TrackPass] {
        lookup([]) { try trackPasses(near: p, radiusM: radiusM, from: from, to: to) }
    }
}

struct TrackIndex {
    let db: Database

    func lookup(near p: GeoPoint, radiusM: Double, from: Instant, to: Instant) throws -> [TrackPass] {
        let box = Geo.box(around: p, metres: radiusM)
        let rows = try Row.fetchCursor(db, sql: """
            SELECT device, fixes FROM track_chunks
            WHERE max_lat >= ? AND min_lat <= ? AND max_lon >= ? AND min_lon <= ? AND max_t >= ? AND min_t <= ?
            """, arguments: [SQLiteStore.microdegrees(box.minLat, .down), SQLiteStore.microdegrees(box.maxLat, .up),
                             SQLiteStore.microdegrees(box.minLon, .down), SQLiteStore.microdegrees(box.maxLon, .up),
                             SQLiteStore.trackSeconds(from, .down), SQLiteStore.trackSeconds(to, .up)])
        return try Self.closestPasses(rows, near: p, radiusM: radiusM, from: from, to: to)
    }

    /// Each device's closest pass among `(device, fixes)` rows.
    static func closestPasses(_ rows: RowCursor, near p: GeoPoint, radiusM: Double, from: Instant, to: Instant) throws -> [TrackPass] {
        var passes: [TrackPass] = []
        while let row = try rows.next() {
            // A row this version did not write (no device, not a blob) is skipped, not trusted.
            guard let device = String.fromDatabaseValue(row[0]), let data = Data.fromDatabaseValue(row[1]) else { continue }
            let chunk = TrackChunk(device: device, fixes: TrackBlob.decode([UInt8](data)))
            if let pass = chunk.closestApproach(to: p, radiusM: radiusM, from: from, to: to) { passes.append(pass) }
        }
        return TrackPass.closestPerDevice(passes)
    }
}

/// A chunk's fixes as bytes: a version, then the first fix as Int64 ms and
/// Int32 lat/lon in 1e-7 degrees, little-endian; then each next fix as
/// deltas of the three: in version 2 (written now) zigzag LEB128 varints, a
/// few bytes each for fixes seconds and metres apart; in version 1 (stores
/// written before) Int32s. A blob that does not parse gives no fixes.
enum TrackBlob {
    static func encode(_ fixes: [TrackFix]) -> [UInt8] {
        var out: [UInt8] = [2]
        out.reserveCapacity(1 + 16 + fixes.count * 7)
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func putVarint(_ v: Int64) {
            var z = UInt64(bitPattern: (v << 1) ^ (v >> 63))
            while z >= 0x80 {
                out.append(UInt8(truncatingIfNeeded: z) | 0x80)
                z >>= 7
            }
            out.append(UInt8(z))
        }
        var prev: (Int64, Int32, Int32)?
        for f in fixes {
            let cur = (f.ts.millis, Int32(clamping: Int64((f.point.lat * 1e7).rounded())),
                       Int32(clamping: Int64((f.point.lon * 1e7).rounded())))
            if let p = prev {
                putVarint(cur.0 &- p.0)
                putVarint(Int64(cur.1) - Int64(p.1))
                putVarint(Int64(cur.2) - Int64(p.2))
            } else {
                put(cur.0)
                put(cur.1)
                put(cur.2)
            }
            prev = cur
        }
        return out
    }

    static func decode(_ bytes: [UInt8]) -> [TrackFix] {
        guard let version = bytes.first, version == 1 || version == 2, bytes.count >= 17 else { return [] }
        if version == 1 && (bytes.count - 17) % 12 != 0 { return [] }
        var at = 1
        func get<T: FixedWidthInteger>(_: T.Type) -> T {
            var v: T = 0
            withUnsafeMutableBytes(of: &v) { dst in
                for i in 0..<MemoryLayout<T>.size { dst[i] = bytes[at + i] }
            }
            at += MemoryLayout<T>.size
            return T(littleEndian: v)
        }
        /// Nil past the end, or for more than 64 bits.
        func getVarint() -> Int64? {
            var z: UInt64 = 0
            var shift: UInt64 = 0
            while at < bytes.count, shift < 64 {
                let b = bytes[at]
                at += 1
                z |= UInt64(b & 0x7f) << shift
                if b < 0x80 { return Int64(bitPattern: z >> 1) ^ -Int64(bitPattern: z & 1) }
                shift += 7
            }
            return nil
        }
        var ms = get(Int64.self), lat = get(Int32.self), lon = get(Int32.self)
        func fix() -> TrackFix { TrackFix(ts: Instant(millis: ms), point: GeoPoint(lat: Double(lat) / 1e7, lon: Double(lon) / 1e7)) }
        var out = [fix()]
        while at < bytes.count {
            if version == 1 {
                ms = ms &+ Int64(get(Int32.self))
                lat = lat &+ get(Int32.self)
                lon = lon &+ get(Int32.self)
            } else {
                func moved(_ v: Int32, by d: Int64) -> Int32? {
                    let (sum, overflow) = Int64(v).addingReportingOverflow(d)
                    return overflow ? nil : Int32(exactly: sum)
                }
                guard let dt = getVarint(), let dLat = getVarint(), let dLon = getVarint(),
                      let nextLat = moved(lat, by: dLat), let nextLon = moved(lon, by: dLon)
                else { return [] }
                ms = ms &+ dt
                lat = nextLat
                lon = nextLon
            }
            out.append(fix())
        }
        return out
    }
}

/// The attribution benchmark's peer: the same chunks in a plain SQLite table
/// with a B-tree index on time, answered by a time-range scan then the box
/// test — what attribution would cost without the R*Tree.
public final class TrackScanPeer {
    private let queue: DatabaseQueue

    public init(path: String) throws {
        queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS chunks (
                  min_t INTEGER NOT NULL, max_t INTEGER NOT NULL, min_lat INTEGER NOT NULL, max_lat INTEGER NOT NULL,
                  min_lon INTEGER NOT NULL, max_lon INTEGER NOT NULL, device TEXT NOT NULL, fixes BLOB NOT NULL);
                CREATE INDEX IF NOT EXISTS chunks_min_t ON chunks (min_t);
                """)
        }
    }

    public func add(_ chunks: [TrackChunk]) throws {
        try queue.write { db in
            let statement = try db.cachedStatement(sql: "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            for c in chunks where !c.fixes.isEmpty {
                let lats = c.fixes.map(\.point.lat), lons = c.fixes.map(\.point.lon), ts = c.fixes.map(\.ts)
                try statement.execute(arguments: [
                    SQLiteStore.trackSeconds(ts.min()!, .down), SQLiteStore.trackSeconds(ts.max()!, .up),
                    Int64(SQLiteStore.microdegrees(lats.min()!, .down)), Int64(SQLiteStore.microdegrees(lats.max()!, .up)),
                    Int64(SQLiteStore.microdegrees(lons.min()!, .down)), Int64(SQLiteStore.microdegrees(lons.max()!, .up)),
                    c.device, Data(TrackBlob.encode(c.fixes))])
            }
        }
    }

    /// The longest chunk the index holds, so a time-range scan on `min_t` can
    /// start early enough to catch chunks that began before the window.
    public func passes(near p: GeoPoint, radiusM: Double, from: Instant, to: Instant, maxChunkS: Int64) throws -> [TrackPass] {
        let box = Geo.box(around: p, metres: radiusM)
        return try queue.read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT device, fixes FROM chunks
                WHERE min_t BETWEEN ? AND ? AND max_t >= ?
                  AND max_lat >= ? AND min_lat <= ? AND max_lon >= ? AND min_lon <= ?
                """, arguments: [SQLiteStore.trackSeconds(from, .down) - maxChunkS, SQLiteStore.trackSeconds(to, .up),
                                 SQLiteStore.trackSeconds(from, .down),
                                 SQLiteStore.microdegrees(box.minLat, .down), SQLiteStore.microdegrees(box.maxLat, .up),
                                 SQLiteStore.microdegrees(box.minLon, .down), SQLiteStore.microdegrees(box.maxLon, .up)])
            return try TrackIndex.closestPasses(rows, near: p, radiusM: radiusM, from: from, to: to)
        }
    }
}
