import Foundation

/// Why a write to an output file fails or would fail, when the cause can be seen from outside
/// HDF5 (which reports only that a write failed): a full device or the file size limit (ulimit -f).
enum WriteFailure {
    /// The error for a failed write: the device or size-limit cause when there is one, else
    /// `what` ("cannot write rows ... of dataset 'relevance'").
    static func error(path: String, _ what: String) -> StorageError {
        if let cause = cause(path: path) { return StorageError("\(path): cannot write the output: \(cause)") }
        return StorageError("\(path): \(what)")
    }

    static func cause(path: String) -> String? {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
        if let limit = fileSizeLimit, size + 65536 >= limit {
            return "it reached the file size limit (ulimit -f, \(limit) bytes)"
        }
        if let free = freeBytes(forFileAt: path), free < 1 << 20 { return "no space left on the device" }
        return nil
    }

    /// RLIMIT_FSIZE in bytes, nil when unlimited.
    static var fileSizeLimit: UInt64? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return UInt64(limit.rlim_cur)
    }

    /// Bytes an unprivileged writer may still use on the device of the file's folder.
    static func freeBytes(forFileAt path: String) -> UInt64? {
        var fs = statvfs()
        let dir = (path as NSString).deletingLastPathComponent
        guard statvfs(dir.isEmpty ? "." : dir, &fs) == 0 else { return nil }
        return UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
    }
}

extension RelevanceOutput {
    /// Bytes of an output file with `rows` x `features` relevance of `element` and `blocks`
    /// progress entries, plus room for HDF5's metadata.
    public static func expectedBytes(rows: Int, features: Int, element: ElementType, blocks: Int) -> UInt64 {
        UInt64(rows) * UInt64(features * element.byteCount + 16) + UInt64(blocks) * 16 + (1 << 20)
    }

    /// Rank 0's check before creating the output: it must fit under the file size limit and on
    /// its device (counting the space a replaced file frees). Parallel HDF5 cannot recover from a
    /// write that fails on one rank only, so a job that cannot fit is refused up front; the space
    /// is then reserved as the output is created (RelevanceOutput.reserve). Where it cannot be, a
    /// device that fills up during the run is still reported (WriteFailure), leaving an incomplete file.
    public static func checkSpace(_ path: String, bytes: UInt64) throws {
        try checkFileSizeLimit(path, bytes: bytes)
        let existing = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
        if let free = WriteFailure.freeBytes(forFileAt: path), bytes > free + existing {
            throw StorageError("\(path): the output needs \(megabytes(bytes)) but its device has \(megabytes(free + existing)) free")
        }
    }

    /// The file size limit part of `checkSpace`, for every rank: limits can differ between
    /// nodes, and a write that fails on one rank only can leave the others waiting inside HDF5.
    public static func checkFileSizeLimit(_ path: String, bytes: UInt64) throws {
        if let limit = WriteFailure.fileSizeLimit, bytes > limit {
            throw StorageError("\(path): the output needs \(megabytes(bytes)) but the file size limit (ulimit -f) is \(megabytes(limit))")
        }
    }

    private static func megabytes(_ b: UInt64) -> String { String(format: "%.1f MB", Double(b) / 1e6) }
}
