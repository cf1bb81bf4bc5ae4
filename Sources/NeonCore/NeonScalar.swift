import CBLAS
import NeonKernels

/// The compute precisions of the fast path: float32 input is explained with float32 GEMMs,
/// float64 input with float64 ones (logits and beta are always accumulated in float64).
public protocol NeonScalar: BinaryFloatingPoint, BitwiseCopyable, Sendable {
    /// C = alpha A B^T (transposeB) or alpha A B, row-major, + beta C.
    static func gemm(m: Int, n: Int, k: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
                     b: UnsafePointer<Self>, ldb: Int, transposeB: Bool, beta: Self,
                     c: UnsafeMutablePointer<Self>, ldc: Int)
    static func top2(_ z: UnsafePointer<Self>, rows: Int, clusters: Int, sq: UnsafePointer<Self>,
                     assign: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>)
    static func minTakesMost(_ z: UnsafeMutablePointer<Self>, rows: Int, clusters: Int, sq: UnsafePointer<Self>,
                             beta: Double, assign: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>)
    static func midpointFinish(_ r: UnsafeMutablePointer<Self>, x: UnsafePointer<Self>, q: UnsafePointer<Self>,
                               rows: Int, features: Int)
    /// Index of the first NaN or infinity in p[0..<count], or nil.
    static func firstNonFinite(_ p: UnsafePointer<Self>, count: Int) -> Int?
    /// dst = src - origin, row by row (rows x features).
    static func shiftRows(_ dst: UnsafeMutablePointer<Self>, _ src: UnsafePointer<Self>, origin: UnsafePointer<Self>,
                          rows: Int, features: Int)
    /// out[n] = sum of row n, in float64.
    static func rowSums(_ a: UnsafePointer<Self>, rows: Int, features: Int, into out: UnsafeMutablePointer<Double>)
}

/// Single-threaded BLAS: the tiles are spread over cores by Dispatch instead.
public enum BLASThreads {
    public static func useOneThread() { neon_blas_set_threads(1) }
}

extension Float: NeonScalar {
    public static func gemm(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int, transposeB: Bool, beta: Float,
                            c: UnsafeMutablePointer<Float>, ldc: Int) {
        neon_sgemm(transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c,
                   Int32(ldc))
    }
    public static func top2(_ z: UnsafePointer<Float>, rows: Int, clusters: Int, sq: UnsafePointer<Float>,
                            assign: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>) {
        neon_top2_f32(z, rows, clusters, sq, assign, logit)
    }
    public static func minTakesMost(_ z: UnsafeMutablePointer<Float>, rows: Int, clusters: Int,
                                    sq: UnsafePointer<Float>, beta: Double, assign: UnsafeMutablePointer<Int64>,
                                    logit: UnsafeMutablePointer<Double>) {
        neon_mtm_f32(z, rows, clusters, sq, beta, assign, logit)
    }
    public static func midpointFinish(_ r: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
                                      q: UnsafePointer<Float>, rows: Int, features: Int) {
        neon_midpoint_finish_f32(r, x, q, rows, features)
    }
    public static func firstNonFinite(_ p: UnsafePointer<Float>, count: Int) -> Int? {
        let i = neon_first_nonfinite_f32(p, count)
        return i < 0 ? nil : i
    }
    public static func shiftRows(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>,
                                 origin: UnsafePointer<Float>, rows: Int, features: Int) {
        neon_shift_rows_f32(dst, src, origin, rows, features)
    }
    public static func rowSums(_ a: UnsafePointer<Float>, rows: Int, features: Int, into out: UnsafeMutablePointer<Double>) {
        neon_row_sums_f32(a, rows, features, out)
    }
}

extension Double: NeonScalar {
    public static func gemm(m: Int, n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
                            b: UnsafePointer<Double>, ldb: Int, transposeB: Bool, beta: Double,
                            c: UnsafeMutablePointer<Double>, ldc: Int) {
        neon_dgemm(transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c,
                   Int32(ldc))
    }
    public static func top2(_ z: UnsafePointer<Double>, rows: Int, clusters: Int, sq: UnsafePointer<Double>,
                            assign: UnsafeMutablePointer<Int64>, logit: UnsafeMutablePointer<Double>) {
        neon_top2_f64(z, rows, clusters, sq, assign, logit)
    }
    public static func minTakesMost(_ z: UnsafeMutablePointer<Double>, rows: Int, clusters: Int,
                                    sq: UnsafePointer<Double>, beta: Double, assign: UnsafeMutablePointer<Int64>,
                                    logit: UnsafeMutablePointer<Double>) {
        neon_mtm_f64(z, rows, clusters, sq, beta, assign, logit)
    }
    public static func midpointFinish(_ r: UnsafeMutablePointer<Double>, x: UnsafePointer<Double>,
                                      q: UnsafePointer<Double>, rows: Int, features: Int) {
        neon_midpoint_finish_f64(r, x, q, rows, features)
    }
    public static func firstNonFinite(_ p: UnsafePointer<Double>, count: Int) -> Int? {
        let i = neon_first_nonfinite_f64(p, count)
        return i < 0 ? nil : i
    }
    public static func shiftRows(_ dst: UnsafeMutablePointer<Double>, _ src: UnsafePointer<Double>,
                                 origin: UnsafePointer<Double>, rows: Int, features: Int) {
        neon_shift_rows_f64(dst, src, origin, rows, features)
    }
    public static func rowSums(_ a: UnsafePointer<Double>, rows: Int, features: Int, into out: UnsafeMutablePointer<Double>) {
        neon_row_sums_f64(a, rows, features, out)
    }
}
