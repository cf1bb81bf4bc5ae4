import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Rendering
import Storage
import XCTest

/// `neon-batch render`: bar charts for tabular relevance, Fig. 7 heatmaps for spatial relevance
/// (outputs written by the test directly), PNGs that decode to the right
/// size and colours, an index.html that references only files that exist, and refusals.
final class RenderTests: XCTestCase {
    var fx: Fixture!

    override func setUpWithError() throws { fx = try Fixture() }
    override func tearDown() { fx.remove() }

    /// The files index.html references (src and href attributes); each must exist in `dir`.
    func assertIndexReferencesOnlyExistingFiles(_ dir: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let html = try String(contentsOfFile: dir + "/index.html", encoding: .utf8)
        let regex = try NSRegularExpression(pattern: "(?:src|href)=\"([^\"]*)\"")
        let refs = regex.matches(in: html, range: NSRange(html.startIndex..., in: html)).map {
            String(html[Range($0.range(at: 1), in: html)!])
        }
        XCTAssertFalse(refs.isEmpty, file: file, line: line)
        for r in refs {
            XCTAssertFalse(r.contains("/") || r.contains(":"), "\(r) is not a file beside index.html", file: file, line: line)
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + r), "index.html references missing \(r)", file: file, line: line)
        }
        return refs
    }

    /// Width and height from a PNG's signature and IHDR chunk (read without libpng).
    func pngHeader(_ path: String) throws -> (width: Int, height: Int) {
        let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(b.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
        XCTAssertEqual(String(decoding: b[12..<16], as: UTF8.self), "IHDR")
        let be = { (i: Int) in b[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be(16), be(20))
    }

    /// Decompresses the IDAT stream with Python's zlib and checks its length, when python3 exists.
    func assertZlibDecodes(_ path: String, width: Int, height: Int) throws {
        let script = """
            import struct, sys, zlib
            b = open(sys.argv[1], 'rb').read(); i = 8; idat = b''
            while i < len(b):
                n, = struct.unpack('>I', b[i:i+4]); t = b[i+4:i+8]
                if t == b'IDAT': idat += b[i+8:i+8+n]
                i += 12 + n
            print(len(zlib.decompress(idat)))
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, path]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return }
        p.waitUntilExit()
        guard p.terminationStatus != 127 else { return }       // no python3 here
        let n = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertEqual(n, "\(height * (1 + 3 * width))", "zlib stream: one filter byte and 3 bytes a pixel per row")
    }

    func testTabularRenderDrawsBarChartsAndAnIndexOfExistingFiles() throws {
        let (n, d, k) = (300, 6, 3)
        let data = Fixture.blobs(rows: n, features: d, clusters: k, seed: 5)
        try fx.writeInput(rows: n, features: d, values: data.x)
        let f = try H5WriteFile(opening: fx.path("data.h5"), communicator: nil)
        try f.setAttribute("feature_names", strings: ["a&b", "<c>", "d", "e", "f", "g"], on: "features")
        try f.close()
        try fx.writeModel(clusters: k, features: d, centroids: data.centroids)
        XCTAssertEqual(try NeonBatchProcess.run([try fx.writeJob(), "-q"], ranks: 1).status, 0)
        let out = fx.path("out.h5"), dir = fx.path("figures")
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        let r = try NeonBatchProcess.run(["render", out, "--samples", "0,7-8", "--out", dir, "--top", "4"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), before, "render never writes the output")

        let refs = try assertIndexReferencesOnlyExistingFiles(dir)
        let assignment = try StoredFile(path: out).int64s("assignment")
        let clusters = Set(assignment).sorted()
        // The clusters table (one f_c histogram each), then one gallery per cluster: its mean, then its drawn samples.
        XCTAssertEqual(refs, clusters.map { "fc-cluster-\($0).svg" } + clusters.flatMap { c in
            ["cluster-\(c).svg"] + [0, 7, 8].filter { assignment[$0] == c }.map { "sample-\($0).svg" }
        })
        let html = try String(contentsOfFile: dir + "/index.html", encoding: .utf8)
        XCTAssertTrue(html.contains("status:        complete"), "the inspect summary is on the page")
        XCTAssertTrue(html.contains("<tr><td>status</td><td>complete</td></tr>"), "the summary is a table")

        // Sample 7's chart: its 4 features of largest |R_i|, largest first, names escaped.
        let s = try StoredFile(path: out)
        let row = try s.rows("relevance", start: 7, count: 1)
        let names = ["a&b", "<c>", "d", "e", "f", "g"]
        let expected = row.indices.sorted { abs(row[$0]) > abs(row[$1]) }.prefix(4).map { names[$0] }
        let svg = try Data(contentsOf: URL(fileURLWithPath: dir + "/sample-7.svg"))
        let parsed = SVGText(svg)
        XCTAssertTrue(parsed.wellFormed, "sample-7.svg is well-formed XML")
        XCTAssertEqual(parsed.bars, 4)
        XCTAssertEqual(parsed.labels, expected)
    }

    func testHeatmapsOfSpatialRelevanceDecodeWithTheExpectedSizeAndColours() throws {
        // N = 3 samples of C x H x W = 2 x 5 x 7; channel sums of sample 0: +2 at (0,0), -1 at (0,1), +1 at (4,6).
        let (c, h, w) = (2, 5, 7)
        var s0 = [Double](repeating: 0, count: c * h * w)
        func set(_ ch: Int, _ y: Int, _ x: Int, _ v: Double) { s0[ch * h * w + y * w + x] = v }
        set(0, 0, 0, 1.5); set(1, 0, 0, 0.5); set(0, 0, 1, -2); set(1, 0, 1, 1); set(1, 4, 6, 1)
        let rel = s0 + s0.map { -$0 } + s0.map { 3 * $0 }
        try writeOutput(fx, "spatial.h5", shape: [3, c, h, w], relevance: rel, assignment: [0, 1, 0], logit: [2, 2, 2])
        XCTAssertEqual(try StoredFile(path: fx.path("spatial.h5")).dimensionLabels("relevance"), ["sample", "channel", "y", "x"])
        let dir = fx.path("maps")
        let r = try NeonBatchProcess.run(["render", fx.path("spatial.h5"), "--samples", "0-1", "--out", dir, "--scale", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try assertIndexReferencesOnlyExistingFiles(dir),
                       ["fc-cluster-0.svg", "fc-cluster-1.svg", "cluster-0.png", "sample-0.png", "cluster-1.png", "sample-1.png"])

        let layout = HeatmapRow(height: h, width: w, scale: 3)
        let titles = ["sample-0.png": "sample 0: cluster 0, f_c = 2", "sample-1.png": "sample 1: cluster 1, f_c = 2",
                      "cluster-0.png": "cluster 0: mean over 2 members, mean f_c = 2", "cluster-1.png": "cluster 1: mean over 1 members, mean f_c = 2"]
        for (name, title) in titles {
            let path = dir + "/" + name
            let header = try pngHeader(path)
            let size = layout.size(tiles: 1, title: title)
            XCTAssertEqual(header.width, size.width, name)
            XCTAssertEqual(header.height, size.height, name)
            XCTAssertGreaterThan(header.width, BitmapFont.width(title), "\(name): widened to hold its title")
            try assertZlibDecodes(path, width: size.width, height: size.height)
            try assertText(try RGBImage.readPNG(path), title, x: HeatmapRow.margin, y: HeatmapRow.margin, name)
        }
        let png = Process()
        png.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        png.arguments = ["file", dir + "/sample-0.png"]
        let pipe = Pipe()
        png.standardOutput = pipe
        if (try? png.run()) != nil {
            png.waitUntilExit()
            let said = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let size = layout.size(tiles: 1, title: titles["sample-0.png"]!)
            if png.terminationStatus == 0 { XCTAssertTrue(said.contains("PNG image data, \(size.width) x \(size.height)"), said) }
        }
        // Colours (decoded with libpng): scaled by the sample's largest |r| = 2, centred at 0.
        let origin = layout.tileOrigin(0)
        let pixel = { (img: RGBImage, y: Int, x: Int) in img[origin.x + x * 3 + 1, origin.y + y * 3 + 1] }
        let m0 = try RGBImage.readPNG(dir + "/sample-0.png")
        XCTAssertEqual(pixel(m0, 0, 0), DivergingColormap.positive)
        XCTAssertEqual(pixel(m0, 0, 1), DivergingColormap.color(-0.5))
        XCTAssertEqual(pixel(m0, 4, 6), DivergingColormap.color(0.5))
        XCTAssertEqual(pixel(m0, 2, 3), DivergingColormap.centre)
        XCTAssertNotEqual(DivergingColormap.color(-0.5), DivergingColormap.color(0.5))
        XCTAssertGreaterThan(DivergingColormap.positive.r, DivergingColormap.positive.b, "positive relevance is red")
        XCTAssertGreaterThan(DivergingColormap.negative.b, DivergingColormap.negative.r, "negative relevance is blue")
        XCTAssertGreaterThan(Int(DivergingColormap.centre.g), 240, "zero is near white")
        XCTAssertEqual(DivergingColormap.color(.nan), DivergingColormap.centre)
        // The colour bar under the tile: blue at the left end, red at the right, and its scale +-2.
        XCTAssertEqual(m0[origin.x, layout.barTop + 1], DivergingColormap.negative)
        XCTAssertEqual(m0[origin.x + w * 3 - 1, layout.barTop + 1], DivergingColormap.positive)
        let ticksY = layout.barTop + HeatmapRow.barHeight + 3
        try assertText(m0, "+-2", x: origin.x, y: ticksY, "sample-0.png scale (a narrow tile: one label)")
        XCTAssertEqual(HeatmapRow.ticks(peak: 2, tileWidth: 128, textScale: 1).map(\.0), ["-2", "0", "+2"])
        let m1 = try RGBImage.readPNG(dir + "/sample-1.png")
        XCTAssertEqual(pixel(m1, 0, 0), DivergingColormap.negative, "sample 1 = -sample 0")
        // Cluster 0's mean is 2 x sample 0 (same colours); cluster 1 is sample 1.
        let c0 = try RGBImage.readPNG(dir + "/cluster-0.png"), c1 = try RGBImage.readPNG(dir + "/cluster-1.png")
        for y in 0..<h {
            for x in 0..<w {
                XCTAssertEqual(pixel(c0, y, x), pixel(m0, y, x))
                XCTAssertEqual(pixel(c1, y, x), pixel(m1, y, x))
            }
        }
        let html = try String(contentsOfFile: dir + "/index.html", encoding: .utf8)
        XCTAssertTrue(html.contains("sample 0: cluster 0, f_c = 2; cluster 0 (assigned): max |R| 2"), html)
    }

    func testOneTilePerTargetEachWithItsOwnScaleOverTheImage() throws {
        // N = 2, T = 3 targets, C = 1, 4 x 4; the input holds images (N, H, W) with values 0..15.
        let (t, h, w) = (3, 4, 4)
        var rel = [Double](repeating: 0, count: 2 * t * h * w)
        rel[1 * t * h * w + 0 * h * w + 3 * w + 3] = 5      // sample 1, target 0: +5 at (3, 3)
        rel[1 * t * h * w + 1 * h * w + 1 * w + 1] = 0.01   // sample 1, target 1: +0.01 at (1, 1)
        rel[1 * t * h * w + 2 * h * w + 0] = -500           // sample 1, target 2: -500 at (0, 0)
        let images = (0..<2).flatMap { _ in (0..<(h * w)).map { Float($0) } }
        let input = try H5WriteFile(creating: fx.path("images.h5"), communicator: nil)
        try input.write("images", element: .float32, dims: [2, h, w], values: images)
        try input.close()
        try writeOutput(fx, "o5.h5", shape: [2, t, 1, h, w], relevance: rel, assignment: [0, 1], logit: [1, 1],
                        input: fx.path("images.h5"), inputDataset: "x")
        XCTAssertEqual(try StoredFile(path: fx.path("o5.h5")).dimensionLabels("relevance"), ["sample", "target", "channel", "y", "x"])
        let dir = fx.path("maps5")
        let r = try NeonBatchProcess.run(["render", fx.path("o5.h5"), "--samples", "1", "--out", dir,
                                          "--scale", "30", "--overlay", "images"])
        XCTAssertEqual(r.status, 0, r.stderr)
        _ = try assertIndexReferencesOnlyExistingFiles(dir)
        let img = try RGBImage.readPNG(dir + "/sample-1.png")
        let layout = HeatmapRow(height: h, width: w, scale: 30)
        let title = "sample 1: cluster 1, f_c = 1"
        XCTAssertEqual(img.width, layout.size(tiles: 4, title: title).width, "image + 3 target tiles")
        XCTAssertEqual(img.height, layout.size(tiles: 4).height)
        let at = { (tile: Int, y: Int, x: Int) in img[layout.tileOrigin(tile).x + 30 * x, layout.tileOrigin(tile).y + 30 * y] }
        XCTAssertEqual(at(0, 0, 0), RGB(0, 0, 0), "image tile: darkest pixel")
        XCTAssertEqual(at(0, 3, 3), RGB(255, 255, 255), "image tile: brightest pixel")
        // Each target's tile has its own scale: |r| = its own peak is the heat colour alone, even 0.01.
        XCTAssertEqual(at(1, 3, 3), DivergingColormap.positive)
        XCTAssertEqual(at(2, 1, 1), DivergingColormap.positive, "a weak target's map is not blank")
        XCTAssertEqual(at(3, 0, 0), DivergingColormap.negative)
        // Where relevance is 0 the image shows unchanged: the overlay keeps its contrast.
        XCTAssertEqual(at(1, 0, 0), RGB(0, 0, 0))
        XCTAssertEqual(at(2, 3, 3), RGB(255, 255, 255))
        XCTAssertEqual(at(3, 3, 3), RGB(255, 255, 255))
        XCTAssertEqual(img[layout.tileOrigin(1).x - 1, layout.tileOrigin(1).y], RGB(255, 255, 255), "the gap between tiles")
        for (k, label) in ["input image", "target 0", "target 1", "target 2"].enumerated() {
            try assertText(img, label, x: layout.tileOrigin(k).x, y: layout.labelTop, "tile \(k)")
        }
        let html = try String(contentsOfFile: dir + "/index.html", encoding: .utf8)
        XCTAssertTrue(html.contains("sample 1: cluster 1, f_c = 1; target 0: max |R| 5; target 1: max |R| 0.01; target 2: max |R| 500"), html)
        XCTAssertTrue(html.contains("each tile has its own scale"), html)
    }

    func testRenderRefusesHeatmapsForNonSpatialDataAndBadArguments() throws {
        try writeOutput(fx, "tab.h5", shape: [3, 2], relevance: [1, 1, 2, 0, 0, 2], assignment: [0, 1, 1], logit: [2, 2, 2])
        let out = fx.path("tab.h5"), dir = fx.path("never")
        let refusal = "neon-batch: error: \(out): relevance has shape 3 x 2 (sample x feature), not spatial; heatmaps need relevance of shape N x C x H x W or N x T x C x H x W, or N x d with --shape C x H x W (or the input dataset's attribute image_shape) (draw bar charts with --charts bars)"
        var r = try NeonBatchProcess.run(["render", out, "--out", dir, "--charts", "heatmaps"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, refusal + "\n")
        r = try NeonBatchProcess.run(["render", out, "--out", dir, "--overlay", "images"])
        XCTAssertEqual(r.stderr, refusal + "\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "a refusal writes nothing")

        r = try NeonBatchProcess.run(["render", out, "--out", dir, "--samples", "1,3"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(out): --samples 3 is outside the 3 samples (0..<3)"])
        try "x".write(toFile: fx.path("afile"), atomically: true, encoding: .utf8)
        r = try NeonBatchProcess.run(["render", out, "--out", fx.path("afile")])
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path("afile")): --out is a file, not a folder"])
        r = try NeonBatchProcess.run(["render", out, "--out", dir, "--samples", "2-1"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--samples: '2-1' is not an index or a range a-b"), r.stderr)
        r = try NeonBatchProcess.run(["render", out, "--out", dir, "--samples", "0-99999999999"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--samples: more than 10000 samples"), r.stderr)

        try writeOutput(fx, "part.h5", shape: [3, 2], relevance: [1, 1, 2, 0, 0, 2], assignment: [0, 1, 1], logit: [2, 2, 2],
                        status: "incomplete")
        r = try NeonBatchProcess.run(["render", fx.path("part.h5"), "--out", dir])
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path("part.h5")): status is incomplete; render needs a complete output (finish the job, e.g. with --resume)"])

        try writeOutput(fx, "sp.h5", shape: [1, 1, 2, 2], relevance: [1, 0, 0, -1], assignment: [0], logit: [0],
                        input: fx.path("nothere.h5"))
        r = try NeonBatchProcess.run(["render", fx.path("sp.h5"), "--out", dir, "--overlay", "images"])
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path("nothere.h5")): HDF5 file does not exist"])
    }
}

/// What a test needs from an SVG bar chart: well-formedness, the bars and their labels.
final class SVGText: NSObject, XMLParserDelegate {
    var bars = 0
    var labels: [String] = []
    var wellFormed = false
    private var inLabel = false
    private var text = ""

    init(_ data: Data) {
        super.init()
        let p = XMLParser(data: data)
        p.delegate = self
        wellFormed = p.parse()
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if name == "rect" && attributes["class"] == "bar" { bars += 1 }
        inLabel = name == "text" && attributes["text-anchor"] == "end"
        text = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if inLabel { text += string } }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if inLabel && name == "text" { labels.append(text); inLabel = false }
    }
}

/// Checks that `text` is drawn in black-ish pixels with its top-left corner at (x, y): the
/// pixels of the glyphs (BitmapFont, scale 1) are dark and the others in its box are not.
func assertText(_ img: RGBImage, _ text: String, x: Int, y: Int, _ what: String = "",
                file: StaticString = #filePath, line: UInt = #line) throws {
    let w = BitmapFont.width(text), h = BitmapFont.glyphHeight
    var expected = RGBImage(width: w, height: h)
    BitmapFont.draw(text, into: &expected, x: 0, y: 0)
    var wrong = 0
    for yy in 0..<h {
        for xx in 0..<w {
            let dark = { (p: RGB) in Int(p.r) + Int(p.g) + Int(p.b) < 3 * 128 }
            if dark(expected[xx, yy]) != dark(img[x + xx, y + yy]) { wrong += 1 }
        }
    }
    XCTAssertEqual(wrong, 0, "\(what): '\(text)' is not drawn at (\(x), \(y))", file: file, line: line)
}
