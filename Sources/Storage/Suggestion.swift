/// "Did you mean" for a mistyped name: the closest candidate within an edit distance of 2.
public enum Suggestion {
    /// The candidate nearest to `word` (Levenshtein distance on characters, ties: first in
    /// `candidates`), if that distance is at most `maxDistance` and the word is not itself a candidate.
    public static func closest(to word: String, among candidates: [String], maxDistance: Int = 2) -> String? {
        guard !candidates.contains(word) else { return nil }
        var best: (name: String, distance: Int)?
        for c in candidates {
            let d = distance(Array(word), Array(c))
            if d <= maxDistance, d < (best?.distance ?? Int.max) { best = (c, d) }
        }
        return best?.name
    }

    /// "; did you mean 'NAME'?" for the closest candidate, or "".
    public static func didYouMean(_ word: String, among candidates: [String]) -> String {
        closest(to: word, among: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
