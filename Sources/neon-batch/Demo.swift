import ArgumentParser
import Foundation
import NeonCore
import NeonPipeline
import Storage

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a demo dataset, a k-means model and a job file into a folder.",
        discussion: """
            The data are Gaussian blobs (float32) around K random centres; the model's centroids \
            are the blob means. Run the job afterwards with: mpirun -n 2 neon-batch DIR/job.json
            """)

    @Argument(help: "Folder to write data.h5, model.h5 and job.json into (created if missing; existing files only with --force).")
    var directory: String

    @Option(help: "Number of samples.") var rows = 20000
    @Option(help: "Number of features.") var features = 32
    @Option(help: "Number of clusters.") var clusters = 10
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Flag(help: "Overwrite data.h5, model.h5 and job.json if the folder has them.") var force = false

    static let files = ["data.h5", "model.h5", "job.json"]

    func validate() throws {
        guard rows >= 1, features >= 1, clusters >= 2 else {
            throw ValidationError("--rows and --features must be >= 1, --clusters >= 2")
        }
    }

    func run() throws {
        HDF5Library.silenceErrorStack()
        let dir = URL(fileURLWithPath: directory).standardizedFileURL
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), !isDir.boolValue {
            fail("\(dir.path): is a file, not a folder; give demo a folder (new or existing) to write data.h5, model.h5 and job.json into")
        }
        let existing = Self.files.filter { FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).path) }
        if !force, !existing.isEmpty {
            fail("\(dir.path): \(existing.joined(separator: ", ")) already exist\(existing.count == 1 ? "s" : ""); use --force to overwrite, or another folder")
        }
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let data = DemoData(rows: rows, features: features, clusters: clusters, seed: seed)
            try data.write(to: dir)
            print("neon-batch: wrote \(dir.path)/data.h5 (\(rows) x \(features) float32), model.h5 (kmeans, K = \(clusters)), job.json")
        } catch let e as StorageError {
            fail(e.message)
        } catch {
            fail("\(dir.path): \(error.localizedDescription)")
        }
    }
}

/// Gaussian blobs and their means as k-means centroids.
struct DemoData {
    let rows: Int, features: Int, clusters: Int, seed: UInt64

    func write(to dir: URL) throws {
        var rng = SplitMix64(seed: seed)
        let centres = (0..<(clusters * features)).map { _ in Double.random(in: 0..<10, using: &rng) }
        var x = [Float](repeating: 0, count: rows * features)
        var sums = [Double](repeating: 0, count: clusters * features)
        var counts = [Int](repeating: 0, count: clusters)
        for r in 0..<rows {
            let k = r % clusters
            counts[k] += 1
            for i in 0..<features {
                let v = Float(centres[k * features + i] + rng.normal())
                x[r * features + i] = v
                sums[k * features + i] += Double(v)
            }
        }
        let centroids = sums.enumerated().map { $1 / Double(max(counts[$0 / features], 1)) }
        let data = try H5WriteFile(creating: dir.appendingPathComponent("data.h5").path, communicator: nil)
        try data.write("features", element: .float32, rows: rows, columns: features, values: x)
        try data.close()
        let model = try H5WriteFile(creating: dir.appendingPathComponent("model.h5").path, communicator: nil)
        try model.setAttribute("kind", "kmeans")
        try model.write("centroids", element: .float64, rows: clusters, columns: features, values: centroids)
        try model.close()
        let job = """
            {
              "input":     {"file": "data.h5", "dataset": "features"},
              "model":     {"file": "model.h5"},
              "output":    {"file": "out.h5", "overwrite": true},
              "explain":   {"beta": "auto", "target": "assigned"},
              "execution": {"block_rows": 8192}
            }

            """
        try job.write(to: dir.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
    }
}
