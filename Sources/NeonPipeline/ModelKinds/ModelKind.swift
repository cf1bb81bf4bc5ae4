import NeonCore
import Storage

/// One kind of clustering model (the root attribute `kind` of its model file,
/// docs/file-formats.md): how it is read and checked, sent to every rank, explained by NEON in
/// either precision, decided for Algorithm 1, and described in summaries, resume keys and
/// provenance. Adding a kind: a folder in ModelKinds/ with one conformance, and one line in
/// `ModelKinds.all`.
package protocol ModelKind: Sendable {
    /// The values of `kind` this type reads, in the order error messages list them.
    static var kindNames: [String] { get }
    /// Reads and checks the model of an open model file (messages name the file and dataset).
    static func load(_ reader: ModelFile.Reader) throws -> Self
    /// A flat encoding for the broadcast from rank 0 (`decode(encode())` is the same model).
    func encode() -> [Double]
    static func decode(_ values: [Double]) -> Self

    var kind: String { get }
    /// The dataset whose columns are the features (for messages; default "centroids").
    var featureDataset: String { get }
    var clusters: Int { get }
    /// Features of the head's input: x, or a = Psi(x) for deep models.
    var features: Int { get }
    /// "kmeans, K = 10": validate's and the run summary's model line.
    var summary: String { get }
    /// Adds every number the explanations depend on (the resume key's model fingerprint).
    func fingerprint(into fp: inout Fingerprint)
    /// What NEON can do with this kind beyond the assigned cluster's relevance.
    var capabilities: ModelCapabilities { get }

    /// The model against the job's input (default: the same number of features).
    func check(input: InputDataset, job: JobSpec) throws
    /// The input's shape in the resume key (default: N x d).
    func inputKey(_ input: InputDataset) -> String
    /// Resume-key entries of how the model is explained (kernel rule, mode, LRP rules).
    func explainKey(job: JobSpec) -> [(String, String)]
    /// The `rules` attribute of a NEON output.
    func rules(job: JobSpec) -> String
    /// Output attributes only this kind has (run, and with `evaluation` evaluate).
    func attributes(job: JobSpec, evaluation: Bool) -> [(String, AttributeValue)]
    /// Why PDAcs does not apply to inputs of `sampleShape`, or nil.
    func pdacsProblem(sampleShape: [Int]) -> String?

    /// Whether NEON's relevance in an output of this kind sums to f_c, and why (inspect's
    /// check); `explainKey` reads the output's resume-key entries (e.g. "explain.kernel_rule").
    /// nil: not known for this kind.
    static func conservation(explainKey: (String) -> String?) -> (Bool, String)?

    /// NEON's engine for the job's targets in precision S (the fast path of the kind).
    /// S is Float or Double (KernelScalar: every NeonScalar the kernel fast paths also take).
    func engine<S: KernelScalar>(_ scalar: S.Type, job: JobSpec, targets: [Int?], input: TensorShape) -> any ExplainerEngine<S>
    /// The model as the baseline explainers and Algorithm 1 see it.
    func decision(job: JobSpec, sampleShape: [Int]) -> ClusterDecision
    /// sum of f_c over `rows` rows (row-major float64) in row order, by the kind's fast path
    /// (evaluate's beta "auto", Eq. 3); `decision` is `decision(job:sampleShape:)`.
    func logitSum(_ x: [Double], rows: Int, job: JobSpec, decision: ClusterDecision) -> Double
}

/// What a kind supports (checked against the job before anything is computed).
package struct ModelCapabilities: OptionSet, Sendable {
    package let rawValue: Int
    package init(rawValue: Int) { self.rawValue = rawValue }
    /// explain.mode "absolute" (Prop. 7): softmax models.
    package static let absoluteMode = ModelCapabilities(rawValue: 1)
    /// explain.pruning (kernel k-means).
    package static let pruning = ModelCapabilities(rawValue: 2)
    /// explain.method "nca" (nearest centroid analysis: centroids in input space).
    package static let nearestCentroid = ModelCapabilities(rawValue: 4)
}

extension ModelKind {
    package var capabilities: ModelCapabilities { [] }

    package func check(input: InputDataset, job: JobSpec) throws { try checkFeatures(input: input, job: job) }

    /// The dataset whose columns are the features (for messages).
    package var featureDataset: String { "centroids" }

    /// The default check: as many features as the input has.
    package func checkFeatures(input: InputDataset, job: JobSpec) throws {
        guard features == input.features else {
            throw StorageError("\(job.modelFile): dataset '\(featureDataset)' has \(features) features but dataset '\(job.inputDataset)' of \(job.inputFile) has \(input.features)")
        }
    }
    package func inputKey(_ input: InputDataset) -> String { "\(input.rows) x \(input.features) \(input.element.rawValue)" }
    package func explainKey(job: JobSpec) -> [(String, String)] { [] }
    package func attributes(job: JobSpec, evaluation: Bool) -> [(String, AttributeValue)] { [] }
    package func pdacsProblem(sampleShape: [Int]) -> String? { nil }
    package static func conservation(explainKey: (String) -> String?) -> (Bool, String)? { nil }
}

/// sum of f_c over rows by an engine's `logits`, in row order.
func logitSum(_ x: [Double], rows: Int, engine: some ExplainerEngine<Double>) -> Double {
    var assignment = [Int64](repeating: 0, count: rows), logit = [Double](repeating: 0, count: rows)
    engine.logits(x, rows: rows, assignment: &assignment, logit: &logit)
    return logit.reduce(0, +)
}

/// The registry of model kinds: the one place that lists them.
package enum ModelKinds {
    package static let all: [any ModelKind.Type] = [
        KMeansModel.self,
        KernelKMeansModel.self,
        ModelFile.HeadModel.self,
        ModelFile.SoftmaxHead.self,
    ]

    /// Every kind name, in registry order.
    package static var names: [String] { all.flatMap { $0.kindNames } }

    /// "\"kmeans\", \"kernel_kmeans\", ... or \"deep_soft\"" (for messages).
    package static var nameList: String {
        let quoted = names.map { "\"\($0)\"" }
        return quoted.dropLast().joined(separator: ", ") + " or " + quoted.last!
    }

    package static func type(named kind: String) -> (any ModelKind.Type)? {
        all.first { $0.kindNames.contains(kind) }
    }

    /// Reads a model file of any registered kind.
    package static func load(path: String) throws -> NeonModel {
        let reader = try ModelFile.Reader(path: path)
        guard let type = type(named: reader.kind) else {
            throw StorageError("\(path): model kind '\(reader.kind)' is not supported (expected \(nameList))")
        }
        return NeonModel(try type.load(reader))
    }
}
