// libFuzzer harness for the HJ 212 decoder: every input goes through
// PayloadDecoder.items(kind: .hj212, ...) with extra true and false. The decoder
// must never trap (ASan/libFuzzer report any trap, overflow or bad access).
// Inputs that decode to no item at all are returned as -1 so libFuzzer keeps
// them out of the corpus (FuzzCorpusTests asserts every corpus input yields an
// item). Built only with MUCKWATCH_FUZZ set; run with Fuzz/run.sh, seeds in
// Fuzz/corpus/hj212/.
import MuckwatchCore

// One decoder for the whole run, as a pipeline has; libFuzzer calls this
// function from one thread only.
nonisolated(unsafe) let decoder = PayloadDecoder()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let payload = Array(UnsafeBufferPointer(start: data, count: size))
    let withExtra = decoder.items(kind: .hj212, payload: payload, topicDevice: "dev", extra: true)
    let plain = decoder.items(kind: .hj212, payload: payload, topicDevice: "dev", extra: false)
    return withExtra.isEmpty || plain.isEmpty ? -1 : 0
}
