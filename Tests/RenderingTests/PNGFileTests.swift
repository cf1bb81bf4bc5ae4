import Foundation
import NeonTestSupport
import XCTest
@testable import Rendering

/// RGBImage's PNG files: the bytes follow the PNG format (signature, IHDR of an 8-bit RGB image,
/// chunks with valid CRCs, IEND last), decode to the same pixels, and failures name the file.
final class PNGFileTests: XCTestCase {
    var dir: TemporaryDirectory!

    override func setUpWithError() throws { dir = try TemporaryDirectory(prefix: "neon-png") }
    override func tearDownWithError() throws { dir.remove() }

    /// A 7 x 3 image with a different colour in every pixel.
    func sample() -> RGBImage {
        var image = RGBImage(width: 7, height: 3)
        for y in 0..<3 { for x in 0..<7 { image[x, y] = RGB(UInt8(x * 36), UInt8(y * 120), UInt8(255 - x * y * 10)) } }
        return image
    }

    func testTheFileIsAnEightBitRGBPNGWithValidChunks() throws {
        let path = dir.path("a.png")
        try sample().writePNG(to: path)
        let chunks = try PNGChunks(path: path)
        XCTAssertEqual(chunks.signature, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(chunks.list.first?.type, "IHDR")
        XCTAssertEqual(chunks.list.last?.type, "IEND")
        XCTAssertTrue(chunks.list.contains { $0.type == "IDAT" })
        for chunk in chunks.list { XCTAssertTrue(chunk.crcIsValid, "CRC of \(chunk.type)") }
        let ihdr = chunks.list[0].data
        XCTAssertEqual(ihdr.count, 13)
        XCTAssertEqual(PNGChunks.bigEndian(ihdr, 0), 7, "width")
        XCTAssertEqual(PNGChunks.bigEndian(ihdr, 4), 3, "height")
        XCTAssertEqual(Array(ihdr[8...]), [8, 2, 0, 0, 0], "bit depth 8, colour type 2 (RGB), no interlace")
    }

    func testPixelsSurviveTheRoundTrip() throws {
        let path = dir.path("b.png")
        try sample().writePNG(to: path)
        let back = try RGBImage.readPNG(path)
        XCTAssertEqual([back.width, back.height], [7, 3])
        XCTAssertEqual(back, sample())
        XCTAssertEqual(back[6, 2], RGB(216, 240, 135))
    }

    func testFailuresNameTheFile() throws {
        let text = dir.path("text.png")
        try "not a png".write(toFile: text, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RGBImage.readPNG(text)) { error in
            XCTAssertTrue((error as? RenderError)?.message.hasPrefix("\(text): cannot read PNG: ") == true, "\(error)")
        }
        let nowhere = dir.path("no/such/dir/c.png")
        XCTAssertThrowsError(try sample().writePNG(to: nowhere)) { error in
            XCTAssertTrue((error as? RenderError)?.message.hasPrefix("\(nowhere): cannot write PNG: ") == true, "\(error)")
        }
    }
}

/// The chunks of a PNG file, read without libpng (length, type, data, CRC-32 of type and data).
struct PNGChunks {
    struct Chunk {
        let type: String
        let data: [UInt8]
        let crcIsValid: Bool
    }

    let signature: [UInt8]
    let list: [Chunk]

    init(path: String) throws {
        let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        signature = Array(b.prefix(8))
        var chunks: [Chunk] = [], i = 8
        while i + 12 <= b.count {
            let n = Self.bigEndian(b, i)
            let typeAndData = Array(b[(i + 4)..<(i + 8 + n)])
            let crc = UInt32(Self.bigEndian(b, i + 8 + n))
            chunks.append(Chunk(type: String(decoding: typeAndData.prefix(4), as: UTF8.self),
                                data: Array(typeAndData.dropFirst(4)), crcIsValid: Self.crc32(typeAndData) == crc))
            i += 12 + n
        }
        list = chunks
    }

    static func bigEndian(_ b: [UInt8], _ i: Int) -> Int { b[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }

    /// CRC-32 (ISO 3309, as in PNG and zlib), bit by bit.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            c ^= UInt32(byte)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }
}
