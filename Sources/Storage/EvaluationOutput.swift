import Foundation

/// The output of `neon-batch evaluate` (layout in docs/evaluation.md), written by rank 0 alone,
/// block by block (EvaluationOutputFile): status "incomplete" until every block, dataset and
/// attribute is written, then "complete".
///   methods (M strings), auc (N x M x R: sample, method, repeat), auc_mean (N x M, over repeats),
///   assignment (N, int64: the explained cluster c), sample_index (N, int64: the input row),
///   insertion_curve (M x d: mean g_c after t features), summary/mean and summary/standard_error
///   (M), progress/block_done (B, int64) and progress/block_curve_counts (B x M x d, float64:
///   each block's integer curve counts), root attributes (settings, resume key, provenance).
public enum EvaluationOutput {
    public static let aucDataset = "auc"
    public static let assignmentDataset = "assignment"
    public static let blockDoneDataset = "progress/block_done"
    public static let blockCountsDataset = "progress/block_curve_counts"

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
}
