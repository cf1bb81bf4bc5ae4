import Foundation
import NeonCore
import NeonTestSupport
import Storage

/// Test data written with the project's own HDF5 writer.
struct Fixture {
    let directory: TemporaryDirectory
    var dir: URL { directory.url }

    init() throws {
        HDF5Library.silenceErrorStack()
        directory = try TemporaryDirectory(prefix: "neon-e2e")
    }

    func remove() { directory.remove() }

    func path(_ name: String) -> String { directory.path(name) }

    /// Blobs around K centres with overlap (so that some points lie near decision boundaries).
    static func blobs(rows: Int, features d: Int, clusters K: Int, seed: UInt64)
        -> (x: [Double], centroids: [Double]) {
        var rng = SplitMix64(seed: seed)
        let centres = (0..<(K * d)).map { _ in 4 * rng.normal() + 20 }
        var x = [Double](repeating: 0, count: rows * d)
        for r in 0..<rows {
            let k = Int.random(in: 0..<K, using: &rng)
            for i in 0..<d { x[r * d + i] = centres[k * d + i] + 2.5 * rng.normal() }
        }
        return (x, centres.map { $0 + 0.3 * rng.normal() })
    }

    /// The input and k-means model of the interruption tests: 30000 x 64 rows around K = 200
    /// centres (seed 21), slow enough to stop after a few blocks of a few hundred rows.
    func writeSlowExport() throws {
        let (n, d, k) = (30000, 64, 200)
        let data = Fixture.blobs(rows: n, features: d, clusters: k, seed: 21)
        try writeInput(rows: n, features: d, values: data.x)
        try writeModel(clusters: k, features: d, centroids: data.centroids)
    }

    @discardableResult
    func writeInput(_ name: String = "data.h5", dataset: String = "features", rows: Int, features: Int,
                    values: [Double], float32: Bool = true) throws -> String {
        try HDF5Fixtures.writeInput(path(name), dataset: dataset, rows: rows, features: features, values: values,
                                    float32: float32)
    }

    @discardableResult
    func writeModel(_ name: String = "model.h5", kind: String = "kmeans", clusters: Int, features: Int,
                    centroids: [Double]) throws -> String {
        try HDF5Fixtures.writeModel(path(name), kind: kind, clusters: clusters, features: features, centroids: centroids)
    }

    /// Writes a job file; `explain`/`execution`/`extra` are raw JSON members.
    @discardableResult
    func writeJob(_ name: String = "job.json", input: String = "data.h5", dataset: String = "features",
                  model: String = "model.h5", output: String = "out.h5", overwrite: Bool = false,
                  beta: String = "\"auto\"", blockRows: Int = 300, extra: String = "",
                  kernelRule: String? = nil, target: String = "\"assigned\"", explainExtra: String = "") throws -> String {
        let rule = (kernelRule.map { ", \"kernel_rule\": \"\($0)\"" } ?? "") + explainExtra
        let text = """
            {
              "input": {"file": "\(input)", "dataset": "\(dataset)"},
              "model": {"file": "\(model)"},
              "output": {"file": "\(output)", "overwrite": \(overwrite)},
              "explain": {"beta": \(beta), "target": \(target)\(rule)},
              "execution": {"block_rows": \(blockRows)}\(extra)
            }
            """
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }
}
