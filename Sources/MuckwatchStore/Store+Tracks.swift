import GRDB
import MuckwatchCore

extension Store {
    /// Adds chunks to the track index (`track_chunks`, an R*Tree).
    static func insertTrackChunks(_ chunks: [TrackChunk], _ db: Database) throws {
        // Written by the track-index work: see the v5 migration.
    }
}
