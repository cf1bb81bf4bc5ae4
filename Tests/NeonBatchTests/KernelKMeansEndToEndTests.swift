import Foundation
import NeonCore
import Storage
import XCTest

/// Kernel k-means through the whole pipeline (paper Sec. III): identical results for 1, 2, 3
/// ranks, agreement with the explicit Prop. 5 network, both Eq. 10 rules, and bad models.
final class KernelKMeansEndToEndTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws { fx = try Fixture() }
    override func tearDown() { fx.remove() }

    /// Uneven clusters: cluster k has 2 + k support vectors, rows shuffled by cluster.
    func writeKernelModel(_ name: String = "model.h5", features d: Int, clusters K: Int, gamma: Double,
                          supportCluster: [Int64]? = nil, vectors: [Double]? = nil) throws -> (u: [Double], c: [Int]) {
        var rng = SplitMix64(seed: 5)
        var c: [Int64] = []
        for k in 0..<K { c += [Int64](repeating: Int64(k), count: 2 + k) }
        c.shuffle(using: &rng)
        let ids = supportCluster ?? c
        let centres = (0..<(K * d)).map { _ in 3 * rng.normal() }
        let u = vectors ?? c.flatMap { k in (0..<d).map { centres[Int(k) * d + $0] + 0.7 * rng.normal() } }
        let f = try H5WriteFile(creating: fx.path(name), communicator: nil)
        try f.setAttribute("kind", "kernel_kmeans")
        try f.setAttribute("gamma", gamma)
        try f.write("support_vectors", element: .float64, rows: u.count / d, columns: d, values: u)
        try f.write("support_cluster", element: .int64, dims: [ids.count], values: ids)
        try f.close()
        return (u, ids.map { Int($0) })
    }

    func testRanksAgreeAndMatchTheExplicitNetwork() throws {
        let (n, d, K) = (700, 5, 4)
        let model = try writeKernelModel(features: d, clusters: K, gamma: 0.3)
        var rng = SplitMix64(seed: 6)
        let x = (0..<(n * d)).map { _ in 3 * rng.normal() }
        try fx.writeInput(rows: n, features: d, values: x, float32: false)
        let reference = try KernelKMeansModel(features: d, supportVectors: model.u, supportCluster: model.c, gamma: 0.3)
        for rule in ["paper", "conservative"] {
            var outs: [[Double]] = []
            var betas: [Double?] = []
            for p in 1...3 {
                let job = try fx.writeJob("\(rule)\(p).json", output: "\(rule)\(p).h5", blockRows: 300,
                                          extra: "", kernelRule: rule)
                let r = try NeonBatchProcess.run([job, "-q"], ranks: p)
                XCTAssertEqual(r.status, 0, r.stderr)
                let s = try StoredFile(path: fx.path("\(rule)\(p).h5"))
                XCTAssertEqual(try s.stringAttribute("status"), "complete")
                XCTAssertEqual(try s.stringAttribute("model_kind"), "kernel_kmeans")
                outs.append(try s.doubles("relevance") + s.doubles("logit") + s.int64s("assignment").map(Double.init))
                betas.append(s.numberAttribute("beta"))
            }
            XCTAssertEqual(outs[1], outs[0], rule)
            XCTAssertEqual(outs[2], outs[0], rule)
            XCTAssertEqual(betas[1], betas[0])
            let beta = betas[0]!
            let kernelRule = KernelRule(rawValue: rule)!
            for row in stride(from: 0, to: n, by: 37) {
                let xi = Array(x[(row * d)..<((row + 1) * d)])
                let ref = KernelReferenceExplainer.explain(xi, model: reference, beta: beta, rule: kernelRule)
                let got = Array(outs[0][(row * d)..<((row + 1) * d)])
                let scale = max(ref.relevance.map(abs).max()!, 1e-12)
                XCTAssertLessThan(zip(got, ref.relevance).map { abs($0 - $1) }.max()! / scale, 1e-6, "\(rule) row \(row)")
                XCTAssertEqual(outs[0][n * d + row], ref.logit, accuracy: 1e-9 * max(1, abs(ref.logit)))
                if rule == "conservative" {
                    XCTAssertEqual(got.reduce(0, +), ref.logit, accuracy: 1e-8 * max(1, abs(ref.logit)))
                }
            }
        }
    }

    func testDuplicateSupportVectorsAreFine() throws {
        let d = 3
        let u: [Double] = [0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4]
        _ = try writeKernelModel(features: d, clusters: 2, gamma: 1, supportCluster: [0, 0, 1, 1], vectors: u)
        var rng = SplitMix64(seed: 8)
        try fx.writeInput(rows: 50, features: d, values: (0..<150).map { _ in 2 + 2 * rng.normal() })
        let r = try NeonBatchProcess.run([try fx.writeJob(), "-q"], ranks: 2)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(try StoredFile(path: fx.path("out.h5")).doubles("relevance").allSatisfy { $0.isFinite })
    }

    func testBadKernelModels() throws {
        var rng = SplitMix64(seed: 9)
        try fx.writeInput(rows: 20, features: 2, values: (0..<40).map { _ in rng.normal() })
        let u: [Double] = [0, 0, 1, 1, 2, 2]
        let cases: [(String, [Int64], Double, String)] = [
            ("neg.h5", [0, -1, 1], 1, "support_cluster[1] = -1 is negative"),
            ("len.h5", [0, 1], 1, "support_cluster has length 2, expected 3 (one per support vector)"),
            ("gap.h5", [0, 2, 2], 1, "cluster 1 has no support vector (clusters must be 0..K-1)"),
            ("gamma.h5", [0, 1, 1], 0, "gamma must be a finite number > 0, got 0.0"),
        ]
        for (name, ids, gamma, message) in cases {
            _ = try writeKernelModel(name, features: 2, clusters: 2, gamma: gamma, supportCluster: ids, vectors: u)
            let job = try fx.writeJob("\(name).json", model: name)
            let r = try NeonBatchProcess.run([job], ranks: 2, timeout: 60)
            XCTAssertEqual(r.status, 1)
            XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path(name)): \(message)"], r.stderr)
        }
        let job = try fx.writeJob("rule.json", kernelRule: "exact")
        let r = try NeonBatchProcess.run([job], ranks: 2, timeout: 60)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(job): explain.kernel_rule must be \"paper\" or \"conservative\""])
    }
}
