/// Relevance heatmaps as in the paper's Fig. 7: for one sample, the channel-summed relevance
/// per position of each target cluster, side by side, one tile per target, in a diverging colour
/// map centred at zero and scaled by the largest |relevance| over the sample's tiles (so tiles
/// compare). Optionally the input image comes first and is shown in grey under each tile.
public struct HeatmapRow {
    public let height: Int, width: Int
    /// Integer up-scaling (nearest neighbour) and the white gap between tiles, in pixels.
    public let scale: Int
    public static let gap = 4

    public init(height: Int, width: Int, scale: Int) {
        self.height = height
        self.width = width
        self.scale = max(scale, 1)
    }

    /// A scale that makes a tile at least `pixels` wide or high.
    public static func scale(height: Int, width: Int, atLeast pixels: Int = 128) -> Int {
        max(1, (pixels + max(height, width) - 1) / max(height, width))
    }

    /// The size of a row of `tiles` tiles.
    public func size(tiles: Int) -> (width: Int, height: Int) {
        (tiles * width * scale + (tiles - 1) * Self.gap, height * scale)
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

    /// Renders the maps (each H x W, channel-summed) after the optional grey image.
    public func render(maps: [[Double]], image: [Double]? = nil) -> RGBImage {
        let tiles = maps.count + (image == nil ? 0 : 1)
        let (w, h) = size(tiles: tiles)
        var out = RGBImage(width: w, height: h)
        let peak = maps.flatMap { $0 }.reduce(0) { max($0, abs($1)) }
        var tile = 0
        if let grey = image {
            draw(&out, tile: tile) { p in
                let g = UInt8((grey[p] * 255).rounded())
                return RGB(g, g, g)
            }
            tile += 1
        }
        for map in maps {
            draw(&out, tile: tile) { p in
                let heat = DivergingColormap.color(peak > 0 ? map[p] / peak : 0)
                guard let grey = image else { return heat }
                // Over the image: the stronger the relevance, the more of the heat colour.
                let a = 0.35 + 0.65 * (peak > 0 ? min(abs(map[p]) / peak, 1) : 0)
                let g = grey[p] * 255
                func mix(_ c: UInt8) -> UInt8 { UInt8((a * Double(c) + (1 - a) * g).rounded()) }
                return RGB(mix(heat.r), mix(heat.g), mix(heat.b))
            }
            tile += 1
        }
        return out
    }

    private func draw(_ out: inout RGBImage, tile: Int, color: (Int) -> RGB) {
        let x0 = tile * (width * scale + Self.gap)
        for y in 0..<height {
            for x in 0..<width {
                let c = color(y * width + x)
                for dy in 0..<scale { for dx in 0..<scale { out[x0 + x * scale + dx, y * scale + dy] = c } }
            }
        }
    }
}
