// A small, strict JSON parser (RFC 8259) for neon-batch job files.
//
// Strictness: UTF-8 input only (a leading UTF-8 byte order mark is ignored, as RFC 8259 permits);
// no comments, no trailing commas, no leading zeros, no NaN/Infinity, no single quotes, no raw
// control characters inside strings, nothing but whitespace after the value, duplicate keys in
// one object are an error, and numbers that overflow Double are an error. Nesting is limited to
// `maxDepth` levels (recursion depth of the parser is bounded by that limit).

import Foundation

/// A parsed JSON value. Object members keep their document order.
public indirect enum JSONValue: Equatable, Sendable {
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case let (.object(a), .object(b)):
            guard a.count == b.count else { return false }
            for (x, y) in zip(a, b) where x.key != y.key || x.value != y.value { return false }
            return true
        case let (.array(a), .array(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        case (.null, .null): return true
        default: return false
        }
    }
}

extension JSONValue {
    /// The member `key` of an object (exact code-point comparison), or nil if absent or not an object.
    subscript(member key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first(where: { $0.key.utf8.elementsEqual(key.utf8) })?.value
    }

    /// `text` with control characters and line separators escaped (JSON style), so that it can be
    /// quoted inside a one-line message.
    static func displayEscaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x00..<0x20, 0x7F, 0x85, 0x2028, 0x2029:
                let hex = String(scalar.value, radix: 16, uppercase: false)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// A JSON syntax error. `line` and `column` are 1-based and point at the offending character
/// (columns count Unicode scalars; at the end of the input they point just past the last one).
public struct JSONParseError: Error, Equatable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public let reason: String

    public init(line: Int, column: Int, reason: String) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String { "line \(line), column \(column): \(reason)" }
}

public enum JSONParser {
    /// Parses one JSON value (any type at the top level) from UTF-8 `bytes`.
    /// Nesting deeper than `maxDepth` arrays/objects is an error.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer -> JSONValue in
            var parser = _StrictJSONByteParser(buffer: buffer, maxDepth: maxDepth)
            do {
                return try parser.parseDocument()
            } catch let failure as _StrictJSONFailure {
                let (line, column) = parser.location(of: failure.offset)
                throw JSONParseError(line: line, column: column, reason: failure.reason)
            }
        }
    }
}

// MARK: - Implementation

private struct _StrictJSONFailure: Error {
    let offset: Int
    let reason: String
}

/// Object keys compared and hashed by their exact UTF-8 bytes (RFC 8259 compares member names
/// code point by code point, whereas Swift `String` equality uses canonical equivalence).
private struct _JSONExactKey: Hashable {
    var text: String
    static func == (lhs: _JSONExactKey, rhs: _JSONExactKey) -> Bool { lhs.text.utf8.elementsEqual(rhs.text.utf8) }
    func hash(into hasher: inout Hasher) {
        var copy = text
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

private enum _JSONByte {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let slash = UInt8(ascii: "/")
    static let star = UInt8(ascii: "*")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
    static let lowerE = UInt8(ascii: "e")
    static let upperE = UInt8(ascii: "E")
    static let newline = UInt8(ascii: "\n")
}

private struct _StrictJSONByteParser {
    let buffer: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    let start: Int
    var index: Int

    init(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.buffer = buffer
        self.maxDepth = maxDepth
        let hasBOM = buffer.count >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF
        self.start = hasBOM ? 3 : 0
        self.index = self.start
    }

    // MARK: Positions and messages

    func location(of offset: Int) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var k = start
        let end = min(offset, buffer.count)
        while k < end {
            let b = buffer[k]
            if b == _JSONByte.newline {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
            k += 1
        }
        return (line, column)
    }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= _JSONByte.zero && b <= _JSONByte.nine }

    @inline(__always) mutating func skipWhitespace() {
        while index < buffer.count {
            switch buffer[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// Length of the valid UTF-8 sequence starting at `offset`, or nil if it is not valid.
    func utf8SequenceLength(at offset: Int) -> Int? {
        let n = buffer.count
        let b0 = buffer[offset]
        func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            offset + k < n && buffer[offset + k] >= lo && buffer[offset + k] <= hi
        }
        switch b0 {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return cont(1) ? 2 : nil
        case 0xE0: return cont(1, 0xA0) && cont(2) ? 3 : nil
        case 0xE1...0xEC, 0xEE, 0xEF: return cont(1) && cont(2) ? 3 : nil
        case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : nil
        case 0xF0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : nil
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : nil
        case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : nil
        default: return nil
        }
    }

    /// The error for whatever is at `offset` when it cannot start/continue the expected syntax.
    func unexpected(at offset: Int) -> _StrictJSONFailure {
        guard offset < buffer.count else { return _StrictJSONFailure(offset: offset, reason: "unexpected end of input") }
        let b = buffer[offset]
        if b == _JSONByte.slash, offset + 1 < buffer.count, buffer[offset + 1] == _JSONByte.slash || buffer[offset + 1] == _JSONByte.star {
            return _StrictJSONFailure(offset: offset, reason: "comments are not allowed")
        }
        guard let length = utf8SequenceLength(at: offset) else {
            return _StrictJSONFailure(offset: offset, reason: "invalid UTF-8")
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[offset..<(offset + length)]), as: UTF8.self)
        let scalar = text.unicodeScalars.first!
        let code = "U+" + String(repeating: "0", count: max(0, 4 - String(scalar.value, radix: 16).count))
            + String(scalar.value, radix: 16, uppercase: true)
        let shown: String
        switch scalar.value {
        case 0x27: shown = "\"'\""
        case 0x21...0x7E: shown = "'\(text)'"
        case 0x00...0x20, 0x7F...0xA0, 0xAD, 0x2000...0x200F, 0x2028...0x202F, 0x205F...0x206F, 0x3000, 0xFEFF:
            shown = code  // invisible or control characters
        default: shown = "'\(text)' (\(code))"
        }
        return _StrictJSONFailure(offset: offset, reason: "unexpected character \(shown)")
    }

    // MARK: Grammar

    mutating func parseDocument() throws -> JSONValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if index < buffer.count {
            let failure = unexpected(at: index)
            if failure.reason == "comments are not allowed" || failure.reason == "invalid UTF-8" { throw failure }
            throw _StrictJSONFailure(offset: index, reason: "trailing characters after the JSON value")
        }
        return value
    }

    /// Parses a value starting at `index` (whitespace already skipped); `depth` is the number of
    /// enclosing arrays/objects.
    mutating func parseValue(depth: Int) throws -> JSONValue {
        guard index < buffer.count else { throw unexpected(at: index) }
        switch buffer[index] {
        case _JSONByte.openBrace: return try parseObject(depth: depth + 1)
        case _JSONByte.openBracket: return try parseArray(depth: depth + 1)
        case _JSONByte.quote: return .string(try parseString())
        case _JSONByte.minus, _JSONByte.zero..._JSONByte.nine: return .number(try parseNumber())
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        default: throw unexpected(at: index)
        }
    }

    mutating func checkDepth(_ depth: Int) throws {
        if depth > maxDepth {
            throw _StrictJSONFailure(offset: index, reason: "nesting deeper than \(maxDepth) levels")
        }
    }

    mutating func parseObject(depth: Int) throws -> JSONValue {
        try checkDepth(depth)
        index += 1  // '{'
        skipWhitespace()
        var members: [(key: String, value: JSONValue)] = []
        if index < buffer.count, buffer[index] == _JSONByte.closeBrace {
            index += 1
            return .object(members)
        }
        var seen = Set<_JSONExactKey>()
        while true {
            guard index < buffer.count, buffer[index] == _JSONByte.quote else { throw unexpected(at: index) }
            let keyOffset = index
            let key = try parseString()
            if !seen.insert(_JSONExactKey(text: key)).inserted {
                throw _StrictJSONFailure(offset: keyOffset, reason: "duplicate key '\(JSONValue.displayEscaped(key))'")
            }
            skipWhitespace()
            guard index < buffer.count, buffer[index] == _JSONByte.colon else { throw unexpected(at: index) }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append((key: key, value: value))
            skipWhitespace()
            guard index < buffer.count else { throw unexpected(at: index) }
            switch buffer[index] {
            case _JSONByte.comma:
                let commaOffset = index
                index += 1
                skipWhitespace()
                if index < buffer.count, buffer[index] == _JSONByte.closeBrace {
                    throw _StrictJSONFailure(offset: commaOffset, reason: "trailing comma")
                }
            case _JSONByte.closeBrace:
                index += 1
                return .object(members)
            default:
                throw unexpected(at: index)
            }
        }
    }

    mutating func parseArray(depth: Int) throws -> JSONValue {
        try checkDepth(depth)
        index += 1  // '['
        skipWhitespace()
        var elements: [JSONValue] = []
        if index < buffer.count, buffer[index] == _JSONByte.closeBracket {
            index += 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < buffer.count else { throw unexpected(at: index) }
            switch buffer[index] {
            case _JSONByte.comma:
                let commaOffset = index
                index += 1
                skipWhitespace()
                if index < buffer.count, buffer[index] == _JSONByte.closeBracket {
                    throw _StrictJSONFailure(offset: commaOffset, reason: "trailing comma")
                }
            case _JSONByte.closeBracket:
                index += 1
                return .array(elements)
            default:
                throw unexpected(at: index)
            }
        }
    }

    mutating func parseLiteral(_ word: StaticString) throws {
        let literalStart = index
        let count = word.utf8CodeUnitCount
        let bytes = word.utf8Start
        for k in 0..<count {
            guard index < buffer.count else { throw unexpected(at: index) }
            guard buffer[index] == bytes[k] else {
                throw _StrictJSONFailure(offset: literalStart, reason: "invalid literal")
            }
            index += 1
        }
    }

    mutating func parseNumber() throws -> Double {
        let numberStart = index
        var negative = false
        if buffer[index] == _JSONByte.minus {
            negative = true
            index += 1
        }
        guard index < buffer.count, Self.isDigit(buffer[index]) else {
            throw _StrictJSONFailure(offset: index, reason: "invalid number")
        }
        let intStart = index
        if buffer[index] == _JSONByte.zero {
            index += 1
            if index < buffer.count, Self.isDigit(buffer[index]) {
                throw _StrictJSONFailure(offset: intStart, reason: "leading zero in number")
            }
        } else {
            while index < buffer.count, Self.isDigit(buffer[index]) { index += 1 }
        }
        let intDigits = index - intStart
        var isInteger = true
        if index < buffer.count, buffer[index] == _JSONByte.dot {
            isInteger = false
            index += 1
            guard index < buffer.count, Self.isDigit(buffer[index]) else {
                throw _StrictJSONFailure(offset: index, reason: "invalid number")
            }
            while index < buffer.count, Self.isDigit(buffer[index]) { index += 1 }
        }
        if index < buffer.count, buffer[index] == _JSONByte.lowerE || buffer[index] == _JSONByte.upperE {
            isInteger = false
            index += 1
            if index < buffer.count, buffer[index] == _JSONByte.plus || buffer[index] == _JSONByte.minus { index += 1 }
            guard index < buffer.count, Self.isDigit(buffer[index]) else {
                throw _StrictJSONFailure(offset: index, reason: "invalid number")
            }
            while index < buffer.count, Self.isDigit(buffer[index]) { index += 1 }
        }
        if isInteger && intDigits <= 15 {
            // Exact in Double; avoids a string round trip for the common case.
            var value = 0
            for k in intStart..<index { value = value &* 10 &+ Int(buffer[k] &- _JSONByte.zero) }
            return negative ? -Double(value) : Double(value)
        }
        let literal = String(decoding: UnsafeBufferPointer(rebasing: buffer[numberStart..<index]), as: UTF8.self)
        guard let value = Double(literal), value.isFinite else {
            throw _StrictJSONFailure(offset: numberStart, reason: "number out of range")
        }
        return value
    }

    func hex4(at offset: Int) -> UInt32? {
        guard offset + 4 <= buffer.count else { return nil }
        var value: UInt32 = 0
        for k in offset..<(offset + 4) {
            let b = buffer[k]
            let digit: UInt8
            switch b {
            case _JSONByte.zero..._JSONByte.nine: digit = b - _JSONByte.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (scalar >> 6)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (scalar >> 12)))
            out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (scalar >> 18)))
            out.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    /// Parses a string starting at the opening quote at `index`.
    mutating func parseString() throws -> String {
        let openQuote = index
        index += 1
        let contentStart = index
        // Fast path: plain ASCII without escapes.
        while index < buffer.count {
            let b = buffer[index]
            if b == _JSONByte.quote {
                let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[contentStart..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if b == _JSONByte.backslash || b < 0x20 || b >= 0x80 { break }
            index += 1
        }
        var out = [UInt8](UnsafeBufferPointer(rebasing: buffer[contentStart..<index]))
        while true {
            // Copy a run of plain bytes at once.
            let runStart = index
            while index < buffer.count {
                let b = buffer[index]
                if b == _JSONByte.quote || b == _JSONByte.backslash || b < 0x20 || b >= 0x80 { break }
                index += 1
            }
            if index > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<index])) }
            guard index < buffer.count else {
                throw _StrictJSONFailure(offset: openQuote, reason: "unterminated string")
            }
            let b = buffer[index]
            if b == _JSONByte.quote {
                index += 1
                return String(decoding: out, as: UTF8.self)
            } else if b == _JSONByte.backslash {
                try parseEscape(into: &out, openQuote: openQuote)
            } else if b < 0x20 {
                throw _StrictJSONFailure(offset: index, reason: "control character in string")
            } else {
                guard let length = utf8SequenceLength(at: index) else {
                    throw _StrictJSONFailure(offset: index, reason: "invalid UTF-8")
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[index..<(index + length)]))
                index += length
            }
        }
    }

    mutating func parseEscape(into out: inout [UInt8], openQuote: Int) throws {
        let backslash = index
        guard index + 1 < buffer.count else {
            throw _StrictJSONFailure(offset: openQuote, reason: "unterminated string")
        }
        let e = buffer[index + 1]
        index += 2
        switch e {
        case _JSONByte.quote, _JSONByte.backslash, _JSONByte.slash: out.append(e)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            guard let unit = hex4(at: index) else {
                throw _StrictJSONFailure(offset: backslash, reason: "invalid \\u escape")
            }
            index += 4
            var scalar = unit
            if (0xD800...0xDBFF).contains(unit) {
                guard index + 1 < buffer.count, buffer[index] == _JSONByte.backslash, buffer[index + 1] == UInt8(ascii: "u"),
                      let low = hex4(at: index + 2), (0xDC00...0xDFFF).contains(low) else {
                    throw _StrictJSONFailure(offset: backslash, reason: "unpaired surrogate in \\u escape")
                }
                index += 6
                scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw _StrictJSONFailure(offset: backslash, reason: "unpaired surrogate in \\u escape")
            }
            Self.appendUTF8(scalar, to: &out)
        default:
            throw _StrictJSONFailure(offset: backslash, reason: "invalid escape")
        }
    }
}
