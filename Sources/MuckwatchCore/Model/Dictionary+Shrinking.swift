extension Dictionary {
    /// Removes the matching entries and, when most of the table is then
    /// empty, gives its memory back (a Swift dictionary never shrinks by itself).
    mutating func removeAll(shrinking: Bool, where shouldRemove: (Element) -> Bool) {
        guard contains(where: shouldRemove) else { return }
        let kept = filter { !shouldRemove($0) }
        self = kept.count * 4 < capacity ? Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) }) : kept
    }
}
