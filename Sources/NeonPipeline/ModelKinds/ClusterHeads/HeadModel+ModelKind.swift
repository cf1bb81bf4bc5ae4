import NeonCore
import Storage

/// kinds "soft_kmeans", "deep_kmeans", "deep_soft" (Sec. IV, Props. 6-7): a cluster head on x or
/// on a = Psi(x); NEON through the head in explain.mode, and through Psi by the LRP rules of
/// explain.lrp. Layers and encoding: HeadModel+Psi.swift.
extension ModelFile.HeadModel: ModelKind {
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
            throw StorageError("\(job.modelFile): dataset 'centroids' has \(features) features but psi gives \(shapes.last!) on samples \(shape)")
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
        head += kind == "deep_soft" ? ", bias-free midpoint rule (root 0)" : ", midpoint rule (Eq. 4)"
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
        if let tau = stiffness { out.append(("stiffness", .double(tau))) }
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
