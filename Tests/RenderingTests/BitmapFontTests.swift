import XCTest
@testable import Rendering

/// The 5 x 7 bitmap font: well-formed glyphs, text widths, cutting to fit, and drawing.
final class BitmapFontTests: XCTestCase {
    func testEveryGlyphIsSevenRowsOfFivePixels() {
        XCTAssertGreaterThan(BitmapFont.rows.count, 40)
        for (c, glyph) in BitmapFont.rows {
            XCTAssertEqual(glyph.count, BitmapFont.glyphHeight, "'\(c)'")
            for row in glyph {
                XCTAssertEqual(row.count, BitmapFont.glyphWidth, "'\(c)'")
                XCTAssertTrue(row.allSatisfy { $0 == "#" || $0 == "." }, "'\(c)'")
            }
            if c != " " { XCTAssertTrue(glyph.joined().contains("#"), "'\(c)' draws nothing") }
        }
        for c in "0123456789abcdefghijklmnopqrstuvwxyz+-.?" { XCTAssertNotNil(BitmapFont.rows[c], "no glyph for '\(c)'") }
    }

    func testUpperCaseIsDrawnAsLowerCaseAndUnknownAsQuestionMark() {
        XCTAssertEqual(BitmapFont.glyph("A"), BitmapFont.glyph("a"))
        XCTAssertEqual(BitmapFont.glyph("\u{263A}"), BitmapFont.glyph("?"))
    }

    func testWidthsAndFitting() {
        XCTAssertEqual(BitmapFont.width(""), 0)
        XCTAssertEqual(BitmapFont.width("a"), 5)
        XCTAssertEqual(BitmapFont.width("abc"), 17, "3 advances of 6 less the last gap")
        XCTAssertEqual(BitmapFont.width("abc", scale: 2), 34)
        XCTAssertEqual(BitmapFont.fitting("abc", in: 17), "abc")
        XCTAssertEqual(BitmapFont.fitting("abcdefgh", in: 40), "abc...", "6 characters: 35 pixels")
        XCTAssertLessThanOrEqual(BitmapFont.width(BitmapFont.fitting("abcdefgh", in: 40)), 40)
        XCTAssertEqual(BitmapFont.fitting("abcdefgh", in: 10), "")
    }

    func testDrawingSetsTheGlyphPixelsAndClipsAtTheEdges() {
        var image = RGBImage(width: 12, height: 9)
        BitmapFont.draw("1", into: &image, x: 1, y: 1, color: RGB(0, 0, 0))
        let set = (0..<9).flatMap { y in (0..<12).map { x in (x, y) } }.filter { image[$0.0, $0.1] == RGB(0, 0, 0) }
        XCTAssertEqual(set.count, BitmapFont.glyph("1").joined().filter { $0 == "#" }.count)
        XCTAssertEqual(image[3, 1], RGB(0, 0, 0), "the top of the 1")
        XCTAssertEqual(image[1, 1], RGB(255, 255, 255))
        var scaled = RGBImage(width: 12, height: 16)
        BitmapFont.draw("1", into: &scaled, x: 0, y: 0, scale: 2)
        XCTAssertEqual(scaled.pixels.filter { $0 == 0 }.count, 4 * 3 * set.count, "scale 2: four pixels each")
        var small = RGBImage(width: 3, height: 3)
        BitmapFont.draw("888", into: &small, x: -2, y: -2, scale: 3)     // mostly outside: no crash
        XCTAssertEqual(small.width, 3)
    }
}
