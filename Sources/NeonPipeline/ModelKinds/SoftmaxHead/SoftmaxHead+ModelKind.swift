import NeonCore
import Storage

/// kind "softmax_head" (issue 21; docs/file-formats.md): p = sigma(W a + b), z_k = w_k . a + b_k,
/// on a = Psi(x) or on x; trained by `fit` (fit.algorithm "softmax") or exported from torch
/// (python/neon_batch). NEON as for deep_soft (Props. 6-7) with the bias in the detection layer
/// h_k = (w_c - w_k) . a + b_c - b_k, explained by the midpoint rule at the root on h_k = 0
/// nearest 0 (ClusterHead.Logits.affine).
extension ModelFile.SoftmaxHead: PsiHeadKind {
    package static var kindNames: [String] { ["softmax_head"] }

    package static func load(_ reader: ModelFile.Reader) throws -> ModelFile.SoftmaxHead {
        try ModelFile.loadSoftmaxHead(reader)
    }

    package var kind: String { "softmax_head" }
    package var featureDataset: String { "weight" }
    package var capabilities: ModelCapabilities { .absoluteMode }

    package var summary: String {
        "softmax_head, K = \(clusters)" + (psi.isEmpty ? "" : ", psi = " + psi.map(\.type).joined(separator: "-"))
    }

    package func fingerprint(into fp: inout Fingerprint) { fp.add(encode()) }

    package func clusterHead(mode: JobSpec.Mode) -> ClusterHead {
        ClusterHead(clusters: clusters, features: features, centroids: weight, logits: .affine(bias: bias), mode: mode.head)
    }

    /// Relative mode conserves (sum_i R_i = f_c, Prop. 6); absolute mode gives sum_k p_k h_k.
    package static func conservation(explainKey: (String) -> String?) -> (Bool, String)? {
        guard explainKey("explain.mode") == "relative" else {
            return (false, "softmax head in absolute mode: sum_i R_i = sum_k p_k h_k, not f_c (Prop. 7)")
        }
        return (true, "softmax head in relative mode: min-take-most and the midpoint rule conserve (Prop. 6)")
    }

    package func encode() -> [Double] {
        [Double(clusters), Double(features), Double(psi.count)] + weight + bias + ModelFile.StoredLayer.encode(psi)
    }

    package static func decode(_ v: [Double]) -> ModelFile.SoftmaxHead {
        let K = Int(v[0]), D = Int(v[1]), layers = Int(v[2])
        var i = 3 + K * D + K
        let psi = ModelFile.StoredLayer.decode(v, at: &i, count: layers)
        return ModelFile.SoftmaxHead(clusters: K, features: D, weight: Array(v[3..<(3 + K * D)]),
                                     bias: Array(v[(3 + K * D)..<(3 + K * D + K)]), psi: psi)
    }
}
