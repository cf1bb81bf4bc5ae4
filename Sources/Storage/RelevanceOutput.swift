import Distributed
import Foundation

/// The output file of an explanation job (layout in docs/file-formats.md):
///   relevance (N x d, the compute precision), assignment (N, int64), logit (N, float64: f_c),
///   progress/block_done (blocks, int64: 1 once a block's rows are written) and
///   progress/block_conservation (blocks, float64: max |sum_i R_i - f_c| of the block),
///   root attributes: status ("incomplete" until everything is written, then "complete"),
///   blocks, blocks_done, beta, the resume key ("resume_key:NAME" = value) and provenance.
/// Created or reopened, written and closed collectively by all ranks.
public final class RelevanceOutput {
    public static let relevanceDataset = "relevance"
    public static let assignmentDataset = "assignment"
    public static let logitDataset = "logit"
    public static let blockDoneDataset = "progress/block_done"
    public static let blockConservationDataset = "progress/block_conservation"
    static let keyPrefix = "resume_key:"

    private let file: H5WriteFile
    private let isWriter: Bool      // rank 0 writes the per-block progress entries
    public var path: String { file.path }
    /// Writes that fell back from collective to independent I/O (0 expected).
    public var independentWrites: Int { file.independentWrites }

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
    public init(creating path: String, communicator: Communicator, rows: Int, features: Int,
                element: ElementType, blocks: Int, key: [(String, String)],
                attributes: [(String, AttributeValue)]) throws {
        file = try H5WriteFile(creating: path, communicator: communicator)
        isWriter = communicator.isRoot
        let zeros = [Int64](repeating: 0, count: isWriter ? blocks : 0)
        let nans = [Double](repeating: .nan, count: isWriter ? blocks : 0)
        try collectively(
            { try self.file.setAttribute("status", "incomplete") },
            { try self.file.createDataset(Self.relevanceDataset, element: element, rows: rows, columns: features) },
            { try self.file.createDataset(Self.assignmentDataset, element: .int64, rows: rows, columns: 0) },
            { try self.file.createDataset(Self.logitDataset, element: .float64, rows: rows, columns: 0) },
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

    /// Reopens a partial output to continue it (collective).
    public init(resuming path: String, communicator: Communicator, element: ElementType) throws {
        file = try H5WriteFile(opening: path, communicator: communicator)
        isWriter = communicator.isRoot
        try file.openDataset(Self.relevanceDataset, element: element)
        try file.openDataset(Self.assignmentDataset, element: .int64)
        try file.openDataset(Self.logitDataset, element: .float64)
        try file.openDataset(Self.blockDoneDataset, element: .int64)
        try file.openDataset(Self.blockConservationDataset, element: .float64)
    }

    /// Writes this rank's rows [start, start + count) of all three datasets (collective).
    public func write(rows start: Int, count: Int, relevance: UnsafeRawPointer?,
                      assignment: UnsafePointer<Int64>?, logit: UnsafePointer<Double>?) throws {
        try collectively(
            { try self.file.write(Self.relevanceDataset, rows: start, count: count, from: relevance) },
            { try self.file.write(Self.assignmentDataset, rows: start, count: count, from: assignment) },
            { try self.file.write(Self.logitDataset, rows: start, count: count, from: logit) })
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
    /// block's max |sum_i R_i - f_c| over all ranks).
    public func markDone(block: Int, conservation: Double) throws {
        var one: Int64 = 1, c = conservation
        let n = isWriter ? 1 : 0
        try collectively({ try self.file.write(Self.blockDoneDataset, rows: block, count: n, from: &one) },
                         { try self.file.write(Self.blockConservationDataset, rows: block, count: n, from: &c) })
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
        if isWriter { try Self.complete(path: file.path) }
    }

    /// Closes without marking complete (interrupted, or an error on some rank): status stays
    /// "incomplete" and blocks_done says how far it got.
    public func abandon(blocksDone: Int? = nil) {
        if let n = blocksDone { try? file.setAttribute("blocks_done", n) }
        try? file.close()
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
        let key = f.attributeNames().filter { $0.hasPrefix(RelevanceOutput.keyPrefix) }.compactMap { name in
            (try? f.stringAttribute(name)).flatMap { $0 }.map { (String(name.dropFirst(RelevanceOutput.keyPrefix.count)), $0) }
        }
        return PartialOutput(status: status, key: key, beta: f.numberAttribute("beta"),
                             blockDone: done.map { $0 == 1 }, blockConservation: cons)
    }

    /// The first difference between this output's resume key and the job's, as a message.
    public func mismatch(with key: [(String, String)], path: String) -> String? {
        let mine = Dictionary(self.key, uniquingKeysWith: { a, _ in a })
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
