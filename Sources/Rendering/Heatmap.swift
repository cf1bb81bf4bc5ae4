/// Relevance heatmaps as in the paper's Fig. 7, drawn as one PNG that stands alone: a title
/// line, then one tile per map (e.g. per target cluster) side by side, each with its label above
/// and its own colour bar and scale (-peak, 0, +peak) below. A map is drawn in a diverging
/// colour map centred at zero and scaled by its own largest |relevance|, so a weak map is not
/// blank next to a strong one. Optionally an image comes first and each map is drawn over it as
/// coloured transparency: where relevance is 0 the image shows unchanged, at |r| = peak the
/// heat colour alone.
public struct HeatmapRow {
    public let height: Int, width: Int
    /// Integer up-scaling (nearest neighbour) of the maps, in pixels per position.
    public let scale: Int
    /// The white gap between tiles and the margin around the figure, in pixels.
    public static let gap = 4
    public static let margin = 4
    /// The height of each tile's colour bar, in pixels.
    public static let barHeight = 8
    /// The largest figure drawn: at most this many pixels a side and in all.
    public static let maxSide = 16384
    public static let maxPixels = 1 << 25

    public init(height: Int, width: Int, scale: Int) {
        self.height = height
        self.width = width
        self.scale = max(scale, 1)
    }

    /// A scale that makes a tile at least `pixels` wide or high.
    public static func scale(height: Int, width: Int, atLeast pixels: Int = 128) -> Int {
        max(1, (pixels + max(height, width) - 1) / max(height, width))
    }

    /// The text scale: 2 for tiles of 256 pixels or more, else 1.
    public var textScale: Int { width * scale >= 256 ? 2 : 1 }
    private var lineHeight: Int { BitmapFont.glyphHeight * textScale }

    /// The top-left pixel of tile `tile` (0 = the first, the image if there is one).
    public func tileOrigin(_ tile: Int) -> (x: Int, y: Int) {
        (Self.margin + tile * (width * scale + Self.gap), Self.margin + 2 * lineHeight + 10)
    }

    /// The top row of the tile labels.
    public var labelTop: Int { Self.margin + lineHeight + 5 }

    /// The top row of the colour bars.
    public var barTop: Int { tileOrigin(0).y + height * scale + 4 }

    /// The size of a figure of `tiles` tiles (widened to fit the title).
    public func size(tiles: Int, title: String = "") -> (width: Int, height: Int) {
        let tilesWidth = tiles * width * scale + (tiles - 1) * Self.gap
        let w = max(tilesWidth, BitmapFont.width(title, scale: textScale)) + 2 * Self.margin
        return (w, barTop + Self.barHeight + 3 + lineHeight + Self.margin)
    }

    /// Whether a figure of `tiles` tiles fits within maxSide and maxPixels (checked before drawing).
    public func fits(tiles: Int) -> Bool {
        let (w, h) = size(tiles: tiles)
        return w <= Self.maxSide && h <= Self.maxSide && w * h <= Self.maxPixels
    }

    /// Sums relevance of shape (C, H, W) over channels: r(y, x) = sum_c R(c, y, x).
    public static func channelSum(_ relevance: ArraySlice<Double>, channels: Int, height: Int, width: Int) -> [Double] {
        var out = [Double](repeating: 0, count: height * width)
        let base = relevance.startIndex
        for c in 0..<channels {
            for p in 0..<(height * width) { out[p] += relevance[base + c * height * width + p] }
        }
        return out
    }

    /// Grey levels in [0, 1] of an image of shape (C, H, W): the channel mean, min-max scaled.
    public static func greyLevels(_ image: ArraySlice<Double>, channels: Int, height: Int, width: Int) -> [Double] {
        let mean = channelSum(image, channels: channels, height: height, width: width).map { $0 / Double(channels) }
        let lo = mean.min() ?? 0, hi = mean.max() ?? 0
        return mean.map { hi > lo ? ($0 - lo) / (hi - lo) : 0.5 }
    }

    /// The largest |value| of a map (its scale).
    public static func peak(_ map: [Double]) -> Double { map.reduce(0) { max($0, abs($1)) } }

    /// The colour of relevance `r` of a map with scale `peak`, over grey level `grey` if given:
    /// the heat colour with opacity |r| / peak over the image, which keeps the image's contrast.
    public static func color(_ r: Double, peak: Double, grey: Double? = nil) -> RGB {
        let v = peak > 0 ? r / peak : 0
        let heat = DivergingColormap.color(v)
        guard let grey else { return heat }
        let a = min(abs(v), 1)
        let g = grey * 255
        func mix(_ c: UInt8) -> UInt8 { UInt8((a * Double(c) + (1 - a) * g).rounded()) }
        return RGB(mix(heat.r), mix(heat.g), mix(heat.b))
    }

    /// Renders `title`, the optional grey image (labelled `imageLabel`), then each map (H x W,
    /// channel-summed) under its label, with a colour bar of its own scale.
    public func render(title: String, maps: [(label: String, values: [Double])], image: [Double]? = nil,
                       imageLabel: String = "input image") -> RGBImage {
        let tiles = maps.count + (image == nil ? 0 : 1)
        let (w, h) = size(tiles: tiles, title: title)
        var out = RGBImage(width: w, height: h)
        let ts = textScale, tileWidth = width * scale
        BitmapFont.draw(title, into: &out, x: Self.margin, y: Self.margin, scale: ts)
        let labelY = labelTop
        var tile = 0
        if let grey = image {
            BitmapFont.draw(BitmapFont.fitting(imageLabel, in: tileWidth, scale: ts), into: &out,
                            x: tileOrigin(tile).x, y: labelY, scale: ts, color: RGB(60, 60, 60))
            draw(&out, tile: tile) { p in
                let g = UInt8((grey[p] * 255).rounded())
                return RGB(g, g, g)
            }
            tile += 1
        }
        for map in maps {
            let peak = Self.peak(map.values)
            let x0 = tileOrigin(tile).x
            BitmapFont.draw(BitmapFont.fitting(map.label, in: tileWidth, scale: ts), into: &out, x: x0, y: labelY, scale: ts)
            draw(&out, tile: tile) { p in Self.color(map.values[p], peak: peak, grey: image?[p]) }
            // The colour bar: -peak (blue) at the left, 0 in the middle, +peak (red) at the right.
            for x in 0..<tileWidth {
                let c = DivergingColormap.color(tileWidth > 1 ? 2 * Double(x) / Double(tileWidth - 1) - 1 : 0)
                for y in barTop..<(barTop + Self.barHeight) { out[x0 + x, y] = c }
            }
            let ticksY = barTop + Self.barHeight + 3
            for (text, x) in Self.ticks(peak: peak, tileWidth: tileWidth, textScale: ts) {
                BitmapFont.draw(text, into: &out, x: x0 + x, y: ticksY, scale: ts)
            }
            tile += 1
        }
        return out
    }

    /// The colour bar's labels and their x offsets: "-peak" at the left end, "0" in the middle,
    /// "+peak" at the right end; "+-peak" alone where the tile is too narrow for three.
    public static func ticks(peak: Double, tileWidth: Int, textScale ts: Int) -> [(String, Int)] {
        let (lo, hi) = ("-" + shortNumber(peak), "+" + shortNumber(peak))
        let zero = BitmapFont.width("0", scale: ts)
        guard BitmapFont.width(lo, scale: ts) + zero + BitmapFont.width(hi, scale: ts) + 4 * advanceGap(ts) <= tileWidth else {
            return [("+-" + shortNumber(peak), 0)]
        }
        return [(lo, 0), ("0", (tileWidth - zero) / 2), (hi, tileWidth - BitmapFont.width(hi, scale: ts))]
    }

    private static func advanceGap(_ ts: Int) -> Int { BitmapFont.advance * ts }

    private func draw(_ out: inout RGBImage, tile: Int, color: (Int) -> RGB) {
        let (x0, y0) = tileOrigin(tile)
        for y in 0..<height {
            for x in 0..<width {
                let c = color(y * width + x)
                for dy in 0..<scale { for dx in 0..<scale { out[x0 + x * scale + dx, y0 + y * scale + dy] = c } }
            }
        }
    }
}
