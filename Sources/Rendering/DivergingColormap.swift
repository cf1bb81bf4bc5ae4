/// The diverging colour map of relevance plots: blue for negative, a near-white centre at zero,
/// red for positive relevance (ColorBrewer RdBu, reversed; 11 stops, linearly interpolated).
public enum DivergingColormap {
    static let stops: [RGB] = [
        RGB(0x05, 0x30, 0x61), RGB(0x21, 0x66, 0xac), RGB(0x43, 0x93, 0xc3), RGB(0x92, 0xc5, 0xde),
        RGB(0xd1, 0xe5, 0xf0), RGB(0xf7, 0xf7, 0xf7), RGB(0xfd, 0xdb, 0xc7), RGB(0xf4, 0xa5, 0x82),
        RGB(0xd6, 0x60, 0x4d), RGB(0xb2, 0x18, 0x2b), RGB(0x67, 0x00, 0x1f),
    ]

    /// The colour of v in [-1, 1] (clamped; NaN maps to the centre).
    public static func color(_ v: Double) -> RGB {
        let t = (v.isNaN ? 0.5 : (min(max(v, -1), 1) + 1) / 2) * Double(stops.count - 1)
        let i = min(Int(t), stops.count - 2)
        let f = t - Double(i)
        let a = stops[i], b = stops[i + 1]
        func mix(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Double(x) * (1 - f) + Double(y) * f).rounded()) }
        return RGB(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b))
    }

    public static var negative: RGB { stops.first! }
    public static var centre: RGB { stops[stops.count / 2] }
    public static var positive: RGB { stops.last! }
}
