import CHDF5
import Distributed
import Foundation

/// The output file of an explanation job (layout in docs/file-formats.md):
///   relevance (N x d, the compute precision), assignment (N, int64), logit (N, float64: f_c),
///   progress/block_done (blocks, int64: 1 once a block's rows are written) and
///   progress/block_conservation (blocks, float64: max |sum_i R_i - f_c| of the block),
///   root attributes: status ("incomplete" until everything is written, then "complete"),
///   blocks, blocks_done, beta, the resume key ("resume_key:NAME" = value) and provenance.
/// Created or reopened, written and closed collectively by all ranks. Its space is reserved
/// when it is created or reopened (`reserve`), so that a device filling up during the run
/// cannot fail a write on one rank only.
public final class RelevanceOutput {
    public static let relevanceDataset = "relevance"
    public static let assignmentDataset = "assignment"
    public static let logitDataset = "logit"
    /// Tensor inputs: relevance summed over positions, (N[, T], C) (the paper's explanation in R^C).
    public static let channelsDataset = "relevance_channels"
    public static let blockDoneDataset = "progress/block_done"
    public static let blockConservationDataset = "progress/block_conservation"
    static let keyPrefix = "resume_key:"

    private let file: H5WriteFile
    private let isWriter: Bool      // rank 0 writes the per-block progress entries
    private let hasChannels: Bool
    /// Bytes rank 0 reserved for the file (0: none); released beyond the file's end when it closes.
    private let reserved: UInt64
    public var path: String { file.path }
    /// Row writes done as independent MPI-IO (every write to an uncompressed output).
    public var independentWrites: Int { file.independentWrites }
    /// Collective writes (compressed outputs) that fell back to independent I/O (0 expected).
    public var collectiveFallbacks: Int { file.collectiveFallbacks }

    /// Rank 0's check before anything is created: the output must not be the input or the
    /// model, and may replace an existing file only with output.overwrite.
    public static func checkTarget(_ path: String, overwrite: Bool, resume: Bool = false,
                                   inputPath: String, modelPath: String) throws {
        let canonical = { (p: String) in URL(fileURLWithPath: p).resolvingSymlinksInPath().path }
        if canonical(path) == canonical(inputPath) {
            throw StorageError("\(path): output file is the input file (output.file)")
        }
        if canonical(path) == canonical(modelPath) {
            throw StorageError("\(path): output file is the model file (output.file)")
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { throw StorageError("\(path): output file is a directory (output.file)") }
            if !overwrite && !resume {
                throw StorageError("\(path): output file exists; set output.overwrite to true to replace it")
            }
        }
        let dir = (path as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) || !isDir.boolValue {
            throw StorageError("\(path): output directory \(dir) does not exist")
        }
        if !FileManager.default.isWritableFile(atPath: dir) {
            throw StorageError("\(path): output directory \(dir) is not writable")
        }
    }

    /// Creates the file, its datasets and progress record with status "incomplete", the resume
    /// key and the given attributes, and flushes that structure to disk (collective: every rank
    /// passes the same values).
    /// `layout` gives the per-row shapes of relevance, logit and relevance_channels (targets,
    /// spatial samples); the default is the 2-D layout (N, d), (N).
    public init(creating path: String, communicator: Communicator, rows: Int, features: Int,
                element: ElementType, blocks: Int, key: [(String, String)],
                attributes: [(String, AttributeValue)], layout: OutputLayout? = nil, compression: Int = 0) throws {
        let layout = layout ?? OutputLayout(sampleShape: [features], targets: nil)
        hasChannels = layout.channelShape != nil
        file = try H5WriteFile(creating: path, communicator: communicator)
        isWriter = communicator.isRoot
        do {
            reserved = try Self.reserve(file, bytes: layout.expectedBytes(rows: rows, element: element, blocks: blocks),
                                        communicator: communicator)
        } catch {
            try? file.close()       // an empty file: rank 0 removes it
            if isWriter { unlink(path) }
            throw error
        }
        let zeros = [Int64](repeating: 0, count: isWriter ? blocks : 0)
        let nans = [Double](repeating: .nan, count: isWriter ? blocks : 0)
        try collectively(
            { try self.file.setAttribute("status", "incomplete") },
            { try self.file.createDataset(Self.relevanceDataset, element: element, dims: [rows] + layout.relevanceShape, compression: compression) },
            { try self.file.createDataset(Self.assignmentDataset, element: .int64, rows: rows, columns: 0) },
            { try self.file.createDataset(Self.logitDataset, element: .float64, dims: [rows] + layout.logitShape) },
            { if let c = layout.channelShape { try self.file.createDataset(Self.channelsDataset, element: element, dims: [rows] + c, compression: compression) } },
            { try self.file.createDataset(Self.blockDoneDataset, element: .int64, rows: blocks, columns: 0) },
            { try self.file.createDataset(Self.blockConservationDataset, element: .float64, rows: blocks, columns: 0) },
            { try self.file.write(Self.blockDoneDataset, rows: 0, count: zeros.count, from: zeros) },
            { try self.file.write(Self.blockConservationDataset, rows: 0, count: nans.count, from: nans) },
            { try self.file.setAttribute("blocks", blocks) },
            { try self.file.setAttribute("blocks_done", 0) },
            { for (name, value) in key { try self.file.setAttribute(Self.keyPrefix + name, value) } },
            { try self.set(attributes) },
            { try self.file.flush() })
    }

    /// Reopens a partial output to continue it (collective), reserving `bytes` for it (the
    /// expected size of the whole file: the blocks not written yet are reserved).
    public init(resuming path: String, communicator: Communicator, element: ElementType, channels: Bool = false,
                reserving bytes: UInt64 = 0) throws {
        file = try H5WriteFile(opening: path, communicator: communicator)
        isWriter = communicator.isRoot
        hasChannels = channels
        do { reserved = bytes > 0 ? try Self.reserve(file, bytes: bytes, communicator: communicator) : 0 } catch {
            try? file.close()
            throw error
        }
        if channels { try file.openDataset(Self.channelsDataset, element: element) }
        try file.openDataset(Self.relevanceDataset, element: element)
        try file.openDataset(Self.assignmentDataset, element: .int64)
        try file.openDataset(Self.logitDataset, element: .float64)
        try file.openDataset(Self.blockDoneDataset, element: .int64)
        try file.openDataset(Self.blockConservationDataset, element: .float64)
    }

    /// Rank 0 allocates the file's blocks up to `bytes` without changing its size (fallocate,
    /// FALLOC_FL_KEEP_SIZE), before anything is written, and every rank learns the outcome
    /// (broadcast): no rank writes unless all go on. Returns the bytes reserved: 0 where the file
    /// system cannot reserve (EOPNOTSUPP and other refusals: the writes go on unprotected, as
    /// before). Throws on every rank when the device (or the quota) has no room for it.
    static func reserve(_ file: H5WriteFile, bytes: UInt64, communicator: Communicator) throws -> UInt64 {
        let local = communicator.isRoot ? neon_reserve_space(file.path, Int64(clamping: bytes)) : 0
        switch communicator.broadcast(local) {
        case 0: return bytes
        case ENOSPC: throw StorageError("\(file.path): cannot write the output: no space left on the device")
        case EDQUOT: throw StorageError("\(file.path): cannot write the output: disk quota exceeded")
        default: return 0
        }
    }

    /// Rank 0 frees the reserved blocks the closed file does not use.
    private func release() {
        if isWriter && reserved > 0 { _ = neon_release_space(file.path, Int64(clamping: reserved)) }
    }

    /// Writes this rank's rows [start, start + count) of all three datasets (every rank calls it;
    /// independent transfers unless the output is compressed). Nothing here orders one rank's
    /// writes before another's: the caller agrees (a collective) before `markDone`.
    public func write(rows start: Int, count: Int, relevance: UnsafeRawPointer?,
                      assignment: UnsafePointer<Int64>?, logit: UnsafePointer<Double>?,
                      channels: UnsafeRawPointer? = nil) throws {
        try collectively(
            { try self.file.write(Self.relevanceDataset, rows: start, count: count, from: relevance) },
            { try self.file.write(Self.assignmentDataset, rows: start, count: count, from: assignment) },
            { try self.file.write(Self.logitDataset, rows: start, count: count, from: logit) },
            { if self.hasChannels { try self.file.write(Self.channelsDataset, rows: start, count: count, from: channels) } })
    }

    /// Runs every step of a collective sequence even after one fails on this rank, then throws
    /// the first error: a rank that skipped the rest (the disk filled up under its write, say)
    /// would meet the other ranks in the wrong collective call and the job would hang.
    private func collectively(_ steps: () throws -> Void...) throws {
        var first: Error?
        for step in steps {
            do { try step() } catch { if first == nil { first = error } }
        }
        if let e = first { throw e }
    }

    /// Records a block as done, after its rows were written (collective; `conservation` is the
    /// block's max |sum_i R_i - f_c| over all ranks). The done flag is written last: a job killed
    /// between the two writes leaves the block not done (it is explained again on resume), never
    /// done without its conservation figure.
    public func markDone(block: Int, conservation: Double) throws {
        var one: Int64 = 1, c = conservation
        let n = isWriter ? 1 : 0
        try collectively({ try self.file.write(Self.blockConservationDataset, rows: block, count: n, from: &c) },
                         { try self.file.write(Self.blockDoneDataset, rows: block, count: n, from: &one) })
    }

    /// Makes everything written so far durable (MPI_File_sync) with the count of done blocks.
    public func checkpoint(blocksDone: Int) throws {
        try collectively({ try self.file.setAttribute("blocks_done", blocksDone) }, { try self.file.flush() })
    }

    public func set(_ attributes: [(String, AttributeValue)]) throws {
        var first: Error?
        for (name, value) in attributes {
            do {
                switch value {
                case .string(let s): try file.setAttribute(name, s)
                case .double(let d): try file.setAttribute(name, d)
                case .int(let i): try file.setAttribute(name, i)
                }
            } catch { if first == nil { first = error } }
        }
        if let e = first { throw e }
    }

    /// Writes the final attributes and closes the file (collective), then rank 0 alone names
    /// the axes (dimension scales) and marks it "complete". Only a file that went through here
    /// says "complete"; a throw on rank 0 leaves it "incomplete" (and resumable).
    public func finish(attributes: [(String, AttributeValue)]) throws {
        do {
            try collectively({ try self.set(attributes) }, { try self.file.flush() })  // data and attributes first
        } catch {
            try? file.close()
            throw error
        }
        try file.close()
        defer { release() }
        if isWriter { try Self.complete(path: file.path) }
    }

    /// Closes without marking complete (interrupted, or an error on some rank): status stays
    /// "incomplete" and blocks_done says how far it got.
    public func abandon(blocksDone: Int? = nil) {
        if let n = blocksDone { try? file.setAttribute("blocks_done", n) }
        try? file.close()
        release()
    }
}

/// Per-row shapes of the output datasets: relevance is one input sample ([d] or [C, H, W]) per
/// target, with a target axis ([T, ...]) unless only the assigned cluster is explained; logit is
/// [T] or scalar; relevance_channels ([T,] C) exists for (C, H, W) samples.
public struct OutputLayout: Equatable, Sendable {
    public let sampleShape: [Int]
    /// nil: the assigned cluster only (no target axis).
    public let targets: Int?

    public init(sampleShape: [Int], targets: Int?) {
        self.sampleShape = sampleShape
        self.targets = targets
    }

    public var relevanceShape: [Int] { (targets.map { [$0] } ?? []) + sampleShape }
    public var logitShape: [Int] { targets.map { [$0] } ?? [] }
    public var channelShape: [Int]? { sampleShape.count == 3 ? (targets.map { [$0] } ?? []) + [sampleShape[0]] : nil }
    /// Values per row of relevance and of relevance_channels.
    public var relevancePerRow: Int { relevanceShape.reduce(1, *) }
    public var channelsPerRow: Int { channelShape?.reduce(1, *) ?? 0 }

    /// Bytes of the output file (relevance, channels, assignment, logit, progress, metadata).
    public func expectedBytes(rows: Int, element: ElementType, blocks: Int) -> UInt64 {
        let perRow = UInt64(relevancePerRow + channelsPerRow) * UInt64(element.byteCount) + 8 + 8 * UInt64(targets ?? 1)
        return UInt64(rows) * perRow + UInt64(blocks) * 16 + (1 << 20)
    }
}

public enum AttributeValue: Equatable, Sendable {
    case string(String)
    case double(Double)
    case int(Int)
}

/// What a partial output says about itself, read by rank 0 before resuming.
public struct PartialOutput: Sendable {
    public let status: String
    public let key: [(String, String)]
    public let beta: Double?
    public let blockDone: [Bool]
    public let blockConservation: [Double]

    /// Reads the status, resume key and progress of an existing output file.
    public static func read(path: String) throws -> PartialOutput {
        let f: StoredFile
        do { f = try StoredFile(path: path) } catch {
            throw StorageError("\(path): cannot resume: not a readable HDF5 output file")
        }
        guard let status = try? f.stringAttribute("status") else {
            throw StorageError("\(path): cannot resume: no 'status' attribute (not a neon-batch output)")
        }
        if status == "complete" {
            return PartialOutput(status: status, key: [], beta: nil, blockDone: [], blockConservation: [])
        }
        guard let done = try? f.int64s(RelevanceOutput.blockDoneDataset),
              let cons = try? f.doubles(RelevanceOutput.blockConservationDataset) else {
            throw StorageError("\(path): cannot resume: no progress record (dataset '\(RelevanceOutput.blockDoneDataset)')")
        }
        return PartialOutput(status: status, key: f.resumeKey, beta: f.numberAttribute("beta"),
                             blockDone: done.map { $0 == 1 }, blockConservation: cons)
    }

    /// The first difference between this output's resume key and the job's, as a message.
    public func mismatch(with key: [(String, String)], path: String) -> String? {
        Self.mismatch(stored: self.key, job: key, path: path)
    }

    static func mismatch(stored: [(String, String)], job key: [(String, String)], path: String) -> String? {
        let mine = Dictionary(stored, uniquingKeysWith: { a, _ in a })
        for (name, value) in key {
            guard let old = mine[name] else {
                return "\(path): cannot resume: the partial output has no record of \(name)"
            }
            if old != value {
                return "\(path): cannot resume: \(name) differs (the partial output was made with \(old), the job has \(value))"
            }
        }
        return nil
    }
}

extension StoredFile {
    /// The resume key an output was started with (root attributes "resume_key:NAME").
    var resumeKey: [(String, String)] {
        let prefix = RelevanceOutput.keyPrefix
        return attributeNames().filter { $0.hasPrefix(prefix) }.compactMap { name in
            (try? stringAttribute(name)).flatMap { $0 }.map { (String(name.dropFirst(prefix.count)), $0) }
        }
    }
}
