/// A neuralized clustering model evaluated on many samples at once (the fast path of one model
/// kind): the job pipeline drives any engine through this interface.
///
/// Contract: rows are processed in tiles of `tileRows` rows relative to the caller's buffer, and
/// each tile's results depend only on that tile's rows (never on other rows, threads or ranks),
/// so that results are identical for any number of MPI ranks.
public protocol ExplainerEngine<Scalar>: AnyObject, Sendable {
    associatedtype Scalar: NeonScalar
    static var tileRows: Int { get }
    var features: Int { get }
    var clusters: Int { get }
    /// Targets explained per sample (explain.target): relevance is rows x targetCount x features
    /// and logit rows x targetCount. 1 for engines that explain the assigned cluster only.
    var targetCount: Int { get }
    /// Dense FLOPs per sample of `logits` and of `explain` (for throughput figures).
    var logitFlopsPerSample: Double { get }
    var explainFlopsPerSample: Double { get }
    /// Assignment and logit f_c of `rows` samples (row-major, `features` columns): all that the
    /// beta "auto" pass (Eq. 3) needs.
    func logits(_ x: UnsafePointer<Scalar>, rows: Int,
                assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>)
    /// Relevance (rows x features), assignment and logit with min-take-most stiffness beta.
    func explain(_ x: UnsafePointer<Scalar>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<Scalar>,
                 assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>)
    /// `explain` for rows whose first has global index `firstRow` (default: `explain`).
    func explain(_ x: UnsafePointer<Scalar>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<Scalar>,
                 assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>, firstRow: Int)

    /// Score caching: an engine whose beta pass can keep what its explain pass would compute
    /// again (k-means: GEMM 1's scores, Eq. 1's logits for every cluster, 2dK of the 8dK FLOPs a
    /// sample costs with beta "auto", Eq. 3) keeps `scoresPerRow` values per row (default 0: it
    /// cannot). Explaining from kept scores gives the same bits as `explain`.
    var scoresPerRow: Int { get }
    /// `logits`, also keeping the scores of the rows in `scores` (rows x scoresPerRow).
    func logits(_ x: UnsafePointer<Scalar>, rows: Int, assignment: UnsafeMutablePointer<Int64>,
                logit: UnsafeMutablePointer<Double>, keepingScores scores: UnsafeMutablePointer<Scalar>)
    /// `explain` from the scores `logits(keepingScores:)` kept for the same rows (consumed).
    func explain(_ x: UnsafePointer<Scalar>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<Scalar>,
                 assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>,
                 cachedScores scores: UnsafeMutablePointer<Scalar>)
}

extension ExplainerEngine {
    /// `explain` for rows whose first has global index `firstRow` (engines with per-sample
    /// random streams use it; deterministic engines ignore it).
    public func explain(_ x: UnsafePointer<Scalar>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<Scalar>,
                        assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>, firstRow: Int) {
        explain(x, rows: rows, beta: beta, relevance: relevance, assignment: assignment, logit: logit)
    }
}

extension ExplainerEngine {
    public var targetCount: Int { 1 }
    public var scoresPerRow: Int { 0 }
    public func logits(_ x: UnsafePointer<Scalar>, rows: Int, assignment: UnsafeMutablePointer<Int64>,
                       logit: UnsafeMutablePointer<Double>, keepingScores scores: UnsafeMutablePointer<Scalar>) {
        preconditionFailure("\(Self.self) keeps no scores (scoresPerRow is 0)")
    }
    public func explain(_ x: UnsafePointer<Scalar>, rows: Int, beta: Double, relevance: UnsafeMutablePointer<Scalar>,
                        assignment: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>,
                        cachedScores scores: UnsafeMutablePointer<Scalar>) {
        preconditionFailure("\(Self.self) keeps no scores (scoresPerRow is 0)")
    }
}

