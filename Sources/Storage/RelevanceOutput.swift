import Distributed
import Foundation

/// The output file of an explanation job (layout in docs/file-formats.md):
///   relevance (N x d, the compute precision), assignment (N, int64), logit (N, float64: f_c),
///   root attributes: status ("incomplete" until everything is written, then "complete"),
///   beta, and provenance (job text, software version, ranks, model kind, inputs).
/// Created, written and closed collectively by all ranks.
public final class RelevanceOutput {
    public static let relevanceDataset = "relevance"
    public static let assignmentDataset = "assignment"
    public static let logitDataset = "logit"

    private let file: H5WriteFile
    public var path: String { file.path }
    /// Writes that fell back from collective to independent I/O (0 expected).
    public var independentWrites: Int { file.independentWrites }

    /// Rank 0's check before anything is created: the output must not be the input or the
    /// model, and may replace an existing file only with output.overwrite.
    public static func checkTarget(_ path: String, overwrite: Bool, inputPath: String, modelPath: String) throws {
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
            if !overwrite {
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

    /// Creates the file and its datasets with status "incomplete" and the given attributes
    /// (collective: every rank passes the same values).
    public init(creating path: String, communicator: Communicator, rows: Int, features: Int,
                element: ElementType, attributes: [(String, AttributeValue)]) throws {
        file = try H5WriteFile(creating: path, communicator: communicator)
        try file.setAttribute("status", "incomplete")
        try file.createDataset(Self.relevanceDataset, element: element, rows: rows, columns: features)
        try file.createDataset(Self.assignmentDataset, element: .int64, rows: rows, columns: 0)
        try file.createDataset(Self.logitDataset, element: .float64, rows: rows, columns: 0)
        try set(attributes)
    }

    /// Writes this rank's rows [start, start + count) of all three datasets (collective).
    public func write(rows start: Int, count: Int, relevance: UnsafeRawPointer?,
                      assignment: UnsafePointer<Int64>?, logit: UnsafePointer<Double>?) throws {
        try file.write(Self.relevanceDataset, rows: start, count: count, from: relevance)
        try file.write(Self.assignmentDataset, rows: start, count: count, from: assignment)
        try file.write(Self.logitDataset, rows: start, count: count, from: logit)
    }

    public func set(_ attributes: [(String, AttributeValue)]) throws {
        for (name, value) in attributes {
            switch value {
            case .string(let s): try file.setAttribute(name, s)
            case .double(let d): try file.setAttribute(name, d)
            case .int(let i): try file.setAttribute(name, i)
            }
        }
    }

    /// Flushes every dataset, then marks the file "complete" (with the final attributes) and
    /// closes it. Only a file that went through here says "complete".
    public func finish(attributes: [(String, AttributeValue)]) throws {
        try set(attributes)
        try file.flush()                           // data and attributes reach the file first
        try file.setAttribute("status", "complete")
        try file.close()
    }

    /// Closes without marking complete (after an error on some rank).
    public func abandon() { try? file.close() }
}

public enum AttributeValue: Equatable, Sendable {
    case string(String)
    case double(Double)
    case int(Int)
}
