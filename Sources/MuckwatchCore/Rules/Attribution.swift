/// Builds each truck's track into chunks for the track index, and keeps the
/// chunks the store has not committed yet so attribution sees them too.
struct TrackBuilder {
    /// A chunk closes after this long; the next starts at its last fix, so no
    /// segment between fixes is lost.
    let chunkS = 60.0
    let maxFixes = 32
    /// Fixes further apart start a new chunk rather than join by a straight line.
    let maxGapS = 300.0

    private(set) var open: [String: TrackChunk] = [:]
    /// Per open chunk: the inbox id of its first fix.
    private var openSince: [String: Int64] = [:]
    private var closed: [TrackChunk] = []
    private var late: [String: [TrackFix]] = [:]

    /// The oldest message whose fix is in a chunk not yet handed over: where
    /// a restarted pipeline rebuilds its open chunks from.
    var resumeInboxId: Int64? { openSince.values.min() }

    mutating func add(_ t: TruckTelemetry, current: Bool, inboxId: Int64) {
        let fix = TrackFix(ts: t.ts, point: GeoPoint(lat: t.lat, lon: t.lon))
        guard current else {
            // A late (buffered) fix: history, in a chunk of its own batch.
            if let last = open[t.device]?.fixes.last, last.ts == t.ts { return }
            late[t.device, default: []].append(fix)
            return
        }
        guard var chunk = open[t.device], let first = chunk.fixes.first, let last = chunk.fixes.last else {
            open[t.device] = TrackChunk(device: t.device, fixes: [fix])
            openSince[t.device] = inboxId
            return
        }
        if t.ts.seconds(since: last.ts) > maxGapS {
            if chunk.fixes.count > 1 || closed.last?.device != t.device { closed.append(chunk) }
            open[t.device] = TrackChunk(device: t.device, fixes: [fix])
            openSince[t.device] = inboxId
            return
        }
        chunk.fixes.append(fix)
        if t.ts.seconds(since: first.ts) >= chunkS || chunk.fixes.count >= maxFixes {
            closed.append(chunk)
            chunk.fixes = [fix]
            openSince[t.device] = inboxId
        }
        open[t.device] = chunk
    }

    /// The open chunks, for the pipeline's snapshot (taken after `takeCompleted`).
    struct Snapshot: Codable {
        var open: [String: TrackChunk]
        var openSince: [String: Int64]
    }

    var snapshot: Snapshot { Snapshot(open: open, openSince: openSince) }

    mutating func restore(_ snapshot: Snapshot) {
        open = snapshot.open
        openSince = snapshot.openSince
        closed = []
        late = [:]
    }

    /// The chunks completed since the last call, for the store to index.
    mutating func takeCompleted() -> [TrackChunk] {
        var out = closed
        for device in late.keys.sorted() {
            // Split where the late fixes are far apart in time, as `add` does.
            var run: [TrackFix] = []
            for fix in late[device]!.sorted(by: { $0.ts < $1.ts }) {
                if let last = run.last, fix.ts.seconds(since: last.ts) > maxGapS {
                    out.append(TrackChunk(device: device, fixes: run))
                    run = []
                }
                run.append(fix)
            }
            if !run.isEmpty { out.append(TrackChunk(device: device, fixes: run)) }
        }
        closed.removeAll(keepingCapacity: true)
        late.removeAll(keepingCapacity: true)
        return out
    }

    /// Closes the open chunks of trucks last heard of before `horizon`, as a
    /// fix after the gap would (the idle time is longer than `maxGapS`).
    mutating func forget(idleSince horizon: Instant) {
        let idle = open.filter { ($0.value.fixes.last?.ts ?? horizon) < horizon }
        guard !idle.isEmpty else { return }
        for device in idle.keys.sorted() {
            let chunk = idle[device]!
            if chunk.fixes.count > 1 || closed.last?.device != device { closed.append(chunk) }
        }
        open.removeAll(shrinking: true) { idle[$0.key] != nil }
        openSince.removeAll(shrinking: true) { idle[$0.key] != nil }
    }

    var devicesHeld: Int { open.count }

    /// Passes near a point in the chunks not yet handed to the store.
    func uncommittedPasses(near p: GeoPoint, radiusM: Double, from: Instant, to: Instant) -> [TrackPass] {
        var passes: [TrackPass] = []
        for chunk in open.values { if let pass = chunk.closestApproach(to: p, radiusM: radiusM, from: from, to: to) { passes.append(pass) } }
        passes += closed.passes(near: p, radiusM: radiusM, from: from, to: to)
        for (device, fixes) in late {
            let chunk = TrackChunk(device: device, fixes: fixes.sorted { $0.ts < $1.ts })
            if let pass = chunk.closestApproach(to: p, radiusM: radiusM, from: from, to: to) { passes.append(pass) }
        }
        return passes
    }
}

/// Attribution (§6): who spilled what a camera or drone saw. The trucks
/// whose tracks passed within the radius in the look-back before the event;
/// the nearest is the suspected party, the others candidates.
enum Attribution {
    static func attribute(_ signal: inout Signal, event e: SiteEvent, settings: RuleSettings.Attribution,
                          registry: Registry, committed: TrackHistory, builder: TrackBuilder, offsetSeconds: Int) {
        // A plate the registry knows settles it.
        if signal.subject.kind == "truck", registry.truck(device: signal.subject.id) != nil { return }
        let place = e.lat.flatMap { lat in e.lon.map { GeoPoint(lat: lat, lon: $0) } }
            ?? (e.sourceKind == .camera ? registry.camera(e.source)?.point : nil)
        guard let place else { return }
        let from = e.ts.adding(seconds: -settings.lookbackS)
        let passes = TrackPass.closestPerDevice(
            committed.passes(near: place, radiusM: settings.radiusM, from: from, to: e.ts)
                + builder.uncommittedPasses(near: place, radiusM: settings.radiusM, from: from, to: e.ts))
        guard let best = passes.first else {
            signal.summary += "; no truck's track passed within \(number(settings.radiusM, decimals: 0)) m in the \(number(settings.lookbackS / 60)) min before"
            return
        }
        let readPlate = signal.subject.kind == "truck" ? signal.subject.plate : nil
        signal.subject = Subject.truck(device: best.device, plate: nil, registry: registry)
        signal.lat = signal.lat ?? place.lat
        signal.lon = signal.lon ?? place.lon
        signal.candidates = passes.dropFirst().map { p in
            let t = registry.truck(device: p.device)
            return CaseCandidate(device: p.device, plate: t?.plate, company: t?.company, distanceM: p.distanceM,
                                 passedAt: p.ts, point: p.point)
        }
        var note = "; nearest track \(signal.subject.displayName), \(number(best.distanceM, decimals: 0)) m at \(RFC3339.format(best.ts, offsetSeconds: offsetSeconds))"
        if !signal.candidates.isEmpty {
            note += ", \(signal.candidates.count) other candidate\(signal.candidates.count == 1 ? "" : "s")"
        }
        if let readPlate { note += "; the camera read \(readPlate), which the registry does not know" }
        signal.summary += note
    }
}
