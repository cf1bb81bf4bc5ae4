import NeonCore
import Storage

/// The stored head as NeonCore's ClusterHead and PsiLayers, and its flat broadcast encoding.
extension ModelFile.HeadModel {
    /// The layers of the stored Psi as NeonCore layers.
    var psiLayers: [PsiLayer] {
        psi.map { l in
            switch l.type {
            case "conv2d":
                let s = l.weightShape
                return .conv2d(Conv2DLayer(outChannels: s[0], inChannels: s[1], kernelHeight: s[2], kernelWidth: s[3],
                                           stride: l.stride, padding: l.padding, weight: l.weight, bias: l.bias))
            case "linear":
                return .linear(LinearLayer(outFeatures: l.weightShape[0], inFeatures: l.weightShape[1], weight: l.weight, bias: l.bias))
            case "relu": return .relu
            case "maxpool2d": return .maxPool2d(kernel: l.kernelSize, stride: l.stride)
            case "avgpool2d": return .avgPool2d(kernel: l.kernelSize, stride: l.stride)
            case "global_avg_pool": return .globalAvgPool
            default: return .flatten
            }
        }
    }

    /// The head in a given explain.mode: distance logits with tau (soft_kmeans) or 1
    /// (deep_kmeans), dot-product logits (deep_soft).
    func clusterHead(mode: JobSpec.Mode) -> ClusterHead {
        let logits: ClusterHead.Logits
        switch kind {
        case "soft_kmeans": logits = .distance(stiffness: stiffness ?? 1)
        case "deep_kmeans": logits = .distance(stiffness: 1)
        default: logits = .dot
        }
        let headMode: ClusterHead.Mode
        switch mode {
        case .relative: headMode = .relative
        case .absolute(let t): headMode = .absolute(theta: t)
        }
        return ClusterHead(clusters: clusters, features: features, centroids: centroids, logits: logits, mode: headMode)
    }

    package func encode() -> [Double] {
        var out: [Double] = [Double(Self.kindNames.firstIndex(of: kind)!), Double(clusters), Double(features),
                             stiffness ?? 0, Double(psi.count)]
        out += centroids
        for l in psi {
            out += [Double(ModelFile.layerTypes.firstIndex(of: l.type)!), Double(l.stride), Double(l.padding),
                    Double(l.kernelSize), Double(l.weightShape.count)] + l.weightShape.map(Double.init)
            out += [Double(l.weight.count)] + l.weight
            out += [l.bias == nil ? -1 : Double(l.bias!.count)] + (l.bias ?? [])
        }
        return out
    }

    package static func decode(_ v: [Double]) -> ModelFile.HeadModel {
        var i = 0
        func take(_ n: Int) -> [Double] { defer { i += n }; return Array(v[i..<(i + n)]) }
        func one() -> Double { take(1)[0] }
        let kind = kindNames[Int(one())], K = Int(one()), D = Int(one()), tau = one(), layers = Int(one())
        let centroids = take(K * D)
        var psi: [ModelFile.StoredLayer] = []
        for _ in 0..<layers {
            let type = ModelFile.layerTypes[Int(one())]
            let stride = Int(one()), padding = Int(one()), kernel = Int(one())
            let shape = take(Int(one())).map { Int($0) }
            let weight = take(Int(one()))
            let nb = Int(one())
            let bias = nb < 0 ? nil : take(nb)
            psi.append(ModelFile.StoredLayer(type: type, weight: weight, weightShape: shape, bias: bias, stride: stride,
                                             padding: padding, kernelSize: kernel))
        }
        return ModelFile.HeadModel(kind: kind, clusters: K, features: D, centroids: centroids,
                                   stiffness: kind == "soft_kmeans" ? tau : nil, psi: psi)
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
