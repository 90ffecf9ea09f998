import Foundation
import MuckwatchCore
import MuckwatchStore
import XCTest

/// A refused case move says why in words for the officer and in a code the
/// caller can match.
final class StoreCaseMoveTests: StoreTestCase {
    func testRefusedMovesCarryACodeAndTheMovesThatAreAllowedAreRecorded() throws {
        let store = try SQLiteStore(path: path)
        try accept(store, Topic.camera(), spillPayload, at: "2026-11-24T21:16:41+08:00")
        _ = try processNext(in: store, with: restoredPipeline(from: store, settings: testSettings()))
        let id = try XCTUnwrap(store.cases(utcOffsetSeconds: chinaOffset).first?.id)
        let now = instant("2026-11-25T09:00:00+08:00")

        func refusal(_ move: () throws -> Void) -> CaseMoveError.Code? {
            do { try move() } catch let error as CaseMoveError { return error.code } catch { XCTFail("\(error)") }
            return nil
        }
        XCTAssertEqual(refusal { try store.moveCase(id: id, to: .registered, by: "  ", note: "seen", at: now) }, .missingActor)
        XCTAssertEqual(refusal { try store.moveCase(id: id, to: .registered, by: "Li", note: "", at: now) }, .missingNote)
        XCTAssertEqual(refusal { try store.moveCase(id: "MW-19990101-0001", to: .registered, by: "Li", note: "seen", at: now) },
                       .noSuchCase)
        XCTAssertEqual(try store.moveCase(id: id, to: .registered, by: "Li", note: "seen on the camera", at: now).previous, .draft)
        XCTAssertEqual(refusal { try store.moveCase(id: id, to: .registered, by: "Li", note: "again", at: now) }, .notAllowed)
        XCTAssertEqual(try store.cases(utcOffsetSeconds: chinaOffset).first?.status, "registered")
    }
}
