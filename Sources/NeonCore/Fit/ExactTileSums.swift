/// Float64 sums that do not depend on how the terms are grouped: each term (one tile's float64
/// partial sum) is rounded to a multiple of 2^-60 and split into four integer "limbs" of 30 bits
/// (weights 2^-60, 2^-30, 2^0, 2^30); limbs are added as integer-valued doubles, which is exact
/// (every partial sum stays below 2^53 for fewer than 2^23 terms), hence associative. Chunks,
/// threads and ranks may therefore add them in any grouping (`FitCollectives.sum` included)
/// and every rank decodes the same bits for any number of ranks. This is what makes a gradient
/// fit identical on 1, 2 or 3 ranks: k-means' float64 sums are only equal to rounding
/// (docs/fitting.md), harmless for Lloyd but amplified over hundreds of gradient steps.
///
/// Terms must satisfy |v| < 2^59; larger or non-finite terms make the sum NaN (a diverged fit).
/// Resolution: 2^-60 (about 9e-19) per term, far below float64's relative precision of the
/// tile sums this is used for (O(1) to O(10^3)).
public struct ExactTileSums: Sendable {
    public static let limbCount = 4
    static let limbBits = 30
    static let lowest = -60
    /// At most this many terms may be added into one value (limb sums stay below 2^53).
    public static let maxTerms = 1 << 22

    public let width: Int
    /// width x 4 integer-valued limbs (value i: limbs[4 i ..< 4 i + 4], lowest weight first).
    public var limbs: [Double]

    public init(width: Int) {
        self.width = width
        limbs = [Double](repeating: 0, count: width * Self.limbCount)
    }

    /// Adds the terms v[0..<width] (one each into each value).
    public mutating func add(_ v: UnsafePointer<Double>) {
        limbs.withUnsafeMutableBufferPointer { l in
            let l = l.baseAddress!
            for i in 0..<width { Self.split(v[i], into: l + Self.limbCount * i) }
        }
    }

    public mutating func add(_ v: [Double]) {
        precondition(v.count == width)
        v.withUnsafeBufferPointer { add($0.baseAddress!) }
    }

    /// Adds another accumulator's limbs (exact).
    public mutating func add(_ other: ExactTileSums) {
        precondition(other.width == width)
        for i in 0..<limbs.count { limbs[i] += other.limbs[i] }
    }

    /// Sums over ranks (exact, so the collectives' order does not matter).
    public mutating func reduce(_ comm: FitCollectives) { comm.sum(&limbs) }

    /// The float64 values (the same bits wherever the limbs are equal).
    public func values() -> [Double] {
        (0..<width).map { i in
            let l = Self.limbCount * i
            var s = limbs[l + 3]
            for j in stride(from: 2, through: 0, by: -1) { s = s * 0x1p30 + limbs[l + j] }
            return s * 0x1p-60
        }
    }

    @inline(__always)
    static func split(_ v: Double, into l: UnsafeMutablePointer<Double>) {
        guard v.isFinite, abs(v) < 0x1p59 else { l[0] += .nan; return }
        // q: an integer-valued double, |q| < 2^119; each step removes its top 30-bit limb exactly.
        var q = (v * 0x1p60).rounded(.toNearestOrEven)
        let h3 = (q * 0x1p-90).rounded(.towardZero); q -= h3 * 0x1p90
        let h2 = (q * 0x1p-60).rounded(.towardZero); q -= h2 * 0x1p60
        let h1 = (q * 0x1p-30).rounded(.towardZero); q -= h1 * 0x1p30
        l[0] += q; l[1] += h1; l[2] += h2; l[3] += h3
    }
}
