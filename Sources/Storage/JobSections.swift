/// The structure checks shared by the strict job files (explain jobs and fit jobs), in the
/// documented order: 1. JSON syntax; 2. an object at the top; 3. unknown top-level keys, in
/// document order; 4. present sections are objects; 5. unknown keys within sections; 6. missing
/// sections and keys. The first problem is thrown as `failure(message)`; the result reads each
/// section (an absent one has no keys).
struct JobSections {
    typealias Schema = [(section: String, keys: [String])]

    private let sections: [String: FieldReader]
    private let failure: (String) -> JobError

    /// The section's reader (of nothing when the section is absent).
    subscript(section: String) -> FieldReader { sections[section] ?? FieldReader(section, nil, failure: failure) }

    /// `otherKinds`: top-level keys that mark another kind of job file, with the message that
    /// says so, for a job without this kind's own top-level key `ownKey` (checked before unknown
    /// keys: `validate fit.json` says it is a fit job).
    static func parse(_ text: String, schema: Schema, required: Schema, ownKey: String = "",
                      otherKinds: [(key: String, message: String)] = [],
                      failure: @escaping (String) -> JobError) throws -> JobSections {
        let root: JSONValue
        do {
            root = try JSONParser.parse(Array(text.utf8))
        } catch let error as JSONParseError {
            throw failure("not valid JSON (line \(error.line), column \(error.column): \(error.reason))")
        }
        guard case .object = root else { throw failure("the job must be a JSON object") }
        let top = FieldReader("", root, failure: failure)
        for (key, message) in otherKinds where !top.contains(ownKey) && top.contains(key) { throw failure(message) }
        try top.checkKeys(schema.map(\.section))
        var sections: [String: FieldReader] = [:]
        for (section, _) in schema {
            sections[section] = try top.object(section)
        }
        for (section, allowed) in schema { try sections[section]?.checkKeys(allowed) }
        for (section, keys) in required {
            guard let reader = sections[section] else { throw failure("missing key '\(section)'") }
            try reader.require(keys)
        }
        return JobSections(sections: sections, failure: failure)
    }
}
