import MuckwatchCore

/// Messages just committed to the inbox, kept in memory for the pipeline so
/// that it need not read back what ingest (or replay) has just written.
///
/// The inbox stays the pipeline's source of truth: the handoff only ever
/// offers a run of messages that continues exactly where the pipeline
/// stopped; anything else (after a restart, after the handoff overflowed
/// while the rules lagged) is read from the store as before.
struct Handoff {
    let capacity: Int
    private var messages: [InboxMessage] = []
    private var head = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    private var count: Int { messages.count - head }

    /// Keeps committed messages (ascending ids) while there is room; once a
    /// burst does not fit, the pipeline reads that stretch from the store.
    mutating func append(_ committed: [InboxMessage]) {
        guard !committed.isEmpty, count + committed.count <= capacity else { return }
        if head > 0 && head >= messages.count / 2 {
            messages.removeFirst(head)
            head = 0
        }
        messages.append(contentsOf: committed)
    }

    /// Up to `limit` messages with ids `after + 1, after + 2, ...`, or nil if
    /// the handoff does not hold the message right after `after`.
    mutating func take(after: Int64, limit: Int) -> [InboxMessage]? {
        while head < messages.count && messages[head].id <= after { head += 1 }
        guard head < messages.count, messages[head].id == after + 1 else { return nil }
        var end = head + 1
        while end < messages.count && end - head < limit && messages[end].id == messages[end - 1].id + 1 { end += 1 }
        defer { head = end }
        return Array(messages[head..<end])
    }
}
