import Foundation
import XCTest

extension XCTestCase {
    /// A tmpfs of `size` (e.g. "512k") mounted on a fresh directory, and how to unmount it; the
    /// test is skipped where mounting is not possible (not root, no tmpfs).
    func smallFilesystem(_ size: String) throws -> (path: URL, unmount: () -> Void) {
        guard getuid() == 0 else { throw XCTSkip("mounting a small tmpfs needs root") }
        let mnt = FileManager.default.temporaryDirectory.appendingPathComponent("neon-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mnt, withIntermediateDirectories: true)
        guard try NeonBatchProcess.shell("mount -t tmpfs -o size=\(size) neon-full '\(mnt.path)'") == 0 else {
            try? FileManager.default.removeItem(at: mnt)
            throw XCTSkip("cannot mount a tmpfs here")
        }
        return (mnt, {
            _ = try? NeonBatchProcess.shell("umount '\(mnt.path)'")
            try? FileManager.default.removeItem(at: mnt)
        })
    }
}

/// Bytes of the device a file holds (allocated blocks, which can exceed its size).
func allocatedBytes(_ path: String) -> UInt64 {
    var st = stat()
    return stat(path, &st) == 0 ? UInt64(st.st_blocks) * 512 : 0
}
