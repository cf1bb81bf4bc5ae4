// The fit job file (`neon-batch fit FIT.json`): a strict JSON document naming the input, the
// model file to write and the fitting settings, with the explain job's conventions (unknown keys
// are errors naming the key, relative paths resolve against the job file's folder, every error
// is one line starting with the job file's absolute path).

import NeonSettings

public struct FitSpec: Equatable, Sendable {
    public typealias Algorithm = FitAlgorithmName
    /// How k-means iterations find the nearest centroids: plain Lloyd or Lloyd with Hamerly's
    /// bounds (the same results; the bounds skip rows that cannot change cluster).
    public typealias KMeansMethod = KMeansAlgorithmName
    /// How kernel k-means starts: from a k-means fit, or from given labels (an integer dataset).
    public typealias KernelInit = KernelKMeansInit

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
    /// k-means: restarts (default 1); kernel k-means: restarts of the EM procedure (default 10);
    /// softmax: fits from different initialisations (default 4), the lowest objective wins.
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
    /// softmax: the loss and its settings (nil for the other algorithms).
    public var softmax: Softmax?

    /// A softmax head's training (fit.algorithm "softmax"); NeonCore's defaults where a key is absent.
    public struct Softmax: Equatable, Sendable {
        public var loss: SoftmaxLossName
        public var learningRate: Double?
        public var schedule: LearningRateSchedule?
        /// The weight of the fairness term H(mean p) (mutual information, collision CE's pseudo-labels).
        public var fairness: Double?
        /// IIC without input.pairs: the relative scale of the Gaussian perturbation giving the second view.
        public var perturbation: Double?
        /// IIC: the dataset of the second views in the input file (same shape as input.dataset).
        public var pairsDataset: String?
        /// lambda of the regulariser (lambda / 2) |W|^2.
        public var weightDecay: Double?

        public init(loss: SoftmaxLossName, learningRate: Double? = nil, schedule: LearningRateSchedule? = nil,
                    fairness: Double? = nil, perturbation: Double? = nil, pairsDataset: String? = nil,
                    weightDecay: Double? = nil) {
            self.loss = loss
            self.learningRate = learningRate
            self.schedule = schedule
            self.fairness = fairness
            self.perturbation = perturbation
            self.pairsDataset = pairsDataset
            self.weightDecay = weightDecay
        }
    }

    /// Reads the fit job at `path` (relative paths resolve against the current directory) and parses it.
    public static func load(path: String) throws -> FitSpec {
        try parse(text: JobSpec.readJobText(path), jobPath: JobSpec.absolutePath(path, base: nil))
    }

    public static func parse(text: String, jobPath: String) throws -> FitSpec {
        let absoluteJobPath = jobPath.isEmpty ? "" : JobSpec.absolutePath(jobPath, base: nil)
        let prefix = JobSpec.label(absoluteJobPath)
        let failure = { (message: String) in JobError(message: "\(prefix): \(message)") }

        let explainJob = { (key: String) in
            (key, "an explain job (it has \(key == "model" ? "a" : "an") '\(key)' section), not a fit job: run it with `neon-batch run \(prefix)`")
        }
        let evaluateJob = "an evaluation job (it has an 'evaluate' section), not a fit job: run it with `neon-batch evaluate \(prefix)`"
        let sections = try JobSections.parse(text, schema: schema, required: required, ownKey: "fit",
                                             otherKinds: [("evaluate", evaluateJob), explainJob("model"), explainJob("explain")],
                                             failure: failure)
        let input = sections["input"], output = sections["output"], fit = sections["fit"]

        // Values, in this order (the first failing check is the message).
        let base = absoluteJobPath.isEmpty ? nil : JobSpec.parentDirectory(of: absoluteJobPath)
        let inputFile = JobSpec.absolutePath(try input.nonEmptyString("file"), base: base)
        let inputDataset = try input.nonEmptyString("dataset")
        let outputFile = JobSpec.absolutePath(try output.nonEmptyString("file"), base: base)
        let overwrite = try output.bool("overwrite") ?? false

        guard let algorithm = try fit.choice("algorithm", of: Algorithm.self) else {
            throw fit.mustBe("algorithm", Algorithm.alternatives)
        }
        let kernel = algorithm == .kernelKMeans, softmax = algorithm == .softmax
        if !kernel, let key = ["support_vectors", "noise", "init"].first(where: fit.contains) {
            throw failure("fit.\(key) applies to kernel_kmeans only")
        }
        if !softmax, let key = softmaxKeys.first(where: fit.contains) {
            throw failure("fit.\(key) applies to softmax only")
        }
        if !softmax, input.contains("pairs") {
            throw failure("input.pairs applies to fit.algorithm \"softmax\" with fit.loss \"iic\" only")
        }
        if softmax, let key = ["kmeans_algorithm", "tol", "init_sample"].first(where: fit.contains) {
            throw failure("fit.\(key) applies to kmeans and kernel_kmeans only")
        }
        let kmeansMethod = try fit.choice("kmeans_algorithm", of: KMeansMethod.self) ?? .hamerly
        let clusters = try fit.int("clusters", in: 2...(1 << 20)) ?? 0
        let seed = try fit.int("seed", in: 0...(1 << 53)) ?? 0
        let restarts = try fit.int("n_init", in: 1...1000) ?? (kernel ? 10 : softmax ? 4 : 1)
        let maxIterations = try fit.int("max_iter", in: 1...1_000_000) ?? (kernel ? 100 : softmax ? 200 : 300)
        let finite = { (key: String) in try fit.number(key, mustBe: "a finite number >= 0") { $0 >= 0 && $0.isFinite } }
        let tolerance = try finite("tol") ?? 1e-4
        let initSample = try fit.int("init_sample", in: 1...(1 << 24))
        if let n = initSample, n < clusters {
            throw failure("fit.init_sample \(n) is smaller than fit.clusters \(clusters)")
        }
        let standardize = try fit.bool("standardize") ?? false
        let supportVectors = try fit.int("support_vectors", in: 1...(1 << 16)) ?? 10
        let noise = try finite("noise") ?? 1e-6
        var kernelInit = KernelInit.kmeans
        if let raw = fit["init"] {
            switch raw {
            case .string(let s) where FieldReader.same(s, "kmeans"): kernelInit = .kmeans
            case .object:
                let labels = try fit.object("init")!
                try labels.checkKeys(["file", "dataset"])
                guard let file = try? labels.nonEmptyString("file"), let dataset = try? labels.nonEmptyString("dataset") else {
                    throw failure("fit.init.file and fit.init.dataset must be non-empty strings")
                }
                kernelInit = .labels(file: JobSpec.absolutePath(file, base: base), dataset: dataset)
            default:
                throw fit.mustBe("init", #""kmeans" or {"file": ..., "dataset": ...} (labels)"#)
            }
        }
        var softmaxSettings: Softmax?
        if softmax {
            let loss = try fit.choice("loss", of: SoftmaxLossName.self) ?? .mutualInformation
            let positive = { (key: String) in try fit.number(key, mustBe: "a finite number > 0") { $0 > 0 && $0.isFinite } }
            let pairs = try input.string("pairs")
            if pairs != nil && loss != .iic {
                throw failure("input.pairs applies to fit.algorithm \"softmax\" with fit.loss \"iic\" only")
            }
            softmaxSettings = Softmax(loss: loss, learningRate: try positive("learning_rate"),
                                      schedule: try fit.choice("schedule", of: LearningRateSchedule.self),
                                      fairness: try finite("fairness"), perturbation: try positive("perturbation"),
                                      pairsDataset: pairs, weightDecay: try finite("weight_decay"))
        }
        let blockRows = try sections["execution"].int("block_rows", in: 1...JobSpec.maxBlockRows) ?? JobSpec.defaultBlockRows
        return FitSpec(jobPath: absoluteJobPath, jobText: text, inputFile: inputFile, inputDataset: inputDataset,
                       outputFile: outputFile, overwrite: overwrite, algorithm: algorithm, kmeansMethod: kmeansMethod,
                       clusters: clusters,
                       seed: UInt64(seed), restarts: restarts, maxIterations: maxIterations, tolerance: tolerance,
                       initSample: initSample, standardize: standardize, supportVectors: supportVectors, noise: noise,
                       kernelInit: kernelInit, blockRows: blockRows, softmax: softmaxSettings)
    }

    /// Sections in checking order, with their allowed keys.
    private static let schema: JobSections.Schema = [
        ("input", ["file", "dataset", "pairs"]),
        ("output", ["file", "overwrite"]),
        ("fit", ["algorithm", "kmeans_algorithm", "clusters", "seed", "n_init", "max_iter", "tol", "init_sample", "standardize",
                 "support_vectors", "noise", "init"] + softmaxKeys),
        ("execution", ["block_rows"]),
    ]

    /// The keys of a softmax head's training.
    private static let softmaxKeys = ["loss", "learning_rate", "schedule", "fairness", "perturbation", "weight_decay"]

    private static let required: JobSections.Schema = [
        ("input", ["file", "dataset"]),
        ("output", ["file"]),
        ("fit", ["algorithm", "clusters"]),
    ]
}
