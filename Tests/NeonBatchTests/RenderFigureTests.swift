import Foundation
import Rendering
import Storage
import XCTest

/// `neon-batch render` on a real k-means run with flat inputs drawn as images: --shape and the
/// input's image_shape attribute, explain.target "all" (a tile per cluster, each with its own
/// scale and label), --labels, --centroids, the --scale bound, part outputs (input.rows), and
/// the page in headless Chromium.
final class RenderFigureTests: XCTestCase {
    var fx: Fixture!
    let (n, d, k) = (90, 16, 3)
    var data: (x: [Double], centroids: [Double])!

    override func setUpWithError() throws {
        fx = try Fixture()
        data = Fixture.blobs(rows: n, features: d, clusters: k, seed: 11)
        try fx.writeInput(rows: n, features: d, values: data.x)
        let f = try H5WriteFile(opening: fx.path("data.h5"), communicator: nil)
        try f.write("y", element: .int64, dims: [n], values: (0..<n).map { Int64(100 + $0) })
        try f.close()
        try fx.writeModel(clusters: k, features: d, centroids: data.centroids)
    }
    override func tearDown() { fx.remove() }

    func render(_ out: String, _ args: [String]) throws -> (status: Int32, stderr: String, errorLines: [String], html: String) {
        let dir = fx.path("r-\(UUID().uuidString.prefix(8))")
        let r = try NeonBatchProcess.run(["render", out, "--out", dir] + args)
        let html = (try? String(contentsOfFile: dir + "/index.html", encoding: .utf8)) ?? ""
        lastDir = dir
        return (r.status, r.stderr, r.errorLines, html)
    }
    var lastDir = ""

    func testTargetAllTilesHaveTheirOwnScaleAndClusterLabels() throws {
        XCTAssertEqual(try NeonBatchProcess.run([try fx.writeJob(target: "\"all\""), "-q"], ranks: 1).status, 0)
        let out = fx.path("out.h5")
        let s = try StoredFile(path: out)
        XCTAssertEqual(s.shape("relevance"), [n, k, d])
        let assigned = Int(try s.rows("assignment", start: 4, count: 1)[0])
        let rel = try s.rows("relevance", start: 4, count: 1)
        let peaks = (0..<k).map { t in rel[(t * d)..<((t + 1) * d)].reduce(0) { max($0, abs($1)) } }
        XCTAssertGreaterThan(peaks.max()! / peaks.min()!, 1.2, "the tiles' scales differ")

        let r = try render(out, ["--shape", "4x4", "--samples", "4"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let tiles = (0..<k).map { "cluster \($0)\($0 == assigned ? " (assigned)" : ""): max |R| \(shortNumber(Double(Float(peaks[$0]))))" }
        XCTAssertTrue(r.html.contains(tiles.joined(separator: "; ")), r.html)
        let img = try RGBImage.readPNG(lastDir + "/sample-4.png")
        let layout = HeatmapRow(height: 4, width: 4, scale: HeatmapRow.scale(height: 4, width: 4))
        XCTAssertEqual(layout.scale, 32)
        for t in 0..<k {
            let label = "cluster \(t)\(t == assigned ? " (assigned)" : "")"
            try assertText(img, label, x: layout.tileOrigin(t).x, y: layout.labelTop)
            try assertText(img, "+" + shortNumber(peaks[t]), x: layout.tileOrigin(t + 1).x - HeatmapRow.gap - BitmapFont.width("+" + shortNumber(peaks[t])),
                            y: layout.barTop + HeatmapRow.barHeight + 3)
            // Each tile reaches its own full colour at its own largest |R|.
            let p = (0..<d).max { abs(channelSum(rel, t, $0)) < abs(channelSum(rel, t, $1)) }!
            let pix = img[layout.tileOrigin(t).x + (p % 4) * 32 + 16, layout.tileOrigin(t).y + (p / 4) * 32 + 16]
            XCTAssertTrue(pix == DivergingColormap.positive || pix == DivergingColormap.negative, "tile \(t): \(pix)")
        }

        // --scale is bounded: a clear error naming the largest scale that fits, and nothing written.
        let big = try render(out, ["--shape", "4x4", "--samples", "4", "--scale", "5000"])
        let size = HeatmapRow(height: 4, width: 4, scale: 5000).size(tiles: 3)
        let largest = (1..<5000).last { HeatmapRow(height: 4, width: 4, scale: $0).fits(tiles: 3) }!
        XCTAssertFalse(HeatmapRow(height: 4, width: 4, scale: largest + 1).fits(tiles: 3))
        XCTAssertGreaterThan(largest, 100)
        XCTAssertEqual(big.errorLines, ["neon-batch: error: \(out): --scale 5000 makes figures of \(size.width) x \(size.height) pixels (3 tiles of 4 x 4 positions); at most 16384 pixels a side and 33554432 in all: use --scale \(largest) or less"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: lastDir))
        let ok = try render(out, ["--shape", "4x4", "--samples", "4", "--scale", "\(largest)"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let header = try RGBImage.readPNG(lastDir + "/sample-4.png")
        XCTAssertLessThanOrEqual(header.width * header.height, HeatmapRow.maxPixels)
        XCTAssertNotEqual(try NeonBatchProcess.run(["render", out, "--out", lastDir, "--scale", "0"]).status, 0)
    }

    func channelSum(_ rel: [Double], _ t: Int, _ p: Int) -> Double { rel[t * d + p] }

    func testShapeFromOptionOrAttributeWithExactErrors() throws {
        XCTAssertEqual(try NeonBatchProcess.run([try fx.writeJob(), "-q"], ranks: 1).status, 0)
        let out = fx.path("out.h5")
        var r = try render(out, ["--shape", "1x4x5", "--samples", "0"])
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(out): --shape 1x4x5 gives 20 values per map; relevance has 16 per sample (shape 90 x 16)"])
        r = try render(out, ["--shape", "4x4x", "--samples", "0"])
        XCTAssertTrue(r.stderr.contains("--shape: '4x4x' is not C x H x W or H x W in positive integers (e.g. 1x8x8)"), r.stderr)
        r = try render(out, ["--samples", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: lastDir + "/sample-0.svg"), "no shape: bar charts")

        let f = try H5WriteFile(opening: fx.path("data.h5"), communicator: nil)
        try f.setAttribute("image_shape", integers: [4, 4], on: "features")
        try f.close()
        r = try render(out, ["--samples", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: lastDir + "/sample-0.png"), "image_shape: heatmaps by default")
        XCTAssertEqual(try RGBImage.readPNG(lastDir + "/sample-0.png").height, HeatmapRow(height: 4, width: 4, scale: 32).size(tiles: 1).height)

        let g = try H5WriteFile(opening: fx.path("data.h5"), communicator: nil)
        try g.setAttribute("image_shape", integers: [3, 3], on: "features")
        try g.close()
        r = try render(out, ["--samples", "0"])
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path("data.h5")): attribute 'image_shape' of 'features' is 1x3x3 = 9 values; relevance has 16 per sample (shape 90 x 16)"])
        r = try render(out, ["--samples", "0", "--shape", "2x2x4"])
        XCTAssertEqual(r.status, 0, "--shape wins over the attribute: \(r.stderr)")
    }

    func testLabelsAndCentroidsAndPartRows() throws {
        // A part of the rows (input.rows 30..60): sample i of the output is input row 30 + i.
        let job = """
            {"input": {"file": "data.h5", "dataset": "features", "rows": [30, 60]}, "model": {"file": "model.h5"},
             "output": {"file": "part.h5"}, "explain": {"beta": "auto"}}
            """
        try job.write(toFile: fx.path("part.json"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try NeonBatchProcess.run([fx.path("part.json"), "-q"], ranks: 1).status, 0)
        let out = fx.path("part.h5")
        let s = try StoredFile(path: out)
        let assignment = try s.int64s("assignment")
        var r = try render(out, ["--shape", "4x4", "--samples", "2", "--labels", "y", "--overlay", "features", "--centroids"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.html.contains("sample 2 (label 132): cluster \(assignment[2])"), r.html)
        // --overlay reads input row 32 too: the image tile is that row's grey levels.
        let layout = HeatmapRow(height: 4, width: 4, scale: 32)
        let img = try RGBImage.readPNG(lastDir + "/sample-2.png")
        let row = Array(data.x[(32 * d)..<(33 * d)].map { Double(Float($0)) })
        let grey = HeatmapRow.greyLevels(row[...], channels: 1, height: 4, width: 4)
        for p in 0..<d {
            let v = UInt8((grey[p] * 255).rounded())
            XCTAssertEqual(img[layout.tileOrigin(0).x + (p % 4) * 32, layout.tileOrigin(0).y + (p / 4) * 32], RGB(v, v, v), "pixel \(p)")
        }
        // --centroids: each cluster's mean map comes after (and over) its centroid.
        let c = Int(assignment[2])
        let centroidGrey = HeatmapRow.greyLevels(data.centroids[(c * d)..<((c + 1) * d)], channels: 1, height: 4, width: 4)
        let cimg = try RGBImage.readPNG(lastDir + "/cluster-\(c).png")
        for p in 0..<d {
            let v = UInt8((centroidGrey[p] * 255).rounded())
            XCTAssertEqual(cimg[layout.tileOrigin(0).x + (p % 4) * 32, layout.tileOrigin(0).y + (p / 4) * 32], RGB(v, v, v), "centroid pixel \(p)")
        }
        try assertText(cimg, "centroid \(c)", x: layout.tileOrigin(0).x, y: layout.labelTop)

        // String labels (from a string dataset), and the errors.
        let g = try H5WriteFile(opening: fx.path("data.h5"), communicator: nil)
        try g.write("short", element: .int64, dims: [40], values: [Int64](repeating: 1, count: 40))
        try g.close()
        try writeStringDataset(fx.path("data.h5"), "kind", (0..<n).map { "Kind-\($0)" })
        r = try render(out, ["--samples", "2", "--labels", "kind"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.html.contains("sample 2 (label Kind-32): cluster \(assignment[2])"), r.html)
        r = try render(out, ["--samples", "2", "--labels", "short"])
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path("data.h5")): dataset 'short' has shape 40; --labels needs one value per input row (at least 60)"])
        r = try render(out, ["--samples", "2", "--labels", "nope"])
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path("data.h5")): no dataset 'nope' (--labels)"])
    }

    func testCentroidsNeedAKMeansModel() throws {
        try writeOutput(fx, "deep.h5", shape: [2, 1, 2, 2], relevance: [1, 0, 0, -1, 0, 1, -1, 0], assignment: [0, 1], logit: [1, 1],
                        attributes: [("model_kind", .string("deep_kmeans"))])
        let r = try render(fx.path("deep.h5"), ["--centroids"])
        XCTAssertEqual(r.errorLines, ["neon-batch: error: \(fx.path("deep.h5")): --centroids needs a k-means model; the output's model_kind is deep_kmeans"])
    }

    /// The page in headless Chromium (scripts/check-render.sh): every image loads, and the
    /// summary and cluster tables are there. Skipped where chromium is not installed.
    func testPageLoadsInHeadlessChromium() throws {
        let chromium = ["/usr/bin/chromium", "/usr/local/bin/chromium"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard chromium != nil else { throw XCTSkip("chromium is not installed (apt-get install chromium)") }
        XCTAssertEqual(try NeonBatchProcess.run([try fx.writeJob(), "-q"], ranks: 1).status, 0)
        let r = try render(fx.path("out.h5"), ["--shape", "4x4"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let refs = Set(r.html.components(separatedBy: "src=\"").dropFirst().map { $0.prefix { $0 != "\"" } })
        let counts = Dictionary(grouping: try StoredFile(path: fx.path("out.h5")).int64s("assignment"), by: { $0 }).mapValues(\.count)
        XCTAssertEqual(refs.count, k + k + counts.values.reduce(0) { $0 + min($1, 3) }, "histograms, cluster means, 3 samples a cluster")
        for (c, m) in counts {
            let svg = try String(contentsOfFile: lastDir + "/fc-cluster-\(c).svg", encoding: .utf8)
            XCTAssertTrue(SVGText(Data(svg.utf8)).wellFormed)
            XCTAssertGreaterThan(svg.components(separatedBy: "class=\"bin\"").count - 1, 0, "cluster \(c) (\(m) members) has bins")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/check-render.sh").path
        p.arguments = [script, lastDir, lastDir + "/shot.png"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let said = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, said)
        XCTAssertTrue(said.contains("\(refs.count) images loaded"), said)
        XCTAssertTrue(said.contains("tables: 2"), said)
        XCTAssertGreaterThan(try RGBImage.readPNG(lastDir + "/shot.png").width, 0)
    }

    /// A 1-D variable-length string dataset (written with h5py-free HDF5 calls through Storage).
    func writeStringDataset(_ path: String, _ name: String, _ values: [String]) throws {
        let f = try H5WriteFile(opening: path, communicator: nil)
        try f.writeStrings(name, values)
        try f.close()
    }
}
