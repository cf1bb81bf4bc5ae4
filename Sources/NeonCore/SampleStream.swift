/// Per-sample random streams: a SplitMix64 seeded from (seed, global sample index, repeat,
/// purpose), so that a sample's random numbers never depend on which rank or thread draws them,
/// nor on how many samples came before it.
public enum SampleStream {
    /// The SplitMix64 output function (a bijective 64-bit mixer).
    static func mix(_ z0: UInt64) -> UInt64 {
        var z = z0
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public static func make(seed: UInt64, sample: Int, repeat r: Int = 0, purpose: UInt64 = 0) -> SplitMix64 {
        var h = mix(seed &+ 0x9E37_79B9_7F4A_7C15)
        for v in [UInt64(bitPattern: Int64(sample)), UInt64(bitPattern: Int64(r)), purpose] {
            h = mix(h ^ (v &+ 0x9E37_79B9_7F4A_7C15 &* 3))
        }
        return SplitMix64(seed: h)
    }

    /// A stable 64-bit tag for a name (FNV-1a), e.g. an explanation method's stream.
    public static func tag(_ name: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}
