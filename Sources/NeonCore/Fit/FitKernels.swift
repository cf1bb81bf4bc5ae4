import NeonKernels

/// The per-row loops of a Lloyd iteration (NeonKernels, NeonFit.h) for each input precision.
/// Pointers to rows are raw: the rows are `Self` values (x: rows x features).
public protocol FitScalar: NeonScalar {
    static func fitNorms(_ x: UnsafePointer<Self>, rows: Int, features: Int, into out: UnsafeMutablePointer<Double>)
    static func top2Scores(_ z: UnsafeMutablePointer<Self>, rows: Int, clusters: Int, sq: UnsafePointer<Self>,
                           choice: UnsafeMutablePointer<Int64>, best: UnsafeMutablePointer<Double>,
                           second: UnsafeMutablePointer<Double>)
    static func fitResolve(_ z: UnsafePointer<Self>, rows: Int, clusters: Int, x: UnsafePointer<Self>, features: Int,
                           index: UnsafePointer<Int64>?, centroids: UnsafePointer<Double>, xnorm2: UnsafePointer<Double>,
                           eta: Double, maxNorm: Double, choice: UnsafePointer<Int64>, best: UnsafePointer<Double>,
                           second: UnsafePointer<Double>, assign: UnsafeMutablePointer<Int64>,
                           dist2: UnsafeMutablePointer<Double>, lower: UnsafeMutablePointer<Double>?,
                           keepDist2: Bool) -> Int
    static func hamerlyTest(_ x: UnsafePointer<Self>, rows: Int, features: Int, centroids: UnsafePointer<Double>,
                            assign: UnsafePointer<Int64>, drop: UnsafePointer<Double>, dropRest: UnsafePointer<Double>?,
                            halfGap: UnsafePointer<Double>, rho: Double, lower: UnsafeMutablePointer<Double>,
                            dist2: UnsafeMutablePointer<Double>, fail: UnsafeMutablePointer<Int64>,
                            near: UnsafeMutablePointer<Int64>, nearCount: inout Int) -> Int
    static func hamerlyMovers(_ z: UnsafePointer<Self>, rows: Int, movers: Int, sq: UnsafePointer<Self>,
                              mover: UnsafePointer<Int64>, index: UnsafePointer<Int64>, assign: UnsafePointer<Int64>,
                              xnorm2: UnsafePointer<Double>, eta: Double, maxNorm: Double, rho: Double,
                              lower: UnsafeMutablePointer<Double>, dist2: UnsafePointer<Double>,
                              fail: UnsafeMutablePointer<Int64>, failCount: Int) -> Int
    static func fitAccumulate(_ x: UnsafePointer<Self>, rows: Int, features: Int, assign: UnsafePointer<Int64>,
                              dist2: UnsafePointer<Double>, sums: UnsafeMutablePointer<Double>,
                              counts: UnsafeMutablePointer<Double>, old: UnsafePointer<Int64>?,
                              acc: UnsafeMutablePointer<Double>, ahead: UnsafePointer<Self>, aheadRows: Int)
}

extension Float: FitScalar {
    public static func fitNorms(_ x: UnsafePointer<Float>, rows: Int, features: Int, into out: UnsafeMutablePointer<Double>) {
        neon_fit_norms_f32(x, rows, features, out)
    }
    public static func top2Scores(_ z: UnsafeMutablePointer<Float>, rows: Int, clusters: Int, sq: UnsafePointer<Float>,
                                  choice: UnsafeMutablePointer<Int64>, best: UnsafeMutablePointer<Double>,
                                  second: UnsafeMutablePointer<Double>) {
        neon_top2_scores_f32(z, rows, clusters, sq, choice, best, second)
    }
    public static func fitResolve(_ z: UnsafePointer<Float>, rows: Int, clusters: Int, x: UnsafePointer<Float>, features: Int,
                                  index: UnsafePointer<Int64>?, centroids: UnsafePointer<Double>, xnorm2: UnsafePointer<Double>,
                                  eta: Double, maxNorm: Double, choice: UnsafePointer<Int64>, best: UnsafePointer<Double>,
                                  second: UnsafePointer<Double>, assign: UnsafeMutablePointer<Int64>,
                                  dist2: UnsafeMutablePointer<Double>, lower: UnsafeMutablePointer<Double>?,
                                  keepDist2: Bool) -> Int {
        neon_fit_resolve_f32(z, rows, clusters, x, features, index, centroids, xnorm2, eta, maxNorm, choice, best, second,
                             assign, dist2, lower, keepDist2 ? 1 : 0)
    }
    public static func hamerlyTest(_ x: UnsafePointer<Float>, rows: Int, features: Int, centroids: UnsafePointer<Double>,
                                   assign: UnsafePointer<Int64>, drop: UnsafePointer<Double>, dropRest: UnsafePointer<Double>?,
                                   halfGap: UnsafePointer<Double>, rho: Double, lower: UnsafeMutablePointer<Double>,
                                   dist2: UnsafeMutablePointer<Double>, fail: UnsafeMutablePointer<Int64>,
                                   near: UnsafeMutablePointer<Int64>, nearCount: inout Int) -> Int {
        neon_hamerly_test_f32(x, rows, features, centroids, assign, drop, dropRest, halfGap, rho, lower, dist2, fail,
                              near, &nearCount)
    }
    public static func hamerlyMovers(_ z: UnsafePointer<Float>, rows: Int, movers: Int, sq: UnsafePointer<Float>,
                                     mover: UnsafePointer<Int64>, index: UnsafePointer<Int64>, assign: UnsafePointer<Int64>,
                                     xnorm2: UnsafePointer<Double>, eta: Double, maxNorm: Double, rho: Double,
                                     lower: UnsafeMutablePointer<Double>, dist2: UnsafePointer<Double>,
                                     fail: UnsafeMutablePointer<Int64>, failCount: Int) -> Int {
        neon_hamerly_movers_f32(z, rows, movers, sq, mover, index, assign, xnorm2, eta, maxNorm, rho, lower, dist2,
                                fail, failCount)
    }
    public static func fitAccumulate(_ x: UnsafePointer<Float>, rows: Int, features: Int, assign: UnsafePointer<Int64>,
                                     dist2: UnsafePointer<Double>, sums: UnsafeMutablePointer<Double>,
                                     counts: UnsafeMutablePointer<Double>, old: UnsafePointer<Int64>?,
                                     acc: UnsafeMutablePointer<Double>, ahead: UnsafePointer<Float>, aheadRows: Int) {
        neon_fit_accumulate_f32(x, rows, features, assign, dist2, sums, counts, old, acc, ahead, aheadRows)
    }
}

extension Double: FitScalar {
    public static func fitNorms(_ x: UnsafePointer<Double>, rows: Int, features: Int, into out: UnsafeMutablePointer<Double>) {
        neon_fit_norms_f64(x, rows, features, out)
    }
    public static func top2Scores(_ z: UnsafeMutablePointer<Double>, rows: Int, clusters: Int, sq: UnsafePointer<Double>,
                                  choice: UnsafeMutablePointer<Int64>, best: UnsafeMutablePointer<Double>,
                                  second: UnsafeMutablePointer<Double>) {
        neon_top2_scores_f64(z, rows, clusters, sq, choice, best, second)
    }
    public static func fitResolve(_ z: UnsafePointer<Double>, rows: Int, clusters: Int, x: UnsafePointer<Double>, features: Int,
                                  index: UnsafePointer<Int64>?, centroids: UnsafePointer<Double>, xnorm2: UnsafePointer<Double>,
                                  eta: Double, maxNorm: Double, choice: UnsafePointer<Int64>, best: UnsafePointer<Double>,
                                  second: UnsafePointer<Double>, assign: UnsafeMutablePointer<Int64>,
                                  dist2: UnsafeMutablePointer<Double>, lower: UnsafeMutablePointer<Double>?,
                                  keepDist2: Bool) -> Int {
        neon_fit_resolve_f64(z, rows, clusters, x, features, index, centroids, xnorm2, eta, maxNorm, choice, best, second,
                             assign, dist2, lower, keepDist2 ? 1 : 0)
    }
    public static func hamerlyTest(_ x: UnsafePointer<Double>, rows: Int, features: Int, centroids: UnsafePointer<Double>,
                                   assign: UnsafePointer<Int64>, drop: UnsafePointer<Double>, dropRest: UnsafePointer<Double>?,
                                   halfGap: UnsafePointer<Double>, rho: Double, lower: UnsafeMutablePointer<Double>,
                                   dist2: UnsafeMutablePointer<Double>, fail: UnsafeMutablePointer<Int64>,
                                   near: UnsafeMutablePointer<Int64>, nearCount: inout Int) -> Int {
        neon_hamerly_test_f64(x, rows, features, centroids, assign, drop, dropRest, halfGap, rho, lower, dist2, fail,
                              near, &nearCount)
    }
    public static func hamerlyMovers(_ z: UnsafePointer<Double>, rows: Int, movers: Int, sq: UnsafePointer<Double>,
                                     mover: UnsafePointer<Int64>, index: UnsafePointer<Int64>, assign: UnsafePointer<Int64>,
                                     xnorm2: UnsafePointer<Double>, eta: Double, maxNorm: Double, rho: Double,
                                     lower: UnsafeMutablePointer<Double>, dist2: UnsafePointer<Double>,
                                     fail: UnsafeMutablePointer<Int64>, failCount: Int) -> Int {
        neon_hamerly_movers_f64(z, rows, movers, sq, mover, index, assign, xnorm2, eta, maxNorm, rho, lower, dist2,
                                fail, failCount)
    }
    public static func fitAccumulate(_ x: UnsafePointer<Double>, rows: Int, features: Int, assign: UnsafePointer<Int64>,
                                     dist2: UnsafePointer<Double>, sums: UnsafeMutablePointer<Double>,
                                     counts: UnsafeMutablePointer<Double>, old: UnsafePointer<Int64>?,
                                     acc: UnsafeMutablePointer<Double>, ahead: UnsafePointer<Double>, aheadRows: Int) {
        neon_fit_accumulate_f64(x, rows, features, assign, dist2, sums, counts, old, acc, ahead, aheadRows)
    }
}
