import NeonCore
import Storage

/// kind "kernel_kmeans" (Sec. III): support vectors M x d with their clusters and the Gaussian
/// kernel's gamma; NEON by soft pooling (footnote 1), min-take-most (Eq. 2), reassignment
/// (Eq. 10, explain.kernel_rule) and the midpoint rule (Eq. 4); pruning (explain.pruning).
extension KernelKMeansModel: ModelKind {
    package static var kindNames: [String] { ["kernel_kmeans"] }

    package static func load(_ reader: ModelFile.Reader) throws -> KernelKMeansModel {
        let m = try ModelFile.loadKernelKMeans(reader)
        do {
            return try KernelKMeansModel(features: m.features, supportVectors: m.supportVectors,
                                         supportCluster: m.supportCluster, gamma: m.gamma)
        } catch let e as KernelKMeansModel.Invalid {
            throw StorageError("\(reader.path): \(e.description)")
        }
    }

    package func encode() -> [Double] { [Double(features), gamma] + supportCluster.map(Double.init) + supportVectors }

    package static func decode(_ v: [Double]) -> KernelKMeansModel {
        let d = Int(v[0]), m = (v.count - 2) / (d + 1)
        // Rank 0 checked this model already.
        return try! KernelKMeansModel(features: d, supportVectors: Array(v[(2 + m)...]),
                                      supportCluster: v[2..<(2 + m)].map { Int($0) }, gamma: v[1])
    }

    package var kind: String { "kernel_kmeans" }
    package var summary: String { "kernel_kmeans, K = \(clusters), M = \(count), gamma = \(gamma)" }
    package var featureDataset: String { "support_vectors" }
    package var capabilities: ModelCapabilities { .pruning }

    package func fingerprint(into fp: inout Fingerprint) {
        fp.add(supportVectors)
        fp.add(supportCluster.map(Double.init))
        fp.add([gamma])
    }

    package func explainKey(job: JobSpec) -> [(String, String)] { [("explain.kernel_rule", job.kernelRule.rawValue)] }

    package static func conservation(explainKey: (String) -> String?) -> (Bool, String)? {
        let rule = explainKey("explain.kernel_rule")
        if rule == "conservative" { return (true, "kernel k-means with kernel_rule conservative") }
        return (false, "kernel k-means with kernel_rule \(rule ?? "paper"): Eq. 10 divides by h_k, so sum_i R_i is not f_c")
    }

    package func rules(job: JobSpec) -> String {
        "min-take-most (Eq. 2), soft pooling (footnote 1), reassignment Eq. 10 (\(job.kernelRule.rawValue)), midpoint (Eq. 4)"
    }

    private func rule(_ job: JobSpec) -> KernelRule { job.kernelRule }

    package func engine<S: KernelScalar>(_ scalar: S.Type, job: JobSpec, targets: [Int?], input: TensorShape) -> any ExplainerEngine<S> {
        if job.target.hasAxis { return KernelTargetsEngine<S>(model: self, rule: rule(job), targets: targets) }
        if let eps = job.pruningTolerance { return KernelKMeansPrunedPath<S>(model: self, rule: rule(job), tolerance: eps) }
        return KernelKMeansFastPath<S>(model: self, rule: rule(job))
    }

    package func decision(job: JobSpec, sampleShape: [Int]) -> ClusterDecision {
        KernelKMeansDecision(model: self, rule: rule(job))
    }

    package func logitSum(_ x: [Double], rows: Int, job: JobSpec, decision: ClusterDecision) -> Double {
        NeonPipeline.logitSum(x, rows: rows, engine: KernelKMeansFastPath<Double>(model: self, rule: rule(job)))
    }
}
