/// A confirmed entry into or exit from a site's fence.
public struct FenceCrossing: Sendable, Equatable {
    public var site: String
    public var kind: SiteKind
    public var entered: Bool
    /// When the truck crossed (interpolated along its track), not when the
    /// crossing was confirmed.
    public var at: Instant
    public var point: GeoPoint
    /// For an exit from a construction site: seconds spent in its wash zones
    /// since it entered; nil if the site has no wash zone, or if the truck was
    /// first seen inside (its visit began before its track, or before a restart).
    public var washedS: Double?
    /// For an exit: how long the truck was inside, if it was seen entering.
    public var visitS: Double?
}

/// What the truck rules see of one tracker fix: the fix, whether it is the
/// truck's current state, and where that puts the truck.
public struct TruckView: Sendable {
    public var telemetry: TruckTelemetry
    /// False for a late point (a buffered "blind-area" fix older than the
    /// latest) or a repeat of the latest time: it goes into the track history
    /// but changes no state and raises nothing.
    public var isCurrent: Bool
    /// The truck's previous current fix.
    public var previous: TruckTelemetry?
    /// The kinds of site the truck is confirmed inside, after this fix.
    public var insideKinds: Set<SiteKind>
    public var crossings: [FenceCrossing]

    public var insideAnySite: Bool { !insideKinds.isEmpty }
    public var insideDisposal: Bool { insideKinds.contains(.disposal) }
}

/// The registry's fences, prepared for the per-fix tests.
struct FenceSet: Sendable {
    struct Fence: Sendable {
        var site: Site
        /// What counts as inside: the site's polygons, and for a construction
        /// site its wash zones too (a truck at the gate's wash zone has not
        /// left yet, wherever the zone is drawn).
        var area: [Polygon]
        var minLat, maxLat, minLon, maxLon: Double
        /// For a construction site: its wash zones' indices.
        var washZones: [Int]
        /// For a wash zone: its construction site's index.
        var parent: Int?
    }

    let fences: [Fence]

    init(_ registry: Registry) {
        var fences: [Fence] = registry.sites.map { s in
            Fence(site: s, area: s.polygons, minLat: 0, maxLat: 0, minLon: 0, maxLon: 0, washZones: [], parent: nil)
        }
        for i in fences.indices where fences[i].site.kind == .wash {
            if let parent = fences[i].site.parent, let j = fences.firstIndex(where: { $0.site.id == parent }) {
                fences[i].parent = j
                fences[j].washZones.append(i)
                fences[j].area += fences[i].site.polygons
            }
        }
        for i in fences.indices {
            var b = (minLat: Double.infinity, maxLat: -Double.infinity, minLon: Double.infinity, maxLon: -Double.infinity)
            for p in fences[i].area {
                let pb = p.bounds
                b = (min(b.minLat, pb.minLat), max(b.maxLat, pb.maxLat), min(b.minLon, pb.minLon), max(b.maxLon, pb.maxLon))
            }
            (fences[i].minLat, fences[i].maxLat, fences[i].minLon, fences[i].maxLon) = b
        }
        self.fences = fences
    }

    func contains(_ i: Int, _ p: GeoPoint) -> Bool {
        let f = fences[i]
        guard p.lat >= f.minLat, p.lat <= f.maxLat, p.lon >= f.minLon, p.lon <= f.maxLon else { return false }
        return f.area.contains { $0.contains(p) }
    }

    /// The parts of segment a→b inside fence `i`, as fractions along it.
    func inside(_ i: Int, from a: GeoPoint, to b: GeoPoint) -> [ClosedRange<Double>] {
        let f = fences[i]
        // A truck standing still: its segment is all inside or all outside.
        if a == b { return contains(i, a) ? [0...1] : [] }
        guard max(a.lat, b.lat) >= f.minLat, min(a.lat, b.lat) <= f.maxLat,
              max(a.lon, b.lon) >= f.minLon, min(a.lon, b.lon) <= f.maxLon else { return [] }
        if f.area.count == 1 { return f.area[0].insideIntervals(from: a, to: b) }
        // Several polygons: their union.
        var merged: [ClosedRange<Double>] = []
        for r in f.area.flatMap({ $0.insideIntervals(from: a, to: b) }).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            merged.appendMerging(r)
        }
        return merged
    }
}

/// Each truck's current state against the fences: which sites it is in, with
/// a dwell before an entry or exit counts, tested along the segment between
/// fixes rather than at the fixes alone.
public struct TruckTracker {
    struct FenceState: Codable {
        var inside = false
        /// Since when the truck has been on the other side, not yet long enough.
        var pendingSince: Instant?
        var pendingPoint: GeoPoint?
        var enteredAt: Instant?

        /// Outside and not about to enter: the state of every fence far away.
        var isIdle: Bool { !inside && pendingSince == nil }
    }

    struct Truck: Codable {
        var last: TruckTelemetry
        /// Only the fences the truck is inside or crossing; every other one is idle.
        var fences: [Int: FenceState] = [:]
        /// Time in each wash zone, kept since the oldest visit still open.
        var washing: [Wash] = []
    }

    struct Wash: Codable {
        var zone: Int
        var from: Instant
        var to: Instant
    }

    /// Every truck's state, for the pipeline's snapshot, with the fences'
    /// site ids: a snapshot read under a changed registry finds its fences by id.
    struct Snapshot: Codable {
        var fenceSites: [String]
        var trucks: [String: Truck]
    }

    var snapshot: Snapshot { Snapshot(fenceSites: fenceSet.fences.map(\.site.id), trucks: trucks) }

    mutating func restore(_ snapshot: Snapshot) {
        var index: [String: Int] = [:]
        for (i, f) in fenceSet.fences.enumerated() { index[f.site.id] = i }
        let moved = snapshot.fenceSites.map { index[$0] }
        trucks = snapshot.trucks.mapValues { truck in
            var t = truck
            t.fences = [:]
            for (old, state) in truck.fences {
                if old < moved.count, let new = moved[old] { t.fences[new] = state }
            }
            t.washing = truck.washing.compactMap { w in
                guard w.zone < moved.count, let zone = moved[w.zone] else { return nil }
                return Wash(zone: zone, from: w.from, to: w.to)
            }
            return t
        }
    }

    let fenceSet: FenceSet
    let dwellS: Double
    /// Fixes further apart than this are not interpolated: after a long gap
    /// the straight line between them says nothing about where the truck was.
    let maxInterpolationS: Double = 120
    private(set) var trucks: [String: Truck] = [:]
    /// Fences by grid cell (`cellDegrees` square), so a fix is tested only
    /// against the fences near it: a city has hundreds of sites.
    private let grid: [Int64: [Int]]
    private let cellDegrees = 0.01

    public init(registry: Registry, dwellS: Double) {
        fenceSet = FenceSet(registry)
        self.dwellS = dwellS
        var grid: [Int64: [Int]] = [:]
        for (i, f) in fenceSet.fences.enumerated() where f.minLat <= f.maxLat {
            for key in Self.cells(minLat: f.minLat, maxLat: f.maxLat, minLon: f.minLon, maxLon: f.maxLon, cellDegrees) {
                grid[key, default: []].append(i)
            }
        }
        self.grid = grid
    }

    private static func cells(minLat: Double, maxLat: Double, minLon: Double, maxLon: Double, _ size: Double) -> [Int64] {
        let la0 = Int64((minLat / size).rounded(.down)), la1 = Int64((maxLat / size).rounded(.down))
        let lo0 = Int64((minLon / size).rounded(.down)), lo1 = Int64((maxLon / size).rounded(.down))
        guard la1 - la0 < 1000, lo1 - lo0 < 1000 else { return [] }  // a segment across half the country: no interpolation
        var out: [Int64] = []
        for la in la0...la1 { for lo in lo0...lo1 { out.append(la &* 100_000 &+ lo) } }
        return out
    }

    /// The fences whose boxes the segment's box touches.
    private func nearby(_ a: GeoPoint, _ b: GeoPoint) -> Set<Int> {
        var out = Set<Int>()
        for key in Self.cells(minLat: min(a.lat, b.lat), maxLat: max(a.lat, b.lat), minLon: min(a.lon, b.lon),
                              maxLon: max(a.lon, b.lon), cellDegrees) {
            if let fences = grid[key] { out.formUnion(fences) }
        }
        return out
    }

    var lastFixes: some Collection<TruckTelemetry> { trucks.values.lazy.map(\.last) }

    var count: Int { trucks.count }

    /// Whether the truck's state is in memory.
    func knows(_ device: String) -> Bool { trucks[device] != nil }

    /// Drops trucks last heard of before `horizon`: their state comes back
    /// from the store's fixes when they report again (see `Pipeline`).
    mutating func forget(idleSince horizon: Instant) { trucks.removeAll(shrinking: true) { $0.value.last.ts < horizon } }

    public mutating func observe(_ t: TruckTelemetry) -> TruckView {
        let b = GeoPoint(lat: t.lat, lon: t.lon)
        // Taken out of the dictionary while it changes, so its arrays are not copied.
        guard var truck = trucks.removeValue(forKey: t.device) else {
            if t.late { return TruckView(telemetry: t, isCurrent: false, previous: nil, insideKinds: [], crossings: []) }
            var truck = Truck(last: t)
            // First seen inside: when it entered (and whether it washed) is unknown.
            for i in nearby(b, b) where fenceSet.contains(i, b) { truck.fences[i] = FenceState(inside: true) }
            trucks[t.device] = truck
            return TruckView(telemetry: t, isCurrent: true, previous: nil, insideKinds: kinds(truck), crossings: [])
        }
        defer { trucks[t.device] = truck }
        let previous = truck.last
        // Older points, repeats, and buffered points sent late are history only.
        guard !t.late, t.ts > previous.ts else {
            return TruckView(telemetry: t, isCurrent: false, previous: previous, insideKinds: kinds(truck), crossings: [])
        }
        let a = GeoPoint(lat: previous.lat, lon: previous.lon)
        let span = t.ts.seconds(since: previous.ts)
        var crossings: [FenceCrossing] = []
        let candidates = nearby(span <= maxInterpolationS ? a : b, b).union(truck.fences.keys)
        for i in candidates.sorted() {
            var state = truck.fences[i] ?? FenceState()
            let intervals: [ClosedRange<Double>]
            if span <= maxInterpolationS {
                intervals = fenceSet.inside(i, from: a, to: b)
            } else {
                intervals = fenceSet.contains(i, b) ? [1...1] : []
            }
            if intervals.isEmpty && state.isIdle { continue }
            // The segment as alternating pieces outside/inside.
            var pieces: [(inside: Bool, from: Double, to: Double)] = []
            var f = 0.0
            for r in intervals {
                if r.lowerBound > f { pieces.append((false, f, r.lowerBound)) }
                pieces.append((true, r.lowerBound, r.upperBound))
                f = r.upperBound
            }
            if f < 1 || pieces.isEmpty { pieces.append((false, f, 1)) }
            let fence = fenceSet.fences[i]
            for piece in pieces {
                let from = TrackChunk.interpolate(TrackFix(ts: previous.ts, point: a), TrackFix(ts: t.ts, point: b), piece.from)
                let to = previous.ts.adding(seconds: span * piece.to)
                if piece.inside && fence.site.kind == .wash && span <= maxInterpolationS && to > from.ts {
                    // A truck standing in the zone continues its last stretch:
                    // one entry per stay, not one per fix (memory, snapshots).
                    if let last = truck.washing.last, last.zone == i, last.to == from.ts {
                        truck.washing[truck.washing.count - 1].to = to
                    } else {
                        truck.washing.append(Wash(zone: i, from: from.ts, to: to))
                    }
                }
                if piece.inside == state.inside {
                    state.pendingSince = nil
                    continue
                }
                if state.pendingSince == nil {
                    state.pendingSince = from.ts
                    state.pendingPoint = from.point
                }
                guard to.seconds(since: state.pendingSince!) >= dwellS else { continue }
                let at = state.pendingSince!
                var crossing = FenceCrossing(site: fence.site.id, kind: fence.site.kind, entered: piece.inside,
                                             at: at, point: state.pendingPoint!, washedS: nil)
                state.inside = piece.inside
                state.pendingSince = nil
                if piece.inside {
                    state.enteredAt = at
                } else if let since = state.enteredAt {
                    crossing.visitS = at.seconds(since: since)
                }
                if !piece.inside, fence.site.kind == .construction, !fence.washZones.isEmpty, let since = state.enteredAt {
                    crossing.washedS = truck.washing.reduce(0) { sum, w in
                        guard fence.washZones.contains(w.zone), w.to > since else { return sum }
                        return sum + w.to.seconds(since: max(w.from, since))
                    }
                }
                if !piece.inside { state.enteredAt = nil }
                crossings.append(crossing)
            }
            truck.fences[i] = state.isIdle ? nil : state
        }
        truck.last = t
        // Wash time older than every open visit can no longer count.
        if !truck.washing.isEmpty {
            let oldest = truck.fences.compactMap { i, s in fenceSet.fences[i].site.kind == .construction ? s.enteredAt : nil }.min()
            truck.washing.removeAll { w in
                if let oldest { return w.to < oldest }
                return t.ts.seconds(since: w.to) > 3600
            }
        }
        return TruckView(telemetry: t, isCurrent: true, previous: previous, insideKinds: kinds(truck), crossings: crossings)
    }

    private func kinds(_ truck: Truck) -> Set<SiteKind> {
        var out = Set<SiteKind>()
        for (i, s) in truck.fences where s.inside { out.insert(fenceSet.fences[i].site.kind) }
        return out
    }
}
