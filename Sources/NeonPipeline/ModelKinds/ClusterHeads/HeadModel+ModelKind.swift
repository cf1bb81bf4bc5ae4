import NeonCore
import Storage

/// kinds "soft_kmeans", "deep_kmeans", "deep_soft" (Sec. IV, Props. 6-7): centroids on x or on
/// a = Psi(x); distance logits z_k = -tau |a - mu_k|^2 (soft_kmeans; tau = 1 for deep_kmeans) or
/// dot logits z_k = mu_k . a (deep_soft). The rest is PsiHeadKind's.
extension ModelFile.HeadModel: PsiHeadKind {
    package static var kindNames: [String] { ["soft_kmeans", "deep_kmeans", "deep_soft"] }

    package static func load(_ reader: ModelFile.Reader) throws -> ModelFile.HeadModel {
        try ModelFile.loadHead(reader)
    }

    package var summary: String {
        let tau = stiffness.map { ", tau = \($0)" } ?? ""
        let layers = psi.isEmpty ? "" : ", psi = " + psi.map(\.type).joined(separator: "-")
        return "\(kind), K = \(clusters)\(tau)\(layers)"
    }

    /// The encoding is the fingerprint too (resume keys of existing outputs depend on it).
    package func fingerprint(into fp: inout Fingerprint) { fp.add(encode()) }

    package var capabilities: ModelCapabilities { kind == "deep_kmeans" ? [] : .absoluteMode }

    package var parameterAttributes: [(String, AttributeValue)] { stiffness.map { [("stiffness", .double($0))] } ?? [] }

    /// Distance logits with tau (soft_kmeans) or 1 (deep_kmeans), dot-product logits (deep_soft).
    package func clusterHead(mode: JobSpec.Mode) -> ClusterHead {
        let logits: ClusterHead.Logits
        switch kind {
        case "soft_kmeans": logits = .distance(stiffness: stiffness ?? 1)
        case "deep_kmeans": logits = .distance(stiffness: 1)
        default: logits = .dot
        }
        return ClusterHead(clusters: clusters, features: features, centroids: centroids, logits: logits, mode: mode.head)
    }

    package func encode() -> [Double] {
        [Double(Self.kindNames.firstIndex(of: kind)!), Double(clusters), Double(features), stiffness ?? 0, Double(psi.count)]
            + centroids + ModelFile.StoredLayer.encode(psi)
    }

    package static func decode(_ v: [Double]) -> ModelFile.HeadModel {
        let kind = kindNames[Int(v[0])], K = Int(v[1]), D = Int(v[2]), tau = v[3], layers = Int(v[4])
        var i = 5 + K * D
        let psi = ModelFile.StoredLayer.decode(v, at: &i, count: layers)
        return ModelFile.HeadModel(kind: kind, clusters: K, features: D, centroids: Array(v[5..<(5 + K * D)]),
                                   stiffness: kind == "soft_kmeans" ? tau : nil, psi: psi)
    }
}

extension JobSpec.Mode {
    /// explain.mode as the head's mode.
    var head: ClusterHead.Mode {
        switch self {
        case .relative: return .relative
        case .absolute(let t): return .absolute(theta: t)
        }
    }
}

extension JobSpec.LRP {
    /// explain.lrp as NeonCore's LRP rules ("zero" is gamma 0).
    var rules: LRPRules {
        LRPRules(convGamma: conv2d == .zero ? 0 : gamma,
                 linearRule: linear == .epsilon ? .epsilon : .gamma,
                 linearGamma: linear == .zero ? 0 : gamma,
                 epsilon: epsilon)
    }
}
