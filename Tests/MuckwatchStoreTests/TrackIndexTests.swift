import Foundation
import GRDB
import MuckwatchCore
@testable import MuckwatchStore
import XCTest

/// The track index on its own (§6 attribution): chunks in the R*Tree, found
/// by place and time window, measured along their segments, nearest first;
/// boxes rounded outward; the fixes blob round-trips and a corrupt one is
/// harmless.
final class TrackIndexTests: StoreTestCase {
    /// Where the spill was seen, and when.
    let place = GeoPoint(lat: 22.5431, lon: 114.058)
    lazy var seen = instant("2026-11-24T21:16:40+08:00")

    /// `place` moved `east` and `north` metres.
    func at(east: Double, north: Double, from p: GeoPoint? = nil) -> GeoPoint {
        let o = p ?? place
        return GeoPoint(lat: o.lat + north / 111_320, lon: o.lon + east / (111_320 * cos(o.lat * .pi / 180)))
    }

    /// A truck driving a straight line: a fix every `everyS` seconds from
    /// `start` (metres from `place`) at `velocity` (m/s east, north).
    func drive(from start: (east: Double, north: Double), velocity: (east: Double, north: Double),
               at t: Instant, fixes: Int, everyS: Double = 10) -> [TrackFix] {
        (0..<fixes).map { i in
            let s = Double(i) * everyS
            return TrackFix(ts: t.adding(seconds: s),
                            point: at(east: start.east + velocity.east * s, north: start.north + velocity.north * s))
        }
    }

    /// Chunks of `perChunk` fixes; consecutive chunks share their boundary fix.
    func chunks(_ device: String, _ fixes: [TrackFix], perChunk: Int = 7) -> [TrackChunk] {
        var out: [TrackChunk] = []
        var i = 0
        while i < fixes.count - 1 {
            let end = min(i + perChunk - 1, fixes.count - 1)
            out.append(TrackChunk(device: device, fixes: Array(fixes[i...end])))
            i = end
        }
        return out
    }

    func lastTenMinutes(_ store: SQLiteStore, radiusM: Double = 50) throws -> [TrackPass] {
        try store.trackPasses(near: place, radiusM: radiusM, from: seen.adding(seconds: -600), to: seen)
    }

    func testTrucksWithin50mInTheLast10MinutesComeNearestFirstWithTheirDistances() throws {
        let store = try SQLiteStore(path: path)
        // Each drives east at 10 m/s and is level with the place 5 min before the spill.
        func eastbound(_ device: String, north: Double, levelAt: Instant) -> [TrackChunk] {
            chunks(device, drive(from: (-300, north), velocity: (10, 0), at: levelAt.adding(seconds: -30), fixes: 61))
        }
        let fiveBefore = seen.adding(seconds: -300)
        try store.addTrackChunks(
            eastbound("T-0003", north: 45, levelAt: fiveBefore)
                + eastbound("T-0001", north: 10, levelAt: fiveBefore)
                + eastbound("T-0002", north: -30, levelAt: fiveBefore)
                + eastbound("T-0004", north: 80, levelAt: fiveBefore)                      // too far
                + eastbound("T-0005", north: 5, levelAt: seen.adding(seconds: -720))        // 12 min before
                + eastbound("T-0006", north: 5, levelAt: seen.adding(seconds: 120)))        // after the spill
        let passes = try lastTenMinutes(store)
        XCTAssertEqual(passes.map(\.device), ["T-0001", "T-0002", "T-0003"])
        for (pass, metres) in zip(passes, [10.0, 30, 45]) {
            XCTAssertEqual(pass.distanceM, metres, accuracy: 0.05, pass.device)
            XCTAssertEqual(pass.ts.seconds(since: fiveBefore), 0, accuracy: 0.01, pass.device)
            XCTAssertEqual(Geo.offset(of: pass.point, from: place).x, 0, accuracy: 0.05, "level with the place")
        }
        XCTAssertEqual(try store.trackChunkRows(), 6 * 10)
        // The same trucks, through the pipeline's view of the committed tracks.
        let viaIndex = store.passes(near: place, radiusM: 50, from: seen.adding(seconds: -600), to: seen)
        XCTAssertEqual(viaIndex, passes)
    }

    func testASegmentPassingWithin20mIsFoundThoughBothItsFixesAreFarther() throws {
        let store = try SQLiteStore(path: path)
        // One fix a minute at 36 km/h: fixes 300 m either side of the place, 20 m south of it.
        let fixes = drive(from: (-300, -20), velocity: (10, 0), at: seen.adding(seconds: -240), fixes: 2, everyS: 60)
        XCTAssertGreaterThan(Geo.metres(place, fixes[0].point), 50)
        XCTAssertGreaterThan(Geo.metres(place, fixes[1].point), 50)
        try store.addTrackChunks([TrackChunk(device: "T-0001", fixes: fixes)])
        let passes = try lastTenMinutes(store)
        XCTAssertEqual(passes.map(\.device), ["T-0001"])
        XCTAssertEqual(passes.first?.distanceM ?? 0, 20, accuracy: 0.05)
        XCTAssertEqual(passes.first?.ts.seconds(since: seen) ?? 0, -210, accuracy: 0.01, "halfway along the minute")
    }

    func testATruckThatPassedOutsideTheWindowIsNotFound() throws {
        let store = try SQLiteStore(path: path)
        // Level with the place 10 min 30 s before the spill, then gone by the time the window opens.
        let early = drive(from: (-100, 5), velocity: (10, 0), at: seen.adding(seconds: -640), fixes: 7)
        // Its chunk reaches into the window, but only where it is far from the place.
        let crossing = drive(from: (-100, 5), velocity: (10, 0), at: seen.adding(seconds: -610), fixes: 7)
        try store.addTrackChunks([TrackChunk(device: "T-0001", fixes: early), TrackChunk(device: "T-0002", fixes: crossing)])
        let passes = try lastTenMinutes(store)
        XCTAssertEqual(passes.map(\.device), ["T-0002"], "T-0002's chunk is cut at the window's start")
        // Cut at −600 s, T-0002 is 100 m on: 0 m east, level; 5 m north.
        XCTAssertEqual(passes.first?.distanceM ?? 0, 5, accuracy: 0.05)
        XCTAssertEqual(passes.first?.ts, seen.adding(seconds: -600))
        // A window that closed before T-0002 reached the place.
        let before = try store.trackPasses(near: place, radiusM: 50, from: seen.adding(seconds: -700), to: seen.adding(seconds: -605))
        XCTAssertEqual(before.map(\.device), ["T-0001"])
        XCTAssertEqual(before.first?.distanceM ?? 0, 5, accuracy: 0.05)
        XCTAssertEqual(try store.trackPasses(near: place, radiusM: 50, from: seen.adding(seconds: -590), to: seen), [],
                       "both are more than 50 m on by then")
    }

    func testAQueryStraddlingChunkBoundariesFindsTheTruckOnceAtItsClosest() throws {
        let store = try SQLiteStore(path: path)
        // A fix every 6 s, 60 m apart, one segment per chunk; the place is 12 m north of
        // the fix (at −300 s) that ends the first chunk and starts the second.
        let fixes = drive(from: (-60, -12), velocity: (10, 0), at: seen.adding(seconds: -306), fixes: 4, everyS: 6)
        let parts = chunks("T-0001", fixes, perChunk: 2)
        XCTAssertEqual(parts.count, 3)
        XCTAssertEqual(parts[0].fixes.last, parts[1].fixes.first)
        try store.addTrackChunks(parts)
        let passes = try lastTenMinutes(store)
        XCTAssertEqual(passes.map(\.device), ["T-0001"])
        XCTAssertEqual(passes.first?.distanceM ?? 0, 12, accuracy: 0.05)
        XCTAssertEqual(passes.first?.ts, seen.adding(seconds: -300))
        // A window that only reaches into the second chunk's segment.
        let late = try store.trackPasses(near: place, radiusM: 50, from: seen.adding(seconds: -297), to: seen)
        XCTAssertEqual(late.first?.distanceM ?? 0, (12.0 * 12 + 30 * 30).squareRoot(), accuracy: 0.05)
        // One that ends inside the first chunk.
        let early = try store.trackPasses(near: place, radiusM: 50, from: seen.adding(seconds: -600), to: seen.adding(seconds: -302))
        XCTAssertEqual(early.first?.distanceM ?? 0, (12.0 * 12 + 20 * 20).squareRoot(), accuracy: 0.05)

        // A track along a place straddling many chunks, each a box that holds only part of it.
        let long = drive(from: (-200, 30), velocity: (10, 0), at: seen.adding(seconds: -120), fixes: 41, everyS: 1)
        try store.addTrackChunks(chunks("T-0002", long, perChunk: 4))
        let both = try lastTenMinutes(store)
        XCTAssertEqual(both.map(\.device), ["T-0001", "T-0002"])
        XCTAssertEqual(both.last?.distanceM ?? 0, 30, accuracy: 0.05)
    }

    func testAFixExactlyAtTheRadiusEdgeAndTheWindowEdgeIsFound() throws {
        let store = try SQLiteStore(path: path)
        // Half a microdegree and a quarter second off the integer grid of the boxes, which must
        // round outward; on the blob's 1e-7 degree grid, so the distance is the same after storing.
        let edges: [(String, GeoPoint)] = [
            ("N", GeoPoint(lat: 22.5435495, lon: 114.058)),
            ("S", GeoPoint(lat: 22.5426505, lon: 114.058)),
            ("E", GeoPoint(lat: 22.5431, lon: 114.0584856)),
            ("W", GeoPoint(lat: 22.5431, lon: 114.0575144)),
        ]
        let from = seen.adding(seconds: -599.75), to = seen.adding(seconds: -0.25)
        var chunks: [TrackChunk] = []
        for (name, p) in edges {
            chunks.append(TrackChunk(device: "\(name)-from", fixes: [TrackFix(ts: from, point: p)]))
            chunks.append(TrackChunk(device: "\(name)-to", fixes: [TrackFix(ts: to, point: p)]))
            chunks.append(TrackChunk(device: "\(name)-early", fixes: [TrackFix(ts: from.adding(seconds: -0.001), point: p)]))
            chunks.append(TrackChunk(device: "\(name)-late", fixes: [TrackFix(ts: to.adding(seconds: 0.001), point: p)]))
        }
        try store.addTrackChunks(chunks)
        for (name, p) in edges {
            let radius = Geo.metres(place, p)
            XCTAssertEqual(radius, 50, accuracy: 0.1, name)
            let passes = try store.trackPasses(near: place, radiusM: radius, from: from, to: to)
            XCTAssertEqual(passes.map(\.device).filter { $0.hasPrefix(name) }.sorted(), ["\(name)-from", "\(name)-to"], name)
            XCTAssertEqual(passes.first { $0.device == "\(name)-from" }?.distanceM, radius, name)
            // A millimetre short of it is not enough.
            let short = try store.trackPasses(near: place, radiusM: radius - 0.001, from: from, to: to)
            XCTAssertEqual(short.filter { $0.device.hasPrefix(name) }, [], name)
        }
    }

    func testBoxBoundsRoundOutward() {
        XCTAssertEqual(SQLiteStore.microdegrees(22.5435495, .down), 22_543_549)
        XCTAssertEqual(SQLiteStore.microdegrees(22.5435495, .up), 22_543_550)
        XCTAssertEqual(SQLiteStore.microdegrees(-33.8688005, .down), -33_868_801)
        XCTAssertEqual(SQLiteStore.microdegrees(-33.8688005, .up), -33_868_800)
        XCTAssertEqual(SQLiteStore.microdegrees(114.25, .down), 114_250_000)
        XCTAssertEqual(SQLiteStore.microdegrees(114.25, .up), 114_250_000)
        let epoch = SQLiteStore.trackEpochS * 1000
        XCTAssertEqual(SQLiteStore.trackSeconds(Instant(millis: epoch + 1_250), .down), 1)
        XCTAssertEqual(SQLiteStore.trackSeconds(Instant(millis: epoch + 1_250), .up), 2)
        XCTAssertEqual(SQLiteStore.trackSeconds(Instant(millis: epoch + 2_000), .down), 2)
        XCTAssertEqual(SQLiteStore.trackSeconds(Instant(millis: epoch + 2_000), .up), 2)
        XCTAssertEqual(SQLiteStore.trackSeconds(Instant(millis: epoch - 1_250), .down), -2, "before 2020: floor, not truncation")
        XCTAssertEqual(SQLiteStore.trackSeconds(Instant(millis: epoch - 1_250), .up), -1)
        // Beyond what Int32 seconds hold (2088): clamped, so boxes still overlap.
        let far = RFC3339.parse("9999-12-31T23:59:59Z")!
        XCTAssertEqual(SQLiteStore.trackSeconds(far, .up), Int64(Int32.max))
        XCTAssertEqual(SQLiteStore.trackSeconds(Instant(millis: 0), .down), -1_577_836_800)
    }

    func testFarFutureTracksAreClampedNotLost() throws {
        let store = try SQLiteStore(path: path)
        let t = RFC3339.parse("2100-06-01T12:00:00Z")!
        try store.addTrackChunks([TrackChunk(device: "T-0001", fixes: [TrackFix(ts: t, point: place)])])
        XCTAssertEqual(try store.trackPasses(near: place, radiusM: 50, from: t.adding(seconds: -600), to: t).map(\.device), ["T-0001"])
    }

    // MARK: The fixes blob

    /// Fixes on whole 1e-7 degrees, which the blob keeps exactly.
    func fix(_ ms: Int64, _ lat: Int32, _ lon: Int32) -> TrackFix {
        TrackFix(ts: Instant(millis: ms), point: GeoPoint(lat: Double(lat) / 1e7, lon: Double(lon) / 1e7))
    }

    func testTheBlobRoundTripsWithNegativeDeltasAndOneFix() {
        let t = seen.millis
        let track = [
            fix(t, 225_431_000, 1_140_580_000),
            fix(t + 10_000, 225_430_123, 1_140_579_001),   // south-west
            fix(t + 9_500, 225_440_000, 1_140_590_000),    // time going back, north-east
            fix(t + 20_000, -225_431_000, -1_140_580_000), // across the equator and the meridian
            fix(t + 20_000, -225_431_000, -1_140_580_000), // standing still
        ]
        let blob = TrackBlob.encode(track)
        XCTAssertEqual(blob.first, 2, "version first")
        // Deltas as zigzag varints, 7 bits a byte: 10 000 ms takes 3 bytes, -877 units 2, -450 862 000 units 5.
        XCTAssertEqual(blob.count, 1 + 16 + (3 + 2 + 2) + (2 + 3 + 3) + (3 + 5 + 5) + (1 + 1 + 1))
        XCTAssertEqual(TrackBlob.decode(blob), track)
        let one = [fix(-1_000, -900_000_000, 1_800_000_000)]   // before 1970, the south pole, the antimeridian
        XCTAssertEqual(TrackBlob.encode(one).count, 17)
        XCTAssertEqual(TrackBlob.decode(TrackBlob.encode(one)), one)
        // Coordinates off the 1e-7 grid come back within 1e-7/2 degree (≤ 6 mm).
        let p = GeoPoint(lat: 22.543_123_456, lon: 114.057_987_654)
        let back = TrackBlob.decode(TrackBlob.encode([TrackFix(ts: seen, point: p)]))
        XCTAssertEqual(back.first?.point.lat ?? 0, p.lat, accuracy: 0.6e-7)
        XCTAssertEqual(back.first?.point.lon ?? 0, p.lon, accuracy: 0.6e-7)
        // Little-endian: the first fix's milliseconds are the bytes after the version.
        let le = TrackBlob.encode([fix(0x0102_0304_0506_0708, 1, 2)])
        XCTAssertEqual(Array(le[1...8]), [8, 7, 6, 5, 4, 3, 2, 1])
    }

    /// Stores written before version 2 keep their chunks: version 1 blobs,
    /// Int32 deltas, still decode.
    func testAVersion1BlobStillDecodes() {
        var v1: [UInt8] = [1]
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { v1.append(contentsOf: $0) } }
        put(seen.millis)
        put(Int32(225_431_000))
        put(Int32(1_140_580_000))
        put(Int32(10_000))
        put(Int32(-877))
        put(Int32(-999))
        XCTAssertEqual(TrackBlob.decode(v1), [fix(seen.millis, 225_431_000, 1_140_580_000),
                                              fix(seen.millis + 10_000, 225_430_123, 1_140_579_001)])
        XCTAssertEqual(TrackBlob.decode(Array(v1.dropLast())), [], "truncated")
    }

    func testACorruptBlobGivesNoFixes() {
        let good = TrackBlob.encode([fix(1, 2, 3), fix(4, 5, 6), fix(7, 8, 9)])
        XCTAssertEqual(TrackBlob.decode([]), [])
        XCTAssertEqual(TrackBlob.decode([1]), [])
        XCTAssertEqual(TrackBlob.decode([3] + good.dropFirst()), [], "unknown version")
        XCTAssertEqual(TrackBlob.decode(Array(good.dropLast())), [], "truncated")
        XCTAssertEqual(TrackBlob.decode(good + [0]), [], "trailing byte")
        XCTAssertEqual(TrackBlob.decode(Array(good.prefix(16))), [], "shorter than one fix")
        // Random bytes never trap; what is not a whole number of fixes is refused.
        var rng = SystemRandomNumberGenerator()
        for n in 0..<300 {
            var bytes = (0..<(n % 64)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if !bytes.isEmpty { bytes[0] = n.isMultiple(of: 2) ? 1 : n % 4 == 1 ? 2 : bytes[0] }
            let fixes = TrackBlob.decode(bytes)
            if !fixes.isEmpty, bytes[0] == 1 { XCTAssertEqual((bytes.count - 17) % 12, 0) }
        }
    }

    func testACorruptRowInTheIndexIsSkippedAndTheOthersStillFound() throws {
        let store = try SQLiteStore(path: path)
        let fixes = drive(from: (-30, 8), velocity: (10, 0), at: seen.adding(seconds: -120), fixes: 7)
        try store.addTrackChunks([TrackChunk(device: "T-0001", fixes: fixes), TrackChunk(device: "T-0002", fixes: fixes)])
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "UPDATE track_chunks SET fixes = ? WHERE device = 'T-0002'", arguments: [Data([1, 0xff, 0xfe])])
            // Not a blob at all.
            try db.execute(sql: """
                INSERT INTO track_chunks (min_lat, max_lat, min_lon, max_lon, min_t, max_t, device, fixes)
                SELECT min_lat, max_lat, min_lon, max_lon, min_t, max_t, 'T-0003', 'text' FROM track_chunks WHERE device = 'T-0001'
                """)
        }
        XCTAssertEqual(try lastTenMinutes(store).map(\.device), ["T-0001"])
    }

    func testEmptyChunksAreNotIndexed() throws {
        let store = try SQLiteStore(path: path)
        try store.addTrackChunks([TrackChunk(device: "T-0001", fixes: []), TrackChunk(device: "T-0002", fixes: [])])
        try store.addTrackChunks([])
        XCTAssertEqual(try store.trackChunkRows(), 0)
        XCTAssertEqual(try lastTenMinutes(store), [])
    }

    func testAFailingLookupFindsNoOneAndFailsTheBatchsCommit() throws {
        let store = try SQLiteStore(path: path)
        // The index is gone: the lookup the rules make cannot be answered.
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "DROP TABLE track_chunks") }
        XCTAssertEqual(store.passes(near: place, radiusM: 50, from: seen.adding(seconds: -600), to: seen), [])
        // The batch the rules ran on that "nothing known" is not committed.
        XCTAssertThrowsError(try store.commit(BatchOutcome(), clock: nil)) { error in
            XCTAssertEqual((error as? StoreError)?.code, .lookupFailed)
            XCTAssertTrue("\(error)".contains("a lookup for the rules failed"), "\(error)")
        }
        // The failure is reported once; the next batch commits.
        XCTAssertNoThrow(try store.commit(BatchOutcome(), clock: nil))
    }
}

extension SQLiteStore {
    /// Rows in the track index, read straight from the file.
    fileprivate func trackChunkRows() throws -> Int {
        try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM track_chunks") ?? 0 }
    }
}
