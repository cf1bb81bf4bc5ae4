// The fit job file (`neon-batch fit FIT.json`): a strict JSON document naming the input, the
// model file to write and the fitting settings, with the explain job's conventions (unknown keys
// are errors naming the key, relative paths resolve against the job file's folder, every error
// is one line starting with the job file's absolute path).

import Foundation

public struct FitSpec: Equatable, Sendable {
    public enum Algorithm: String, Equatable, Sendable {
        case kmeans
        case kernelKMeans = "kernel_kmeans"
    }

    /// How k-means iterations find the nearest centroids: plain Lloyd or Lloyd with Hamerly's
    /// bounds (the same results; the bounds skip rows that cannot change cluster).
    public enum KMeansMethod: String, Equatable, Sendable {
        case lloyd
        case hamerly
    }

    /// How kernel k-means starts: from a k-means fit, or from given labels (an integer dataset).
    public enum KernelInit: Equatable, Sendable {
        case kmeans
        case labels(file: String, dataset: String)
    }

    public var jobPath: String
    public var jobText: String
    public var inputFile: String
    public var inputDataset: String
    /// The model file written (absolute path).
    public var outputFile: String
    public var overwrite: Bool
    public var algorithm: Algorithm
    /// k-means (and the k-means that initialises kernel k-means): `fit.kmeans_algorithm`.
    public var kmeansMethod: KMeansMethod
    public var clusters: Int
    public var seed: UInt64
    /// k-means: restarts (default 1); kernel k-means: restarts of the EM procedure (default 10).
    public var restarts: Int
    /// k-means: Lloyd iterations at most (default 300); kernel k-means: EM iterations (default 100).
    public var maxIterations: Int
    /// k-means (and the k-means that initialises kernel k-means): convergence tolerance.
    public var tolerance: Double
    public var initSample: Int?
    public var standardize: Bool
    /// kernel k-means: support vectors per cluster, noise, initialisation.
    public var supportVectors: Int
    public var noise: Double
    public var kernelInit: KernelInit
    public var blockRows: Int

    /// Reads the fit job at `path` (relative paths resolve against the current directory) and parses it.
    public static func load(path: String) throws -> FitSpec {
        let absolute = JobSpec.absolutePath(path, base: nil)
        let bytes = try JobSpec.readJobFile(absolute)
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.elementsEqual(bytes) else {
            throw JobError(message: "\(JobSpec.label(absolute)): job file is not UTF-8 text")
        }
        return try parse(text: text, jobPath: absolute)
    }

    public static func parse(text: String, jobPath: String) throws -> FitSpec {
        let absoluteJobPath = jobPath.isEmpty ? "" : JobSpec.absolutePath(jobPath, base: nil)
        let prefix = JobSpec.label(absoluteJobPath)
        func failure(_ message: String) -> JobError { JobError(message: "\(prefix): \(message)") }
        func quoted(_ key: String) -> String { JSONValue.displayEscaped(key) }
        func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

        let explainJob = { (key: String) in
            (key, "an explain job (it has \(key == "model" ? "a" : "an") '\(key)' section), not a fit job: run it with `neon-batch run \(prefix)`")
        }
        let evaluateJob = "an evaluation job (it has an 'evaluate' section), not a fit job: run it with `neon-batch evaluate \(prefix)`"
        let sections = try JobSections.parse(text, schema: schema, required: required, ownKey: "fit",
                                             otherKinds: [("evaluate", evaluateJob), explainJob("model"), explainJob("explain")],
                                             failure: failure)

        func value(_ section: String, _ key: String) -> JSONValue? { sections[section]?[member: key] }
        func nonEmptyString(_ section: String, _ key: String) throws -> String {
            guard case .string(let text)? = value(section, key), !text.isEmpty else {
                throw failure("\(section).\(key) must be a non-empty string")
            }
            return text
        }
        func integer(_ section: String, _ key: String, min: Int, max: Int, default d: Int) throws -> Int {
            guard let raw = value(section, key) else { return d }
            guard case .number(let v) = raw, v.rounded(.towardZero) == v, v >= Double(min), v <= Double(max) else {
                throw failure("\(section).\(key) must be an integer from \(min) to \(max)")
            }
            return Int(v)
        }
        func number(_ key: String, default d: Double) throws -> Double {
            guard let raw = value("fit", key) else { return d }
            guard case .number(let v) = raw, v >= 0, v.isFinite else {
                throw failure("fit.\(key) must be a finite number >= 0")
            }
            return v
        }
        let base = absoluteJobPath.isEmpty ? nil : JobSpec.parentDirectory(of: absoluteJobPath)
        let inputFile = JobSpec.absolutePath(try nonEmptyString("input", "file"), base: base)
        let inputDataset = try nonEmptyString("input", "dataset")
        let outputFile = JobSpec.absolutePath(try nonEmptyString("output", "file"), base: base)
        var overwrite = false
        if let raw = value("output", "overwrite") {
            guard case .bool(let flag) = raw else { throw failure("output.overwrite must be true or false") }
            overwrite = flag
        }

        guard case .string(let name)? = value("fit", "algorithm"), let algorithm = Algorithm(rawValue: name) else {
            throw failure("fit.algorithm must be \"kmeans\" or \"kernel_kmeans\"")
        }
        let kernel = algorithm == .kernelKMeans
        if !kernel, let key = ["support_vectors", "noise", "init"].first(where: { value("fit", $0) != nil }) {
            throw failure("fit.\(key) applies to kernel_kmeans only")
        }
        var kmeansMethod = KMeansMethod.hamerly
        if let raw = value("fit", "kmeans_algorithm") {
            guard case .string(let name) = raw, let method = KMeansMethod(rawValue: name) else {
                throw failure("fit.kmeans_algorithm must be \"lloyd\" or \"hamerly\"")
            }
            kmeansMethod = method
        }
        let clusters = try integer("fit", "clusters", min: 2, max: 1 << 20, default: 0)
        let seed = try integer("fit", "seed", min: 0, max: 1 << 53, default: 0)
        let restarts = try integer("fit", "n_init", min: 1, max: 1000, default: kernel ? 10 : 1)
        let maxIterations = try integer("fit", "max_iter", min: 1, max: 1_000_000, default: kernel ? 100 : 300)
        let tolerance = try number("tol", default: 1e-4)
        let initSample: Int? = value("fit", "init_sample") == nil ? nil
            : try integer("fit", "init_sample", min: 1, max: 1 << 24, default: 0)
        if let n = initSample, n < clusters {
            throw failure("fit.init_sample \(n) is smaller than fit.clusters \(clusters)")
        }
        var standardize = false
        if let raw = value("fit", "standardize") {
            guard case .bool(let flag) = raw else { throw failure("fit.standardize must be true or false") }
            standardize = flag
        }
        let supportVectors = try integer("fit", "support_vectors", min: 1, max: 1 << 16, default: 10)
        let noise = try number("noise", default: 1e-6)
        var kernelInit = KernelInit.kmeans
        if let raw = value("fit", "init") {
            switch raw {
            case .string(let s) where s == "kmeans": kernelInit = .kmeans
            case .object(let members):
                for m in members where !["file", "dataset"].contains(where: { same($0, m.key) }) {
                    throw failure("unknown key 'fit.init.\(quoted(m.key))'"
                                  + Suggestion.didYouMean(m.key, among: ["file", "dataset"]))
                }
                guard case .string(let f)? = raw[member: "file"], !f.isEmpty,
                      case .string(let ds)? = raw[member: "dataset"], !ds.isEmpty else {
                    throw failure("fit.init.file and fit.init.dataset must be non-empty strings")
                }
                kernelInit = .labels(file: JobSpec.absolutePath(f, base: base), dataset: ds)
            default:
                throw failure("fit.init must be \"kmeans\" or {\"file\": ..., \"dataset\": ...} (labels)")
            }
        }
        let blockRows = try integer("execution", "block_rows", min: 1, max: JobSpec.maxBlockRows,
                                    default: JobSpec.defaultBlockRows)
        return FitSpec(jobPath: absoluteJobPath, jobText: text, inputFile: inputFile, inputDataset: inputDataset,
                       outputFile: outputFile, overwrite: overwrite, algorithm: algorithm, kmeansMethod: kmeansMethod,
                       clusters: clusters,
                       seed: UInt64(seed), restarts: restarts, maxIterations: maxIterations, tolerance: tolerance,
                       initSample: initSample, standardize: standardize, supportVectors: supportVectors, noise: noise,
                       kernelInit: kernelInit, blockRows: blockRows)
    }

    /// Sections in checking order, with their allowed keys.
    private static let schema: [(section: String, keys: [String])] = [
        ("input", ["file", "dataset"]),
        ("output", ["file", "overwrite"]),
        ("fit", ["algorithm", "kmeans_algorithm", "clusters", "seed", "n_init", "max_iter", "tol", "init_sample", "standardize",
                 "support_vectors", "noise", "init"]),
        ("execution", ["block_rows"]),
    ]

    private static let required: [(section: String, keys: [String])] = [
        ("input", ["file", "dataset"]),
        ("output", ["file"]),
        ("fit", ["algorithm", "clusters"]),
    ]
}
