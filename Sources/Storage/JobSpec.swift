// The neon-batch job file: a strict JSON document naming the input, model and output files and
// the explanation settings. Every error is a `JobError` whose message is one line starting with
// the job file's absolute path. Parsing: JobSpec+Parse.swift; reading the file: JobFile.swift.

import NeonSettings

public struct JobError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

public struct JobSpec: Equatable, Sendable {
    public typealias Beta = BetaSetting
    public typealias Target = TargetSelection
    /// Soft clustering (soft_kmeans, deep_soft): Prop. 6 / Lemma 3 or Prop. 7 / Lemma 4.
    public typealias Mode = SoftClusteringMode

    /// The LRP rules through Psi (explain.lrp).
    public struct LRP: Equatable, Sendable {
        public var conv2d = LRPConv2dRuleName.gamma
        public var linear = LRPLinearRuleName.epsilon
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
    /// Kernel k-means only: paper (Eq. 10, the default) or conservative.
    public var kernelRule = KernelRuleName.paper
    /// Kernel k-means only: explain.pruning.tolerance eps (nil: no pruning). Pooling paths whose
    /// min-take-most / footnote-1 weight cannot reach eps are not evaluated (KernelPruningBound).
    public var pruningTolerance: Double? = nil
    public var blockRows: Int
    /// execution.cache_mb: memory per rank (MiB) for keeping the beta pass's cluster scores for
    /// the explain pass (k-means, beta "auto"); 0 turns it off.
    public var cacheMegabytes: Int = JobSpec.defaultCacheMegabytes
    public static let defaultCacheMegabytes = 256
    /// execution.read: who reads the input blocks (root, the default; parallel; auto).
    public var readMode = ReadMode.root
    public var mode: Mode = .relative
    public var lrp = LRP()
    /// The largest output file a job may create (output.max_bytes).
    public var maxOutputBytes: UInt64 = JobSpec.defaultMaxOutputBytes
    /// output.compression: 0 (contiguous) or 1-9 (chunked, shuffle + deflate at that level).
    public var compression = 0

    public static let defaultMaxOutputBytes: UInt64 = 64 << 30
    /// The explanation method (docs/evaluation.md): neon (the default) or a baseline.
    public var method = ExplanationMethodName.neon
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
        public var methods: [ExplanationMethodName]? = nil
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

    /// Every explanation method's name (NeonSettings' ExplanationMethodName, NeonCore's ExplanationMethod).
    public static var methodNames: [String] { ExplanationMethodName.allCases.map(\.rawValue) }
    public static let maxSteps = 100_000
    public static let maxRepeats = 10_000
    public static let maxSeed = 1 << 53
    public static var methodList: String { ExplanationMethodName.quotedNames }

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
        self.blockRows = blockRows
    }
}
