import NeonCore
import Storage

/// The kinds whose model is a cluster head on a = Psi(x), or on x without Psi (Sec. IV, Props.
/// 6-7): soft/deep clustering heads and softmax heads. NEON goes through the head in explain.mode
/// and through Psi by the LRP rules of explain.lrp; everything but the head's logits is shared.
package protocol PsiHeadKind: ModelKind {
    /// The feature extractor as stored (empty: the head sees x).
    var psi: [ModelFile.StoredLayer] { get }
    /// The head in a given explain.mode.
    func clusterHead(mode: JobSpec.Mode) -> ClusterHead
    /// Output attributes of the head's own parameters (e.g. soft k-means' tau).
    var parameterAttributes: [(String, AttributeValue)] { get }
}

extension PsiHeadKind {
    package var parameterAttributes: [(String, AttributeValue)] { [] }

    /// The layers of the stored Psi as NeonCore layers.
    var psiLayers: [PsiLayer] { psi.map(\.psiLayer) }

    /// Psi must chain from the input samples to the head's dimension.
    package func check(input: InputDataset, job: JobSpec) throws {
        guard !psi.isEmpty else { return try checkFeatures(input: input, job: job) }
        let shape = TensorShape(sampleShape: input.sampleShape)
        let shapes: [TensorShape]
        do {
            shapes = try PsiNetwork<Double>.shapes(layers: psiLayers, input: shape)
        } catch let e as PsiShapeError {
            let whose = e.layer == 0 ? " (dataset '\(job.inputDataset)' of \(job.inputFile))" : ""
            throw StorageError("\(job.modelFile): \(e.reason)\(whose)")
        }
        guard shapes.last!.count == features else {
            throw StorageError("\(job.modelFile): dataset '\(featureDataset)' has \(features) features but psi gives \(shapes.last!) on samples \(shape)")
        }
    }

    /// N x d, or N x C x H x W.
    package func inputKey(_ input: InputDataset) -> String {
        "\(input.rows) x \(input.sampleShape.map(String.init).joined(separator: " x ")) \(input.element.rawValue)"
    }

    package func explainKey(job: JobSpec) -> [(String, String)] {
        [("explain.mode", JobSetup.modeText(job.mode))] + (psi.isEmpty ? [] : [("explain.lrp", job.lrp.rules.summary)])
    }

    package func rules(job: JobSpec) -> String {
        var head: String
        switch job.mode {
        case .relative: head = "relative (Prop. 6 / Lemma 3): min-take-most (Eq. 2)"
        case .absolute(let t): head = "absolute (Prop. 7 / Lemma 4, theta = \(t)): LME^-1 pooling, soft-min redistribution with beta, reassignment R_k <- R_k h_k / f_c"
        }
        head += clusterHead(mode: job.mode).logits.midpointRuleSummary
        return psi.isEmpty ? head : head + "; psi: " + job.lrp.rules.summary
    }

    package func attributes(job: JobSpec, evaluation: Bool) -> [(String, AttributeValue)] {
        var out: [(String, AttributeValue)]
        switch job.mode {
        case .relative: out = [("mode", .string("relative"))]
        case .absolute(let theta): out = [("mode", .string("absolute")), ("theta", .double(theta))]
        }
        let layers = psi.map(\.type).joined(separator: ",")
        if evaluation {
            if !psi.isEmpty { out += [("lrp", .string(job.lrp.rules.summary)), ("psi_layers", .string(layers))] }
            return out
        }
        out += parameterAttributes
        if !psi.isEmpty {
            let r = job.lrp.rules
            out += [("lrp_conv2d", .string(job.lrp.conv2d.rawValue)), ("lrp_linear", .string(job.lrp.linear.rawValue)),
                    ("lrp_gamma", .double(r.convGamma)), ("lrp_epsilon", .double(r.epsilon)),
                    ("psi_layers", .string(layers))]
        }
        return out
    }

    /// Soft/deep models on (C, H, W) inputs score channels of activations, which are set to zero
    /// when missing (there PDAcs would be PDA0).
    package func pdacsProblem(sampleShape: [Int]) -> String? {
        guard sampleShape.count == 3 else { return nil }
        return "\"pdacs\" applies to vector inputs only (the input samples are \(TensorShape(sampleShape: sampleShape)): missing channels of activations are set to zero, where PDAcs equals PDA0)"
    }

    package func engine<S: KernelScalar>(_ scalar: S.Type, job: JobSpec, targets: [Int?], input: TensorShape) -> any ExplainerEngine<S> {
        let head = clusterHead(mode: job.mode)
        guard !psi.isEmpty else { return HeadEngine<S>(head: head, targets: targets) }
        // The job set-up checked that Psi chains on this input.
        return DeepEngine<S>(psi: try! PsiNetwork<S>(layers: psiLayers, input: input, rules: job.lrp.rules), head: head, targets: targets)
    }

    /// With the job's explain.mode and explain.lrp (NEON as `run` computes it).
    package func decision(job: JobSpec, sampleShape: [Int]) -> ClusterDecision {
        let shape = TensorShape(sampleShape: sampleShape)
        let network = psi.isEmpty ? nil : try! PsiNetwork<Double>(layers: psiLayers, input: shape, rules: job.lrp.rules)
        return DeepClusteringDecision(head: clusterHead(mode: job.mode), psi: network, input: shape)
    }

    /// By the decision's batched pipeline (Psi, then the head).
    package func logitSum(_ x: [Double], rows: Int, job: JobSpec, decision: ClusterDecision) -> Double {
        (decision as! DeepClusteringDecision).logitSum(x, rows: rows)
    }
}

extension ModelFile.StoredLayer {
    /// The stored layer as a NeonCore layer.
    var psiLayer: PsiLayer {
        switch type {
        case "conv2d":
            let s = weightShape
            return .conv2d(Conv2DLayer(outChannels: s[0], inChannels: s[1], kernelHeight: s[2], kernelWidth: s[3],
                                       stride: stride, padding: padding, weight: weight, bias: bias))
        case "linear":
            return .linear(LinearLayer(outFeatures: weightShape[0], inFeatures: weightShape[1], weight: weight, bias: bias))
        case "relu": return .relu
        case "maxpool2d": return .maxPool2d(kernel: kernelSize, stride: stride)
        case "avgpool2d": return .avgPool2d(kernel: kernelSize, stride: stride)
        case "global_avg_pool": return .globalAvgPool
        default: return .flatten
        }
    }

    /// Psi's layers, flat, for a broadcast: type, stride, padding, kernel size, weight shape,
    /// weight, bias (-1: none).
    static func encode(_ layers: [ModelFile.StoredLayer]) -> [Double] {
        var out: [Double] = []
        for l in layers {
            out += [Double(ModelFile.layerTypes.firstIndex(of: l.type)!), Double(l.stride), Double(l.padding),
                    Double(l.kernelSize), Double(l.weightShape.count)] + l.weightShape.map(Double.init)
            out += [Double(l.weight.count)] + l.weight
            out += [l.bias == nil ? -1 : Double(l.bias!.count)] + (l.bias ?? [])
        }
        return out
    }

    /// `count` layers of `encode`'s form from v[i...]; advances i.
    static func decode(_ v: [Double], at i: inout Int, count: Int) -> [ModelFile.StoredLayer] {
        func take(_ n: Int) -> [Double] { defer { i += n }; return Array(v[i..<(i + n)]) }
        func one() -> Double { take(1)[0] }
        var layers: [ModelFile.StoredLayer] = []
        for _ in 0..<count {
            let type = ModelFile.layerTypes[Int(one())]
            let stride = Int(one()), padding = Int(one()), kernel = Int(one())
            let shape = take(Int(one())).map { Int($0) }
            let weight = take(Int(one()))
            let nb = Int(one())
            let bias = nb < 0 ? nil : take(nb)
            layers.append(ModelFile.StoredLayer(type: type, weight: weight, weightShape: shape, bias: bias, stride: stride,
                                                padding: padding, kernelSize: kernel))
        }
        return layers
    }
}
