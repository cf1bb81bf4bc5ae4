// The closed sets of names that job files choose from, shared by the parser (Storage) and the
// code that acts on them (NeonCore, NeonPipeline). No dependencies: only names and plain values.

/// A setting spelled as one of a fixed list of names (the raw values, in the order messages list them).
public protocol SettingName: RawRepresentable, CaseIterable, Hashable, Sendable
where RawValue == String, AllCases == [Self] {}

extension SettingName {
    /// The case named `text`, compared code point by code point (as JSON compares strings).
    public init?(exactly text: String) {
        guard let match = Self.allCases.first(where: { $0.rawValue.utf8.elementsEqual(text.utf8) }) else { return nil }
        self = match
    }

    /// Every name quoted, comma-separated: "a", "b", "c".
    public static var quotedNames: String { allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ") }

    /// The names for "must be ...": "a" or "b"; "a", "b" or "c".
    public static var alternatives: String {
        let quoted = allCases.map { "\"\($0.rawValue)\"" }
        guard quoted.count > 1 else { return quoted.joined() }
        return quoted.dropLast().joined(separator: ", ") + " or " + quoted.last!
    }
}
