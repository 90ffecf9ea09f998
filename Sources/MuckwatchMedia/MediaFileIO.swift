import CFFmpeg
import Crypto
import Foundation
import MuckwatchCore
#if canImport(Glibc)
import Glibc
#endif

/// libavformat reads a local file through this `AVIOContext`, over the one
/// descriptor `MediaLocation` opened, and the file's SHA-256 is taken from
/// the same bytes: while the demuxer reads forward, each block it reads
/// extends the hash; what it skipped or never reached is hashed at the end
/// with `pread` on the same descriptor. The demuxer reads no further than the
/// size the file had when it was opened, and a file written to meanwhile is
/// refused at the end rather than given a hash of other bytes.
///
/// The C callbacks find this object through their opaque pointer; it lives
/// as long as the context, which it frees in `deinit`. Use from one thread.
final class MediaFileIO {
    let file: MediaFile
    private(set) var context: UnsafeMutablePointer<AVIOContext>?
    /// Where the demuxer reads next.
    private var position: Int64 = 0
    private var hasher = SHA256()
    /// The hash covers bytes [0, hashedThrough).
    private var hashedThrough: Int64 = 0
    private var digest: String?

    private static let bufferSize = 1 << 16

    init(_ file: MediaFile) throws(MediaError) {
        self.file = file
        guard let buffer = av_malloc(Self.bufferSize) else { throw MediaError(input: file.path, reason: "out of memory") }
        context = avio_alloc_context(buffer.assumingMemoryBound(to: UInt8.self), Int32(Self.bufferSize), 0,
                                     Unmanaged.passUnretained(self).toOpaque(), readFileCallback, nil, seekFileCallback)
        if context == nil {
            av_free(buffer)
            throw MediaError(input: file.path, reason: "out of memory")
        }
    }

    deinit {
        // The context may have replaced the buffer it was given: free its own.
        if let context { av_freep(&context.pointee.buffer) }
        avio_context_free(&context)
    }

    fileprivate func read(into buffer: UnsafeMutablePointer<UInt8>, count: Int) -> Int32 {
        let wanted = min(Int64(count), file.size - position)
        guard wanted > 0 else { return cffmpeg_error_eof() }
        guard let n = file.read(into: buffer, count: Int(wanted), at: position) else { return -errno }
        // Shorter than when it was opened: the end check reports it.
        guard n > 0 else { return cffmpeg_error_eof() }
        if position <= hashedThrough, position + Int64(n) > hashedThrough {
            let skip = Int(hashedThrough - position)
            hasher.update(bufferPointer: UnsafeRawBufferPointer(start: buffer + skip, count: n - skip))
            hashedThrough = position + Int64(n)
        }
        position += Int64(n)
        return Int32(n)
    }

    fileprivate func seek(_ offset: Int64, _ whence: Int32) -> Int64 {
        if whence & AVSEEK_SIZE != 0 { return file.size }
        let target: Int64
        switch whence & ~AVSEEK_FORCE {
        case SEEK_SET: target = offset
        case SEEK_CUR: target = position + offset
        case SEEK_END: target = file.size + offset
        default: return Int64(-EINVAL)
        }
        guard target >= 0 else { return Int64(-EINVAL) }
        position = target
        return target
    }

    /// The SHA-256 of the file's bytes as opened: the hash of what the
    /// demuxer read, completed from the same descriptor.
    func sha256() throws(MediaError) -> String {
        if let digest { return digest }
        let block = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: block, alignment: 16)
        defer { buffer.deallocate() }
        while hashedThrough < file.size {
            guard let n = file.read(into: buffer, count: Int(min(Int64(block), file.size - hashedThrough)), at: hashedThrough) else {
                throw MediaError(input: file.path, reason: "cannot be read to hash it: \(String(cString: strerror(errno)))")
            }
            guard n > 0 else { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(start: buffer, count: n))
            hashedThrough += Int64(n)
        }
        if let change = file.changedSinceOpened() { throw MediaError(input: file.path, reason: change) }
        guard hashedThrough == file.size else {
            throw MediaError(input: file.path, reason: "changed while it was read: it ended at byte \(hashedThrough) of \(file.size)")
        }
        let hex = Hex.string(hasher.finalize())
        digest = hex
        return hex
    }
}

@available(*, unavailable)
extension MediaFileIO: Sendable {}

private func readFileCallback(_ opaque: UnsafeMutableRawPointer?, _ buffer: UnsafeMutablePointer<UInt8>?, _ size: Int32) -> Int32 {
    guard let opaque, let buffer, size > 0 else { return cffmpeg_error_eof() }
    return Unmanaged<MediaFileIO>.fromOpaque(opaque).takeUnretainedValue().read(into: buffer, count: Int(size))
}

private func seekFileCallback(_ opaque: UnsafeMutableRawPointer?, _ offset: Int64, _ whence: Int32) -> Int64 {
    guard let opaque else { return Int64(-EINVAL) }
    return Unmanaged<MediaFileIO>.fromOpaque(opaque).takeUnretainedValue().seek(offset, whence)
}

/// libavformat's `io_open` for a local file's context: a file read through
/// its descriptor never opens another input (references, playlists).
func refuseNestedOpen(_ s: UnsafeMutablePointer<AVFormatContext>?, _ pb: UnsafeMutablePointer<UnsafeMutablePointer<AVIOContext>?>?,
                      _ url: UnsafePointer<CChar>?, _ flags: Int32,
                      _ options: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    -EPERM
}
