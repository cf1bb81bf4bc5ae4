import Foundation

/// The output of `neon-batch evaluate` (layout in docs/evaluation.md), written by rank 0 alone
/// once every rank's results are gathered: status "incomplete" until every dataset and attribute
/// is written, then "complete".
///   methods (M strings), auc (N x M x R: sample, method, repeat), auc_mean (N x M, over repeats),
///   assignment (N, int64: the explained cluster c), sample_index (N, int64: the input row), insertion_curve (M x d: mean g_c after t
///   features), summary/mean and summary/standard_error (M), root attributes (settings, provenance).
public enum EvaluationOutput {
    public struct Contents {
        public var methods: [String]
        public var repeats: Int
        public var samples: Int
        public var features: Int
        /// auc[(n * M + m) * R + r]
        public var auc: [Double]
        public var assignment: [Int64]
        /// The input row of each evaluated sample.
        public var sampleIndex: [Int64]
        /// curve[m * d + t]
        public var curve: [Double]
        public var attributes: [(String, AttributeValue)]

        public init(methods: [String], repeats: Int, samples: Int, features: Int, auc: [Double],
                    assignment: [Int64], sampleIndex: [Int64], curve: [Double], attributes: [(String, AttributeValue)]) {
            self.sampleIndex = sampleIndex
            self.methods = methods
            self.repeats = repeats
            self.samples = samples
            self.features = features
            self.auc = auc
            self.assignment = assignment
            self.curve = curve
            self.attributes = attributes
        }

        /// Per sample and method, the mean over repeats (N x M).
        public var meanAUC: [Double] {
            let M = methods.count, R = repeats
            return (0..<(samples * M)).map { k in (0..<R).reduce(0) { $0 + auc[k * R + $1] } / Double(R) }
        }

        /// Per method: the mean over samples of the per-sample AUC, and its standard error
        /// (sample standard deviation / sqrt N; 0 for one sample).
        public var summary: [(mean: Double, standardError: Double)] {
            let M = methods.count, per = meanAUC, N = Double(samples)
            return (0..<M).map { m in
                let v = (0..<samples).map { per[$0 * M + m] }
                let mean = v.reduce(0, +) / N
                let ss = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
                return (mean, samples > 1 ? (ss / (N - 1)).squareRoot() / N.squareRoot() : 0)
            }
        }
    }

    public static func write(path: String, _ c: Contents) throws {
        let file = try H5WriteFile(creating: path, communicator: nil)
        do {
            let M = c.methods.count
            let s = c.summary
            try file.setAttribute("status", "incomplete")
            try file.writeStrings("methods", c.methods)
            try file.write("auc", element: .float64, dims: [c.samples, M, c.repeats], values: c.auc)
            try file.write("auc_mean", element: .float64, dims: [c.samples, M], values: c.meanAUC)
            try file.write("assignment", element: .int64, dims: [c.samples], values: c.assignment)
            try file.write("sample_index", element: .int64, dims: [c.samples], values: c.sampleIndex)
            try file.write("insertion_curve", element: .float64, dims: [M, c.features], values: c.curve)
            try file.write("summary/mean", element: .float64, dims: [M], values: s.map(\.mean))
            try file.write("summary/standard_error", element: .float64, dims: [M], values: s.map(\.standardError))
            for (name, value) in c.attributes {
                switch value {
                case .string(let v): try file.setAttribute(name, v)
                case .double(let v): try file.setAttribute(name, v)
                case .int(let v): try file.setAttribute(name, v)
                }
            }
            try file.flush()
            try file.setAttribute("status", "complete")
            try file.close()
        } catch {
            try? file.close()
            throw error
        }
    }
}
