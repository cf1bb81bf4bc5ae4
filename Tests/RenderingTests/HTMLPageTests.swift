import XCTest
@testable import Rendering

/// index.html: every title, label, caption and file name is escaped, numbers are right-aligned
/// cells, and each section lists its figures.
final class HTMLPageTests: XCTestCase {
    func testLabelsAreEscapedEverywhere() {
        var page = HTMLPage(title: "<script>alert(1)</script>", summary: "a < b & c")
        page.tables.append((heading: "h&h", note: "n<n>", table: HTMLPage.Table(
            headers: ["name\"", "value"], rows: [[.text("<b>x</b>"), .text("1.5")]])))
        page.sections.append((heading: "s", note: "", figures: [HTMLPage.Figure(file: "a\"b.png", caption: "c'<d>")]))
        let html = page.html
        XCTAssertFalse(html.contains("<script>"))
        XCTAssertFalse(html.contains("<b>x</b>"))
        XCTAssertTrue(html.contains("<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>"))
        XCTAssertTrue(html.contains("<h2>h&amp;h</h2>"))
        XCTAssertTrue(html.contains("<p>n&lt;n&gt;</p>"))
        XCTAssertTrue(html.contains("<th>name&quot;</th>"))
        XCTAssertTrue(html.contains("<td>&lt;b&gt;x&lt;/b&gt;</td>"))
        XCTAssertTrue(html.contains("<td class=\"num\">1.5</td>"))
        XCTAssertTrue(html.contains("<img src=\"a&quot;b.png\" alt=\"c&#39;&lt;d&gt;\">"))
        XCTAssertTrue(html.contains("<pre>a &lt; b &amp; c</pre>"))
    }

    func testSectionsListTheirFiguresInOrder() {
        var page = HTMLPage(title: "t", summary: "")
        page.sections.append((heading: "one", note: "", figures: ["a.png", "b.svg"].map { HTMLPage.Figure(file: $0, caption: $0) }))
        page.sections.append((heading: "two", note: "note", figures: []))
        let html = page.html
        XCTAssertEqual(html.components(separatedBy: "<section class=\"gallery\">").count - 1, 2)
        XCTAssertEqual(html.components(separatedBy: "<figure>").count - 1, 2)
        XCTAssertLessThan(html.range(of: "a.png")!.lowerBound, html.range(of: "b.svg")!.lowerBound)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.hasSuffix("</body></html>\n"))
    }

    func testXMLEscapeCoversTheFiveSpecialCharacters() {
        XCTAssertEqual(xmlEscape("&<>\"'"), "&amp;&lt;&gt;&quot;&#39;")
        XCTAssertEqual(xmlEscape("grüße 😀"), "grüße 😀")
        XCTAssertEqual(shortNumber(1234567), "1.235e+06")
        XCTAssertEqual(shortNumber(-0.5), "-0.5")
    }
}
