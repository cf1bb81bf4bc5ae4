/// FNV-1a, 64 bit: a fingerprint of the bytes a result depends on (the model's numbers), to tell
/// whether a partial output was made from the same model. Not a cryptographic hash.
public struct Fingerprint: Sendable {
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    public init() {}

    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var h = value
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        value = h
    }

    public mutating func add(_ values: [Double]) { values.withUnsafeBytes { add($0) } }
    public mutating func add(_ string: String) { Array(string.utf8).withUnsafeBytes { add($0) } }

    public var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
