// The neon-batch job file: a strict JSON document naming the input, model and output files and
// the explanation settings. Every error is a `JobError` whose message is one line starting with
// the job file's absolute path.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public struct JobError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

public struct JobSpec: Equatable, Sendable {
    public enum Beta: Equatable, Sendable {
        case auto
        case fixed(Double)
    }

    public enum Target: Equatable, Sendable {
        case assigned
        case all
        /// Cluster indices (distinct, >= 0; checked against K when the model is known).
        case clusters([Int])

        /// Whether the outputs get a target axis (every selection but "assigned").
        public var hasAxis: Bool { self != .assigned }

        /// "assigned", "all" or "[0, 3, 5]" (for the resume key and provenance).
        public var text: String {
            switch self {
            case .assigned: return "assigned"
            case .all: return "all"
            case .clusters(let c): return "[" + c.map(String.init).joined(separator: ", ") + "]"
            }
        }
    }

    /// Soft clustering (soft_kmeans, deep_soft): Prop. 6 / Lemma 3 or Prop. 7 / Lemma 4.
    public enum Mode: Equatable, Sendable {
        case relative
        case absolute(theta: Double)
    }

    /// The LRP rules through Psi (explain.lrp).
    public struct LRP: Equatable, Sendable {
        /// "gamma" or "zero" (LRP-0 = gamma 0).
        public var conv2d = "gamma"
        /// "epsilon", "gamma" or "zero".
        public var linear = "epsilon"
        public var gamma = 0.1
        public var epsilon = 1e-6
        public init() {}
    }

    /// Absolute, standardized path of the job file ("" when parsed from text without a path).
    public var jobPath: String
    /// The raw job text, verbatim.
    public var jobText: String
    /// Absolute path (relative paths in the job resolve against the job file's folder).
    public var inputFile: String
    public var inputDataset: String
    /// input.rows: explain only the input rows [START, END) (nil: all); the end is checked
    /// against the dataset when it is opened.
    public var rows: Range<Int>?
    /// Absolute path.
    public var modelFile: String
    /// Absolute path.
    public var outputFile: String
    public var overwrite: Bool
    /// Continue a partial output (status "incomplete") from its first unfinished block.
    public var resume: Bool
    public var beta: Beta
    public var target: Target
    /// Kernel k-means only: "paper" (Eq. 10, the default) or "conservative".
    public var kernelRule: String
    /// Kernel k-means only: explain.pruning.tolerance eps (nil: no pruning). Pooling paths whose
    /// min-take-most / footnote-1 weight cannot reach eps are not evaluated (KernelPruningBound).
    public var pruningTolerance: Double? = nil
    public var blockRows: Int
    /// execution.cache_mb: memory per rank (MiB) for keeping the beta pass's cluster scores for
    /// the explain pass (k-means, beta "auto"); 0 turns it off.
    public var cacheMegabytes: Int = JobSpec.defaultCacheMegabytes
    public static let defaultCacheMegabytes = 256
    /// execution.read: who reads the input blocks. "root" (the default): rank 0 reads each block
    /// and scatters it; "parallel": every rank reads its own rows through collective MPI-IO;
    /// "auto": "parallel" when there are several ranks and every rank sees the input file
    /// (docs/running.md).
    public var readMode: String = "root"
    public static let readModes = ["root", "parallel", "auto"]
    public var mode: Mode = .relative
    public var lrp = LRP()
    /// The largest output file a job may create (output.max_bytes).
    public var maxOutputBytes: UInt64 = JobSpec.defaultMaxOutputBytes
    /// output.compression: 0 (contiguous) or 1-9 (chunked, shuffle + deflate at that level).
    public var compression = 0

    public static let defaultMaxOutputBytes: UInt64 = 64 << 30
    /// The explanation method (docs/evaluation.md): "neon" (the default) or a baseline.
    public var method: String = "neon"
    /// Integrated gradients: Riemann steps; PDAcs: imputed samples per feature.
    public var steps: Int = 10
    public var samples: Int = 10
    /// Seed of the per-sample streams of the random and pdacs methods.
    public var seed: UInt64 = 0
    /// The `evaluate` section (used by `neon-batch evaluate`; ignored by `run`).
    public var evaluate = Evaluate()

    /// Settings of `neon-batch evaluate` (Algorithm 1).
    public struct Evaluate: Equatable, Sendable {
        /// nil: every method that applies to the model.
        public var methods: [String]? = nil
        public var repeats: Int = 1
        public var seed: UInt64 = 0
        /// nil: the whole input is the KDE reference set.
        public var referenceRows: Int? = nil
        /// nil: every input row is evaluated; else a seeded sample of this many rows.
        public var samples: Int? = nil
        /// nil: the leave-one-out fixed point (Eq. 42).
        public var sigma: Double? = nil
        /// Absolute path of the evaluation output (nil: derived from output.file).
        public var file: String? = nil
        /// Samples per block: the unit of progress, of the resume record and of the work a
        /// stop (SIGTERM) or a failure can lose.
        public var blockSamples: Int = Evaluate.defaultBlockSamples
        public static let defaultBlockSamples = 256
        public init() {}
    }

    /// Every explanation method's name (the same list as NeonCore's ExplanationMethod).
    public static let methodNames = ["neon", "random", "x2", "sensitivity", "ig", "pda0", "pdacs", "nca"]
    public static let maxSteps = 100_000
    public static let maxRepeats = 10_000
    public static let maxSeed = 1 << 53
    public static var methodList: String { methodNames.map { "\"\($0)\"" }.joined(separator: ", ") }

    public static let defaultBlockRows = 8192
    public static let maxBlockRows = 1 << 20
    public static let maxJobFileBytes = 1 << 20

    public init(jobPath: String, jobText: String, inputFile: String, inputDataset: String,
                modelFile: String, outputFile: String, overwrite: Bool = false, resume: Bool = false,
                beta: Beta = .auto, target: Target = .assigned,
                blockRows: Int = JobSpec.defaultBlockRows) {
        self.jobPath = jobPath
        self.jobText = jobText
        self.inputFile = inputFile
        self.inputDataset = inputDataset
        self.rows = nil
        self.modelFile = modelFile
        self.outputFile = outputFile
        self.overwrite = overwrite
        self.resume = resume
        self.beta = beta
        self.target = target
        self.kernelRule = "paper"
        self.blockRows = blockRows
    }

    /// Reads the job file at `path` (relative paths resolve against the current directory) and parses it.
    public static func load(path: String) throws -> JobSpec {
        let absolute = absolutePath(path, base: nil)
        let bytes = try readJobFile(absolute)
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.elementsEqual(bytes) else {
            throw JobError(message: "\(label(absolute)): job file is not UTF-8 text")
        }
        return try parse(text: text, jobPath: absolute)
    }

    /// Parses job text. `jobPath` names the job file (made absolute and standardized); relative
    /// paths inside the job resolve against its folder, or against the current directory when
    /// `jobPath` is "". Messages of errors from a job without a path start with "<job>".
    public static func parse(text: String, jobPath: String) throws -> JobSpec {
        let absoluteJobPath = jobPath.isEmpty ? "" : absolutePath(jobPath, base: nil)
        let prefix = label(absoluteJobPath)
        func failure(_ message: String) -> JobError { JobError(message: "\(prefix): \(message)") }
        func quoted(_ key: String) -> String { JSONValue.displayEscaped(key) }

        // 1-6. Syntax, the top object, unknown and missing sections and keys (JobSections).
        let fitJob = "a fit job (it has a 'fit' section), not an explain job: run it with `neon-batch fit \(prefix)`"
        let sections = try JobSections.parse(text, schema: schema, required: required, ownKey: "model", otherKinds: [("fit", fitJob)],
                                             failure: failure)

        // 7. Values.
        func value(_ section: String, _ key: String) -> JSONValue? { sections[section]?[member: key] }
        func nonEmptyString(_ section: String, _ key: String) throws -> String {
            guard case .string(let text)? = value(section, key), !text.isEmpty else {
                throw failure("\(section).\(key) must be a non-empty string")
            }
            return text
        }
        let baseDirectory = absoluteJobPath.isEmpty ? nil : parentDirectory(of: absoluteJobPath)
        let inputFile = absolutePath(try nonEmptyString("input", "file"), base: baseDirectory)
        let inputDataset = try nonEmptyString("input", "dataset")
        var rows: Range<Int>?
        if let raw = value("input", "rows") {
            let bound = { (v: JSONValue) -> Int? in
                guard case .number(let n) = v, n.rounded(.towardZero) == n, n >= 0, n < 9e15 else { return nil }
                return Int(n)
            }
            guard case .array(let items) = raw, items.count == 2, let start = bound(items[0]), let end = bound(items[1]),
                  start < end else {
                throw failure("input.rows must be [START, END] with integers 0 <= START < END (rows START..END-1)")
            }
            rows = start..<end
        }
        let modelFile = absolutePath(try nonEmptyString("model", "file"), base: baseDirectory)
        let outputFile = absolutePath(try nonEmptyString("output", "file"), base: baseDirectory)

        var overwrite = false
        if let raw = value("output", "overwrite") {
            guard case .bool(let flag) = raw else { throw failure("output.overwrite must be true or false") }
            overwrite = flag
        }
        var resume = false
        if let raw = value("output", "resume") {
            guard case .bool(let flag) = raw else { throw failure("output.resume must be true or false") }
            resume = flag
        }

        var beta = Beta.auto
        if let raw = value("explain", "beta") {
            switch raw {
            case .string(let text) where same(text, "auto"):
                beta = .auto
            case .number(let number) where number > 0 && number.isFinite:
                beta = .fixed(number)
            default:
                throw failure("explain.beta must be \"auto\" or a positive finite number")
            }
        }

        var target = Target.assigned
        if let raw = value("explain", "target") {
            let message = "explain.target must be \"assigned\", \"all\" or a non-empty list of distinct cluster indices"
            switch raw {
            case .string(let text) where same(text, "assigned"): target = .assigned
            case .string(let text) where same(text, "all"): target = .all
            case .array(let items):
                let list = try items.map { item -> Int in
                    guard case .number(let n) = item, n >= 0, n == n.rounded(), n < 1e9 else { throw failure(message) }
                    return Int(n)
                }
                guard !list.isEmpty, Set(list).count == list.count else { throw failure(message) }
                target = .clusters(list)
            default: throw failure(message)
            }
        }

        var mode = Mode.relative
        if let raw = value("explain", "mode") {
            guard case .string(let text) = raw, text == "relative" || text == "absolute" else {
                throw failure("explain.mode must be \"relative\" or \"absolute\"")
            }
            if text == "absolute" { mode = .absolute(theta: 0.5) }
        }
        if let raw = value("explain", "theta") {
            guard case .number(let theta) = raw, theta > 0, theta < 1 else {
                throw failure("explain.theta must be a number in (0, 1)")
            }
            if case .absolute = mode { mode = .absolute(theta: theta) }
        }

        var lrp = LRP()
        if let raw = value("explain", "lrp") {
            guard case .object(let members) = raw else { throw failure("'explain.lrp' must be an object") }
            for member in members {
                switch member.key {
                case "conv2d":
                    guard case .string(let t) = member.value, t == "gamma" || t == "zero" else {
                        throw failure("explain.lrp.conv2d must be \"gamma\" or \"zero\"")
                    }
                    lrp.conv2d = t
                case "linear":
                    guard case .string(let t) = member.value, ["epsilon", "gamma", "zero"].contains(t) else {
                        throw failure("explain.lrp.linear must be \"epsilon\", \"gamma\" or \"zero\"")
                    }
                    lrp.linear = t
                case "gamma", "epsilon":
                    guard case .number(let n) = member.value, n >= 0, n.isFinite else {
                        throw failure("explain.lrp.\(member.key) must be a number >= 0")
                    }
                    if member.key == "gamma" { lrp.gamma = n } else { lrp.epsilon = n }
                default:
                    throw failure("unknown key 'explain.lrp.\(quoted(member.key))'"
                                  + Suggestion.didYouMean(member.key, among: ["conv2d", "linear", "gamma", "epsilon"]))
                }
            }
        }

        var compression = 0
        if let raw = value("output", "compression") {
            guard case .number(let n) = raw, n >= 0, n <= 9, n == n.rounded() else {
                throw failure("output.compression must be an integer from 0 to 9")
            }
            compression = Int(n)
        }

        var maxBytes = defaultMaxOutputBytes
        if let raw = value("output", "max_bytes") {
            guard case .number(let n) = raw, n >= 1, n == n.rounded(), n < 9e18 else {
                throw failure("output.max_bytes must be a positive integer (bytes)")
            }
            maxBytes = UInt64(n)
        }

        var kernelRule = "paper"
        if let raw = value("explain", "kernel_rule") {
            guard case .string(let text) = raw, text == "paper" || text == "conservative" else {
                throw failure("explain.kernel_rule must be \"paper\" or \"conservative\"")
            }
            kernelRule = text
        }

        var pruningTolerance: Double?
        if let raw = value("explain", "pruning") {
            guard case .object(let members) = raw else { throw failure("'explain.pruning' must be an object") }
            for member in members where !same(member.key, "tolerance") {
                throw failure("unknown key 'explain.pruning.\(quoted(member.key))'"
                              + Suggestion.didYouMean(member.key, among: ["tolerance"]))
            }
            guard let tolerance = raw[member: "tolerance"] else { throw failure("missing key 'explain.pruning.tolerance'") }
            guard case .number(let eps) = tolerance, eps > 0, eps < 1, eps.isFinite else {
                throw failure("explain.pruning.tolerance must be a number in (0, 1)")
            }
            pruningTolerance = eps
        }

        var blockRows = defaultBlockRows
        if let raw = value("execution", "block_rows") {
            guard case .number(let number) = raw, number.rounded(.towardZero) == number,
                  number >= 1, number <= Double(maxBlockRows) else {
                throw failure("execution.block_rows must be an integer from 1 to \(maxBlockRows)")
            }
            blockRows = Int(number)
        }

        var spec = JobSpec(jobPath: absoluteJobPath, jobText: text, inputFile: inputFile, inputDataset: inputDataset,
                       modelFile: modelFile, outputFile: outputFile, overwrite: overwrite, resume: resume,
                       beta: beta, target: target, blockRows: blockRows)
        spec.kernelRule = kernelRule
        spec.pruningTolerance = pruningTolerance
        spec.rows = rows
        if let raw = value("execution", "cache_mb") {
            guard case .number(let number) = raw, number.rounded(.towardZero) == number, number >= 0, number <= Double(1 << 20) else {
                throw failure("execution.cache_mb must be an integer from 0 to \(1 << 20)")
            }
            spec.cacheMegabytes = Int(number)
        }
        if let raw = value("execution", "read") {
            guard case .string(let text) = raw, readModes.contains(text) else {
                throw failure("execution.read must be \"root\", \"parallel\" or \"auto\"")
            }
            spec.readMode = text
        }
        spec.mode = mode
        spec.lrp = lrp
        spec.maxOutputBytes = maxBytes
        spec.compression = compression

        // Explanation methods and evaluation (checked after the sections above).
        func integer(_ section: String, _ key: String, from lo: Int, to hi: Int) throws -> Int? {
            guard let raw = value(section, key) else { return nil }
            guard case .number(let number) = raw, number.rounded(.towardZero) == number,
                  number >= Double(lo), number <= Double(hi) else {
                throw failure("\(section).\(key) must be an integer from \(lo) to \(hi)")
            }
            return Int(number)
        }
        if let raw = value("explain", "method") {
            guard case .string(let name) = raw, methodNames.contains(where: { same($0, name) }) else {
                throw failure("explain.method must be one of \(methodList)")
            }
            spec.method = name
        }
        spec.steps = try integer("explain", "steps", from: 1, to: maxSteps) ?? spec.steps
        spec.samples = try integer("explain", "samples", from: 1, to: maxSteps) ?? spec.samples
        spec.seed = UInt64(try integer("explain", "seed", from: 0, to: maxSeed) ?? 0)

        if let raw = value("evaluate", "methods") {
            guard case .array(let items) = raw, !items.isEmpty else {
                throw failure("evaluate.methods must be a non-empty array of method names")
            }
            var names: [String] = []
            for (n, item) in items.enumerated() {
                guard case .string(let name) = item, methodNames.contains(where: { same($0, name) }) else {
                    throw failure("evaluate.methods[\(n)] must be one of \(methodList)")
                }
                if names.contains(name) { throw failure("evaluate.methods lists \"\(name)\" twice") }
                names.append(name)
            }
            spec.evaluate.methods = names
        }
        spec.evaluate.repeats = try integer("evaluate", "repeats", from: 1, to: maxRepeats) ?? 1
        spec.evaluate.seed = UInt64(try integer("evaluate", "seed", from: 0, to: maxSeed) ?? 0)
        spec.evaluate.referenceRows = try integer("evaluate", "reference_rows", from: 2, to: maxBlockRows)
        spec.evaluate.samples = try integer("evaluate", "samples", from: 1, to: Int(Int32.max))
        spec.evaluate.blockSamples = try integer("evaluate", "block_samples", from: 1, to: maxBlockRows) ?? Evaluate.defaultBlockSamples
        if let raw = value("evaluate", "sigma") {
            switch raw {
            case .string(let text) where same(text, "loo"): break
            case .number(let number) where number > 0 && number.isFinite: spec.evaluate.sigma = number
            default: throw failure("evaluate.sigma must be \"loo\" or a positive finite number")
            }
        }
        if value("evaluate", "file") != nil {
            spec.evaluate.file = absolutePath(try nonEmptyString("evaluate", "file"), base: baseDirectory)
        }
        return spec
    }

    // MARK: - Schema

    /// Sections in checking order, with their allowed keys.
    private static let schema: [(section: String, keys: [String])] = [
        ("input", ["file", "dataset", "rows"]),
        ("model", ["file"]),
        ("output", ["file", "overwrite", "resume", "max_bytes", "compression"]),
        ("explain", ["beta", "target", "kernel_rule", "pruning", "mode", "theta", "lrp", "method", "steps", "samples", "seed"]),
        ("execution", ["block_rows", "cache_mb", "read"]),
        ("evaluate", ["methods", "repeats", "seed", "samples", "reference_rows", "sigma", "file", "block_samples"]),
    ]

    /// Required sections and their required keys, in checking order.
    private static let required: [(section: String, keys: [String])] = [
        ("input", ["file", "dataset"]),
        ("model", ["file"]),
        ("output", ["file"]),
    ]

    /// Exact (code point) string comparison, as JSON compares member names.
    private static func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

    // MARK: - Paths

    /// The message prefix for a job path.
    static func label(_ absoluteJobPath: String) -> String {
        absoluteJobPath.isEmpty ? "<job>" : JSONValue.displayEscaped(absoluteJobPath)
    }

    /// `path` made absolute (against `base`, or the current directory when nil) and standardized
    /// lexically: "." and empty components removed, ".." removes the previous component (not
    /// beyond "/"), no trailing slash. Symbolic links are not resolved (like
    /// `URL(fileURLWithPath:).standardizedFileURL.path`).
    static func absolutePath(_ path: String, base: String?) -> String {
        if path.hasPrefix("/") { return standardize(path) }
        let directory = base ?? FileManager.default.currentDirectoryPath
        return standardize(directory + "/" + path)
    }

    static func standardize(_ absolutePath: String) -> String {
        var components: [Substring] = []
        for component in absolutePath.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." {
                if !components.isEmpty { components.removeLast() }
                continue
            }
            components.append(component)
        }
        return "/" + components.joined(separator: "/")
    }

    static func parentDirectory(of absolutePath: String) -> String {
        let standardized = standardize(absolutePath)
        guard let slash = standardized.lastIndex(of: "/"), slash != standardized.startIndex else { return "/" }
        return String(standardized[..<slash])
    }

    // MARK: - Reading

    /// What kind of job file `path` is, going by its top-level sections, with the command that
    /// runs it: ("a fit job", "fit"), ("an evaluation job", "evaluate"), ("a job file", "run"); nil
    /// if it is not a JSON object (or cannot be read).
    public static func kind(ofJobFile path: String) -> (name: String, command: String)? {
        guard let bytes = try? readJobFile(absolutePath(path, base: nil)), let root = try? JSONParser.parse(bytes),
              case .object = root else { return nil }
        if root[member: "fit"] != nil { return ("a fit job", "fit") }
        if root[member: "evaluate"] != nil { return ("an evaluation job", "evaluate") }
        return ("a job file", "run")
    }

    static func readJobFile(_ absolutePath: String) throws -> [UInt8] {
        let prefix = label(absolutePath)
        func cannotRead(_ code: Int32) -> JobError {
            JobError(message: "\(prefix): cannot read job file (\(String(cString: strerror(code))))")
        }

        var info = stat()
        if stat(absolutePath, &info) != 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw JobError(message: "\(prefix): job file does not exist") }
            throw cannotRead(code)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw JobError(message: "\(prefix): job file is a directory") }

        var descriptor: Int32
        repeat {
            descriptor = open(absolutePath, O_RDONLY | O_CLOEXEC)
        } while descriptor < 0 && errno == EINTR
        if descriptor < 0 { throw cannotRead(errno) }
        defer { close(descriptor) }

        let limit = maxJobFileBytes + 1  // read one byte more than allowed to detect larger files
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count < limit {
            let wanted = min(chunk.count, limit - bytes.count)
            let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, wanted) }
            if got < 0 {
                let code = errno
                if code == EINTR { continue }
                throw cannotRead(code)
            }
            if got == 0 { break }
            bytes.append(contentsOf: chunk[0..<got])
        }
        // An HDF5 file (its signature at offset 0) given where a job file belongs.
        if bytes.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]) {
            throw JobError(message: "\(prefix): an HDF5 file, not a job file (JSON): look at an output with `neon-batch inspect \(prefix)`; a job file names input and model files (`neon-batch demo DIR` writes an example)")
        }
        if bytes.count > maxJobFileBytes {
            let size = maxJobFileBytes % (1 << 20) == 0 ? "\(maxJobFileBytes >> 20) MiB" : "\(maxJobFileBytes) bytes"
            throw JobError(message: "\(prefix): job file is larger than \(size)")
        }
        return bytes
    }
}
