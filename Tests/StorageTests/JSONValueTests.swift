import XCTest
@testable import Storage

/// The strict JSON parser of job and fit files: values, and for each malformed input the exact
/// reason with the line and column it points at.
final class JSONParserTests: XCTestCase {
    private func parse(_ text: String, maxDepth: Int = 64) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8), maxDepth: maxDepth)
    }

    private func assertError(_ text: String, line: Int, column: Int, _ reason: String, maxDepth: Int = 64,
                             file: StaticString = #filePath, lineNumber: UInt = #line) {
        assertError(Array(text.utf8), line: line, column: column, reason, maxDepth: maxDepth, file: file, lineNumber: lineNumber)
    }

    private func assertError(_ bytes: [UInt8], line: Int, column: Int, _ reason: String, maxDepth: Int = 64,
                             file: StaticString = #filePath, lineNumber: UInt = #line) {
        do {
            let value = try JSONParser.parse(bytes, maxDepth: maxDepth)
            XCTFail("expected \(reason), parsed \(value)", file: file, line: lineNumber)
        } catch let error as JSONParseError {
            XCTAssertEqual(error, JSONParseError(line: line, column: column, reason: reason), file: file, line: lineNumber)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: lineNumber)
        }
    }

    func testLiterals() throws {
        XCTAssertEqual(try parse("true"), .bool(true))
        XCTAssertEqual(try parse("false"), .bool(false))
        XCTAssertEqual(try parse("null"), .null)
        XCTAssertEqual(try parse(" \t\r\n null \n"), .null)
        XCTAssertEqual(try parse("[true,false,null]"), .array([.bool(true), .bool(false), .null]))
        assertError("tru", line: 1, column: 4, "unexpected end of input")
        assertError("trUe", line: 1, column: 1, "invalid literal")
        assertError("nulll", line: 1, column: 5, "trailing characters after the JSON value")
        assertError("True", line: 1, column: 1, "unexpected character 'T'")
        assertError("[NaN]", line: 1, column: 2, "unexpected character 'N'")
        assertError("Infinity", line: 1, column: 1, "unexpected character 'I'")
        assertError("-Infinity", line: 1, column: 2, "invalid number")
    }

    func testNumbers() throws {
        XCTAssertEqual(try parse("0"), .number(0))
        XCTAssertEqual(try parse("-0"), .number(-0.0))
        XCTAssertEqual(try parse("123"), .number(123))
        XCTAssertEqual(try parse("-42"), .number(-42))
        XCTAssertEqual(try parse("0.5"), .number(0.5))
        XCTAssertEqual(try parse("1.5e3"), .number(1500))
        XCTAssertEqual(try parse("-2E-2"), .number(-0.02))
        XCTAssertEqual(try parse("1e+2"), .number(100))
        XCTAssertEqual(try parse("12345678901234567890"), .number(12345678901234567890.0))
        XCTAssertEqual(try parse("1.7976931348623157e308"), .number(Double.greatestFiniteMagnitude))
        XCTAssertEqual(try parse("1e-999"), .number(0))  // underflow rounds to zero
        assertError("1.", line: 1, column: 3, "invalid number")
        assertError("[.5]", line: 1, column: 2, "unexpected character '.'")
        assertError("+1", line: 1, column: 1, "unexpected character '+'")
        assertError("1e", line: 1, column: 3, "invalid number")
        assertError("1e+", line: 1, column: 4, "invalid number")
        assertError("-", line: 1, column: 2, "invalid number")
        assertError("0x10", line: 1, column: 2, "trailing characters after the JSON value")
    }

    func testLeadingZeros() {
        assertError("01", line: 1, column: 1, "leading zero in number")
        assertError("[1, -012]", line: 1, column: 6, "leading zero in number")
        assertError("{\"a\": 00}", line: 1, column: 7, "leading zero in number")
    }

    func testNumberOutOfRange() {
        assertError("1e999", line: 1, column: 1, "number out of range")
        assertError("[1, -1e999]", line: 1, column: 5, "number out of range")
        assertError("{\n \"x\": 1.8e308}", line: 2, column: 7, "number out of range")
    }

    func testStringEscapes() throws {
        XCTAssertEqual(try parse(#""a\"b\\c\/d\be\ff\ng\rh\ti""#), .string("a\"b\\c/d\u{8}e\u{C}f\ng\rh\ti"))
        XCTAssertEqual(try parse(#""\u0041\u00e9\u00E9\u4e2d\u0000""#), .string("Aéé中\u{0}"))
        XCTAssertEqual(try parse(#""plain""#), .string("plain"))
        XCTAssertEqual(try parse(#""""#), .string(""))
        XCTAssertEqual(try parse("\"grüße 😀 \u{7F}\""), .string("grüße 😀 \u{7F}"))
        assertError(#""\x""#, line: 1, column: 2, "invalid escape")
        assertError(#""ab\'""#, line: 1, column: 4, "invalid escape")
        assertError(#""\u12G4""#, line: 1, column: 2, "invalid \\u escape")
        assertError(#""\u12""#, line: 1, column: 2, "invalid \\u escape")
    }

    func testSurrogatePairs() throws {
        XCTAssertEqual(try parse(#""\ud83d\ude00""#), .string("😀"))
        XCTAssertEqual(try parse(#""x\uD834\uDD1Ey""#), .string("x𝄞y"))
        assertError(#""\ud83d""#, line: 1, column: 2, "unpaired surrogate in \\u escape")
        assertError(#""\ud83dx""#, line: 1, column: 2, "unpaired surrogate in \\u escape")
        assertError(#""\ud83d\u0041""#, line: 1, column: 2, "unpaired surrogate in \\u escape")
        assertError(#""ab\ude00""#, line: 1, column: 4, "unpaired surrogate in \\u escape")
    }

    func testStringErrors() {
        assertError("\"abc", line: 1, column: 1, "unterminated string")
        assertError("[\"a\",\n  \"b", line: 2, column: 3, "unterminated string")
        assertError("\"a\nb\"", line: 1, column: 3, "control character in string")
        assertError("\"a\tb\"", line: 1, column: 3, "control character in string")
        assertError([0x22, 0x61, 0xFF, 0x22], line: 1, column: 3, "invalid UTF-8")
        assertError([0x22, 0xED, 0xA0, 0x80, 0x22], line: 1, column: 2, "invalid UTF-8")  // encoded surrogate
        assertError([0x22, 0xC0, 0xAF, 0x22], line: 1, column: 2, "invalid UTF-8")  // overlong
        assertError("'a'", line: 1, column: 1, "unexpected character \"'\"")
        assertError("\u{201C}a\u{201D}", line: 1, column: 1, "unexpected character '\u{201C}' (U+201C)")
    }

    func testArraysAndObjects() throws {
        XCTAssertEqual(try parse("[]"), .array([]))
        XCTAssertEqual(try parse("{}"), .object([]))
        XCTAssertEqual(try parse("[[1,[2,[]]],[[[\"x\"]]]]"),
                       .array([.array([.number(1), .array([.number(2), .array([])])]), .array([.array([.array([.string("x")])])])]))
        let value = try parse(#"{"b": 1, "a": [true, {"c": null}], "": "empty"}"#)
        XCTAssertEqual(value, .object([(key: "b", value: .number(1)),
                                       (key: "a", value: .array([.bool(true), .object([(key: "c", value: .null)])])),
                                       (key: "", value: .string("empty"))]))
        guard case .object(let members) = value else { return XCTFail("not an object") }
        XCTAssertEqual(members.map(\.key), ["b", "a", ""])
        // Order matters for equality.
        XCTAssertNotEqual(try parse(#"{"a":1,"b":2}"#), try parse(#"{"b":2,"a":1}"#))
        XCTAssertNotEqual(try parse(#"{"a":1}"#), try parse(#"{"a":1,"b":2}"#))
        XCTAssertNotEqual(try parse("[1]"), try parse("1"))
        assertError("[1 2]", line: 1, column: 4, "unexpected character '2'")
        assertError("[1,,2]", line: 1, column: 4, "unexpected character ','")
        assertError("{\"a\" 1}", line: 1, column: 6, "unexpected character '1'")
        assertError("{a: 1}", line: 1, column: 2, "unexpected character 'a'")
        assertError("{\"a\": 1", line: 1, column: 8, "unexpected end of input")
        assertError("[", line: 1, column: 2, "unexpected end of input")
        assertError("[1}", line: 1, column: 3, "unexpected character '}'")
        assertError("{\"a\":1]", line: 1, column: 7, "unexpected character ']'")
    }

    func testTrailingComma() {
        assertError("[1, 2,]", line: 1, column: 6, "trailing comma")
        assertError("[1,\n]", line: 1, column: 3, "trailing comma")
        assertError("{\"a\": 1,\n  }", line: 1, column: 8, "trailing comma")
    }

    func testDepthLimit() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertNoThrow(try parse(ok))
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        assertError(deep, line: 1, column: 65, "nesting deeper than 64 levels")
        let objects = String(repeating: "{\"a\":", count: 65) + "1" + String(repeating: "}", count: 65)
        assertError(objects, line: 1, column: 1 + 64 * 5, "nesting deeper than 64 levels")
        XCTAssertNoThrow(try parse(String(repeating: "{\"a\":", count: 64) + "1" + String(repeating: "}", count: 64)))
        assertError("[[1]]", line: 1, column: 2, "nesting deeper than 1 levels", maxDepth: 1)
        XCTAssertEqual(try parse("[1]", maxDepth: 1), .array([.number(1)]))
        XCTAssertEqual(try parse("1", maxDepth: 0), .number(1))
        // Far too deep input fails cleanly instead of exhausting the stack.
        assertError(String(repeating: "[", count: 100_000), line: 1, column: 65, "nesting deeper than 64 levels")
    }

    func testDuplicateKeys() {
        assertError("{\"a\": 1, \"a\": 2}", line: 1, column: 10, "duplicate key 'a'")
        assertError("{\n  \"x\": {\n    \"k\": 1,\n    \"j\": 2,\n    \"k\": 3\n  }\n}", line: 5, column: 5, "duplicate key 'k'")
        // Escapes are decoded before comparison.
        assertError(#"{"ab": 1, "a\u0062": 2}"#, line: 1, column: 11, "duplicate key 'ab'")
        // Shown on one line.
        assertError(#"{"a\nb": 1, "a\nb": 2}"#, line: 1, column: 13, #"duplicate key 'a\nb'"#)
        // Same key in different objects is fine; canonically equivalent but different keys are distinct.
        XCTAssertNoThrow(try parse(#"{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}"#))
        XCTAssertNoThrow(try parse("{\"\u{E9}\": 1, \"e\u{301}\": 2}"))
    }

    func testTrailingGarbage() {
        assertError("{} x", line: 1, column: 4, "trailing characters after the JSON value")
        assertError("1 2", line: 1, column: 3, "trailing characters after the JSON value")
        assertError("{}}", line: 1, column: 3, "trailing characters after the JSON value")
        assertError("[]\n\n  ,", line: 3, column: 3, "trailing characters after the JSON value")
        assertError("{} // note", line: 1, column: 4, "comments are not allowed")
        assertError("{\"a\": /* c */ 1}", line: 1, column: 7, "comments are not allowed")
    }

    func testEmptyInputAndWhitespace() {
        assertError("", line: 1, column: 1, "unexpected end of input")
        assertError("  \n ", line: 2, column: 2, "unexpected end of input")
        assertError("\u{0}", line: 1, column: 1, "unexpected character U+0000")
        assertError("\u{A0}1", line: 1, column: 1, "unexpected character U+00A0")
    }

    func testColumnsCountCharactersNotBytes() {
        assertError("{\"é😀\": 1 x}", line: 1, column: 10, "unexpected character 'x'")
    }

    func testByteOrderMarkIsIgnored() throws {
        XCTAssertEqual(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)), .array([.number(1)]))
        assertError([0xEF, 0xBB, 0xBF] + Array("[1,]".utf8), line: 1, column: 3, "trailing comma")
    }

    func testLargeDocumentIsFast() throws {
        var text = "["
        var count = 0
        while text.utf8.count < 1_000_000 {
            if count > 0 { text += "," }
            text += #"{"id": \#(count), "name": "item \#(count) ü\n", "value": \#(Double(count) * 0.25), "tags": [true, null]}"#
            count += 1
        }
        text += "]"
        let bytes = Array(text.utf8)
        let start = Date()
        let value = try JSONParser.parse(bytes)
        let elapsed = Date().timeIntervalSince(start)
        guard case .array(let items) = value else { return XCTFail("not an array") }
        XCTAssertEqual(items.count, count)
        guard case .object(let last)? = items.last else { return XCTFail("not an object") }
        XCTAssertEqual(last.first?.key, "id")
        XCTAssertEqual(last.first?.value, .number(Double(count - 1)))
        XCTAssertLessThan(elapsed, 10, "1 MB took \(elapsed) s")
        print("parsed \(bytes.count) bytes in \(elapsed) s")
    }

    // MARK: Edge cases

    func testEscapeAtTheEndOfInputIsAnUnterminatedString() {
        assertError(#""\"#, line: 1, column: 1, "unterminated string")
        assertError("[1,\n \"ab\\", line: 2, column: 2, "unterminated string")
        assertError(#""\u00"#, line: 1, column: 2, "invalid \\u escape")
    }

    func testInvalidEscapes() {
        assertError(#""\U0041""#, line: 1, column: 2, "invalid escape")   // \u is lower case only
        assertError(#""\0""#, line: 1, column: 2, "invalid escape")
        assertError(#""\a""#, line: 1, column: 2, "invalid escape")
        assertError("\"\\\u{E9}\"", line: 1, column: 2, "invalid escape")
        assertError(#""\u+041""#, line: 1, column: 2, "invalid \\u escape")
        assertError(#""\u 041""#, line: 1, column: 2, "invalid \\u escape")
    }

    func testSurrogateEdgeCases() throws {
        XCTAssertEqual(try parse(#""\udbff\udfff""#), .string("\u{10FFFF}"))
        XCTAssertEqual(try parse(#""\uD800\uDC00""#), .string("\u{10000}"))
        XCTAssertEqual(try parse(#""\ud7ff\ue000""#), .string("\u{D7FF}\u{E000}"))   // next to the surrogates
        assertError(#""\ud83d\ud83d""#, line: 1, column: 2, "unpaired surrogate in \\u escape")
        assertError(#""\ud83d\uZZZZ""#, line: 1, column: 2, "unpaired surrogate in \\u escape")
        assertError(#""\ud83d\n""#, line: 1, column: 2, "unpaired surrogate in \\u escape")
        assertError(#""\udfff\ud83d""#, line: 1, column: 2, "unpaired surrogate in \\u escape")
    }

    func testHugeAndTinyExponents() throws {
        XCTAssertEqual(try parse("1e007"), .number(1e7))        // leading zeros are allowed in an exponent
        XCTAssertEqual(try parse("1e-400"), .number(0))
        XCTAssertEqual(try parse("0e99999999999999999999"), .number(0))
        XCTAssertEqual(try parse("1e-99999999999999999999"), .number(0))
        XCTAssertEqual(try parse("123456789012345678901234567890e-29"), .number(1.2345678901234568))
        XCTAssertEqual(try parse("4.9e-324"), .number(Double.leastNonzeroMagnitude))
        assertError("1e309", line: 1, column: 1, "number out of range")
        assertError("-1E+309", line: 1, column: 1, "number out of range")
        assertError("1e99999999999999999999", line: 1, column: 1, "number out of range")
        assertError("[0, 1.7976931348623159e308]", line: 1, column: 5, "number out of range")
        assertError("1e-", line: 1, column: 4, "invalid number")
        assertError("1.e5", line: 1, column: 3, "invalid number")
        assertError("1e5.0", line: 1, column: 4, "trailing characters after the JSON value")
    }

    func testMoreLeadingZeros() throws {
        XCTAssertEqual(try parse("0.0001"), .number(0.0001))
        XCTAssertEqual(try parse("-0.5"), .number(-0.5))
        XCTAssertEqual(try parse("0e1"), .number(0))
        assertError("00.5", line: 1, column: 1, "leading zero in number")
        assertError("-00", line: 1, column: 2, "leading zero in number")
        assertError("[0,01]", line: 1, column: 4, "leading zero in number")
    }

    func testNestedTrailingCommas() {
        assertError("[[1],]", line: 1, column: 5, "trailing comma")
        assertError(#"{"a":[1,],}"#, line: 1, column: 8, "trailing comma")
        assertError("{\"a\": {},\n}", line: 1, column: 9, "trailing comma")
        assertError("[,]", line: 1, column: 2, "unexpected character ','")
        assertError("{,}", line: 1, column: 2, "unexpected character ','")
    }

    func testLiteralsInsideContainers() {
        assertError("[tru]", line: 1, column: 2, "invalid literal")
        assertError("[nul", line: 1, column: 5, "unexpected end of input")
        assertError(#"{"a": fals}"#, line: 1, column: 7, "invalid literal")
    }

    func testKeysAndDuplicateKeyDisplay() {
        assertError("{1: 2}", line: 1, column: 2, "unexpected character '1'")
        assertError(#"{"": 1, "": 2}"#, line: 1, column: 9, "duplicate key ''")
        assertError(#"{"a\u0007": 1, "a\u0007": 2}"#, line: 1, column: 16, #"duplicate key 'a\u0007'"#)
        assertError(#"{"\u2028": 1, "\u2028": 2}"#, line: 1, column: 15, #"duplicate key '\u2028'"#)
        assertError("{\"\u{E9}\": 1, \"\u{E9}\": 2}", line: 1, column: 10, "duplicate key '\u{E9}'")
    }

    func testLinesAndColumnsWithCarriageReturns() {
        assertError("{\r\n\"a\": x}", line: 2, column: 6, "unexpected character 'x'")
        assertError("{\r\"a\": x}", line: 1, column: 8, "unexpected character 'x'")   // a lone CR is no line break
        assertError("[\n\n\n 1,\n 2,\n ]", line: 5, column: 3, "trailing comma")
    }

    func testInvalidBytesOutsideStrings() {
        assertError([0x7B, 0x7D, 0x20, 0xFF], line: 1, column: 4, "invalid UTF-8")
        assertError([0x22, 0xC3], line: 1, column: 2, "invalid UTF-8")             // cut inside a character
        assertError([0xEF, 0xBB, 0xBF], line: 1, column: 1, "unexpected end of input")  // a BOM alone
        assertError("[\u{FEFF}1]", line: 1, column: 2, "unexpected character U+FEFF")
        assertError("[1]\u{2028}", line: 1, column: 4, "trailing characters after the JSON value")
    }

    func testMemberLookupComparesCodePoints() throws {
        let value = try parse("{\"\u{E9}\": 1, \"e\u{301}\": 2}")
        XCTAssertEqual(value[member: "\u{E9}"], .number(1))
        XCTAssertEqual(value[member: "e\u{301}"], .number(2))
        XCTAssertNil(value[member: "e"])
        XCTAssertNil(JSONValue.array([])[member: "a"])
    }

    func testErrorDescriptionNamesLineAndColumn() {
        XCTAssertEqual(JSONParseError(line: 3, column: 7, reason: "trailing comma").description,
                       "line 3, column 7: trailing comma")
    }
}
