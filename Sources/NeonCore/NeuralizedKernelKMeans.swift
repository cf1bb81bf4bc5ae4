/// The kernel k-means decision (Eq. 6) for cluster c rewritten as a four-layer network (Prop. 5):
///   h_ijk = w_ij.x + b_ij              (layer 1, detection; w_ij = 2(u_i - u_j), b_ij = |u_j|^2 - |u_i|^2)
///   h_jk  = LME^gamma_{i in C_c} h_ijk  (layer 2, soft max-pooling)
///   h_k   = LME^-gamma_{j in C_k} h_jk  (layer 3, soft min-pooling)
///   f_c   = min_{k != c} h_k            (layer 4, min-pooling); x is assigned to c iff f_c(x) > 0.
/// h_ijk = d_j - d_i (d = squared distance to a support vector) and, by Appendix D (Eqs. 19-22),
/// f_c = min_{k != c} [LME^-gamma_{C_k} d_j - LME^-gamma_{C_c} d_i]. This is the explicit form,
/// neuron by neuron (|C_c| (M - |C_c|) detection neurons, O(|C_c| M d) per sample): the reference
/// the fast path is tested against.
public struct NeuralizedKernelKMeans: Sendable {
    /// One detection neuron h_ijk: own support vector i, competitor support vector j of cluster k.
    public struct Path: Equatable, Sendable {
        public let i: Int, j: Int, k: Int
    }

    public let cluster: Int
    public let gamma: Double
    /// C_c, the own cluster's support vectors.
    public let own: [Int]
    /// The competitors k != c, in increasing order, and their support vectors C_k.
    public let competitors: [Int]
    public let competitorMembers: [[Int]]
    /// Detection neurons ordered by competitor, then j, then i: the neurons pooled into h_jk are
    /// contiguous (|C_c| of them), and so are those under h_k.
    public let paths: [Path]
    public let weights: [[Double]]
    public let biases: [Double]
    /// Midpoints m_ij = (u_i + u_j) / 2 used by the midpoint rule (Eq. 4).
    public let midpoints: [[Double]]
    /// First path of each competitor (index into `paths`), plus paths.count at the end.
    public let competitorStart: [Int]

    public init(model: KernelKMeansModel, cluster c: Int) {
        precondition((0..<model.clusters).contains(c))
        cluster = c
        gamma = model.gamma
        own = model.members[c]
        competitors = (0..<model.clusters).filter { $0 != c }
        competitorMembers = competitors.map { model.members[$0] }
        let sq = (0..<model.count).map { j in model.supportVector(j).reduce(0) { $0 + $1 * $1 } }
        var p: [Path] = [], w: [[Double]] = [], b: [Double] = [], m: [[Double]] = [], starts: [Int] = []
        for (k, members) in zip(competitors, competitorMembers) {
            starts.append(p.count)
            for j in members {
                let uj = Array(model.supportVector(j))
                for i in own {
                    let ui = Array(model.supportVector(i))
                    p.append(Path(i: i, j: j, k: k))
                    w.append(zip(ui, uj).map { 2 * ($0 - $1) })
                    b.append(sq[j] - sq[i])
                    m.append(zip(ui, uj).map { ($0 + $1) / 2 })
                }
            }
        }
        starts.append(p.count)
        paths = p
        weights = w
        biases = b
        midpoints = m
        competitorStart = starts
    }

    /// The activations of every layer for one input.
    public struct Activations: Sendable {
        /// Layer 1, one per path.
        public let detection: [Double]
        /// Layer 2: h_jk, per competitor (indexed like `competitors`), per j in C_k.
        public let maxPooled: [[Double]]
        /// Layer 3: h_k per competitor.
        public let minPooled: [Double]
        /// Layer 4: f_c.
        public let logit: Double
    }

    /// The neurons of competitor q pooled into h_jk for its r-th support vector j.
    public func pathRange(competitor q: Int, member r: Int) -> Range<Int> {
        let lo = competitorStart[q] + r * own.count
        return lo..<(lo + own.count)
    }

    public func forward(_ x: [Double]) -> Activations {
        let h = zip(weights, biases).map { w, b in zip(w, x).reduce(b) { $0 + $1.0 * $1.1 } }
        let hjk = competitorMembers.indices.map { q in
            competitorMembers[q].indices.map { r in
                LogMeanExp.value(Array(h[pathRange(competitor: q, member: r)]), g: gamma)
            }
        }
        let hk = hjk.map { LogMeanExp.value($0, g: -gamma) }
        return Activations(detection: h, maxPooled: hjk, minPooled: hk, logit: hk.min()!)
    }

    /// f_c(x).
    public func logit(_ x: [Double]) -> Double { forward(x).logit }
}
