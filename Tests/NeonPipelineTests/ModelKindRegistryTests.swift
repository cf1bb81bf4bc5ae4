import Distributed
import NeonCore
import Storage
import XCTest
@testable import NeonPipeline

/// The model-kind registry: every kind is listed once, survives the broadcast encoding, and
/// says what it supports; the messages that list the kinds keep their text.
final class ModelKindRegistryTests: XCTestCase {
    static func kmeans(seed: UInt64 = 1) -> KMeansModel {
        var rng = SplitMix64(seed: seed)
        return KMeansModel(clusters: 3, features: 4, centroids: (0..<12).map { _ in rng.normal() })
    }

    static func kernel() throws -> KernelKMeansModel {
        var rng = SplitMix64(seed: 2)
        return try KernelKMeansModel(features: 3, supportVectors: (0..<18).map { _ in rng.normal() },
                                     supportCluster: [0, 1, 2, 0, 1, 2], gamma: 0.37)
    }

    static func deepHead(kind: String = "deep_soft") -> ModelFile.HeadModel {
        var rng = SplitMix64(seed: 3)
        let conv = ModelFile.StoredLayer(type: "conv2d", weight: (0..<(2 * 1 * 3 * 3)).map { _ in rng.normal() },
                                         weightShape: [2, 1, 3, 3], bias: [0.1, -0.2], stride: 1, padding: 1, kernelSize: 0)
        let relu = ModelFile.StoredLayer(type: "relu", weight: [], weightShape: [], bias: nil, stride: 1, padding: 0, kernelSize: 0)
        let pool = ModelFile.StoredLayer(type: "global_avg_pool", weight: [], weightShape: [], bias: nil, stride: 1, padding: 0, kernelSize: 0)
        let linear = ModelFile.StoredLayer(type: "linear", weight: (0..<6).map { _ in rng.normal() }, weightShape: [3, 2],
                                           bias: nil, stride: 1, padding: 0, kernelSize: 0)
        return ModelFile.HeadModel(kind: kind, clusters: 2, features: 3, centroids: (0..<6).map { _ in rng.normal() },
                                   stiffness: kind == "soft_kmeans" ? 2.5 : nil, psi: [conv, relu, pool, linear])
    }

    func testEveryKindNameHasExactlyOneType() {
        XCTAssertEqual(ModelKinds.names, ["kmeans", "kernel_kmeans", "soft_kmeans", "deep_kmeans", "deep_soft", "softmax_head"])
        XCTAssertEqual(Set(ModelKinds.names).count, ModelKinds.names.count)
        for name in ModelKinds.names {
            XCTAssertEqual(ModelKinds.all.filter { $0.kindNames.contains(name) }.count, 1, name)
        }
        XCTAssertNil(ModelKinds.type(named: "gmm"))
    }

    /// The unsupported-kind message lists the kinds as before the registry.
    func testKindListInMessages() {
        XCTAssertEqual(ModelKinds.nameList, "\"kmeans\", \"kernel_kmeans\", \"soft_kmeans\", \"deep_kmeans\", \"deep_soft\" or \"softmax_head\"")
    }

    func testBroadcastEncodingRoundTrips() throws {
        let k = Self.kmeans()
        XCTAssertEqual(KMeansModel.decode(k.encode()), k)
        let kk = try Self.kernel()
        XCTAssertEqual(KernelKMeansModel.decode(kk.encode()), kk)
        for kind in ModelFile.HeadModel.kindNames {
            let h = Self.deepHead(kind: kind)
            XCTAssertEqual(ModelFile.HeadModel.decode(h.encode()), h, kind)
        }
        for psi in [[], Self.deepHead().psi] {
            let s = ModelFile.SoftmaxHead(clusters: 3, features: 5, weight: (0..<15).map { Double($0) / 7 - 1 },
                                          bias: [0.5, -0.25, 0], psi: psi)
            XCTAssertEqual(ModelFile.SoftmaxHead.decode(s.encode()), s)
            XCTAssertEqual(NeonModel.broadcast(NeonModel(s), Communicator.world).fingerprint, NeonModel(s).fingerprint)
        }
    }

    /// A model on one rank is the same model on every rank (here the world of one rank).
    func testNeonModelBroadcastKeepsKindAndFingerprint() throws {
        for base: any ModelKind in [Self.kmeans(), try Self.kernel(), Self.deepHead(kind: "soft_kmeans")] {
            let sent = NeonModel.broadcast(NeonModel(base), Communicator.world)
            XCTAssertEqual(sent.kind, base.kind)
            XCTAssertEqual(sent.fingerprint, NeonModel(base).fingerprint)
        }
    }

    /// The resume key's fingerprint changes with any number of the model.
    func testFingerprintSeesEveryCentroid() {
        let a = Self.kmeans()
        for i in a.centroids.indices {
            var c = a.centroids
            c[i] = c[i].nextUp
            XCTAssertNotEqual(NeonModel(KMeansModel(clusters: 3, features: 4, centroids: c)).fingerprint, NeonModel(a).fingerprint)
        }
        XCTAssertTrue(NeonModel(a).fingerprint.hasPrefix("kmeans, K = 3, d = 4, fnv1a64 "))
    }

    func testCapabilities() throws {
        XCTAssertEqual(Self.kmeans().capabilities, .nearestCentroid)
        XCTAssertEqual(try Self.kernel().capabilities, .pruning)
        XCTAssertEqual(Self.deepHead(kind: "soft_kmeans").capabilities, .absoluteMode)
        XCTAssertEqual(Self.deepHead(kind: "deep_soft").capabilities, .absoluteMode)
        XCTAssertEqual(Self.deepHead(kind: "deep_kmeans").capabilities, [])
    }

    func testConservationClaims() {
        XCTAssertEqual(KMeansModel.conservation { _ in nil }?.0, true)
        XCTAssertEqual(KernelKMeansModel.conservation { $0 == "explain.kernel_rule" ? "conservative" : nil }?.0, true)
        XCTAssertEqual(KernelKMeansModel.conservation { _ in "paper" }?.0, false)
        XCTAssertNil(ModelFile.HeadModel.conservation { _ in nil })
    }

    /// Each kind's engine in float64 gives the logits its decision (the reference) gives.
    func testEnginesAgreeWithDecisions() throws {
        let job = try JobSpec.parse(text: """
            {"input": {"file": "x.h5", "dataset": "features"}, "model": {"file": "m.h5"}, "output": {"file": "o.h5"}}
            """, jobPath: "/tmp/job.json")
        var rng = SplitMix64(seed: 9)
        let kinds: [(any ModelKind, [Int])] = [(Self.kmeans(), [4]), (try Self.kernel(), [3]), (Self.deepHead(), [1, 4, 4])]
        for (model, shape) in kinds {
            let d = shape.reduce(1, *), rows = 5
            let x = (0..<(rows * d)).map { _ in rng.normal() }
            let engine = model.engine(Double.self, job: job, targets: [nil], input: TensorShape(sampleShape: shape))
            var a = [Int64](repeating: 0, count: rows), f = [Double](repeating: 0, count: rows)
            engine.logits(x, rows: rows, assignment: &a, logit: &f)
            let decision = model.decision(job: job, sampleShape: shape)
            for r in 0..<rows {
                let xr = Array(x[(r * d)..<((r + 1) * d)])
                XCTAssertEqual(Int(a[r]), decision.assign(xr), model.kind)
                XCTAssertEqual(f[r], decision.logit(xr, cluster: Int(a[r])), accuracy: 1e-9 * max(1, abs(f[r])), model.kind)
            }
            XCTAssertEqual(model.logitSum(x, rows: rows, job: job, decision: decision), f.reduce(0, +),
                           accuracy: 1e-9 * max(1, abs(f.reduce(0, +))), model.kind)
        }
    }
}
