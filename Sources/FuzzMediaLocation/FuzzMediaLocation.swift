// libFuzzer harness for the media-location resolver: every input is a path
// or URL given to MediaLocation.open, as a message's clip URL is, against a
// media root laid out with files, folders, and symlinks pointing inside and
// outside it. The resolver must refuse the input or open a regular file
// inside the root: the open descriptor's device and inode must be one of the
// root's own files, never the outside file, and a sidecar it reads beside it
// never the outside SRT. A network URL it passes on must be one libavformat
// also reads as an allowed protocol, never as a local file. Anything else
// traps, so libFuzzer reports it.
// Built only with MUCKWATCH_FUZZ set; run with Fuzz/run.sh, seeds in Fuzz/corpus/media-location/.
import CFFmpeg
import Foundation
import MuckwatchMedia
#if canImport(Glibc)
import Glibc
#endif

/// The layout, made once per process at a fixed place so that the corpus's
/// absolute paths mean the same thing in every run. The fuzzer's working
/// folder is the root, so relative inputs resolve there.
struct Fixture: Sendable {
    struct Identity: Hashable, Sendable {
        var device: UInt64
        var inode: UInt64
    }

    static let base = "/tmp/muckwatch-fuzz-media-location"
    let root = "\(Fixture.base)/root"
    let outside = "\(Fixture.base)/outside"
    let options: DemuxerOptions
    /// Every regular file under the root.
    let inside: Set<Identity>
    let outsideFiles: Set<Identity>
    let secretSRT: [UInt8] = Array("1\n00:00:00,000 --> 00:00:01,000\n[latitude: 1.0] [longitude: 2.0] OUTSIDE\n".utf8)

    init() {
        _ = try? FileManager.default.removeItem(atPath: Fixture.base)
        let fm = FileManager.default
        for dir in [root, "\(root)/dir", "\(root)/dir/deeper", "\(root)/empty-dir", outside] {
            try! fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        func write(_ path: String, _ text: String) { precondition(fm.createFile(atPath: path, contents: Data(text.utf8))) }
        write("\(root)/a.mp4", "inside a")
        write("\(root)/a.SRT", "1\n00:00:00,000 --> 00:00:01,000\n[latitude: 3.0] [longitude: 4.0] inside\n")
        write("\(root)/dir/b.mp4", "inside b")
        write("\(root)/dir/deeper/c.mp4", "inside c")
        write("\(root)/name with spaces%20.mp4", "inside d")
        write("\(outside)/secret.mp4", "OUTSIDE")
        precondition(fm.createFile(atPath: "\(outside)/secret.SRT", contents: Data(secretSRT)))
        precondition(fm.createFile(atPath: "\(outside)/b.SRT", contents: Data(secretSRT)))
        let links: [(String, String)] = [
            ("a.mp4", "\(root)/link-in"),
            ("../a.mp4", "\(root)/dir/up-in"),
            ("deeper", "\(root)/dir/deeper-link"),
            ("../outside/secret.mp4", "\(root)/link-out"),
            ("\(outside)/secret.mp4", "\(root)/abs-out"),
            ("../outside", "\(root)/dir-out"),
            ("../../outside", "\(root)/dir/dir-out"),
            ("\(outside)/b.SRT", "\(root)/dir/b.SRT"),
            ("../outside/secret.SRT", "\(root)/link-in.SRT"),
            ("loop", "\(root)/loop"),
            ("/", "\(root)/slash"),
            ("/proc/self/fd/0", "\(root)/magic"),
            ("root", "\(Fixture.base)/root-link"),
            ("\(root)/link-out", "\(outside)/back-in-then-out"),
            ("\(root)/a.mp4", "\(outside)/into-root"),
        ]
        for (target, link) in links { precondition(symlink(target, link) == 0, "symlink \(link)") }
        precondition(mkfifo("\(root)/fifo", 0o600) == 0)
        precondition(chdir(root) == 0)

        func identity(_ path: String) -> Identity {
            var info = stat()
            precondition(lstat(path, &info) == 0)
            return Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        }
        var inside = Set<Identity>()
        let walker = fm.enumerator(atPath: root)!
        while let relative = walker.nextObject() as? String {
            var info = stat()
            if lstat("\(root)/\(relative)", &info) == 0, info.st_mode & S_IFMT == S_IFREG {
                inside.insert(identity("\(root)/\(relative)"))
            }
        }
        self.inside = inside
        outsideFiles = [identity("\(outside)/secret.mp4"), identity("\(outside)/secret.SRT"), identity("\(outside)/b.SRT")]
        var options = DemuxerOptions()
        options.mediaRoots = [root]
        options.allow("rtsp")
        options.allow("http")
        self.options = options
    }
}

let fixture = Fixture()
let rootPrefix = fixture.root + "/"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let opened: MediaInput
    do {
        opened = try MediaLocation.open(input, options: fixture.options)
    } catch {
        precondition(!error.reason.isEmpty, "refused without a reason")
        return 0
    }
    switch opened {
    case .file(let file):
        let id = file.identity
        let identity = Fixture.Identity(device: id.device, inode: id.inode)
        precondition(!fixture.outsideFiles.contains(identity), "opened the file outside the root for \(input.debugDescription)")
        precondition(fixture.inside.contains(identity), "opened a file that is not one of the root's for \(input.debugDescription)")
        precondition(file.path.hasPrefix(rootPrefix), "reports \(file.path) for \(input.debugDescription)")
        if let sidecar = file.sidecar(extensions: ["SRT", "srt"]) {
            if let bytes = sidecar.bytes {
                precondition(bytes != fixture.secretSRT, "read the outside SRT as a sidecar of \(input.debugDescription)")
            } else {
                precondition(!(sidecar.problem ?? "").isEmpty, "a sidecar refused without a reason")
            }
        }
    case .network(let url):
        // libavformat decides for itself which protocol a URL names: it must
        // be an allowed one, and never `file`, which would open a path
        // without the walk above.
        if let name = avio_find_protocol_name(url).map({ String(cString: $0) }) {
            precondition(name != "file", "\(input.debugDescription) passed on as a URL that libavformat opens as a file")
            precondition(fixture.options.protocols.contains(name), "\(input.debugDescription) opens protocol \(name)")
        }
    }
    return 0
}
