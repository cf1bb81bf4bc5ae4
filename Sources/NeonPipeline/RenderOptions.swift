import Foundation

/// What `neon-batch render` draws (the command's options; Render.swift documents each).
package struct RenderOptions: Sendable {
    package enum Charts: String, CaseIterable, Sendable { case auto, bars, heatmaps }

    package var output: String
    package var samples: String?
    package var out: String
    package var charts: Charts = .auto
    package var top = 10
    package var overlay: String?
    package var input: String?
    package var scale: Int?
    package var shape: String?
    package var labels: String?
    package var centroids = false

    package init(output: String, samples: String? = nil, out: String, charts: Charts = .auto, top: Int = 10,
                 overlay: String? = nil, input: String? = nil, scale: Int? = nil, shape: String? = nil,
                 labels: String? = nil, centroids: Bool = false) {
        self.output = output; self.samples = samples; self.out = out; self.charts = charts; self.top = top
        self.overlay = overlay; self.input = input; self.scale = scale; self.shape = shape
        self.labels = labels; self.centroids = centroids
    }
}

/// A command-line option's value is wrong; the command reports it as a usage error (exit 64).
package struct OptionError: Error, Equatable {
    package let message: String
    package init(_ message: String) { self.message = message }
}

/// `--samples`: comma-separated indices and inclusive ranges a-b.
package enum SampleList {
    package static func parse(_ text: String) throws -> [Int] {
        var out: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(bounds.count), bounds.allSatisfy({ $0 != nil && $0! >= 0 }),
                  bounds.count == 1 || bounds[0]! <= bounds[1]! else {
                throw OptionError("--samples: '\(part)' is not an index or a range a-b (e.g. 0,5,10-12)")
            }
            guard bounds.last!! - bounds[0]! < 10_000 - out.count else {
                throw OptionError("--samples: more than 10000 samples")
            }
            out += Array(bounds[0]!...bounds.last!!)
        }
        var seen = Set<Int>()
        return out.filter { seen.insert($0).inserted }
    }
}

/// `--shape C x H x W` (or H x W, C = 1): positive integers separated by "x".
package enum ImageShape {
    package static func parse(_ text: String) throws -> [Int] {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (2...3).contains(parts.count), parts.allSatisfy({ ($0 ?? 0) >= 1 && $0! <= 1 << 20 }) else {
            throw OptionError("--shape: '\(text)' is not C x H x W or H x W in positive integers (e.g. 1x8x8)")
        }
        return parts.count == 2 ? [1, parts[0]!, parts[1]!] : parts.map { $0! }
    }
}
