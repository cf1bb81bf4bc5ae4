import NeonSettings

/// One JSON object of a job file (the top object, a section such as `explain`, or a nested object
/// such as `explain.lrp`) read key by key. Getters return nil for an absent key and throw the
/// job's one-line messages for a present one that does not fit:
///   "<name>.<key> must be <expectation>", "'<name>.<key>' must be an object",
///   "unknown key '<name>.<key>'; did you mean '<allowed>'?", "missing key '<name>.<key>'".
/// A reader of an absent object (`value` nil) has no keys.
struct FieldReader {
    /// The dotted name of the object ("" for the top object).
    let name: String
    let value: JSONValue?
    let failure: (String) -> JobError

    init(_ name: String, _ value: JSONValue?, failure: @escaping (String) -> JobError) {
        self.name = name
        self.value = value
        self.failure = failure
    }

    subscript(key: String) -> JSONValue? { value?[member: key] }

    func contains(_ key: String) -> Bool { self[key] != nil }

    /// "<name>.<key>" (the key shown on one line).
    func path(_ key: String) -> String {
        let shown = JSONValue.displayEscaped(key)
        return name.isEmpty ? shown : name + "." + shown
    }

    /// "<name>.<key> must be <expectation>".
    func mustBe(_ key: String, _ expectation: String) -> JobError { failure("\(path(key)) must be \(expectation)") }

    // MARK: Keys

    /// Throws for the first member (document order) whose key is not in `allowed`.
    func checkKeys(_ allowed: [String]) throws {
        guard case .object(let members)? = value else { return }
        for member in members where !allowed.contains(where: { Self.same($0, member.key) }) {
            throw unknownKey(member.key, allowed)
        }
    }

    /// Calls `body` with each member's key in document order; a key not in `allowed` throws where it stands.
    func forEachKey(allowed: [String], _ body: (String) throws -> Void) throws {
        guard case .object(let members)? = value else { return }
        for member in members {
            guard allowed.contains(where: { Self.same($0, member.key) }) else { throw unknownKey(member.key, allowed) }
            try body(member.key)
        }
    }

    /// Throws "missing key '<name>.<key>'" for the first of `keys` that is absent.
    func require(_ keys: [String]) throws {
        for key in keys where !contains(key) { throw failure("missing key '\(path(key))'") }
    }

    private func unknownKey(_ key: String, _ allowed: [String]) -> JobError {
        failure("unknown key '\(path(key))'" + Suggestion.didYouMean(key, among: allowed))
    }

    // MARK: Values

    /// The value at `key` converted by `convert`; nil if absent; "must be <expectation>" if `convert` gives nil.
    func read<T>(_ key: String, mustBe expectation: String, _ convert: (JSONValue) -> T?) throws -> T? {
        guard let raw = self[key] else { return nil }
        guard let converted = convert(raw) else { throw mustBe(key, expectation) }
        return converted
    }

    /// The object at `key` as a reader named "<name>.<key>"; nil if absent.
    func object(_ key: String) throws -> FieldReader? {
        guard let raw = self[key] else { return nil }
        guard case .object = raw else { throw failure("'\(path(key))' must be an object") }
        return FieldReader(path(key), raw, failure: failure)
    }

    /// A non-empty string; an absent key is the same error (for keys checked as present).
    func nonEmptyString(_ key: String) throws -> String {
        guard let text = try string(key) else { throw mustBe(key, "a non-empty string") }
        return text
    }

    /// A non-empty string, nil if absent.
    func string(_ key: String) throws -> String? {
        try read(key, mustBe: "a non-empty string") { raw in
            guard case .string(let text) = raw, !text.isEmpty else { return nil }
            return text
        }
    }

    func bool(_ key: String) throws -> Bool? {
        try read(key, mustBe: "true or false") { raw in
            guard case .bool(let flag) = raw else { return nil }
            return flag
        }
    }

    /// An integral number in `range` (written as 4096, 4.096e3, ...).
    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        try read(key, mustBe: "an integer from \(range.lowerBound) to \(range.upperBound)") { raw in
            guard case .number(let n) = raw, n.rounded(.towardZero) == n,
                  n >= Double(range.lowerBound), n <= Double(range.upperBound) else { return nil }
            return Int(n)
        }
    }

    /// A number for which `isValid` holds.
    func number(_ key: String, mustBe expectation: String, where isValid: (Double) -> Bool) throws -> Double? {
        try read(key, mustBe: expectation) { raw in
            guard case .number(let n) = raw, isValid(n) else { return nil }
            return n
        }
    }

    /// One of `E`'s names (exactly): "must be "a", "b" or "c"", or `expectation` when given.
    func choice<E: SettingName>(_ key: String, of type: E.Type, mustBe expectation: String? = nil) throws -> E? {
        try read(key, mustBe: expectation ?? E.alternatives) { raw in
            guard case .string(let text) = raw else { return nil }
            return E(exactly: text)
        }
    }

    /// Exact (code point) string comparison, as JSON compares member names.
    static func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }
}
