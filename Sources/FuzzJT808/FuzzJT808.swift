// libFuzzer harness for the JT/T 808 decoder: every input goes through
// PayloadDecoder.items(kind: .jt808, ...) with extra true and false. The decoder
// must never trap (ASan/libFuzzer report any trap, overflow or bad access).
// An input that decodes to no item at all (neither a value nor an error)
// would be dropped silently: that traps too, so libFuzzer reports it.
// Built only with MUCKWATCH_FUZZ set; run with Fuzz/run.sh, seeds in Fuzz/corpus/jt808/.
import MuckwatchCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // A decoder per input: no state shared across calls, and nothing global to guard.
    let decoder = PayloadDecoder()
    let payload = Array(UnsafeBufferPointer(start: data, count: size))
    for extra in [true, false] {
        let items = decoder.items(kind: .jt808, payload: payload, topicDevice: "dev", extra: extra)
        precondition(!items.isEmpty, "the decoder gave neither a value nor an error")
    }
    return 0
}
