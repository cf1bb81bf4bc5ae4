/// The adjusted Rand index (Hubert & Arabie 1985) of two labelings of the same items: 1 for
/// identical partitions (up to renaming), about 0 for independent ones.
public enum AdjustedRandIndex {
    public static func value(_ a: [Int], _ b: [Int]) -> Double {
        precondition(a.count == b.count)
        let n = a.count
        guard n > 1 else { return 1 }
        var table: [Int: [Int: Int]] = [:]
        var rowSums: [Int: Int] = [:], colSums: [Int: Int] = [:]
        for (u, v) in zip(a, b) {
            table[u, default: [:]][v, default: 0] += 1
            rowSums[u, default: 0] += 1
            colSums[v, default: 0] += 1
        }
        func pairs(_ m: Int) -> Double { Double(m) * Double(m - 1) / 2 }
        let index = table.values.flatMap(\.values).reduce(0) { $0 + pairs($1) }
        let sa = rowSums.values.reduce(0) { $0 + pairs($1) }
        let sb = colSums.values.reduce(0) { $0 + pairs($1) }
        let expected = sa * sb / pairs(n)
        let maximum = (sa + sb) / 2
        if maximum == expected { return 1 }   // both partitions trivial
        return (index - expected) / (maximum - expected)
    }
}
