import Foundation
import NeonTestSupport
import XCTest
@testable import Rendering

/// Heatmap rows: the layout arithmetic, and the pixels of a known map after a PNG round trip:
/// +peak red, -peak blue, zero the centre colour, each position scaled to a square, the colour
/// bar from blue to red, relevance over an image as transparency.
final class HeatmapTests: XCTestCase {
    func testLayoutOfTilesLabelsAndBars() {
        let row = HeatmapRow(height: 2, width: 3, scale: 4)
        XCTAssertEqual(row.textScale, 1)
        XCTAssertEqual(row.tileOrigin(0).x, HeatmapRow.margin)
        XCTAssertEqual(row.tileOrigin(1).x - row.tileOrigin(0).x, 3 * 4 + HeatmapRow.gap)
        XCTAssertEqual(row.tileOrigin(0).y, HeatmapRow.margin + 2 * BitmapFont.glyphHeight + 10)
        XCTAssertEqual(row.barTop, row.tileOrigin(0).y + 2 * 4 + 4)
        XCTAssertEqual(row.size(tiles: 2).width, 2 * 12 + HeatmapRow.gap + 2 * HeatmapRow.margin)
        XCTAssertEqual(row.size(tiles: 1, title: "a long title here").width,
                       BitmapFont.width("a long title here") + 2 * HeatmapRow.margin, "widened to fit the title")
        XCTAssertEqual(HeatmapRow(height: 28, width: 28, scale: 0).scale, 1)
        XCTAssertEqual(HeatmapRow.scale(height: 28, width: 20), 5, "ceil(128 / 28)")
        XCTAssertEqual(HeatmapRow(height: 32, width: 32, scale: 8).textScale, 2)
        XCTAssertTrue(HeatmapRow(height: 28, width: 28, scale: 5).fits(tiles: 10))
        XCTAssertFalse(HeatmapRow(height: 4096, width: 4096, scale: 4).fits(tiles: 1))
    }

    func testAKnownMapDecodesToItsColours() throws {
        // 2 x 3 positions: +2 (the peak), -2, 0 / +1, -1, 0; scale 3.
        let values: [Double] = [2, -2, 0, 1, -1, 0]
        let row = HeatmapRow(height: 2, width: 3, scale: 3)
        let image = row.render(title: "t", maps: [(label: "c0", values: values)])
        let (w, h) = row.size(tiles: 1, title: "t")
        XCTAssertEqual([image.width, image.height], [w, h])

        let dir = try TemporaryDirectory(prefix: "neon-heat")
        defer { dir.remove() }
        let path = dir.path("heat.png")
        try image.writePNG(to: path)
        let png = try RGBImage.readPNG(path)
        XCTAssertEqual(png, image)

        let (x0, y0) = row.tileOrigin(0)
        func position(_ x: Int, _ y: Int) -> Set<String> {      // every pixel of the 3 x 3 square
            var seen = Set<String>()
            for dy in 0..<3 { for dx in 0..<3 { seen.insert(png[x0 + 3 * x + dx, y0 + 3 * y + dy].hex) } }
            return seen
        }
        XCTAssertEqual(position(0, 0), ["#67001f"], "+peak is the positive end")
        XCTAssertEqual(position(1, 0), ["#053061"], "-peak is the negative end")
        XCTAssertEqual(position(2, 0), ["#f7f7f7"], "zero is the centre")
        XCTAssertEqual(position(0, 1), [DivergingColormap.color(0.5).hex])
        XCTAssertEqual(position(1, 1), [DivergingColormap.color(-0.5).hex])
        // The colour bar: negative end at the left, positive at the right, for its whole height.
        for y in row.barTop..<(row.barTop + HeatmapRow.barHeight) {
            XCTAssertEqual(png[x0, y], DivergingColormap.negative)
            XCTAssertEqual(png[x0 + 8, y], DivergingColormap.positive)
        }
        XCTAssertEqual(png[0, 0], RGB(255, 255, 255), "white margin")
    }

    func testEachMapHasItsOwnScale() {
        let row = HeatmapRow(height: 1, width: 1, scale: 1)
        let image = row.render(title: "", maps: [(label: "a", values: [0.001]), (label: "b", values: [-500])])
        XCTAssertEqual(image[row.tileOrigin(0).x, row.tileOrigin(0).y], DivergingColormap.positive)
        XCTAssertEqual(image[row.tileOrigin(1).x, row.tileOrigin(1).y], DivergingColormap.negative)
    }

    func testRelevanceOverAnImageIsTransparentAtZeroAndOpaqueAtThePeak() {
        XCTAssertEqual(HeatmapRow.color(0, peak: 3, grey: 0.2), RGB(51, 51, 51), "the image shows unchanged")
        XCTAssertEqual(HeatmapRow.color(3, peak: 3, grey: 0.2), DivergingColormap.positive)
        XCTAssertEqual(HeatmapRow.color(-3, peak: 3, grey: 1), DivergingColormap.negative)
        let half = HeatmapRow.color(1.5, peak: 3, grey: 0), heat = DivergingColormap.color(0.5)
        XCTAssertEqual(half, RGB(UInt8((Double(heat.r) / 2).rounded()), UInt8((Double(heat.g) / 2).rounded()),
                                 UInt8((Double(heat.b) / 2).rounded())))
        XCTAssertEqual(HeatmapRow.color(5, peak: 0), DivergingColormap.centre, "an all-zero map stays neutral")
    }

    func testChannelSumGreyLevelsPeakAndTicks() {
        // (C, H, W) = (2, 1, 3)
        XCTAssertEqual(HeatmapRow.channelSum([1, 2, 3, 10, 20, 30], channels: 2, height: 1, width: 3), [11, 22, 33])
        XCTAssertEqual(HeatmapRow.greyLevels([0, 2, 4, 0, 2, 4], channels: 2, height: 1, width: 3), [0, 0.5, 1])
        XCTAssertEqual(HeatmapRow.greyLevels([7, 7], channels: 1, height: 1, width: 2), [0.5, 0.5])
        XCTAssertEqual(HeatmapRow.peak([0.5, -3, 2]), 3)
        let ticks = HeatmapRow.ticks(peak: 0.25, tileWidth: 140, textScale: 1)
        XCTAssertEqual(ticks.map(\.0), ["-0.25", "0", "+0.25"])
        XCTAssertEqual(ticks.map(\.1), [0, (140 - 5) / 2, 140 - BitmapFont.width("+0.25")])
        XCTAssertEqual(HeatmapRow.ticks(peak: 0.25, tileWidth: 20, textScale: 1).map(\.0), ["+-0.25"])
    }
}
