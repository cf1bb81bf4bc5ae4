import NeonKernels

/// The compute precisions of the kernel k-means fast path: NeonScalar plus its element-wise
/// kernels (Sources/NeonKernels/kernel_kmeans.c). Support vectors are sorted by cluster, cluster
/// k owning columns start[k]..<start[k + 1] of a row of Z (rows x M).
public protocol KernelScalar: NeonScalar {
    /// Per (row, cluster) soft min-pooling (Eq. 7), exact for far clusters: Z = 2 gamma x.u_j on
    /// entry, exp(z_j - max_{C_k} z) on exit; L = gamma (|x|^2 - D_k), S = cluster sums of Z, and
    /// EZ (if given) = the softmin-weighted mean of z_j = gamma (|x|^2 - d_j). See NeonKernelKMeans.h.
    static func softMinPool(_ z: UnsafeMutablePointer<Self>, rows: Int, supportVectors: Int, clusters: Int,
                            start: UnsafePointer<Int>, gammaSquares: UnsafePointer<Self>, logSize: UnsafePointer<Double>,
                            lme: UnsafeMutablePointer<Double>, sums: UnsafeMutablePointer<Double>,
                            meanZ: UnsafeMutablePointer<Double>?)
    /// Z[n, j] *= G[n, k(j)].
    static func scaleByCluster(_ z: UnsafeMutablePointer<Self>, rows: Int, supportVectors: Int, clusters: Int,
                               start: UnsafePointer<Int>, factors: UnsafePointer<Double>)
    /// The pruned path's row loops in this precision (NeonKernelPruning.h).
    static var pruningKernels: KernelPruningKernels<Self> { get }
}

/// The precision-dependent loops of the pruned path (see NeonKernelPruning.h for each).
public struct KernelPruningKernels<T> {
    let sqnorm: (UnsafePointer<T>, Int, Int, UnsafeMutablePointer<Double>) -> Void
    let centreDistances: (UnsafePointer<T>, Int, Int, UnsafePointer<Double>, UnsafePointer<Double>,
                          UnsafeMutablePointer<Double>) -> Void
    let dots: (UnsafePointer<T>, Int, UnsafePointer<Int32>, Int, UnsafePointer<T>, Int, Int, T,
               UnsafeMutablePointer<T>) -> Void
    let store: (UnsafePointer<T>, Int, Int, UnsafePointer<Int32>, UnsafePointer<Double>, UnsafePointer<Double>,
                UnsafePointer<Double>?, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>,
                UnsafeMutablePointer<Double>?, UnsafePointer<Int>, UnsafeMutablePointer<T>?) -> Void
    let accumulate: (UnsafePointer<T>, UnsafePointer<Int>, UnsafePointer<Double>, UnsafePointer<Int32>,
                     UnsafePointer<Int32>, Int, Int, UnsafePointer<T>, Int, Int, UnsafeMutablePointer<T>,
                     UnsafeMutablePointer<T>) -> Void
}

extension Float: KernelScalar {
    public static func softMinPool(_ z: UnsafeMutablePointer<Float>, rows: Int, supportVectors: Int, clusters: Int,
                                   start: UnsafePointer<Int>, gammaSquares: UnsafePointer<Float>,
                                   logSize: UnsafePointer<Double>, lme: UnsafeMutablePointer<Double>,
                                   sums: UnsafeMutablePointer<Double>, meanZ: UnsafeMutablePointer<Double>?) {
        neon_kkm_pool_f32(z, rows, supportVectors, clusters, start, gammaSquares, logSize, lme, sums, meanZ)
    }
    public static func scaleByCluster(_ z: UnsafeMutablePointer<Float>, rows: Int, supportVectors: Int, clusters: Int,
                                      start: UnsafePointer<Int>, factors: UnsafePointer<Double>) {
        neon_kkm_weights_f32(z, rows, supportVectors, clusters, start, factors)
    }
    public static var pruningKernels: KernelPruningKernels<Float> {
        KernelPruningKernels(sqnorm: neon_kkp_sqnorm_f32, centreDistances: neon_kkp_centre_distances_f32,
                             dots: neon_kkp_dots_f32, store: neon_kkp_store_f32, accumulate: neon_kkp_accumulate_f32)
    }
}

extension Double: KernelScalar {
    public static func softMinPool(_ z: UnsafeMutablePointer<Double>, rows: Int, supportVectors: Int, clusters: Int,
                                   start: UnsafePointer<Int>, gammaSquares: UnsafePointer<Double>,
                                   logSize: UnsafePointer<Double>, lme: UnsafeMutablePointer<Double>,
                                   sums: UnsafeMutablePointer<Double>, meanZ: UnsafeMutablePointer<Double>?) {
        neon_kkm_pool_f64(z, rows, supportVectors, clusters, start, gammaSquares, logSize, lme, sums, meanZ)
    }
    public static func scaleByCluster(_ z: UnsafeMutablePointer<Double>, rows: Int, supportVectors: Int, clusters: Int,
                                      start: UnsafePointer<Int>, factors: UnsafePointer<Double>) {
        neon_kkm_weights_f64(z, rows, supportVectors, clusters, start, factors)
    }
    public static var pruningKernels: KernelPruningKernels<Double> {
        KernelPruningKernels(sqnorm: neon_kkp_sqnorm_f64, centreDistances: neon_kkp_centre_distances_f64,
                             dots: neon_kkp_dots_f64, store: neon_kkp_store_f64, accumulate: neon_kkp_accumulate_f64)
    }
}
