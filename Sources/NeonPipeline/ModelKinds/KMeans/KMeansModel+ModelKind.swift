import NeonCore
import Storage

/// kind "kmeans" (Sec. II): centroids K x d; NEON by min-take-most (Eq. 2) and the midpoint
/// rule (Eq. 4), which conserve f_c; with a target list, each target's logit as a head.
extension KMeansModel: ModelKind {
    package static var kindNames: [String] { ["kmeans"] }

    package static func load(_ reader: ModelFile.Reader) throws -> KMeansModel {
        let m = try ModelFile.loadKMeans(path: reader.path)
        return KMeansModel(clusters: m.clusters, features: m.features, centroids: m.centroids)
    }

    package func encode() -> [Double] { [Double(clusters), Double(features)] + centroids }

    package static func decode(_ v: [Double]) -> KMeansModel {
        KMeansModel(clusters: Int(v[0]), features: Int(v[1]), centroids: Array(v[2...]))
    }

    package var kind: String { "kmeans" }
    package var summary: String { "kmeans, K = \(clusters)" }
    package func fingerprint(into fp: inout Fingerprint) { fp.add(centroids) }
    package var capabilities: ModelCapabilities { .nearestCentroid }

    package static func conservation(explainKey: (String) -> String?) -> (Bool, String)? {
        (true, "k-means: min-take-most and the midpoint rule conserve (Sec. II-B)")
    }

    package func rules(job: JobSpec) -> String { "min-take-most (Eq. 2), midpoint (Eq. 4)" }

    package func engine<S: KernelScalar>(_ scalar: S.Type, job: JobSpec, targets: [Int?], input: TensorShape) -> any ExplainerEngine<S> {
        guard job.target.hasAxis else { return KMeansFastPath<S>(model: self) }
        let head = ClusterHead(clusters: clusters, features: features, centroids: centroids, logits: .distance(stiffness: 1))
        return HeadEngine<S>(head: head, targets: targets)
    }

    package func decision(job: JobSpec, sampleShape: [Int]) -> ClusterDecision { KMeansDecision(model: self) }

    package func logitSum(_ x: [Double], rows: Int, job: JobSpec, decision: ClusterDecision) -> Double {
        NeonPipeline.logitSum(x, rows: rows, engine: KMeansFastPath<Double>(model: self))
    }
}
