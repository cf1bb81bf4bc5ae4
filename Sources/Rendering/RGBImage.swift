import CPNG
import Foundation

/// An 8-bit RGB raster (rows top to bottom), written and read as PNG with libpng.
public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]      // 3 bytes a pixel

    public init(width: Int, height: Int, fill: RGB = RGB(255, 255, 255)) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { pixels[3 * i] = fill.r; pixels[3 * i + 1] = fill.g; pixels[3 * i + 2] = fill.b }
    }

    public subscript(x: Int, y: Int) -> RGB {
        get { let i = 3 * (y * width + x); return RGB(pixels[i], pixels[i + 1], pixels[i + 2]) }
        set { let i = 3 * (y * width + x); pixels[i] = newValue.r; pixels[i + 1] = newValue.g; pixels[i + 2] = newValue.b }
    }

    /// Writes the image as a PNG file (libpng).
    public func writePNG(to path: String) throws {
        var message = [CChar](repeating: 0, count: 256)
        let rc = pixels.withUnsafeBufferPointer {
            neon_png_write_rgb(path, UInt32(width), UInt32(height), $0.baseAddress, &message, message.count)
        }
        guard rc == 0 else { throw RenderError("\(path): cannot write PNG: \(String(cString: message))") }
    }

    /// Decodes a PNG file (any colour type libpng reads) into RGB.
    public static func readPNG(_ path: String) throws -> RGBImage {
        var w: UInt32 = 0, h: UInt32 = 0
        var data: UnsafeMutablePointer<UInt8>? = nil
        var message = [CChar](repeating: 0, count: 256)
        guard neon_png_read_rgb(path, &w, &h, &data, &message, message.count) == 0, let p = data else {
            throw RenderError("\(path): cannot read PNG: \(String(cString: message))")
        }
        defer { free(p) }
        var image = RGBImage(width: Int(w), height: Int(h))
        image.pixels = Array(UnsafeBufferPointer(start: p, count: Int(w) * Int(h) * 3))
        return image
    }
}

public struct RGB: Equatable, Sendable, CustomStringConvertible {
    public let r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public var hex: String { String(format: "#%02x%02x%02x", r, g, b) }
    public var description: String { hex }
}

/// A rendering problem: one line naming the file.
public struct RenderError: Error, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}
