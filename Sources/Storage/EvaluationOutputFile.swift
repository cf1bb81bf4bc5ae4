import Foundation

/// The evaluation output as `neon-batch evaluate` writes it: rank 0 alone, created
/// with its per-sample datasets and an empty progress record, then one block of samples at a
/// time (their AUCs, clusters and curve counts, flushed, then the block marked done and
/// flushed again), then the summaries and "complete". A run that stops or fails in between
/// leaves an "incomplete" file whose done blocks a resumed run keeps (PartialEvaluation).
/// Rank 0 writes it through the MPI-IO driver on MPI_COMM_SELF, as the ranks write `run`'s
/// output: HDF5's default (sec2) driver locks the file, so nothing could follow its progress,
/// and HDF5 1.10 crashes at shutdown (in MPI_Finalize) after a sec2 file failed to close on a
/// full disk; the MPI-IO driver does neither. (`methods` is therefore a fixed-length string
/// dataset: parallel HDF5 cannot write variable-length data.)
public final class EvaluationOutputFile {
    public struct Shape: Equatable, Sendable {
        public let samples: Int, methods: Int, repeats: Int, features: Int, blocks: Int
        public init(samples: Int, methods: Int, repeats: Int, features: Int, blocks: Int) {
            (self.samples, self.methods, self.repeats, self.features, self.blocks) = (samples, methods, repeats, features, blocks)
        }

        /// Bytes of the finished file (per sample: auc, auc_mean, assignment, sample_index; per
        /// block: its progress entries; the curve and summaries) plus room for HDF5's metadata.
        public var expectedBytes: UInt64 {
            let perSample = 8 * (methods * repeats + methods + 2), perBlock = 8 * (1 + methods * features)
            return UInt64(samples * perSample + blocks * perBlock + 8 * methods * (features + 2)) + (1 << 20)
        }
    }

    private let file: H5WriteFile
    public let shape: Shape
    public var path: String { file.path }

    /// Creates the file: methods, sample_index, the (unwritten) auc and assignment datasets, the
    /// progress record (no block done), the resume key and `attributes`, flushed to disk.
    public init(creating path: String, shape: Shape, methods: [String], sampleIndex: [Int64],
                key: [(String, String)], attributes: [(String, AttributeValue)]) throws {
        precondition(methods.count == shape.methods && sampleIndex.count == shape.samples)
        self.shape = shape
        file = try H5WriteFile(creating: path, communicator: .selfOnly)
        do {
            try file.setAttribute("status", "incomplete")
            try file.writeStrings("methods", methods, fixedLength: true)
            try file.createDataset(EvaluationOutput.aucDataset, element: .float64, dims: [shape.samples, shape.methods, shape.repeats])
            try file.createDataset(EvaluationOutput.assignmentDataset, element: .int64, rows: shape.samples, columns: 0)
            try file.write("sample_index", element: .int64, dims: [shape.samples], values: sampleIndex)
            try file.createDataset(EvaluationOutput.blockDoneDataset, element: .int64, rows: shape.blocks, columns: 0)
            let zeros = [Int64](repeating: 0, count: shape.blocks)
            try file.write(EvaluationOutput.blockDoneDataset, rows: 0, count: shape.blocks, from: zeros)
            try file.createDataset(EvaluationOutput.blockCountsDataset, element: .float64, dims: [shape.blocks, shape.methods, shape.features])
            try file.setAttribute("blocks", shape.blocks)
            try file.setAttribute("blocks_done", 0)
            for (name, value) in key { try file.setAttribute(RelevanceOutput.keyPrefix + name, value) }
            try set(attributes)
            try file.flush()
        } catch {
            try? file.close()
            throw error
        }
    }

    /// Reopens a partial output to continue it.
    public init(resuming path: String, shape: Shape) throws {
        self.shape = shape
        file = try H5WriteFile(opening: path, communicator: .selfOnly)
        do {
            try file.openDataset(EvaluationOutput.aucDataset, element: .float64)
            try file.openDataset(EvaluationOutput.assignmentDataset, element: .int64)
            try file.openDataset(EvaluationOutput.blockDoneDataset, element: .int64)
            try file.openDataset(EvaluationOutput.blockCountsDataset, element: .float64)
        } catch {
            try? file.close()
            throw error
        }
    }

    /// Writes samples [start, start + count) (block `block`): auc (count x M x R), assignment
    /// (count) and the block's curve counts (M x d), flushes, then records the block as done
    /// (and `blocksDone` in the attribute) and flushes again: a block is marked done only once
    /// its values are on disk.
    public func write(block: Int, start: Int, count: Int, auc: [Double], assignment: [Int64],
                      curveCounts: [Double], blocksDone: Int) throws {
        precondition(auc.count == count * shape.methods * shape.repeats && assignment.count == count
                     && curveCounts.count == shape.methods * shape.features)
        try file.write(EvaluationOutput.aucDataset, rows: start, count: count, from: auc)
        try file.write(EvaluationOutput.assignmentDataset, rows: start, count: count, from: assignment)
        try file.write(EvaluationOutput.blockCountsDataset, rows: block, count: 1, from: curveCounts)
        try file.flush()
        var one: Int64 = 1
        try file.write(EvaluationOutput.blockDoneDataset, rows: block, count: 1, from: &one)
        try file.setAttribute("blocks_done", blocksDone)
        try file.flush()
    }

    /// Writes the summaries of the complete results and the final attributes, then marks the
    /// file "complete" and closes it. Only a file that went through here says "complete".
    public func finish(_ c: EvaluationOutput.Contents) throws {
        do {
            let M = c.methods.count, s = c.summary
            try file.write("auc_mean", element: .float64, dims: [c.samples, M], values: c.meanAUC)
            try file.write("insertion_curve", element: .float64, dims: [M, c.features], values: c.curve)
            try file.write("summary/mean", element: .float64, dims: [M], values: s.map(\.mean))
            try file.write("summary/standard_error", element: .float64, dims: [M], values: s.map(\.standardError))
            try set(c.attributes)
            try file.flush()
            try file.setAttribute("status", "complete")
            try file.close()
        } catch {
            try? file.close()
            throw error
        }
    }

    /// Closes without marking complete (stopped, or failed elsewhere): the file stays
    /// "incomplete" and its progress record says which blocks are done.
    public func abandon() { try? file.close() }

    private func set(_ attributes: [(String, AttributeValue)]) throws {
        for (name, value) in attributes {
            switch value {
            case .string(let v): try file.setAttribute(name, v)
            case .double(let v): try file.setAttribute(name, v)
            case .int(let v): try file.setAttribute(name, v)
            }
        }
    }
}

/// What a partial evaluation output holds, read by rank 0 before resuming: its status, resume
/// key, stored sigma and beta, which blocks are done and their results.
public struct PartialEvaluation: Sendable {
    public let status: String
    public let key: [(String, String)]
    public let sigma: Double?
    public let sigmaIterations: Int?
    public let beta: Double?
    public let blockDone: [Bool]
    /// Whole datasets (the rows of blocks not done are undefined).
    public let auc: [Double]
    public let assignment: [Int64]
    public let blockCounts: [Double]

    public static func read(path: String) throws -> PartialEvaluation {
        let f: StoredFile
        do { f = try StoredFile(path: path) } catch {
            throw StorageError("\(path): cannot resume: not a readable HDF5 evaluation output")
        }
        guard let status = try? f.stringAttribute("status") else {
            throw StorageError("\(path): cannot resume: no 'status' attribute (not a neon-batch output)")
        }
        if status == "complete" {
            return PartialEvaluation(status: status, key: [], sigma: nil, sigmaIterations: nil, beta: nil, blockDone: [],
                                     auc: [], assignment: [], blockCounts: [])
        }
        guard let done = try? f.int64s(EvaluationOutput.blockDoneDataset),
              let counts = try? f.doubles(EvaluationOutput.blockCountsDataset),
              let auc = try? f.doubles(EvaluationOutput.aucDataset),
              let assignment = try? f.int64s(EvaluationOutput.assignmentDataset) else {
            throw StorageError("\(path): cannot resume: no evaluation progress record (dataset '\(EvaluationOutput.blockDoneDataset)')")
        }
        return PartialEvaluation(status: status, key: f.resumeKey, sigma: f.numberAttribute("sigma"),
                                 sigmaIterations: f.numberAttribute("sigma_iterations").map { Int($0) },
                                 beta: f.numberAttribute("beta"), blockDone: done.map { $0 == 1 },
                                 auc: auc, assignment: assignment, blockCounts: counts)
    }

    /// The first difference between this output's resume key and the job's, as a message.
    public func mismatch(with key: [(String, String)], path: String) -> String? {
        PartialOutput.mismatch(stored: self.key, job: key, path: path)
    }
}
