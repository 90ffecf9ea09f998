/// The redelivery check's memory: the dedupe keys of the last `capacity`
/// messages in the inbox, with their inbox ids.
///
/// Kept in memory instead of as an SQLite index because an index over
/// uniformly random hash keys takes its inserts all over the B-tree: each burst
/// of 1000 messages dirtied hundreds of index pages, so the WAL written per
/// message grew with the store and ingest slowed round after round. The window
/// covers every redelivery a broker can make: it redelivers only messages it
/// has no PUBACK for, at most `max_inflight_messages`, and those are the last
/// ones the daemon stored (loaded back at start).
struct RecentArrivals {
    let capacity: Int
    private var idByKey: [Int64: Int64] = [:]
    private var inOrder: [(key: Int64, id: Int64)] = []
    private var oldest = 0   // index of the oldest entry once inOrder is full

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The newest inbox id stored under `key`, if it is within the window.
    func id(for key: Int64) -> Int64? { idByKey[key] }

    mutating func remember(key: Int64, id: Int64) {
        if inOrder.count < capacity {
            inOrder.append((key, id))
        } else {
            let evicted = inOrder[oldest]
            // A newer message under the same key keeps it remembered.
            if idByKey[evicted.key] == evicted.id { idByKey[evicted.key] = nil }
            inOrder[oldest] = (key, id)
            oldest = (oldest + 1) % capacity
        }
        idByKey[key] = id
    }
}
