/// The structure checks shared by the strict job files (explain jobs and fit jobs), in the
/// documented order: 1. JSON syntax; 2. an object at the top; 3. unknown top-level keys, in
/// document order; 4. present sections are objects; 5. unknown keys within sections; 6. missing
/// sections and keys. The first problem is thrown as `failure(message)`; the result maps each
/// present section to its object.
enum JobSections {
    typealias Schema = [(section: String, keys: [String])]

    /// `otherKinds`: top-level keys that mark another kind of job file, with the message that
    /// says so, for a job without this kind's own top-level key `ownKey` (checked before unknown
    /// keys: `validate fit.json` says it is a fit job).
    static func parse(_ text: String, schema: Schema, required: Schema, ownKey: String = "",
                      otherKinds: [(key: String, message: String)] = [],
                      failure: (String) -> JobError) throws -> [String: JSONValue] {
        func quoted(_ key: String) -> String { JSONValue.displayEscaped(key) }
        func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }
        let root: JSONValue
        do {
            root = try JSONParser.parse(Array(text.utf8))
        } catch let error as JSONParseError {
            throw failure("not valid JSON (line \(error.line), column \(error.column): \(error.reason))")
        }
        guard case .object(let topMembers) = root else { throw failure("the job must be a JSON object") }
        for (key, message) in otherKinds where root[member: ownKey] == nil && root[member: key] != nil { throw failure(message) }
        for member in topMembers where !schema.contains(where: { same($0.section, member.key) }) {
            throw failure("unknown key '\(quoted(member.key))'" + Suggestion.didYouMean(member.key, among: schema.map(\.section)))
        }
        var sections: [String: JSONValue] = [:]
        for (section, _) in schema {
            guard let value = root[member: section] else { continue }
            guard case .object = value else { throw failure("'\(section)' must be an object") }
            sections[section] = value
        }
        for (section, allowed) in schema {
            guard case .object(let members)? = sections[section] else { continue }
            for member in members where !allowed.contains(where: { same($0, member.key) }) {
                throw failure("unknown key '\(section).\(quoted(member.key))'"
                              + Suggestion.didYouMean(member.key, among: allowed))
            }
        }
        for (section, keys) in required {
            guard let object = sections[section] else { throw failure("missing key '\(section)'") }
            for key in keys where object[member: key] == nil { throw failure("missing key '\(section).\(key)'") }
        }
        return sections
    }
}
