import Distributed
import NeonCore
import Storage

/// The clustering model of a job: one registered kind (ModelKinds), as every rank holds it.
package struct NeonModel: Sendable {
    package let base: any ModelKind

    package init(_ base: any ModelKind) { self.base = base }

    package var kind: String { base.kind }
    package var clusters: Int { base.clusters }
    package var features: Int { base.features }
    package var summary: String { base.summary }
    package var capabilities: ModelCapabilities { base.capabilities }

    /// A fingerprint of every number the explanations depend on (for resuming).
    package var fingerprint: String {
        var fp = Fingerprint()
        base.fingerprint(into: &fp)
        return "\(summary), d = \(features), fnv1a64 \(fp.hex)"
    }

    /// Sends rank 0's model to every rank (collective; other ranks pass nil): the kind's place in
    /// the registry, then its flat encoding.
    package static func broadcast(_ model: NeonModel?, _ comm: Communicator) -> NeonModel {
        let index = comm.broadcast([model.map { m in
            ModelKinds.all.firstIndex { ObjectIdentifier($0) == ObjectIdentifier(type(of: m.base)) }!
        } ?? 0])[0]
        let values = comm.broadcast(model?.base.encode() ?? [])
        if comm.isRoot, let m = model { return m }
        return NeonModel(ModelKinds.all[index].decode(values))
    }
}

extension NeonModel {
    /// The model as the explainers and Algorithm 1 see it, for samples of `sampleShape` ([d] or
    /// [C, H, W]; checked against the model by the job set-up).
    package func decision(job: JobSpec, sampleShape: [Int]) -> ClusterDecision {
        base.decision(job: job, sampleShape: sampleShape)
    }

    package func pdacsProblem(sampleShape: [Int]) -> String? { base.pdacsProblem(sampleShape: sampleShape) }
}
